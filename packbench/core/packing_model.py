"""The box suggestion's vocabulary: containers, order lines, parcels, and their checks.

The types :mod:`packbench.core.packing` takes and returns, the validation every input goes
through (a clear :class:`PackingError` naming the field), the units of an order merged by SKU
with the rotations each may take, and :func:`verify`: the check every parcel passes before it
is handed out (inside the container, a legal rotation, no overlap, the right units, within the
weight limit).

Pure logic, standard library only.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import permutations
from typing import TypeGuard

BOX = "box"
BAG = "bag"
KINDS = (BOX, BAG)

#: The most units one order may have: a pass of the heuristic takes time quadratic in them
#: (some 0.5 s for 200 units, seconds for several hundred).
MAX_UNITS = 500


Dims = tuple[int, int, int]


class PackingError(ValueError):
    """Bad input, or an order that cannot be packed (the message says which unit or field)."""


@dataclass(frozen=True)
class BoxType:
    """A container of the catalogue.

    ``inner_mm`` is (length, width, height) inside a box; for a bag it is
    (flat length, flat width, maximum filled thickness). ``max_weight_g`` is what the items
    may weigh together; a parcel weighs that plus ``tare_g``. Costs are in øre.
    """

    code: str
    kind: str
    inner_mm: Dims
    max_weight_g: int
    tare_g: int
    cost_ore: int


@dataclass(frozen=True)
class Item:
    """An order line: ``quantity`` units of ``dims_mm`` (the third is the height)."""

    sku: str
    dims_mm: Dims
    weight_g: int
    quantity: int = 1
    keep_upright: bool = False


@dataclass(frozen=True)
class Placement:
    """One unit in a parcel: its corner nearest the origin and its size after rotation."""

    sku: str
    position_mm: Dims
    size_mm: Dims


@dataclass(frozen=True)
class Parcel:
    """One container and what goes in it.

    ``inner_mm`` is the space packed (for a bag: the box it was modelled as), ``weight_g`` is
    items plus tare and ``fill`` is the items' volume over ``inner_mm``'s volume. ``items`` come
    in a packing order: bottom layer first.
    """

    box: str
    inner_mm: Dims
    weight_g: int
    fill: float
    items: tuple[Placement, ...]


@dataclass(frozen=True)
class Suggestion:
    """The parcels of an order (one unless nothing holds it all) and the runners-up.

    ``alternatives`` are the next containers, in the same cheapest-then-smallest order, that
    also hold the whole order; empty when the order had to be split.
    """

    parcels: tuple[Parcel, ...]
    alternatives: tuple[str, ...]


# --------------------------------------------------------------------------- validation


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(value: object, where: str, minimum: int) -> int:
    """An int (or a float with no fraction) of at least ``minimum``, else a PackingError."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not _is_int(value):
        raise PackingError(f"{where}: must be a whole number, got {value!r}")
    if value < minimum:
        word = "positive" if minimum == 1 else f"at least {minimum}"
        raise PackingError(f"{where}: must be {word}, got {value}")
    return value


def _dims(value: object, where: str, n: int = 3) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or len(value) != n:
        raise PackingError(f"{where}: must be a list of {n} sizes in mm, got {value!r}")
    return tuple(_whole(v, f"{where}[{i}]", 1) for i, v in enumerate(value))


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PackingError(f"{where}: must be a non-empty string, got {value!r}")
    return value


def _check_box(box: BoxType, where: str) -> BoxType:
    if not isinstance(box, BoxType):
        raise PackingError(f"{where}: expected a BoxType, got {type(box).__name__}")
    code = _text(box.code, f"{where}.code")
    where = f"{where} ({code!r})"
    if box.kind not in KINDS:
        raise PackingError(f"{where}.kind: must be 'box' or 'bag', got {box.kind!r}")
    inner = _dims(box.inner_mm, f"{where}.inner_mm")
    if box.kind == BAG and inner[2] >= min(inner[0], inner[1]):
        raise PackingError(
            f"{where}.inner_mm: a bag's maximum thickness ({inner[2]} mm) must be smaller "
            f"than its flat size ({inner[0]} x {inner[1]} mm)"
        )
    return BoxType(
        code,
        box.kind,
        inner,  # type: ignore[arg-type]  # _dims gave exactly as many sizes as asked for
        _whole(box.max_weight_g, f"{where}.max_weight_g", 1),
        _whole(box.tare_g, f"{where}.tare_g", 0),
        _whole(box.cost_ore, f"{where}.cost_ore", 0),
    )


