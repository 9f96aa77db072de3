"""Slotting advice, measured: which products to move where, and how far that would have saved.

From the order history (what was ordered together) and the pick lists actually walked (the
orders of each batch, or each order alone), it finds

* the **best sellers** by picks (order lines) and units, with how far each one's shelf is from
  the depot;
* the **pairs** of products often ordered together;
* concrete **moves**, each measured by re-routing every historical pick list it touches with
  the exact router (``core.routing.shortest_route``) before and after:

  - *swap*: a best seller far away trades places with a slow product near the depot;
  - *pair*: one product of a frequent pair moves next to the other (same aisle, neighbouring
    bay, same level) and whatever stood there takes its old place (or the slot was empty).

Moves are greedy: each product is in at most one recommended move, and each move is measured
on its own (moves touching different pick lists add up; others overlap a little).

Pure logic, standard library only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

from packbench.core.routing import (
    Layout,
    LocationError,
    parse_location,
    route_length,
    shortest_route,
)

#: How many best sellers are candidates for a swap towards the depot.
SWAP_HOT = 10
#: How many slots nearest the depot (holding slow products) they may swap with.
SWAP_NEAR = 15
#: How many of the most frequent pairs are candidates to be put side by side.
PAIR_TOP = 15


@dataclass(frozen=True)
class BestSeller:
    sku: str
    picks: int  # order lines
    units: int
    location: str | None
    depot_m: float | None  # one way, depot to shelf


@dataclass(frozen=True)
class Pair:
    sku_a: str
    sku_b: str
    together: int  # orders holding both
    share: float  # of the orders holding the rarer of the two
    apart_m: float | None  # walking distance between their shelves


@dataclass(frozen=True)
class Move:
    kind: Literal["swap", "pair"]
    text: str
    changes: tuple[tuple[str, str, str], ...]  # (sku, from, to)
    saved_m: float  # walking on the history that the move would have saved
    lists: int  # pick lists it touches
    saved_share: float  # of the whole history's walking


@dataclass(frozen=True)
class SlottingAdvice:
    orders: int
    pick_lists: int
    walked_m: float  # the history re-routed with the current slots
    best_sellers: tuple[BestSeller, ...]
    pairs: tuple[Pair, ...]
    moves: tuple[Move, ...]
    unslotted: tuple[str, ...] = field(default=())  # ordered SKUs without a usable location

    def to_json(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "pick_lists": self.pick_lists,
            "walked_m": round(self.walked_m, 1),
            "best_sellers": [
                {
                    "sku": b.sku,
                    "picks": b.picks,
                    "units": b.units,
                    "location": b.location,
                    "depot_m": None if b.depot_m is None else round(b.depot_m, 1),
                }
                for b in self.best_sellers
            ],
            "pairs": [
                {
                    "skus": [p.sku_a, p.sku_b],
                    "together": p.together,
                    "share": round(p.share, 3),
                    "apart_m": None if p.apart_m is None else round(p.apart_m, 1),
                }
                for p in self.pairs
            ],
            "moves": [
                {
                    "kind": m.kind,
                    "text": m.text,
                    "changes": [{"sku": s, "from": a, "to": b} for s, a, b in m.changes],
                    "saved_m": round(m.saved_m, 1),
                    "pick_lists": m.lists,
                    "saved_share": round(m.saved_share, 4),
                }
                for m in self.moves
            ],
            "unslotted": list(self.unslotted),
        }


class _Router:
    """Route lengths of location sets, cached: the history repeats itself a lot."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._cache: dict[frozenset[str], float] = {}

    def length(self, locations: Iterable[str]) -> float:
        key = frozenset(locations)
        found = self._cache.get(key)
        if found is None:
            found = shortest_route(self.layout, key).distance_m if key else 0.0
            self._cache[key] = found
        return found


def _normalised(slots: Mapping[str, str | None], layout: Layout) -> dict[str, str]:
    out = {}
    for sku, code in slots.items():
        if not code:
            continue
        try:
            out[sku] = parse_location(code, layout).code
        except LocationError:
            continue
    return out


def _neighbours(code: str, layout: Layout) -> list[str]:
    loc = parse_location(code, layout)
    out = []
    for bay in (loc.bay - 1, loc.bay + 1):
        if 1 <= bay <= layout.bays:
            out.append(f"{loc.aisle}-{bay:02d}-{loc.level}")
    return out


