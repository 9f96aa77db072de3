"""The pack station's two most frequent scans in SQLAlchemy Core: a unit into the current parcel,
and ``CMD-UNDO`` taking the last one out again (#20).

Through the ORM (``pack_units``) a unit scan's transaction is mostly the ORM's own work: the
session, its identity map, objects of the order's 40 columns, the flush's unit of work. The same
two reads and three writes as plain records here cost about half as much (``benchmarks/
scan_cost.py``), and a packer's scan comes after a pause in which the machine forgets what the
last one used (``docs/ARCHITECTURE.md``), so every line of code a scan runs counts.

This path takes the plain case, and refuses the commonest wrong scans itself: a product that is
not in the order (of another open order, or of none) and one unit too many, with the ORM path's
texts (``pack_units.wrong_product`` / ``too_many``). It returns ``None`` for anything else,
always before its first write, so nothing is written twice; the ORM path then runs as before,
in a transaction of its own, and gives the refusal or does the unusual work. Left to it:

* an order that is not this packer's to pack at this terminal (claimed, not packing, changed in
  the shop): the ORM path says why;
* a code no product has;
* a case, a GS1 expiry date or serial number;
* no open parcel, or units counted as packed in no parcel: the ORM path opens and fills one
  (``pack_state._reconcile``);
* an undo the parcel's records do not support.

Both paths make the view with ``pack_views.view_of``, the event row with ``common.event_row`` and
the texts with ``pack_units``' functions. ``tests/operations/test_pack_rows.py`` runs the same
scans both ways (``ENABLED`` off for the second) and compares every outcome and every row.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Table, bindparam, case, delete, false, insert, update
from sqlalchemy import select as core_select

from packbench.core.codes import CodeKind, Scan
from packbench.core.workflow import OrderStatus
from packbench.data.models import (
    BoxType,
    Order,
    OrderLine,
    PackPlan,
    Parcel,
    ParcelItem,
    Product,
    table_of,
)
from packbench.operations import messages as msg
from packbench.operations.actor import Actor
from packbench.operations.common import EVENT_INSERT, Refused, event_row
from packbench.operations.itemscan import is_case
from packbench.operations.pack_state import KIND
from packbench.operations.pack_units import (
    OTHER_OPEN,
    UNIT_SCANS,
    other_open_order,
    packed_note,
    packed_text,
    scan_stack,
    too_many,
    undone_note,
    undone_text,
    wrong_product,
)
from packbench.operations.pack_views import (
    PackOutcome,
    PackRules,
    PackView,
    is_mine,
    needed,
    view_of,
)

#: Off: every unit scan and undo goes the ORM way (the equivalence test compares the two).
ENABLED = True


# -- the rows a scan reads, as plain records (each field is the column of that name) -------------
@dataclass(slots=True)
class _Order:
    id: int
    number: str
    status: str
    upstream_flag: str | None
    claimed_by: int | None
    claimed_at: datetime | None
    claim_terminal: str | None
    ship_name: str
    bill_name: str
    ship_city: str
    shipping_method_title: str
    customer_note: str


@dataclass(slots=True)
class _Plan:
    order_id: int | None  # None: the order has no pack plan (the outer join found none)
    suggestion: str
    learned: bool
    pending_weight_g: int | None
    pending_weight_seq: int | None


@dataclass(slots=True)
class _Line:
    id: int | None  # None: the order has no lines (the outer join found none)
    line_no: int
    sku: str
    name: str
    quantity: int
    short_qty: int
    packed_qty: int
    product_id: int | None


@dataclass(slots=True)
class _Product:
    id: int | None  # None: the line has no product
    sku: str
    gtin: str | None
    gtin14: str | None
    name: str
    weight_g: int
    fragile: bool
    keep_upright: bool


@dataclass(slots=True)
class _Parcel:
    id: int
    seq: int
    box_code: str | None
    length_mm: int
    width_mm: int
    height_mm: int
    weight_g: int
    status: str


@dataclass(slots=True)
class _Item:
    id: int | None  # None: the parcel has no units (the outer join found none)
    parcel_id: int
    order_line_id: int
    quantity: int


_ORDERS, _PLANS, _LINES, _PRODUCTS = (table_of(m) for m in (Order, PackPlan, OrderLine, Product))
_PARCELS, _ITEMS, _BOXES = (table_of(m) for m in (Parcel, ParcelItem, BoxType))


def _columns(table: Table, record: type) -> list[Column[Any]]:
    return [table.c[f.name] for f in fields(record)]


_ORDER_COLS = _columns(_ORDERS, _Order)
_PLAN_COLS = _columns(_PLANS, _Plan)
_LINE_COLS = _columns(_LINES, _Line)
_PRODUCT_COLS = _columns(_PRODUCTS, _Product)
_PARCEL_COLS = _columns(_PARCELS, _Parcel)
_ITEM_COLS = _columns(_ITEMS, _Item)

# Where each record's columns sit in a row of the statements below.
_AT_PLAN = len(_ORDER_COLS)
_AT_LINE = _AT_PLAN + len(_PLAN_COLS)
_AT_PRODUCT = _AT_LINE + len(_LINE_COLS)
_AT_ITEM = len(_PARCEL_COLS)
_AT_BOXES = _AT_ITEM + len(_ITEM_COLS)

#: The order with its pack plan, its lines and their products, by line number.
_MINE = (
    core_select(*_ORDER_COLS, *_PLAN_COLS, *_LINE_COLS, *_PRODUCT_COLS)
    .select_from(
        _ORDERS.outerjoin(_PLANS, _PLANS.c.order_id == _ORDERS.c.id)
        .outerjoin(_LINES, _LINES.c.order_id == _ORDERS.c.id)
        .outerjoin(_PRODUCTS, _PRODUCTS.c.id == _LINES.c.product_id)
    )
    .where(_ORDERS.c.id == bindparam("order_id"))
    .order_by(_LINES.c.line_no)
)

_CHOSEN_BOX = _BOXES.alias("chosen_box")
_SUGGESTED_BOX = _BOXES.alias("suggested_box")


@functools.lru_cache(maxsize=64)
def _parcels_statement(codes: tuple[str, ...]) -> Any:
    """The order's parcels with their units, each parcel with the tares of its chosen box and
    of the box the plan suggested for it (``codes``: for parcels 1, 2, …), as
    ``pack_state._parcels_statement`` reads them."""
    chosen, suggested = _CHOSEN_BOX, _SUGGESTED_BOX
    planned = (
        suggested.c.code == case(dict(enumerate(codes, start=1)), value=_PARCELS.c.seq, else_=None)
        if codes
        else false()
    )
    return (
        core_select(
            *_PARCEL_COLS,
            *_ITEM_COLS,
            chosen.c.code,
            chosen.c.tare_g,
            suggested.c.code,
            suggested.c.tare_g,
        )
        .select_from(
            _PARCELS.outerjoin(_ITEMS, _ITEMS.c.parcel_id == _PARCELS.c.id)
            .outerjoin(chosen, chosen.c.code == _PARCELS.c.box_code)
            .outerjoin(suggested, planned)
        )
        .where(_PARCELS.c.order_id == bindparam("order_id"))
        .order_by(_PARCELS.c.seq, _ITEMS.c.id)
    )


_BY_GTINS = core_select(*_PRODUCT_COLS).where(
    _PRODUCTS.c.gtin14.in_(bindparam("gtins", expanding=True))
)
_BY_SKU = core_select(*_PRODUCT_COLS).where(_PRODUCTS.c.sku == bindparam("sku"))

_SET_PACKED = (
    update(_LINES).where(_LINES.c.id == bindparam("line_id")).values(packed_qty=bindparam("packed"))
)
_SET_UNITS = (
    update(_ITEMS).where(_ITEMS.c.id == bindparam("item_id")).values(quantity=bindparam("units"))
)
_NEW_ITEM = insert(_ITEMS)
_DROP_ITEM = delete(_ITEMS).where(_ITEMS.c.id == bindparam("item_id"))
_UNWEIGH = update(_PARCELS).where(_PARCELS.c.id == bindparam("parcel_id")).values(weight_g=0)
_NO_PENDING = (
    update(_PLANS)
    .where(_PLANS.c.order_id == bindparam("plan_order_id"))
    .values(pending_weight_g=None, pending_weight_seq=None)
)


@dataclass(slots=True)
class _State:
    """An order being packed by this packer, as the scan's transaction read it."""

    order: _Order
    plan: _Plan | None
    lines: list[_Line] = field(default_factory=list)
    products: dict[int | None, _Product] = field(default_factory=dict)
    parcels: list[_Parcel] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    tares: dict[str, int] = field(default_factory=dict)

    def item(self, parcel: _Parcel, line: _Line) -> _Item | None:
        return next(
            (i for i in self.items if i.parcel_id == parcel.id and i.order_line_id == line.id),
            None,
        )

    def product(self, scan: Scan) -> _Product | None:
        """The order's product a GTIN or SKU scan names (as ``pack_units._product_for`` looks
        among the order's products first; None: not among them)."""
        if scan.kind is CodeKind.GTIN:
            for gtin in scan.gtins:
                for product in self.products.values():
                    if product.gtin14 == gtin:
                        return product
            return None
        return self.by_sku(scan.value)

    def by_sku(self, sku: str) -> _Product | None:
        return next((p for p in self.products.values() if p.sku == sku), None)

    def tare(self, code: str | None) -> int | None:
        """A box's tare, if the parcels' statement brought it (the ORM path reads the catalogue
        for one it did not, and finds none: the statement joins every box named)."""
        return self.tares.get(code) if code is not None else None

    def view(self, actor: Actor, rules: PackRules) -> PackView:
        return view_of(
            self.order,
            self.lines,
            self.products,
            self.plan,
            self.parcels,
            self.items,
            tare=self.tare,
            claimer_name=actor.packer_name,
            mine=True,
            tolerance_pct=rules.weight_tolerance_pct,
        )


