"""Speed at volume: the bench on a database with a long history (benchmarks/history.py).

Run: .venv/bin/python benchmarks/volume.py HISTORY.db [--repeat 20]

Works on a copy of the file (nothing is changed in it). Prints, with median and 95th percentile
where it repeats:
- app start: from starting a fresh interpreter to the first frame of the station (headless),
  and a fresh interpreter that only imports the app and exits;
- a scan at the pack station to the screen showing it (headless app, the real key pipeline);
- a dashboard refresh (every figure on it);
- building a batch pick list (the next 6 orders in shortest-route order);
- the admin order list, and one order's whole audit trail;
- an incremental sync with the shop (the demo shop on loopback; nothing changed).
Targets from issue #9: scan to screen p95 < 25 ms, dashboard < 200 ms, start < 1.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _figures import emit
from sqlmodel import select

from packbench.config import Settings, load_settings
from packbench.data.engine import Database, create_database
from packbench.data.models import Order, OrderLine, Packer, Product
from packbench.heap import rerun_on_huge_pages

ROWS: list[tuple[str, str]] = []


def record(name: str, text: str, ms: list[float] | None = None) -> None:
    ROWS.append((name, text))
    print(f"{name:<44} {text}", flush=True)
    if ms:
        ms = sorted(ms)
        emit("volume", f"{name}: median", statistics.median(ms), "ms")
        emit("volume", f"{name}: p95", ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))], "ms")


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   (n={len(ms)})"


def bench_dashboard(db: Database, settings: Settings, repeat: int) -> None:
    from packbench.operations.supervisor import bench_figures

    bench_figures(db, settings.day)  # warm the page cache once, like a running dashboard
    ms = timed(lambda: bench_figures(db, settings.day), repeat)
    record("dashboard refresh (all figures)", summary(ms), ms)


def bench_admin(db: Database, repeat: int) -> None:
    from packbench.operations.audit import order_history
    from packbench.operations.orders import list_orders

    ms = timed(lambda: list_orders(db), repeat)
    record("admin order list (newest 500)", summary(ms), ms)
    with db.read() as s:
        number = s.exec(select(Order.number).where(Order.number.like("H1%"))).first()
    ms = timed(lambda: order_history(db, str(number)), repeat)
    record("one order's whole audit trail", summary(ms), ms)


def bench_batch(db: Database, settings: Settings, repeat: int) -> None:
    from packbench.config import load_warehouse_layout
    from packbench.operations.common import Actor
    from packbench.operations.pick_start import next_batch
    from packbench.operations.pick_views import PickRules

    layout = load_warehouse_layout(settings.warehouse.layout_path())
    with db.read() as s:
        packers = s.exec(select(Packer).where(Packer.active)).all()
    times = []
    for p in packers[:repeat]:
        actor = Actor("pick", f"bench-{p.id}", p.id, p.name, p.role)
        t0 = time.perf_counter()
        try:
            out = next_batch(db, actor, layout, PickRules())
        except Exception as exc:  # nothing left to pick
            print(f"  next_batch: {exc}", file=sys.stderr)
            break
        times.append((time.perf_counter() - t0) * 1000)
        if not out.ok:
            break
    if times:
        record("build a batch pick list (6 orders)", summary(times), times)


async def _scan_to_screen(
    db: Database, settings: Settings, repeat: int
) -> tuple[dict[str, list[float]], dict[str, list[float]], list[tuple[int, float]]]:
    """Scans at the pack station, each timed from its first key to the frame that shows it.

    The keys are posted to the app as the terminal driver posts them. "Shown" is the first
    screen update Textual hands to the terminal after the station said what the scan did
    (the feedback line), and that update is turned into the terminal's bytes here as a real
    terminal would (the headless driver skips that step). Three kinds of scan, in turn: a unit
    ticked on the checklist, the undo command taking it back, and a wrong item refused (bell
    and flash). Not waiting on the pilot (its idle pause alone costs about 24 ms), and not
    polling either: the painting hook itself wakes the benchmark, so nothing competes with the
    app for the interpreter while a scan is timed (a 0.2 ms polling loop used to add 2–5 ms).

    Beside the wall time, the CPU time of the same span (``time.thread_time``): the app's event
    loop from the first key to the frame, plus the operation in its worker thread. On a machine
    others are loading, the wall time mostly measures them; the CPU time much less. Returns
    the wall times, the CPU times and the garbage collections that ran inside a timed scan
    (generation, ms).
    """
    import gc

    from packbench.app import PackbenchApp
    from tests.screens.helpers import burst, settle

    with db.read() as s:
        order = s.exec(select(Order).where(Order.status == "picked")).first()
        assert order is not None, "no picked order in the history file"
        line = s.exec(select(OrderLine).where(OrderLine.order_id == order.id)).first()
        assert line is not None
        packer = s.exec(select(Packer).where(Packer.role == "packer")).first()
        product = s.exec(select(Product).where(Product.sku == line.sku)).first()
    unit = (product.gtin if product is not None and product.gtin else None) or line.sku
    app = PackbenchApp(settings=settings.model_copy(update={"db": "x"}), db=db, terminal="bench")
    display = app._display
    waiting: dict[str, Any] = {}  # the scan being timed: feedback lines before it, its future
    collections: list[tuple[int, float]] = []

    def to_terminal(screen, update) -> None:  # type: ignore[no-untyped-def]
        display(screen, update)
        if update is not None and hasattr(update, "render_segments"):
            update.render_segments(app.console)
        shown = waiting.get("shown")
        if shown is not None and not shown.done() and len(app.feedback_log) > waiting["seen"]:
            shown.set_result((time.perf_counter(), time.thread_time()))
            # Collections from here on (the one held off during the scan runs right after its
            # frame: packbench.screens.collector) are not inside the scan's time.
            waiting["timing"] = False

    def collected(phase: str, info: dict[str, int]) -> None:
        if not waiting.get("timing"):
            return
        if phase == "start":
            waiting["gc"] = time.perf_counter()
        elif "gc" in waiting:
            collections.append(
                (info["generation"], (time.perf_counter() - waiting.pop("gc")) * 1000)
            )

    def timed_operation(process):  # type: ignore[no-untyped-def]
        def run(scan):  # type: ignore[no-untyped-def]  # in the scan worker's thread
            start = time.thread_time()
            try:
                return process(scan)
            finally:
                waiting["op_cpu"] = waiting.get("op_cpu", 0.0) + time.thread_time() - start

        return run

    app._display = to_terminal  # type: ignore[method-assign]
    times: dict[str, list[float]] = {"unit ticked": [], "undo": [], "wrong item refused": []}
    cpu: dict[str, list[float]] = {kind: [] for kind in times}
    prefix = settings.codes.command_prefix
    async with app.run_test(size=(140, 45)) as pilot:
        app.action_switch("pack")
        await settle(pilot)
        station = app.screen
        station.process_scan = timed_operation(station.process_scan)  # type: ignore[method-assign]
        gc.callbacks.append(collected)
        burst(app, packer.badge)
        await settle(pilot)
        burst(app, f"ORD-{order.number}")
        await settle(pilot)
        kinds = [
            ("unit ticked", unit),
            ("undo", f"{prefix}UNDO"),
            ("wrong item refused", "7071234999990"),
        ]
        for round_ in range(repeat):
            for kind, code in kinds:
                await settle(pilot)
                await asyncio.sleep(0.02)  # a packer's pace: nothing left over from before
                seen = len(app.feedback_log)
                future = asyncio.get_running_loop().create_future()
                counted = bool(round_ or repeat == 1)  # the first round warms caches
                waiting.update(seen=seen, shown=future, op_cpu=0.0, timing=counted)
                c0 = time.thread_time()
                t0 = time.perf_counter()
                burst(app, code)
                shown, c1 = await asyncio.wait_for(waiting["shown"], 10)
                waiting["timing"] = False
                ok = app.feedback_log[seen][0] != "error"
                assert ok == (kind != "wrong item refused"), (kind, app.feedback_log[seen])
                if counted:
                    times[kind].append((shown - t0) * 1000)
                    cpu[kind].append((c1 - c0 + waiting["op_cpu"]) * 1000)
        gc.callbacks.remove(collected)
    return times, cpu, collections


def _load() -> str:
    """The machine's load average (1, 5, 15 min): what the wall times were measured beside."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_scan(db: Database, settings: Settings, repeat: int) -> None:
    load = _load()
    times, cpu, collections = asyncio.run(_scan_to_screen(db, settings, repeat))
    record("load average before / after the scans", f"{load} / {_load()}")
    every = [t for kind in times.values() for t in kind]
    record("pack scan → screen (headless app, all)", summary(every), every)
    for kind, ms in times.items():
        record(f"pack scan → screen, {kind}", summary(ms), ms)
    every = [t for kind in cpu.values() for t in kind]
    record("  CPU time of it (app + operation), all", summary(every), every)
    for kind, ms in cpu.items():
        record(f"  CPU time of it, {kind}", summary(ms), ms)
    by_gen = {g: [ms for gen, ms in collections if gen == g] for g in (0, 1, 2)}
    record(
        "  garbage collections inside the scans",
        "   ".join(f"gen{g} {len(ms)}× ({sum(ms):.1f} ms)" for g, ms in by_gen.items())
        + f"   in {len(every)} scans",
    )


