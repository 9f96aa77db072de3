"""Searching one container: extreme-point heuristics and the corner-point search.

- :func:`_ep_pass`: one pass of the extreme-point heuristic (Crainic, Perboli & Tadei), with a
  unit order and one of three placement rules (bottom-left-back, most contact, smallest
  envelope);
- :func:`_exact`: the branch-and-bound over corner points (Martello, Pisinger & Vigo), pruned
  by the volume the packing already wastes;
- :class:`_Attempt`: both, in stages, for one container shape.

Pure logic, standard library only.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from time import perf_counter

from packbench.core.packing_bounds import _fits_in
from packbench.core.packing_model import Dims, _Kind

#: Orders with at most this many units get the exhaustive search when the heuristic fails.
EXACT_MAX_UNITS = 8


class _Meter:
    """The work a search has done, counted in steps, and the wall-clock safety net.

    A step is one candidate placement looked at (a unit's rotation at an extreme point,
    weighted by the units it is checked against) or one move of the corner-point search: a
    count, not a time, so that the same order gets the same answer on a busy machine as on a
    quiet one. ``deadline`` (``perf_counter`` seconds) stops a search early only when the
    machine is so slow that the steps would take longer than the caller allowed; ``floor`` is
    the step count below which even that does not stop it (every container gets a minimum).
    """

    __slots__ = ("deadline", "floor", "steps")

    def __init__(self, deadline: float = float("inf")) -> None:
        self.steps = 0
        self.deadline = deadline
        self.floor = 0

    def over(self, until: int) -> bool:
        """Whether a stage allowed to run to step ``until`` must stop."""
        steps = self.steps
        return steps >= until or (steps >= self.floor and perf_counter() > self.deadline)


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
    meter: _Meter | None = None,
) -> list[_Placed] | None:
    """Place the units of ``seq`` one by one at extreme points; None if one does not fit.

    With ``weights``, fill instead: a unit that does not fit, or would take the load past
    ``max_weight``, is left out, and the units that went in are returned. The steps it
    took are added to ``meter``.
    """
    cx, cy, cz = c
    load = 0
    boxes: list[tuple[int, int, int, int, int, int]] = []
    out: list[_Placed] = []
    eps: list[Dims] = [(0, 0, 0)]
    ex = ey = ez = 0
    steps = 0
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
        per_point = len(krots) * (1 + len(boxes))
        steps += 16 * len(boxes) + len(eps)  # new extreme points projected and checked
        for px, py, pz in eps:
            steps += per_point
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
                if meter is not None:
                    meter.steps += steps
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
    if meter is not None:
        meter.steps += steps
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
    meter: _Meter,
    until: int,
) -> tuple[bool | None, list[_Placed] | None]:
    """Branch-and-bound over corner points: (True, packing), (False, None) or (None, None)
    when ``meter`` reaches step ``until`` (or its safety deadline) first.

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
        if meter.steps >= until or (nodes & 7 == 0 and meter.over(until)):
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
        meter.steps += len(points) + len(moves)
        # the union of the staircase below the unit, and the corner points it leaves
        move_cost = 60 * (1 + len(tops)) + 4 * len(points)
        for k, p, s in moves:
            meter.steps += move_cost
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

    def __init__(self, c: Dims, kinds: Sequence[_Kind], rng: random.Random, meter: _Meter) -> None:
        self.c = c
        self.meter = meter
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
        self.seq = list(self.orders[0])  # the unit order the next random pass starts from

    def passes(
        self, first: int, last: int | None, until: int | None = None
    ) -> list[_Placed] | None:
        """Deterministic heuristic passes ``first:last``, stopping at step ``until``."""
        for n, (i, merit, turned) in enumerate(self.schedule[first:last]):
            if n and until is not None and self.meter.over(until):
                break
            res = self.run(self.orders[i], merit, turned)
            if res is not None:
                return res
        return None

    def run(
        self,
        seq: Sequence[int],
        merit: int,
        turned: bool,
        rng: random.Random | None = None,
        *,
        fill: bool = False,
    ) -> list[_Placed] | None:
        """One heuristic pass, in the container as it is or turned (and turned back).

        ``fill``: units that do not fit are left out (the others are returned) instead of
        ending the pass with None.
        """
        weights = [0] * len(self.kinds) if fill else None
        c, rots = (self.turned, self.turned_rots) if turned else (self.c, self.rots)
        res = _ep_pass(c, seq, rots, merit, rng, weights=weights, meter=self.meter)
        if res is None or not turned:
            return res
        return [(k, (p[1], p[0], p[2]), (s[1], s[0], s[2])) for k, p, s in res]

    def restarts(self, until: int) -> list[_Placed] | None:
        """Randomised heuristic passes until step ``until``.

        Every other pass takes a fresh unit order (by volume with noise, or shuffled); the
        others learn from the last of their kind: the units it left out move earlier in the
        order, each by a random number of places, so that the next pass finds room for them
        before the others take it (now and then starting again from one of the
        deterministic orders). Placement rule, turn and ties are drawn at random.
        """
        rng, kinds, base = self.rng, self.kinds, self.orders[0]
        while not self.proved and not self.meter.over(until):
            merit = rng.choice(self.merits)
            turned = rng.random() < 0.5
            if rng.random() < 0.5:  # a fresh order: by volume with noise, or shuffled
                if rng.random() < 0.3:
                    fresh = list(base)
                    rng.shuffle(fresh)
                else:
                    noise = {i: rng.uniform(0.5, 1.5) for i in range(len(kinds))}
                    fresh = sorted(base, key=lambda k: -kinds[k].volume * noise[k])
                res = self.run(fresh, merit, turned, rng if rng.random() < 0.5 else None)
                if res is not None:
                    return res
                continue
            seq = self.seq
            got = self.run(seq, merit, turned, rng if rng.random() < 0.5 else None, fill=True)
            if got is not None and len(got) == len(seq):
                return got
            if rng.random() < 0.1:
                self.seq = list(rng.choice(self.orders))
                continue
            left = Counter(k for k, _, _ in got or ())
            out = []
            for n, k in enumerate(seq):
                if left[k]:
                    left[k] -= 1
                else:
                    out.append(n)
            bumped = list(seq)
            for n in out:  # each left-out unit earlier by a random number of places
                k = bumped.pop(n)
                bumped.insert(rng.randint(0, n), k)
            self.seq = bumped
        return None

    def exact(self, until: int, *, any_size: bool = False) -> list[_Placed] | None:
        """The corner-point search to step ``until``: for small orders, or (``any_size``) as
        a search that may run out of steps on bigger ones, where it finds packings the
        heuristic misses."""
        if self.proved or self.meter.steps >= until:
            return None
        if self.units > EXACT_MAX_UNITS and not any_size:
            return None
        status, res = _exact(self.c, self.kinds, self.rots, self.meter, until)
        self.proved = status is False
        return res