def _from_catalogue(conn: Connection, scan: Scan) -> _Product | None:
    """The catalogue's product a GTIN or SKU scan names, as ``itemscan.find_by_gtin`` and
    ``pack_units._product_by_sku`` find it (for a refusal: it is not among the order's)."""
    if scan.kind is CodeKind.GTIN:
        readings = list(scan.gtins)
        if not readings:
            return None
        by_gtin = {
            p.gtin14: p
            for p in (_Product(*r) for r in conn.execute(_BY_GTINS, {"gtins": readings}))
        }
        return next((by_gtin[g] for g in readings if g in by_gtin), None)
    row = conn.execute(_BY_SKU, {"sku": scan.value}).first()
    return _Product(*row) if row is not None else None


def _read_order(conn: Connection, actor: Actor, order_id: int) -> _State | None:
    """The order with its plan, lines and products, if ``actor`` packs it at this terminal;
    else None (the ORM path's work). The parcels come next (``_read_parcels``), once the scan
    is known to be a plain one: a declined scan reads no more than this."""
    rows = conn.execute(_MINE, {"order_id": order_id}).all()
    if not rows:
        return None
    first = rows[0]
    order = _Order(*first[:_AT_PLAN])
    if (
        order.status != OrderStatus.PACKING.value
        or order.upstream_flag
        or not order.claimed_by
        or not is_mine(order, actor)
    ):
        return None
    plan: _Plan | None = _Plan(*first[_AT_PLAN:_AT_LINE])
    if plan is not None and plan.order_id is None:
        plan = None
    state = _State(order, plan)
    for row in rows:
        line = _Line(*row[_AT_LINE:_AT_PRODUCT])
        if line.id is None:
            continue
        state.lines.append(line)
        product = _Product(*row[_AT_PRODUCT:])
        if product.id is not None:
            state.products[product.id] = product
    return state


