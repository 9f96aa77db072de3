"""The unit scan and its undo in SQLAlchemy Core (``operations.pack_rows``) against the ORM way
they are also taken (``pack_units``): the same scans, one database each way, must give the same
outcomes, the same views and the same rows, event log included.

The Core path takes only the plain case and leaves every other scan to the ORM path, before it
writes anything; the tests also check that it did take the plain ones (else the comparison
would prove nothing) and that a scan it declines is not written twice.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from packbench.data.engine import Database, create_database
from packbench.data.models import Product
from packbench.operations import pack_rows
from packbench.operations.common import Actor, Refused
from packbench.operations.intake import receive_order
from packbench.operations.pack_views import PackOutcome
from packbench.operations.packstation import pack_scan
from tests.operations.seed import order_in, seed
from tests.operations.test_packstation import (
    CODES,
    CUP,
    KARI,
    KARI_ELSEWHERE,
    OLA,
    RULES,
    SOCKS,
    add_boxes,
    make_picked,
)

MUG = "7071234000039"  # FJ-KJ-0003: in the big order twice (two lines), and in no other
BOOK = "7071234000046"  # FJ-BK-0004: in order 6002 only (picked, waiting to be packed)
PEN = "7071234000053"  # FJ-PE-0005: in no order

#: The order the scans are about: the cup, the socks (one short), the mug on two lines.
BIG = order_in(6001, ("FJ-KJ-0001", 2), ("FJ-TX-0002", 3), ("FJ-KJ-0003", 1), ("FJ-KJ-0003", 2))

#: Another order, picked: the book is its.
BOOKS = order_in(6002, ("FJ-BK-0004", 1), minutes=1)

#: What a packer may scan, wrong things included.
CODES_SCANNED = (
    "ORD-6001",
    CUP,
    "0" + CUP,  # the same GTIN as 14 digits
    SOCKS,
    "FJ-TX-0002",  # a SKU
    MUG,
    "2*" + MUG,
    "3*FJ-KJ-0001",
    "9*" + SOCKS,  # too many
    BOOK,  # a product of another open order
    PEN,  # a product in no order
    "FJ-PE-0005",  # the same, by its SKU
    "7071234000010",  # a bad check digit
    "7071234999990",  # no such product
    "CMD-UNDO",
    "BOX-S",
    "BAG-M",
    "600g",
    "5 kg",
    "CMD-NEXT",
    "CMD-CONFIRM",
)
ACTORS = (KARI, KARI, KARI, KARI_ELSEWHERE, OLA)  # mostly the packer at her own terminal

#: Columns that hold the moment a row was written: never the same in two runs (compared by
#: their form).
CLOCKS = {"at", "created_at", "updated_at", "claimed_at"}
TABLES = ("orders", "order_line", "parcel", "parcel_item", "pack_plan", "box_override", "event")


def build(db: Database) -> int:
    """The bench: the seed's products and orders, the boxes, a book, and the big order picked."""
    ids = seed(db)
    add_boxes(db)
    with db.write() as s:
        for sku, gtin, name in (
            ("FJ-KJ-0003", MUG, "Krus med hank"),
            ("FJ-BK-0004", BOOK, "Kokebok"),
            ("FJ-PE-0005", PEN, "Fyllepenn"),
        ):
            s.add(
                Product(
                    sku=sku,
                    gtin=gtin,
                    gtin14=gtin.zfill(14),
                    name=name,
                    length_mm=120,
                    width_mm=100,
                    height_mm=110,
                    weight_g=400,
                )
            )
    with db.write() as s:
        big = receive_order(s, Actor("admin", "seed", None), BIG).order_id
        books = receive_order(s, Actor("admin", "seed", None), BOOKS).order_id
    with db.write() as s:
        s.execute(text("UPDATE order_line SET short_qty = 1 WHERE sku = 'FJ-TX-0002'"))
    for order_id in (big, books, ids["first"], ids["second"]):
        make_picked(db, order_id)
    return big


