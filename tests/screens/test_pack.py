"""The pack station as a packer meets it: scanner bursts, refusals, a restart mid-order."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from textual.widgets import Static

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.engine import Database, create_database
from packbench.data.models import Order, OrderLine, Parcel
from tests.operations.seed import seed
from tests.operations.test_packstation import CUP, SOCKS, add_boxes, make_picked
from tests.screens.helpers import burst, scan, settle, text_of

SIZE = (150, 50)


def make_app(db: Database, terminal: str = "bench-1") -> PackbenchApp:
    settings = load_settings(None, db="unused.db", station="pack")
    return PackbenchApp(settings=settings, db=db, terminal=terminal)


@pytest.fixture
def bench(db: Database) -> tuple[Database, dict[str, int]]:
    ids = seed(db)
    add_boxes(db)
    make_picked(db, ids["first"])
    make_picked(db, ids["second"])
    return db, ids


def main_text(app: PackbenchApp) -> str:
    """The open order as shown, then the next-step line pinned above the scan bar."""
    panel = app.screen.query_one("#main")
    shown = [w for w in panel.query(Static) if w.display]
    return "".join(text_of(w) for w in [*shown, app.screen.query_one("#next-step", Static)])


def status_of(db: Database, order_id: int) -> str:
    with db.read() as s:
        return s.get(Order, order_id).status


async def test_a_full_order_with_scanner_bursts(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["second"]  # 1 socks + 1 fragile cup, with a customer note
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == "pack"
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and "Order 5002 claimed" in message
        text = main_text(app)
        assert "Customer note" in text and "Gaveinnpakning, takk!" in text
        assert "FRAGILE: Kaffekopp i steintøy" in text
        # The checklist names the GTIN the packer sees on the product, beside the SKU.
        assert "GTIN" in text and "7071234000015" in text and "7071234000022" in text
        assert "runner-up" in text or "Nothing holds it all" in text
        box = app.screen.view.suggestion.parcels[0].box
        # The rest of the order as one scanner burst after another, without waiting.
        expected = 180 + 350 + {"BOX-S": 140, "BOX-M": 260, "BAG-M": 25}[box]
        for code in (SOCKS, CUP, box, f"{expected}g"):
            burst(app, code)
        await settle(pilot)
        messages = [m for _, m in app.feedback_log]
        assert any("Order 5002 packed: 1 parcel" in m for m in messages), messages
        assert all(k == "ok" for k, _ in app.feedback_log[-4:])
        assert status_of(db, oid) == "packed"
        assert "Packed. The ship station takes it from here" in main_text(app)
        with db.read() as s:
            parcel = s.exec(select(Parcel).where(Parcel.order_id == oid)).one()
            assert (parcel.box_code, parcel.status, parcel.weight_g) == (box, "packed", expected)


async def test_a_refusal_rings_and_changes_nothing(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")  # two cups
        bells = app.bells
        await scan(pilot, SOCKS)  # socks belong to order 5002
        kind, message = app.feedback_log[-1]
        assert kind == "error" and "Wrong order" in message and "order 5002" in message
        assert app.bells == bells + 1
        await scan(pilot, "3*" + CUP)
        assert app.feedback_log[-1][0] == "error" and "Too many" in app.feedback_log[-1][1]
        with db.read() as s:
            lines = s.exec(select(OrderLine).where(OrderLine.order_id == ids["first"])).all()
            assert [ln.packed_qty for ln in lines] == [0]
        assert "0 of 2 units scanned" in main_text(app)


async def test_a_weight_warning_is_confirmed_with_f8(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")
        await scan(pilot, "2*" + CUP)
        await scan(pilot, "BOX-S")
        await scan(pilot, "2kg")
        kind, message = app.feedback_log[-1]
        assert kind == "error" and "Check parcel 1" in message
        assert "off by more than 10 %" in main_text(app)
        assert status_of(db, ids["first"]) == "packing"
        await pilot.press("f8")
        await settle(pilot)
        assert app.feedback_log[-1][0] == "ok" and "packed" in app.feedback_log[-1][1]
        assert status_of(db, ids["first"]) == "packed"


async def test_resume_after_the_app_restarts_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "bench.db"
    from packbench.data.migrate import upgrade

    db = create_database(path)
    upgrade(db)
    ids = seed(db)
    add_boxes(db)
    make_picked(db, ids["second"])
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")
        await scan(pilot, SOCKS)
        await scan(pilot, "BOX-M")
        before = main_text(app)
    db.dispose()
    # A new process: a new engine on the same file, a new app. Signing in brings the order back.
    again = create_database(path)
    try:
        app = make_app(again)
        async with app.run_test(size=SIZE) as pilot:
            await scan(pilot, "BDG-1001")
            await settle(pilot)
            assert app.screen.view is not None and app.screen.view.number == "5002"
            assert any("resumed: 1 of 2 units packed" in m for _, m in app.feedback_log)
            after = main_text(app)
            assert after == before
            await scan(pilot, CUP)
            await scan(pilot, "0.8kg")
            assert status_of(again, ids["second"]) == "packed"
    finally:
        again.dispose()


async def test_a_second_terminal_is_told_and_a_supervisor_takes_over(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    first = make_app(db, "bench-1")
    async with first.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")
        await scan(pilot, CUP)
    second = make_app(db, "bench-2")
    async with second.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1999")  # an inactive badge is refused; use the supervisor
        from tests.screens.helpers import sign_in_supervisor

        await sign_in_supervisor(pilot)
        await scan(pilot, "ORD-5002")  # the supervisor has an order of their own open
        assert second.screen.view.number == "5002" and second.screen.view.mine
        await scan(pilot, "ORD-5001")
        kind, message = second.feedback_log[-1]
        assert kind == "error" and "claimed by Kari Nordmann since" in message
        assert "CMD-CONFIRM" in message  # a supervisor may take it
        await scan(pilot, "CMD-CONFIRM")
        kind, message = second.feedback_log[-1]
        assert kind == "ok" and "taken over" in message
        assert second.screen.view.mine and second.screen.view.units_packed == 1
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "released" in second.feedback_log[-1][1]
    with db.read() as s:
        assert s.get(Order, ids["first"]).claimed_by is None
        # Taking 5001 over set 5002 aside: one open order per packer and terminal.
        assert s.get(Order, ids["second"]).claimed_by is None


async def test_a_supervisor_releases_the_order_just_refused_not_their_own(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    first = make_app(db, "bench-1")
    async with first.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")
    second = make_app(db, "bench-2")
    async with second.run_test(size=SIZE) as pilot:
        from tests.screens.helpers import sign_in_supervisor

        await sign_in_supervisor(pilot)
        await scan(pilot, "ORD-5002")
        await scan(pilot, "ORD-5001")
        assert second.feedback_log[-1][0] == "error"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "Order 5001 released" in second.feedback_log[-1][1]
    with db.read() as s:
        assert s.get(Order, ids["first"]).claimed_by is None
        assert s.get(Order, ids["second"]).claimed_by == 2  # the supervisor's own, kept


async def test_the_supervisor_sees_the_box_advisor_with_f10(demo_db: Database) -> None:
    from packbench.screens.box_advice import BoxAdvisorScreen
    from tests.screens.helpers import sign_in_supervisor

    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot, badge="BDG-1001")  # the demo's supervisor
        await pilot.press("f6")
        await settle(pilot)
        assert app.current_mode == "dashboard"
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, BoxAdvisorScreen)
        text = text_of(app.screen.query_one("#advice", Static))
        assert "3 standard boxes for" in text and "saved" in text
        await pilot.press("f8")
        await settle(pilot)
        text = text_of(app.screen.query_one("#advice", Static))
        assert "4 standard boxes for" in text
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, BoxAdvisorScreen)


async def test_ctrl_z_undoes_the_last_item_scan(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ids = bench
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")
        await scan(pilot, CUP)
        assert "1 of 2 units scanned" in main_text(app)
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert app.feedback_log[-1][0] == "ok" and "Undone" in app.feedback_log[-1][1]
        assert "0 of 2 units scanned" in main_text(app)


async def test_the_slip_and_the_whole_order_in_one_burst(bench) -> None:  # type: ignore[no-untyped-def]
    """The scan after a slip goes to that order even when nothing waited in between."""
    db, ids = bench
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")  # another order open first
        for code in ("ORD-5001", "2*" + CUP, "BOX-S", f"{2 * 350 + 140}g"):
            burst(app, code)
        await settle(pilot)
        kinds = [k for k, _ in app.feedback_log[-4:]]
        assert kinds == ["ok"] * 4, app.feedback_log[-4:]
        assert status_of(db, ids["first"]) == "packed"
        assert status_of(db, ids["second"]) == "packing"  # set aside, untouched
        assert "Order 5001" in main_text(app) and "Packed." in main_text(app)


async def test_on_a_narrow_screen_every_section_shows_all_of_its_text(bench) -> None:  # type: ignore[no-untyped-def]
    """The sections' heights are measured before drawing (no screen layout per scan): a wrapped
    line must neither be cut off nor leave a blank line under it."""
    from rich.text import Text
    from textual.geometry import Region

    db, _ = bench
    app = make_app(db)
    async with app.run_test(size=(64, 60)) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")
        wrapped = 0
        for code in (SOCKS, "BOX-S", "999g"):  # the weight is off: the warning wraps too
            await scan(pilot, code)
            panel = app.screen.query_one("#main")
            checked = 0
            pinned = app.screen.query_one("#next-step", Static)  # measured the same way
            for widget in [*panel.query(Static), pinned]:
                if not widget.display or not isinstance(widget.content, Text):
                    continue
                width, height = widget.region.size
                lines = [s.text.rstrip() for s in widget.render_lines(Region(0, 0, width, height))]
                assert lines and lines[-1], (widget.id, lines)  # no blank line left under it
                if widget.id in ("pack-check", "pack-parcels"):  # tables: a row a line, cut short
                    rows = widget.content.plain.split("\n")
                    assert len(lines) == len(rows), (widget.id, lines)
                    for line, row in zip(lines, rows, strict=True):
                        assert row.startswith(line.rstrip("…").rstrip()), (widget.id, line, row)
                else:
                    painted = " ".join(" ".join(lines).split())
                    assert painted == " ".join(widget.content.plain.split()), widget.id
                checked += 1
            assert checked >= 4  # the head, the units, the parcels and more, and the next step
            wrapped = max(wrapped, pinned.region.height)
        assert wrapped > 1  # a long next step wrapped, and all of it was painted
        assert any(
            w.id == "pack-warning" and w.region.height > 1 for w in panel.query(Static) if w.display
        )


async def test_the_next_step_asks_for_the_rest_before_the_box(bench) -> None:  # type: ignore[no-untyped-def]
    """Half an order in the parcel: the packer is told what is left, not sent for the box."""
    db, _ = bench
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")  # two cups
        nxt = app.screen.query_one("#next-step", Static)
        await scan(pilot, CUP)
        assert "remaining items (1 left)" in text_of(nxt) and "any time" in text_of(nxt)
        await scan(pilot, CUP)
        assert text_of(nxt).startswith("Scan the box or bag code for parcel 1")
        await scan(pilot, "BOX-S")
        assert text_of(nxt).startswith("Weigh parcel 1")


async def test_pack_and_ship_at_one_bench(bench, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``[pack] ship_when_packed`` with ``[ship] complete_on_label``: the weight that packs the
    order also books it, prints its label here and completes it — no ship station, no key."""
    from packbench.printing.folder import folder_queue

    db, ids = bench
    oid = ids["second"]
    with db.write() as s:  # shipped by a mapped method (Posten Norgespakke, the built-in S10)
        row = s.get(Order, oid)
        assert row is not None
        row.shipping_method_id = "flat_rate:3"
        s.add(row)
    labels = tmp_path / "labels"
    labels.mkdir()
    base = load_settings(None, db="unused.db", station="pack")
    settings = base.model_copy(
        update={
            "pack": base.pack.model_copy(update={"ship_when_packed": True}),
            "ship": base.ship.model_copy(update={"complete_on_label": True}),
            "printers": base.printers.model_copy(update={"label": folder_queue(labels)}),
        }
    )
    app = PackbenchApp(settings=settings, db=db, terminal="bench-1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")
        box = app.screen.view.suggestion.parcels[0].box
        expected = 180 + 350 + {"BOX-S": 140, "BOX-M": 260, "BAG-M": 25}[box]
        for code in (SOCKS, CUP, box, f"{expected}g"):
            burst(app, code)
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "ok", message
        assert "Order 5002 packed" in message and "shipped with" in message
        assert "transaction completed" in message
    with db.read() as s:
        order = s.get(Order, oid)
        assert order is not None and order.status == "shipped" and order.completed_at
        parcel = s.exec(select(Parcel).where(Parcel.order_id == oid)).one()
        assert parcel.tracking_number and parcel.label_printed_at
    assert [p.suffix for p in labels.iterdir()] == [".pdf"]


