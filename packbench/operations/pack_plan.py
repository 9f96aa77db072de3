"""The box suggestion (the pack plan): which box or bag, or which several parcels, the packing
logic fits an order into, within the limits of its carrier product; the box the packers chose
for the same items often enough instead (learned); made outside the write transaction when it
can be, kept with the order when it is first opened.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, select

from packbench.carriers.base import Product as CarrierProduct
from packbench.core import packing
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import BoxOverride, BoxType, Order, PackPlan
from packbench.operations.pack_state import (
    _cache,
    _lines,
    _order_units,
    _plan,
    _products,
    catalogue,
)
from packbench.operations.pack_views import (
    PackRules,
    SuggestedParcel,
    SuggestionView,
    _suggestion_json,
    needed,
)

SUGGEST_BUDGET_S = 0.3


def qualifying(boxes: Sequence[BoxType], product: CarrierProduct | None) -> list[BoxType]:
    """The boxes and bags a parcel of ``product`` may go in (by their size), each with its
    weight limit capped at the product's: the suggestion then never proposes one that does
    not qualify. Without a product, all of them."""
    if product is None:
        return list(boxes)
    out = []
    for b in boxes:
        if product.refuses(0, (b.inner_l_mm, b.inner_w_mm, b.inner_h_mm)) is not None:
            continue
        cap = product.max_weight_g
        if cap is not None and b.max_weight_g > cap:
            b = BoxType.model_validate({**b.model_dump(), "max_weight_g": cap})
        out.append(b)
    return out


def _limits_text(product: CarrierProduct) -> str:
    parts = []
    if product.max_weight_g:
        parts.append(f"{product.max_weight_g / 1000:g} kg")
    if product.max_length_mm:
        parts.append(f"{product.max_length_mm / 10:g} cm long")
    if product.max_sum_of_sides_mm:
        parts.append(f"sides summing to {product.max_sum_of_sides_mm / 10:g} cm")
    return f"{product.name or product.id} (at most {', '.join(parts)})"


def _suggest_for(
    boxes: Sequence[BoxType],
    items: Sequence[packing.Item],
    product: CarrierProduct | None,
    *,
    budget_s: float = SUGGEST_BUDGET_S,
) -> SuggestionView:
    allowed = qualifying(boxes, product)
    if product is not None and boxes and not allowed:
        return SuggestionView(
            (), (), False, f"no box or bag in the catalogue qualifies for {_limits_text(product)}"
        )
    view = compute_suggestion(allowed, items, budget_s=budget_s)
    if product is not None and view.note and not view.parcels:
        note = f"{view.note} — in the boxes that qualify for {_limits_text(product)}"
        return SuggestionView((), (), False, note)
    return view


def items_key(units: Counter[str] | dict[str, int]) -> str:
    """The canonical name of a set of items: ``SKU×qty`` sorted by SKU, joined by ``|``."""
    return "|".join(f"{sku}×{n}" for sku, n in sorted(units.items()) if n > 0)


def to_packing_box(b: BoxType) -> packing.BoxType:
    return packing.BoxType(
        b.code,
        b.kind,
        (b.inner_l_mm, b.inner_w_mm, b.inner_h_mm),
        b.max_weight_g,
        b.tare_g,
        b.cost_ore,
    )


def _bag_shape(box: BoxType) -> tuple[int, int, int]:
    t = box.inner_h_mm
    return (box.inner_l_mm - t, box.inner_w_mm - t, t)


def _parcel_dims(box: BoxType, plan: SuggestionView | None, seq: int) -> tuple[int, int, int]:
    """The parcel's dimensions: a box's inner size; a bag as the suggestion modelled it."""
    if box.kind != packing.BAG:
        return (box.inner_l_mm, box.inner_w_mm, box.inner_h_mm)
    if plan is not None and seq <= len(plan.parcels) and plan.parcels[seq - 1].box == box.code:
        return plan.parcels[seq - 1].inner_mm
    return _bag_shape(box)


def _items_for_packing(session: Session, order_id: int) -> tuple[list[packing.Item], str | None]:
    """The order's units as packing items, or a note naming the item that cannot be packed."""
    per_sku: dict[str, packing.Item] = {}
    for line in _lines(session, order_id):
        n = needed(line)
        if n == 0:
            continue
        product = _products(session, order_id).get(line.product_id)
        if product is None:
            return [], f"{line.sku or line.name} is no product of this bench (no size known)"
        dims = (product.length_mm, product.width_mm, product.height_mm)
        if min(dims) <= 0:
            return [], f"{product.sku} has no size on record"
        if product.sku in per_sku:
            old = per_sku[product.sku]
            per_sku[product.sku] = packing.Item(
                old.sku, old.dims_mm, old.weight_g, old.quantity + n, old.keep_upright
            )
        else:
            per_sku[product.sku] = packing.Item(
                product.sku, dims, product.weight_g, n, product.keep_upright
            )
    return list(per_sku.values()), None


