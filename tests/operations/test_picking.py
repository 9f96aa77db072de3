"""Picking operations on a real SQLite file: batches, refusals that change nothing, short
picks, and resuming from the database alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from packbench.config import BUNDLED_LAYOUT
from packbench.core.codes import DEFAULT_RULES
from packbench.core.routing import load_layout, shortest_route
from packbench.core.workflow import Action
from packbench.data.engine import Database, create_database
from packbench.data.models import Event, Order, OrderLine, PickTask
from packbench.operations.common import Actor, Refused, change_status
from packbench.operations.intake import clear_flag
from packbench.operations.pick_start import next_batch, start_from_slip
from packbench.operations.pick_views import PickRules, current_batch, list_shortages
from packbench.operations.picking import pick_scan, short_pick
from packbench.operations.supervisor import release_hold
from tests.operations.seed import seed

LAYOUT = load_layout(BUNDLED_LAYOUT)
KJ = "7071234000015"  # Kaffekopp, A-01-1
TX = "7071234000022"  # Ullsokker, C-07-2
DEFAULT = PickRules()
PICKER = Actor("pick", "term-1", 1, "Kari Nordmann", "packer")


@pytest.fixture
def bench(db: Database) -> Database:
    seed(db)
    system = Actor("admin", "seed")

    def print_all(session) -> None:  # type: ignore[no-untyped-def]
        for order in session.exec(select(Order).order_by(Order.id)).all():
            change_status(session, order, Action.PRINT_SLIP, system)

    db.transact(print_all)
    return db


def scan(db: Database, code: str, rules: PickRules = DEFAULT, actor: Actor = PICKER):  # type: ignore[no-untyped-def]
    outcome = pick_scan(db, actor, code, DEFAULT_RULES, LAYOUT, rules)
    assert outcome is not None, code
    return outcome


def status(db: Database, number: str) -> str:
    with db.read() as s:
        order = s.exec(select(Order).where(Order.number == number)).one()
        return order.status


def snapshot(db: Database) -> list[tuple]:
    """Everything but the event log, to show a refusal changed nothing."""
    with db.engine.connect() as conn:
        out = []
        for table in ("orders", "order_line", "pick_batch", "pick_batch_order", "pick_task"):
            rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            out += [(table, *row) for row in rows]
        return out


def refusals(db: Database) -> list[str]:
    with db.read() as s:
        return [e.message for e in s.exec(select(Event).where(Event.result == "refused")).all()]


def test_next_batch_picks_every_order_in_walking_order_and_marks_them_picked(bench) -> None:  # type: ignore[no-untyped-def]
    out = next_batch(bench, PICKER, LAYOUT, PickRules())
    view = out.pick_list
    assert view is not None
    assert [t.order_number for t in view.totes] == ["5001", "5002", "5003"]
    assert [t.tote for t in view.totes] == [1, 2, 3]
    assert [s.location for s in view.stops] == ["A-01-1", "C-07-2"]
    # one stop per location, each knowing which tote gets how many
    assert [(i.tote, i.quantity) for i in view.stops[0].items] == [(1, 2), (2, 1)]
    assert [(i.tote, i.quantity) for i in view.stops[1].items] == [(2, 1), (3, 3)]
    expected = shortest_route(LAYOUT, ["A-01-1", "C-07-2"]).distance_m
    assert view.distance_m == pytest.approx(expected)
    assert view.metres_left == pytest.approx(expected)
    assert status(bench, "5001") == "picking"

    first = scan(bench, KJ)
    assert first.ok and "1 → tote 1" in first.message
    # standing at A-01-1 (something picked there): the walk to it is behind the picker
    assert first.pick_list.metres_left == pytest.approx(expected - 0.5)
    second = scan(bench, f"2*{KJ}")
    assert second.ok and "1 → tote 1" in second.message and "1 → tote 2" in second.message
    after_first_stop = second.pick_list
    assert after_first_stop is not None and after_first_stop.current.location == "C-07-2"
    # the rest of the round trip from A-01-1: over to C-07-2 and back to the depot
    assert after_first_stop.metres_left == pytest.approx(expected - 0.5)
    assert scan(bench, "FJ-TX-0002").ok  # a SKU counts as well as a GTIN
    last = scan(bench, f"3*{TX}")
    assert last.ok and last.finished and "Batch" in last.message
    assert [status(bench, n) for n in ("5001", "5002", "5003")] == ["picked"] * 3
    with bench.read() as s:
        assert {(ln.quantity, ln.picked_qty) for ln in s.exec(select(OrderLine)).all()} == {
            (2, 2),
            (1, 1),
            (3, 3),
        }
    assert current_batch(bench, PICKER, LAYOUT, PickRules()) is None


def test_an_order_the_shop_changed_mid_batch_is_held_with_its_tote_not_picked(bench) -> None:  # type: ignore[no-untyped-def]
    next_batch(bench, PICKER, LAYOUT, PickRules())
    scan(bench, f"3*{KJ}")  # totes 1 and 2 get theirs at A-01-1

    def cancelled_in_the_shop(session) -> None:  # type: ignore[no-untyped-def]
        order = session.exec(select(Order).where(Order.number == "5002")).one()
        order.upstream_flag = "cancelled in the shop"  # what intake sets on a sync mid-work
        session.add(order)

    bench.transact(cancelled_in_the_shop)
    scan(bench, TX)  # tote 2's sock is picked all the same: the goods are in its tote
    last = scan(bench, f"3*{TX}")
    assert last.ok and last.finished
    assert "Picked: 5001, 5003." in last.message
    assert "5002 (on hold: cancelled in the shop; keep tote 2 apart)" in last.message
    assert [status(bench, n) for n in ("5001", "5002", "5003")] == ["picked", "on_hold", "picked"]
    with bench.read() as s:
        held = s.exec(select(Order).where(Order.number == "5002")).one()
        assert held.held_from == "picking"
        assert held.hold_reason == "cancelled in the shop while being picked: keep tote 2 apart"
    # The supervisor decides to send it after all: cleared, released, its slip scanned again.
    boss = Actor("admin", "t", 2, "Ola Sjef", "supervisor")
    with bench.read() as s:
        held_id = s.exec(select(Order.id).where(Order.number == "5002")).one()
    clear_flag(bench, boss, held_id, "customer called: send it after all")
    release_hold(bench, boss, held_id, "flag decided")
    assert status(bench, "5002") == "picking"
    out = scan(bench, "ORD-5002")  # everything is in its tote already: nothing left to walk for
    assert out.ok and status(bench, "5002") == "picked", out.message


def test_batch_size_limits_the_batch_and_the_next_batch_takes_the_rest(bench) -> None:  # type: ignore[no-untyped-def]
    out = next_batch(bench, PICKER, LAYOUT, PickRules(batch_size=2))
    assert [t.order_number for t in out.pick_list.totes] == ["5001", "5002"]
    other = Actor("pick", "term-2", 2, "Ola Sjef", "supervisor")
    out2 = next_batch(bench, other, LAYOUT, PickRules(batch_size=2))
    assert [t.order_number for t in out2.pick_list.totes] == ["5003"]
    with pytest.raises(Refused, match="No orders are waiting"):
        next_batch(bench, Actor("pick", "t3", 3, "Gone", "packer"), LAYOUT, PickRules())
    with pytest.raises(Refused, match="Finish batch"):
        next_batch(bench, PICKER, LAYOUT, PickRules())


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (TX, "Wrong item: “7071234000022” is Ullsokker 3-pk, for a later stop (C-07-2)"),
        ("C-07-2", "Wrong location: “C-07-2” scanned; this stop is A-01-1."),
        ("Q-01-1", "“Q-01-1” is no location in this warehouse"),
        (f"4*{KJ}", "Too many: 4 × Kaffekopp i steintøy scanned but only 3 still needed"),
        ("7070000000006", "No product has GTIN 7070000000006."),
    ],
)
def test_wrong_item_location_or_too_many_is_refused_and_changes_nothing(
    bench, code: str, words: str
) -> None:  # type: ignore[no-untyped-def]
    next_batch(bench, PICKER, LAYOUT, PickRules())
    before = snapshot(bench)
    out = scan(bench, code)
    assert not out.ok and words in out.message
    assert snapshot(bench) == before
    assert refusals(bench)[-1] == out.message  # logged all the same


def test_one_unit_too_many_is_refused(bench) -> None:  # type: ignore[no-untyped-def]
    start_from_slip(bench, PICKER, LAYOUT, PickRules(), "5002", "ORD-5002")
    assert scan(bench, KJ).ok  # stop 1 done: A-01-1 has 1 for this order
    # back at the now-finished product of the previous stop: not on the current stop
    out = scan(bench, KJ)
    assert not out.ok and "Wrong item" in out.message
    before = snapshot(bench)
    scan(bench, TX)  # the last unit: the order is picked
    assert status(bench, "5002") == "picked"
    out = scan(bench, TX)
    assert not out.ok and "No pick in progress" in out.message
    assert snapshot(bench) != before


def test_one_too_many_at_the_current_stop(bench) -> None:  # type: ignore[no-untyped-def]
    start_from_slip(bench, PICKER, LAYOUT, PickRules(), "5003", "ORD-5003")
    assert scan(bench, f"2*{TX}").ok
    before = snapshot(bench)
    out = scan(bench, f"2*{TX}")
    assert not out.ok and "only 1 still needed" in out.message
    assert snapshot(bench) == before


def test_location_scan_required_first_when_configured(bench) -> None:  # type: ignore[no-untyped-def]
    rules = PickRules(require_location_scan=True)
    next_batch(bench, PICKER, LAYOUT, rules)
    before = snapshot(bench)
    out = scan(bench, KJ, rules)
    assert not out.ok and out.message.startswith("Scan the location label A-01-1 first")
    assert snapshot(bench) == before
    assert scan(bench, "A-01-1", rules).ok
    assert scan(bench, f"3*{KJ}", rules).ok
    out = scan(bench, TX, rules)  # a new stop needs its own label
    assert not out.ok and "C-07-2 first" in out.message
    assert scan(bench, "c-07-2", rules).ok  # labels are read case-insensitively


def test_short_pick_puts_the_order_on_hold_and_lists_the_shortage(bench) -> None:  # type: ignore[no-untyped-def]
    next_batch(bench, PICKER, LAYOUT, PickRules())
    scan(bench, f"3*{KJ}")
    scan(bench, TX)  # tote 2 gets its one
    scan(bench, TX)  # tote 3 gets one of three; the shelf is then empty
    out = scan(bench, "CMD-SHORT")
    assert out.ok and out.finished
    assert "tote 3: found 1 of 3" in out.message and "On hold: order 5003" in out.message
    assert [status(bench, n) for n in ("5001", "5002", "5003")] == ["picked", "picked", "on_hold"]
    with bench.read() as s:
        held = s.exec(select(Order).where(Order.number == "5003")).one()
        assert held.hold_reason == "short pick: 2 × Ullsokker 3-pk (FJ-TX-0002) at C-07-2, found 1"
        assert held.held_from == "picking"
    shortages = list_shortages(bench)
    assert [(x.order_number, x.sku, x.picked, x.short, x.location) for x in shortages] == [
        ("5003", "FJ-TX-0002", 1, 2, "C-07-2")
    ]


def test_short_pick_partial_lets_the_order_go_on(bench) -> None:  # type: ignore[no-untyped-def]
    rules = PickRules(short_pick="partial")
    start_from_slip(bench, PICKER, LAYOUT, rules, "5002", "ORD-5002")
    out = short_pick(bench, PICKER, LAYOUT, rules)  # A-01-1 is empty
    assert out.ok and not out.finished and status(bench, "5002") == "picking"
    out = scan(bench, TX, rules)
    assert out.finished and status(bench, "5002") == "picked"
    assert [(x.order_number, x.short) for x in list_shortages(bench)] == [("5002", 1)]
    with bench.read() as s:
        logged = s.exec(select(Event).where(Event.kind == "short_pick")).all()
        assert [(e.order_id, e.message, e.code) for e in logged] == [
            (
                2,
                "short pick: 1 × Kaffekopp i steintøy (FJ-KJ-0001) at A-01-1, found 0",
                "short pick key",
            )
        ]


def test_nothing_found_at_all_holds_even_when_partial_is_allowed(bench) -> None:  # type: ignore[no-untyped-def]
    rules = PickRules(short_pick="partial")
    start_from_slip(bench, PICKER, LAYOUT, rules, "5001", "ORD-5001")
    out = short_pick(bench, PICKER, LAYOUT, rules)
    assert out.finished and status(bench, "5001") == "on_hold"


def test_a_released_order_is_picked_again_for_what_it_lacks(bench) -> None:  # type: ignore[no-untyped-def]
    start_from_slip(bench, PICKER, LAYOUT, PickRules(), "5003", "ORD-5003")
    scan(bench, TX)
    short_pick(bench, PICKER, LAYOUT, PickRules())
    assert status(bench, "5003") == "on_hold"
    boss = Actor("admin", "t", 2, "Ola Sjef", "supervisor")

    def release(session) -> None:  # type: ignore[no-untyped-def]
        order = session.exec(select(Order).where(Order.number == "5003")).one()
        change_status(session, order, Action.RELEASE, boss)

    bench.transact(release)
    out = scan(bench, "ORD-5003")
    assert out.ok and out.pick_list.units_total == 2
    assert list_shortages(bench) == []  # being picked again
    assert scan(bench, f"2*{TX}").finished
    assert status(bench, "5003") == "picked"


def test_slip_refusals(bench) -> None:  # type: ignore[no-untyped-def]
    out = scan(bench, "ORD-5001")
    assert out.ok and "tote 1" in out.message
    again = scan(bench, "ORD-5001")
    assert again.ok and "is in tote 1" in again.message
    full = scan(bench, "ORD-5002", rules=PickRules(batch_size=1))  # room: it joins (test_pick_add)
    assert not full.ok and full.message.startswith(
        "Order 5002 was not added: batch 1 is full (1 order, the most a batch holds). "
        "Finish batch 1 first"
    ), full.message
    other = Actor("pick", "term-2", 2, "Ola Sjef", "supervisor")
    taken = scan(bench, "ORD-5001", actor=other)
    assert not taken.ok and "being picked in batch 1 by Kari Nordmann at terminal term-1" in (
        taken.message
    )
    assert not scan(bench, "ORD-99999", actor=other).ok


def test_an_order_without_a_printed_slip_or_location_is_refused(db: Database) -> None:
    seed(db)
    out = pick_scan(db, PICKER, "ORD-5001", DEFAULT_RULES, LAYOUT, PickRules())
    assert out is not None and not out.ok
    assert out.message == "Order 5001 is new; only an order with a printed slip is picked."
    with db.write() as s:
        s.exec(text("UPDATE product SET location = NULL WHERE sku = 'FJ-KJ-0001'"))  # type: ignore[call-overload]
        for order in s.exec(select(Order)).all():
            change_status(s, order, Action.PRINT_SLIP, Actor("admin", "t"))
    out = pick_scan(db, PICKER, "ORD-5001", DEFAULT_RULES, LAYOUT, PickRules())
    assert out is not None and not out.ok
    assert "Kaffekopp i steintøy (FJ-KJ-0001) has no shelf location" in out.message
    out = next_batch(db, PICKER, LAYOUT, PickRules())
    assert [t.order_number for t in out.pick_list.totes] == ["5003"]
    assert "Skipped: 5001" in out.message and "5002" in out.message


def test_not_signed_in_leaves_the_scan_to_the_common_handler(bench) -> None:  # type: ignore[no-untyped-def]
    nobody = Actor("pick", "term-1")
    assert pick_scan(bench, nobody, KJ, DEFAULT_RULES, LAYOUT, PickRules()) is None


def test_progress_survives_closing_and_reopening_the_database(tmp_path: Path, bench) -> None:  # type: ignore[no-untyped-def]
    next_batch(bench, PICKER, LAYOUT, PickRules())
    scan(bench, f"2*{KJ}")
    url = bench.engine.url.render_as_string(hide_password=False)
    bench.dispose()
    reopened = create_database(url)
    try:
        view = current_batch(reopened, PICKER, LAYOUT, PickRules())
        assert view is not None and view.current.location == "A-01-1"
        assert [(i.tote, i.picked, i.left) for i in view.current.items] == [(1, 2, 0), (2, 0, 1)]
        assert view.units_left == 5
        out = pick_scan(reopened, PICKER, KJ, DEFAULT_RULES, LAYOUT, PickRules())
        assert out is not None and "1 → tote 2" in out.message
        with reopened.read() as s:
            tasks = s.exec(select(PickTask).order_by(PickTask.id)).all()
            assert [(t.seq, t.tote, t.picked) for t in tasks] == [
                (1, 1, 2),
                (2, 2, 0),
                (1, 2, 1),
                (2, 3, 0),
            ]
    finally:
        reopened.dispose()


def test_two_pickers_taking_batches_at_once_never_share_an_order(bench) -> None:  # type: ignore[no-untyped-def]
    import threading

    pickers = [Actor("pick", f"term-{n}", n, f"P{n}", "packer") for n in (1, 2)]
    results: dict[int, object] = {}
    start = threading.Barrier(2)

    def take(actor: Actor) -> None:
        start.wait()
        try:
            results[actor.packer_id or 0] = next_batch(bench, actor, LAYOUT, PickRules(2))
        except Refused as exc:
            results[actor.packer_id or 0] = exc

    threads = [threading.Thread(target=take, args=(a,)) for a in pickers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = [
        t.order_number
        for r in results.values()
        if not isinstance(r, Refused)
        for t in r.pick_list.totes  # type: ignore[attr-defined]
    ]
    assert sorted(taken) == ["5001", "5002", "5003"]
    with bench.read() as s:
        rows = s.exec(text("SELECT order_id, COUNT(*) FROM pick_batch_order GROUP BY order_id"))  # type: ignore[call-overload]
        assert all(n == 1 for _, n in rows)


_ACTIONS = [KJ, TX, "FJ-KJ-0001", f"2*{KJ}", f"3*{TX}", "A-01-1", "C-07-2", "CMD-SHORT"]


@pytest.mark.parametrize("mode", ["hold", "partial"])
def test_random_scan_sequences_keep_the_books_straight(  # type: ignore[no-untyped-def]
    tmp_path_factory, _empty_template, mode: str
) -> None:
    """Whatever a picker scans, in any order: a refusal changes nothing, no line is picked
    beyond its quantity, the tasks and the order lines agree, and a finished batch leaves no
    order picking."""
    import shutil

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.lists(st.sampled_from(_ACTIONS), min_size=1, max_size=14),
        st.booleans(),
    )
    def run(codes: list[str], strict: bool) -> None:
        rules = PickRules(require_location_scan=strict, short_pick=mode)  # type: ignore[arg-type]
        path = tmp_path_factory.mktemp("prop") / "p.db"
        shutil.copyfile(_empty_template, path)  # a migrated database, as the db fixture's
        db = create_database(path)
        try:
            seed(db)

            def print_all(session) -> None:  # type: ignore[no-untyped-def]
                for order in session.exec(select(Order)).all():
                    change_status(session, order, Action.PRINT_SLIP, Actor("admin", "seed"))

            db.transact(print_all)
            next_batch(db, PICKER, LAYOUT, rules)
            finished = False
            for code in codes:
                before = snapshot(db)
                out = pick_scan(db, PICKER, code, DEFAULT_RULES, LAYOUT, rules)
                assert out is not None
                if not out.ok:
                    assert snapshot(db) == before, (code, out.message)
                finished = finished or out.finished
            with db.read() as s:
                tasks = s.exec(select(PickTask)).all()
                lines = {ln.id: ln for ln in s.exec(select(OrderLine)).all()}
                for t in tasks:
                    assert t.picked >= 0 and t.short >= 0 and t.picked + t.short <= t.quantity
                for line_id, line in lines.items():
                    mine = [t for t in tasks if t.order_line_id == line_id]
                    assert line.picked_qty == sum(t.picked for t in mine) <= line.quantity
                    assert line.short_qty == sum(t.short for t in mine)
                orders = s.exec(select(Order)).all()
                if finished:
                    assert all(o.status in ("picked", "on_hold") for o in orders)
                    for o in orders:
                        short = sum(ln.short_qty for ln in lines.values() if ln.order_id == o.id)
                        if short and mode == "hold":
                            assert o.status == "on_hold"
                else:
                    assert current_batch(db, PICKER, LAYOUT, rules) is not None
        finally:
            db.dispose()

    run()


def test_slotting_report_walks_a_batch_as_one_pick_list(bench) -> None:  # type: ignore[no-untyped-def]
    from packbench.operations.slotting import slotting_report

    out = next_batch(bench, PICKER, LAYOUT, PickRules())
    planned = out.pick_list.distance_m
    for code in (f"3*{KJ}", f"4*{TX}"):
        scan(bench, code)
    assert current_batch(bench, PICKER, LAYOUT, PickRules()) is None
    report = slotting_report(bench, LAYOUT, days=36500)
    advice = report.advice
    assert (advice.orders, advice.pick_lists) == (3, 1)
    assert advice.walked_m == pytest.approx(planned)
    assert [(b.sku, b.picks, b.units) for b in advice.best_sellers] == [
        ("FJ-TX-0002", 2, 4),  # as many picks: more units first
        ("FJ-KJ-0001", 2, 3),
    ]
    assert [(p.sku_a, p.sku_b, p.together) for p in advice.pairs] == []  # together only once
    assert report.to_json()["pick_lists"] == 1 and "Best sellers" in report.as_text()