def _check_catalogue(boxes: Sequence[BoxType]) -> list[BoxType]:
    if isinstance(boxes, str | bytes) or not isinstance(boxes, Sequence) or not boxes:
        raise PackingError("boxes: the catalogue is empty")
    out = [_check_box(b, f"boxes[{i}]") for i, b in enumerate(boxes)]
    seen: set[str] = set()
    for i, b in enumerate(out):
        if b.code in seen:
            raise PackingError(f"boxes[{i}].code: {b.code!r} is listed twice")
        seen.add(b.code)
    return out


@dataclass(slots=True)
class _Kind:
    """The units of one SKU: identical, interchangeable."""

    sku: str
    dims: Dims
    weight: int
    upright: bool
    count: int
    volume: int
    rots: tuple[Dims, ...]


def _rotations(dims: Dims, upright: bool) -> tuple[Dims, ...]:
    a, b, c = dims
    found = {(a, b, c), (b, a, c)} if upright else set(permutations(dims))
    return tuple(sorted(found))  # type: ignore[arg-type]  # permutations of three sizes are three sizes


def _check_item(item: Item, where: str) -> Item:
    if not isinstance(item, Item):
        raise PackingError(f"{where}: expected an Item, got {type(item).__name__}")
    sku = _text(item.sku, f"{where}.sku")
    where = f"{where} ({sku!r})"
    if not isinstance(item.keep_upright, bool):
        raise PackingError(f"{where}.keep_upright: must be true or false")
    return Item(
        sku,
        _dims(item.dims_mm, f"{where}.dims_mm"),  # type: ignore[arg-type]  # _dims gave exactly three sizes
        _whole(item.weight_g, f"{where}.weight_g", 0),
        _whole(item.quantity, f"{where}.quantity", 1),
        item.keep_upright,
    )


def _kinds(items: Sequence[Item]) -> list[_Kind]:
    """Validate the order and merge lines of the same SKU (which must agree)."""
    if isinstance(items, str | bytes) or not isinstance(items, Sequence) or not items:
        raise PackingError("items: the order has no items")
    by_sku: dict[str, _Kind] = {}
    for i, raw in enumerate(items):
        it = _check_item(raw, f"items[{i}]")
        k = by_sku.get(it.sku)
        if k is None:
            by_sku[it.sku] = _Kind(
                it.sku,
                it.dims_mm,
                it.weight_g,
                it.keep_upright,
                it.quantity,
                math.prod(it.dims_mm),
                _rotations(it.dims_mm, it.keep_upright),
            )
        elif (k.dims, k.weight, k.upright) != (it.dims_mm, it.weight_g, it.keep_upright):
            raise PackingError(
                f"items[{i}].sku: {it.sku!r} is listed twice with different size, weight "
                "or keep_upright"
            )
        else:
            k.count += it.quantity
    units = sum(k.count for k in by_sku.values())
    if units > MAX_UNITS:
        raise PackingError(f"items: {units} units, more than the {MAX_UNITS} one suggestion takes")
    return list(by_sku.values())


def _sub_kinds(kinds: list[_Kind], counts: Mapping[int, int]) -> list[_Kind]:
    return [
        _Kind(k.sku, k.dims, k.weight, k.upright, n, k.volume, k.rots)
        for i, k in enumerate(kinds)
        if (n := counts.get(i, 0)) > 0
    ]


def _bag_volume(flat_l: int, flat_w: int, t: float) -> float:
    return (flat_l - t) * (flat_w - t) * t


def nominal_volume_mm3(box: BoxType) -> int:
    """A container's volume for "smallest first": a bag counts at its roomiest thickness."""
    x, y, z = box.inner_mm
    if box.kind != BAG:
        return x * y * z
    s = x + y
    best = (s - math.sqrt(s * s - 3 * x * y)) / 3  # where (x - t)(y - t)t peaks
    return round(_bag_volume(x, y, min(best, z)))


def _order_key(box: BoxType) -> tuple[int, int, str]:
    return (box.cost_ore, nominal_volume_mm3(box), box.code)


# --------------------------------------------------------------------------- checking packings


