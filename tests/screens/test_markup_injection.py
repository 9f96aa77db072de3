"""Outside text is shown exactly as it is: never read as markup, never an action, never an escape.

Customer names, addresses and notes, product names and SKUs come from the shop; codes from the
scanner; names, reasons and queue names from people; error messages quote all of these. Handed
to Textual or Rich as a plain ``str`` they would be parsed as markup: ``[/x]`` raised
``MarkupError`` and stopped the app, ``[@click=app.quit]Q[/]`` became a clickable action that
quits it, ``:smile:`` turned into an emoji. Here the demo bench gets hostile text in every such
field and is walked through every station and dialog, with hostile codes scanned at each; the
app must keep running and show every string literally.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, OptionList, Static

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.engine import Database
from packbench.data.models import (
    Event,
    Order,
    OrderLine,
    OutboxItem,
    Packer,
    PrintJob,
    Product,
    SyncState,
)
from packbench.data.types import utcnow
from tests.screens.helpers import burst, scan, settle, text_of

SIZE = (200, 60)

CLOSE = "[/x]"  # a closing tag that matches nothing: MarkupError, the app stopped
CLICK = "[@click=app.quit]Q[/]"  # an action: a click on the "Q" would have quit the app
LINK = "[link=http://evil.example]L[/link]"  # a hyperlink to somewhere else
BOLD = "[bold red]B"  # an unclosed style
EMOJI = ":smile:"  # an emoji code (DataTable cells replaced it)
ESC = "\x1b[31m"  # a terminal escape sequence: must never reach the terminal
ESC_SHOWN = "\\x1b[31m"  # how it is shown instead

#: What a scanner can send (an ESC is no key a scanner types).
HOSTILE_CODES = (CLOSE, CLICK, LINK, BOLD, EMOJI, "[$x]", "\\[b]", "[/]")

PACKER_BADGE, SUPERVISOR_BADGE, PIN = "BDG-1002", "BDG-1001", "2468"
PACKER_NAME = f"{CLICK} {EMOJI}"
SUPERVISOR_NAME = f"{CLOSE}Ingrid{BOLD}"
TERMINAL = "[/term]"
CUSTOMER = f"{CLICK}{EMOJI}"
CITY = f"{CLOSE}{ESC}"
CITY_SHOWN = f"{CLOSE}{ESC_SHOWN}"
NOTE = f"{CLOSE} {CLICK}\n{LINK} {BOLD} {EMOJI} {ESC}"
HOLD = f"{LINK} {CLOSE}"
FLAG = f"shop changed it {CLOSE}{CLICK}"
METHOD = f"{BOLD} {CLOSE}"
SHOP_ERROR = f"HTTP 500 {CLOSE} {CLICK}"


def hostile_sku(sku: str) -> str:
    return f"{sku}{CLOSE}"


def hostile_name(name: str) -> str:
    return f"{CLICK}{EMOJI} {name[:20]}"


def make_hostile(db: Database) -> dict[str, str]:
    """Overwrite the demo's outside text with hostile strings; the order numbers to work on."""
    found: dict[str, str] = {}

    def run(s: Session) -> None:
        for order in s.exec(select(Order)).all():
            order.ship_name = CUSTOMER
            order.bill_name = CUSTOMER
            order.ship_company = EMOJI
            order.ship_address1 = LINK
            order.ship_address2 = BOLD
            order.ship_city = CITY
            order.shipping_method_title = METHOD
            order.payment_method = CLOSE
            order.customer_note = NOTE
            if order.hold_reason:
                order.hold_reason = HOLD
            s.add(order)
        for product in s.exec(select(Product)).all():
            product.name = hostile_name(product.name)
            product.sku = hostile_sku(product.sku)
            s.add(product)
        for line in s.exec(select(OrderLine)).all():
            line.name = hostile_name(line.name)
            line.sku = hostile_sku(line.sku)
            s.add(line)
        for packer in s.exec(select(Packer)).all():
            if packer.badge == PACKER_BADGE:
                packer.name = PACKER_NAME
            elif packer.badge == SUPERVISOR_BADGE:
                packer.name = SUPERVISOR_NAME
            s.add(packer)
        orders = {
            status: s.exec(
                select(Order).where(Order.status == status).order_by(col(Order.id))
            ).first()
            for status in ("new", "on_hold", "picked", "packed", "shipped")
        }
        assert all(orders.values()), orders
        flagged = orders["new"]
        assert flagged is not None and orders["on_hold"] is not None
        flagged.upstream_flag = FLAG
        s.add(flagged)
        s.add(
            Event(
                order_id=orders["on_hold"].id,
                station="admin",
                terminal=TERMINAL,
                kind="scan",
                code=CLICK,
                result="refused",
                message=CLOSE,
                data=json.dumps({"note": LINK, "emoji": EMOJI}),
            )
        )
        s.add(PrintJob(kind="slip", ref=CLICK, printer=CLOSE, status="failed", error=LINK))
        s.add(
            OutboxItem(
                order_id=orders["packed"].id,  # type: ignore[union-attr]
                kind="note",
                idempotency_key="hostile-1",
                status="parked",
                attempts=5,
                last_error=f"{CLOSE} {CLICK} {EMOJI}",
            )
        )
        s.add(SyncState(key="sync.last_error", value=SHOP_ERROR))
        s.add(SyncState(key="sync.last_error_at", value=utcnow().isoformat()))
        for status, order in orders.items():
            assert order is not None
            found[status] = order.number

    db.transact(run)
    return found


