"""Every station at 80×24, 100×30 and 160×50: what the person needs is on the screen.

The demo bench (a real SQLite or PostgreSQL copy of the demo data) taken through a day's work
by scans and keys, as in tests/test_end_to_end.py, printing into a folder. At each station, in
a realistic state, the terminal's picture is read back as text (what the compositor paints, the
way a screenshot is taken) and the essential lines are looked for in it: the next-step line
pinned above the scan bar, the scan bar, the stop's SKU and GTIN and the progress, the
checklist and the parcels, each SSCC with all 18 digits and each tracking number whole.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import col, select

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.engine import Database
from packbench.data.models import Order, Parcel
from packbench.operations.pack_state import pack_view
from packbench.operations.pack_views import PackRules
from packbench.operations.pick_views import PickRules, current_batch
from packbench.printing.folder import folder_queue
from packbench.screens.widgets.next_step import NextStep
from packbench.screens.widgets.scanbar import ScanBar
from tests.screens.helpers import scan, settle, sign_in_supervisor

SIZES = [(80, 24), (100, 30), (160, 50)]


def painted(app: PackbenchApp) -> list[str]:
    """The terminal's lines as the person sees them (the screen drawn as a screenshot is)."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, color_system=None
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    lines = console.export_text().split("\n")
    assert len(lines) >= height
    return lines[:height]


def flat(text: str) -> str:
    return " ".join(text.split())


def on_screen(app: PackbenchApp, *needles: str) -> list[str]:
    """Each of ``needles`` is on screen: on one line, or (a full-width line that wrapped)
    over consecutive lines. Returns the screen's lines for further looks."""
    lines = painted(app)
    whole = flat(" ".join(lines))
    missing = [n for n in needles if not any(n in line for line in lines) and flat(n) not in whole]
    assert not missing, f"not on the {app.size} screen: {missing}\n" + "\n".join(lines)
    return lines


def pinned_step(app: PackbenchApp, *words: str) -> None:
    """The next-step line says ``words``, sits right above the scan bar, and both are on
    screen in full (none of it scrolled away or below the bottom edge)."""
    step = app.screen.query_one("#next-step", NextStep)
    bar = app.screen.query_one(ScanBar)
    height = app.size.height
    assert step.display and step.region.height >= 1
    assert step.region.bottom == bar.region.y, (step.region, bar.region)
    assert bar.region.bottom <= height and step.region.y > 1
    for word in words:
        assert word in step.text, (word, step.text)
    on_screen(app, step.text, "Scan or type a code")


def sscc_of(db: Database, order_id: int) -> list[tuple[str, str]]:
    with db.read() as s:
        rows = s.exec(
            select(Parcel.sscc, Parcel.tracking_number).where(
                Parcel.order_id == order_id, Parcel.status != "void"
            )
        ).all()
    return [(sscc or "", tracking or "") for sscc, tracking in rows]


