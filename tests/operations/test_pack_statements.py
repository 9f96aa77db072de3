"""What a scan at the pack station asks of the database (#20): a guard on the statement count.

A unit scan is the bench's most frequent action, and each SQL statement costs the interpreter
far more than SQLite (through the ORM about half a millisecond; the unit scan and its undo now
go through SQLAlchemy Core, ``operations.pack_rows``); these tests fail when the scan's path
grows past what it needs. They count statements, not time, so a loaded machine cannot make
them flaky. The tares the view shows come with the parcels instead of from a catalogue read on
every scan; the tests also check that they are the catalogue's current ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from packbench.data.engine import Database
from packbench.data.models import BoxType, Event
from tests.operations.seed import seed
from tests.operations.test_packstation import CUP, KARI, add_boxes, make_picked, scan

#: The data statements of one unit scan: the order with its plan, lines and products; the
#: parcels with their units and box tares; the scan's event, the line's count, the unit.
UNIT_SCAN_READS = 2
UNIT_SCAN_WRITES = 3


@pytest.fixture
def bench(db: Database) -> tuple[Database, dict[str, int]]:
    ids = seed(db)
    add_boxes(db)
    make_picked(db, ids["first"])
    return db, ids


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def kinds(sent: list[str], *verbs: str) -> list[str]:
    return [s for s in sent if s.split(" ", 1)[0].upper() in verbs]


def run_counted(db: Database, fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    with counted(db) as sent:
        out = fn()
    return out, list(sent)


def test_a_unit_scan_reads_twice_and_writes_three_rows(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["first"]
    assert scan(db, KARI, "ORD-5001", None).ok
    for n in (1, 2):
        out, sent = run_counted(db, lambda: scan(db, KARI, CUP, oid))
        assert out.ok and f"{n} of 2" in out.message, out.message
        reads = kinds(sent, "SELECT")
        writes = kinds(sent, "INSERT", "UPDATE", "DELETE")
        listing = "\n".join(sent)
        assert len(reads) <= UNIT_SCAN_READS, listing
        assert len(writes) <= UNIT_SCAN_WRITES, listing
        assert not any("box_type" in s and "parcel" not in s for s in reads), listing
        # Nothing else either: no savepoint around a scan that is not refused.
        other = [s for s in sent if s not in reads and s not in writes]
        assert all(s.upper().startswith(("BEGIN", "COMMIT")) for s in other), listing


def test_the_tares_shown_are_the_catalogues_current_ones(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["first"]
    opened = scan(db, KARI, "ORD-5001", None)
    suggested = opened.view.suggestion.parcels[0].box
    tares = {"BOX-S": 140, "BOX-M": 260, "BAG-M": 25}
    out = scan(db, KARI, CUP, oid)
    assert out.view.parcels[0].expected_weight_g == 350 + tares[suggested]
    with db.write() as s:  # the box of the suggestion is made heavier meanwhile
        box = s.exec(select(BoxType).where(BoxType.code == suggested)).one()
        box.tare_g = 500
        s.add(box)
    out = scan(db, KARI, CUP, oid)
    assert out.view.parcels[0].expected_weight_g == 2 * 350 + 500
    other = "BOX-M" if suggested != "BOX-M" else "BOX-S"
    out = scan(db, KARI, other, oid)
    assert out.ok, out.message
    assert out.view.parcels[0].expected_weight_g == 2 * 350 + tares[other]
    out = scan(db, KARI, "CMD-UNDO", oid)  # a later transaction reads the chosen box's tare
    assert out.ok and out.view.parcels[0].expected_weight_g == 350 + tares[other]


def test_a_refused_scan_is_logged_and_changes_nothing(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["first"]
    assert scan(db, KARI, "ORD-5001", None).ok
    scan(db, KARI, CUP, oid)
    out, sent = run_counted(db, lambda: scan(db, KARI, "3*" + CUP, oid))
    assert not out.ok and "Too many" in out.message
    assert not kinds(sent, "UPDATE", "DELETE")
    assert [s for s in kinds(sent, "INSERT") if not s.startswith("INSERT INTO event ")] == []
    with db.read() as s:
        last = s.exec(select(Event).order_by(Event.id.desc())).first()  # type: ignore[union-attr]
    assert last is not None and last.result == "refused" and "Too many" in last.message
    out = scan(db, KARI, CUP, oid)
    assert out.ok and "2 of 2" in out.message