@pytest.fixture
def hostile(demo_db: Database) -> tuple[Database, dict[str, str]]:
    return demo_db, make_hostile(demo_db)


def make_app(db: Database, station: str = "admin") -> PackbenchApp:
    return PackbenchApp(
        settings=load_settings(None, db="unused.db", station=station), db=db, terminal=TERMINAL
    )


# -- what is on screen ---------------------------------------------------------------------


def painted(widget: Widget) -> str:
    """What a widget draws now, as text, after checking that no cell carries an action, a link
    or a raw control character (every cell of every line, as the terminal would get it)."""
    width, height = widget.region.size
    strips = widget.render_lines(Region(0, 0, width, height))
    for strip in strips:
        for segment in strip:
            style = segment.style
            assert "\x1b" not in segment.text, (widget, segment.text)
            if style is None:
                continue
            assert style.link is None, (widget, segment.text, style.link)
            assert not any(key.startswith("@") for key in style.meta), (widget, style.meta)
    return "\n".join(strip.text for strip in strips)


def screen_text(app: PackbenchApp, skip: Iterable[str] = ()) -> str:
    """Everything the current screen's content widgets draw (each checked by ``painted``)."""
    parts = []
    for widget in app.screen.query("Static, DataTable, OptionList"):
        if widget.display and widget.region.area and not any(widget.match(s) for s in skip):
            parts.append(painted(widget))
    return "\n".join(parts)


def flat(text: str) -> str:
    """Whitespace folded: a long line may wrap in a narrow widget."""
    return " ".join(text.split())


def feedback_shown(app: PackbenchApp) -> str:
    return flat(painted(app.screen.query_one("#feedback", Static)))


def assert_running(app: PackbenchApp) -> None:
    assert app.is_running and app.return_code is None, app.return_code
    assert app._exception is None, app._exception


async def scan_hostile(pilot: Pilot) -> None:
    """Every hostile code at the station that is open: refused or not, shown as it is."""
    app: PackbenchApp = pilot.app  # type: ignore[assignment]
    for code in HOSTILE_CODES:
        await scan(pilot, code)
        assert_running(app)
        _kind, message = app.feedback_log[-1]
        assert code in message, (code, message)
        assert flat(message) in feedback_shown(app), (code, message)


def assert_shown(text: str, *expected: str) -> None:
    folded = flat(text)
    for value in expected:
        assert flat(value) in folded, (value, folded[:2000])
    assert "😄" not in folded  # no emoji code was replaced


async def sign_in(pilot: Pilot, badge: str = PACKER_BADGE) -> None:
    app: PackbenchApp = pilot.app  # type: ignore[assignment]
    await scan(pilot, badge)
    assert_running(app)


async def sign_in_supervisor(pilot: Pilot) -> None:
    from packbench.screens.dialogs import AskPin

    app: PackbenchApp = pilot.app  # type: ignore[assignment]
    await scan(pilot, SUPERVISOR_BADGE)
    assert isinstance(app.screen, AskPin)
    assert_shown(screen_text(app), f"{SUPERVISOR_NAME}: your PIN")
    await pilot.press(*PIN, "enter")
    await settle(pilot)
    assert app.actor.is_supervisor
    assert app.feedback_log[-1] == ("ok", f"{SUPERVISOR_NAME}: supervisor rights.")


