"""Many terminals on one database: pickers, packers and shippers scanning at once.

Run: .venv/bin/python benchmarks/terminals.py run DB [--pick 2 --pack 3 --ship 1] [--seconds 60]

Each terminal is its own process with its own engine, signed in as its own person, replaying
the scans a person at that station makes — through the same operations the station screens
call with every scan (``pick_scan``, ``pack_scan``, ``ship_scan``); the screen itself is left
out, so the figure is the database's, not Textual's. Packers choose among the picked orders at
random, so they race for the same slips. Every scan and what it answered is written to a
journal; afterwards the run checks, from the database alone:

- no scan lost: every journal entry has its event row, in the terminal's order;
- nothing reached a person as "database is locked" (no operation raised);
- claims exclusive: every order's units were packed at one terminal only;
- every order's status is the last status its event log says;
- units: picked and packed quantities grew by exactly the units the accepted scans confirmed.

and prints sustained scans per second. ``tests/test_many_terminals.py`` runs a short version.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve()


# --------------------------------------------------------------------------- one terminal


def _actor(db, badge: str, station: str, terminal: str):  # type: ignore[no-untyped-def]
    from packbench.operations.common import Actor
    from packbench.operations.packers import sign_in_badge

    view = sign_in_badge(db, Actor(station, terminal), badge)
    return Actor(station, terminal, view.id, view.name, view.role)


class Journal:
    """What a terminal was told, a line per scan; ``pace_s`` is the person's time between two
    scans (0 for the benchmark: as fast as the bench answers)."""

    def __init__(self, path: Path, pace_s: float = 0.0) -> None:
        self.file = path.open("a", encoding="utf-8")
        self.count = 0
        self.pace_s = pace_s

    def write(self, raw: str, ok: bool | None, message: str, units: int = 0, **extra) -> None:  # type: ignore[no-untyped-def]
        self.file.write(
            json.dumps({"raw": raw, "ok": ok, "message": message, "units": units, **extra}) + "\n"
        )
        self.file.flush()
        self.count += 1
        if self.pace_s:
            time.sleep(self.pace_s)


def work_pick(db, settings, actor, journal: Journal, until: float, rng) -> None:  # type: ignore[no-untyped-def]
    from packbench.config import load_warehouse_layout
    from packbench.operations.common import Refused
    from packbench.operations.pick_start import next_batch
    from packbench.operations.pick_views import PickRules, current_batch
    from packbench.operations.picking import pick_scan
    from packbench.operations.scans import handle_scan

    layout = load_warehouse_layout(settings.warehouse.layout_path())
    rules = PickRules(batch_size=settings.pick.batch_size)
    while time.monotonic() < until:
        view = current_batch(db, actor, layout, rules)
        if view is None:
            try:
                out = next_batch(db, actor, layout, rules)
            except Refused as exc:
                journal.write("(next batch)", None, exc.message, kind="key")
                time.sleep(0.2)
                continue
            journal.write("(next batch)", out.ok, out.message, kind="key")
            if not out.ok or out.pick_list is None:
                time.sleep(0.2)
                continue
            view = out.pick_list
        stop = view.current
        if stop is None:
            time.sleep(0.05)
            continue
        for item in stop.items:
            for _ in range(item.left):
                code = item.gtin or item.sku
                out = pick_scan(db, actor, code, settings.code_rules(), layout, rules)
                assert out is not None, f"{code} was not a picking scan"
                journal.write(code, out.ok, out.message, units=1 if out.ok else 0, kind="pick")
        if rng.random() < 0.05:  # now and then a wrong scan, as people make
            wrong = "7071234999990"
            out = pick_scan(db, actor, wrong, settings.code_rules(), layout, rules)
            if out is None:  # not for picking: the station hands it to the common handler
                common = handle_scan(db, actor, wrong, settings.code_rules())
                journal.write(wrong, common.ok, common.message)
            else:
                journal.write(wrong, out.ok, out.message)


def work_pack(db, settings, actor, journal: Journal, until: float, rng) -> None:  # type: ignore[no-untyped-def]
    from packbench.operations.orders import list_orders
    from packbench.operations.pack_state import pack_view
    from packbench.operations.pack_views import PackRules
    from packbench.operations.packstation import pack_scan

    rules = PackRules()
    cr = settings.code_rules()
    while time.monotonic() < until:
        waiting = list_orders(db, statuses=["picked"], oldest_first=True, limit=8)
        if not waiting:
            time.sleep(0.2)
            continue
        order = rng.choice(waiting)
        slip = f"ORD-{order.number}"
        out = pack_scan(db, actor, slip, cr, rules, order_id=None)
        journal.write(
            slip, out.ok if out else None, out.message if out else "", kind="slip", order=order.id
        )
        if out is None or not out.ok:
            continue  # another packer has it: take another
        for _ in range(60):  # an order's units, parcels, boxes and weights
            view = pack_view(db, actor, rules, order.id)
            if view is None or view.status != "packing" or not view.mine:
                break
            parcel = view.current
            plan = view.suggestion.parcels if view.suggestion else ()
            plan_units = (
                dict(plan[parcel.seq - 1].units) if parcel and parcel.seq <= len(plan) else {}
            )
            in_parcel = dict(parcel.units) if parcel else {}
            todo = next(
                (
                    ln
                    for ln in view.lines
                    if not ln.done
                    and (not plan_units or in_parcel.get(ln.sku, 0) < plan_units.get(ln.sku, 0))
                ),
                None,
            )
            if todo is not None:
                code = todo.gtin or todo.sku
                units = 1
            elif parcel is not None and parcel.box_code is None:
                code = plan[parcel.seq - 1].box if parcel.seq <= len(plan) else "BOX-L"
                units = 0
            elif parcel is not None and not parcel.weight_g:
                code = f"{parcel.expected_weight_g}g"
                units = 0
            else:
                code = "CMD-NEXT"
                units = 0
            out = pack_scan(db, actor, code, cr, rules, order_id=order.id)
            ok = out.ok if out else None
            journal.write(
                code,
                ok,
                out.message if out else "",
                units=units if ok else 0,
                kind="pack",
                order=order.id,
            )
            if out is not None and out.warning:
                out = pack_scan(db, actor, "CMD-CONFIRM", cr, rules, order_id=order.id)
                journal.write("CMD-CONFIRM", out.ok if out else None, out.message if out else "")


def work_ship(db, settings, actor, journal: Journal, until: float, rng) -> None:  # type: ignore[no-untyped-def]
    from packbench.operations.common import Refused
    from packbench.operations.ship_views import ready_to_ship
    from packbench.operations.shipping import create_shipment

    refused: set[int] = set()  # e.g. local pickup: no carrier; a person would set it aside
    while time.monotonic() < until:
        ready = [r for r in ready_to_ship(db, limit=50) if r[0] not in refused][:8]
        if not ready:
            time.sleep(0.2)
            continue
        oid, number = rng.choice(ready)
        slip = f"ORD-{number}"
        try:  # the shipment and its numbers (labels are printing's business, measured apart)
            create_shipment(db, actor, settings.ship, oid, code=slip)
            journal.write(slip, True, "shipped", kind="ship")
        except Refused as exc:
            journal.write(slip, False, exc.message, kind="ship")
            refused.add(oid)


def worker(args: argparse.Namespace) -> int:
    from packbench.config import load_settings
    from packbench.data.engine import create_database

    settings = load_settings(None, db=args.db)
    db = create_database(args.db)
    journal = Journal(Path(args.journal), pace_s=args.pace_ms / 1000)
    rng = random.Random(args.seed)
    station = {"pick": "pick", "pack": "pack", "ship": "ship"}[args.role]
    actor = _actor(db, args.badge, station, args.terminal)
    journal.write(args.badge, True, "signed in", kind="badge")
    work = {"pick": work_pick, "pack": work_pack, "ship": work_ship}[args.role]
    until = time.monotonic() + args.seconds
    try:
        work(db, settings, actor, journal, until, rng)
    except Exception as exc:  # anything reaching here would have reached a person
        journal.write("(crash)", False, f"{type(exc).__name__}: {exc}", kind="crash")
        raise
    finally:
        db.dispose()
    return 0


# --------------------------------------------------------------------------- the run


def _snapshot(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from sqlmodel import func, select

    from packbench.data.models import Event, OrderLine

    with db.read() as s:
        picked, packed = s.exec(
            select(func.sum(OrderLine.picked_qty), func.sum(OrderLine.packed_qty))
        ).one()
        events = s.exec(select(func.max(Event.id))).one()
    return {"picked": picked or 0, "packed": packed or 0, "event_id": events or 0}


def people(db, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Badges for ``n`` terminals: the bench's own people, then temporary ones."""
    from sqlmodel import select

    from packbench.data.models import Packer

    with db.write() as s:
        badges = [p.badge for p in s.exec(select(Packer).where(Packer.role == "packer")).all()]
        i = 0
        while len(badges) < n:
            i += 1
            badge = f"BDG-9{i:03d}"
            if s.exec(select(Packer).where(Packer.badge == badge)).first() is None:
                s.add(Packer(name=f"Vikar {i}", badge=badge, role="packer"))
                badges.append(badge)
    return badges[:n]


