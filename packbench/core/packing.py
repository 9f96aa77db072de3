"""Which box or bag an order goes in: 3D packing, checked placement by placement.

:func:`suggest` picks the cheapest container of the catalogue (then the smallest by volume)
into which every unit of an order fits, and says where each unit goes. Nothing is suggested on
faith: every parcel this module returns has passed :func:`verify` (inside the container, a
legal rotation, no overlap, the right units, within the weight limit).

How a container is tried, cheapest first:

1. quick rejections that are exact: weight, volume (also against the container cut down to the
   sums of unit sizes that fit along each axis), each unit alone, pairs of units that cannot
   lie side by side along any axis, and units that can only be stacked along one axis;
2. an extreme-point heuristic (Crainic, Perboli & Tadei) with several unit orders and three
   placement rules (bottom-left-back, most contact, smallest envelope), also in the container
   turned a quarter about the vertical;
3. for small orders (at most ``EXACT_MAX_UNITS`` units) an exhaustive branch-and-bound over
   corner points (Martello, Pisinger & Vigo), pruned by the volume the packing already wastes.
   It settles "fits" or "does not fit" for every packing that can be built by putting the
   units in one after another, each pushed into a corner, which is how the bench packs;
   when it runs out of nodes the container counts as not fitting. Bigger orders get the same
   search for most of the container's share of the budget, to find packings the heuristic
   misses (it seldom finishes on them);
4. random restarts of the heuristic until the container's share of the time budget is spent.

A bag of flat size L x W that may be filled to a thickness T is modelled as a box of
(L - t) x (W - t) x t for several t <= T; a parcel in a bag reports the box it was packed as,
shrunk to the thickness the units use. Axis 3 is vertical (a bag's thickness): a unit marked
"keep upright" keeps its own third dimension along it and may only turn about it.

When no single container holds the order, it is split greedily: one parcel at a time is
filled, largest units first, in whichever of the roomiest and the strongest containers takes
the most volume, and then gets the cheapest container that holds it.

Pure logic, standard library only.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import permutations
from time import perf_counter
from typing import Any, TypeGuard

__all__ = [
    "BAG",
    "BOX",
    "EXACT_MAX_UNITS",
    "MAX_UNITS",
    "BoxType",
    "Item",
    "PackingError",
    "Parcel",
    "Placement",
    "Suggestion",
    "fits",
    "nominal_volume_mm3",
    "parse_request",
    "suggest",
    "suggestion_to_json",
    "verify",
    "verify_suggestion",
]

BOX = "box"
BAG = "bag"
KINDS = (BOX, BAG)

#: Orders with at most this many units get the exhaustive search when the heuristic fails.
EXACT_MAX_UNITS = 8
#: Node limit of one exhaustive search (each node costs some tens of microseconds).
EXACT_NODE_LIMIT = 20_000
#: Node limit of the corner-point search on bigger orders, where the time limit is what counts.
BIG_NODE_LIMIT = 10_000_000
#: A bag is tried at no more than this many thicknesses (spread over those worth trying).
BAG_THICKNESSES = 12
#: The most units one order may have: a pass of the heuristic takes time quadratic in them
#: (some 0.5 s for 200 units, seconds for several hundred).
MAX_UNITS = 500
#: Every container that passes the quick rejections gets at least this much search time,
#: even when the budget is spent, so that a late container is not refused for lack of time.
MIN_EFFORT_S = 0.004

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


# --------------------------------------------------------------------------- geometry helpers


def _fits_in(s: Dims, c: Dims) -> bool:
    return s[0] <= c[0] and s[1] <= c[1] and s[2] <= c[2]


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


def _bag_thicknesses(box: BoxType, kinds: Sequence[_Kind]) -> list[int]:
    """The thicknesses t at which a bag is worth trying, thinnest first.

    A packing that fits a bag at some t also fits at the height of its tallest stack once
    every unit has dropped onto the one below it, and that height is a sum of unit heights.
    So the sums of unit heights that are at most T are all the thicknesses there are to try;
    the quick rejections then drop those the units cannot fit at.
    """
    flat_l, flat_w, t_max = box.inner_mm
    limit = min(t_max, flat_l - 1, flat_w - 1)
    lowest = max(min(r[2] for r in k.rots) for k in kinds)
    sums = {0}
    for k in kinds:
        heights = {r[2] for r in k.rots if r[2] <= limit}
        for _ in range(k.count):
            grown = {s + h for s in sums for h in heights if s + h <= limit}
            if grown <= sums:
                break
            sums |= grown
    return sorted(t for t in sums if t >= lowest)


def _containers(box: BoxType, kinds: Sequence[_Kind]) -> list[Dims]:
    """The boxes a catalogue entry is tried as, roomiest first; none that surely fails."""
    if box.kind != BAG:
        return [] if _quick_reject(box.inner_mm, kinds) else [box.inner_mm]
    flat_l, flat_w, _ = box.inner_mm
    shapes = [(flat_l - t, flat_w - t, t) for t in _bag_thicknesses(box, kinds)]
    shapes = [c for c in shapes if not _quick_reject(c, kinds)]
    if len(shapes) > BAG_THICKNESSES:
        step = (len(shapes) - 1) / (BAG_THICKNESSES - 1)
        shapes = sorted({shapes[round(i * step)] for i in range(BAG_THICKNESSES)})
    return sorted(shapes, key=lambda c: (-math.prod(c), c[2]))


def _unit_fits_box(k: _Kind, box: BoxType) -> bool:
    """Whether one unit fits in the container at all (a bag at the best thickness)."""
    if box.kind != BAG:
        return any(_fits_in(r, box.inner_mm) for r in k.rots)
    flat_l, flat_w, t_max = box.inner_mm
    return any(r[2] <= t_max and r[0] + r[2] <= flat_l and r[1] + r[2] <= flat_w for r in k.rots)


def _usable(c: Dims, kinds: Sequence[_Kind]) -> Dims:
    """Along each axis, the largest sum of sizes of distinct units (each turned any legal
    way that fits ``c``) that is at most the container's size there."""
    out = []
    for a in range(3):
        full = (1 << (c[a] + 1)) - 1
        sums = 1  # bit n set: some units' sizes along this axis add up to n
        for k in kinds:
            sizes = {r[a] for r in k.rots if _fits_in(r, c)}
            for _ in range(k.count):
                grown = sums
                for size in sizes:
                    grown |= sums << size
                grown &= full
                if grown == sums:
                    break
                sums = grown
        out.append(sums.bit_length() - 1)
    return (out[0], out[1], out[2])


