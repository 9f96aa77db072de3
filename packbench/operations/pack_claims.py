"""Opening an order at the pack station: its claim for this packer at this terminal (taken,
resumed, taken over when stale or confirmed, set aside, released), the move to ``packing``
(picked here first with ``[pack] pick_at_pack``), and the plan kept with it; the claimed order
a packer comes back to.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from packbench.core.workflow import Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Event, Order, OrderLine, Packer
from packbench.data.types import utcnow
from packbench.operations import messages as msg
from packbench.operations.common import Actor, Refused, change_status
from packbench.operations.common import transact_logged as _transact_logged
from packbench.operations.pack_plan import _ensure_plan, _prepare_plan
from packbench.operations.pack_state import KIND, _reconcile, _record_scan, _view
from packbench.operations.pack_views import Claimed, PackOutcome, PackRules, SuggestionView, is_mine


def _hhmm(at: datetime | None) -> str:
    return at.astimezone().strftime("%H:%M") if at else "?"


def claimed_order(db: Database, actor: Actor) -> int | None:
    """The order this packer has claimed at this terminal and not finished (to resume it)."""
    if not actor.signed_in:
        return None
    with db.read() as session:
        return session.exec(
            select(Order.id)
            .where(
                Order.claimed_by == actor.packer_id,
                Order.claim_terminal == actor.terminal,
                Order.status == OrderStatus.PACKING.value,
            )
            .order_by(col(Order.claimed_at).desc())
        ).first()


def _last_activity(session: Session, order: Order) -> datetime | None:
    """When the claim was last used: the claim itself or the latest good pack scan on it."""
    last = session.exec(
        select(Event.at)
        .where(Event.order_id == order.id, Event.station == "pack", Event.result == "ok")
        .order_by(col(Event.at).desc())
        .limit(1)
    ).first()
    times = [t for t in (order.claimed_at, last) if t is not None]
    return max(times) if times else None


def _claim_refusal(session: Session, order: Order, actor: Actor, rules: PackRules) -> Claimed:
    who = session.get(Packer, order.claimed_by) if order.claimed_by else None
    name = who.name if who else "someone"
    text = (
        f"Order {order.number} is claimed by {name} since {_hhmm(order.claimed_at)} "
        f"at terminal {order.claim_terminal}."
    )
    last = _last_activity(session, order)
    stale = last is None or utcnow() - last >= timedelta(minutes=rules.stale_claim_minutes)
    same_person = order.claimed_by == actor.packer_id
    if stale or same_person or actor.is_supervisor:
        why = (
            "You have it open at another terminal"
            if same_person
            else f"Nothing happened on it since {_hhmm(last)}"
            if stale
            else "As a supervisor you may take it"
        )
        text += f" {why}: scan CMD-CONFIRM (or press F8) to take it over here."
        return Claimed(text, order_id=order.id or 0, can_take_over=True)
    text += " Ask them, or a supervisor, to release it."
    return Claimed(text, order_id=order.id or 0, can_take_over=False)


def _claim(session: Session, order: Order, actor: Actor, code: str | None, how: str) -> None:
    previous = session.get(Packer, order.claimed_by) if order.claimed_by else None
    # One order at a time per packer and terminal: a claim left open here is set aside.
    for other in session.exec(
        select(Order).where(
            Order.claimed_by == actor.packer_id,
            Order.claim_terminal == actor.terminal,
            Order.id != order.id,
        )
    ).all():
        _unclaim(session, other)
        _record_scan(
            session,
            actor,
            other,
            code,
            message=f"order {other.number} set aside (its progress is kept)",
            data={"claim": "set_aside"},
        )
    order.claimed_by = actor.packer_id
    order.claimed_at = utcnow()
    order.claim_terminal = actor.terminal
    session.add(order)
    _record_scan(
        session,
        actor,
        order,
        code,
        message=f"claimed ({how})" + (f", from {previous.name}" if previous else ""),
        data={"claim": how},
    )


def _unclaim(session: Session, order: Order) -> None:
    order.claimed_by = None
    order.claimed_at = None
    order.claim_terminal = None
    session.add(order)


def _open(
    session: Session,
    actor: Actor,
    rules: PackRules,
    order: Order,
    code: str | None,
    computed: SuggestionView | None,
    *,
    take_over: bool = False,
) -> PackOutcome:
    status = OrderStatus(order.status)
    one_pass = rules.pick_at_pack and status is OrderStatus.SLIP_PRINTED
    if status not in (OrderStatus.PICKED, OrderStatus.PACKING) and not one_pass:
        _record_scan(session, actor, order, code, message="opened to view")
        hint = {
            OrderStatus.PACKED: "it is packed already; the ship station takes it from here",
            OrderStatus.SHIPPED: "it is shipped already",
            OrderStatus.HANDED_OVER: "it is handed over already",
            OrderStatus.CANCELLED: "it is cancelled — do not pack it",
            OrderStatus.ON_HOLD: f"it is on hold ({order.hold_reason or 'no reason given'})",
        }.get(status, "it is not picked yet; only picked orders are packed")
        text = f"Order {order.number} — {status.label.lower()}: {hint}."
        return PackOutcome(True, text, code or "", _view(session, order, actor, rules))
    if order.upstream_flag:
        _record_scan(session, actor, order, code, message="opened to view")
        text = (
            f"Order {order.number} was changed in the shop ({order.upstream_flag}) — "
            "do not pack it until a supervisor has decided."
        )
        return PackOutcome(False, text, code or "", _view(session, order, actor, rules))
    if order.claimed_by is not None and not is_mine(order, actor):
        refusal = _claim_refusal(session, order, actor, rules)
        if not take_over or not refusal.can_take_over:
            raise refusal
        _claim(session, order, actor, code, "taken over")
        how = "taken over"
    elif order.claimed_by is None:
        _claim(session, order, actor, code, "opened")
        how = "claimed"
    else:
        how = "resumed"
        _record_scan(session, actor, order, code, message="resumed")
    if one_pass:
        _pick_here(session, actor, order, code)
        status = OrderStatus.PICKED
    if status is OrderStatus.PICKED:
        change_status(session, order, Action.START_PACK, actor, code=code)
    plan = _ensure_plan(session, order, rules, computed)
    _reconcile(session, order)
    session.flush()
    view = _view(session, order, actor, rules)
    text = f"Order {order.number} {how}: {view.units_packed} of {view.units_total} units packed."
    if plan.learned:
        text += " Box learned from the packers."
    return PackOutcome(True, text, code or "", view)


def _pick_here(session: Session, actor: Actor, order: Order, code: str | None) -> None:
    """``[pack] pick_at_pack``: the packer takes the goods from the shelf as they go into the box,
    so picked and packing follow at once; each unit is checked by its pack scan, scanned once."""
    for line in session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all():
        line.picked_qty = line.quantity - line.short_qty
        session.add(line)
    how = "picked at the pack bench, each unit checked as it is packed"
    change_status(session, order, Action.START_PICK, actor, code=code, message=how)
    change_status(session, order, Action.FINISH_PICK, actor, code=code, message=how)


def open_for_packing(
    db: Database,
    actor: Actor,
    rules: PackRules,
    *,
    number: str | None = None,
    order_id: int | None = None,
    code: str | None = None,
    take_over: bool = False,
) -> PackOutcome:
    """Open an order at the pack station and claim it (or take it over when confirmed).

    Raises ``Claimed`` (a ``Refused``) when another packer has it; ``Refused`` when there is no
    such order. Either way the refusal is logged and nothing else changes.
    """
    if not actor.signed_in:
        raise Refused(msg.sign_in_first(code or number or ""))
    with db.read() as session:
        if order_id is None:
            order_id = session.exec(select(Order.id).where(Order.number == number)).first()
    computed = _prepare_plan(db, order_id, rules) if order_id is not None else None

    def run(session: Session) -> PackOutcome:
        order = session.get(Order, order_id) if order_id is not None else None
        if order is None:
            raise Refused(msg.unknown_order(number or str(order_id)))
        return _open(session, actor, rules, order, code, computed, take_over=take_over)

    return _transact_logged(db, actor, run, kind=KIND, code=code, order_id=order_id)


def release_claim(
    db: Database, actor: Actor, rules: PackRules, order_id: int, *, code: str | None = None
) -> PackOutcome:
    """Let go of an order: your own claim, or anyone's if you are a supervisor. Progress stays."""

    def run(session: Session) -> PackOutcome:
        order = session.get(Order, order_id)
        if order is None:
            raise Refused(msg.unknown_order(str(order_id)))
        if order.claimed_by is None:
            raise Refused(f"Order {order.number} is not claimed by anyone.", order_id=order_id)
        mine = order.claimed_by == actor.packer_id
        if not mine and not actor.is_supervisor:
            raise Refused(
                f"Only a supervisor can release another packer's claim on order {order.number}.",
                order_id=order_id,
            )
        who = session.get(Packer, order.claimed_by)
        name = who.name if who else "someone"
        _unclaim(session, order)
        _record_scan(
            session,
            actor,
            order,
            code,
            message=f"claim of {name} released",
            data={"claim": "released"},
        )
        text = f"Order {order.number} released; {name}'s progress is kept for whoever opens it."
        return PackOutcome(True, text, code or "", _view(session, order, actor, rules))

    return _transact_logged(db, actor, run, kind=KIND, code=code, order_id=order_id)
