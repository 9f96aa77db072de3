"""Running the demo shop: the ASGI app, a background-thread runner for tests, and the CLI.

Always on 127.0.0.1: the demo speaks plain http with a published default key, which is fine on
loopback and nowhere else (the bench's adapter refuses plain http to anything but loopback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packbench.loopback import HOST, DefaultsHelp, serve_forever, serve_in_thread
from packbench.shop.demo_shop.api import build_api
from packbench.shop.demo_shop.faults import FaultInjector, FaultSettings, Receive, Scope, Send
from packbench.shop.demo_shop.state import (
    DEFAULT_CLEARING_ACCOUNT,
    DemoShopState,
    StateFileError,
)

__all__ = [
    "DEFAULT_KEY",
    "DEFAULT_PORT",
    "DEFAULT_SECRET",
    "HOST",
    "DemoShopApp",
    "build_parser",
    "create_app",
    "main",
    "run_in_thread",
]

DEFAULT_PORT = 8787
DEFAULT_KEY = "ck_demo"
DEFAULT_SECRET = "cs_demo"
DEFAULT_SEED = 1
DEFAULT_ORDERS = 72  # what ``packbench.operations.demo.load_demo`` loads


class DemoShopApp:
    """The ASGI app uvicorn serves: faults around the routes. Keeps handles on ``state`` and
    ``faults`` so tests (and the lead's tooling) can look inside without HTTP."""

    def __init__(self, state: DemoShopState, faults: FaultSettings, injector: FaultInjector):
        self.state = state
        self.faults = faults
        self._injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._injector(scope, receive, send)


def create_app(
    state: DemoShopState | str | os.PathLike[str],
    *,
    key: str = DEFAULT_KEY,
    secret: str = DEFAULT_SECRET,
    seed: int = DEFAULT_SEED,
    n_orders: int = DEFAULT_ORDERS,
    clearing_account: str = DEFAULT_CLEARING_ACCOUNT,
    new_order_every: float = 0.0,
    fail_rate: float = 0.0,
    latency_ms: int = 0,
    rate_limit: int = 0,
    drop_share: float = 0.5,
    fault_seed: int | None = None,
    clock: Callable[[], datetime] | None = None,
) -> DemoShopApp:
    """The demo shop as an ASGI app. ``state`` is a state object or the path of its JSON file
    (loaded if it exists, else generated from ``seed`` and ``n_orders`` and saved)."""
    if not key or not secret:
        raise ValueError("the demo shop needs a consumer key and secret")
    if not isinstance(state, DemoShopState):
        state = DemoShopState.open(
            state, seed=seed, n_orders=n_orders, clearing_account=clearing_account, clock=clock
        )
    faults = FaultSettings(
        fail_rate=fail_rate, latency_ms=latency_ms, rate_limit=rate_limit, drop_share=drop_share
    )
    api = build_api(state, faults, key=key, secret=secret, new_order_every=new_order_every)
    return DemoShopApp(state, faults, FaultInjector(api, faults, seed=fault_seed))


def run_in_thread(
    app_or_state: DemoShopApp | DemoShopState | str | os.PathLike[str],
    *,
    port: int = 0,
    **options: Any,
) -> tuple[str, Callable[[], None]]:
    """Serve the demo shop from a daemon thread → ``(base_url, stop)``.

    ``port=0`` takes a free port (the socket is bound before the thread starts, so the URL is
    right at once); ``options`` go to :func:`create_app`. ``stop()`` shuts the server down and
    waits for it; calling it twice is harmless.
    """
    app = (
        app_or_state
        if isinstance(app_or_state, DemoShopApp)
        else create_app(app_or_state, **options)
    )
    return serve_in_thread(app, name="demo-shop", port=port)


# --------------------------------------------------------------------------- command line


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


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _account(text: str) -> str:
    if not (text.isascii() and text.isdigit() and 4 <= len(text) <= 6):
        raise argparse.ArgumentTypeError("must be an account number like 1570")
    return text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="packbench demo-shop",
        description="Run the bundled demo shop: a WooCommerce REST API (v3) on 127.0.0.1 over "
        "the demo catalogue, which captures, invoices and books an order when it is completed.",
        formatter_class=DefaultsHelp,
    )
    p.add_argument("--port", type=_count, default=DEFAULT_PORT, help="0 = any free port")
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"demo data seed for a new state file (default: {DEFAULT_SEED})",
    )
    p.add_argument("--orders", type=_count, default=DEFAULT_ORDERS, help="orders to start with")
    p.add_argument(
        "--new-order-every",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="add a new processing order this often (0 = never)",
    )
    p.add_argument("--key", default=DEFAULT_KEY, help="REST API consumer key")
    p.add_argument("--secret", default=DEFAULT_SECRET, help="REST API consumer secret")
    p.add_argument("--fail-rate", type=_share, default=0.0, help="share of requests that fail")
    p.add_argument(
        "--drop-share",
        type=_share,
        default=0.5,
        help="share of failing requests answered by closing the connection (the rest get 500)",
    )
    p.add_argument("--latency-ms", type=_count, default=0, help="added to every request")
    p.add_argument("--rate-limit", type=_count, default=0, help="requests/s before 429; 0 = none")
    p.add_argument("--fault-seed", type=int, default=None, help="make the faults repeatable")
    p.add_argument(
        "--clearing-account",
        type=_account,
        default=DEFAULT_CLEARING_ACCOUNT,
        help="account debited when a payment is captured",
    )
    p.add_argument("--state", type=Path, default=None, help="the shop's JSON state file")
    p.add_argument("--access-log", action="store_true", help="log every request")
    return p


def _default_state_path() -> Path:
    from packbench.config import data_dir

    return data_dir() / "demo-shop.json"


def main(argv: Sequence[str] | None = None) -> int:
    """``packbench demo-shop …``: serve until interrupted. Prints one line once listening:
    ``demo shop on http://127.0.0.1:PORT (key K)``, which a parent process can wait for."""
    args = build_parser().parse_args(argv)
    path: Path = args.state or _default_state_path()
    seed = DEFAULT_SEED if args.seed is None else args.seed
    try:
        state = DemoShopState.open(
            path,
            seed=seed,
            n_orders=args.orders,
            clearing_account=args.clearing_account,
            now=datetime.now(UTC),  # a new shop's orders are today's, not the catalogue's day
        )
    except (StateFileError, OSError) as exc:
        print(f"demo shop: {exc}", file=sys.stderr)
        return 2
    if args.seed is not None and args.seed != state.seed:
        print(
            f"demo shop: {path} was made with seed {state.seed}; --seed {args.seed} is ignored "
            "(delete the file to start over)",
            file=sys.stderr,
        )
    app = create_app(
        state,
        key=args.key,
        secret=args.secret,
        new_order_every=args.new_order_every,
        fail_rate=args.fail_rate,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        drop_share=args.drop_share,
        fault_seed=args.fault_seed,
    )
    return serve_forever(
        app,
        name="demo shop",
        port=args.port,
        banner=f"(key {args.key})",
        access_log=args.access_log,
    )
