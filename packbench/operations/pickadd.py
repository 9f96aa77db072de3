"""A slip scanned while a batch is open: the order joins the batch on the cart, if it fits.

A picker halfway through a batch who is handed one more slip (an urgent order, a slip that
was found late) should not have to finish the walk first. The order gets the next free tote,
its lines join the stops not yet done (a location already ahead on the walk takes its units
too), new locations are put into the rest of the walk, and what was picked stays exactly as
it was. It does not fit when the cart is full (``[pick] batch_size`` totes); then the picker is
told so, with what is left of the batch.

The stops still ahead are re-ordered as the shortest round trip over them, walked in the
direction that is shorter from where the picker stands; a stop the picker has begun (an item
scanned there, or its location label) stays the current one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from packbench.core.routing import Layout, LocationError, route_length, shortest_route
from packbench.data.models import Order, PickBatch, PickBatchOrder, PickTask
from packbench.operations import messages as msg
from packbench.operations.common import Actor, Refused

if TYPE_CHECKING:
    from packbench.operations.pick_views import PickOutcome, PickRules


def add_to_batch(
    session: Session,
    actor: Actor,
    layout: Layout,
    rules: PickRules,
    batch: PickBatch,
    order: Order,
    code: str,
) -> PickOutcome:
    """Put ``order`` (locked, checked pickable by the caller) into the open ``batch``."""
    # pick_start imports this module when a slip comes in during a batch; not the other way round
    from packbench.operations.pick_start import _busy_refusal, _into_tote, _new_tasks, _unroutable
    from packbench.operations.pick_views import PickOutcome, _view

    assert batch.id is not None and order.id is not None
    members = session.exec(select(PickBatchOrder).where(PickBatchOrder.batch_id == batch.id)).all()
    if len(members) >= rules.batch_size:
        raise Refused(
            f"Order {order.number} was not added: batch {batch.id} is full "
            f"({msg.count(len(members), 'order')}, the most a batch holds). "
            + _busy_refusal(session, batch, layout, rules),
            order_id=order.id,
        )
    lines, why = _unroutable(session, order, layout)
    if why:
        raise Refused(f"Order {order.number} cannot be picked: {why}.", order_id=order.id)
    tote = max((m.tote for m in members), default=0) + 1
    tasks = session.exec(
        select(PickTask).where(PickTask.batch_id == batch.id).order_by(col(PickTask.seq))
    ).all()
    added = _new_tasks(batch, order, lines, tote)  # numbered by _resequence
    stops_before = len({t.seq for t in tasks if t.quantity - t.picked - t.short > 0})
    try:
        _resequence(layout, batch, tasks, added)
    except LocationError as exc:  # the layout changed under the open batch
        raise Refused(f"Order {order.number} was not added: {exc}.", order_id=order.id) from None
    _into_tote(session, actor, batch, order, lines, tote, code, added=True)
    for task in [*tasks, *added]:
        session.add(task)
    session.add(batch)
    session.flush()
    view = _view(session, batch, layout, rules)
    more_stops = view.stops_left - stops_before
    units = sum(t.quantity for t in added)
    return PickOutcome(
        True,
        f"Order {order.number} added to batch {batch.id} in tote {tote}: "
        f"{msg.count(units, 'unit')}, {msg.count(more_stops, 'more stop')}"
        f" — {msg.count(view.stops_left, 'stop')} left.",
        code,
        view,
    )


def _left(task: PickTask) -> int:
    return task.quantity - task.picked - task.short


def _resequence(
    layout: Layout, batch: PickBatch, tasks: Sequence[PickTask], added: list[PickTask]
) -> None:
    """Number the stops again: those done keep their numbers, the one begun stays next, the
    rest (with the new locations) follow the shortest walk from where the picker stands; the
    batch's planned distance becomes that of the walk as it now goes."""
    by_seq: dict[int, list[PickTask]] = {}
    for task in tasks:
        by_seq.setdefault(task.seq, []).append(task)
    done = [seq for seq in sorted(by_seq) if all(_left(t) <= 0 for t in by_seq[seq])]
    ahead = [seq for seq in sorted(by_seq) if seq not in done]
    done_locations = [by_seq[seq][0].location for seq in done]
    begun: int | None = None
    if ahead:
        first = by_seq[ahead[0]]
        if any(t.picked or t.short for t in first) or batch.at_location == first[0].location:
            begun = ahead[0]
    here = (
        by_seq[begun][0].location
        if begun is not None
        else batch.at_location or (done_locations[-1] if done_locations else None)
    )
    stop_at = {by_seq[seq][0].location: seq for seq in ahead}  # a location ahead: one stop
    rest = {by_seq[seq][0].location for seq in ahead if seq != begun}
    rest |= {t.location for t in added if t.location not in stop_at or stop_at[t.location] != begun}
    walk = list(shortest_route(layout, rest).sequence) if rest else []
    if here is not None and len(walk) > 1:
        backwards = walk[::-1]
        if route_length(layout, [here, *backwards]) < route_length(layout, [here, *walk]):
            walk = backwards
    next_seq = (max(done) if done else 0) + 1
    order: list[str] = []
    if begun is not None:
        order.append(by_seq[begun][0].location)
    order.extend(walk)
    new_seq = {loc: next_seq + n for n, loc in enumerate(order)}
    for seq in ahead:
        for task in by_seq[seq]:
            task.seq = new_seq[task.location]
    for task in added:
        task.seq = new_seq[task.location]
    batch.distance_m = round(route_length(layout, [*done_locations, *order]), 3)