def compute_suggestion(
    boxes: Sequence[BoxType], items: Sequence[packing.Item], *, budget_s: float = SUGGEST_BUDGET_S
) -> SuggestionView:
    """The packing logic's suggestion as a view (pure apart from the row classes read)."""
    if not boxes:
        return SuggestionView((), (), False, "no active boxes or bags in the catalogue")
    if not items:
        return SuggestionView((), (), False, "nothing to pack")
    by_code = {b.code: b for b in boxes}
    try:
        s = packing.suggest([to_packing_box(b) for b in boxes], items, time_budget_s=budget_s)
    except packing.PackingError as exc:
        return SuggestionView((), (), False, str(exc))
    return SuggestionView(
        parcels=tuple(
            SuggestedParcel(
                box=p.box,
                kind=by_code[p.box].kind,
                name=by_code[p.box].name,
                inner_mm=p.inner_mm,
                fill=p.fill,
                weight_g=p.weight_g,
                units=tuple(sorted(Counter(u.sku for u in p.items).items())),
                tare_g=by_code[p.box].tare_g,
            )
            for p in s.parcels
        ),
        alternatives=s.alternatives,
        learned=False,
    )


def _can_hold(box: BoxType, items: Sequence[packing.Item]) -> bool:
    """By the records alone: the items weigh no more than the box may carry and take no more
    room than it has. (The packers fitted them in it, so no closer search is asked for.)"""
    container = to_packing_box(box)
    weight = sum(i.weight_g * i.quantity for i in items)
    volume = sum(math.prod(i.dims_mm) * i.quantity for i in items)
    return weight <= container.max_weight_g and volume <= packing.nominal_volume_mm3(container)


def _learned_box(
    session: Session, key: str, rules: PackRules, items: Sequence[packing.Item]
) -> BoxType | None:
    """The box the packers chose for this item set ``learn_after`` times (the most, latest),
    unless the catalogue now says it cannot hold them (made smaller or lighter since)."""
    rows = session.exec(
        select(BoxOverride.box_code, func.count(), func.max(BoxOverride.id))
        .where(BoxOverride.items_key == key)
        .group_by(BoxOverride.box_code)
    ).all()
    ranked = sorted(rows, key=lambda r: (r[1], r[2]), reverse=True)
    for code, n, _ in ranked:
        if n < rules.learn_after:
            return None
        box = session.exec(select(BoxType).where(BoxType.code == code)).first()
        if box is not None and box.active and (not items or _can_hold(box, items)):
            return box
    return None


def _learned_suggestion(
    box: BoxType, items: Sequence[packing.Item], computed: SuggestionView
) -> SuggestionView:
    volume = sum(math.prod(i.dims_mm) * i.quantity for i in items)
    space = (
        math.prod(_bag_shape(box))
        if box.kind == packing.BAG
        else box.inner_l_mm * box.inner_w_mm * box.inner_h_mm
    )
    weight = sum(i.weight_g * i.quantity for i in items) + box.tare_g
    computed_first = [p.box for p in computed.parcels[:1] if len(computed.parcels) == 1]
    alternatives = [c for c in (*computed_first, *computed.alternatives) if c != box.code]
    parcel = SuggestedParcel(
        box=box.code,
        kind=box.kind,
        name=box.name,
        inner_mm=_bag_shape(box)
        if box.kind == packing.BAG
        else (box.inner_l_mm, box.inner_w_mm, box.inner_h_mm),
        fill=volume / space if space else 0.0,
        weight_g=weight,
        units=tuple(sorted((i.sku, i.quantity) for i in items)),
        tare_g=box.tare_g,
    )
    return SuggestionView((parcel,), tuple(alternatives[:2]), True)


def _prepare_plan(
    db: Database, order_id: int, rules: PackRules | None = None
) -> SuggestionView | None:
    """Outside any write transaction: the packing logic's suggestion for an order without a plan.

    The search takes up to a few hundred milliseconds; no terminal should wait for the write
    lock meanwhile. None when the order already has its plan (or does not exist).
    """
    with db.read() as session:
        order = session.get(Order, order_id)
        if order is None or session.get(PackPlan, order_id) is not None:
            return None
        if order.status not in (OrderStatus.PICKED, OrderStatus.PACKING):
            return None  # only looked at here: no suggestion needed
        items, note = _items_for_packing(session, order_id)
        if note:
            return SuggestionView((), (), False, note)
        boxes = catalogue(session)
        product = rules.product_for(order.shipping_method_id) if rules else None
    return _suggest_for(boxes, items, product)


def _ensure_plan(
    session: Session, order: Order, rules: PackRules, computed: SuggestionView | None
) -> PackPlan:
    assert order.id is not None
    plan = _plan(session, order.id)
    if plan is not None:
        return plan
    key = items_key(_order_units(session, order.id))
    items, note = _items_for_packing(session, order.id)
    if computed is None:  # made in the meantime by someone else, or not prepared: make it now
        computed = (
            SuggestionView((), (), False, note)
            if note
            else _suggest_for(
                catalogue(session),
                items,
                rules.product_for(order.shipping_method_id),
                budget_s=0.05,
            )
        )
    learned = _learned_box(session, key, rules, items)
    suggestion = computed if learned is None else _learned_suggestion(learned, items, computed)
    plan = PackPlan(
        order_id=order.id,
        items_key=key,
        suggestion=_suggestion_json(suggestion),
        learned=suggestion.learned,
    )
    session.add(plan)
    session.flush()
    _cache(session)[("plan", order.id)] = plan
    return plan