@pytest.fixture
def bench(demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    printed = tmp_path / "printed"
    printed.mkdir()
    for document in ("SLIP", "LABEL", "MANIFEST"):
        monkeypatch.setenv(f"PACKBENCH_PRINTERS__{document}", folder_queue(printed))
    return demo_db


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_every_station_shows_what_the_person_needs(
    bench: Database, size: tuple[int, int]
) -> None:
    db = bench
    settings = load_settings(None, db="unused.db", station="admin")
    app = PackbenchApp(settings=settings, db=db, terminal="bench-1")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        # Signed out, every station says how to sign in, just above the scan bar.
        pinned_step(app, "Scan your badge")
        await scan(pilot, "BDG-1002")

        # ① Admin: an order open beside the list; the slips waiting are the next step.
        with db.read() as s:
            new = s.exec(
                select(Order.number).where(Order.status == "new").order_by(col(Order.id))
            ).first()
        await scan(pilot, f"ORD-{new}")
        pinned_step(app, "F7 prints the", "new orders' slips")
        on_screen(app, f"Order {new}", "Waiting for packing slips")

        # ② Pick: the next batch, one item picked: the stop, its SKU and GTIN, the progress,
        # the stops to come with their items named, and what to do now.
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        rules = PickRules()
        view = current_batch(db, app.actor, app.layout, rules)
        assert view is not None and view.current is not None and view.upcoming
        first = next(i for i in view.current.items if i.left > 0)
        await scan(pilot, first.gtin or first.sku)
        view = current_batch(db, app.actor, app.layout, rules)
        assert view is not None and view.current is not None
        stop = view.current
        item = next(i for i in stop.items if i.left > 0)
        done = view.units_total - view.units_left
        assert done >= 1
        on_screen(
            app,
            f"{stop.location}: aisle",
            f"SKU {item.sku}",
            f"GTIN {item.gtin}",
            f"stop {len(view.stops) - view.stops_left + 1} of {len(view.stops)}",
            f"units {done}/{view.units_total}",
            "Then",
        )
        # The "Then" table's item column is not squeezed to nothing: the next item's name
        # shows at least its first ten characters.
        then = next(i for i in view.upcoming[0].items if i.left > 0)
        on_screen(app, view.upcoming[0].location, then.name[:10])
        pinned_step(app, f"Take {item.left} × {item.sku} from {stop.location}")
        batch_orders = [t.order_id for t in view.totes]
        for _ in range(60):  # the rest of the batch, stop by stop
            view = current_batch(db, app.actor, app.layout, rules)
            if view is None or view.current is None:
                break
            for i in view.current.items:
                for _ in range(i.left):
                    await scan(pilot, i.gtin or i.sku)
        pinned_step(app, "F9 takes the next batch")

        # ③ Pack: the batch's order with the most lines, half packed, then boxed: the
        # checklist, the parcels and the box and weight prompt are all on screen.
        await pilot.press("f3")
        await settle(pilot)
        packable = [pack_view(db, app.actor, PackRules(), oid) for oid in batch_orders]
        order = max(
            (v for v in packable if v is not None and v.status == "picked"),
            key=lambda v: len(v.lines),
        )
        await scan(pilot, f"ORD-{order.number}")
        line = order.lines[0]
        await scan(pilot, line.gtin or line.sku)
        packed = pack_view(db, app.actor, PackRules(), order.order_id)
        assert packed is not None and packed.mine
        on_screen(
            app,
            f"Order {order.number}",
            *(ln.sku for ln in order.lines),
            f"1 of {packed.units_total} units scanned",
            "Parcels",
            f"1× {line.sku}",
        )
        if packed.units_total > 1:
            pinned_step(app, "Scan the remaining items")
        for ln in packed.lines:
            for _ in range(ln.quantity - ln.packed):
                await scan(pilot, ln.gtin or ln.sku)
        assert packed.suggestion is not None
        box = packed.suggestion.parcels[0].box
        await scan(pilot, box)
        packed = pack_view(db, app.actor, PackRules(), order.order_id)
        assert packed is not None and packed.current is not None
        on_screen(app, "Parcels", "Expected", box, f"{packed.units_total} of")
        pinned_step(app, "Weigh parcel 1")
        await scan(pilot, f"{packed.current.expected_weight_g}g")
        pinned_step(app, "Packed.")

        # ④ Ship: the slip books it and prints its label; every SSCC whole (18 digits).
        await pilot.press("f4")
        await settle(pilot)
        await scan(pilot, f"ORD-{order.number}")
        assert app.feedback_log[-1][0] == "ok", app.feedback_log[-1]
        parcels = sscc_of(db, order.order_id)
        assert parcels and all(len(sscc) == 18 for sscc, _ in parcels)
        on_screen(app, f"Order {order.number} — shipped", "Parcels", "SSCC")
        on_screen(app, *(sscc for sscc, _ in parcels), *(t for _, t in parcels))
        pinned_step(app, "complete the transaction with F7")
        await scan(pilot, "CMD-COMPLETE")
        pinned_step(app, "scan the next packed order's slip")

        # ⑤ Post: its parcel into the cage; the cage and the next step pinned, SSCCs whole.
        await pilot.press("f5")
        await settle(pilot)
        sscc, tracking = parcels[0]
        await scan(pilot, sscc)
        assert app.feedback_log[-1][0] == "ok", app.feedback_log[-1]
        pinned_step(app, "in the cage", "F7 closes the handover")
        lines = on_screen(app, sscc, tracking)
        assert any(sscc in ln and tracking in ln for ln in lines)  # on its parcel's row

        # ⑥ Dashboard: a supervisor; the scan bar and its next step stay on screen.
        await sign_in_supervisor(pilot, badge="BDG-1001")
        await pilot.press("f6")
        await settle(pilot)
        assert app.current_mode == "dashboard"
        pinned_step(app, "Scan an order's slip")
        on_screen(app, "Supervisor dashboard")


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_the_dashboard_reads_whole_at_every_size(
    db: Database, tmp_path: Path, size: tuple[int, int]
) -> None:
    """The supervisor's dashboard with holds, a failed print (a long path for its error), a
    shortage and a day's packing: what needs the supervisor on the first screen, nothing wider
    than the terminal (at 80 columns the exceptions grew a sideways scroll bar and the team's
    names were cut), the pace chart whole once scrolled to, every name whole."""
    from textual.containers import VerticalScroll
    from textual.widgets import DataTable

    from tests.screens.test_dashboard_layout import bench as dashboard_bench
    from tests.screens.test_dashboard_layout import make_app

    bench = dashboard_bench.__wrapped__(db, tmp_path)  # type: ignore[attr-defined]
    app = make_app(bench)
    async with app.run_test(size=size) as pilot:
        await sign_in_supervisor(pilot)
        await settle(pilot)
        await pilot.pause(0.2)  # the exceptions' rows came: their height laid out again
        screen = app.screen
        scroll = screen.query_one("#dash-scroll", VerticalScroll)
        table = screen.query_one("#exceptions", DataTable)
        assert scroll.max_scroll_x == 0 and table.max_scroll_x == 0, (
            scroll.virtual_size, scroll.size, table.virtual_size, table.size
        )  # fmt: skip
        hold = next(e for e in screen.exceptions if e.kind == "hold")
        lines = on_screen(
            app,
            "Needs a supervisor: 2",
            "On hold",
            "slip 5001, 5002",
            f"▶ 5003: {hold.detail}",  # the chosen exception's details whole
            "Waiting (people there):",
            "Shortages from short picks: 1",
            "FJ-TX-0002",
        )
        assert all(len(line.rstrip()) <= size[0] for line in lines)
        # ↓ chooses the failed print: its details whole, however long the path.
        await pilot.press("down")
        await settle(pilot)
        printed = next(e for e in screen.exceptions if e.kind == "print")
        # A path folds where it must; the scroll bar's thumb beside it is not part of it.
        thumb = re.compile("[\u2580-\u259f]")
        squeezed = thumb.sub("", "".join("".join(painted(app)).split()))
        assert "".join(f"▶ slip 5001, 5002: {printed.detail}".split()) in squeezed
        # The pace chart fits the terminal's width and, scrolled to, its height.
        pace = screen.query_one("#pace")
        assert pace.region.width <= size[0] and pace.virtual_size.width <= pace.region.width
        assert pace.region.height <= scroll.region.height
        scroll.scroll_to_widget(pace, top=True, animate=False, immediate=True)
        await settle(pilot)
        on_screen(app, "Orders packed per hour", "hour", "packed", "/h needed", "Cut-off")
        # The team at the end: each name whole, on one line with its figures.
        scroll.scroll_end(animate=False, immediate=True)
        await settle(pilot)
        lines = on_screen(app, "The team today", "Kari Nordmann", "Ola Sjef ★")
        assert any("Kari Nordmann" in line and "pick" in line for line in lines)
