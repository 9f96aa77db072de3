"""The order state machine: the one place that says which step may follow which.

An order walks ``new → slip_printed → picking → picked → packing → packed → shipped →
handed_over``. ``on_hold`` parks an order (a short pick, a change upstream) and remembers where
it came from; ``cancelled`` ends it. Completing the transaction (invoice + capture in the shop)
is recorded beside the status, not as a status, because it happens around shipping and must be
possible exactly once whatever the parcel is doing.

Pure logic: no database, no Textual. The operations layer asks ``next_status`` and writes the
answer in the same transaction as the event row.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    NEW = "new"
    SLIP_PRINTED = "slip_printed"
    PICKING = "picking"
    PICKED = "picked"
    PACKING = "packing"
    PACKED = "packed"
    SHIPPED = "shipped"
    HANDED_OVER = "handed_over"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    OrderStatus.NEW: "New",
    OrderStatus.SLIP_PRINTED: "Slip printed",
    OrderStatus.PICKING: "Picking",
    OrderStatus.PICKED: "Picked",
    OrderStatus.PACKING: "Packing",
    OrderStatus.PACKED: "Packed",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.HANDED_OVER: "Handed over",
    OrderStatus.ON_HOLD: "On hold",
    OrderStatus.CANCELLED: "Cancelled",
}


class Action(StrEnum):
    PRINT_SLIP = "print_slip"
    START_PICK = "start_pick"
    FINISH_PICK = "finish_pick"
    START_PACK = "start_pack"
    FINISH_PACK = "finish_pack"
    SHIP = "ship"
    CANCEL_SHIPMENT = "cancel_shipment"
    HAND_OVER = "hand_over"
    COLLECT = "collect"  # the customer collects a packed order in the shop (no carrier)
    HOLD = "hold"
    RELEASE = "release"
    CANCEL = "cancel"


S = OrderStatus

#: The statuses an order is still being worked in (hold and cancel are reachable from these).
IN_PROGRESS: frozenset[OrderStatus] = frozenset(
    {S.NEW, S.SLIP_PRINTED, S.PICKING, S.PICKED, S.PACKING, S.PACKED}
)

#: The statuses in which an order is still open work on the bench.
OPEN: frozenset[OrderStatus] = IN_PROGRESS | {S.SHIPPED, S.ON_HOLD}

_FORWARD: dict[tuple[OrderStatus, Action], OrderStatus] = {
    (S.NEW, Action.PRINT_SLIP): S.SLIP_PRINTED,
    # A lost slip is printed again; the order stays where it is.
    (S.SLIP_PRINTED, Action.PRINT_SLIP): S.SLIP_PRINTED,
    (S.SLIP_PRINTED, Action.START_PICK): S.PICKING,
    (S.PICKING, Action.FINISH_PICK): S.PICKED,
    (S.PICKED, Action.START_PACK): S.PACKING,
    (S.PACKING, Action.FINISH_PACK): S.PACKED,
    (S.PACKED, Action.SHIP): S.SHIPPED,
    (S.SHIPPED, Action.CANCEL_SHIPMENT): S.PACKED,
    (S.SHIPPED, Action.HAND_OVER): S.HANDED_OVER,
    (S.PACKED, Action.COLLECT): S.HANDED_OVER,
}


class IllegalTransition(ValueError):
    """An action that the order's current status does not allow."""

    def __init__(self, status: OrderStatus, action: Action, why: str = "") -> None:
        self.status = status
        self.action = action
        reason = why or f"an order that is {status.label.lower()} cannot {_verb(action)}"
        super().__init__(reason)


def _verb(action: Action) -> str:
    return {
        Action.PRINT_SLIP: "get a packing slip",
        Action.START_PICK: "start picking",
        Action.FINISH_PICK: "finish picking",
        Action.START_PACK: "start packing",
        Action.FINISH_PACK: "finish packing",
        Action.SHIP: "be shipped",
        Action.CANCEL_SHIPMENT: "have its shipment cancelled",
        Action.HAND_OVER: "be handed over",
        Action.COLLECT: "be collected by the customer",
        Action.HOLD: "be put on hold",
        Action.RELEASE: "be released from hold",
        Action.CANCEL: "be cancelled",
    }[action]


def next_status(
    status: OrderStatus | str, action: Action | str, *, held_from: OrderStatus | str | None = None
) -> OrderStatus:
    """The status after ``action``, or ``IllegalTransition`` saying why not.

    ``held_from`` is needed to ``RELEASE`` an order from hold: it goes back where it was.
    """
    status = OrderStatus(status)
    action = Action(action)
    if action is Action.HOLD:
        if status in IN_PROGRESS:
            return S.ON_HOLD
        raise IllegalTransition(status, action)
    if action is Action.RELEASE:
        if status is not S.ON_HOLD:
            raise IllegalTransition(status, action, "only an order on hold can be released")
        if held_from is None:
            raise IllegalTransition(status, action, "the order does not say where it was held")
        back = OrderStatus(held_from)
        if back not in IN_PROGRESS:
            raise IllegalTransition(status, action, f"cannot go back to {back.label.lower()}")
        return back
    if action is Action.CANCEL:
        if status in IN_PROGRESS or status is S.ON_HOLD:
            return S.CANCELLED
        raise IllegalTransition(status, action)
    try:
        return _FORWARD[(status, action)]
    except KeyError:
        raise IllegalTransition(status, action) from None


def allowed_actions(status: OrderStatus | str) -> frozenset[Action]:
    """Every action ``next_status`` accepts from ``status`` (release assumes a valid origin)."""
    status = OrderStatus(status)
    ok = {a for (s, a) in _FORWARD if s is status}
    if status in IN_PROGRESS:
        ok |= {Action.HOLD, Action.CANCEL}
    if status is S.ON_HOLD:
        ok |= {Action.RELEASE, Action.CANCEL}
    return frozenset(ok)


def can_complete(status: OrderStatus | str, *, completed: bool, flagged: bool) -> str | None:
    """Why the transaction cannot be completed now, or ``None`` when it can.

    Completion (invoice + capture in the shop) belongs to a shipped order that nobody upstream
    has changed, and happens once.
    """
    status = OrderStatus(status)
    if completed:
        return "the transaction is already completed"
    if flagged:
        return "the order was changed or cancelled in the shop; a person must decide first"
    if status not in (S.SHIPPED, S.HANDED_OVER):
        return f"the order is {status.label.lower()}; only a shipped order can be completed"
    return None
