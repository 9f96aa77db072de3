"""The order being packed as one pack scan's transaction sees it: its lines, products, plan,
parcels and the units in them, each read once (``_cache``) and kept current as parcels and
units are added and taken away; the order a scan may change (``_mine``); the view made of it;
the station's event about it (``_record_scan``).

Every room of the pack station reads and writes the order's rows, and records its events,
through these.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from typing import Any

from sqlalchemy import bindparam, case, false
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import (
    BoxType,
    Order,
    OrderLine,
    Packer,
    PackPlan,
    Parcel,
    ParcelItem,
    Product,
)
from packbench.operations import messages as msg
from packbench.operations.common import Actor, Refused, record_event
from packbench.operations.pack_views import (
    PackRules,
    PackView,
    SuggestionView,
    _suggestion_from_json,
    view_of,
)
from packbench.operations.pack_views import is_mine as _is_mine
from packbench.operations.pack_views import needed as _needed

#: Every pack station event is a scan (or a key standing for one): the dashboard counts them.
KIND = "scan"


def _record_scan(
    session: Session,
    actor: Actor,
    order: Order,
    code: str | None,
    message: str,
    *,
    data: dict[str, Any] | None = None,
    result: str = "ok",
) -> None:
    """The pack station's event for a scan (or key) ``code`` on ``order``, of kind ``KIND``."""
    record_event(
        session,
        actor,
        KIND,
        order_id=order.id,
        code=code,
        result=result,
        message=message,
        data=data,
    )


def catalogue(session: Session, *, active_only: bool = True) -> list[BoxType]:
    query = select(BoxType).order_by(col(BoxType.cost_ore), col(BoxType.code))
    if active_only:
        query = query.where(col(BoxType.active))
    return list(session.exec(query).all())


def _cache(session: Session) -> dict[Any, Any]:
    """What this transaction has read of the orders it works on (a scan used to read the same
    rows up to four times, at about half a millisecond a statement).

    Safe to keep for the transaction: the objects are the session's own, so a change made to
    one is seen through the cache, and every parcel or parcel item the pack station's rooms add
    or delete goes through ``_new_parcel``/``_add_units``/``_drop_item``/``_drop_parcel``, which
    keep it current. It also holds the objects strongly, so ``session.get`` finds them again
    instead of asking the database (the session's identity map only holds them weakly).
    """
    held: dict[Any, Any] = session.info.setdefault("packstation", {})
    return held


def _lines(session: Session, order_id: int) -> list[OrderLine]:
    """The order's lines by line number, read with their products in one statement."""
    cache = _cache(session)
    if ("lines", order_id) not in cache:
        rows = session.exec(
            select(OrderLine, Product)
            .outerjoin(Product, col(Product.id) == col(OrderLine.product_id))
            .where(OrderLine.order_id == order_id)
            .order_by(col(OrderLine.line_no))
        ).all()
        cache[("lines", order_id)] = [line for line, _ in rows]
        cache[("products", order_id)] = {p.id: p for _, p in rows if p is not None}
    return cache[("lines", order_id)]  # type: ignore[no-any-return]  # the per-transaction cache holds what this function put there


def _products(session: Session, order_id: int) -> dict[int | None, Product]:
    """The products of the order's lines, by id."""
    _lines(session, order_id)
    return _cache(session)[("products", order_id)]  # type: ignore[no-any-return]  # the per-transaction cache holds what this function put there


def _parcels(session: Session, order_id: int) -> list[Parcel]:
    """All the order's parcels (void ones too), by number."""
    return _parcel_rows(session, order_id)[0]


def _items(session: Session, order_id: int) -> list[ParcelItem]:
    """The units in all of the order's parcels."""
    return _parcel_rows(session, order_id)[1]


def _parcel_rows(session: Session, order_id: int) -> tuple[list[Parcel], list[ParcelItem]]:
    """The order's parcels and the units in them, read in one statement.

    The same statement reads the tare of each parcel's box (the chosen one, else the one the
    plan suggested for it, when the plan has been read), which the view needs: the catalogue
    is then not read on every scan.
    """
    cache = _cache(session)
    if ("parcels", order_id) not in cache:
        parcels: dict[int | None, Parcel] = {}
        items: list[ParcelItem] = []
        codes = tuple(_suggested_codes(session, order_id))
        tares = _tares(session)
        for parcel, item, *boxes in session.exec(
            _parcels_statement(codes), params={"order_id": order_id}
        ).all():
            parcels.setdefault(parcel.id, parcel)
            if item is not None:
                items.append(item)
            for code, tare in (boxes[0:2], boxes[2:4]):
                if code is not None:
                    tares[code] = tare
        cache[("parcels", order_id)] = list(parcels.values())
        cache[("items", order_id)] = items
    return cache[("parcels", order_id)], cache[("items", order_id)]


