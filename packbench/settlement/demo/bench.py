"""``packbench demo``'s payment providers: the demo providers' server settling the demo shop's
captures, the bench configured against it, and a worker importing their payouts.

The providers read the shop over its HTTP API (:class:`ShopFeed`) and serve Vipps' Report API,
Klarna's Settlements API and Stripe's balance transactions on loopback; the bench asks them the
way ``packbench settlements import --api`` does — the same clients, the same import — right away
and then every few minutes, so the dashboard's settlement lines and ``packbench ledger`` show
1570 explained to the last øre while the demo runs. The demo's own (public, made-up)
credentials are put in this process's environment, as the demo carrier's are.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from packbench.settlement.demo.server import DemoCredentials, DemoProviders, run_in_thread
from packbench.settlement.demo.settle import DEMO_MSN
from packbench.settlement.demo.shop_feed import ShopFeed

__all__ = ["configure_demo", "start_demo_providers"]

log = logging.getLogger("packbench.settlement.demo")

IMPORT_EVERY_S = 300.0


def configure_demo(settings: Any, url: str, credentials: DemoCredentials | None = None) -> Any:
    """``settings`` with the providers' API addresses at the demo providers' ``url`` and their
    credentials in this process's environment."""
    c = credentials or DemoCredentials()
    os.environ.update(
        {
            "PACKBENCH_VIPPS_CLIENT_ID": c.vipps_client_id,
            "PACKBENCH_VIPPS_CLIENT_SECRET": c.vipps_client_secret,
            "PACKBENCH_VIPPS_SUBSCRIPTION_KEY": c.vipps_subscription_key,
            "PACKBENCH_KLARNA_USERNAME": c.klarna_username,
            "PACKBENCH_KLARNA_PASSWORD": c.klarna_password,
            "PACKBENCH_STRIPE_SECRET_KEY": c.stripe_secret_key,
        }
    )
    settlement = settings.settlement.model_copy(
        update={
            "vipps_url": url + "/vipps",
            "vipps_msn": DEMO_MSN,
            "klarna_url": url + "/klarna/settlements/v1",
            "stripe_url": url + "/stripe",
        }
    )
    return settings.model_copy(update={"settlement": settlement})


def import_all(db: Any, settings: Any) -> list[str]:
    """Import every provider's payouts once (the last 31 days); one line per provider."""
    from packbench.operations.common import Actor
    from packbench.operations.settlement import ImportRefused, import_settlement
    from packbench.settlement.base import PROVIDERS
    from packbench.settlement.clients import ClientError, fetch

    actor = Actor(station="admin", terminal=settings.bench.terminal)
    said: list[str] = []
    for provider in PROVIDERS:
        try:
            result = fetch(provider, settings)
            said.append(import_settlement(db, actor, result, source=f"{provider} API").summary())
        except (ClientError, ImportRefused) as exc:
            said.append(f"{provider.capitalize()}: not imported: {exc}")
    return said


def start_demo_providers(
    settings: Any,
    db: Any,
    *,
    shop_url: str,
    shop_key: str,
    shop_secret: str,
    every_s: float = IMPORT_EVERY_S,
) -> tuple[Any, Callable[[], None]]:
    """Run the demo providers over the demo shop at ``shop_url`` and a worker importing their
    payouts into ``db`` → (settings configured against them, stop)."""
    methods = {
        method: provider
        for provider, names in settings.settlement.payment_methods.items()
        for method in names
    }
    feed = ShopFeed(shop_url, shop_key, shop_secret, methods=methods)
    providers = DemoProviders(source=feed, page_size=100)
    url, stop_server = run_in_thread(providers)
    log.info("demo payment providers on %s", url)
    settings = configure_demo(settings, url)
    stopping = threading.Event()

    def work() -> None:
        while not stopping.is_set():
            try:
                for line in import_all(db, settings):
                    log.info("demo settlement: %s", line)
            except Exception:  # the demo goes on without payouts; the log says why
                log.exception("demo settlement import failed")
            stopping.wait(every_s)

    worker = threading.Thread(target=work, name="demo-settlement", daemon=True)
    worker.start()

    def stop() -> None:
        stopping.set()
        worker.join(timeout=10)
        stop_server()
        feed.close()

    return settings, stop