def _quick_reject(c: Dims, kinds: Sequence[_Kind]) -> bool:
    """True when the units certainly do not fit in ``c`` (every test here is exact)."""
    cx, cy, cz = c
    volume = 0
    mins: list[tuple[Dims, int]] = []
    for k in kinds:
        rs = [r for r in k.rots if r[0] <= cx and r[1] <= cy and r[2] <= cz]
        if not rs:
            return True
        volume += k.volume * k.count
        m = (min(r[0] for r in rs), min(r[1] for r in rs), min(r[2] for r in rs))
        mins.append((m, k.count))
    if volume > cx * cy * cz:
        return True
    # Any packing can be pushed towards the origin until every unit rests against a wall or
    # another unit along each axis; then each far side is a sum of sizes of distinct units.
    # So only the largest such sum that fits counts along each axis (the "usable" size).
    # The tests below hold for the container cut down to that too.
    c = _usable(c, kinds)
    cx, cy, cz = c
    if volume > cx * cy * cz:
        return True
    # Two units that cannot be side by side along any axis cannot share the container.
    for i, (mi, ni) in enumerate(mins):
        for j in range(i, len(mins)):
            mj, _ = mins[j]
            if j == i and ni < 2:
                continue
            if mi[0] + mj[0] > cx and mi[1] + mj[1] > cy and mi[2] + mj[2] > cz:
                return True
    # Units wider than half the container across both other axes must stack along this one.
    for a in range(3):
        b, d = (a + 1) % 3, (a + 2) % 3
        stacked = sum(m[a] * n for m, n in mins if 2 * m[b] > c[b] and 2 * m[d] > c[d])
        if stacked > c[a]:
            return True
    return False


# --------------------------------------------------------------------------- extreme points

# A placed unit: (kind index, (x, y, z), (dx, dy, dz)).
_Placed = tuple[int, Dims, Dims]

_MERIT_BOTTOM = 0  # lowest, then nearest the back, then the left; flattest rotation
_MERIT_CONTACT = 1  # most face area touching walls and units
_MERIT_ENVELOPE = 2  # smallest bounding box of everything packed so far