def _verify(parcel: Parcel, box: BoxType, kinds: Sequence[_Kind]) -> None:
    def bad(why: str) -> PackingError:
        return PackingError(f"parcel in {parcel.box!r}: {why}")

    if parcel.box != box.code:
        raise bad(f"the box is {box.code!r}")
    inner = parcel.inner_mm
    if not (isinstance(inner, tuple) and len(inner) == 3 and all(_is_int(v) for v in inner)):
        raise bad(f"inner_mm {inner!r} is not three whole mm")
    if box.kind == BAG:
        flat_l, flat_w, t_max = box.inner_mm
        t = inner[2]
        if not (0 < t <= t_max and inner[0] == flat_l - t and inner[1] == flat_w - t):
            raise bad(f"inner_mm {inner} is not the bag {box.inner_mm} filled to some thickness")
    elif inner != box.inner_mm:
        raise bad(f"inner_mm {inner} is not the box's {box.inner_mm}")
    by_sku = {k.sku: k for k in kinds}
    have = Counter(p.sku for p in parcel.items)
    for sku, n in have.items():
        if sku not in by_sku:
            raise bad(f"holds {sku!r}, which is not in the order")
        if n != by_sku[sku].count:
            raise bad(f"holds {n} units of {sku!r}, the order has {by_sku[sku].count}")
    for k in kinds:
        if have[k.sku] != k.count:
            raise bad(f"holds {have[k.sku]} units of {k.sku!r}, the order has {k.count}")
    spans: list[tuple[int, int, int, int, int, int, int]] = []
    for n, p in enumerate(parcel.items):
        k = by_sku[p.sku]
        pos, size = p.position_mm, p.size_mm
        if not (
            isinstance(pos, tuple)
            and isinstance(size, tuple)
            and len(pos) == 3
            and len(size) == 3
            and all(_is_int(v) for v in (*pos, *size))
        ):
            raise bad(f"unit {n} ({p.sku!r}) has a malformed position or size")
        if size not in k.rots:
            how = "turned on its side" if k.upright and sorted(size) == sorted(k.dims) else ""
            raise bad(f"unit {n} ({p.sku!r}) has size {size}, not a rotation of {k.dims} {how}")
        if any(pos[a] < 0 or pos[a] + size[a] > inner[a] for a in range(3)):
            raise bad(f"unit {n} ({p.sku!r}) at {pos} size {size} sticks out of {inner}")
        x, y, z = pos
        spans.append((x, x + size[0], y, y + size[1], z, z + size[2], n))
    spans.sort()
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            if b[0] >= a[1]:
                break
            if a[2] < b[3] and b[2] < a[3] and a[4] < b[5] and b[4] < a[5]:
                raise bad(f"units {a[6]} and {b[6]} overlap")
    items_weight = sum(k.weight * k.count for k in kinds)
    if items_weight > box.max_weight_g:
        raise bad(f"items weigh {items_weight} g, the limit is {box.max_weight_g} g")
    if parcel.weight_g != items_weight + box.tare_g:
        raise bad(f"weight_g {parcel.weight_g} is not items {items_weight} + tare {box.tare_g}")
    fill = sum(k.volume * k.count for k in kinds) / math.prod(inner)
    if not math.isclose(parcel.fill, fill, rel_tol=1e-9):
        raise bad(f"fill {parcel.fill} should be {fill}")


def verify(parcel: Parcel, box: BoxType, items: Sequence[Item]) -> None:
    """Raise PackingError unless ``parcel`` is a correct packing of ``items`` in ``box``."""
    _verify(parcel, _check_box(box, "box"), _kinds(items))


def verify_suggestion(s: Suggestion, boxes: Sequence[BoxType], items: Sequence[Item]) -> None:
    """Raise PackingError unless every parcel is correct and they hold exactly the order."""
    catalogue = {b.code: b for b in _check_catalogue(boxes)}
    kinds = {k.sku: k for k in _kinds(items)}
    if not s.parcels:
        raise PackingError("the suggestion has no parcels")
    total: Counter[str] = Counter()
    for parcel in s.parcels:
        if parcel.box not in catalogue:
            raise PackingError(f"parcel in {parcel.box!r}: no such box")
        n = Counter(p.sku for p in parcel.items)
        for sku in n:
            if sku not in kinds:
                raise PackingError(f"parcel in {parcel.box!r}: holds {sku!r}, not in the order")
        counts = {i: n[k.sku] for i, k in enumerate(kinds.values())}
        _verify(parcel, catalogue[parcel.box], _sub_kinds(list(kinds.values()), counts))
        total += n
    for sku, k in kinds.items():
        if total[sku] != k.count:
            raise PackingError(f"the parcels hold {total[sku]} units of {sku!r}, not {k.count}")
    for code in s.alternatives:
        if code not in catalogue:
            raise PackingError(f"alternative {code!r}: no such box")
