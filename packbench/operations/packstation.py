"""Station 3, pack: claim the order, scan every unit into its parcel, box it, weigh it.

The way of one order at the pack station:

* scanning its packing slip **claims** it for this packer at this terminal (a picked order moves
  to ``packing``); someone else scanning the slip is told who has it and since when. A claim
  whose terminal went quiet for ``[pack] stale_claim_minutes``, or the same packer's claim from
  another terminal, can be taken over after confirmation; a supervisor can take over or release
  any claim;
* the box suggestion is made when the order is first opened and kept (``pack_plan``): the
  cheapest box or bag the packing logic fits everything into, how full it will be and the
  runner-up — or, when the packers chose another box for the same items ``[pack] learn_after``
  times, that box, marked as learned from the packers; when nothing holds the whole order, the
  suggestion is several parcels;
* each scan of a GTIN or SKU puts one unit into the current parcel (``N*CODE``: N units); an item
  not in the order, one too many, or an item of another open order is refused and changes
  nothing;
* scanning a box or bag code chooses the current parcel's box; a typed or scanned weight
  (``1250g``, ``1.25 kg``) is checked against items + tare, and one off by more than
  ``[pack] weight_tolerance_pct`` waits for a confirmation (``CMD-CONFIRM``);
* ``CMD-UNDO`` takes the last item scan back out of the current parcel;
* ``CMD-NEXT`` closes the current parcel (it must have its box and weight) and starts the next;
* when every unit is in a parcel and each parcel has its box and weight the order is ``packed``
  with its parcels ``packed`` (box, dimensions, weight): what the ship station starts from. If
  the order went in another box than suggested, that is recorded as an override.

Every scan is its own transaction with its event row; refusals go through ``transact_logged``
and change nothing else. The state lives in the database only, so a reopened order resumes
exactly where it was.

This module is the way in: ``pack_scan`` tells what a scan is for and runs it, each entry point
in its transaction. The work itself is in the station's rooms: ``pack_claims`` (opening and
claiming), ``pack_units`` (units in and out, undo), ``pack_parcels`` (box, weight, next parcel,
packed), ``pack_plan`` (the box suggestion), ``pack_state`` (the order's rows as one transaction
reads and keeps them, and the view made of them) and ``pack_views`` (the rules and the plain
results the screens receive).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection
from sqlmodel import Session, select

from packbench.core.codes import CodeKind, CodeRules, Command, classify
from packbench.data.engine import Database
from packbench.data.models import Product
from packbench.operations import messages as msg
from packbench.operations import pack_rows
from packbench.operations.common import Actor, Refused, log_refusal
from packbench.operations.common import transact_logged as _transact_logged
from packbench.operations.itemscan import is_case, prefer_catalogue_sku
from packbench.operations.pack_claims import open_for_packing
from packbench.operations.pack_parcels import (
    _choose_box,
    _confirm_weight,
    _next_parcel,
    _weigh,
    parse_weight,
)
from packbench.operations.pack_state import KIND, catalogue
from packbench.operations.pack_units import _pack_units, _undo
from packbench.operations.pack_views import Claimed, PackOutcome, PackRules

MAX_TYPED_QUANTITY = 999

_QUANTITY = re.compile(r"\s*([0-9]{1,4})\s*\*\s*(\S.*)")


def _run(
    db: Database, actor: Actor, raw: str, order_id: int | None, fn: Callable[[Session], PackOutcome]
) -> PackOutcome:
    try:
        return _transact_logged(db, actor, fn, kind=KIND, code=raw, order_id=order_id)
    except Refused as exc:
        return PackOutcome(False, exc.message, raw)


def _run_core(
    db: Database,
    actor: Actor,
    raw: str,
    order_id: int | None,
    fn: Callable[[Connection], PackOutcome | None],
) -> PackOutcome | None:
    """``_run`` for the SQLAlchemy Core road (``pack_rows``): its refusal logged the same way;
    ``None`` when it left the scan to the ORM road."""
    try:
        return db.transact_core(fn)
    except Refused as exc:
        logged_for = exc.order_id if exc.order_id is not None else order_id
        log_refusal(db, actor, KIND, code=raw, message=exc.message, order_id=logged_for)
        return PackOutcome(False, exc.message, raw)


def pack_item(
    db: Database, actor: Actor, rules: PackRules, order_id: int, raw: str, code_rules: CodeRules
) -> PackOutcome:
    """A product scan (``N*`` before it for N units) into the current parcel."""
    qty, text = 1, raw
    typed = _QUANTITY.fullmatch(raw)
    if typed:
        qty, text = int(typed.group(1)), typed.group(2)
    scan = prefer_catalogue_sku(db, classify(text, code_rules))
    if is_case(scan):
        if typed:
            return _refuse(db, actor, raw, msg.case_alone(text), order_id)
        if scan.count is None:
            return _refuse(db, actor, raw, msg.case_without_count(raw), order_id)
        qty = scan.count
    elif scan.kind not in (CodeKind.GTIN, CodeKind.SKU):
        reason = f" ({scan.reason})" if scan.kind is CodeKind.INVALID else ""
        return _refuse(db, actor, raw, f"{msg.quote(raw)} is no product code{reason}.", order_id)
    elif not 1 <= qty <= MAX_TYPED_QUANTITY:
        return _refuse(
            db, actor, raw, f"{msg.quote(raw)}: a quantity is 1–{MAX_TYPED_QUANTITY}.", order_id
        )
    if pack_rows.ENABLED:  # the plain case in SQLAlchemy Core; None: the ORM way below
        done = _run_core(
            db,
            actor,
            raw,
            order_id,
            lambda c: pack_rows.unit_scan(c, actor, rules, order_id, scan, raw, qty),
        )
        if done is not None:
            return done
    return _run(
        db, actor, raw, order_id, lambda s: _pack_units(s, actor, rules, order_id, scan, raw, qty)
    )


def choose_box(
    db: Database,
    actor: Actor,
    rules: PackRules,
    order_id: int,
    code: str,
    *,
    raw: str | None = None,
) -> PackOutcome:
    return _run(
        db,
        actor,
        raw or code,
        order_id,
        lambda s: _choose_box(s, actor, rules, order_id, code.upper(), raw or code),
    )


def record_weight(
    db: Database,
    actor: Actor,
    rules: PackRules,
    order_id: int,
    grams: int,
    *,
    raw: str | None = None,
) -> PackOutcome:
    shown = raw or f"{grams}g"
    return _run(
        db, actor, shown, order_id, lambda s: _weigh(s, actor, rules, order_id, grams, shown)
    )


def confirm_weight(
    db: Database, actor: Actor, rules: PackRules, order_id: int, *, raw: str = "CMD-CONFIRM"
) -> PackOutcome:
    return _run(db, actor, raw, order_id, lambda s: _confirm_weight(s, actor, rules, order_id, raw))


def next_parcel(
    db: Database, actor: Actor, rules: PackRules, order_id: int, *, raw: str = "CMD-NEXT"
) -> PackOutcome:
    return _run(db, actor, raw, order_id, lambda s: _next_parcel(s, actor, rules, order_id, raw))


def undo_scan(
    db: Database, actor: Actor, rules: PackRules, order_id: int, *, raw: str = "CMD-UNDO"
) -> PackOutcome:
    """Take the last item scan (all its units) back out of the current parcel."""
    if pack_rows.ENABLED:  # the plain case in SQLAlchemy Core; None: the ORM way below
        done = _run_core(
            db, actor, raw, order_id, lambda c: pack_rows.undo(c, actor, rules, order_id, raw)
        )
        if done is not None:
            return done
    return _run(db, actor, raw, order_id, lambda s: _undo(s, actor, rules, order_id, raw))


def open_slip(
    db: Database, actor: Actor, rules: PackRules, number: str, raw: str, *, take_over: bool = False
) -> PackOutcome:
    """A packing slip scanned at the pack station; refusals come back as outcomes."""
    try:
        return open_for_packing(db, actor, rules, number=number, code=raw, take_over=take_over)
    except Claimed as exc:
        return PackOutcome(
            False, exc.message, raw, takeover=exc.order_id if exc.can_take_over else None
        )
    except Refused as exc:
        return PackOutcome(False, exc.message, raw)


def take_over(
    db: Database, actor: Actor, rules: PackRules, order_id: int, *, raw: str = "CMD-CONFIRM"
) -> PackOutcome:
    try:
        return open_for_packing(db, actor, rules, order_id=order_id, code=raw, take_over=True)
    except Refused as exc:
        return PackOutcome(False, exc.message, raw)


def _refuse(
    db: Database, actor: Actor, raw: str, message: str, order_id: int | None
) -> PackOutcome:
    log_refusal(db, actor, KIND, code=raw, message=message, order_id=order_id)
    return PackOutcome(False, message, raw)


def _is_sku(db: Database, code: str) -> bool:
    """A product's SKU that happens to read like a weight (coffee sold as ``500G``) is the
    product, not a weighing."""
    with db.read() as session:
        return session.exec(select(Product.id).where(Product.sku == code)).first() is not None


def pack_scan(
    db: Database,
    actor: Actor,
    raw: str,
    code_rules: CodeRules,
    rules: PackRules,
    *,
    order_id: int | None,
    takeover: int | None = None,
) -> PackOutcome | None:
    """A scan at the pack station. ``None``: not a packing scan, let the common handler have it.

    ``order_id`` is the order open on this screen; ``takeover`` an order whose claim the person
    was offered to take over (``CMD-CONFIRM`` then takes it).
    """
    if not actor.signed_in:
        return None
    if (
        order_id is not None
        and (grams := parse_weight(raw)) is not None
        and not _is_sku(db, raw.strip())
    ):
        return record_weight(db, actor, rules, order_id, grams, raw=raw)
    typed = _QUANTITY.fullmatch(raw)
    scan = classify(typed.group(2) if typed else raw, code_rules)
    if scan.sku is not None:
        scan = prefer_catalogue_sku(db, scan)
    if scan.kind is CodeKind.ORDER and not typed:
        return open_slip(db, actor, rules, scan.value, raw)
    if scan.kind is CodeKind.COMMAND and scan.command is Command.CONFIRM:
        if takeover is not None:
            return take_over(db, actor, rules, takeover, raw=raw)
        if order_id is not None:
            return confirm_weight(db, actor, rules, order_id, raw=raw)
        return _refuse(db, actor, raw, "Nothing waits for a confirmation here.", None)
    if order_id is None:
        return None
    if scan.kind in (CodeKind.GTIN, CodeKind.SKU) or is_case(scan):
        return pack_item(db, actor, rules, order_id, raw, code_rules)
    if typed:
        return _refuse(
            db, actor, raw, f"A quantity goes before an item: {msg.quote(raw)}.", order_id
        )
    if scan.kind is CodeKind.BOX:
        return choose_box(db, actor, rules, order_id, scan.value, raw=raw)
    if scan.kind is CodeKind.COMMAND and scan.command is Command.NEXT:
        return next_parcel(db, actor, rules, order_id, raw=raw)
    if scan.kind is CodeKind.COMMAND and scan.command is Command.UNDO:
        return undo_scan(db, actor, rules, order_id, raw=raw)
    return None


def box_rows(db: Database, *, active_only: bool = False) -> list[dict[str, Any]]:
    """The box and bag catalogue as plain rows (for ``packbench boxes list`` and the sheet)."""
    with db.read() as session:
        return [
            {
                "code": b.code,
                "kind": b.kind,
                "name": b.name,
                "inner_mm": [b.inner_l_mm, b.inner_w_mm, b.inner_h_mm],
                "max_weight_g": b.max_weight_g,
                "tare_g": b.tare_g,
                "cost_ore": b.cost_ore,
                "standard": b.standard,
                "active": b.active,
            }
            for b in catalogue(session, active_only=active_only)
        ]
