"""The standard-box advisor: which K box sizes would have shipped the history with least air.

Given the orders shipped so far (their items) and today's catalogue, choose K containers —
catalogue entries, or new inner sizes proposed from the history — so that every order, put in
the chosen container it fits with the least empty volume, leaves as little air as possible.

How:

1. **Candidates.** Every catalogue entry, plus for each distinct item set proposed boxes: the
   envelopes of the units as :func:`packing.fits` placed them in the (up to three) tightest
   catalogue entries that hold them, rounded up to ``round_mm``. (A proposed size is
   therefore always one that a verified packing fits in.) At most ``max_new`` of them are
   tried: half from the most frequent item sets, half spread from small to large.
2. **Who fits where.** For every (item set, candidate) pair: the empty volume if the set is
   packed there (:func:`packing.fits`, every placement verified), or "does not fit". Exact
   shortcuts avoid most searches: a box at least as large along every axis as one the set
   fits in also holds it, and one smaller in volume or in its sorted sides does not.
3. **Choice.** Greedy (the candidate that most reduces first the orders left without a
   container, then the air), then swaps of one chosen for one not chosen until no swap helps.
   This is the classic heuristic for the p-median problem; it is not proven optimal.

The air is measured in mm³ of inner volume not taken by units (a bag counts at the thickness
its units need). "Saved" compares with today's catalogue, where each order takes the
catalogue entry that leaves the least air. Orders that today's catalogue cannot hold in one
parcel, or that none of the K holds, are left out of both sums and listed.

Pure logic: the standard library and ``core.packing`` only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from packbench.core import packing

__all__ = ["Advice", "AdvisedBox", "HistoryOrder", "advise"]

#: A fits() search per pair gets at most this long (most are settled by the shortcuts).
PAIR_BUDGET_S = 0.01
#: Proposed sizes per distinct item set: the envelopes of its packings in its tightest entries.
ENVELOPES_PER_SET = 3
#: Proposed sizes tried at most (from the most frequent item sets): the time grows with them.
MAX_NEW_SIZES = 80
#: Swaps of the local search (each is K x candidates evaluations of the whole history).
MAX_SWAP_ROUNDS = 20


@dataclass(frozen=True)
class HistoryOrder:
    """One shipped order: a reference (its number) and its items."""

    ref: str
    items: tuple[packing.Item, ...]


@dataclass(frozen=True)
class AdvisedBox:
    """One of the K: a catalogue entry (``code``) or a proposed new size (``code`` None)."""

    code: str | None
    kind: str
    inner_mm: tuple[int, int, int]
    orders: int  # how many orders of the history it takes
    share: float  # of the orders placed, 0..1
    empty_mm3: int  # air in those orders together

    @property
    def label(self) -> str:
        return self.code or "NEW " + "×".join(map(str, self.inner_mm))


@dataclass(frozen=True)
class Advice:
    boxes: tuple[AdvisedBox, ...]
    orders: int  # orders in the history that were looked at
    compared: int  # orders today's catalogue holds in one parcel
    uncovered: tuple[str, ...]  # of those, orders none of the K holds (left out of the sums)
    too_big: tuple[str, ...]  # orders no catalogue entry holds in one parcel (left out)
    # The sums are over the orders the K hold (``compared`` less ``uncovered``):
    empty_mm3: int  # air with the K boxes
    baseline_empty_mm3: int  # air with today's whole catalogue, same orders
    items_mm3: int  # the units' own volume, same orders
    placed: tuple[tuple[str, int], ...] = ()  # (order ref, index into ``boxes``)

    @property
    def saved_mm3(self) -> int:
        return self.baseline_empty_mm3 - self.empty_mm3

    @property
    def saved_pct(self) -> float:
        return 100.0 * self.saved_mm3 / self.baseline_empty_mm3 if self.baseline_empty_mm3 else 0.0


@dataclass(frozen=True)
class _Candidate:
    code: str | None
    box: packing.BoxType


def _items_volume(items: Sequence[packing.Item]) -> int:
    return sum(math.prod(i.dims_mm) * i.quantity for i in items)


def _key(items: Sequence[packing.Item]) -> tuple[object, ...]:
    return tuple(sorted((i.sku, i.dims_mm, i.weight_g, i.quantity, i.keep_upright) for i in items))


def _round_up(v: int, step: int) -> int:
    return -(-v // step) * step


def _dominates(a: packing.BoxType, b: packing.BoxType) -> bool:
    """Box ``a`` is at least as large as box ``b`` along every axis, and as strong."""
    return (
        a.kind == packing.BOX
        and b.kind == packing.BOX
        and all(x >= y for x, y in zip(a.inner_mm, b.inner_mm, strict=True))
        and a.max_weight_g >= b.max_weight_g
    )


def _cannot(box: packing.BoxType, items: Sequence[packing.Item], volume: int, weight: int) -> bool:
    """Exact quick refusals: weight, volume, and the longest sides."""
    if weight > box.max_weight_g:
        return True
    if box.kind == packing.BOX:
        if volume > math.prod(box.inner_mm):
            return True
        sides = sorted(box.inner_mm)
        return any(any(s > c for s, c in zip(sorted(i.dims_mm), sides, strict=True)) for i in items)
    return False


def advise(
    history: Sequence[HistoryOrder],
    catalogue: Sequence[packing.BoxType],
    k: int,
    *,
    round_mm: int = 10,
    new_max_weight_g: int | None = None,
    pair_budget_s: float = PAIR_BUDGET_S,
    max_new: int = MAX_NEW_SIZES,
) -> Advice:
    """The K containers that leave the least air over ``history`` (see the module docstring).

    Raises ``packing.PackingError`` for a bad catalogue, an empty history or ``k < 1``.
    New sizes may carry ``new_max_weight_g`` (default: the strongest catalogue box's limit)
    and cost nothing (the advisor weighs air, not money).
    """
    if k < 1:
        raise packing.PackingError(f"count: must be at least 1, got {k}")
    if max_new < 0:
        raise packing.PackingError(f"max_new: must be 0 or more, got {max_new}")
    if round_mm < 1:
        raise packing.PackingError(f"round_mm: must be positive, got {round_mm}")
    if not catalogue:
        raise packing.PackingError("boxes: the catalogue is empty")
    if not history:
        raise packing.PackingError("history: no packed or shipped orders to learn from")
    strongest = new_max_weight_g or max(b.max_weight_g for b in catalogue)

    # Distinct item sets, with how many orders had each.
    groups: dict[tuple[object, ...], list[HistoryOrder]] = {}
    for order in history:
        groups.setdefault(_key(order.items), []).append(order)
    sets = [g[0].items for g in groups.values()]
    refs = [tuple(o.ref for o in g) for g in groups.values()]
    counts = [len(g) for g in groups.values()]
    volumes = [_items_volume(s) for s in sets]
    weights = [sum(i.weight_g * i.quantity for i in s) for s in sets]

    cands: list[_Candidate] = [_Candidate(b.code, b) for b in catalogue]
    base = len(cands)
    air: list[list[int | None]] = [[None] * base for _ in sets]
    below: list[list[int]] = [[] for _ in cands]  # the candidates each one dominates

    def pack(s: int, c: int) -> int | None:
        box = cands[c].box
        if _cannot(box, sets[s], volumes[s], weights[s]):
            return None
        # A box that dominates one the set fits in holds it too (same packing, more room).
        if any(air[s][other] is not None for other in below[c]):
            return math.prod(box.inner_mm) - volumes[s]
        parcel = packing.fits(box, sets[s], time_budget_s=pair_budget_s)
        if parcel is None:
            return None
        return math.prod(parcel.inner_mm) - volumes[s]

    def by_volume(ids: Sequence[int]) -> list[int]:
        return sorted(ids, key=lambda c: packing.nominal_volume_mm3(cands[c].box))

    def link(ids: Sequence[int]) -> None:
        for c in ids:
            below[c] = [
                o for o in range(len(cands)) if o != c and _dominates(cands[c].box, cands[o].box)
            ]

    # Catalogue first: the baseline, and each set's tightest fits (for the proposed sizes).
    link(range(base))
    proposed: list[tuple[int, int, tuple[int, int, int]]] = []  # (count, volume, size)
    for s in range(len(sets)):
        for c in by_volume(range(base)):
            air[s][c] = pack(s, c)
        fitting = [c for c in range(base) if air[s][c] is not None]
        # The envelope of the units as packed in each of the few tightest entries: packed in
        # different shapes, the same units suggest different sizes (flat, tall, long).
        for c in sorted(fitting, key=lambda c: air[s][c])[:ENVELOPES_PER_SET]:  # type: ignore[arg-type, return-value]  # fitting holds only boxes whose air is known
            parcel = packing.fits(cands[c].box, sets[s], time_budget_s=pair_budget_s * 5)
            if parcel is None:  # pragma: no cover - it fitted a moment ago
                continue
            env = [max(p.position_mm[a] + p.size_mm[a] for p in parcel.items) for a in range(3)]
            size = (
                _round_up(env[0], round_mm),
                _round_up(env[1], round_mm),
                _round_up(env[2], round_mm),
            )
            proposed.append((counts[s], volumes[s], size))
    # New sizes: every one if few; else half from the most frequent item sets and half spread
    # evenly over the sizes from small to large (a few large ones alone would hold everything).
    seen_sizes = {b.inner_mm for b in catalogue if b.kind == packing.BOX}
    sizes: dict[tuple[int, int, int], tuple[int, int]] = {}  # size -> (orders, volume)
    for n, vol, size in proposed:
        if size not in seen_sizes:
            old = sizes.get(size, (0, 0))
            sizes[size] = (old[0] + n, max(old[1], vol))
    chosen_sizes = list(sizes)
    if len(chosen_sizes) > max_new:
        frequent = sorted(sizes, key=lambda z: (-sizes[z][0], -math.prod(z)))[: max_new // 2]
        rest = sorted((z for z in sizes if z not in frequent), key=math.prod)
        spread = max_new - len(frequent)
        step = len(rest) / spread if spread > 0 else 0
        chosen_sizes = frequent + [rest[int(i * step)] for i in range(spread)]
    for size in chosen_sizes:
        cands.append(_Candidate(None, packing.BoxType("NEW", packing.BOX, size, strongest, 0, 0)))
    below.extend([] for _ in range(len(cands) - base))
    link(range(len(cands)))
    for s in range(len(sets)):
        air[s].extend([None] * (len(cands) - base))
        for c in by_volume(range(base, len(cands))):
            air[s][c] = pack(s, c)

    compared = [s for s in range(len(sets)) if any(air[s][c] is not None for c in range(base))]
    held = set(compared)
    too_big = tuple(r for s in range(len(sets)) if s not in held for r in refs[s])

    def today(s: int) -> int:
        return min(a for a in air[s][:base] if a is not None)

    def cost(chosen: Sequence[int]) -> tuple[int, int]:
        missing = total = 0
        for s in compared:
            options = [a for c in chosen if (a := air[s][c]) is not None]
            if options:
                total += counts[s] * min(options)
            else:
                missing += counts[s]
        return missing, total

    k = min(k, len(cands))

    def grow(chosen: list[int]) -> list[int]:
        while len(chosen) < k:
            rest = [c for c in range(len(cands)) if c not in chosen]
            chosen = [*chosen, min(rest, key=lambda c: cost([*chosen, c]))]
        return chosen

    def improve(chosen: list[int]) -> tuple[list[int], tuple[int, int]]:
        current = cost(chosen)
        for _ in range(MAX_SWAP_ROUNDS):
            improved = False
            for i in range(len(chosen)):
                for c in range(len(cands)):
                    if c in chosen:
                        continue
                    trial = [*chosen[:i], c, *chosen[i + 1 :]]
                    value = cost(trial)
                    if value < current:
                        chosen, current, improved = trial, value, True
            if not improved:
                break
        return chosen, current

    starts = [grow([])]
    if k >= base:  # never worse than today's catalogue when there is room for all of it
        starts.append(grow(list(range(base))))
    chosen, current = min((improve(start) for start in starts), key=lambda r: r[1])

    takes = {c: [0, 0] for c in chosen}
    where: list[tuple[str, int]] = []
    uncovered: list[str] = []
    baseline = items = 0
    for s in compared:
        options = [(a, n, c) for n, c in enumerate(chosen) if (a := air[s][c]) is not None]
        if not options:
            uncovered.extend(refs[s])
            continue
        a, _, c = min(options)
        takes[c][0] += counts[s]
        takes[c][1] += counts[s] * a
        where.extend((ref, c) for ref in refs[s])
        baseline += counts[s] * today(s)
        items += counts[s] * volumes[s]
    placed = sum(t[0] for t in takes.values()) or 1
    ranked = sorted(chosen, key=lambda c: -takes[c][0])
    boxes = tuple(
        AdvisedBox(
            code=cands[c].code,
            kind=cands[c].box.kind,
            inner_mm=cands[c].box.inner_mm,
            orders=takes[c][0],
            share=takes[c][0] / placed,
            empty_mm3=takes[c][1],
        )
        for c in ranked
    )
    return Advice(
        boxes=boxes,
        orders=len(history),
        compared=sum(counts[s] for s in compared),
        uncovered=tuple(uncovered),
        too_big=too_big,
        empty_mm3=current[1],
        baseline_empty_mm3=baseline,
        items_mm3=items,
        placed=tuple((ref, ranked.index(c)) for ref, c in where),
    )