def _project(p: Dims, axis: int, boxes: Sequence[tuple[int, ...]]) -> Dims:
    """Slide point ``p`` towards 0 along ``axis`` until it meets a unit or the wall."""
    px, py, pz = p
    best = 0
    for b in boxes:
        if axis == 0:
            if b[3] <= px and b[1] <= py < b[4] and b[2] <= pz < b[5] and b[3] > best:
                best = b[3]
        elif axis == 1:
            if b[4] <= py and b[0] <= px < b[3] and b[2] <= pz < b[5] and b[4] > best:
                best = b[4]
        elif b[5] <= pz and b[0] <= px < b[3] and b[1] <= py < b[4] and b[5] > best:
            best = b[5]
    q = [px, py, pz]
    q[axis] = best
    return (q[0], q[1], q[2])


def _ep_pass(
    c: Dims,
    seq: Sequence[int],
    rots: Sequence[Sequence[Dims]],
    merit: int,
    rng: random.Random | None = None,
    *,
    weights: Sequence[int] | None = None,
    max_weight: int = 0,
) -> list[_Placed] | None:
    """Place the units of ``seq`` one by one at extreme points; None if one does not fit.

    With ``weights``, fill instead: a unit that does not fit, or would take the load past
    ``max_weight``, is left out, and the units that went in are returned.
    """
    cx, cy, cz = c
    load = 0
    boxes: list[tuple[int, int, int, int, int, int]] = []
    out: list[_Placed] = []
    eps: list[Dims] = [(0, 0, 0)]
    ex = ey = ez = 0
    for k in seq:
        if weights is not None and load + weights[k] > max_weight:
            continue
        best: tuple[int, int, int, int, int, int] | None = None
        best_key: tuple[int, ...] | None = None
        krots = rots[k]
        if rng is not None:
            krots = list(krots)
            rng.shuffle(krots)
        if merit == _MERIT_BOTTOM:
            eps.sort(key=lambda p: (p[2], p[1], p[0]))
        for px, py, pz in eps:
            for w, d, h in krots:
                x1 = px + w
                y1 = py + d
                z1 = pz + h
                if x1 > cx or y1 > cy or z1 > cz:
                    continue
                contact = 0
                clash = False
                if merit != _MERIT_CONTACT:  # overlap only
                    for a0, b0, c0, a1, b1, c1 in boxes:
                        if px < a1 and a0 < x1 and py < b1 and b0 < y1 and pz < c1 and c0 < z1:
                            clash = True
                            break
                for a0, b0, c0, a1, b1, c1 in boxes if merit == _MERIT_CONTACT else ():
                    if px < a1 and a0 < x1:
                        if py < b1 and b0 < y1:
                            if pz < c1 and c0 < z1:
                                clash = True
                                break
                            if c1 == pz or c0 == z1:
                                contact += (min(x1, a1) - max(px, a0)) * (min(y1, b1) - max(py, b0))
                        elif pz < c1 and c0 < z1 and (b1 == py or b0 == y1):
                            contact += (min(x1, a1) - max(px, a0)) * (min(z1, c1) - max(pz, c0))
                    elif py < b1 and b0 < y1 and pz < c1 and c0 < z1 and (a1 == px or a0 == x1):
                        contact += (min(y1, b1) - max(py, b0)) * (min(z1, c1) - max(pz, c0))
                if clash:
                    continue
                if merit == _MERIT_BOTTOM:
                    key: tuple[int, ...] = (pz, py, px, 0 if rng else h, 0 if rng else -w * d)
                elif merit == _MERIT_CONTACT:
                    if px == 0:
                        contact += d * h
                    if x1 == cx:
                        contact += d * h
                    if py == 0:
                        contact += w * h
                    if y1 == cy:
                        contact += w * h
                    if pz == 0:
                        contact += w * d
                    if z1 == cz:
                        contact += w * d
                    key = (-contact, pz, py, px)
                else:
                    key = (max(ex, x1) * max(ey, y1) * max(ez, z1), pz, py, px)
                if best_key is None or key < best_key:
                    best_key = key
                    best = (px, py, pz, x1, y1, z1)
            if merit == _MERIT_BOTTOM and best is not None:
                break  # points are sorted by the merit: no later point can do better
        if best is None:
            if weights is None:
                return None
            continue
        if weights is not None:
            load += weights[k]
        x0, y0, z0, x1, y1, z1 = best
        boxes.append(best)
        out.append((k, (x0, y0, z0), (x1 - x0, y1 - y0, z1 - z0)))
        ex, ey, ez = max(ex, x1), max(ey, y1), max(ez, z1)
        fresh = [(x1, y0, z0), (x0, y1, z0), (x0, y0, z1)]
        fresh += [
            _project((x1, y0, z0), 1, boxes),
            _project((x1, y0, z0), 2, boxes),
            _project((x0, y1, z0), 0, boxes),
            _project((x0, y1, z0), 2, boxes),
            _project((x0, y0, z1), 0, boxes),
            _project((x0, y0, z1), 1, boxes),
        ]
        kept = [p for p in eps if not (x0 <= p[0] < x1 and y0 <= p[1] < y1 and z0 <= p[2] < z1)]
        have = set(kept)
        for p in fresh:
            if p in have or p[0] >= cx or p[1] >= cy or p[2] >= cz:
                continue
            if any(
                b[0] <= p[0] < b[3] and b[1] <= p[1] < b[4] and b[2] <= p[2] < b[5] for b in boxes
            ):
                continue
            have.add(p)
            kept.append(p)
        eps = kept
    return out