@pytest.mark.parametrize(("size", "side"), [((80, 24), False), ((120, 36), True)])
async def test_below_100_columns_the_order_panel_gives_its_width_to_the_order(
    bench, size: tuple[int, int], side: bool
) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    app = make_app(db)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")
        panel = app.screen.query_one(".station-side")
        main = app.screen.query_one(".station-main")
        assert panel.display is side
        if not side:
            assert main.size.width >= size[0] - 2  # the lines and the next step get it all
        text = main_text(app)
        assert "Checklist" in text and "Kaffekopp i steintøy" in text
        # Resized back past 100 columns, the panel returns.
        await pilot.resize_terminal(140, 40)
        await settle(pilot)
        assert panel.display is True


async def test_no_expected_weight_before_an_item_or_a_box(bench) -> None:  # type: ignore[no-untyped-def]
    """An empty parcel with no box yet expects nothing: the row said "Expected 0.01 kg"."""
    db, _ = bench
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")
        parcels = text_of(app.screen.query_one("#pack-parcels", Static))
        row = parcels.splitlines()[2].split()
        assert row[:6] == ["▶", "1", "—", "—", "—", "open"], parcels
        await scan(pilot, SOCKS)
        parcels = text_of(app.screen.query_one("#pack-parcels", Static))
        row = parcels.splitlines()[2].split()
        low, _, high = row[3].partition("–")  # the socks: the band the weight must fall in
        assert row[2] == "—" and row[4] == "kg" and 0 < float(low) <= float(high), parcels


