"""The demo end to end (#15): orders completed at the ship station are captured by the demo shop,
the demo providers (a separate server on loopback, reading the shop over its HTTP API) settle
the captures in daily payouts with fees, one refund and one capture never paid out, and
``packbench settlements import --api`` brings the payouts in over loopback, after which
``packbench ledger --json`` explains 1570 to the last øre: the balance is the open items, and
each order's captured, fees and paid out are what the providers did."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from packbench import cli
from packbench.config import load_settings
from packbench.data.engine import Database
from packbench.data.models import Order, Packer
from packbench.operations.common import Actor
from packbench.operations.demo import load_demo
from packbench.operations.ship_complete import complete_transaction
from packbench.operations.shipping import create_shipment
from packbench.redact import clear_secrets
from packbench.settlement.base import OSLO
from packbench.settlement.demo import DemoCredentials, DemoProviders, run_in_thread
from packbench.settlement.demo.settle import DEMO_MSN
from packbench.settlement.demo.shop_feed import ShopFeed
from packbench.shop.demo_shop import DemoShopState
from packbench.shop.demo_shop import run_in_thread as run_shop
from packbench.shop.sync import SyncEngine
from packbench.shop.woocommerce import WooCommerceAdapter
from tests.operations.test_shipping import make_packed, mark_printed

KEY, SECRET = "ck_settle", "cs_settle"
C = DemoCredentials()


class Demo:
    def __init__(self, now: datetime, shop_url: str, state: DemoShopState) -> None:
        self.now = now
        self.shop_url = shop_url
        self.state = state
        self.clock = now
        self.feed = ShopFeed(shop_url, KEY, SECRET, clock=lambda: self.clock, cache_s=0.0)
        self.providers = DemoProviders(source=self.feed, page_size=3)
        self.url, self._stop = run_in_thread(self.providers)

    def close(self) -> None:
        self._stop()
        self.feed.close()


@pytest.fixture
def demo(tmp_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    now = datetime.now(UTC).replace(microsecond=0)
    state = DemoShopState.open(tmp_path / "shop.json", seed=1, now=now)
    shop_url, stop_shop = run_shop(state, key=KEY, secret=SECRET)
    load_demo(db, seed=1, terminal="t-ship", now=now)
    d = Demo(now, shop_url, state)
    env = {
        "PACKBENCH_VIPPS_CLIENT_ID": C.vipps_client_id,
        "PACKBENCH_VIPPS_CLIENT_SECRET": C.vipps_client_secret,
        "PACKBENCH_VIPPS_SUBSCRIPTION_KEY": C.vipps_subscription_key,
        "PACKBENCH_KLARNA_USERNAME": C.klarna_username,
        "PACKBENCH_KLARNA_PASSWORD": C.klarna_password,
        "PACKBENCH_STRIPE_SECRET_KEY": C.stripe_secret_key,
        "PACKBENCH_LOG__FILE": str(tmp_path / "pb.log"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "packbench.toml"
    config.write_text(
        "[settlement]\n"
        f'vipps_url = "{d.url}/vipps"\n'
        f'vipps_msn = "{DEMO_MSN}"\n'
        f'klarna_url = "{d.url}/klarna/settlements/v1"\n'
        f'stripe_url = "{d.url}/stripe"\n'
    )
    monkeypatch.setenv("PACKBENCH_CONFIG", str(config))
    yield d
    d.close()
    stop_shop()
    clear_secrets()


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(list(argv))
    return code, out.getvalue()


def import_all(db: Database, until: date | None = None) -> list[dict[str, Any]]:
    reports = []
    for provider in ("vipps", "klarna", "stripe"):
        argv = ["settlements", "import", "--provider", provider, "--api", "--json"]
        argv += ["--db", db.target] + (["--until", until.isoformat()] if until else [])
        code, out = run(*argv)
        assert code == 0, out
        reports.append(json.loads(out))
    return reports


def ledger(db: Database, as_of: date) -> dict[str, Any]:
    code, out = run("ledger", "--json", "--db", db.target, "--as-of", as_of.isoformat())
    assert code == 0
    return json.loads(out)


def ship_and_complete(db: Database, shop_url: str, count: int) -> dict[int, int]:
    """``count`` processing orders packed, shipped and completed at the ship station, the
    completion pushed to the shop (which captures): shop order id → total (øre)."""
    settings = load_settings(None, db=db.target)
    with db.write() as s:
        kari = Packer(name="Kari Nordmann", badge="BDG-7101", role="packer")
        s.add(kari)
        s.flush()
        shipper = Actor("ship", "t-ship", kari.id, kari.name, kari.role)
    with db.read() as s:
        rows = s.exec(
            select(Order)
            .where(Order.status == "new", col(Order.payment_method).in_(["vipps", "klarna"]))
            .order_by(col(Order.shop_order_id))
        ).all()
    chosen = {"vipps": [], "klarna": []}  # type: dict[str, list[Order]]
    for o in rows:
        if len(chosen[o.payment_method]) < count:
            chosen[o.payment_method].append(o)
    done: dict[int, int] = {}
    for o in chosen["vipps"] + chosen["klarna"]:
        assert o.id is not None and o.shop_order_id is not None
        make_packed(db, o.id)
        create_shipment(db, shipper, settings.ship, o.id)
        mark_printed(db, o.id)
        told = complete_transaction(db, shipper, o.id, code="CMD-COMPLETE")
        assert told.ok, told.message
        done[o.shop_order_id] = o.total_ore
    sync = SyncEngine(db, WooCommerceAdapter(shop_url, KEY, SECRET, timeout=10), holder="t-ship",
                      backoff_base_s=0.01, backoff_cap_s=0.05)  # fmt: skip
    for _ in range(50):
        sync.run_once()
        with db.read() as s:
            from packbench.data.models import OutboxItem

            if not s.exec(select(OutboxItem).where(OutboxItem.status == "pending")).first():
                break
    return done


def by_order(book: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["order"]: i for i in book["open_items"]}


def test_the_demo_settles_the_ship_stations_orders_and_1570_is_explained_to_the_ore(
    db: Database, demo: Demo
) -> None:
    completed = ship_and_complete(db, demo.shop_url, 2)
    assert len(completed) == 4
    captured = {c["order_id"]: c["amount_ore"] for c in demo.state.captures()}
    assert all(captured[oid] == total for oid, total in completed.items())  # captured once each

    today = demo.now.astimezone(OSLO).date()
    reports = import_all(db)
    assert sum(r["new"] for r in reports) > 0
    assert all(r["unmatched"] == 0 for r in reports)
    book = ledger(db, today)
    settled = demo.feed.settled()
    items = by_order(book)

    # The balance is the open items, to the øre; nothing is left unexplained.
    assert book["unmatched"] == []
    assert book["balance_ore"] == sum(i["open_ore"] for i in items.values())
    assert book["balance_ore"] > 0

    # Each order as the providers settled it: captured, fees and paid out.
    for oid, (provider, cap, ref, fee, out) in settled.orders.items():
        item = items.get(str(oid))
        total = captured[oid]
        if item is None:  # settled: its invoice less its refund came in a payout
            assert out == total - ref and cap == total, oid
            continue
        assert item["provider"] == provider
        assert (item["captured_ore"], item["refunded_ore"], item["fees_ore"]) == (cap, ref, fee)
        assert item["paid_out_ore"] == out
        assert item["invoiced_ore"] == total
        assert item["open_ore"] == total - ref - out

    # The refund was netted into a later payout and the order is settled all the same.
    refunded = settled.orders[settled.refunded_order]  # type: ignore[index]
    assert refunded[2] > 0 and str(settled.refunded_order) not in items
    # The capture the provider never reported: invoiced, nothing captured, nothing paid.
    never = items[str(settled.never_paid_order)]
    assert (never["captured_ore"], never["paid_out_ore"]) == (0, 0)
    assert never["open_ore"] == captured[settled.never_paid_order]  # type: ignore[index]
    # Today's completions wait for tomorrow's payouts.
    for oid, total in completed.items():
        assert items[str(oid)]["captured_ore"] == 0 and items[str(oid)]["open_ore"] == total
    payouts = [p for p in book["payouts"] if p["paid"]]
    assert {p["provider"] for p in payouts} == {"vipps", "klarna"}
    assert all(p["difference_ore"] == 0 for p in payouts)
    nets = {pid: net for lst in settled.payouts.values() for pid, net in lst}
    assert {p["payout_id"]: p["to_bank_ore"] for p in payouts} == nets

    # The same import again changes nothing.
    again = import_all(db)
    assert [r["new"] for r in again] == [0, 0, 0]
    assert ledger(db, today) == book

    # Tomorrow: today's captures are paid out, with their fees; only the capture the provider
    # never had is left on 1570.
    demo.clock = demo.now + timedelta(days=1)
    tomorrow = today + timedelta(days=1)
    import_all(db, until=tomorrow)
    book = ledger(db, tomorrow)
    settled = demo.feed.settled()
    assert book["unmatched"] == []
    items = by_order(book)
    assert list(items) == [str(settled.never_paid_order)]
    assert book["balance_ore"] == captured[settled.never_paid_order]  # type: ignore[index]
    for oid in completed:
        provider, cap, ref, fee, out = settled.orders[oid]
        assert (cap, out, ref) == (completed[oid], completed[oid], 0) and fee > 0


def test_packbench_demo_runs_the_providers_and_shows_1570_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``packbench demo`` as it starts (the app itself left out): the demo providers run over
    the demo shop, the bench is configured against them and their payouts come in, so the
    ledger has nothing unexplained and its balance is the open items."""
    from packbench.cli import bench
    from packbench.operations.ledger import clearing_ledger
    from packbench.settlement.demo.bench import import_all as demo_import

    for name in (
        "PACKBENCH_VIPPS_CLIENT_ID", "PACKBENCH_VIPPS_CLIENT_SECRET",
        "PACKBENCH_VIPPS_SUBSCRIPTION_KEY", "PACKBENCH_KLARNA_USERNAME",
        "PACKBENCH_KLARNA_PASSWORD", "PACKBENCH_STRIPE_SECRET_KEY", "PACKBENCH_BRING_UID",
        "PACKBENCH_BRING_KEY",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)  # the demo sets them; undone afterwards
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("PACKBENCH_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PACKBENCH_LOG__FILE", str(tmp_path / "pb.log"))
    seen: dict[str, Any] = {}

    def app(settings, db) -> int:  # type: ignore[no-untyped-def]
        seen["urls"] = (settings.settlement.vipps_url, settings.settlement.klarna_url)
        seen["said"] = demo_import(db, settings)  # as the demo's worker does (idempotent)
        seen["ledger"] = clearing_ledger(db, settings).as_json()
        return 0

    monkeypatch.setattr(bench, "_run_app", app)
    db = tmp_path / "demo.db"
    assert cli.main(["demo", "--db", str(db), "--new-order-every", "0"]) == 0
    assert all(u.startswith("http://127.0.0.1:") for u in seen["urls"])
    assert not any("not imported" in line for line in seen["said"]), seen["said"]
    book = seen["ledger"]
    assert book["unmatched"] == []
    assert {p["provider"] for p in book["payouts"] if p["paid"]} == {"vipps", "klarna"}
    assert book["balance_ore"] == sum(i["open_ore"] for i in book["open_items"]) > 0
    # The one capture Klarna never had is what is left; the refunded order is settled.
    [left] = book["open_items"]
    assert left["provider"] == "klarna" and left["captured_ore"] == 0
    assert left["open_ore"] == left["invoiced_ore"]
    assert "the open orders" in book["explanation"]