def _unit_orders(kinds: Sequence[_Kind]) -> list[list[int]]:
    """Deterministic unit orders: by volume, longest side, largest face, thickest side."""
    keys: list[Callable[[_Kind], tuple[int, int]]] = [
        lambda k: (-k.volume, -max(k.dims)),
        lambda k: (-max(k.dims), -k.volume),
        lambda k: (-(sorted(k.dims)[1] * sorted(k.dims)[2]), -k.volume),
        lambda k: (-min(k.dims), -k.volume),
        # units that stand tall whichever way they lie (upright mugs, shoe boxes) first,
        # on the floor, and the flat ones stacked over and beside them
        lambda k: (-min(r[2] for r in k.rots), -k.volume),
    ]
    orders: list[list[int]] = []
    for key in keys:
        idx = sorted(range(len(kinds)), key=lambda i: (*key(kinds[i]), i))
        seq = [i for i in idx for _ in range(kinds[i].count)]
        if seq not in orders:
            orders.append(seq)
    return orders


# --------------------------------------------------------------------------- exhaustive search


class _OutOfNodes(Exception):
    pass


def _height_first(p: Dims) -> tuple[int, int, int]:
    return (p[2], p[1], p[0])


def _nondominated(tops: list[Dims]) -> list[Dims]:
    out: list[Dims] = []
    for i, t in enumerate(tops):
        dominated = False
        for j, u in enumerate(tops):
            if i != j and u[0] >= t[0] and u[1] >= t[1] and u[2] >= t[2] and (u != t or j < i):
                dominated = True
                break
        if not dominated:
            out.append(t)
    return out


def _union_volume(tops: list[Dims]) -> int:
    """Volume of the union of the boxes [0, t) for t in ``tops``."""
    if not tops:
        return 0
    *rest, t = tops
    inside = _nondominated([(min(a, t[0]), min(b, t[1]), min(c, t[2])) for a, b, c in rest])
    return _union_volume(rest) + t[0] * t[1] * t[2] - _union_volume(inside)


def _add_top(points: list[Dims], t: Dims, c: Dims) -> list[Dims]:
    """The corner points once the region below ``t`` is taken (incremental staircase)."""
    kept: list[Dims] = []
    fresh: set[Dims] = set()
    for q in points:
        if q[0] < t[0] and q[1] < t[1] and q[2] < t[2]:
            fresh.add((t[0], q[1], q[2]))
            fresh.add((q[0], t[1], q[2]))
            fresh.add((q[0], q[1], t[2]))
        else:
            kept.append(q)
    everything = kept + list(fresh)
    for f in fresh:
        if f[0] >= c[0] or f[1] >= c[1] or f[2] >= c[2]:
            continue
        if any(o != f and o[0] <= f[0] and o[1] <= f[1] and o[2] <= f[2] for o in everything):
            continue
        kept.append(f)
    return kept


