"""Admin: F11 prints (or prints again) the chosen order's slip; Ctrl+S lets a supervisor mark it
printed when no printer works (#16's dead ends). The printer is a real folder queue."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.engine import Database
from packbench.data.models import Event, Order, PrintJob
from packbench.printing.folder import folder_queue
from tests.operations.seed import seed
from tests.screens.helpers import scan, settle, sign_in_supervisor

SIZE = (120, 40)


def make_app(db: Database, queue: str) -> PackbenchApp:
    settings = load_settings(None, db="unused.db", station="admin")
    printers = settings.printers.model_copy(update={"slip": queue})
    settings = settings.model_copy(update={"printers": printers})
    return PackbenchApp(settings=settings, db=db, terminal="term-1")


def statuses(db: Database) -> dict[str, str]:
    with db.read() as s:
        return {o.number: o.status for o in s.exec(select(Order)).all()}


async def wait_for(pilot, app: PackbenchApp, *starts: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    for _ in range(100):
        await settle(pilot)
        if app.feedback_log[-1][1].startswith(starts):
            break
    return app.feedback_log[-1]


async def test_f11_prints_the_chosen_orders_slip_and_again(db: Database, tmp_path: Path) -> None:
    seed(db)
    folder = tmp_path / "printed"
    folder.mkdir()
    app = make_app(db, folder_queue(folder))
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")
        await pilot.press("f11")
        kind, message = await wait_for(pilot, app, "Slip of order", "Order 5002")
        assert kind == "ok" and message.startswith(
            f"Slip of order 5002 printed: Slip printed on folder:{folder} (1 order)"
        ), message
        assert statuses(db) == {"5001": "new", "5002": "slip_printed", "5003": "new"}
        await pilot.press("f11")  # the slip was lost: print it again
        kind, message = await wait_for(pilot, app, "Slip of order 5002 printed again")
        assert kind == "ok", message
        assert message.startswith("Slip of order 5002 printed again (the order is slip printed)")
    assert len(list(folder.iterdir())) == 2
    assert statuses(db)["5002"] == "slip_printed"


async def test_with_no_printer_a_supervisor_marks_the_slip_printed(
    db: Database, tmp_path: Path
) -> None:
    seed(db)
    app = make_app(db, folder_queue(tmp_path / "no-such-folder"))
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")  # a packer
        await scan(pilot, "ORD-5001")
        await pilot.press("f11")
        kind, message = await wait_for(pilot, app, "Order 5001: Not printed")
        assert kind == "error" and "cannot write into" in message, message
        await pilot.press("ctrl+s")
        kind, message = app.feedback_log[-1]
        assert kind == "error" and message.startswith("Only a supervisor marks a slip printed")
        await pilot.press("ctrl+o")
        await settle(pilot)
        await sign_in_supervisor(pilot)  # badge, then PIN
        await scan(pilot, "ORD-5001")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")  # changed their mind: nothing happens
        await settle(pilot)
        assert statuses(db)["5001"] == "new"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press(*"printer broken; slip written by hand", "enter")
        await settle(pilot)
        assert app.feedback_log[-1] == ("ok", "1 slip marked printed (5001).")
    assert statuses(db) == {"5001": "slip_printed", "5002": "new", "5003": "new"}
    with db.read() as s:
        jobs = {j.status for j in s.exec(select(PrintJob)).all()}
        event = s.exec(select(Event).where(Event.kind == "print", Event.result == "ok")).one()
    assert jobs == {"failed", "marked"}
    assert (event.packer_id, event.station, event.terminal) == (2, "admin", "term-1")
    assert "printer broken; slip written by hand" in event.message


async def test_f9_a_supervisor_marks_a_failed_slip_job_printed(
    db: Database, tmp_path: Path
) -> None:
    from packbench.screens.print_history import PrintHistoryScreen

    seed(db)
    app = make_app(db, folder_queue(tmp_path / "no-such-folder"))
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await pilot.press("f7")  # every new slip: the folder is not there, nothing prints
        kind, message = await wait_for(pilot, app, "Not printed")
        assert kind == "error", message
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, PrintHistoryScreen)
        await pilot.press("ctrl+s")
        assert app.feedback_log[-1][1].startswith("Only a supervisor marks slips printed")
        await pilot.press("escape")
        await pilot.press("ctrl+o")
        await settle(pilot)
        await sign_in_supervisor(pilot)
        await pilot.press("f9")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press(*"CUPS is not installed here", "enter")
        await settle(pilot)
        assert app.feedback_log[-1] == ("ok", "3 slips marked printed (5001, 5002, 5003).")
        assert [j.status for j in app.screen.jobs] == ["marked", "failed"]
    assert set(statuses(db).values()) == {"slip_printed"}