_START_PROBE = """
import asyncio, sys
from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.engine import create_database

db_path = sys.argv[1]
db = create_database(db_path)
app = PackbenchApp(settings=load_settings(None, db=db_path), db=db, terminal="start-probe")
shown = asyncio.Event()
display = app._display

def to_terminal(screen, update):
    display(screen, update)
    # The first frame of a station (its scan bar takes scans from here on), turned into the
    # terminal's bytes as a real terminal would.
    if update is not None and getattr(screen, "STATION", "") and not shown.is_set():
        update.render_segments(app.console)
        print("FRAME", flush=True)
        shown.set()

app._display = to_terminal

async def main():
    async with app.run_test(size=(140, 45)):
        await shown.wait()

asyncio.run(main())
"""


def _start_to_first_frame(db_path: Path) -> float:
    """A fresh interpreter: from starting it to the first frame of the station, in ms."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _START_PROBE, str(db_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "FRAME":
            elapsed = (time.perf_counter() - t0) * 1000
            break
    else:
        raise RuntimeError(f"the app never drew a frame (exit {proc.wait()})")
    proc.wait(timeout=60)
    return elapsed


def bench_start(db_path: Path, repeat: int) -> None:
    _start_to_first_frame(db_path)  # once to warm the page cache, as on a bench used daily
    times = [_start_to_first_frame(db_path) for _ in range(max(5, repeat // 3))]
    record("app start → first frame (fresh process)", summary(times), times)
    imports = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import packbench.app"], check=True)
        imports.append((time.perf_counter() - t0) * 1000)
    record("a fresh interpreter importing the app, then exiting", summary(imports), imports)


def bench_sync(db: Database, repeat: int, workdir: Path) -> None:
    from benchmarks.sync_pull import KEY, SECRET, start_shop
    from packbench.shop.sync import SyncEngine
    from packbench.shop.woocommerce import WooCommerceAdapter

    proc, url = start_shop(workdir / "shop.json", 72)
    try:
        adapter = WooCommerceAdapter(url, KEY, SECRET, timeout=60)
        engine = SyncEngine(db, adapter, holder="bench")
        engine.run_once()
        ms = timed(engine.run_once, repeat)
        record("incremental sync (nothing changed)", summary(ms), ms)
        adapter.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("history", type=Path)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", help="comma-separated: start,scan,dashboard,batch,admin,sync")
    args = parser.parse_args()
    # Set up as the app's command sets itself up: its objects on huge pages, where the
    # machine has them (packbench.heap; PACKBENCH_HUGE_PAGES=0 measures without).
    rerun_on_huge_pages()
    wanted = set((args.only or "start,scan,dashboard,batch,admin,sync").split(","))
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bench.db"
        shutil.copyfile(args.history, copy)
        # The copy (and history.py's file before it, some 650 MB each) written out now, not
        # by the kernel in the middle of the timed scans.
        os.sync()
        db = create_database(copy)
        settings = load_settings(None, db=str(copy))
        with db.read() as s:
            from sqlmodel import func

            n_orders = s.exec(select(func.count()).select_from(Order)).one()
            from packbench.data.models import Event

            n_events = s.exec(select(func.count()).select_from(Event)).one()
        record("history", f"{n_orders} orders, {n_events} events")
        if "start" in wanted:
            bench_start(copy, args.repeat)
        if "dashboard" in wanted:
            bench_dashboard(db, settings, args.repeat)
        if "admin" in wanted:
            bench_admin(db, args.repeat)
        if "scan" in wanted:
            bench_scan(db, settings, args.repeat)
        if "batch" in wanted:
            bench_batch(db, settings, args.repeat)
        if "sync" in wanted:
            bench_sync(db, args.repeat, Path(tmp))
        db.dispose()


if __name__ == "__main__":
    main()