def _exact(
    c: Dims,
    kinds: Sequence[_Kind],
    rots: Sequence[Sequence[Dims]],
    deadline: float,
    node_limit: int,
) -> tuple[bool | None, list[_Placed] | None]:
    """Branch-and-bound over corner points: (True, packing), (False, None) or (None, None).

    Each unit is put at a corner point of the staircase of the units before it; the bound
    is the volume left outside that staircase. Identical units are not told apart and
    partial packings already refuted are remembered, so each is explored once.
    """
    cx, cy, cz = c
    capacity = cx * cy * cz
    counts = [k.count for k in kinds]
    order = sorted(range(len(kinds)), key=lambda i: -kinds[i].volume)
    refuted: set[tuple[_Placed, ...]] = set()
    placed: list[_Placed] = []
    nodes = 0

    def search(points: list[Dims], tops: list[Dims], used: int, left: int) -> bool:
        nonlocal nodes
        if left == 0:
            return True
        nodes += 1
        if nodes > node_limit or (nodes & 7 == 0 and perf_counter() > deadline):
            raise _OutOfNodes
        if capacity - used < left:
            return False
        key = tuple(sorted(placed))
        if key in refuted:
            return False
        moves: list[tuple[int, Dims, Dims]] = []
        for k in order:
            if not counts[k]:
                continue
            n = len(moves)
            for p in sorted(points, key=_height_first):
                for s in rots[k]:
                    if p[0] + s[0] <= cx and p[1] + s[1] <= cy and p[2] + s[2] <= cz:
                        moves.append((k, p, s))
            if len(moves) == n:  # this unit fits at no corner now, nor at any later one
                refuted.add(key)
                return False
        for k, p, s in moves:
            t = (p[0] + s[0], p[1] + s[1], p[2] + s[2])
            below = [(min(a, t[0]), min(b, t[1]), min(z, t[2])) for a, b, z in tops]
            new_used = used + t[0] * t[1] * t[2] - _union_volume(_nondominated(below))
            if capacity - new_used < left - kinds[k].volume:
                continue
            counts[k] -= 1
            placed.append((k, p, s))
            new_tops = [u for u in tops if not (u[0] <= t[0] and u[1] <= t[1] and u[2] <= t[2])]
            new_tops.append(t)
            if search(_add_top(points, t, c), new_tops, new_used, left - kinds[k].volume):
                return True
            placed.pop()
            counts[k] += 1
        refuted.add(key)
        return False

    total = sum(k.volume * k.count for k in kinds)
    try:
        if search([(0, 0, 0)], [], 0, total):
            return True, list(placed)
        return False, None
    except _OutOfNodes:
        return None, None


# --------------------------------------------------------------------------- one container


