"""Starting a pick batch: the next batch of the oldest pickable orders (``next_batch``) or one
begun from a packing slip (``start_from_slip``, an order joining the open batch through
``pickadd``), one tote per order, its stops routed in the shortest walking order; an order the
layout cannot route, or one in another picker's batch, is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from packbench.core.routing import Layout, LocationError, parse_location
from packbench.core.routing import shortest_route as _shortest_route
from packbench.core.workflow import Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import (
    Order,
    OrderLine,
    Packer,
    PickBatch,
    PickBatchOrder,
    PickTask,
    Product,
)
from packbench.operations import messages as msg
from packbench.operations.common import Actor, Refused, change_status, record_event
from packbench.operations.common import transact_logged as _transact_logged
from packbench.operations.pick_views import OPEN, PickOutcome, PickRules, _open_batch, _view


def _all_in_totes(session: Session, order: Order) -> bool:
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    return bool(lines) and all(line.picked_qty >= line.quantity for line in lines)


def _unroutable(
    session: Session, order: Order, layout: Layout
) -> tuple[list[tuple[OrderLine, Product, str]], str | None]:
    """The lines still to pick with their product and normalised location, or why not."""
    lines = session.exec(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(col(OrderLine.line_no))
    ).all()
    out: list[tuple[OrderLine, Product, str]] = []
    for line in lines:
        if line.quantity - line.picked_qty <= 0:
            continue
        product = session.get(Product, line.product_id) if line.product_id else None
        if product is None:
            return [], f"line {line.line_no} (SKU {line.sku}) is not a product this bench knows"
        if not product.location:
            return [], f"{product.name} ({product.sku}) has no shelf location"
        try:
            code = parse_location(product.location, layout).code
        except LocationError as exc:
            return [], f"{product.name} ({product.sku}): {exc}"
        out.append((line, product, code))
    if not out:
        return [], "nothing is left to pick on it"
    return out, None


def _create_batch(
    session: Session,
    actor: Actor,
    layout: Layout,
    orders: Sequence[tuple[Order, list[tuple[OrderLine, Product, str]]]],
    code: str | None,
) -> PickBatch:
    locations = {loc for _, lines in orders for _, _, loc in lines}
    route = _shortest_route(layout, locations)
    seq_of = {loc: n for n, loc in enumerate(route.sequence, start=1)}
    batch = PickBatch(
        status=OPEN,
        packer_id=actor.packer_id,
        terminal=actor.terminal,
        distance_m=round(route.distance_m, 3),
    )
    session.add(batch)
    session.flush()
    assert batch.id is not None
    for tote, (order, lines) in enumerate(orders, start=1):
        _into_tote(session, actor, batch, order, lines, tote, code)
        for task in _new_tasks(batch, order, lines, tote):
            task.seq = seq_of[task.location]
            session.add(task)
    session.flush()
    return batch


def _into_tote(
    session: Session,
    actor: Actor,
    batch: PickBatch,
    order: Order,
    lines: list[tuple[OrderLine, Product, str]],
    tote: int,
    code: str | None,
    *,
    added: bool = False,
) -> None:
    """``order`` goes into ``tote`` of ``batch`` (``added``: joining it mid-walk): picking from
    now on (if it waited for it), and what an earlier short pick left of its lines is tried
    again."""
    if order.status == OrderStatus.SLIP_PRINTED:
        change_status(session, order, Action.START_PICK, actor, code=code)
    session.add(PickBatchOrder(batch_id=batch.id or 0, order_id=order.id or 0, tote=tote))
    for line, _product, _loc in lines:
        line.short_qty = 0  # a new attempt at what an earlier short pick left
        session.add(line)
    data: dict[str, Any] = {"batch": batch.id, "tote": tote}
    if added:
        data["added"] = True
    into = "added in" if added else "in"
    record_event(
        session,
        actor,
        "pick",
        order_id=order.id,
        code=code,
        message=f"batch {batch.id}: order {order.number} {into} tote {tote}",
        data=data,
    )


def _new_tasks(
    batch: PickBatch,
    order: Order,
    lines: list[tuple[OrderLine, Product, str]],
    tote: int,
) -> list[PickTask]:
    """The stops for what each of ``order``'s lines still lacks (product and location as
    ``_unroutable`` found them), into ``tote``; not yet numbered on the walk (``seq`` 0)."""
    return [
        PickTask(
            batch_id=batch.id or 0,
            seq=0,
            location=loc,
            order_id=order.id or 0,
            order_line_id=line.id or 0,
            product_id=product.id,
            tote=tote,
            quantity=line.quantity - line.picked_qty,
        )
        for line, product, loc in lines
    ]


def _in_open_batch(session: Session, order_id: int) -> PickBatch | None:
    return session.exec(
        select(PickBatch)
        .join(PickBatchOrder, col(PickBatchOrder.batch_id) == PickBatch.id)
        .where(PickBatchOrder.order_id == order_id, PickBatch.status == OPEN)
    ).first()


def _busy_refusal(session: Session, batch: PickBatch, layout: Layout, rules: PickRules) -> str:
    view = _view(session, batch, layout, rules)
    return (
        f"Finish batch {batch.id} first ({msg.count(view.stops_left, 'stop')}, "
        f"{msg.count(view.units_left, 'unit')} "
        "left) — or short-pick what the shelves do not have."
    )


def _start_from_slip(
    session: Session, actor: Actor, layout: Layout, rules: PickRules, number: str, code: str
) -> PickOutcome:
    # The order row is locked first, so two terminals scanning one slip cannot both start it.
    order = session.exec(select(Order).where(Order.number == number).with_for_update()).first()
    if order is None:
        raise Refused(msg.unknown_order(number))
    mine = _open_batch(session, actor, lock=True)
    other = _in_open_batch(session, order.id or 0)
    if other is not None and mine is not None and other.id == mine.id:
        view = _view(session, mine, layout, rules)
        tote = next(t.tote for t in view.totes if t.order_id == order.id)
        return PickOutcome(
            True, f"Order {order.number} is in tote {tote} of this batch.", code, view
        )
    if other is not None:
        who = session.get(Packer, other.packer_id) if other.packer_id else None
        raise Refused(
            f"Order {order.number} is being picked in batch {other.id}"
            f"{f' by {who.name}' if who else ''} at terminal {other.terminal}.",
            order_id=order.id,
        )
    if order.upstream_flag:
        raise Refused(
            f"Order {order.number} was changed in the shop ({order.upstream_flag}); "
            "a supervisor must decide at the admin station first.",
            order_id=order.id,
        )
    if order.status not in (OrderStatus.SLIP_PRINTED, OrderStatus.PICKING):
        label = OrderStatus(order.status).label.lower()
        raise Refused(
            f"Order {order.number} is {label}; only an order with a printed slip is picked.",
            order_id=order.id,
        )
    if order.status == OrderStatus.PICKING and _all_in_totes(session, order):
        # Released from hold with every unit picked (a shop change decided in its favour):
        # there is no walk left, only the step to picked.
        change_status(session, order, Action.FINISH_PICK, actor, code=code)
        return PickOutcome(
            True,
            f"Order {order.number}: every unit was picked already — it is picked now and goes "
            "on to packing with its tote.",
            code,
        )
    if mine is not None:  # a slip handed to a picker mid-batch: onto the cart, if it fits
        from packbench.operations.pickadd import add_to_batch

        return add_to_batch(session, actor, layout, rules, mine, order, code)
    lines, why = _unroutable(session, order, layout)
    if why:
        raise Refused(f"Order {order.number} cannot be picked: {why}.", order_id=order.id)
    batch = _create_batch(session, actor, layout, [(order, lines)], code)
    view = _view(session, batch, layout, rules)
    return PickOutcome(
        True,
        f"Order {order.number}: {msg.count(len(view.stops), 'stop')}, "
        f"{msg.count(view.units_total, 'unit')}, "
        f"{view.distance_m:.0f} m — into tote 1.",
        code,
        view,
    )


def start_from_slip(
    db: Database, actor: Actor, layout: Layout, rules: PickRules, number: str, code: str
) -> PickOutcome:
    """Pick one order whose packing slip was scanned (tote 1). Raises ``Refused``."""
    return _transact_logged(
        db,
        actor,
        lambda s: _start_from_slip(s, actor, layout, rules, number, code),
        kind="pick",
        code=code,
    )


def next_batch(
    db: Database, actor: Actor, layout: Layout, rules: PickRules, *, code: str | None = None
) -> PickOutcome:
    """Take the next up to ``batch_size`` orders waiting to be picked, oldest first.

    Orders already picking but in no open batch (released from a hold, say) come along for
    what they still lack. Orders that cannot be routed (a product without a location) are
    skipped and named. Raises ``Refused`` when there is nothing to pick or a batch is open.
    """

    def run(session: Session) -> PickOutcome:
        if not actor.signed_in:
            raise Refused("Scan your badge first — batches are picked by name.")
        mine = _open_batch(session, actor, lock=True)
        if mine is not None:
            raise Refused(_busy_refusal(session, mine, layout, rules))
        busy = select(PickBatchOrder.order_id).join(
            PickBatch, col(PickBatch.id) == PickBatchOrder.batch_id
        )
        waiting = (OrderStatus.SLIP_PRINTED, OrderStatus.PICKING)
        # Sorted here, not by the database: with ORDER BY, SQLite walks the whole history by
        # date instead of the few open orders by status (460 ms on 200,000 orders, not 2).
        rows = session.exec(
            select(Order.id, Order.created_at).where(
                col(Order.status).in_(waiting),
                col(Order.upstream_flag).is_(None),
                col(Order.id).not_in(busy.where(PickBatch.status == OPEN)),
            )
        ).all()
        candidates = [oid for oid, _ in sorted(rows, key=lambda r: (r[1], r[0]))]
        chosen: list[tuple[Order, list[tuple[OrderLine, Product, str]]]] = []
        skipped: list[str] = []
        for order_id in candidates:
            if len(chosen) >= rules.batch_size:
                break
            # Lock the order and look again: another terminal taking a batch right now has its
            # orders locked (skip them) or has just committed them to its batch. (SQLite's
            # write transactions are serial, so there this only re-reads.)
            order = session.exec(
                select(Order)
                .where(Order.id == order_id)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            ).first()
            if order is None or order.status not in waiting or order.upstream_flag:
                continue
            if _in_open_batch(session, order_id or 0) is not None:
                continue
            lines, why = _unroutable(session, order, layout)
            if why:
                skipped.append(f"{order.number} ({why})")
                continue
            chosen.append((order, lines))
        if not chosen:
            extra = f" Skipped: {'; '.join(skipped)}." if skipped else ""
            raise Refused("No orders are waiting to be picked." + extra)
        batch = _create_batch(session, actor, layout, chosen, code)
        view = _view(session, batch, layout, rules)
        text = (
            f"Batch {batch.id}: {len(chosen)} orders in totes 1–{len(chosen)}, "
            f"{msg.count(len(view.stops), 'stop')}, {msg.count(view.units_total, 'unit')}, "
            f"{view.distance_m:.0f} m."
        )
        if skipped:
            text += f" Skipped: {'; '.join(skipped)}."
        return PickOutcome(True, text, code or "", view)

    return _transact_logged(db, actor, run, kind="pick", code=code)