# -- the stations --------------------------------------------------------------------------


async def test_admin_list_detail_search_and_header(hostile) -> None:  # type: ignore[no-untyped-def]
    from packbench.screens.widgets.order_panel import OrderPanel

    db, numbers = hostile
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert_running(app)
        table = app.screen.query_one("#orders", DataTable)
        assert table.row_count > 50
        # The list: the customer column shows the name as it is, emoji code and all. (The
        # table sizes its columns to the rows on an idle tick: on a busy machine that may come
        # after the rows, so the painting is read again for up to 5 s.)
        for _ in range(100):
            if flat(CUSTOMER) in flat(painted(table)):
                break
            await pilot.pause(0.05)
        assert_shown(painted(table), CUSTOMER)
        row = table.get_row_at(0)
        assert row[3].plain == CUSTOMER and row[4].plain == CITY_SHOWN
        assert row[6].plain == METHOD
        app._poll_sync_health()  # the header's shop line, once more after the sync gave up
        await settle(pilot)
        header = screen_text(app)
        assert_shown(header, f"terminal {TERMINAL}", f"sync failed: {SHOP_ERROR}")
        # Scans before anyone signed in, then the badge of a person with a hostile name.
        await scan_hostile(pilot)
        await sign_in(pilot)
        assert app.feedback_log[-1] == ("ok", f"Hello, {PACKER_NAME}.")
        assert_shown(painted(app.screen.query_one("#feedback")), f"Hello, {PACKER_NAME}.")
        assert_shown(painted(app.screen.query_one("StationHeader")), PACKER_NAME)
        await scan_hostile(pilot)
        # The search box: what a person types is quoted in the counts line.
        search = app.screen.query_one("#search", Input)
        search.value = CLOSE
        await settle(pilot)
        counts = app.screen.query_one("#counts", Static)
        painted(counts)  # one line, cut short on screen: the whole of it below
        assert_shown(text_of(counts), f"for “{CLOSE}”")
        assert table.row_count > 50  # every city holds it
        search.value = ""
        await settle(pilot)
        # The detail of the held order: address, note, hold reason, lines with names and SKUs.
        await scan(pilot, f"ORD-{numbers['on_hold']}")
        assert_running(app)
        panel = app.screen.query_one(OrderPanel)
        assert panel.detail is not None and panel.detail.summary.number == numbers["on_hold"]
        shown = painted(panel)
        assert_shown(shown, CUSTOMER, EMOJI, LINK, BOLD, CLOSE, ESC_SHOWN, METHOD)
        assert_shown(shown, f"On hold: {HOLD}", CLICK, f"{CLOSE} {CLICK}")
        line = panel.detail.lines[0]
        assert_shown(shown, line.sku, line.name[:20])
        assert_shown(screen_text(app), "Waiting for packing slips")
        # The slip queue line names an order number from the shop; the list keeps working.
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert_running(app)
        assert_shown(painted(table), CUSTOMER)


