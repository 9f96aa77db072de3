"""The dashboard's figures and the roster, against a seeded bench with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from packbench.config import DaySettings
from packbench.core.workflow import Action
from packbench.data.engine import Database
from packbench.data.models import Event, Order, OutboxItem, Packer, PrintJob
from packbench.operations.common import Actor, NotAllowed, Refused, change_status, record_event
from packbench.operations.supervisor import bench_figures, exceptions, release_hold
from packbench.operations.team import assign_station, roster
from tests.operations.seed import seed

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 13:00 in Oslo; cut-off 14:00, shift ends 16:00
DAY = DaySettings()


def at(h: int, m: int) -> datetime:
    return datetime(2026, 11, 20, h, m, tzinfo=UTC)


@pytest.fixture
def bench(db: Database) -> dict[str, object]:
    ids = seed(db)
    with db.read() as s:
        kari = s.exec(select(Packer).where(Packer.badge == "BDG-1001")).one()
        ola = s.exec(select(Packer).where(Packer.badge == "BDG-1004")).one()
    k = Actor("admin", "t1", kari.id, kari.name, kari.role)
    o = Actor("ship", "t2", ola.id, ola.name, ola.role)

    def move(order_id: int, steps: list[tuple[Action, Actor, datetime]]) -> None:
        with db.write() as s:
            order = s.get(Order, order_id)
            for action, actor, when in steps:
                change_status(s, order, action, actor, at=when)

    move(
        ids["first"],
        [
            (Action.PRINT_SLIP, k, at(10, 0)),
            (Action.START_PICK, k.at_station("pick"), at(11, 0)),
            (Action.FINISH_PICK, k.at_station("pick"), at(11, 20)),
        ],
    )
    with db.write() as s:  # Kari opens the second order at the pack station at 11:30
        record_event(
            s, k.at_station("pack"), "scan", order_id=ids["second"], code="ORD-5002", at=at(11, 30)
        )
        record_event(
            s, k.at_station("pack"), "scan", code="7000000000000", result="refused", at=at(11, 31)
        )
    move(
        ids["second"],
        [
            (Action.PRINT_SLIP, k, at(10, 0)),
            (Action.START_PICK, k.at_station("pick"), at(10, 30)),
            (Action.FINISH_PICK, k.at_station("pick"), at(10, 50)),
            (Action.START_PACK, k.at_station("pack"), at(11, 30)),
            (Action.FINISH_PACK, k.at_station("pack"), at(11, 40)),
            (Action.SHIP, o, at(11, 50)),
        ],
    )
    with db.write() as s:
        order = s.get(Order, ids["third"])
        change_status(s, order, Action.HOLD, k, reason="short pick: 1 of 3", at=at(10, 5))
        s.add(
            OutboxItem(
                order_id=ids["first"],
                kind="note",
                idempotency_key="n1",
                status="parked",
                last_error="400 bad note",
                created_at=at(9, 0),
            )
        )
        s.add(
            PrintJob(
                kind="label",
                ref="370712340000000429",
                printer="ZEBRA-1",
                status="failed",
                error="printer stopped",
                created_at=at(11, 0),
            )
        )
    return {"ids": ids, "kari": k, "ola": o}


def test_every_figure_on_the_dashboard(db: Database, bench) -> None:
    f = bench_figures(db, DAY, now=NOW)
    counts = {row.status: row.count for row in f.states}
    assert counts["picked"] == 1 and counts["shipped"] == 1 and counts["on_hold"] == 1
    oldest = {row.status: row.oldest_number for row in f.states}
    assert oldest["on_hold"] == "5003"
    # first (picked) and third (on hold) were paid before the cut-off and have not shipped.
    assert f.pace.must_ship == 2
    assert f.pace.shipped_today == 1
    assert f.pace.rate_per_hour == pytest.approx(1.0)
    assert f.pace.hours_left == pytest.approx(3.0)
    assert f.pace.on_pace  # 1/h for 3 h ≥ 2
    assert f.cutoff == at(13, 0) and f.shift_end == at(15, 0)
    assert f.per_hour[12] == 1 and sum(f.per_hour) == 1  # 11:50 UTC is 12:50 in Oslo
    assert f.packed_per_hour[12] == 1 and sum(f.packed_per_hour) == 1  # packed 11:40 UTC
    loads = {load.station: load for load in f.loads}
    assert (loads["admin"].waiting, loads["pack"].waiting, loads["post"].waiting) == (1, 1, 1)
    assert loads["pack"].people == 1 and loads["ship"].people == 1
    assert loads["pack"].done_last_hour == 1 and loads["pick"].done_last_hour == 1
    warned = {a.station for a in f.advice if a.severity == "warn"}
    assert warned == {"admin", "post"}  # work waiting, nobody there
    assert any("move someone from ship" in a.message for a in f.advice)
    kinds = {(e.kind, e.ref) for e in f.exceptions}
    assert ("hold", "5003") in kinds
    assert ("parked", "5001") in kinds
    assert any(kind == "print" for kind, _ in kinds)


def test_team_figures_come_from_the_event_log(db: Database, bench) -> None:
    rows = {r.name: r for r in roster(db, tz=DAY.tz(), now=NOW)}
    assert set(rows) == {"Kari Nordmann", "Ola Sjef"}  # inactive people are not on the roster
    kari = rows["Kari Nordmann"]
    assert kari.orders == 2  # picked two orders and packed one of them: two orders, three steps
    assert kari.units == 2  # the packed order had two units
    assert (kari.scans, kari.scan_errors) == (2, 1)
    assert kari.median_order_min == 10.0  # opened 11:30, packed 11:40
    assert kari.at_station == "pack"
    ola = rows["Ola Sjef"]
    assert (ola.orders, ola.at_station) == (1, "ship")
    # An hour later nobody has done anything: nobody counts as present.
    later = {r.name: r for r in roster(db, tz=DAY.tz(), now=NOW + timedelta(hours=1))}
    assert later["Kari Nordmann"].at_station is None


def test_roster_assignment_is_for_supervisors_and_logged(db: Database, bench) -> None:
    kari, ola = bench["kari"], bench["ola"]
    with pytest.raises(NotAllowed):
        assign_station(db, kari, kari.packer_id, "pick", tz=DAY.tz(), now=NOW)
    with pytest.raises(Refused, match="unknown station"):
        assign_station(db, ola, kari.packer_id, "kitchen", tz=DAY.tz(), now=NOW)
    assign_station(db, ola, kari.packer_id, "pick", tz=DAY.tz(), now=NOW)
    assign_station(db, ola, kari.packer_id, "pack", tz=DAY.tz(), now=NOW)
    rows = {r.name: r for r in roster(db, tz=DAY.tz(), now=NOW)}
    assert rows["Kari Nordmann"].assigned == "pack"
    # Tomorrow's roster starts empty.
    tomorrow = {r.name: r for r in roster(db, tz=DAY.tz(), now=NOW + timedelta(days=1))}
    assert tomorrow["Kari Nordmann"].assigned is None
    with db.read() as s:
        logged = s.exec(
            select(Event).where(Event.kind == "roster", Event.result == "ok").order_by(Event.id)
        ).all()
        refusals = s.exec(
            select(Event).where(Event.kind == "roster", Event.result == "refused")
        ).all()
    assert len(refusals) == 2  # the packer's attempt and the unknown station
    assert [e.message for e in logged] == [
        "Kari Nordmann: no station → pick (2026-11-20)",
        "Kari Nordmann: pick → pack (2026-11-20)",
    ]
    assert all(e.packer_id == ola.packer_id for e in logged)
    assign_station(db, ola, kari.packer_id, None, tz=DAY.tz(), now=NOW)
    assert {r.name: r for r in roster(db, tz=DAY.tz(), now=NOW)}["Kari Nordmann"].assigned is None


def test_release_hold_is_for_supervisors(db: Database, bench) -> None:
    third = bench["ids"]["third"]
    with pytest.raises(NotAllowed):
        release_hold(db, bench["kari"], third, "found it")
    with db.read() as s:
        assert s.get(Order, third).status == "on_hold"
        refused = s.exec(select(Event).where(Event.result == "refused", Event.order_id == third))
        assert len(refused.all()) == 1  # the refusal is in the audit trail
    release_hold(db, bench["ola"], third, "found it")
    with db.read() as s:
        assert s.get(Order, third).status == "new"
    assert not [e for e in exceptions(db, now=NOW) if e.kind == "hold"]


def test_the_cutoff_counts_only_orders_paid_before_it(db: Database, bench) -> None:
    with db.write() as s:
        first = s.get(Order, bench["ids"]["first"])
        first.paid_at = at(13, 30)  # 14:30 in Oslo: after the cut-off, ships tomorrow
        s.add(first)
    assert bench_figures(db, DAY, now=NOW).pace.must_ship == 1


def test_a_failed_print_goes_from_the_list_once_the_same_document_printed(
    db: Database, bench
) -> None:
    def failed_prints() -> list[str]:
        return [e.ref for e in exceptions(db, now=NOW) if e.kind == "print"]

    assert failed_prints() == ["label 370712340000000429"]
    with db.write() as s:  # the same slips, failed then printed; another label still failed
        s.add(PrintJob(kind="slip", ref="5002, 5003", printer="P", status="failed",
                       error="printer stopped", created_at=at(11, 10)))  # fmt: skip
        s.add(PrintJob(kind="slip", ref="5002, 5003", printer="P", status="completed",
                       created_at=at(11, 12)))  # fmt: skip
        s.add(PrintJob(kind="slip", ref="5009", printer="P", status="completed",
                       created_at=at(11, 13)))  # fmt: skip
    assert failed_prints() == ["label 370712340000000429"]


def test_an_order_left_in_packing_for_days_is_a_stale_claim_claimed_or_not(
    db: Database, bench
) -> None:
    ids = bench["ids"]
    with db.write() as s:
        order = s.get(Order, ids["third"])
        assert order is not None
        order.status = "packing"  # as an import or an old version left it: no claim
        order.claimed_at = None
        order.updated_at = NOW - timedelta(days=12)
        s.add(order)
    claims = [e for e in exceptions(db, now=NOW) if e.kind == "claim"]
    assert [(e.ref, e.detail) for e in claims] == [("5003", "in packing, claimed by nobody")]
    assert claims[0].since == NOW - timedelta(days=12)


def test_with_pick_and_pack_in_one_pass_printed_slips_wait_for_pack(db: Database, bench) -> None:
    """``[pack] pick_at_pack``: there is no pick station, a printed slip opens at the pack
    bench; the dashboard counted such orders as waiting for pick (nobody there: a warning)."""
    with db.write() as s:
        order = s.get(Order, bench["ids"]["third"])
        change_status(s, order, Action.RELEASE, bench["ola"], reason="found", at=at(10, 10))
        change_status(s, order, Action.PRINT_SLIP, bench["kari"], at=at(10, 20))

    def station(f) -> str | None:  # type: ignore[no-untyped-def]
        return {r.status: r.station for r in f.states}["slip_printed"]

    apart = bench_figures(db, DAY, now=NOW)
    one_pass = bench_figures(db, DAY, pick_at_pack=True, now=NOW)
    assert station(apart) == "pick" and station(one_pass) == "pack"
    waiting = {load.station: load.waiting for load in apart.loads}
    assert (waiting["pick"], waiting["pack"]) == (1, 1)
    assert any(a.station == "pick" for a in apart.advice)  # 1 order waiting and nobody there
    waiting = {load.station: load.waiting for load in one_pass.loads}
    assert "pick" not in waiting and waiting["pack"] == 2
    assert not any(a.station == "pick" or "pick" in a.message for a in one_pass.advice)
    # An order a picker had started before the bench went one-pass still waits at pick.
    with db.write() as s:
        order = s.get(Order, bench["ids"]["third"])
        change_status(s, order, Action.START_PICK, bench["kari"].at_station("pick"), at=at(11, 0))
    one_pass = bench_figures(db, DAY, pick_at_pack=True, now=NOW)
    assert {load.station: load.waiting for load in one_pass.loads}["pick"] == 1
