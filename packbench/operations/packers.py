"""Who works the bench: signing in by badge (or by name), and supervisors' PINs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, func, select

from packbench.data.engine import Database
from packbench.data.models import Event, Packer
from packbench.data.types import utcnow
from packbench.operations.common import Actor, Refused, record_event, transact_logged

# scrypt: slow and memory-hard, in the standard library. ~50 ms per check on this machine class.
_N, _R, _P = 2**14, 8, 1


@dataclass(frozen=True)
class PackerView:
    id: int
    name: str
    badge: str
    role: str
    #: A supervisor signs in with a packer's rights; their PIN adds the supervisor's.
    pin_required: bool = False


def _view(p: Packer) -> PackerView:
    assert p.id is not None
    return PackerView(p.id, p.name, p.badge, p.role)


def _signed_in_view(p: Packer) -> PackerView:
    """What a badge alone grants: a supervisor's badge without the PIN is a packer's."""
    assert p.id is not None
    if p.role == "supervisor":
        return PackerView(p.id, p.name, p.badge, "packer", pin_required=True)
    return _view(p)


#: Wrong PINs allowed for one person within ``PIN_WINDOW`` before further tries are refused.
PIN_TRIES = 5
PIN_WINDOW = timedelta(minutes=10)


def hash_pin(pin: str) -> str:
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError("a PIN is 4 to 12 digits")
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_pin(pin: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            pin.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(digest)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def list_packers(db: Database) -> list[PackerView]:
    with db.read() as session:
        rows = session.exec(select(Packer).where(Packer.active).order_by(col(Packer.name))).all()
        return [_view(p) for p in rows]


def _sign_in(session: Session, actor: Actor, packer: Packer | None, code: str) -> PackerView:
    if packer is None:
        raise Refused(f"Badge “{code}” belongs to nobody on this bench.", code=code)
    if not packer.active:
        raise Refused(f"{packer.name}'s badge is no longer active.", code=code)
    view = _signed_in_view(packer)
    record_event(
        session,
        actor.as_packer(view.id, view.name, view.role),
        "login",
        code=code,
        message=f"{view.name} signed in at {actor.station}",
    )
    return view


def sign_in_badge(db: Database, actor: Actor, badge: str) -> PackerView:
    """Sign in by a scanned badge. An unknown badge is refused (and logged)."""

    def run(session: Session) -> PackerView:
        packer = session.exec(select(Packer).where(Packer.badge == badge.upper())).first()
        return _sign_in(session, actor, packer, badge)

    return transact_logged(db, actor, run, kind="login", code=badge)


def sign_in_id(db: Database, actor: Actor, packer_id: int) -> PackerView:
    """Sign in by choosing a name (for a person without a badge to hand)."""
    return transact_logged(
        db,
        actor,
        lambda s: _sign_in(s, actor, s.get(Packer, packer_id), f"#{packer_id}"),
        kind="login",
    )


def confirm_pin(db: Database, actor: Actor, pin: str) -> PackerView:
    """A signed-in supervisor proves it with their PIN and gets the supervisor's rights.

    Every try is in the audit trail (never the PIN itself); after ``PIN_TRIES`` wrong ones in
    ``PIN_WINDOW`` further tries are refused until the window has passed.
    """

    def run(session: Session) -> PackerView:
        packer = session.get(Packer, actor.packer_id) if actor.packer_id else None
        if packer is None or not packer.active:
            raise Refused("Scan your badge first.")
        if packer.role != "supervisor":
            raise Refused(f"{packer.name} is not a supervisor.")
        since = utcnow() - PIN_WINDOW
        wrong = session.exec(
            select(func.count()).where(
                Event.kind == "pin",
                Event.result == "refused",
                Event.packer_id == packer.id,
                col(Event.at) >= since,
            )
        ).one()
        if wrong >= PIN_TRIES:
            raise Refused(f"Too many wrong PINs for {packer.name}: wait 10 minutes.")
        if not packer.pin_hash:
            raise Refused(f"{packer.name} has no PIN yet: set one with packbench packers set-pin.")
        if not check_pin(pin, packer.pin_hash):
            raise Refused("Wrong PIN.")
        view = _view(packer)
        record_event(
            session,
            actor.as_packer(view.id, view.name, view.role),
            "pin",
            message=f"{view.name}: supervisor rights at {actor.station}",
        )
        return view

    return transact_logged(db, actor, run, kind="pin")


def set_pin(db: Database, actor: Actor, badge: str, pin: str) -> None:
    """Set a supervisor's PIN (stored as a salted scrypt hash, never in clear)."""

    def run(session: Session) -> None:
        packer = session.exec(select(Packer).where(Packer.badge == badge.upper())).first()
        if packer is None:
            raise Refused(f"Badge “{badge}” belongs to nobody on this bench.")
        if packer.role != "supervisor":
            raise Refused(f"{packer.name} is not a supervisor; only supervisors have PINs.")
        try:
            packer.pin_hash = hash_pin(pin)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        session.add(packer)
        record_event(session, actor, "pin", message=f"PIN set for {packer.name}")

    transact_logged(db, actor, run, kind="pin")


def sign_out(db: Database, actor: Actor) -> None:
    if not actor.signed_in:
        return
    db.transact(
        lambda s: record_event(s, actor, "logout", message=f"{actor.packer_name} signed out")
    )
