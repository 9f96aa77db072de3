"""A parcel at the pack station once its units are in: its box or bag (checked against the
carrier product's limits and the plan), its weight (against items + tare, a difference beyond
``[pack] weight_tolerance_pct`` waiting for ``CMD-CONFIRM``), the next parcel (``CMD-NEXT``),
and the order ``packed`` when the last unit, box and weight are in (``_after_change``).
"""

from __future__ import annotations

import re

from sqlmodel import Session, select

from packbench.core import packing
from packbench.core.workflow import Action
from packbench.data.models import BoxOverride, BoxType, Order, PackPlan, Parcel
from packbench.operations import messages as msg
from packbench.operations.common import Actor, Refused, change_status
from packbench.operations.pack_claims import _unclaim
from packbench.operations.pack_plan import _items_for_packing, _parcel_dims, to_packing_box
from packbench.operations.pack_state import (
    _clear_weight,
    _current,
    _drop_parcel,
    _mine,
    _new_parcel,
    _parcels,
    _plan,
    _plan_view,
    _record_scan,
    _tares,
    _view,
)
from packbench.operations.pack_views import PackOutcome, PackRules, SuggestionView, kg

#: The most a typed weight may be (a pallet is not a parcel).
MAX_WEIGHT_G = 100_000

_WEIGHT = re.compile(r"\s*([0-9]{1,6}(?:[.,][0-9]{1,3})?)\s*(kg|g)\s*", re.IGNORECASE)


def parse_weight(text: str) -> int | None:
    """Grams from ``1250g``, ``1250 g``, ``1.25kg``, ``1,25 KG``; None if it is no weight."""
    m = _WEIGHT.fullmatch(text)
    if m is None:
        return None
    number = float(m.group(1).replace(",", "."))
    grams = number * 1000 if m.group(2).lower() == "kg" else number
    return round(grams)


def _choose_box(
    session: Session, actor: Actor, rules: PackRules, order_id: int, code: str, raw: str
) -> PackOutcome:
    order = _mine(session, actor, order_id, raw)
    box = session.exec(select(BoxType).where(BoxType.code == code)).first()
    if box is None:
        raise Refused(msg.unknown_box(code), order_id=order.id)
    if not box.active:
        raise Refused(
            f"{box.code} ({box.name}) is no longer in use; take another.", order_id=order.id
        )
    product = rules.product_for(order.shipping_method_id)
    why = product.refuses(0, (box.inner_l_mm, box.inner_w_mm, box.inner_h_mm)) if product else None
    if why:
        raise Refused(
            f"{box.code} ({box.name}) does not qualify for order {order.number}: {why}. "
            "Take a box or bag that does, before the label is bought.",
            order_id=order.id,
        )
    parcel = _current(session, order)
    plan = _plan_view(session, order)
    _tares(session)[box.code] = box.tare_g
    parcel.box_code = box.code
    parcel.length_mm, parcel.width_mm, parcel.height_mm = _parcel_dims(box, plan, parcel.seq)
    _clear_weight(session, order, parcel)
    suggested = (
        plan.parcels[parcel.seq - 1].box if plan and parcel.seq <= len(plan.parcels) else None
    )
    _record_scan(
        session,
        actor,
        order,
        raw,
        message=f"parcel {parcel.seq} in {box.code}"
        + (f" (suggested {suggested})" if suggested and suggested != box.code else ""),
        data={"box": box.code, "suggested": suggested, "parcel": parcel.seq},
    )
    session.flush()
    if suggested is None or suggested == box.code:
        text = f"Parcel {parcel.seq}: {box.code} ({box.name})."
    else:
        text = (
            f"Parcel {parcel.seq}: {box.code} ({box.name}) instead of the suggested {suggested} "
            "— noted as the packers' choice."
        )
        if not _may_hold(session, order, box, plan, parcel.seq):
            text += " By the sizes on record it does not hold them all — check before closing."
    return _after_change(session, actor, rules, order, raw, text)


def _may_hold(
    session: Session, order: Order, box: BoxType, plan: SuggestionView | None, seq: int
) -> bool:
    """Whether the units planned for parcel ``seq`` fit ``box`` by the sizes on record.

    True when it cannot be told (no plan for this parcel, sizes unknown). A quick search only:
    this runs inside the scan's transaction.
    """
    if plan is None or seq > len(plan.parcels):
        return True
    wanted = dict(plan.parcels[seq - 1].units)
    items, note = _items_for_packing(session, order.id or 0)
    if note:
        return True
    chosen = [
        packing.Item(i.sku, i.dims_mm, i.weight_g, wanted[i.sku], i.keep_upright)
        for i in items
        if wanted.get(i.sku)
    ]
    if not chosen:
        return True
    return packing.fits(to_packing_box(box), chosen, time_budget_s=0.02) is not None