class _Attempt:
    """The search for a packing of the units in one container, run in stages."""

    #: Orders of more units than this get the bottom-left-back rule only (the other rules
    #: look at every extreme point for every unit, which gets slow).
    MANY = 40

    def __init__(self, c: Dims, kinds: Sequence[_Kind], rng: random.Random) -> None:
        self.c = c
        self.kinds = kinds
        self.rng = rng
        self.rots = [tuple(r for r in k.rots if _fits_in(r, c)) for k in kinds]
        # The same container turned a quarter about the vertical: the extreme-point rules
        # favour one side, so this packs differently (placements are turned back).
        self.turned = (c[1], c[0], c[2])
        self.turned_rots = [tuple((r[1], r[0], r[2]) for r in rs) for rs in self.rots]
        self.orders = _unit_orders(kinds)
        self.units = sum(k.count for k in kinds)
        self.merits = (
            (_MERIT_BOTTOM, _MERIT_CONTACT, _MERIT_ENVELOPE)
            if self.units <= self.MANY
            else (_MERIT_BOTTOM,)
        )
        schedule = [
            (i, m, t) for t in (False, True) for m in self.merits for i in range(len(self.orders))
        ]
        schedule.sort(key=lambda imt: (imt[2], imt[0] + imt[1], imt[1]))
        self.schedule = schedule
        #: how many passes the first, cheap stage runs
        self.first = 4 if self.units <= self.MANY else 1
        self.proved = False  # the exhaustive search showed there is no packing

    def passes(
        self, first: int, last: int | None, deadline: float | None = None
    ) -> list[_Placed] | None:
        """Deterministic heuristic passes ``first:last``, stopping at the deadline."""
        for n, (i, merit, turned) in enumerate(self.schedule[first:last]):
            if n and deadline is not None and perf_counter() > deadline:
                break
            res = self.run(self.orders[i], merit, turned)
            if res is not None:
                return res
        return None

    def run(
        self, seq: Sequence[int], merit: int, turned: bool, rng: random.Random | None = None
    ) -> list[_Placed] | None:
        """One heuristic pass, in the container as it is or turned (and turned back)."""
        if not turned:
            return _ep_pass(self.c, seq, self.rots, merit, rng)
        res = _ep_pass(self.turned, seq, self.turned_rots, merit, rng)
        if res is None:
            return None
        return [(k, (p[1], p[0], p[2]), (s[1], s[0], s[2])) for k, p, s in res]

    def restarts(self, deadline: float) -> list[_Placed] | None:
        """Randomised heuristic passes until the deadline."""
        rng, kinds, base = self.rng, self.kinds, self.orders[0]
        while not self.proved and perf_counter() < deadline:
            if rng.random() < 0.3:
                seq = list(base)
                rng.shuffle(seq)
            else:
                noise = {i: rng.uniform(0.5, 1.5) for i in range(len(kinds))}
                seq = sorted(base, key=lambda k: -kinds[k].volume * noise[k])
            merit = rng.choice(self.merits)
            turned = rng.random() < 0.5
            res = self.run(seq, merit, turned, rng if rng.random() < 0.5 else None)
            if res is not None:
                return res
        return None

    def exact(self, deadline: float, nodes: int, *, any_size: bool = False) -> list[_Placed] | None:
        """The corner-point search: for small orders, or (``any_size``) as a search that
        may run out of time on bigger ones, where it finds packings the heuristic misses."""
        if self.proved or nodes <= 0 or (self.units > EXACT_MAX_UNITS and not any_size):
            return None
        status, res = _exact(self.c, self.kinds, self.rots, deadline, nodes)
        self.proved = status is False
        return res


def _settle(placed: list[_Placed]) -> list[_Placed]:
    """Let every unit drop straight down onto the floor or the units below it."""
    order = sorted(range(len(placed)), key=lambda i: placed[i][1][2])
    done: list[tuple[int, int, int, int, int, int]] = []
    out: list[_Placed | None] = [None] * len(placed)
    for i in order:
        k, (x, y, _z), (w, d, h) = placed[i]
        z = 0
        for a0, b0, _c0, a1, b1, c1 in done:
            if x < a1 and a0 < x + w and y < b1 and b0 < y + d and c1 > z:
                z = c1
        done.append((x, y, z, x + w, y + d, z + h))
        out[i] = (k, (x, y, z), (w, d, h))
    return [p for p in out if p is not None]


def _finish(box: BoxType, c: Dims, kinds: Sequence[_Kind], placed: list[_Placed]) -> Parcel | None:
    """The parcel for a packing, checked; None (never a wrong parcel) if the check fails."""
    parcel = _make_parcel(box, c, kinds, placed)
    try:
        _verify(parcel, box, kinds)
    except PackingError:  # a bug somewhere: never hand such a parcel out
        return None
    return parcel


def _make_parcel(box: BoxType, c: Dims, kinds: Sequence[_Kind], placed: list[_Placed]) -> Parcel:
    placed = _settle(placed)
    if box.kind == BAG:
        # The bag only needs to be as thick as what is in it; its flat size then gives more.
        flat_l, flat_w, _ = box.inner_mm
        t = max(p[1][2] + p[2][2] for p in placed)
        c = (flat_l - t, flat_w - t, t)
    placed.sort(key=lambda p: (p[1][2], p[1][1], p[1][0]))
    items = tuple(Placement(kinds[k].sku, pos, size) for k, pos, size in placed)
    volume = sum(k.volume * k.count for k in kinds)
    weight = sum(k.weight * k.count for k in kinds) + box.tare_g
    return Parcel(box.code, c, weight, volume / math.prod(c), items)


