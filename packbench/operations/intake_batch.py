"""A page of orders from the shop written in a handful of statements (issue #18).

The rules are :mod:`packbench.operations.intake`'s, which writes one order at a time through
the ORM; this module writes the same rows for a whole page: one look at the numbers in use,
one at the products the lines name (by SKU and by shop id), one at the lines of the changed
orders, then one insert (or update) a table for the page. No ORM object is built on this path
and nothing is flushed an order at a time. What the database would refuse for a length is
refused here first, in Python, so that a page normally needs no savepoint at all; the caller
(``operations.syncing.apply_order_page``) writes the page again order by order, each in its
own savepoint, only when the database refuses something the checks did not foresee.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter, gt
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, or_, select, update
from sqlmodel import Session

from packbench.core.workflow import IN_PROGRESS, OrderStatus
from packbench.data.models import Event, Order, OrderLine, Product, table_of
from packbench.data.types import utcnow
from packbench.operations.common import Actor
from packbench.operations.intake import (
    _HEADER_FIELDS,
    IntakeResult,
    LineIn,
    OrderIn,
    same_lines,
)

ORDERS: Table = table_of(Order)
LINES: Table = table_of(OrderLine)
EVENTS: Table = table_of(Event)
PRODUCTS: Table = table_of(Product)


# -- checks in Python, before any statement -------------------------------------------------
def _limits(table: Table, names: Sequence[str]) -> tuple[tuple[str, int], ...]:
    out = []
    for name in names:
        length = getattr(table.c[name].type, "length", None)
        if length is not None:
            out.append((name, length))
    return tuple(out)


_ORDER_LIMITS = _limits(ORDERS, ("number", *_HEADER_FIELDS))
_LINE_LIMITS = _limits(LINES, ("sku", "name"))
_order_texts = attrgetter(*(name for name, _ in _ORDER_LIMITS))
_order_lengths = tuple(length for _, length in _ORDER_LIMITS)
_line_lengths = tuple(length for _, length in _LINE_LIMITS)


def refusal(incoming: OrderIn) -> str | None:
    """Why the bench cannot take this order as it is (text too long for its column), in the
    words :func:`intake._check_lengths` uses; None when it fits."""
    try:  # the common case, all in C: every text fits
        fits = not any(map(gt, map(len, _order_texts(incoming)), _order_lengths)) and not any(
            any(map(gt, (len(line.sku), len(line.name)), _line_lengths)) for line in incoming.lines
        )
    except TypeError:  # something not text where text belongs: say which, below
        fits = False
    if fits:
        return None
    for name, length in _ORDER_LIMITS:
        value = getattr(incoming, name)
        if isinstance(value, str) and len(value) > length:
            return f"{name} is {len(value)} characters, at most {length} fit"
    for n, line in enumerate(incoming.lines, start=1):
        for name, length in _LINE_LIMITS:
            value = getattr(line, name)
            if isinstance(value, str) and len(value) > length:
                return f"line {n}: {name} is {len(value)} characters, at most {length} fit"
    return None


# -- many rows in one statement ---------------------------------------------------------------
@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[int, ...] | None  # the rows' values in the statement's order (None: as given)
    processors: tuple[tuple[int, Any], ...]  # (index in the row, the column's bind processor)
    names: tuple[str, ...]


_COMPILED: dict[tuple[str, tuple[str, ...], str, str], _Compiled] = {}


def insert_rows(
    conn: Connection, table: Table, keys: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """``INSERT`` many rows (each a tuple of the ``keys``' values) with one executemany. The
    statement is Core's ``insert(table)``, compiled once for the dialect and the keys; each
    value goes through its column type's own bind processor (aware-UTC times included), once
    for a value the rows repeat (the page's "now").

    Every column with a Python-side default is among the keys (the default is not applied
    here: it is the caller's to say).
    """
    if not rows:
        return
    dialect = conn.dialect
    cache_key = (table.name, keys, dialect.name, dialect.driver)
    compiled = _COMPILED.get(cache_key)
    if compiled is None:
        compiled = _COMPILED[cache_key] = _compile(table, keys, dialect)
    done: dict[tuple[int, Any], Any] = {}
    if compiled.processors:
        processed = []
        for row in rows:
            values = list(row)
            for i, processor in compiled.processors:
                value = values[i]
                if value is not None:
                    key = (i, value)
                    out = done.get(key)
                    if out is None:
                        out = done[key] = processor(value)
                    values[i] = out
            processed.append(values)
        rows = processed  # type: ignore[assignment]  # lists where tuples were: executemany takes either
    if not dialect.positional:
        params: list[Any] = [dict(zip(compiled.names, row, strict=True)) for row in rows]
    elif compiled.order is None:
        params = [tuple(row) for row in rows]
    else:
        order = compiled.order
        params = [tuple([row[i] for i in order]) for row in rows]
    conn.exec_driver_sql(compiled.sql, params)


def _compile(table: Table, keys: tuple[str, ...], dialect: Any) -> _Compiled:
    statement = insert(table).compile(dialect=dialect, column_keys=list(keys))
    missing = set(statement.binds) - set(keys)
    if missing:
        raise ValueError(f"insert_rows({table.name}): give {', '.join(sorted(missing))}")
    order = None
    if statement.positional:
        positions = tuple(keys.index(name) for name in statement.positiontup or ())
        order = None if positions == tuple(range(len(keys))) else positions
    processors = []
    for i, name in enumerate(keys):
        processor = table.c[name].type._cached_bind_processor(dialect)
        if processor is not None:
            processors.append((i, processor))
    return _Compiled(str(statement), order, tuple(processors), keys)


# -- the statements of a page, built once ---------------------------------------------------
def _many(name: str) -> Any:
    return bindparam(name, expanding=True)


_p, _o, _ln = PRODUCTS.c, ORDERS.c, LINES.c
_PRODUCT_COLUMNS = select(_p.id, _p.sku, _p.name, _p.shop_product_id)
_PRODUCTS_BY_SKU = _PRODUCT_COLUMNS.where(_p.sku.in_(_many("skus")))
_PRODUCTS_BY_ID = _PRODUCT_COLUMNS.where(_p.shop_product_id.in_(_many("ids")))
_PRODUCTS_BY_BOTH = _PRODUCT_COLUMNS.where(
    or_(_p.sku.in_(_many("skus")), _p.shop_product_id.in_(_many("ids")))
)
_KNOWN = select(_o.id, _o.shop_order_id, _o.number, _o.status, _o.upstream_modified_at).where(
    _o.shop_order_id.in_(_many("ids"))
)
_HOLDERS = select(_o.number, _o.shop_order_id).where(_o.number.in_(_many("numbers")))
_NEW_IDS = select(_o.shop_order_id, _o.id).where(_o.shop_order_id.in_(_many("ids")))
_LINES_OF = select(_ln.order_id, _ln.sku, _ln.quantity, _ln.shop_product_id).where(
    _ln.order_id.in_(_many("ids"))
)
_DELETE_LINES = delete(LINES).where(_ln.order_id.in_(_many("ids")))


# -- the products a page's lines name ---------------------------------------------------------
def products_for(conn: Connection, lines: list[LineIn]) -> dict[tuple[str, object], Any]:
    """The products a page's lines may name, found in one statement: by SKU and by shop id
    (plain rows: a page only reads them)."""
    skus = {ln.sku.upper() for ln in lines if ln.sku}
    ids = {ln.shop_product_id for ln in lines if ln.shop_product_id is not None}
    if not skus and not ids:
        return {}
    found: dict[tuple[str, object], Any] = {}
    if skus and ids:
        rows = conn.execute(_PRODUCTS_BY_BOTH, {"skus": list(skus), "ids": list(ids)})
    elif skus:
        rows = conn.execute(_PRODUCTS_BY_SKU, {"skus": list(skus)})
    else:
        rows = conn.execute(_PRODUCTS_BY_ID, {"ids": list(ids)})
    for row in rows:
        found[("sku", row.sku)] = row
        if row.shop_product_id is not None:
            found.setdefault(("id", row.shop_product_id), row)
    return found


def pick_product(found: dict[tuple[str, object], Any], line: LineIn) -> Any:
    """:func:`intake._find_product`'s rule on products read already."""
    if line.sku:
        hit = found.get(("sku", line.sku.upper()))
        if hit and (
            line.shop_product_id is None
            or hit.shop_product_id is None
            or hit.shop_product_id == line.shop_product_id
        ):
            return hit
    if line.shop_product_id is not None:
        return found.get(("id", line.shop_product_id))
    return None


LINE_KEYS = (
    "order_id",
    "line_no",
    "shop_line_id",
    "shop_product_id",
    "product_id",
    "sku",
    "name",
    "quantity",
    "picked_qty",
    "packed_qty",
    "unit_price_ore",
    "short_qty",
)


def _line_rows(
    order_id: int, lines: tuple[LineIn, ...], products: dict[tuple[str, object], Any]
) -> list[tuple[Any, ...]]:
    rows = []
    for n, line in enumerate(lines, start=1):
        product = pick_product(products, line)
        rows.append(
            (
                order_id,
                n,
                line.shop_line_id,
                line.shop_product_id,
                product.id if product else None,
                product.sku if product else line.sku.upper(),
                line.name or (product.name if product else ""),
                line.quantity,
                0,
                0,
                line.unit_price_ore,
                0,
            )
        )
    return rows


EVENT_KEYS = (
    "at",
    "order_id",
    "packer_id",
    "station",
    "terminal",
    "kind",
    "code",
    "result",
    "message",
    "data",
)


def _event_row(
    actor: Actor, order_id: int, at: datetime, message: str, result: str = "ok"
) -> tuple[Any, ...]:
    return (
        at,
        order_id,
        actor.packer_id,
        actor.station,
        actor.terminal,
        "intake",
        None,
        result,
        message[:1000],
        None,
    )


# -- the page ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Known:
    """What the page needs to know of an order the bench has: one row of one SELECT."""

    id: int
    number: str
    status: str
    upstream_modified_at: datetime | None


def known_orders(conn: Connection, shop_ids: list[int]) -> dict[int, Known]:
    return {
        row.shop_order_id: Known(row.id, row.number, row.status, row.upstream_modified_at)
        for row in conn.execute(_KNOWN, {"ids": shop_ids})
    }


@dataclass(frozen=True)
class Batch:
    """A page written: the orders taken (created or changed), those refused with the reason,
    and those left for :func:`intake.receive_order` (a cancellation to follow through the
    state machine)."""

    taken: list[tuple[OrderIn, IntakeResult]]
    refused: list[tuple[OrderIn, str]]
    one_by_one: list[OrderIn]


def write_page(
    session: Session,
    actor: Actor,
    fresh: list[OrderIn],
    changed: list[tuple[Known, OrderIn]],
) -> Batch:
    """Create ``fresh`` (orders the bench does not have, each once) and update ``changed``
    (orders it has that the shop changed), with the rules of :func:`intake.receive_order`.

    Raises whatever the database raises: the caller rolls the page back and writes it order
    by order, so the one at fault is refused alone.
    """
    conn = session.connection()
    refused: list[tuple[OrderIn, str]] = []
    new: list[OrderIn] = []
    for incoming in fresh:
        reason = refusal(incoming)
        if reason is None:
            new.append(incoming)
        else:
            refused.append((incoming, reason))
    updates: list[tuple[Known, OrderIn]] = []
    for known, incoming in changed:
        reason = refusal(incoming)
        if reason is None:
            updates.append((known, incoming))
        else:
            refused.append((incoming, reason))
    chosen = _numbers(conn, new, refused)
    products = products_for(
        conn,
        [ln for o, _, _ in chosen for ln in o.lines] + [ln for _, o in updates for ln in o.lines],
    )
    now = utcnow()
    taken = _create(conn, actor, chosen, products, now)
    update_taken, one_by_one = _update(conn, actor, updates, products, now)
    return Batch(taken + update_taken, refused, one_by_one)


def _numbers(
    conn: Connection, new: list[OrderIn], refused: list[tuple[OrderIn, str]]
) -> list[tuple[OrderIn, str, str | None]]:
    """The number each new order gets (:func:`intake._number_for`'s rule, one SELECT)."""
    if not new:
        return []
    wanted = {x.number for x in new} | {str(x.shop_order_id) for x in new}
    holders: dict[str, int | None] = {
        row.number: row.shop_order_id for row in conn.execute(_HOLDERS, {"numbers": list(wanted)})
    }
    chosen: list[tuple[OrderIn, str, str | None]] = []
    for incoming in new:
        if incoming.number not in holders:
            number, note = incoming.number, None
        else:
            holder = holders[incoming.number]
            other = f"order id {holder}'s" if holder is not None else "a bench order's"
            number = str(incoming.shop_order_id)
            if number in holders:
                refused.append(
                    (
                        incoming,
                        f"its number {incoming.number} is also {other}, and its id {number} "
                        "is another order's number",
                    )
                )
                continue
            note = (
                f"order id {incoming.shop_order_id} from the shop has the number "
                f"{incoming.number}, which is also {other}: taken as order {number} (the "
                f"shop's id); the customer knows it as {incoming.number}"
            )
        holders[number] = incoming.shop_order_id
        chosen.append((incoming, number, note))
    return chosen


_ORDER_KEYS = (
    "shop_order_id",
    "number",
    "status",
    "created_at",
    "upstream_modified_at",
    "updated_at",
    # Chosen at the ship station when the checkout named none (#14): empty when it arrives.
    "pickup_point_name",
    *_HEADER_FIELDS,
)
_header = attrgetter(*_HEADER_FIELDS)


def _create(
    conn: Connection,
    actor: Actor,
    chosen: list[tuple[OrderIn, str, str | None]],
    products: dict[tuple[str, object], Any],
    now: datetime,
) -> list[tuple[OrderIn, IntakeResult]]:
    if not chosen:
        return []
    new = OrderStatus.NEW.value
    insert_rows(
        conn,
        ORDERS,
        _ORDER_KEYS,
        [
            (
                incoming.shop_order_id,
                number,
                new,
                incoming.created_at,
                incoming.modified_at,
                now,
                "",
                *_header(incoming),
            )
            for incoming, number, _ in chosen
        ],
    )
    # The new ids by shop id (unique), in one SELECT: RETURNING with the rows' order kept
    # costs SQLite one INSERT a row.
    new_ids = dict(conn.execute(_NEW_IDS, {"ids": [x.shop_order_id for x, _, _ in chosen]}).all())
    ids = [new_ids[x.shop_order_id] for x, _, _ in chosen]
    lines: list[tuple[Any, ...]] = []
    for (incoming, _, _), order_id in zip(chosen, ids, strict=True):
        lines.extend(_line_rows(order_id, incoming.lines, products))
    insert_rows(conn, LINES, LINE_KEYS, lines)
    insert_rows(
        conn,
        EVENTS,
        EVENT_KEYS,
        [
            _event_row(
                actor,
                order_id,
                now,
                f"order {number} received from the shop" + (f" ({note})" if note else ""),
            )
            for (_, number, note), order_id in zip(chosen, ids, strict=True)
        ],
    )
    return [
        (incoming, IntakeResult(order_id, created=True, changed=False, flagged=None, note=note))
        for (incoming, _, note), order_id in zip(chosen, ids, strict=True)
    ]


_NOT_STARTED = (OrderStatus.NEW.value, OrderStatus.SLIP_PRINTED.value)
_FLAG_ON_CANCEL = {s.value for s in IN_PROGRESS} | {OrderStatus.ON_HOLD.value}


def _update(
    conn: Connection,
    actor: Actor,
    updates: list[tuple[Known, OrderIn]],
    products: dict[tuple[str, object], Any],
    now: datetime,
) -> tuple[list[tuple[OrderIn, IntakeResult]], list[OrderIn]]:
    """:func:`intake._update`'s rules for a page: what the bench did (status, counts,
    parcels) is never overwritten; the lines follow the shop until work starts, and a change
    after that flags the order for a supervisor. An order to cancel goes through the state
    machine one by one (``one_by_one``)."""
    if not updates:
        return [], []
    current: dict[int, list[tuple[str, int, int | None]]] = {k.id: [] for k, _ in updates}
    for row in conn.execute(_LINES_OF, {"ids": list(current)}):
        current[row.order_id].append((row.sku, row.quantity, row.shop_product_id))
    one_by_one: list[OrderIn] = []
    plain: list[dict[str, Any]] = []
    flagged: list[dict[str, Any]] = []
    relined: list[tuple[int, OrderIn]] = []
    events: list[tuple[Any, ...]] = []
    taken: list[tuple[OrderIn, IntakeResult]] = []
    for known, incoming in updates:
        started = known.status not in _NOT_STARTED
        if incoming.cancelled and known.status != OrderStatus.CANCELLED.value and not started:
            one_by_one.append(incoming)  # the state machine cancels it, with its own event
            continue
        lines_changed = not same_lines(current[known.id], incoming.lines)
        flag = None
        if incoming.cancelled and known.status != OrderStatus.CANCELLED.value:
            if known.status in _FLAG_ON_CANCEL:
                flag = "cancelled in the shop"
        elif lines_changed and started:
            flag = "lines changed in the shop after picking started"
        bound: dict[str, Any] = {
            "b_id": known.id,
            "b_upstream_modified_at": incoming.modified_at,
            "b_updated_at": now,
            **{f"b_{f}": getattr(incoming, f) for f in _HEADER_FIELDS},
        }
        if flag:
            flagged.append({**bound, "b_upstream_flag": flag})
        else:
            plain.append(bound)
        if lines_changed and not started and not incoming.cancelled:
            relined.append((known.id, incoming))
        events.append(
            _event_row(
                actor,
                known.id,
                now,
                f"order {known.number} updated from the shop"
                + (f"; flagged: {flag}" if flag else ""),
                result="info",
            )
        )
        taken.append((incoming, IntakeResult(known.id, created=False, changed=True, flagged=flag)))
    for rows, with_flag in ((plain, False), (flagged, True)):
        if rows:
            conn.execute(_update_statement(with_flag), rows)
    if relined:
        conn.execute(_DELETE_LINES, {"ids": [oid for oid, _ in relined]})
        insert_rows(
            conn,
            LINES,
            LINE_KEYS,
            [row for oid, incoming in relined for row in _line_rows(oid, incoming.lines, products)],
        )
    insert_rows(conn, EVENTS, EVENT_KEYS, events)
    return taken, one_by_one


def _update_statement(with_flag: bool) -> Any:
    values: dict[str, Any] = {
        "upstream_modified_at": bindparam("b_upstream_modified_at"),
        "updated_at": bindparam("b_updated_at"),
        **{f: bindparam(f"b_{f}") for f in _HEADER_FIELDS},
    }
    if with_flag:
        values["upstream_flag"] = bindparam("b_upstream_flag")
    return update(ORDERS).where(ORDERS.c.id == bindparam("b_id")).values(values)