async def test_admin_dialogs_history_and_print_history(hostile) -> None:  # type: ignore[no-untyped-def]
    from packbench.screens.audit import AuditTrail
    from packbench.screens.dialogs import AskReason, ChoosePacker, TestScan
    from packbench.screens.print_history import ChooseQueue, PrintHistoryScreen

    db, numbers = hostile
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Sign in by name: the list of people shows every name as it is.
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, ChoosePacker)
        assert_shown(screen_text(app), PACKER_NAME, SUPERVISOR_NAME)
        await pilot.press("escape")
        await settle(pilot)
        # The supervisor's PIN dialog names them; the flag decision quotes the shop's flag.
        await sign_in_supervisor(pilot)
        await scan(pilot, f"ORD-{numbers['new']}")
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, AskReason)
        assert_shown(screen_text(app), f"Order {numbers['new']}: {FLAG}. Decision?")
        await pilot.press(*"ok", "enter")
        await settle(pilot)
        assert_running(app)
        # The audit trail: who, terminal, the code scanned, the message and its details.
        await scan(pilot, f"ORD-{numbers['on_hold']}")
        await pilot.press("f12")
        await settle(pilot)
        assert isinstance(app.screen, AuditTrail)
        table = app.screen.query_one(DataTable)
        assert table.row_count > 1
        history = screen_text(app)
        assert_shown(history, TERMINAL, CLICK, CLOSE)
        cells = [cell.plain for row in range(table.row_count) for cell in table.get_row_at(row)]
        assert f"{CLOSE}  emoji={EMOJI}  note={LINK}" in cells
        assert PACKER_NAME in cells or SUPERVISOR_NAME in cells
        # An order reference typed into the history: quoted in the refusal, not parsed.
        ref = app.screen.query_one("#audit-ref", Input)
        ref.value = CLICK
        await pilot.press("enter")
        await settle(pilot)
        assert_running(app)
        assert app.feedback_log[-1] == ("error", f"No order matches “{CLICK}”.")
        assert_shown(painted(app.screen.query_one("#audit-title")), f"“{CLICK}”")
        await pilot.press("escape")
        await settle(pilot)
        # Print history: what, printer and why, as they were recorded; and the reprint dialog.
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, PrintHistoryScreen)
        assert_shown(screen_text(app), CLICK, CLOSE, LINK)
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ChooseQueue)
        assert_shown(screen_text(app), f"(slip {CLICK})")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        # The test-scan view: each character of a hostile code, one by one.
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, TestScan)
        await scan(pilot, CLICK)
        result = painted(app.screen.query_one("#testscan-result"))
        assert "LEFT SQUARE BRACKET" in result and "COMMERCIAL AT" in result
        await pilot.press("escape")
        await settle(pilot)
        assert_running(app)


async def test_pick_station(hostile) -> None:  # type: ignore[no-untyped-def]
    from packbench.screens.dialogs import AskReason

    db, _numbers = hostile
    app = make_app(db, "pick")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await sign_in(pilot)
        await pilot.press("f9")
        await settle(pilot)
        assert_running(app)
        view = app.screen.pick_list
        assert view is not None and view.current is not None
        item = next(i for i in view.current.items if i.left > 0)
        assert_shown(screen_text(app), item.name, item.sku, CLICK, EMOJI)
        assert view.upcoming  # the "Then" table: names as they are
        assert_shown(painted(app.screen.query_one("#pick-next")), CLICK, EMOJI)
        await scan_hostile(pilot)
        await scan(pilot, item.gtin or "")
        assert_running(app)
        assert flat(app.feedback_log[-1][1]) in feedback_shown(app)
        # A quantity typed by a person is quoted when refused.
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, AskReason)
        await pilot.press(*"[/x]", "enter")
        await settle(pilot)
        assert app.feedback_log[-1] == ("error", f"“{CLOSE}” is not a quantity (1–999).")
        assert CLOSE in feedback_shown(app)
        assert_running(app)


async def test_pack_station(hostile) -> None:  # type: ignore[no-untyped-def]
    from packbench.screens.widgets.order_panel import OrderPanel

    db, numbers = hostile
    app = make_app(db, "pack")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await sign_in(pilot)
        await scan(pilot, f"ORD-{numbers['picked']}")
        assert_running(app)
        view = app.screen.view
        assert view is not None and view.mine, app.feedback_log[-3:]
        side = painted(app.screen.query_one(OrderPanel))
        assert_shown(side, CUSTOMER, LINK, BOLD, ESC_SHOWN, f"{CLOSE} {CLICK}")
        # The pack panel draws Text it builds itself (never parsed); the shop adapter keeps
        # control characters out of what it shows.
        main = " ".join(text_of(w) for w in app.screen.query("PackPanel Static") if w.display)
        assert_shown(main, CUSTOMER, f"{CLOSE} {CLICK}", f"{LINK} {BOLD} {EMOJI}")
        assert_shown(main, view.lines[0].sku, view.lines[0].name[:20])
        await scan_hostile(pilot)
        assert app.screen.view is not None and app.screen.view.order_id == view.order_id
        line = view.lines[0]
        await scan(pilot, line.gtin or "")
        assert_running(app)
        assert app.feedback_log[-1][0] == "ok", app.feedback_log[-1]
        assert flat(app.feedback_log[-1][1]) in feedback_shown(app)
        await scan_hostile(pilot)


