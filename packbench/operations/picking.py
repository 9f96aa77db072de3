"""The warehouse station: pick batches in the shortest walking order, scan by scan.

A **batch** is one walk for up to N orders on a cart of totes, one tote per order (tote numbers
1..N). Its pick list is one route over every location of the batch (``core.routing``, exact
for a single block): one **stop** per location, each stop knowing which tote gets how many.
Each order line at a stop is a row in ``pick_task``; its ``picked`` and ``short`` are written at
every scan, together with ``order_line.picked_qty`` and the event row, so a picker who walks
away or a terminal that crashes resumes exactly where the last scan left it.

The picker works the stops in walking order. At the current stop:

* scanning the item (GTIN or SKU) confirms one unit; ``N*CODE`` confirms N units;
* with ``[pick] require_location_scan`` the location label must be scanned first;
* a wrong item, a wrong location, or one unit too many is refused and changes nothing;
* a **short pick** (``CMD-SHORT`` or a key) records what was found (the units scanned so far)
  and the rest as missing; with ``[pick] short_pick = "hold"`` the order goes on hold at once
  (reason ``short pick: …``), with ``"partial"`` it goes on and ships what was found.

When every stop is done the batch is done and its orders become ``picked`` (orders on hold stay
on hold; an order with nothing found at all is held even under "partial").

This module takes the scans within a batch and is the station's way in (``pick_scan``). Its
rooms: ``pick_start`` (starting a batch, from the queue or a slip) and ``pick_views`` (the rules,
the pick list and outcomes the screen receives, and the reads behind them).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from sqlmodel import Session, col, select

from packbench.core.codes import CodeKind, CodeRules, Command, Scan, classify
from packbench.core.routing import Layout, LocationError, parse_location
from packbench.core.workflow import Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Order, OrderLine, PickBatch, PickBatchOrder, PickTask, Product
from packbench.data.types import utcnow
from packbench.operations import messages as msg
from packbench.operations.common import Actor, Refused, change_status, log_refusal, record_event
from packbench.operations.common import transact_logged as _transact_logged
from packbench.operations.itemscan import find_by_gtin, is_case, prefer_catalogue_sku
from packbench.operations.pick_start import _start_from_slip, next_batch
from packbench.operations.pick_views import DONE, PickOutcome, PickRules, _open_batch, _view

MAX_TYPED_QUANTITY = 999

_QUANTITY = re.compile(r"\s*([0-9]{1,4})\s*\*\s*(\S.*)")


def _current_tasks(session: Session, batch: PickBatch) -> tuple[int, list[PickTask]] | None:
    tasks = session.exec(
        select(PickTask)
        .where(PickTask.batch_id == batch.id)
        .order_by(col(PickTask.seq), col(PickTask.tote), col(PickTask.id))
    ).all()
    for task in tasks:
        if task.quantity - task.picked - task.short > 0:
            return task.seq, [t for t in tasks if t.seq == task.seq]
    return None


def _product_for(session: Session, scan: Scan) -> Product:
    if scan.kind is CodeKind.GTIN or is_case(scan):
        product = find_by_gtin(session, scan)
        if product is None:
            raise Refused(
                msg.unknown_gtin(scan.value if scan.kind is CodeKind.GTIN else scan.gtin14 or "")
            )
        return product
    product = session.exec(select(Product).where(Product.sku == scan.value)).first()
    if product is None:
        raise Refused(f"{msg.quote(scan.raw.strip())} is no product on this bench.")
    return product


def _require_batch(session: Session, actor: Actor, raw: str) -> PickBatch:
    batch = _open_batch(session, actor, lock=True)
    if batch is None:
        raise Refused(
            f"No pick in progress — {msg.quote(raw)} was not counted. Scan a packing slip "
            "or take the next batch (F9 or CMD-NEXT)."
        )
    return batch


def _finish(session: Session, actor: Actor, batch: PickBatch, rules: PickRules) -> str:
    """All stops done: orders become picked (or stay/go on hold), the batch is closed."""
    members = session.exec(select(PickBatchOrder).where(PickBatchOrder.batch_id == batch.id)).all()
    picked, held = [], []
    for m in sorted(members, key=lambda m: m.tote):
        order = session.get(Order, m.order_id)
        assert order is not None
        lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        short = sum(ln.short_qty for ln in lines)
        found = sum(ln.picked_qty for ln in lines)
        if order.status == OrderStatus.PICKING:
            if order.upstream_flag:
                # Changed or cancelled in the shop while its goods were being picked: the pack
                # station would refuse it, so it is held with its tote until a supervisor says.
                reason = f"{order.upstream_flag} while being picked: keep tote {m.tote} apart"
                change_status(session, order, Action.HOLD, actor, reason=reason)
            elif short and (rules.short_pick == "hold" or found == 0):
                reason = "short pick: nothing was found" if found == 0 else "short pick"
                change_status(session, order, Action.HOLD, actor, reason=reason)
            else:
                change_status(session, order, Action.FINISH_PICK, actor)
        if order.status == OrderStatus.PICKED:
            picked.append(order.number + (" (partial)" if short else ""))
        elif order.upstream_flag:
            flag = order.upstream_flag
            held.append(f"{order.number} (on hold: {flag}; keep tote {m.tote} apart)")
        else:
            held.append(f"{order.number} ({OrderStatus(order.status).label.lower()})")
    batch.status = DONE
    batch.finished_at = utcnow()
    session.add(batch)
    text = f"Batch {batch.id} done."
    if picked:
        text += f" Picked: {', '.join(picked)}."
    if held:
        text += f" Not picked: {', '.join(held)}."
    record_event(session, actor, "pick", message=text, data={"batch": batch.id})
    return text


def _confirm_location(
    session: Session, actor: Actor, layout: Layout, rules: PickRules, scan: Scan, raw: str
) -> PickOutcome:
    batch = _require_batch(session, actor, raw)
    try:
        code = parse_location(scan.value, layout).code
    except LocationError as exc:
        raise Refused(f"{msg.quote(raw)} is no location in this warehouse: {exc}.") from None
    current = _current_tasks(session, batch)
    assert current is not None  # an open batch always has a stop left
    _, tasks = current
    wanted = tasks[0].location
    if code != wanted:
        raise Refused(f"Wrong location: {msg.quote(raw)} scanned; this stop is {wanted}.")
    batch.at_location = code
    session.add(batch)
    record_event(session, actor, "pick", code=raw, message=f"at {code}", data={"batch": batch.id})
    return PickOutcome(True, f"At {code}.", raw, _view(session, batch, layout, rules))


def _pick_units(
    session: Session,
    actor: Actor,
    layout: Layout,
    rules: PickRules,
    scan: Scan,
    raw: str,
    qty: int,
) -> PickOutcome:
    batch = _require_batch(session, actor, raw)
    product = _product_for(session, scan)
    current = _current_tasks(session, batch)
    assert current is not None
    seq, tasks = current
    here = tasks[0].location
    if rules.require_location_scan and batch.at_location != here:
        raise Refused(f"Scan the location label {here} first — {msg.quote(raw)} was not counted.")
    mine = [t for t in tasks if t.product_id == product.id]
    if not mine:
        wanted = sorted(
            {t.product_id for t in tasks if t.quantity - t.picked - t.short > 0 and t.product_id}
        )
        names = [p.name for pid in wanted if (p := session.get(Product, pid)) is not None]
        later = session.exec(
            select(PickTask).where(
                PickTask.batch_id == batch.id,
                PickTask.product_id == product.id,
                PickTask.seq > seq,
            )
        ).first()
        elsewhere = f", for a later stop ({later.location})" if later else ", not on this pick list"
        raise Refused(
            f"Wrong item: {msg.quote(raw)} is {product.name}{elsewhere}; "
            f"this stop {here} needs {' and '.join(names) or 'another item'}."
        )
    left = sum(t.quantity - t.picked - t.short for t in mine)
    if qty > left and is_case(scan) and left > 0:
        raise Refused(
            f"A case of {qty} × {product.name}, but only {left} still needed at {here}: open "
            "it and scan the units one by one; nothing counted."
        )
    if qty > left:
        if left == 0:
            raise Refused(
                f"One too many: {msg.quote(raw)} {product.name} — all "
                f"{sum(t.picked for t in mine)} are already picked at {here}; nothing counted."
            )
        raise Refused(
            f"Too many: {qty} × {product.name} scanned but only {left} still needed at {here}; "
            "nothing counted."
        )
    remaining = qty
    into: list[str] = []
    for task in mine:
        take = min(remaining, task.quantity - task.picked - task.short)
        if take <= 0:
            continue
        task.picked += take
        remaining -= take
        line = session.get(OrderLine, task.order_line_id)
        assert line is not None
        line.picked_qty += take
        session.add(task)
        session.add(line)
        into.append(f"{take} → tote {task.tote}")
        record_event(
            session,
            actor,
            "pick",
            order_id=task.order_id,
            code=raw,
            message=f"picked {take} × {product.sku} at {here} into tote {task.tote}",
            data={"batch": batch.id, "stop": seq, "qty": take},
        )
        if remaining == 0:
            break
    session.flush()
    done_units = sum(t.picked for t in mine)
    total_units = sum(t.quantity - t.short for t in mine)
    text = f"{product.name}: {', '.join(into)} ({done_units} of {total_units})."
    finished = _current_tasks(session, batch) is None
    if finished:
        text += " " + _finish(session, actor, batch, rules)
    return PickOutcome(True, text, raw, _view(session, batch, layout, rules), finished)


def _short(
    session: Session, actor: Actor, layout: Layout, rules: PickRules, raw: str
) -> PickOutcome:
    batch = _require_batch(session, actor, raw)
    current = _current_tasks(session, batch)
    assert current is not None
    seq, tasks = current
    here = tasks[0].location
    per_order: dict[int, list[str]] = defaultdict(list)
    noted: list[str] = []
    for task in tasks:
        missing = task.quantity - task.picked - task.short
        if missing <= 0:
            continue
        task.short += missing
        line = session.get(OrderLine, task.order_line_id)
        assert line is not None
        line.short_qty += missing
        session.add(task)
        session.add(line)
        what = f"{missing} × {line.name or line.sku} ({line.sku}) at {here}, found {task.picked}"
        per_order[task.order_id].append(what)
        noted.append(f"tote {task.tote}: found {task.picked} of {task.quantity}")
        record_event(
            session,
            actor,
            "short_pick",  # the kind the day report counts (#9)
            order_id=task.order_id,
            code=raw,
            result="info",
            message=f"short pick: {what}",
            data={"batch": batch.id, "stop": seq, "short": missing, "found": task.picked},
        )
    held: list[str] = []
    for order_id, whats in per_order.items():
        order = session.get(Order, order_id)
        assert order is not None
        if rules.short_pick == "hold" and order.status == OrderStatus.PICKING:
            change_status(
                session,
                order,
                Action.HOLD,
                actor,
                code=raw,
                reason="short pick: " + "; ".join(whats),
            )
            held.append(order.number)
    session.flush()
    text = f"Short at {here}: {'; '.join(noted)}."
    if held:
        text += f" On hold: order {', '.join(held)}."
    elif rules.short_pick == "partial":
        text += " The order ships what was found."
    finished = _current_tasks(session, batch) is None
    if finished:
        text += " " + _finish(session, actor, batch, rules)
    return PickOutcome(True, text, raw, _view(session, batch, layout, rules), finished)


def short_pick(
    db: Database, actor: Actor, layout: Layout, rules: PickRules, *, code: str = "short pick key"
) -> PickOutcome:
    """The shelf has fewer than needed: what was scanned at this stop is what was found."""
    return _transact_logged(
        db, actor, lambda s: _short(s, actor, layout, rules, code), kind="pick", code=code
    )


def pick_scan(
    db: Database,
    actor: Actor,
    raw: str,
    code_rules: CodeRules,
    layout: Layout,
    rules: PickRules,
) -> PickOutcome | None:
    """A scan at the pick station. ``None``: not a picking scan, let the common handler have it.

    Items (GTIN/SKU, optionally ``N*`` before), location labels, slips and the ``SHORT`` and
    ``NEXT`` commands are picking scans once someone is signed in.
    """
    if not actor.signed_in:
        return None
    qty = 1
    text = raw
    typed = _QUANTITY.fullmatch(raw)
    if typed:
        qty, text = int(typed.group(1)), typed.group(2)
    scan = classify(text, code_rules)
    if scan.sku is not None:
        scan = prefer_catalogue_sku(db, scan)
    if is_case(scan):
        if typed:
            return _refuse(db, actor, raw, msg.case_alone(text))
        if scan.count is None:
            return _refuse(db, actor, raw, msg.case_without_count(raw))
        qty = scan.count
    if typed and scan.kind not in (CodeKind.GTIN, CodeKind.SKU):
        return _refuse(db, actor, raw, f"A quantity goes before an item: {msg.quote(raw)}.")
    if typed and not 1 <= qty <= MAX_TYPED_QUANTITY:
        return _refuse(db, actor, raw, f"{msg.quote(raw)}: a quantity is 1–{MAX_TYPED_QUANTITY}.")

    def run(fn: Callable[[Session], PickOutcome]) -> PickOutcome:
        try:
            return _transact_logged(db, actor, fn, kind="pick", code=raw)
        except Refused as exc:
            return PickOutcome(False, exc.message, raw)

    if scan.kind in (CodeKind.GTIN, CodeKind.SKU) or is_case(scan):
        return run(lambda s: _pick_units(s, actor, layout, rules, scan, raw, qty))
    if scan.kind is CodeKind.LOCATION:
        return run(lambda s: _confirm_location(s, actor, layout, rules, scan, raw))
    if scan.kind is CodeKind.ORDER:
        return run(lambda s: _start_from_slip(s, actor, layout, rules, scan.value, raw))
    if scan.command is Command.SHORT:
        return run(lambda s: _short(s, actor, layout, rules, raw))
    if scan.command is Command.NEXT:
        try:
            return next_batch(db, actor, layout, rules, code=raw)
        except Refused as exc:
            return PickOutcome(False, exc.message, raw)
    return None


def _refuse(db: Database, actor: Actor, raw: str, message: str) -> PickOutcome:
    log_refusal(db, actor, "pick", code=raw, message=message)
    return PickOutcome(False, message, raw)