async def test_the_box_panel_says_which_weight_is_the_box_and_which_the_parcel(bench) -> None:  # type: ignore[no-untyped-def]
    """It said "≈ 0.26 kg" with no word of what weighs that: the box's tare and the parcel's
    expected weight (items + tare) are each named; a plan stored before the tare was kept
    names the parcel's alone."""
    import json

    from packbench.data.models import PackPlan

    db, ids = bench
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")  # socks 180 g + cup 350 g
        box = app.screen.view.suggestion.parcels[0].box
        tare = {"BOX-S": 140, "BOX-M": 260, "BAG-M": 25}[box]
        kind = "bag" if box.startswith("BAG") else "box"
        panel = text_of(app.screen.query_one("#pack-box", Static))
        assert f"{kind} {tare / 1000:.2f} kg, parcel ≈ {(530 + tare) / 1000:.2f} kg" in panel, panel
        with db.write() as s:  # the plan as an older version stored it: no tare
            plan = s.exec(select(PackPlan).where(PackPlan.order_id == ids["second"])).one()
            doc = json.loads(plan.suggestion)
            for p in doc["parcels"]:
                del p["tare_g"]
            plan.suggestion = json.dumps(doc)
            s.add(plan)
        await scan(pilot, "ORD-5002")
        panel = text_of(app.screen.query_one("#pack-box", Static))
        said = [line.strip("│ ") for line in panel.splitlines()]
        assert f"parcel ≈ {(530 + tare) / 1000:.2f} kg" in said and " kg, parcel" not in panel


