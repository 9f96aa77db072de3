"""The box suggestion as JSON: the request (`packbench box`, the demo) in, the answer out.

Pure logic, standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packbench.core.packing_model import (
    BOX,
    KINDS,
    BoxType,
    Item,
    PackingError,
    Suggestion,
    _check_catalogue,
    _dims,
    _kinds,
    _text,
    _whole,
)

_BOX_FIELDS = {"code", "kind", "inner_mm", "max_weight_g", "tare_g", "cost_ore"}
_BAG_FIELDS = {"code", "kind", "flat_mm", "max_thickness_mm", "max_weight_g", "tare_g", "cost_ore"}
_ITEM_FIELDS = {"sku", "dims_mm", "weight_g", "quantity", "keep_upright"}


def _need(doc: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in doc:
        raise PackingError(f"{where}.{name}: missing")
    return doc[name]


def _no_strangers(doc: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for name in doc:
        if name not in allowed:
            raise PackingError(
                f"{where}.{name}: unknown field (expected {', '.join(sorted(allowed))})"
            )


def _parse_box(doc: object, where: str) -> BoxType:
    if not isinstance(doc, Mapping):
        raise PackingError(f"{where}: must be an object, got {doc!r}")
    kind = _need(doc, "kind", where)
    if kind not in KINDS:
        raise PackingError(f"{where}.kind: must be 'box' or 'bag', got {kind!r}")
    _no_strangers(doc, _BOX_FIELDS if kind == BOX else _BAG_FIELDS, where)
    code = _text(_need(doc, "code", where), f"{where}.code")
    if kind == BOX:
        inner = _dims(_need(doc, "inner_mm", where), f"{where}.inner_mm")
    else:
        flat = _dims(_need(doc, "flat_mm", where), f"{where}.flat_mm", 2)
        t = _whole(_need(doc, "max_thickness_mm", where), f"{where}.max_thickness_mm", 1)
        if t >= min(flat):
            raise PackingError(
                f"{where}.max_thickness_mm: {t} mm must be smaller than the flat size {list(flat)}"
            )
        inner = (*flat, t)
    return BoxType(
        code,
        kind,
        inner,  # type: ignore[arg-type]  # _dims gave exactly as many sizes as asked for
        _whole(_need(doc, "max_weight_g", where), f"{where}.max_weight_g", 1),
        _whole(doc.get("tare_g", 0), f"{where}.tare_g", 0),
        _whole(_need(doc, "cost_ore", where), f"{where}.cost_ore", 0),
    )


def _parse_item(doc: object, where: str) -> Item:
    if not isinstance(doc, Mapping):
        raise PackingError(f"{where}: must be an object, got {doc!r}")
    _no_strangers(doc, _ITEM_FIELDS, where)
    upright = doc.get("keep_upright", False)
    if not isinstance(upright, bool):
        raise PackingError(f"{where}.keep_upright: must be true or false, got {upright!r}")
    return Item(
        _text(_need(doc, "sku", where), f"{where}.sku"),
        _dims(_need(doc, "dims_mm", where), f"{where}.dims_mm"),  # type: ignore[arg-type]  # _dims gave exactly three sizes
        _whole(_need(doc, "weight_g", where), f"{where}.weight_g", 0),
        _whole(doc.get("quantity", 1), f"{where}.quantity", 1),
        upright,
    )


def parse_request(doc: dict[str, Any]) -> tuple[list[BoxType], list[Item]]:
    """Boxes and items from the JSON request; PackingError naming the field if it is bad.

    ``tare_g`` (default 0), ``quantity`` (default 1) and ``keep_upright`` (default false) may
    be left out; unknown fields are refused so that a misspelt one is not silently ignored.
    """
    if not isinstance(doc, Mapping):
        raise PackingError(f"request: must be an object, got {type(doc).__name__}")
    _no_strangers(doc, {"boxes", "items"}, "request")
    raw_boxes = _need(doc, "boxes", "request")
    raw_items = _need(doc, "items", "request")
    if not isinstance(raw_boxes, list) or not raw_boxes:
        raise PackingError("boxes: must be a non-empty list")
    if not isinstance(raw_items, list) or not raw_items:
        raise PackingError("items: must be a non-empty list")
    boxes = [_parse_box(b, f"boxes[{i}]") for i, b in enumerate(raw_boxes)]
    items = [_parse_item(it, f"items[{i}]") for i, it in enumerate(raw_items)]
    _check_catalogue(boxes)
    _kinds(items)
    return boxes, items


def suggestion_to_json(s: Suggestion) -> dict[str, Any]:
    """The suggestion as plain JSON data (lists, not tuples; fill rounded to 4 places)."""
    return {
        "parcels": [
            {
                "box": p.box,
                "inner_mm": list(p.inner_mm),
                "weight_g": p.weight_g,
                "fill": round(p.fill, 4),
                "items": [
                    {"sku": u.sku, "position_mm": list(u.position_mm), "size_mm": list(u.size_mm)}
                    for u in p.items
                ],
            }
            for p in s.parcels
        ],
        "alternatives": list(s.alternatives),
    }