def _read_parcels(conn: Connection, state: _State) -> _Parcel | None:
    """The order's parcels, their units and boxes' tares into ``state``; returns the current
    parcel if ``pack_state._reconcile`` would change nothing (one is open, and every unit
    counted as packed is in a parcel), else None (the ORM path's work)."""
    plan = state.plan
    codes = tuple(str(p["box"]) for p in json.loads(plan.suggestion)["parcels"]) if plan else ()
    parcels: dict[int, _Parcel] = {}
    for row in conn.execute(_parcels_statement(codes), {"order_id": state.order.id}):
        if row[0] not in parcels:
            parcels[row[0]] = _Parcel(*row[:_AT_ITEM])
        item = _Item(*row[_AT_ITEM:_AT_BOXES])
        if item.id is not None:
            state.items.append(item)
        chosen, chosen_tare, suggested, suggested_tare = row[_AT_BOXES:]
        if chosen is not None:
            state.tares[chosen] = chosen_tare
        if suggested is not None:
            state.tares[suggested] = suggested_tare
    state.parcels = list(parcels.values())
    live = [p for p in state.parcels if p.status != "void"]
    current = next((p for p in reversed(live) if p.status == "open"), None)
    if current is None:
        return None
    live_ids = {p.id for p in live}
    placed: dict[int, int] = {}
    for i in state.items:
        if i.parcel_id in live_ids:
            placed[i.order_line_id] = placed.get(i.order_line_id, 0) + i.quantity
    if any(line.packed_qty > placed.get(line.id or 0, 0) for line in state.lines):
        return None
    return current


def _add_units(conn: Connection, state: _State, parcel: _Parcel, line: _Line, n: int) -> None:
    line.packed_qty += n
    conn.execute(_SET_PACKED, {"line_id": line.id, "packed": line.packed_qty})
    item = state.item(parcel, line)
    if item is None:
        item = _Item(None, parcel.id, line.id or 0, n)
        result = conn.execute(
            _NEW_ITEM,
            {"parcel_id": item.parcel_id, "order_line_id": item.order_line_id, "quantity": n},
        )
        item.id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        state.items.append(item)
    else:
        item.quantity += n
        conn.execute(_SET_UNITS, {"item_id": item.id, "units": item.quantity})


