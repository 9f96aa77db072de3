"""`kill -9` of a packing terminal in the middle of an order's checklist: every scan the
packer was told about is in the database, nothing is counted twice, and the terminal, signed
in again, is back on the same order with exactly the units it had."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import select

from packbench.data.engine import Database
from packbench.data.models import Order
from packbench.operations.common import Actor
from packbench.operations.pack_claims import claimed_order
from packbench.operations.pack_state import pack_view
from packbench.operations.pack_views import PackRules
from packbench.operations.packers import sign_in_badge
from tests.test_many_terminals import TERMINALS_SCRIPT, load_terminals


def test_kill_9_mid_checklist_then_resume(demo_db: Database, tmp_path: Path) -> None:
    t = load_terminals()
    before = t._snapshot(demo_db)
    [badge] = t.people(demo_db, 1)
    journal = tmp_path / "term-0.jsonl"
    cmd = [
        sys.executable, str(TERMINALS_SCRIPT), "worker", "--db", demo_db.target, "--role", "pack",
        "--badge", badge, "--terminal", "term-0", "--seconds", "60", "--journal", str(journal),
        # A packer's pace: unpaced, the demo's few picked orders could all be packed between
        # two looks below, and the kill then never met an order half done.
        "--pace-ms", "20",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd)
    deadline = time.monotonic() + 60
    mid_order = None
    # Once it is well into the work, freeze it; kill it if it is in the middle of an order,
    # else let it go on a little and look again.
    while time.monotonic() < deadline:
        lines = journal.read_text().splitlines() if journal.exists() else []
        if sum(1 for x in lines if '"kind": "pack"' in x) >= 8:
            proc.send_signal(signal.SIGSTOP)
            with demo_db.read() as s:
                mid_order = s.exec(
                    select(Order.id).where(
                        Order.claim_terminal == "term-0", Order.status == "packing"
                    )
                ).first()
            if mid_order is not None:
                break
            proc.send_signal(signal.SIGCONT)
        time.sleep(0.03)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert mid_order is not None, "the worker was never caught in the middle of an order"
    # The one scan it may have committed but not lived to report is allowed (slack=1).
    report = t.check(demo_db, before, [("term-0", "pack", journal, proc)], slack=1)
    assert report["problems"] == []  # nothing told is missing, nothing counted twice
    assert report["units_packed"] > 0

    # Signed in again at the same terminal: the order it was packing, exactly as it was.
    view = sign_in_badge(demo_db, Actor("pack", "term-0"), badge)
    actor = Actor("pack", "term-0", view.id, view.name, view.role)
    entries = [json.loads(x) for x in journal.read_text().splitlines()]
    # The order of its last slip or unit scan that was accepted: where it was working.
    last_order = next((e["order"] for e in reversed(entries) if e.get("order") and e["ok"]), None)
    resumed = claimed_order(demo_db, actor)
    assert resumed is not None and resumed == last_order
    told = sum(e["units"] for e in entries if e.get("order") == resumed and e["ok"])
    packed = pack_view(demo_db, actor, PackRules(), resumed)
    assert packed is not None and packed.mine
    assert told <= packed.units_packed <= told + 1
