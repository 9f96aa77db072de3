"""The bundled demo carrier: Bring's Booking, Pickup Point and Tracking APIs on 127.0.0.1.

It books with Bring's checks and error codes, issues valid consignment numbers (17 digits,
GS1 check digit) and SSCC package numbers, serves a 10×19 cm PDF label per package behind a
redirect, answers the tracking search by reference, keeps its bookings in a JSON file and can
misbehave on demand — including making a booking and losing the answer.

Under ``/cargonizer`` it answers Logistra Cargonizer's XML consignment API over the same books
(its HTTP-200 error bodies included), under ``/shipmondo/api/public/v3`` Shipmondo's JSON API
(base64 labels, PDF or ZPL).

``python -m packbench.carriers.demo_carrier --port 8788`` or ``packbench demo-carrier …`` runs
it; tests use :func:`run_in_thread`. Modules: ``state`` (bookings and checks), ``api`` (routes
and Bring's shapes), ``label`` (the PDF), ``faults`` (fault injection), ``server`` (running it).
"""

from __future__ import annotations

from packbench.carriers.demo_carrier.faults import FaultSettings
from packbench.carriers.demo_carrier.server import (
    DEFAULT_CARGONIZER_KEY,
    DEFAULT_CARGONIZER_SENDER,
    DEFAULT_KEY,
    DEFAULT_PORT,
    DEFAULT_SHIPMONDO_KEY,
    DEFAULT_SHIPMONDO_USER,
    DEFAULT_UID,
    DemoCarrierApp,
    build_parser,
    configure_demo,
    create_app,
    main,
    run_in_thread,
)
from packbench.carriers.demo_carrier.state import COMPANY_PREFIX, DemoCarrierState

__all__ = [
    "COMPANY_PREFIX",
    "DEFAULT_CARGONIZER_KEY",
    "DEFAULT_CARGONIZER_SENDER",
    "DEFAULT_KEY",
    "DEFAULT_PORT",
    "DEFAULT_SHIPMONDO_KEY",
    "DEFAULT_SHIPMONDO_USER",
    "DEFAULT_UID",
    "DemoCarrierApp",
    "DemoCarrierState",
    "FaultSettings",
    "build_parser",
    "configure_demo",
    "create_app",
    "main",
    "run_in_thread",
]
