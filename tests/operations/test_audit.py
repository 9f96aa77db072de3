"""The audit trail answers "which unit went where, by whom" from the event log alone."""

from __future__ import annotations

import json
from pathlib import Path

from packbench.core.codes import DEFAULT_RULES
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database, create_database
from packbench.data.migrate import upgrade
from packbench.operations.audit import order_history
from packbench.operations.common import Actor
from packbench.operations.scans import handle_scan
from tests.operations.seed import SSCC, TRACKING, seed
from tests.packbench_process import run_packbench


def test_found_by_number_slip_sscc_and_tracking(db: Database) -> None:
    seed(db)
    kari = Actor("pack", "bench-2", 1, "Kari Nordmann", "packer")
    handle_scan(db, kari, "ORD-5003", DEFAULT_RULES)
    handle_scan(db, kari, "7071234000015", DEFAULT_RULES)  # not for this station: refused
    for ref in ("5003", "ORD-5003", SSCC, f"(00){SSCC}", TRACKING):
        history = order_history(db, ref)
        assert history is not None and history.number == "5003", ref
    history = order_history(db, "5003")
    opened = [e for e in history.entries if e.code == "ORD-5003"]
    assert len(opened) == 1
    e = opened[0]
    assert (e.packer, e.station, e.terminal, e.result) == (
        "Kari Nordmann",
        "pack",
        "bench-2",
        "ok",
    )
    assert [x.at for x in history.entries] == sorted(x.at for x in history.entries)
    assert order_history(db, "9999") is None
    assert order_history(db, "") is None


def test_history_cli(tmp_path: Path) -> None:
    path = tmp_path / "bench.db"
    db = create_database(path)
    upgrade(db)
    seed(db)
    handle_scan(db, Actor("pick", "t7", 1, "Kari Nordmann", "packer"), "ORD-5002", DEFAULT_RULES)
    db.dispose()
    run = ["history", "--db", str(path)]
    out = run_packbench(*run, "ORD-5002", "--json", timeout=60)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["number"] == "5002"
    assert any(e["who"] == "Kari Nordmann" and e["terminal"] == "t7" for e in doc["events"])
    text = run_packbench(*run, "5002", timeout=60)
    assert "Kari Nordmann" in text.stdout and "ORD-5002" in text.stdout
    label = OrderStatus(doc["status"]).label  # people read "Slip printed", not "slip_printed"
    n = len(doc["events"])
    assert text.stdout.splitlines()[0] == f"Order 5002 ({label}), {n} event{'' if n == 1 else 's'}"
    missing = run_packbench(*run, "4711", timeout=60)
    assert missing.returncode == 2 and "no order matches" in missing.stderr