#: The boxes joined to a parcel: the one chosen, the one suggested (made once: an alias costs
#: SQLAlchemy about a millisecond to set up).
_CHOSEN_BOX = aliased(BoxType, name="chosen_box")
_SUGGESTED_BOX = aliased(BoxType, name="suggested_box")


@functools.lru_cache(maxsize=64)
def _parcels_statement(codes: tuple[str, ...]) -> Any:
    """The statement reading an order's parcels (the order a bound parameter), for the boxes
    suggested for parcels 1, 2, …: made once per suggestion, as building a statement is a good
    part of what SQLAlchemy spends on a scan."""
    chosen, suggested = _CHOSEN_BOX, _SUGGESTED_BOX
    planned = (
        col(suggested.code)
        == case(dict(enumerate(codes, start=1)), value=col(Parcel.seq), else_=None)
        if codes
        else false()
    )
    return (
        select(  # type: ignore[call-overload]  # sqlmodel's select overloads stop at four
            Parcel, ParcelItem, chosen.code, chosen.tare_g, suggested.code, suggested.tare_g
        )
        .outerjoin(ParcelItem, col(ParcelItem.parcel_id) == col(Parcel.id))
        .outerjoin(chosen, col(chosen.code) == col(Parcel.box_code))
        .outerjoin(suggested, planned)
        .where(col(Parcel.order_id) == bindparam("order_id"))
        .order_by(col(Parcel.seq), col(ParcelItem.id))
    )


#: The order with its pack plan, its lines and their products (the order a bound parameter).
_MINE = (
    select(Order, PackPlan, OrderLine, Product)
    .outerjoin(PackPlan, col(PackPlan.order_id) == col(Order.id))
    .outerjoin(OrderLine, col(OrderLine.order_id) == col(Order.id))
    .outerjoin(Product, col(Product.id) == col(OrderLine.product_id))
    .where(col(Order.id) == bindparam("order_id"))
    .order_by(col(OrderLine.line_no))
)


def _suggested_codes(session: Session, order_id: int) -> list[str]:
    """The boxes the plan suggested for parcels 1, 2, …, if this transaction read the plan."""
    plan = _cache(session).get(("plan", order_id))
    if plan is None:
        return []
    return [str(p["box"]) for p in json.loads(plan.suggestion)["parcels"]]


def _tares(session: Session) -> dict[str, int]:
    """Box and bag tares by code, as far as this transaction has read them."""
    tares: dict[str, int] = _cache(session).setdefault("tares", {})
    return tares


def _tare(session: Session, code: str | None) -> int | None:
    """The tare of box ``code`` (None: no such box); the catalogue is read, once per
    transaction, only when the parcels' statement did not bring it."""
    if code is None:
        return None
    tares = _tares(session)
    if code not in tares and not _cache(session).get("catalogue"):
        tares.update({b.code: b.tare_g for b in catalogue(session, active_only=False)})
        _cache(session)["catalogue"] = True
    return tares.get(code)


def _new_parcel(session: Session, order_id: int, seq: int) -> Parcel:
    parcels = _parcels(session, order_id)
    parcel = Parcel(order_id=order_id, seq=seq)
    session.add(parcel)
    session.flush()  # its id, for the units that go in it
    parcels.append(parcel)
    return parcel


def _drop_parcel(session: Session, parcel: Parcel) -> None:
    _items(session, parcel.order_id)[:] = [
        i for i in _items(session, parcel.order_id) if i.parcel_id != parcel.id
    ]
    _parcels(session, parcel.order_id).remove(parcel)
    session.delete(parcel)


def _drop_item(session: Session, order_id: int, item: ParcelItem) -> None:
    _items(session, order_id).remove(item)
    session.delete(item)


def _plan(session: Session, order_id: int) -> PackPlan | None:
    cache = _cache(session)
    if ("plan", order_id) not in cache:
        cache[("plan", order_id)] = session.get(PackPlan, order_id)
    return cache[("plan", order_id)]  # type: ignore[no-any-return]  # the per-transaction cache holds what this function put there


def _order_units(session: Session, order_id: int) -> Counter[str]:
    units: Counter[str] = Counter()
    for line in _lines(session, order_id):
        if _needed(line):
            units[line.sku] += _needed(line)
    return units