class _Packer:
    def __init__(self) -> None:
        self.rng = random.Random(0x9ACB)

    def attempts(self, box: BoxType, kinds: Sequence[_Kind]) -> list[_Attempt]:
        """One search per shape the container is tried as; none if it surely fails."""
        if sum(k.weight * k.count for k in kinds) > box.max_weight_g:
            return []
        return [_Attempt(c, kinds, self.rng) for c in _containers(box, kinds)]

    def quick(self, box: BoxType, tries: list[_Attempt]) -> Parcel | None:
        """The first few heuristic passes on every shape."""
        for a in tries:
            res = a.passes(0, a.first)
            if res is not None:
                return _finish(box, a.c, a.kinds, res)
        return None

    def deep(
        self, box: BoxType, tries: list[_Attempt], deadline: float, *, thorough: bool = True
    ) -> Parcel | None:
        """Everything else, the shapes sharing the time to ``deadline`` (``MIN_EFFORT_S`` each).

        Thorough: the other heuristic passes, random restarts and the exhaustive search.
        Otherwise the other passes and a small exhaustive search only.
        """
        for i, a in enumerate(tries):
            now = perf_counter()
            end = now + max((deadline - now) / (len(tries) - i), MIN_EFFORT_S)
            if thorough and a.units <= EXACT_MAX_UNITS:
                res = (
                    a.passes(a.first, None, end)
                    or a.restarts(now + (end - now) * 0.3)
                    or a.exact(end, EXACT_NODE_LIMIT)
                    or a.restarts(end)
                )
            elif thorough:  # bigger orders: the corner-point search gets most of the time
                res = (
                    a.passes(a.first, None, end)
                    or a.restarts(now + (end - now) * 0.2)
                    or a.exact(now + (end - now) * 0.8, BIG_NODE_LIMIT, any_size=True)
                    or a.restarts(end)
                )
            else:
                res = a.passes(a.first, None, end) or a.exact(end, 2_000)
            if res is not None:
                return _finish(box, a.c, a.kinds, res)
        return None

    def fit(
        self, box: BoxType, kinds: Sequence[_Kind], deadline: float, *, thorough: bool = True
    ) -> Parcel | None:
        """The units packed in ``box`` (a bag tried at several thicknesses), or None."""
        tries = self.attempts(box, kinds)
        return self.quick(box, tries) or self.deep(box, tries, deadline, thorough=thorough)


# --------------------------------------------------------------------------- public API


def fits(box: BoxType, items: Sequence[Item], *, time_budget_s: float = 0.1) -> Parcel | None:
    """The units of ``items`` packed in ``box``, or None if they do not fit (or none found)."""
    box = _check_box(box, "box")
    kinds = _kinds(items)
    return _Packer().fit(box, kinds, perf_counter() + time_budget_s)


def suggest(
    boxes: Sequence[BoxType],
    items: Sequence[Item],
    *,
    time_budget_s: float = 0.2,
    max_alternatives: int = 2,
) -> Suggestion:
    """The cheapest (then smallest) container holding the whole order, or a split.

    Raises PackingError for bad input or for a unit that fits in no container at all.
    ``alternatives`` are the next containers in the same order that the quick heuristics
    pack the order into (with a little more search, if the budget is not spent by then).
    The budget is a target: each container cheaper than the first one found that passes the
    quick rejections still gets a few milliseconds, and a split order takes longer.
    """
    catalogue = sorted(_check_catalogue(boxes), key=_order_key)
    kinds = _kinds(items)
    start = perf_counter()
    deadline = start + time_budget_s
    for k in kinds:
        if not any(_unit_fits_box(k, b) for b in catalogue):
            upright = ", kept upright" if k.upright else ""
            dims = "x".join(map(str, k.dims))
            raise PackingError(f"item {k.sku!r} ({dims} mm{upright}) fits in no box or bag")
        if not any(_unit_fits_box(k, b) and k.weight <= b.max_weight_g for b in catalogue):
            raise PackingError(
                f"item {k.sku!r} ({k.weight} g) is heavier than any box or bag that it fits"
            )
    max_alternatives = max(0, max_alternatives)
    packer = _Packer()
    # Quick heuristics down the catalogue until one container and its runners-up are found,
    tries: dict[int, list[_Attempt]] = {}
    found: dict[int, Parcel] = {}
    for i, box in enumerate(catalogue):
        if len(found) > max_alternatives:
            break
        tries[i] = packer.attempts(box, kinds)
        parcel = packer.quick(box, tries[i])
        if parcel is not None:
            found[i] = parcel
    # then the whole budget on the cheaper ones that may still fit, cheapest first (a
    # runner-up can wait: it is only an alternative),
    first = min(found, default=len(catalogue))
    pending = [i for i, t in tries.items() if t and i < first and i not in found]
    for n, i in enumerate(pending):
        now = perf_counter()
        share = max(deadline - now, 0.0) / (len(pending) - n)
        if (parcel := packer.deep(catalogue[i], tries[i], now + share)) is not None:
            found[i] = parcel
            first = i
            break
    if first < len(catalogue):
        # and the runners-up the quick heuristics missed get a little more effort if there
        # is time left.
        for i in sorted(tries):
            others = sum(1 for j in found if j > first)
            if others >= max_alternatives or perf_counter() > deadline:
                break
            if i <= first or i in found or not tries[i]:
                continue
            if (parcel := packer.deep(catalogue[i], tries[i], 0.0, thorough=False)) is not None:
                found[i] = parcel
        later = [catalogue[i].code for i in sorted(found) if i > first]
        return Suggestion((found[first],), tuple(later[:max_alternatives]))
    return Suggestion(_split(catalogue, kinds, packer), ())


