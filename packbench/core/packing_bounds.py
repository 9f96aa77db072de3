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
    return _must_stack(c, kinds)


#: Search nodes of one heaviest-clique search (any clique it finds is a proof).
CLIQUE_NODES = 5_000


def _must_stack(c: Dims, kinds: Sequence[_Kind]) -> bool:
    """True when some units must lie one beyond the other along an axis and do not fit so.

    Two units that cannot be side by side across either of the other two axes, however each
    is turned, can only be apart along this one: their extents along it do not overlap. So
    in a set of units that are pairwise so (a clique), the sizes along the axis add up, and
    more than the container's size proves that they do not fit (an upright mug cannot go
    beside a folded shirt that nearly fills the floor, nor in the height left above the
    shirts). ``c`` is the usable size: a packing pushed towards the origin lies within it.
    """
    rots = [[r for r in k.rots if _fits_in(r, c)] for k in kinds]
    if not all(rots):
        return True
    n = len(kinds)
    for a in range(3):
        b, d = (a + 1) % 3, (a + 2) % 3
        weight = []
        for i, k in enumerate(kinds):
            size = min(r[a] for r in rots[i])
            alone = k.count > 1 and _apart(rots[i], rots[i], b, d, c)
            weight.append(size * k.count if alone else size)
        adjacent = [
            {j for j in range(n) if j != i and _apart(rots[i], rots[j], b, d, c)} for i in range(n)
        ]
        if _heaviest_clique(weight, adjacent, c[a]) > c[a]:
            return True
    return _dual_feasible(c, rots, [k.count for k in kinds])


#: The dual feasible functions tried along each axis: the identity and u(k) for k = 1..5.
DFF_K = (0, 1, 2, 3, 4, 5)


def _dff(x: int, size: int, k: int) -> float:
    """Fekete and Schepers' dual feasible function u(k) of x / size (k = 0: the identity).

    u(k)(x) = x when (k + 1) x is whole, else floor((k + 1) x) / k: any units that fit side
    by side along an axis still add up to at most 1 after it (so does the identity).
    """
    if k == 0 or (k + 1) * x % size == 0:
        return x / size
    return ((k + 1) * x // size) / k


def _dual_feasible(c: Dims, rots: Sequence[Sequence[Dims]], counts: Sequence[int]) -> bool:
    """True when a dual-feasible-function bound proves the units do not fit in ``c``.

    Fekete and Schepers (2004): for units packed in a box and any dual feasible functions
    f, g, h, the sum of f(x) g(y) h(z) over the units (sizes over the box's) is at most 1.
    Each unit counts with its rotation that gives the least, so the sum is never more than
    it is for the rotations a packing uses, and a sum above 1 proves there is no packing.
    (A unit wide enough across an axis counts as the whole width there, so these catch
    units that cannot share a layer even where the volume leaves room.)
    """
    # per axis, per function, each unit's rotations' values
    values = [[[[_dff(r[a], c[a], k) for r in rs] for rs in rots] for k in DFF_K] for a in range(3)]
    units = range(len(rots))
    for fx in values[0]:
        for fy in values[1]:
            for fz in values[2]:
                total = 0.0
                for i in units:
                    ax, ay, az = fx[i], fy[i], fz[i]
                    total += counts[i] * min(ax[n] * ay[n] * az[n] for n in range(len(ax)))
                if total > 1 + 1e-9:  # far above a float sum's rounding
                    return True
    return False


def _apart(these: Sequence[Dims], those: Sequence[Dims], b: int, d: int, c: Dims) -> bool:
    """Whether a unit turned any of ``these`` ways and one turned any of ``those`` ways can
    be side by side across neither axis ``b`` nor axis ``d`` of ``c``."""
    cb, cd = c[b], c[d]
    return all(r[b] + s[b] > cb and r[d] + s[d] > cd for r in these for s in those)


def _heaviest_clique(weight: Sequence[int], adjacent: Sequence[set[int]], enough: int) -> int:
    """The weight of the heaviest clique found (branch and bound, stopping once it is more
    than ``enough`` or after ``CLIQUE_NODES`` nodes: a lighter one then, never a heavier)."""
    best = 0
    nodes = 0

    def grow(candidates: list[int], w: int) -> None:
        nonlocal best, nodes
        nodes += 1
        best = max(best, w)
        for n, v in enumerate(candidates):
            if best > enough or nodes > CLIQUE_NODES:
                return
            if w + sum(weight[u] for u in candidates[n:]) <= best:
                return
            grow([u for u in candidates[n + 1 :] if u in adjacent[v]], w + weight[v])

    grow(sorted(range(len(weight)), key=lambda i: -weight[i]), 0)
    return best


def _roomiest_shape(box: BoxType) -> Dims:
    if box.kind != BAG:
        return box.inner_mm
    flat_l, flat_w, t_max = box.inner_mm
    t = max(
        range(1, min(t_max, flat_l - 1, flat_w - 1) + 1),
        key=lambda t: _bag_volume(flat_l, flat_w, t),
    )
    return (flat_l - t, flat_w - t, t)
