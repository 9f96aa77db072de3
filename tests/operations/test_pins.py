"""Supervisor rights need the badge and the PIN; wrong PINs are logged and limited."""

from __future__ import annotations

import pytest
from sqlmodel import select

from packbench.data.engine import Database
from packbench.data.models import Event, Packer
from packbench.operations.common import Actor, Refused
from packbench.operations.packers import (
    PIN_TRIES,
    confirm_pin,
    set_pin,
    sign_in_badge,
)
from tests.operations.seed import SUPERVISOR_PIN, seed

ADMIN = Actor(station="admin", terminal="t1")


@pytest.fixture
def bench(db: Database) -> Database:
    seed(db)
    return db


def _as(view) -> Actor:  # type: ignore[no-untyped-def]
    return ADMIN.as_packer(view.id, view.name, view.role)


def test_the_badge_alone_grants_a_packers_rights(bench: Database) -> None:
    view = sign_in_badge(bench, ADMIN, "BDG-1004")
    assert view.role == "packer" and view.pin_required
    assert not sign_in_badge(bench, ADMIN, "BDG-1001").pin_required
    up = confirm_pin(bench, _as(view), SUPERVISOR_PIN)
    assert up.role == "supervisor" and not up.pin_required


def test_wrong_pins_are_logged_without_the_pin_and_then_locked_out(bench: Database) -> None:
    actor = _as(sign_in_badge(bench, ADMIN, "BDG-1004"))
    for _ in range(PIN_TRIES):
        with pytest.raises(Refused, match="Wrong PIN"):
            confirm_pin(bench, actor, "0000")
    # Even the right PIN is refused now: guessing is slow.
    with pytest.raises(Refused, match="Too many wrong PINs"):
        confirm_pin(bench, actor, SUPERVISOR_PIN)
    with bench.read() as s:
        tries = s.exec(select(Event).where(Event.kind == "pin")).all()
    assert len(tries) == PIN_TRIES + 1
    assert all(e.result == "refused" and e.packer_id == actor.packer_id for e in tries)
    assert not any("0000" in (e.code or "") + e.message + (e.data or "") for e in tries)


def test_a_packer_has_no_pin_to_give(bench: Database) -> None:
    actor = _as(sign_in_badge(bench, ADMIN, "BDG-1001"))
    with pytest.raises(Refused, match="not a supervisor"):
        confirm_pin(bench, actor, SUPERVISOR_PIN)
    with pytest.raises(Refused, match="Scan your badge first"):
        confirm_pin(bench, ADMIN, SUPERVISOR_PIN)


def test_set_pin_stores_a_hash_only_and_refuses_bad_pins(bench: Database) -> None:
    set_pin(bench, ADMIN, "BDG-1004", "97531")
    with bench.read() as s:
        stored = s.exec(select(Packer).where(Packer.badge == "BDG-1004")).one().pin_hash
    assert stored and stored.startswith("scrypt$") and "97531" not in stored
    actor = _as(sign_in_badge(bench, ADMIN, "BDG-1004"))
    assert confirm_pin(bench, actor, "97531").role == "supervisor"
    with pytest.raises(Refused, match="4 to 12 digits"):
        set_pin(bench, ADMIN, "BDG-1004", "12a4")
    with pytest.raises(Refused, match="not a supervisor"):
        set_pin(bench, ADMIN, "BDG-1001", "1234")
