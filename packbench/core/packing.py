"""Which box or bag an order goes in: 3D packing, checked placement by placement.

:func:`suggest` picks the cheapest container of the catalogue (then the smallest by volume)
into which every unit of an order fits, and says where each unit goes. Nothing is suggested on
faith: every parcel this module returns has passed :func:`verify` (inside the container, a
legal rotation, no overlap, the right units, within the weight limit).

How a container is tried, cheapest first:

1. quick rejections that are exact (:mod:`packing_bounds`): weight, volume (also against the
   container cut down to the sums of unit sizes that fit along each axis), each unit alone,
   pairs of units that cannot lie side by side along any axis, units that cannot share a
   layer and so must stack (a heaviest clique of them), and Fekete and Schepers' dual
   feasible functions;
2. an extreme-point heuristic (Crainic, Perboli & Tadei) with several unit orders and three
   placement rules (bottom-left-back, most contact, smallest envelope), also in the container
   turned a quarter about the vertical;
3. for small orders (at most ``EXACT_MAX_UNITS`` units) an exhaustive branch-and-bound over
   corner points (Martello, Pisinger & Vigo), pruned by the volume the packing already wastes.
   It settles "fits" or "does not fit" for every packing that can be built by putting the
   units in one after another, each pushed into a corner, which is how the bench packs;
   when it runs out of steps the container counts as not fitting. Bigger orders get random
   restarts of the heuristic for half the container's share of the budget (each pass moving
   the units the last one left out earlier in the order), then the same corner-point search,
   to find packings the heuristic misses (it seldom finishes on them), then restarts again;
4. random restarts of the heuristic until the container's share of the budget is spent.

The budget is counted in search steps (see ``packing_search._Meter``), ``STEPS_PER_S`` for
each second of ``time_budget_s``: the same order gets the same answer on a busy machine and
an idle one; the time is only a safety net, for a machine more than about twice as slow.

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
from collections.abc import Sequence
from time import perf_counter

from packbench.core.packing_bounds import _containers, _fits_in, _roomiest_shape, _unit_fits_box
from packbench.core.packing_json import parse_request, suggestion_to_json
from packbench.core.packing_model import (
    BAG,
    BOX,
    MAX_UNITS,
    BoxType,
    Dims,
    Item,
    PackingError,
    Parcel,
    Placement,
    Suggestion,
    _check_box,
    _check_catalogue,
    _Kind,
    _kinds,
    _order_key,
    _sub_kinds,
    _verify,
    nominal_volume_mm3,
    verify,
    verify_suggestion,
)
from packbench.core.packing_search import (
    _MERIT_BOTTOM,
    _MERIT_CONTACT,
    EXACT_MAX_UNITS,
    _Attempt,
    _ep_pass,
    _Meter,
    _Placed,
)

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

#: Search steps (see ``_Meter``) per second of ``time_budget_s``: the work a search may do is
#: this many steps per second the caller allows, which on an idle 2-core machine of 2026
#: takes about half that time. The wall-clock budget is then only a safety net (a machine
#: more than twice as busy), and the same order gets the same answer however busy it is.
STEPS_PER_S = 7_500_000
#: The wall-clock safety net, as a multiple of ``time_budget_s`` (infinite: none at all, so
#: that a benchmark on a busy machine sees the answers an idle one gives).
SAFETY_NET = 1.0
#: Step limit of one exhaustive search of a small order (each step about half a microsecond).
EXACT_STEP_LIMIT = 1_000_000
#: Every container that passes the quick rejections gets at least this many steps, even when
#: the budget is spent, so that a late container is not refused for lack of time.
MIN_EFFORT_STEPS = 8_000


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
    def __init__(self, meter: _Meter) -> None:
        self.rng = random.Random(0x9ACB)
        self.meter = meter

    def attempts(self, box: BoxType, kinds: Sequence[_Kind]) -> list[_Attempt]:
        """One search per shape the container is tried as; none if it surely fails."""
        if sum(k.weight * k.count for k in kinds) > box.max_weight_g:
            return []
        return [_Attempt(c, kinds, self.rng, self.meter) for c in _containers(box, kinds)]

    def quick(self, box: BoxType, tries: list[_Attempt]) -> Parcel | None:
        """The first few heuristic passes on every shape."""
        for a in tries:
            res = a.passes(0, a.first)
            if res is not None:
                return _finish(box, a.c, a.kinds, res)
        return None

    def deep(
        self, box: BoxType, tries: list[_Attempt], until: int, *, thorough: bool = True
    ) -> Parcel | None:
        """Everything else, the shapes sharing the steps up to ``until`` (at least
        ``MIN_EFFORT_STEPS`` each).

        Thorough: the other heuristic passes, random restarts and the exhaustive search.
        Otherwise the other passes and a small exhaustive search only.
        """
        meter = self.meter
        for i, a in enumerate(tries):
            now = meter.steps
            share = max((until - now) // (len(tries) - i), MIN_EFFORT_STEPS)
            end = now + share
            meter.floor = end if not thorough else now + MIN_EFFORT_STEPS
            if thorough and a.units <= EXACT_MAX_UNITS:
                res = (
                    a.passes(a.first, None, end)
                    or a.restarts(now + share * 3 // 10)
                    or a.exact(min(end, meter.steps + EXACT_STEP_LIMIT))
                    or a.restarts(end)
                )
            elif thorough:  # bigger orders: restarts, then the corner-point search, then restarts
                res = (
                    a.passes(a.first, None, end)
                    or a.restarts(now + share // 2)
                    or a.exact(now + share * 8 // 10, any_size=True)
                    or a.restarts(end)
                )
            else:
                res = a.passes(a.first, None, end) or a.exact(min(end, meter.steps + 100_000))
            if res is not None:
                return _finish(box, a.c, a.kinds, res)
        return None

    def fit(
        self, box: BoxType, kinds: Sequence[_Kind], until: int, *, thorough: bool = True
    ) -> Parcel | None:
        """The units packed in ``box`` (a bag tried at several thicknesses), or None."""
        tries = self.attempts(box, kinds)
        return self.quick(box, tries) or self.deep(box, tries, until, thorough=thorough)


# --------------------------------------------------------------------------- public API


def _meter(time_budget_s: float) -> tuple[_Meter, int]:
    """A meter whose safety deadline is the budget, and the steps the budget buys."""
    budget = max(float(time_budget_s), 0.0)
    cap = math.inf if math.isinf(SAFETY_NET) else budget * SAFETY_NET
    return _Meter(perf_counter() + cap), round(budget * STEPS_PER_S)


def fits(box: BoxType, items: Sequence[Item], *, time_budget_s: float = 0.1) -> Parcel | None:
    """The units of ``items`` packed in ``box``, or None if they do not fit (or none found).

    The search does ``time_budget_s * STEPS_PER_S`` steps (about half the budget on an idle
    machine), stopping early only if the budget runs out first.
    """
    box = _check_box(box, "box")
    kinds = _kinds(items)
    meter, steps = _meter(time_budget_s)
    return _Packer(meter).fit(box, kinds, steps)


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
    The budget is counted in search steps (``time_budget_s * STEPS_PER_S``, about half the
    budget on an idle machine), so the answer does not depend on how busy the machine is;
    the time is a safety net. It is a target: each container cheaper than the first one
    found that passes the quick rejections still gets ``MIN_EFFORT_STEPS``, and a split
    order takes longer.
    """
    catalogue = sorted(_check_catalogue(boxes), key=_order_key)
    kinds = _kinds(items)
    meter, budget = _meter(time_budget_s)
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
    packer = _Packer(meter)
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
        share = max(budget - meter.steps, 0) // (len(pending) - n)
        if (parcel := packer.deep(catalogue[i], tries[i], meter.steps + share)) is not None:
            found[i] = parcel
            first = i
            break
    if first < len(catalogue):
        # and the runners-up the quick heuristics missed get a little more effort if there
        # is budget left.
        for i in sorted(tries):
            others = sum(1 for j in found if j > first)
            if others >= max_alternatives or meter.over(budget):
                break
            if i <= first or i in found or not tries[i]:
                continue
            if (parcel := packer.deep(catalogue[i], tries[i], 0, thorough=False)) is not None:
                found[i] = parcel
        later = [catalogue[i].code for i in sorted(found) if i > first]
        return Suggestion((found[first],), tuple(later[:max_alternatives]))
    return Suggestion(_split(catalogue, kinds, packer), ())


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
            parcel = packer.fit(box, sub, 0, thorough=False)
            if parcel is not None:
                break
        if parcel is None and best is not None:
            placed = [(index[k], pos, size) for k, pos, size in best[3]]
            parcel = _finish(best[1], best[2], sub, placed)
        if parcel is None:  # only if a packing failed its check: the unit goes alone
            group = Counter({seq[0]: 1})
            sub = _sub_kinds(kinds, group)
            for box in catalogue:
                parcel = packer.fit(box, sub, 0, thorough=False)
                if parcel is not None:
                    break
        if parcel is None:
            raise PackingError(f"no box or bag found for {sub[0].sku!r}")
        parcels.append(parcel)
        left -= group
    return tuple(parcels)
