"""Scans at a station: every scan lands in the event log; a refused one changes nothing else."""

from __future__ import annotations

import pytest
from sqlmodel import col, func, select

from packbench.core.codes import CodeRules
from packbench.data.models import Event, Order
from packbench.operations.common import Actor, Refused, transact_logged
from packbench.operations.packers import sign_in_badge
from packbench.operations.scans import handle_scan
from tests.operations.seed import SSCC, TRACKING, seed

RULES = CodeRules()


@pytest.fixture
def bench(db):  # type: ignore[no-untyped-def]
    return db, seed(db)


def events(db, **where):  # type: ignore[no-untyped-def]
    with db.read() as s:
        q = select(Event).order_by(col(Event.id))
        for k, v in where.items():
            q = q.where(getattr(Event, k) == v)
        return s.exec(q).all()


def signed_in(db, station: str = "admin") -> Actor:  # type: ignore[no-untyped-def]
    actor = Actor(station=station, terminal="t1")
    p = sign_in_badge(db, actor, "BDG-1001")
    return actor.as_packer(p.id, p.name, p.role)


def test_badge_signs_in_and_is_logged(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    out = handle_scan(db, Actor("pack", "t1"), "BDG-1001", RULES)
    assert out.ok and out.packer is not None and out.packer.name == "Kari Nordmann"
    login = events(db, kind="login")[-1]
    assert login.packer_id == out.packer.id and login.station == "pack" and login.code == "BDG-1001"


@pytest.mark.parametrize(
    ("code", "needle"),
    [("BDG-7777", "belongs to nobody"), ("BDG-1999", "no longer active")],
)
def test_bad_badges_are_refused_and_logged(bench, code: str, needle: str) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    out = handle_scan(db, Actor("admin", "t1"), code, RULES)
    assert not out.ok and needle in out.message
    last = events(db)[-1]
    assert (last.kind, last.result, last.code, last.packer_id) == ("login", "refused", code, None)


def test_nothing_but_a_badge_before_signing_in(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    out = handle_scan(db, Actor("admin", "t1"), "ORD-5001", RULES)
    assert not out.ok and "Scan your badge first" in out.message
    assert events(db)[-1].result == "refused"


def test_order_slip_opens_the_order(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    actor = signed_in(db)
    out = handle_scan(db, actor, "ORD-5002", RULES)
    assert out.ok and out.order_id == ids["second"]
    last = events(db)[-1]
    assert last.order_id == ids["second"] and last.packer_id == actor.packer_id
    assert last.code == "ORD-5002" and last.result == "ok"


@pytest.mark.parametrize("label", [SSCC, TRACKING, f"00{SSCC}", f"]C100{SSCC}"])
def test_parcel_label_opens_its_order(bench, label: str) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    out = handle_scan(db, signed_in(db), label, RULES)
    assert out.ok, out.message
    assert out.order_id == ids["third"]


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("ORD-9999", "No order number 9999"),
        ("7071234000016", "check digit"),
        ("7071234000015", "the product “Kaffekopp i steintøy”"),
        ("FJ-TX-0002", "the product “Ullsokker 3-pk”"),
        ("5901234123457", "No product has GTIN 5901234123457"),
        ("NOSUCH-SKU", "is not a product, order, parcel or badge"),
        ("BOX-S", "No box or bag has the code"),
        ("C-07-2", "location code"),
        ("376130321109103421", "check digit"),
        ("RR123456784NO", "check digit"),
        ("", "empty"),
        ("A" * 10_000, "10000 characters"),
        ("ORD\x075001", "\\x07"),
    ],
)
def test_bad_or_misplaced_scans_are_refused_and_change_nothing(
    bench, code: str, needle: str
) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    actor = signed_in(db)
    with db.read() as s:
        before = [(o.id, o.status, o.updated_at) for o in s.exec(select(Order)).all()]
        n_before = s.exec(select(func.count()).select_from(Event)).one()
    out = handle_scan(db, actor, code, RULES)
    assert not out.ok
    assert needle.lower() in out.message.lower(), out.message
    with db.read() as s:
        after = [(o.id, o.status, o.updated_at) for o in s.exec(select(Order)).all()]
        n_after = s.exec(select(func.count()).select_from(Event)).one()
    assert after == before
    assert n_after == n_before + 1
    last = events(db)[-1]
    assert last.result == "refused" and last.packer_id == actor.packer_id
    assert len(last.code or "") <= 500


def test_layout_swapped_slip_still_opens(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    rules = CodeRules(layout="no")
    out = handle_scan(db, signed_in(db), "ORD+5001", rules)
    assert out.ok and out.swapped and out.order_id == ids["first"]


def test_command_barcodes_are_recognised(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    out = handle_scan(db, signed_in(db), "CMD-TESTSCAN", RULES)
    assert out.ok and out.command == "TESTSCAN"
    out = handle_scan(db, signed_in(db), "CMD-LAUNCH", RULES)
    assert not out.ok


def test_a_refusal_undoes_partial_work_but_keeps_its_event(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    actor = signed_in(db)

    def half_then_refuse(session):  # type: ignore[no-untyped-def]
        order = session.get(Order, ids["first"])
        order.status = "packed"
        session.add(order)
        session.flush()
        raise Refused("Wrong product.", order_id=ids["first"])

    with pytest.raises(Refused, match="Wrong product"):
        transact_logged(db, actor, half_then_refuse, kind="scan", code="X")
    with db.read() as s:
        assert s.get(Order, ids["first"]).status == "new"
    last = events(db)[-1]
    assert (last.result, last.message, last.order_id) == ("refused", "Wrong product.", ids["first"])
