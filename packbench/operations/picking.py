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
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence

from sqlmodel import Session, col, select

from packbench.core.codes import CodeKind, CodeRules, Command, Scan, classify
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
from packbench.data.types import utcnow
from packbench.operations import messages as msg
from packbench.operations.common import Actor, Refused, change_status, record_event
from packbench.operations.common import transact_logged as _transact_logged
from packbench.operations.itemscan import find_by_gtin, is_case, prefer_catalogue_sku
from packbench.operations.pick_views import DONE, OPEN, PickOutcome, PickRules, _open_batch, _view

MAX_TYPED_QUANTITY = 999

_QUANTITY = re.compile(r"\s*([0-9]{1,4})\s*\*\s*(\S.*)")


# ----------------------------------------------------------------------------------- starting


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
        if order.status == OrderStatus.SLIP_PRINTED:
            change_status(session, order, Action.START_PICK, actor, code=code)
        session.add(PickBatchOrder(batch_id=batch.id, order_id=order.id or 0, tote=tote))
        for line, product, loc in lines:
            line.short_qty = 0  # a new attempt at what an earlier short pick left
            session.add(line)
            session.add(
                PickTask(
                    batch_id=batch.id,
                    seq=seq_of[loc],
                    location=loc,
                    order_id=order.id or 0,
                    order_line_id=line.id or 0,
                    product_id=product.id,
                    tote=tote,
                    quantity=line.quantity - line.picked_qty,
                )
            )
        record_event(
            session,
            actor,
            "pick",
            order_id=order.id,
            code=code,
            message=f"batch {batch.id}: order {order.number} in tote {tote}",
            data={"batch": batch.id, "tote": tote},
        )
    session.flush()
    return batch


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


# ----------------------------------------------------------------------------------- scanning


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
    db.transact(
        lambda s: record_event(s, actor, "pick", code=raw, result="refused", message=message)
    )
    return PickOutcome(False, message, raw)
