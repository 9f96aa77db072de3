"""Running the demo carrier: the ASGI app, a background-thread runner for tests, and the CLI.

Always on 127.0.0.1 with a published demo uid and key: fine on loopback, nowhere else.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from packbench.carriers.demo_carrier.api import build_api
from packbench.carriers.demo_carrier.faults import (
    FaultInjector,
    FaultSettings,
    Receive,
    Scope,
    Send,
)
from packbench.carriers.demo_carrier.state import DemoCarrierState, StateFileError
from packbench.loopback import HOST, DefaultsHelp, serve_forever, serve_in_thread

__all__ = [
    "DEFAULT_CARGONIZER_KEY",
    "DEFAULT_CARGONIZER_SENDER",
    "DEFAULT_KEY",
    "DEFAULT_PORT",
    "DEFAULT_SHIPMONDO_KEY",
    "DEFAULT_SHIPMONDO_USER",
    "DEFAULT_UID",
    "HOST",
    "DemoCarrierApp",
    "build_parser",
    "configure_demo",
    "create_app",
    "main",
    "run_in_thread",
]

DEFAULT_PORT = 8788
DEFAULT_UID = "demo@packbench.example"
DEFAULT_KEY = "demo-mybring-key"
DEFAULT_CARGONIZER_KEY = "demo-cargonizer-key"
DEFAULT_CARGONIZER_SENDER = "1"
DEFAULT_SHIPMONDO_USER = "demo-shipmondo-user"
DEFAULT_SHIPMONDO_KEY = "demo-shipmondo-key"


class DemoCarrierApp:
    """The ASGI app uvicorn serves; keeps ``state`` and ``faults`` for tests to look into."""

    def __init__(self, state: DemoCarrierState, faults: FaultSettings, injector: FaultInjector):
        self.state = state
        self.faults = faults
        self._injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._injector(scope, receive, send)


def create_app(
    state: DemoCarrierState | str | os.PathLike[str] | None,
    *,
    uid: str = DEFAULT_UID,
    key: str = DEFAULT_KEY,
    fail_rate: float = 0.0,
    drop_share: float = 0.5,
    lose_answer_rate: float = 0.0,
    latency_ms: int = 0,
    rate_limit: int = 0,
    error_status: int = 400,
    fault_seed: int | None = None,
    storage_url: str = "",
    cargonizer_key: str = DEFAULT_CARGONIZER_KEY,
    cargonizer_sender: str = DEFAULT_CARGONIZER_SENDER,
    shipmondo_user: str = DEFAULT_SHIPMONDO_USER,
    shipmondo_key: str = DEFAULT_SHIPMONDO_KEY,
) -> DemoCarrierApp:
    """The demo carrier as an ASGI app; ``state`` is a state object or its JSON file's path
    (``None``: kept in memory only)."""
    if not uid or not key:
        raise ValueError("the demo carrier needs an API uid and key")
    if not isinstance(state, DemoCarrierState):
        state = DemoCarrierState.open(state)
    faults = FaultSettings(
        fail_rate=fail_rate,
        drop_share=drop_share,
        lose_answer_rate=lose_answer_rate,
        latency_ms=latency_ms,
        rate_limit=rate_limit,
    )
    api = build_api(
        state, faults, uid=uid, key=key, error_status=error_status, storage_url=storage_url,
        cargonizer_key=cargonizer_key, cargonizer_sender=cargonizer_sender,
        shipmondo_user=shipmondo_user, shipmondo_key=shipmondo_key,
    )  # fmt: skip
    return DemoCarrierApp(state, faults, FaultInjector(api, faults, seed=fault_seed))


def run_in_thread(
    app_or_state: DemoCarrierApp | DemoCarrierState | str | os.PathLike[str] | None,
    *,
    port: int = 0,
    **options: Any,
) -> tuple[str, Callable[[], None]]:
    """Serve the demo carrier from a daemon thread → ``(base_url, stop)``; ``options`` go to
    :func:`create_app`."""
    app = (
        app_or_state
        if isinstance(app_or_state, DemoCarrierApp)
        else create_app(app_or_state, **options)
    )
    return serve_in_thread(app, name="demo-carrier", port=port)


def configure_demo(settings: Any, url: str) -> Any:
    """``settings`` (a :class:`packbench.config.Settings`) with a Bring carrier booked against
    the demo carrier at ``url``: the demo's "Posten Norgespakke" (``flat_rate:3``) goes to
    Bring 5600, the shop is the sender, and the demo's uid and key are this process's Mybring
    credentials. The carrier lists a booking at once, so an empty lookup is trusted."""
    from packbench.config import CarrierSettings, SenderSettings, ShipMethod

    os.environ["PACKBENCH_BRING_UID"] = DEFAULT_UID
    os.environ["PACKBENCH_BRING_KEY"] = DEFAULT_KEY
    ship = settings.ship
    bring = CarrierSettings(
        kind="bring",
        api_url=url,
        customer_number="5",
        client_url="https://fjordhandel.example",
        trust_empty_lookup=True,
        label_url_template="/labels/consignment/{consignment}.pdf",
        timeout_s=10.0,
    )
    methods = {
        **ship.methods,
        "flat_rate:3": ShipMethod(carrier="Bring", service="Pakke levert hjem", product="5600"),
    }
    sender = ship.sender or SenderSettings(
        name=settings.bench.shop_name[:35],
        address="Industrivegen 14",
        postcode="2816",
        city="Gjøvik",
        phone="+4712345678",  # Bring's suggested dummy for test bookings
    )
    new_ship = ship.model_copy(
        update={"carriers": {**ship.carriers, "Bring": bring}, "methods": methods, "sender": sender}
    )
    return settings.model_copy(update={"ship": new_ship})


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="packbench demo-carrier",
        description="Run the bundled demo carrier on 127.0.0.1: Bring's Booking, Pickup Point "
        "and Tracking APIs in their documented shapes, with 10x19 cm PDF labels; Cargonizer's "
        "under /cargonizer and Shipmondo's under /shipmondo/api/public/v3 (demo credentials: "
        f"Cargonizer key {DEFAULT_CARGONIZER_KEY}, sender {DEFAULT_CARGONIZER_SENDER}; "
        f"Shipmondo user {DEFAULT_SHIPMONDO_USER}, key {DEFAULT_SHIPMONDO_KEY}).",
        formatter_class=DefaultsHelp,
    )
    p.add_argument("--port", type=_count, default=DEFAULT_PORT, help="0 = any free port")
    p.add_argument("--fail-rate", type=_share, default=0.0, help="share of requests that fail")
    p.add_argument(
        "--drop-share",
        type=_share,
        default=0.5,
        help="share of failing requests answered by closing the connection (the rest get 500)",
    )
    p.add_argument(
        "--lose-answer-rate",
        type=_share,
        default=0.0,
        help="share of requests carried out whose answer is lost (the connection is closed)",
    )
    p.add_argument("--latency-ms", type=_count, default=0, help="added to every request")
    p.add_argument("--rate-limit", type=_count, default=0, help="requests/s before 429; 0 = none")
    p.add_argument("--fault-seed", type=int, default=None, help="make the faults repeatable")
    p.add_argument(
        "--error-status", type=int, default=400, choices=(200, 400, 422),
        help="HTTP status of a booking refused for its content (Bring's is unconfirmed)",
    )  # fmt: skip
    p.add_argument("--uid", default=DEFAULT_UID, help="the Mybring API uid it accepts")
    p.add_argument("--key", default=DEFAULT_KEY, help="the Mybring API key it accepts")
    p.add_argument("--state", type=Path, default=None, help="the bookings' JSON file")
    p.add_argument("--access-log", action="store_true", help="log every request")
    return p


def _default_state_path() -> Path:
    from packbench.config import data_dir

    return data_dir() / "demo-carrier.json"


def main(argv: Sequence[str] | None = None) -> int:
    """``packbench demo-carrier …``: serve until interrupted. Prints one line once listening:
    ``demo carrier on http://127.0.0.1:PORT (uid U)``, which a parent process can wait for."""
    args = build_parser().parse_args(argv)
    path: Path = args.state or _default_state_path()
    try:
        state = DemoCarrierState.open(path)
    except (StateFileError, OSError) as exc:
        print(f"demo carrier: {exc}", file=sys.stderr)
        return 2
    app = create_app(
        state,
        uid=args.uid,
        key=args.key,
        fail_rate=args.fail_rate,
        drop_share=args.drop_share,
        lose_answer_rate=args.lose_answer_rate,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        error_status=args.error_status,
        fault_seed=args.fault_seed,
    )
    return serve_forever(
        app,
        name="demo carrier",
        port=args.port,
        banner=f"(uid {args.uid})",
        access_log=args.access_log,
    )