def run(db_path: str, *, pick: int, pack: int, ship: int, seconds: float, workdir: Path) -> dict:
    from packbench.data.engine import create_database

    db = create_database(db_path)
    before = _snapshot(db)
    roles = ["pick"] * pick + ["pack"] * pack + ["ship"] * ship
    badges = people(db, len(roles))
    procs = []
    t0 = time.monotonic()
    for i, (role, badge) in enumerate(zip(roles, badges, strict=True)):
        journal = workdir / f"term-{i}.jsonl"
        journal.unlink(missing_ok=True)
        cmd = [
            sys.executable, str(HERE), "worker", "--db", db_path, "--role", role,
            "--badge", badge, "--terminal", f"term-{i}", "--seconds", str(seconds),
            "--journal", str(journal), "--seed", str(i),
        ]  # fmt: skip
        procs.append(
            (f"term-{i}", role, journal, subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))
        )
    failures = []
    for terminal, _role, _journal, proc in procs:
        _, err = proc.communicate(timeout=seconds + 120)
        if proc.returncode != 0:
            failures.append(f"{terminal} exited {proc.returncode}: {err[-1500:]}")
    elapsed = time.monotonic() - t0
    report = check(db, before, procs)
    report.update(seconds=round(elapsed, 1), failures=failures)
    db.dispose()
    return report


