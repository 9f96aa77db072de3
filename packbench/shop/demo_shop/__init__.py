"""The bundled demo shop: a WooCommerce REST API (v3) subset on 127.0.0.1 over the demo data.

It serves the same catalogue and orders as the bench's demo database (same seed → same order
ids 5001…, SKUs and GTINs), plays the shop's side of completing an order (capture once,
invoice, book), can misbehave on demand (errors, dropped connections, latency, 429s), and
keeps its state in a JSON file so it survives a restart.

``python -m packbench.shop.demo_shop --port 8787`` or ``packbench demo-shop …`` runs it;
tests use :func:`run_in_thread`. Modules: ``state`` (data and bookkeeping), ``api`` (routes
and WooCommerce shapes), ``faults`` (fault injection), ``server`` (running it).
"""

from __future__ import annotations

from packbench.shop.demo_shop.faults import FaultSettings
from packbench.shop.demo_shop.server import (
    DEFAULT_KEY,
    DEFAULT_PORT,
    DEFAULT_SECRET,
    DemoShopApp,
    build_parser,
    create_app,
    main,
    run_in_thread,
)
from packbench.shop.demo_shop.state import (
    CAPTURE_COUNT_META,
    CAPTURE_ID_META,
    CAPTURED_AT_META,
    DEFAULT_CLEARING_ACCOUNT,
    INVOICE_META,
    LOCATION_META,
    OUTPUT_VAT_ACCOUNT,
    SALES_ACCOUNT,
    DemoShopState,
    ShopApiError,
    StateFileError,
    split_vat,
)

__all__ = [
    "CAPTURED_AT_META",
    "CAPTURE_COUNT_META",
    "CAPTURE_ID_META",
    "DEFAULT_CLEARING_ACCOUNT",
    "DEFAULT_KEY",
    "DEFAULT_PORT",
    "DEFAULT_SECRET",
    "INVOICE_META",
    "LOCATION_META",
    "OUTPUT_VAT_ACCOUNT",
    "SALES_ACCOUNT",
    "DemoShopApp",
    "DemoShopState",
    "FaultSettings",
    "ShopApiError",
    "StateFileError",
    "build_parser",
    "create_app",
    "main",
    "run_in_thread",
    "split_vat",
]