def advise(
    layout: Layout,
    slots: Mapping[str, str | None],
    orders: Sequence[Mapping[str, int]],
    pick_lists: Sequence[Collection[str]] | None = None,
    *,
    locations: Collection[str] | None = None,
    top: int = 10,
    max_moves: int = 8,
) -> SlottingAdvice:
    """Advice from ``orders`` (SKU → units each) walked as ``pick_lists`` (SKU sets; default:
    one per order) with the current ``slots`` (SKU → location). ``locations`` are the slots
    that exist (for moving next to a product into an empty slot); default: occupied ones only.
    """
    slot = _normalised(slots, layout)
    router = _Router(layout)
    lists = [frozenset(pl) for pl in (pick_lists if pick_lists is not None else orders)]
    lists = [pl for pl in lists if pl]
    ordered = {sku for o in orders for sku in o} | {sku for pl in lists for sku in pl}
    unslotted = tuple(sorted(sku for sku in ordered if sku not in slot))

    def walk(pl: frozenset[str], where: Mapping[str, str]) -> float:
        return router.length(where[s] for s in pl if s in where)

    base = [walk(pl, slot) for pl in lists]
    walked = sum(base)
    touching: dict[str, list[int]] = {}
    for i, pl in enumerate(lists):
        for sku in pl:
            touching.setdefault(sku, []).append(i)

    def saving(changes: Mapping[str, str]) -> tuple[float, int]:
        where = {**slot, **changes}
        idx = sorted({i for sku in changes for i in touching.get(sku, ())})
        return sum(base[i] - walk(lists[i], where) for i in idx), len(idx)

    # -- best sellers and pairs
    picks: Counter[str] = Counter()
    units: Counter[str] = Counter()
    together: Counter[tuple[str, str]] = Counter()
    for o in orders:
        for sku, qty in o.items():
            picks[sku] += 1
            units[sku] += qty
        for a, b in combinations(sorted(o), 2):
            together[(a, b)] += 1

    def depot_m(sku: str) -> float | None:
        return router.length([slot[sku]]) / 2 if sku in slot else None

    def apart(a: str, b: str) -> float | None:
        if a not in slot or b not in slot:
            return None
        # one way between the two shelves: a round trip via both minus the legs to the depot
        return (
            route_length(layout, [slot[a], slot[b]])
            - (router.length([slot[a]]) + router.length([slot[b]])) / 2
        )

    ranked = sorted(picks, key=lambda s: (-picks[s], -units[s], s))
    best = tuple(BestSeller(s, picks[s], units[s], slot.get(s), depot_m(s)) for s in ranked[:top])
    pair_rank = sorted(together, key=lambda p: (-together[p], p))
    pairs = tuple(
        Pair(a, b, together[(a, b)], together[(a, b)] / min(picks[a], picks[b]), apart(a, b))
        for a, b in pair_rank[:top]
        if together[(a, b)] >= 2
    )

    # -- candidate moves, measured on the history
    candidates: list[tuple[float, int, Move]] = []
    occupant = {loc: sku for sku, loc in slot.items()}
    by_distance = sorted(slot, key=lambda s: (router.length([slot[s]]), slot[s]))
    hot = [s for s in ranked if s in slot][:SWAP_HOT]
    hot_set = set(hot)
    near = [s for s in by_distance if s not in hot_set][:SWAP_NEAR]
    for a in hot:
        for b in near:
            if router.length([slot[b]]) >= router.length([slot[a]]):
                continue
            changes = {a: slot[b], b: slot[a]}
            saved, n = saving(changes)
            if saved > 1e-6:
                text = (
                    f"Swap {a} ({slot[a]}, {picks[a]} picks) with {b} "
                    f"({slot[b]}, {picks.get(b, 0)} picks)"
                )
                move = Move(
                    "swap",
                    text,
                    ((a, slot[a], slot[b]), (b, slot[b], slot[a])),
                    saved,
                    n,
                    saved / walked if walked else 0.0,
                )
                candidates.append((saved, 1, move))
    existing = set(locations) if locations is not None else set(occupant)
    for a, b in pair_rank[:PAIR_TOP]:
        if together[(a, b)] < 2 or a not in slot or b not in slot:
            continue
        for mover, anchor in ((b, a), (a, b)):
            for spot in _neighbours(slot[anchor], layout):
                if spot == slot[mover] or spot not in existing:
                    continue
                other = occupant.get(spot)
                changes = {mover: spot}
                if other is not None:
                    changes[other] = slot[mover]
                saved, n = saving(changes)
                if saved <= 1e-6:
                    continue
                text = f"Put {mover} next to {anchor} ({slot[anchor]}): move it to {spot}"
                text += f", {other} goes to {slot[mover]}" if other else " (empty)"
                moved = [(mover, slot[mover], spot)]
                if other:
                    moved.append((other, spot, slot[mover]))
                move = Move("pair", text, tuple(moved), saved, n, saved / walked if walked else 0)
                # the same change as a swap reads better as "put the pair side by side"
                candidates.append((saved, 0, move))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2].text))
    chosen: list[Move] = []
    used: set[str] = set()
    for _, _, move in candidates:
        skus = {s for s, _, _ in move.changes}
        if skus & used:
            continue
        chosen.append(move)
        used |= skus
        if len(chosen) >= max_moves:
            break
    return SlottingAdvice(
        orders=len(orders),
        pick_lists=len(lists),
        walked_m=walked,
        best_sellers=best,
        pairs=pairs,
        moves=tuple(chosen),
        unslotted=unslotted,
    )