def check(db, before: dict[str, int], procs, *, slack: int = 0) -> dict:  # type: ignore[no-untyped-def]
    """The run's consistency, from the database. ``slack``: terminals killed with -9 may have
    committed one scan they had no time to journal (done, but never told), never the reverse."""
    from sqlmodel import col, select

    from packbench.data.models import Event, Order, OrderLine

    problems: list[str] = []
    scans = 0
    accepted_units = Counter()
    with db.read() as s:
        events = s.exec(
            select(Event).where(Event.id > before["event_id"]).order_by(col(Event.id))
        ).all()
        by_terminal: dict[str, list[Event]] = defaultdict(list)
        for e in events:
            by_terminal[e.terminal].append(e)
        for terminal, role, journal, _proc in procs:
            entries = [json.loads(line) for line in journal.read_text().splitlines()]
            mine = iter(by_terminal.get(terminal, []))
            for entry in entries:
                if entry.get("kind") == "crash":
                    problems.append(f"{terminal}: {entry['message']}")
                    continue
                if entry["raw"].startswith("("):
                    continue  # a key, not a scan
                scans += 1
                if entry["ok"]:
                    accepted_units[role] += entry["units"] if role != "ship" else 1
                # The next event of this terminal with this code: the scan's own row.
                if not any(e.code == entry["raw"] for e in mine):
                    problems.append(f"{terminal}: no event for scan {entry['raw']!r}")
                    break
        # Claims exclusive: an order's accepted pack scans come from one terminal.
        packers_of: dict[int, set[str]] = defaultdict(set)
        for e in events:
            if (
                (
                    e.station == "pack"
                    and e.order_id
                    and e.result == "ok"
                    and e.kind in ("pack", "scan")
                )
                and e.code
                and not e.code.startswith(("ORD-", "CMD-"))
            ):
                packers_of[e.order_id].add(e.terminal)
        for oid, terminals in packers_of.items():
            if len(terminals) > 1:
                problems.append(f"order {oid} packed at {sorted(terminals)}")
        # Every order's status is the last one its log says.
        last: dict[int, str] = {}
        for e in s.exec(
            select(Event)
            .where(Event.kind == "status", Event.result == "ok")
            .order_by(col(Event.id))
        ).all():
            if e.order_id and e.data:
                last[e.order_id] = json.loads(e.data).get("to")
        for order in s.exec(select(Order)).all():
            if order.id in last and last[order.id] != order.status:
                problems.append(f"order {order.number}: {order.status}, log says {last[order.id]}")
        picked = sum(s.exec(select(OrderLine.picked_qty)).all())
        packed = sum(s.exec(select(OrderLine.packed_qty)).all())
    if picked - before["picked"] != accepted_units["pick"]:
        problems.append(
            f"picked grew {picked - before['picked']}, scans confirmed {accepted_units['pick']}"
        )
    if packed - before["packed"] != accepted_units["pack"]:
        problems.append(
            f"packed grew {packed - before['packed']}, scans confirmed {accepted_units['pack']}"
        )
    return {
        "scans": scans,
        "units_picked": accepted_units["pick"],
        "units_packed": accepted_units["pack"],
        "orders_shipped": accepted_units["ship"],
        "problems": problems,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("worker")
    w.add_argument("--db", required=True)
    w.add_argument("--role", choices=["pick", "pack", "ship"], required=True)
    w.add_argument("--badge", required=True)
    w.add_argument("--terminal", required=True)
    w.add_argument("--seconds", type=float, default=60)
    w.add_argument("--journal", required=True)
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--pace-ms", type=float, default=0, help="a person's time between scans")
    r = sub.add_parser("run")
    r.add_argument("db", help="a bench database (e.g. a copy of the demo's); it is changed")
    r.add_argument("--pick", type=int, default=2)
    r.add_argument("--pack", type=int, default=3)
    r.add_argument("--ship", type=int, default=1)
    r.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    if args.cmd == "worker":
        return worker(args)
    workdir = Path(args.db).with_suffix(".journals")
    workdir.mkdir(exist_ok=True)
    report = run(
        args.db,
        pick=args.pick,
        pack=args.pack,
        ship=args.ship,
        seconds=args.seconds,
        workdir=workdir,
    )
    rate = report["scans"] / report["seconds"]
    print(
        f"{args.pick + args.pack + args.ship} terminals for {args.seconds:.0f} s: "
        f"{report['scans']} scans ({rate:.1f}/s sustained), {report['units_picked']} units picked, "
        f"{report['units_packed']} packed; problems: {len(report['problems'])}, "
        f"failed terminals: {len(report['failures'])}"
    )
    for line in report["problems"][:20] + report["failures"]:
        print("  " + line)
    from _figures import emit

    n = args.pick + args.pack + args.ship
    emit("terminals", f"{n} terminals, {args.seconds:.0f} s: scans", report["scans"])
    emit("terminals", f"{n} terminals, {args.seconds:.0f} s: sustained", rate, "scans/s")
    emit("terminals", f"{n} terminals: consistency problems", len(report["problems"]))
    emit("terminals", f"{n} terminals: terminals failed", len(report["failures"]))
    return 0 if not report["problems"] and not report["failures"] else 1


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    os.environ.setdefault("PACKBENCH_BENCH__TERMINAL", "bench")
    sys.exit(main())