def _roomiest_shape(box: BoxType) -> Dims:
    if box.kind != BAG:
        return box.inner_mm
    flat_l, flat_w, t_max = box.inner_mm
    t = max(
        range(1, min(t_max, flat_l - 1, flat_w - 1) + 1),
        key=lambda t: _bag_volume(flat_l, flat_w, t),
    )
    return (flat_l - t, flat_w - t, t)


def _split(catalogue: list[BoxType], kinds: list[_Kind], packer: _Packer) -> tuple[Parcel, ...]:
    """Fill one parcel at a time, then give it the cheapest container that holds it.

    Each parcel is filled, largest units first, in the container (of the few roomiest and
    the strongest) that takes the most volume; units that do not fit wait for the next one.
    """
    by_volume = sorted(catalogue, key=lambda b: -nominal_volume_mm3(b))
    fillers = by_volume[:3]
    strongest = max(catalogue, key=lambda b: (b.max_weight_g, nominal_volume_mm3(b)))
    if strongest not in fillers:
        fillers.append(strongest)
    weights = [k.weight for k in kinds]
    left = Counter({i: k.count for i, k in enumerate(kinds)})
    parcels: list[Parcel] = []
    while left:
        seq = sorted(left.elements(), key=lambda i: (-kinds[i].volume, i))
        best: tuple[int, BoxType, Dims, list[_Placed]] | None = None
        for box in fillers:
            c = _roomiest_shape(box)
            rots = [tuple(r for r in k.rots if _fits_in(r, c)) for k in kinds]
            for merit in (_MERIT_BOTTOM, _MERIT_CONTACT):
                got = _ep_pass(c, seq, rots, merit, weights=weights, max_weight=box.max_weight_g)
                volume = sum(kinds[k].volume for k, _, _ in got or ())
                if got and (best is None or volume > best[0]):
                    best = (volume, box, c, got)
                if len(seq) > _Attempt.MANY:
                    break
        group: Counter[int]
        if best is None:  # the largest unit left fits none of these: alone, where it fits
            k = seq[0]
            group = Counter({k: 1})
        else:
            group = Counter(k for k, _, _ in best[3])
        index = {k: n for n, k in enumerate(sorted(group))}
        sub = _sub_kinds(kinds, group)
        parcel = None
        for box in catalogue:
            if best is not None and _order_key(box) >= _order_key(best[1]):
                break
            parcel = packer.fit(box, sub, perf_counter(), thorough=False)
            if parcel is not None:
                break
        if parcel is None and best is not None:
            placed = [(index[k], pos, size) for k, pos, size in best[3]]
            parcel = _finish(best[1], best[2], sub, placed)
        if parcel is None:  # only if a packing failed its check: the unit goes alone
            group = Counter({seq[0]: 1})
            sub = _sub_kinds(kinds, group)
            for box in catalogue:
                parcel = packer.fit(box, sub, perf_counter(), thorough=False)
                if parcel is not None:
                    break
        if parcel is None:
            raise PackingError(f"no box or bag found for {sub[0].sku!r}")
        parcels.append(parcel)
        left -= group
    return tuple(parcels)


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


# --------------------------------------------------------------------------- JSON


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