def _view(session: Session, order: Order, actor: Actor, rules: PackRules) -> PackView:
    assert order.id is not None
    if order.claimed_by and order.claimed_by == actor.packer_id:
        claimer_name: str | None = actor.packer_name
    else:
        claimer = session.get(Packer, order.claimed_by) if order.claimed_by else None
        claimer_name = claimer.name if claimer else None
    return view_of(
        order,
        _lines(session, order.id),
        _products(session, order.id),
        _plan(session, order.id),
        _parcels(session, order.id),
        _items(session, order.id),
        tare=lambda code: _tare(session, code),
        claimer_name=claimer_name,
        mine=_is_mine(order, actor),
        tolerance_pct=rules.weight_tolerance_pct,
    )


def pack_view(db: Database, actor: Actor, rules: PackRules, order_id: int) -> PackView | None:
    with db.read() as session:
        order = session.get(Order, order_id)
        return _view(session, order, actor, rules) if order is not None else None


def _reconcile(session: Session, order: Order) -> Parcel:
    """The current parcel (made if missing); units counted as packed but in no parcel go in it.

    Orders packed partly before parcels were tracked per unit (the demo) resume this way.
    """
    parcels = [p for p in _parcels(session, order.id or 0) if p.status != "void"]
    current = next((p for p in reversed(parcels) if p.status == "open"), None)
    if current is None:
        seq = max((p.seq for p in parcels), default=0) + 1
        current = _new_parcel(session, order.id or 0, seq)
    live = {p.id for p in parcels} | {current.id}
    placed: Counter[int] = Counter()
    for item in _items(session, order.id or 0):
        if item.parcel_id in live:
            placed[item.order_line_id] += item.quantity
    for line in _lines(session, order.id or 0):
        missing = line.packed_qty - (placed.get(line.id or 0) or 0)
        if missing > 0:
            _add_units(session, current, line, missing)
    return current


def _item(session: Session, parcel: Parcel, line: OrderLine) -> ParcelItem | None:
    return next(
        (
            i
            for i in _items(session, parcel.order_id)
            if i.parcel_id == parcel.id and i.order_line_id == line.id
        ),
        None,
    )


def _add_units(session: Session, parcel: Parcel, line: OrderLine, n: int) -> None:
    item = _item(session, parcel, line)
    if item is None:
        item = ParcelItem(parcel_id=parcel.id or 0, order_line_id=line.id or 0, quantity=0)
        _items(session, parcel.order_id).append(item)
    item.quantity += n
    session.add(item)


def _mine(session: Session, actor: Actor, order_id: int, raw: str) -> Order:
    # The order with its pack plan, which the view reads at the end, in one statement (a read
    # after the changes would also flush them in a round of their own).
    # Its lines with their products come in the same statement: every scan needs them.
    rows = session.exec(_MINE, params={"order_id": order_id}).all()
    order = rows[0][0] if rows else None
    if rows:
        cache = _cache(session)
        cache[("plan", order_id)] = rows[0][1]
        if ("lines", order_id) not in cache:
            cache[("lines", order_id)] = [line for _, _, line, _ in rows if line is not None]
            cache[("products", order_id)] = {p.id: p for _, _, _, p in rows if p is not None}
    if order is None:
        raise Refused(msg.unknown_order(str(order_id)))
    if order.status != OrderStatus.PACKING.value:
        label = OrderStatus(order.status).label.lower()
        raise Refused(
            f"Order {order.number} is {label}, not being packed — {msg.quote(raw)} was not used.",
            order_id=order.id,
        )
    if order.upstream_flag:
        raise Refused(
            f"Order {order.number} was changed in the shop ({order.upstream_flag}) — "
            f"{msg.quote(raw)} was not used; a supervisor must decide first.",
            order_id=order.id,
        )
    if order.claimed_by is None:
        raise Refused(
            f"Order {order.number} is not open for packing here — scan its packing slip to "
            f"claim it; {msg.quote(raw)} was not used.",
            order_id=order.id,
        )
    if not _is_mine(order, actor):
        who = session.get(Packer, order.claimed_by)
        now = f"claimed by {who.name if who else 'someone'} at terminal {order.claim_terminal}"
        raise Refused(
            f"Order {order.number} is no longer yours ({now}) — {msg.quote(raw)} was not used. "
            "Scan its slip to open it again.",
            order_id=order.id,
        )
    return order


def _current(session: Session, order: Order) -> Parcel:
    return _reconcile(session, order)


def _plan_view(session: Session, order: Order) -> SuggestionView | None:
    plan = _plan(session, order.id or 0)
    return _suggestion_from_json(plan.suggestion, plan.learned) if plan else None


def _clear_weight(session: Session, order: Order, parcel: Parcel) -> None:
    parcel.weight_g = 0
    session.add(parcel)
    plan = _plan(session, order.id or 0)
    if plan is not None and plan.pending_weight_seq == parcel.seq:
        plan.pending_weight_g = plan.pending_weight_seq = None
        session.add(plan)