def _weigh(
    session: Session, actor: Actor, rules: PackRules, order_id: int, grams: int, raw: str
) -> PackOutcome:
    order = _mine(session, actor, order_id, raw)
    if not 1 <= grams <= MAX_WEIGHT_G:
        raise Refused(
            f"{msg.quote(raw)} is no parcel weight (1 g – {MAX_WEIGHT_G // 1000} kg).",
            order_id=order.id,
        )
    parcel = _current(session, order)
    session.flush()
    view = _view(session, order, actor, rules)
    pv = next(p for p in view.parcels if p.seq == parcel.seq)
    if pv.unit_count == 0:
        raise Refused(
            f"Parcel {parcel.seq} is empty — scan the items before weighing "
            f"({kg(grams)} not kept).",
            order_id=order.id,
        )
    if parcel.box_code is None:
        raise Refused(
            f"Scan the box or bag of parcel {parcel.seq} first: the expected weight includes its "
            f"tare ({kg(grams)} not kept).",
            order_id=order.id,
        )
    product = rules.product_for(order.shipping_method_id)
    dims = (parcel.length_mm, parcel.width_mm, parcel.height_mm)
    why = product.refuses(grams, dims) if product else None
    if why:
        raise Refused(
            f"Parcel {parcel.seq} weighs {kg(grams)}, too much for order {order.number}: {why}. "
            "Move some items to another parcel (CMD-NEXT) before the label is bought "
            f"({kg(grams)} not kept).",
            order_id=order.id,
        )
    expected = pv.expected_weight_g
    off = abs(grams - expected) / expected * 100 if expected else 100.0
    plan = _plan(session, order.id or 0)
    assert plan is not None
    if off > rules.weight_tolerance_pct:
        plan.pending_weight_g = grams
        plan.pending_weight_seq = parcel.seq
        session.add(plan)
        way = "more" if grams > expected else "less"
        text = (
            f"Check parcel {parcel.seq}: it weighs {kg(grams)}, expected {kg(expected)} "
            f"({off:.0f} % {way}; tolerance {rules.weight_tolerance_pct:g} %). Is something "
            "missing or extra? Weigh again, or scan CMD-CONFIRM (F8) to accept this weight."
        )
        _record_scan(
            session,
            actor,
            order,
            raw,
            result="warning",
            message=text,
            data={"weight_g": grams, "expected_g": expected, "parcel": parcel.seq},
        )
        session.flush()
        return PackOutcome(False, text, raw, _view(session, order, actor, rules), warning=True)
    _keep_weight(session, plan, parcel, grams)
    _record_scan(
        session,
        actor,
        order,
        raw,
        message=f"parcel {parcel.seq} weighs {grams} g (expected {expected} g)",
        data={"weight_g": grams, "expected_g": expected, "parcel": parcel.seq},
    )
    session.flush()
    text = f"Parcel {parcel.seq} weighs {kg(grams)} (expected {kg(expected)})."
    return _after_change(session, actor, rules, order, raw, text)


def _keep_weight(session: Session, plan: PackPlan, parcel: Parcel, grams: int) -> None:
    """``grams`` become the parcel's weight; no weight waits for CMD-CONFIRM any more (for
    whichever parcel it waited: a kept weight settles it)."""
    parcel.weight_g = grams
    session.add(parcel)
    plan.pending_weight_g = plan.pending_weight_seq = None
    session.add(plan)


def _confirm_weight(
    session: Session, actor: Actor, rules: PackRules, order_id: int, raw: str
) -> PackOutcome:
    order = _mine(session, actor, order_id, raw)
    plan = _plan(session, order.id or 0)
    parcel = _current(session, order)
    if plan is None or plan.pending_weight_g is None or plan.pending_weight_seq != parcel.seq:
        raise Refused(f"Order {order.number}: nothing waits for a confirmation.", order_id=order.id)
    grams = plan.pending_weight_g
    _keep_weight(session, plan, parcel, grams)
    _record_scan(
        session,
        actor,
        order,
        raw,
        message=f"parcel {parcel.seq} weight {grams} g confirmed despite the difference",
        data={"weight_g": grams, "parcel": parcel.seq, "confirmed": True},
    )
    session.flush()
    text = f"Parcel {parcel.seq}: {kg(grams)} confirmed."
    return _after_change(session, actor, rules, order, raw, text)


