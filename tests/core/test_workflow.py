from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packbench.core.workflow import (
    IN_PROGRESS,
    Action,
    IllegalTransition,
    OrderStatus,
    allowed_actions,
    can_complete,
    next_status,
)

S = OrderStatus
HAPPY_PATH = [
    (S.NEW, Action.PRINT_SLIP, S.SLIP_PRINTED),
    (S.SLIP_PRINTED, Action.START_PICK, S.PICKING),
    (S.PICKING, Action.FINISH_PICK, S.PICKED),
    (S.PICKED, Action.START_PACK, S.PACKING),
    (S.PACKING, Action.FINISH_PACK, S.PACKED),
    (S.PACKED, Action.SHIP, S.SHIPPED),
    (S.SHIPPED, Action.HAND_OVER, S.HANDED_OVER),
]

LEGAL = {(s, a): t for s, a, t in HAPPY_PATH}
LEGAL[(S.SLIP_PRINTED, Action.PRINT_SLIP)] = S.SLIP_PRINTED
LEGAL[(S.SHIPPED, Action.CANCEL_SHIPMENT)] = S.PACKED
LEGAL[(S.PACKED, Action.COLLECT)] = S.HANDED_OVER  # picked up in the shop: no carrier
for s in IN_PROGRESS:
    LEGAL[(s, Action.HOLD)] = S.ON_HOLD
    LEGAL[(s, Action.CANCEL)] = S.CANCELLED
LEGAL[(S.ON_HOLD, Action.CANCEL)] = S.CANCELLED


def test_happy_path_walks_every_station() -> None:
    status = S.NEW
    for expected_from, action, expected_to in HAPPY_PATH:
        assert status is expected_from
        status = next_status(status, action)
        assert status is expected_to
    assert status is S.HANDED_OVER


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (s, a)
        for s, a in itertools.product(OrderStatus, Action)
        if (s, a) not in LEGAL and a is not Action.RELEASE
    ],
)
def test_every_illegal_transition_is_refused_with_a_reason(status: S, action: Action) -> None:
    with pytest.raises(IllegalTransition) as info:
        next_status(status, action, held_from=S.PICKING)
    assert str(info.value)
    assert info.value.status is status
    assert info.value.action is action


@pytest.mark.parametrize(("key", "target"), list(LEGAL.items()))
def test_every_legal_transition(key: tuple[S, Action], target: S) -> None:
    status, action = key
    assert next_status(status, action) is target
    assert action in allowed_actions(status)


@pytest.mark.parametrize("origin", sorted(IN_PROGRESS))
def test_release_returns_where_the_order_was_held(origin: S) -> None:
    held = next_status(origin, Action.HOLD)
    assert held is S.ON_HOLD
    assert next_status(held, Action.RELEASE, held_from=origin) is origin


def test_release_needs_an_origin_and_a_held_order() -> None:
    with pytest.raises(IllegalTransition, match="does not say where"):
        next_status(S.ON_HOLD, Action.RELEASE)
    with pytest.raises(IllegalTransition, match="only an order on hold"):
        next_status(S.PACKED, Action.RELEASE, held_from=S.PACKED)
    with pytest.raises(IllegalTransition, match="cannot go back"):
        next_status(S.ON_HOLD, Action.RELEASE, held_from=S.SHIPPED)


def test_terminal_states_allow_nothing() -> None:
    assert allowed_actions(S.CANCELLED) == frozenset()
    assert allowed_actions(S.HANDED_OVER) == frozenset()


def test_messages_name_the_status_and_the_action() -> None:
    with pytest.raises(IllegalTransition, match="an order that is new cannot be shipped"):
        next_status(S.NEW, Action.SHIP)


def test_unknown_status_or_action_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        next_status("lost", Action.SHIP)
    with pytest.raises(ValueError):
        next_status(S.NEW, "teleport")


@given(st.lists(st.sampled_from(list(Action)), max_size=30))
def test_any_action_sequence_stays_inside_the_machine(actions: list[Action]) -> None:
    status, held_from = S.NEW, None
    for action in actions:
        try:
            new = next_status(status, action, held_from=held_from)
        except IllegalTransition:
            assert action not in allowed_actions(status) or action is Action.RELEASE
            continue
        assert action in allowed_actions(status)
        if action is Action.HOLD:
            held_from = status
        status = new
    assert status in set(OrderStatus)


def test_completion_rules() -> None:
    assert can_complete(S.SHIPPED, completed=False, flagged=False) is None
    assert can_complete(S.HANDED_OVER, completed=False, flagged=False) is None
    assert "already" in (can_complete(S.SHIPPED, completed=True, flagged=False) or "")
    assert "changed or cancelled" in (can_complete(S.SHIPPED, completed=False, flagged=True) or "")
    for status in set(OrderStatus) - {S.SHIPPED, S.HANDED_OVER}:
        assert can_complete(status, completed=False, flagged=False)