async def test_ship_and_post_stations(hostile, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PACKBENCH_PRINTERS__LABEL", "GONE")  # never waits on a real printer
    db, numbers = hostile
    app = make_app(db, "ship")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await sign_in(pilot)
        await scan_hostile(pilot)
        await scan(pilot, f"ORD-{numbers['packed']}")
        assert_running(app)
        assert flat(app.feedback_log[-1][1]) in feedback_shown(app)
        assert app.screen.view is not None, app.feedback_log[-3:]
        assert_shown(painted(app.screen.query_one("#main")), f"To: {CUSTOMER}", CITY_SHOWN)
        assert_shown(screen_text(app), CUSTOMER, LINK, f"{CLOSE} {CLICK}")
        await scan_hostile(pilot)
        await pilot.press("f10")  # cancel the shipment: a reason typed by a person
        await settle(pilot)
        await pilot.press(*"[/x]", "enter")
        await settle(pilot)
        assert_running(app)

        await pilot.press("f5")
        await settle(pilot)
        assert app.current_mode == "post"
        waiting = painted(app.screen.query_one("#waiting"))
        assert_shown(waiting, CITY_SHOWN)
        await scan_hostile(pilot)
        assert_running(app)


async def test_dashboard(hostile) -> None:  # type: ignore[no-untyped-def]
    from packbench.screens.audit import AuditTrail
    from packbench.screens.dialogs import AssignStation

    db, numbers = hostile
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await sign_in_supervisor(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert app.current_mode == "dashboard"
        screen = app.screen
        assert_shown(painted(screen.query_one("#team")), SUPERVISOR_NAME)
        exceptions = painted(screen.query_one("#exceptions", DataTable))
        assert_shown(exceptions, HOLD, f"{CLOSE} {CLICK} {EMOJI}")
        assert_shown(painted(screen.query_one("#shortages")), "Shortages from short picks", CLOSE)
        assert_shown(painted(screen.query_one("#states")), numbers["new"])
        await scan_hostile(pilot)
        # Assign a person with a hostile name to a station.
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, AssignStation)
        people = app.screen.query_one("#assign-people", OptionList)
        assert_shown(painted(people), PACKER_NAME, SUPERVISOR_NAME)
        index = next(
            i
            for i in range(people.option_count)
            if str(people.get_option_at_index(i).prompt) == PACKER_NAME
        )
        people.highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        assert_shown(painted(app.screen.query_one("#assign-title")), f"{PACKER_NAME} works at")
        await pilot.press("down", "enter")  # pick
        await settle(pilot)
        assert app.feedback_log[-1] == ("ok", f"{PACKER_NAME}: pick today.")
        assert_shown(painted(app.screen.query_one("#team")), PACKER_NAME)
        # The history of a scanned order opens over the dashboard.
        await scan(pilot, f"ORD-{numbers['shipped']}")
        assert isinstance(app.screen, AuditTrail)
        assert_shown(screen_text(app), TERMINAL)
        await pilot.press("escape")
        await settle(pilot)
        assert_running(app)


async def test_an_error_shown_as_a_notification_is_not_parsed(hostile) -> None:  # type: ignore[no-untyped-def]
    """Feedback while a dialog without a feedback line is on top is a notification."""
    db, _numbers = hostile
    app = make_app(db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        app.feedback("error", f"{CLOSE} {CLICK} {LINK}")
        await settle(pilot)
        assert_running(app)
        toasts = app.screen.query("Toast")
        assert len(toasts) == 1
        assert_shown(painted(toasts.first()), CLOSE, CLICK, LINK)


# -- random text at a station --------------------------------------------------------------

FUZZ = settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

markupish = st.text(alphabet="[]/@=:#$\\'\"().,abx19 -", min_size=1, max_size=24).map(str.strip)


@FUZZ
@given(
    station=st.sampled_from(["admin", "pick", "pack", "ship", "post"]),
    codes=st.lists(markupish.filter(bool), min_size=1, max_size=6),
)
async def test_random_text_scanned_at_a_station_is_shown_as_it_is(  # type: ignore[no-untyped-def]
    demo_db, station: str, codes: list[str]
) -> None:
    app = make_app(demo_db, station)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for code in codes:
            burst(app, code)
            await settle(pilot)
            assert_running(app)
            _kind, message = app.feedback_log[-1]
            assert code in message, (code, message)
            assert flat(message) in feedback_shown(app), (code, message)
