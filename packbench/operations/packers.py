"""Who works the bench: signing in by badge (or by name), and supervisors' PINs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from sqlmodel import Session, col, select

from packbench.data.engine import Database
from packbench.data.models import Packer
from packbench.operations.common import Actor, Refused, record_event, transact_logged

# scrypt: slow and memory-hard, in the standard library. ~50 ms per check on this machine class.
_N, _R, _P = 2**14, 8, 1


@dataclass(frozen=True)
class PackerView:
    id: int
    name: str
    badge: str
    role: str


def _view(p: Packer) -> PackerView:
    assert p.id is not None
    return PackerView(p.id, p.name, p.badge, p.role)


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
    view = _view(packer)
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


def sign_out(db: Database, actor: Actor) -> None:
    if not actor.signed_in:
        return
    db.transact(
        lambda s: record_event(s, actor, "logout", message=f"{actor.packer_name} signed out")
    )