def _next_parcel(
    session: Session, actor: Actor, rules: PackRules, order_id: int, raw: str
) -> PackOutcome:
    order = _mine(session, actor, order_id, raw)
    parcel = _current(session, order)
    session.flush()
    view = _view(session, order, actor, rules)
    pv = next(p for p in view.parcels if p.seq == parcel.seq)
    if view.units_packed >= view.units_total:
        raise Refused(
            f"Every unit of order {order.number} is packed; no further parcel is needed.",
            order_id=order.id,
        )
    if pv.unit_count == 0:
        raise Refused(
            f"Parcel {parcel.seq} is still empty — pack something in it first.", order_id=order.id
        )
    missing = [
        w for w, ok in (("its box", parcel.box_code), ("its weight", parcel.weight_g)) if not ok
    ]
    if missing:
        raise Refused(
            f"Finish parcel {parcel.seq} first: scan {' and '.join(missing)}.", order_id=order.id
        )
    if view.pending_weight_g is not None and view.pending_weight_seq == parcel.seq:
        # Closed now, the parcel would keep its earlier weight and the reading that disagreed
        # would be dropped unseen (the label and the carrier then go by the old one).
        raise Refused(
            f"Parcel {parcel.seq} weighed {kg(view.pending_weight_g)} last, which waits for a "
            "check: weigh it again, or scan CMD-CONFIRM (F8) to accept that weight, then close "
            "the parcel. Not closed.",
            order_id=order.id,
        )
    parcel.status = "packed"
    session.add(parcel)
    new = _new_parcel(session, order.id or 0, parcel.seq + 1)
    _record_scan(
        session,
        actor,
        order,
        raw,
        message=f"parcel {parcel.seq} closed; parcel {new.seq} started",
        data={"parcel": new.seq},
    )
    session.flush()
    text = f"Parcel {parcel.seq} closed. Now scanning into parcel {new.seq}."
    return PackOutcome(True, text, raw, _view(session, order, actor, rules))


def _after_change(
    session: Session, actor: Actor, rules: PackRules, order: Order, raw: str, text: str
) -> PackOutcome:
    """Finish the order if this change completed it."""
    view = _view(session, order, actor, rules)
    done = view.units_total > 0 and all(ln.done for ln in view.lines)
    parcels = [p for p in view.parcels if p.status in ("open", "packed")]
    filled = [p for p in parcels if p.unit_count > 0]
    ready = all(p.box_code and p.weight_g > 0 for p in filled) and view.pending_weight_g is None
    if not (done and ready and filled):
        return PackOutcome(True, text, raw, view)
    rows = {p.seq: p for p in _parcels(session, order.id or 0)}
    for p in parcels:
        row = rows[p.seq]
        if p.unit_count == 0:
            _drop_parcel(session, row)
        else:
            row.status = "packed"
            session.add(row)
    plan = _plan(session, order.id or 0)
    suggestion = view.suggestion
    if plan is not None and len(filled) == 1:
        chosen = filled[0].box_code
        suggested = suggestion.parcels[0].box if suggestion and suggestion.parcels else None
        if chosen != suggested or (suggestion and len(suggestion.parcels) != 1):
            session.add(
                BoxOverride(
                    order_id=order.id or 0,
                    items_key=plan.items_key,
                    suggested_code=suggested
                    if suggestion and len(suggestion.parcels) == 1
                    else None,
                    box_code=chosen or "",
                    packer_id=actor.packer_id,
                )
            )
    change_status(session, order, Action.FINISH_PACK, actor, code=raw)
    _unclaim(session, order)
    boxes = ", ".join(f"{p.box_code} {kg(p.weight_g)}" for p in filled)
    n = len(filled)
    summary = f"Order {order.number} packed: {n} parcel{'s' if n > 1 else ''} ({boxes})."
    _record_scan(session, actor, order, raw, message=summary)
    session.flush()
    return PackOutcome(
        True,
        f"{text} {summary} Ready for shipping.",
        raw,
        _view(session, order, actor, rules),
        finished=True,
    )
