"""`kill -9` of a ship terminal in the middle of completing transactions, with the real demo
shop on loopback: what the terminal said was completed is completed, nothing is completed or
captured twice, and a restart finishes the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import col, select

from packbench.config import load_settings
from packbench.data.engine import Database
from packbench.data.models import Order, OutboxItem, Packer
from packbench.operations.common import Actor
from packbench.operations.ship_complete import complete_transaction
from packbench.operations.shipping import create_shipment
from tests.operations.test_shipping import make_packed, mark_printed
from tests.shop.test_sync import KEY, SECRET, Shop, count, drain, engine, processing, shop  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]

# The ship station's part, as the app does it: complete, tell the person, push to the shop
# (the app wakes its sync thread; here the same engine runs in the same process).
WORKER = """
import json, sys
from packbench.data.engine import create_database
from packbench.operations.common import Actor
from packbench.operations.shipping import complete_transaction
from packbench.shop.sync import SyncEngine
from packbench.shop.woocommerce import WooCommerceAdapter

db_path, url, journal, packer, *ids = sys.argv[1:]
db = create_database(db_path)
actor = Actor("ship", "t-crash", int(packer), "Kari Nordmann", "packer")
sync = SyncEngine(db, WooCommerceAdapter(url, KEY, SECRET, timeout=10), holder="t-crash",
                  lease_ttl_s=1, backoff_base_s=0.01, backoff_cap_s=0.05)
with open(journal, "a") as out:
    for oid in map(int, ids):
        told = complete_transaction(db, actor, oid, code="CMD-COMPLETE")
        out.write(json.dumps({"order": oid, "ok": told.ok, "kind": told.kind}) + "\\n")
        out.flush()  # what the screen would now say
        sync.run_once()
"""


def completions(db: Database) -> dict[int, int]:
    """Order id → number of completion rows queued for the shop."""
    with db.read() as s:
        rows = s.exec(select(OutboxItem.order_id).where(OutboxItem.kind == "complete")).all()
    counts: dict[int, int] = {}
    for oid in rows:
        counts[oid] = counts.get(oid, 0) + 1
    return counts


def test_kill_9_while_completing_loses_nothing_and_captures_once(
    tmp_path: Path,
    db: Database,
    shop: Shop,  # noqa: F811
) -> None:
    settings = load_settings(None, db=str(tmp_path / "x.db"))
    with db.write() as s:
        kari = Packer(name="Kari Nordmann", badge="BDG-7001", role="packer")
        s.add(kari)
        s.flush()
        shipper = Actor("ship", "t-ship", kari.id, kari.name, kari.role)
    first = engine(db, shop)
    first.run_once(products=True)
    first.release()
    wanted = sorted(processing(shop))[:14]
    with db.read() as s:
        ids = {
            o.shop_order_id: o.id
            for o in s.exec(select(Order).where(col(Order.shop_order_id).in_(wanted))).all()
        }
    for shop_id in wanted:
        make_packed(db, ids[shop_id])
        create_shipment(db, shipper, settings.ship, ids[shop_id])
        mark_printed(db, ids[shop_id])
    order_ids = [ids[x] for x in wanted]

    shop.faults(latency_ms=40)  # each push slow enough to be killed in the middle of one
    journal = tmp_path / "ship.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    script = f"KEY, SECRET = {KEY!r}, {SECRET!r}\n" + WORKER
    proc = subprocess.Popen(
        [sys.executable, "-c", script, db.target, shop.url, str(journal), str(kari.id)]
        + [str(x) for x in order_ids],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            told = journal.read_text().splitlines() if journal.exists() else []
            if len(told) >= 6:
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else "worker died"
            assert time.monotonic() < deadline, "the worker did not get going"
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    entries = [json.loads(x) for x in journal.read_text().splitlines()]
    assert len(entries) < len(order_ids), "killed too late to test anything"

    # Nothing the terminal said is missing; nothing is half done or queued twice.
    queued = completions(db)
    with db.read() as s:
        rows = {o.id: o for o in s.exec(select(Order).where(col(Order.id).in_(order_ids))).all()}
    for e in entries:
        assert e["ok"] and e["kind"] == "ok"
        assert rows[e["order"]].completed_at is not None
    for oid in order_ids:
        assert queued.get(oid, 0) == (1 if rows[oid].completed_at is not None else 0)
    # At most the one order it was working on when killed went further than it said.
    assert len([o for o in order_ids if rows[o].completed_at]) - len(entries) in (0, 1)
    assert count(db, OutboxItem, OutboxItem.status == "pending") > 0  # work left to finish

    # Restarted: the person presses complete again on every order; the sync takes over once
    # the dead terminal's lease has run out. Each order completes and captures exactly once.
    shop.faults()
    again = [complete_transaction(db, shipper, oid, code="CMD-COMPLETE") for oid in order_ids]
    done_before = {e["order"] for e in entries}
    for oid, out in zip(order_ids, again, strict=True):
        assert out.ok
        if oid in done_before:
            assert out.kind == "info" and "already completed" in out.message
    assert all(n == 1 for n in completions(db).values()) and len(completions(db)) == len(order_ids)
    time.sleep(1.1)
    drain(db, engine(db, shop, holder="t-restart"))
    captures = shop.captures()
    for shop_id in wanted:
        record = shop.http.get(f"/wp-json/wc/v3/orders/{shop_id}").json()
        assert record["status"] == "completed"
        assert len([c for c in captures if c["order_id"] == shop_id]) == 1
        meta = {m["key"]: m["value"] for m in record["meta_data"]}
        assert int(meta["_capture_count"]) == 1
    for entry in shop.ledger():
        assert sum(x["debit_ore"] for x in entry["lines"]) == sum(
            x["credit_ore"] for x in entry["lines"]
        )
    with db.read() as s:
        done = s.exec(select(Order).where(col(Order.id).in_(order_ids))).all()
    assert all(o.invoice_number and o.payment_status == "captured" for o in done)