def _take_units(conn: Connection, state: _State, line: _Line, item: _Item, n: int) -> None:
    line.packed_qty -= n
    conn.execute(_SET_PACKED, {"line_id": line.id, "packed": line.packed_qty})
    item.quantity -= n
    if item.quantity == 0:
        conn.execute(_DROP_ITEM, {"item_id": item.id})
        state.items.remove(item)
    else:
        conn.execute(_SET_UNITS, {"item_id": item.id, "units": item.quantity})


def _clear_weight(conn: Connection, state: _State, parcel: _Parcel) -> None:
    """The parcel's contents changed, so its weighing no longer holds (as
    ``pack_state._clear_weight``)."""
    if parcel.weight_g != 0:
        parcel.weight_g = 0
        conn.execute(_UNWEIGH, {"parcel_id": parcel.id})
    plan = state.plan
    if plan is not None and plan.pending_weight_seq == parcel.seq:
        plan.pending_weight_g = plan.pending_weight_seq = None
        conn.execute(_NO_PENDING, {"plan_order_id": plan.order_id})


def _record(
    conn: Connection, actor: Actor, state: _State, raw: str, note: tuple[str, dict[str, Any]]
) -> None:
    message, data = note
    conn.execute(
        EVENT_INSERT,
        event_row(actor, KIND, order_id=state.order.id, code=raw, message=message, data=data),
    )


def unit_scan(
    conn: Connection,
    actor: Actor,
    rules: PackRules,
    order_id: int,
    scan: Scan,
    raw: str,
    qty: int,
) -> PackOutcome | None:
    """``qty`` units of the order's product ``scan`` names into the current parcel, as
    ``pack_units._pack_units`` puts them; None (nothing written) for anything but the plain
    case."""
    if scan.kind not in (CodeKind.GTIN, CodeKind.SKU) or is_case(scan):
        return None
    if scan.expiry is not None or scan.ai.get("21"):
        return None
    state = _read_order(conn, actor, order_id)
    if state is None:
        return None
    product = state.product(scan) or _from_catalogue(conn, scan)
    if product is None:
        return None  # no such product: the ORM path says so
    shown = msg.quote(raw.strip())
    lines = [ln for ln in state.lines if ln.product_id == product.id]
    if not lines:
        found = conn.execute(OTHER_OPEN, {"product_id": product.id, "order_id": order_id})
        other = other_open_order(found)
        raise Refused(
            wrong_product(shown, product.name, state.order.number, other), order_id=order_id
        )
    wanted = sum(needed(ln) for ln in lines)
    packed = sum(ln.packed_qty for ln in lines)
    if qty > wanted - packed:
        raise Refused(
            too_many(shown, product.name, qty, wanted, wanted - packed), order_id=order_id
        )
    parcel = _read_parcels(conn, state)
    if parcel is None:
        return None
    remaining = qty
    for line in lines:
        take = min(remaining, needed(line) - line.packed_qty)
        if take <= 0:
            continue
        _add_units(conn, state, parcel, line, take)
        remaining -= take
        if remaining == 0:
            break
    _clear_weight(conn, state, parcel)
    _record(conn, actor, state, raw, packed_note(product.sku, qty, parcel.seq, scan))
    # Never the order's last step: the parcel just filled has lost its weighing.
    text = packed_text(product, packed + qty, wanted, parcel.seq) + "."
    return PackOutcome(True, text, raw, state.view(actor, rules))


def undo(
    conn: Connection, actor: Actor, rules: PackRules, order_id: int, raw: str
) -> PackOutcome | None:
    """The last unit scan taken back out of the current parcel, as ``pack_units._undo`` takes
    it; None (nothing written) when the records do not plainly allow it."""
    state = _read_order(conn, actor, order_id)
    if state is None:
        return None
    stack = scan_stack(conn.execute(UNIT_SCANS, {"order_id": order_id}).scalars())
    product = state.by_sku(stack[-1]["sku"]) if stack else None
    if product is None:
        return None
    parcel = _read_parcels(conn, state)
    last = stack[-1]
    if parcel is None or last["parcel"] != parcel.seq:
        return None
    left = int(last["qty"])
    takes: list[tuple[_Line, _Item, int]] = []
    for line in reversed([ln for ln in state.lines if ln.product_id == product.id]):
        item = state.item(parcel, line)
        take = min(left, line.packed_qty, item.quantity if item else 0)
        if take <= 0 or item is None:
            continue
        takes.append((line, item, take))
        left -= take
        if left == 0:
            break
    if left:
        return None
    for line, item, take in takes:
        _take_units(conn, state, line, item, take)
    _clear_weight(conn, state, parcel)
    _record(conn, actor, state, raw, undone_note(last, parcel.seq))
    text = undone_text(last, product.name, parcel.seq)
    return PackOutcome(True, text, raw, state.view(actor, rules))