async def test_a_unit_scanned_redraws_its_checklist_row_in_place(bench) -> None:  # type: ignore[no-untyped-def]
    """The checklist's row of the item scanned shows the new count and its tick; the title,
    the header and the other rows are not drawn again."""
    from textual.geometry import Region

    from packbench.screens.widgets.table_lines import TableLines

    db, _ = bench
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")
        check = app.screen.query_one("#pack-check", TableLines)

        def painted() -> list[str]:
            width, height = check.region.size
            return [s.text.rstrip() for s in check.render_lines(Region(0, 0, width, height))]

        before = painted()
        row = next(i for i, line in enumerate(before) if SOCKS in line)
        assert before[row].split()[:3] == ["☐", "1", "0"], before
        drawn = check.lines_drawn
        await scan(pilot, SOCKS)
        after = painted()
        assert after[row].split()[:3] == ["✔", "1", "1"], after
        assert [line for i, line in enumerate(after) if i != row] == [
            line for i, line in enumerate(before) if i != row
        ]
        assert check.lines_drawn - drawn == 1  # that row only
        # The undo takes it back, in place too.
        await scan(pilot, "CMD-UNDO")
        assert painted() == before
        assert check.lines_drawn - drawn == 2


async def test_the_objects_built_to_start_are_kept_out_of_the_collector(bench) -> None:  # type: ignore[no-untyped-def]
    """Once the station has drawn its first frame, what the start built is frozen: a full
    garbage collection in the middle of a scan no longer walks all of it."""
    import gc

    from packbench.screens import base

    db, _ = bench
    gc.unfreeze()
    base._frozen = False
    assert gc.get_freeze_count() == 0
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        frozen = gc.get_freeze_count()
        assert frozen > 10_000, frozen  # the modules, the app, the station
        await scan(pilot, "BDG-1001")
        assert gc.get_freeze_count() <= frozen  # once per process (some have been freed since)


async def test_keys_handed_to_the_scan_bar_keep_their_order(bench) -> None:  # type: ignore[no-untyped-def]
    """The app hands a scan's characters and Enter to the scan bar directly: a person's
    editing keys among typed characters still act where they were pressed, and scanner bursts
    sent back to back stay apart and in order."""
    from textual import events

    db, _ = bench
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        scanned: list[str] = []
        process = app.screen.process_scan

        def recording(scan):  # type: ignore[no-untyped-def]
            scanned.append(scan.code)
            return process(scan)

        app.screen.process_scan = recording  # type: ignore[method-assign]
        # "123", the cursor left of the 3, "9" typed there, deleted again, "4" typed there.
        await pilot.press("1", "2", "3", "left", "9", "backspace", "4", "enter")
        await settle(pilot)
        burst(app, "BDG-1001")
        burst(app, "ORD-5002")
        for key, character in [("7", "7"), ("minus", "-"), ("enter", "\r")]:
            app.post_message(events.Key(key, character))
        await settle(pilot)
        assert scanned == ["1243", "BDG-1001", "ORD-5002", "7-"], scanned
        assert app.screen.scanbar.text == ""