@contextmanager
def path(core: bool) -> Iterator[None]:
    was = pack_rows.ENABLED
    pack_rows.ENABLED = core
    try:
        yield
    finally:
        pack_rows.ENABLED = was


class Terminal:
    """One bench's screen state: the order open per person, an offered takeover."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.open: dict[str, int | None] = {}
        self.offer: dict[str, int | None] = {}

    def scan(self, actor: Actor, code: str) -> PackOutcome | None:
        who = f"{actor.packer_id}@{actor.terminal}"
        out = pack_scan(
            self.db,
            actor,
            code,
            CODES,
            RULES,
            order_id=self.open.get(who),
            takeover=self.offer.get(who),
        )
        if out is not None:
            self.offer[who] = out.takeover
            if out.view is not None:
                self.open[who] = out.view.order_id
        return out


def comparable(out: PackOutcome | None) -> Any:
    """The outcome with the moment of the claim (not the same in two runs) as its kind."""
    if out is None or out.view is None:
        return out
    at = out.view.claimed_at
    kind = None if at is None else ("UTC" if at.utcoffset() == timedelta(0) else repr(at.tzinfo))
    return dataclasses.replace(out, view=dataclasses.replace(out.view, claimed_at=kind))


def shape(moment: Any) -> str:
    """A moment as its form, digits left out: both ways must write the same form."""
    return re.sub(r"[0-9]", "9", str(moment))


def rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    with db.engine.connect() as conn:
        return {
            table: [
                {k: shape(v) if k in CLOCKS else v for k, v in row._mapping.items()}
                for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            ]
            for table in TABLES
        }


@contextmanager
def two_benches(template: Path) -> Iterator[tuple[Database, Database, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        dbs = []
        for name in ("core", "orm"):
            file = Path(tmp) / f"{name}.db"
            shutil.copyfile(template, file)
            dbs.append(create_database(file))
        try:
            big = build(dbs[0])
            assert build(dbs[1]) == big
            yield dbs[0], dbs[1], big
        finally:
            for db in dbs:
                db.dispose()


@contextmanager
def counting() -> Iterator[list[str]]:
    """The scans the Core path took (not declined): their codes, ``refused CODE`` for those it
    refused itself."""
    taken: list[str] = []
    unit, undo = pack_rows.unit_scan, pack_rows.undo

    def counted(way: Callable[..., Any]) -> Callable[..., Any]:
        def run(conn: Any, actor: Actor, rules: Any, order_id: int, *rest: Any) -> Any:
            raw = rest[1] if way is unit else rest[0]
            try:
                out = way(conn, actor, rules, order_id, *rest)
            except Refused:
                taken.append(f"refused {raw}")
                raise
            if out is not None:
                taken.append(out.code)
            return out

        return run

    counted_unit, counted_undo = counted(unit), counted(undo)

    pack_rows.unit_scan, pack_rows.undo = counted_unit, counted_undo  # type: ignore[assignment]
    try:
        yield taken
    finally:
        pack_rows.unit_scan, pack_rows.undo = unit, undo  # type: ignore[assignment]


def run_both(
    template: Path,
    steps: list[tuple[Actor, str]],
    *,
    before: Callable[[Database], None] | None = None,
) -> tuple[list[str], dict[str, list[dict[str, Any]]]]:
    """Each step on both benches, the Core way and the ORM way; outcomes compared as they come.
    ``before`` runs on each bench after its first step. Returns the codes the Core path took
    and the rows at the end (the same both ways)."""
    with two_benches(template) as (core_db, orm_db, _), counting() as taken:
        core, orm = Terminal(core_db), Terminal(orm_db)
        for n, (actor, code) in enumerate(steps):
            if n == 1 and before is not None:
                before(core_db)
                before(orm_db)
            with path(core=True):
                got = core.scan(actor, code)
            with path(core=False):
                want = orm.scan(actor, code)
            assert comparable(got) == comparable(want), (n, actor.terminal, code)
        end = rows(core_db)
        assert end == rows(orm_db)
    return taken, end


PACKING = [(KARI, "ORD-6001")]


def test_a_plain_packing_run_goes_the_core_way_and_leaves_the_same_rows(
    _empty_template: Path,
) -> None:
    steps = [
        *PACKING,
        (KARI, CUP),
        (KARI, "0" + CUP),
        (KARI, "FJ-TX-0002"),
        (KARI, "CMD-UNDO"),
        (KARI, "2*" + SOCKS),
        (KARI, MUG),
        (KARI, "2*" + MUG),  # the mug's first line is full: the second line takes both
        (KARI, "CMD-UNDO"),
        (KARI, "CMD-UNDO"),
        (KARI, "3*" + MUG),
        (KARI, "BOX-M"),
        (KARI, "2520g"),  # 2 cups, 2 socks, 3 mugs and the box: the order is packed
        (KARI, "CMD-UNDO"),  # not any more: refused
    ]
    taken, end = run_both(_empty_template, steps)
    assert taken == [
        *(CUP, "0" + CUP, "FJ-TX-0002", "CMD-UNDO", "2*" + SOCKS),
        *(MUG, "2*" + MUG, "CMD-UNDO", "CMD-UNDO", "3*" + MUG),
    ]
    lines = {(r["sku"], r["line_no"]): r["packed_qty"] for r in end["order_line"]}
    assert lines[("FJ-KJ-0003", 3)] == 1 and lines[("FJ-KJ-0003", 4)] == 2
    assert [o["status"] for o in end["orders"] if o["number"] == "6001"] == ["packed"]


def test_refusals_are_written_once_whichever_way_takes_them(_empty_template: Path) -> None:
    """The Core path refuses a product not in the order, of another open order, or one too
    many itself; it declines, before writing, what the ORM path refuses (nothing to undo,
    someone else's order, no such product). Each is written once: one refusal, nothing else."""
    mine = [(KARI, code) for code in ("9*" + SOCKS, BOOK, PEN, "FJ-PE-0005", "CMD-UNDO")]
    taken_over = [(OLA, "ORD-6001"), (OLA, "CMD-CONFIRM")]  # a supervisor takes the order
    steps = [*PACKING, *mine, (KARI, "7071234000060"), *taken_over, (KARI, CUP)]
    taken, end = run_both(_empty_template, steps)
    assert taken == [f"refused {c}" for c in ("9*" + SOCKS, BOOK, PEN, "FJ-PE-0005")]
    refused = [e for e in end["event"] if e["result"] == "refused"]
    codes = [e["code"] for e in refused]
    for code in ("9*" + SOCKS, BOOK, PEN, "FJ-PE-0005", "CMD-UNDO", "7071234000060", CUP):
        assert codes.count(code) == 1, (code, codes)
    said = {e["code"]: e["message"] for e in refused}
    assert said[BOOK].startswith("Wrong order:") and "order 6002 (picked)" in said[BOOK]
    assert said[PEN].startswith("Not in this order:")
    assert said["9*" + SOCKS].startswith("Too many: 9 ×")
    assert all(ln["packed_qty"] == 0 for ln in end["order_line"])


def test_a_weighing_the_next_unit_undoes_goes_the_same_both_ways(_empty_template: Path) -> None:
    """A unit scanned into a weighed parcel, or one whose weight waits for a check, clears the
    weighing and the check."""
    accepted = [(KARI, CUP), (KARI, "BOX-S"), (KARI, "490g"), (KARI, "0" + CUP)]  # 350 + 140 g
    checked = [(KARI, "BOX-S"), (KARI, "2 kg"), (KARI, SOCKS), (KARI, "CMD-CONFIRM")]
    confirmed = [(KARI, "5 kg"), (KARI, "CMD-CONFIRM"), (KARI, "CMD-UNDO")]
    taken, end = run_both(_empty_template, [*PACKING, *accepted, *checked, *confirmed])
    assert taken == [CUP, "0" + CUP, SOCKS, "CMD-UNDO"]
    (plan,) = [p for p in end["pack_plan"] if p["pending_weight_g"] is not None] or [None]
    assert plan is None
    assert [p["weight_g"] for p in end["parcel"] if p["status"] == "open"] == [0]


def test_a_second_parcel_and_units_counted_in_no_parcel_go_the_same_both_ways(
    _empty_template: Path,
) -> None:
    """Units counted as packed in no parcel (an order packed partly before parcels were kept
    per unit) are the ORM path's: it puts them into the current parcel first."""
    steps = [
        *PACKING,
        *[(KARI, c) for c in (CUP, "BOX-S", "490g", "CMD-NEXT", SOCKS, "CMD-UNDO", MUG, MUG)],
    ]
    taken, _ = run_both(_empty_template, steps)
    assert taken == [CUP, SOCKS, "CMD-UNDO", MUG, MUG]

    def legacy(db: Database) -> None:
        with db.write() as s:
            s.execute(text("UPDATE order_line SET packed_qty = 1 WHERE sku = 'FJ-KJ-0001'"))

    taken, end = run_both(_empty_template, [*PACKING, (KARI, MUG), (KARI, CUP)], before=legacy)
    assert taken == [CUP]  # the mug's scan reconciled the cup first; the second cup is plain
    items = {i["order_line_id"]: i["quantity"] for i in end["parcel_item"]}
    assert sorted(items.values()) == [1, 2]


#: Steps as a packer makes them: single scans, and a box with a weight (kept, or off and
#: confirmed) so that the scans after them find a weighed parcel or a weight waiting.
MOVES = st.one_of(
    st.tuples(st.sampled_from(ACTORS), st.sampled_from(CODES_SCANNED)).map(lambda s: [s]),
    st.sampled_from(
        [
            [(KARI, "BOX-S"), (KARI, "490g")],
            [(KARI, "BAG-M"), (KARI, "2 kg")],
            [(KARI, "BOX-M"), (KARI, "5 kg"), (KARI, "CMD-CONFIRM")],
            [(KARI, "BOX-S"), (KARI, "600g"), (KARI, "CMD-CONFIRM"), (KARI, "CMD-NEXT")],
        ]
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(moves=st.lists(MOVES, max_size=20))
def test_any_scans_give_the_same_outcomes_and_rows_both_ways(
    _empty_template: Path, moves: list[list[tuple[Actor, str]]]
) -> None:
    run_both(_empty_template, [*PACKING, *(step for move in moves for step in move)])


def test_the_core_way_on_the_test_database(db: Database) -> None:
    """On the database the tests run on (PostgreSQL in CI's second pass): a unit in, two more,
    one undone, the rows as the ORM way leaves them (``test_any_scans_…`` compares the two)."""
    big = build(db)
    bench = Terminal(db)
    with counting() as taken:
        assert bench.scan(KARI, "ORD-6001") is not None
        for code in (CUP, "2*" + SOCKS, "CMD-UNDO", MUG):
            out = bench.scan(KARI, code)
            assert out is not None and out.ok, (code, out)
    assert taken == [CUP, "2*" + SOCKS, "CMD-UNDO", MUG]
    assert out.view is not None and out.view.order_id == big
    assert [(ln.sku, ln.packed) for ln in out.view.lines] == [
        ("FJ-KJ-0001", 1),
        ("FJ-TX-0002", 0),
        ("FJ-KJ-0003", 1),  # the mug's first line fills first
        ("FJ-KJ-0003", 0),
    ]
    (parcel,) = out.view.parcels
    assert parcel.units == (("FJ-KJ-0001", 1), ("FJ-KJ-0003", 1))
    assert parcel.expected_weight_g == 750 + parcel.tare_g
    end = rows(db)
    assert sorted((i["order_line_id"], i["quantity"]) for i in end["parcel_item"]) == sorted(
        (ln["id"], ln["packed_qty"])
        for ln in end["order_line"]
        if ln["order_id"] == big and ln["packed_qty"]
    )
    scans = [e for e in end["event"] if e["kind"] == "scan" and e["order_id"] == big]
    assert [e["code"] for e in scans][-4:] == [CUP, "2*" + SOCKS, "CMD-UNDO", MUG]
