"""Which shapes a container is tried as, and exact tests that the units cannot fit in one.

Every test here is a proof: when :func:`_quick_reject` says a container cannot hold the units,
no packing of them exists in it (whatever the search would have tried).

Pure logic, standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from packbench.core.packing_model import BAG, BoxType, Dims, _bag_volume, _Kind

#: A bag is tried at no more than this many thicknesses (spread over those worth trying).
BAG_THICKNESSES = 12


def _fits_in(s: Dims, c: Dims) -> bool:
    return s[0] <= c[0] and s[1] <= c[1] and s[2] <= c[2]


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


def _roomiest_shape(box: BoxType) -> Dims:
    if box.kind != BAG:
        return box.inner_mm
    flat_l, flat_w, t_max = box.inner_mm
    t = max(
        range(1, min(t_max, flat_l - 1, flat_w - 1) + 1),
        key=lambda t: _bag_volume(flat_l, flat_w, t),
    )
    return (flat_l - t, flat_w - t, t)
