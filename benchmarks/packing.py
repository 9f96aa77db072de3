"""Benchmark of the box suggestion (packbench.core.packing) on generated web-shop orders.

Run, from the repository root:

    .venv/bin/python benchmarks/packing.py             # packbench alone
    python3 -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install ortools py3dbp
    /tmp/bench-venv/bin/python benchmarks/packing.py   # + exact check (CP-SAT) + py3dbp baseline

Options: --orders N (default 300; 200 with --hard), --seed S (default 7), --budget SECONDS
(default 0.2), --cpsat-limit SECONDS per feasibility proof (default 1.0), --hard, --misses
(list each order where packbench's box is not proven the cheapest, with what CP-SAT found).

The budget buys packbench a fixed number of search steps (``packing.STEPS_PER_S`` per second,
about half the budget's time on an idle machine); the time is only a safety net. So the boxes
chosen do not depend on the machine's load, only the wall times do: the CPU time per order is
reported beside them, and the load average. --no-safety-net lets every search run its steps
however long they take: on a busy machine, the answers an idle one gives (the digest of the
boxes chosen tells two runs' answers apart).

--hard: the big orders of issue #20 instead: 8-20 units each of books, mugs kept upright,
folded shirts and shoe boxes, against the 10 boxes and one bag (BAG-M). "Cheapest" is then
also reported over the orders whose optimum CP-SAT proved (the target: >= 95 %, 0 invalid,
worst <= 250 ms).

For every order it reports whether the suggestion is valid (every placement checked: inside
the container, a legal rotation, no overlap, the right units, the weight limit), the time it
took, and whether it is the cheapest feasible container. "Cheapest" is checked exactly with
OR-Tools CP-SAT: every container that comes before the suggested one in the
cheapest-then-smallest order is proved infeasible (a bag with its thickness t as a variable,
so any t <= T counts, not only the ones packbench tries). Without OR-Tools the check falls
back to packbench's own corner-point search with a large node limit (orders of at most 8
units only; exact for packings built unit by unit into corners), and says so.

The PyPI package py3dbp is run on the same orders as a baseline: each container in the same
order, first one it packs everything into (bags modelled with the same thicknesses).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import statistics
import sys
from pathlib import Path
from time import perf_counter, process_time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _figures import emit

from packbench.core import packing as pk
from packbench.core import packing_bounds as pb
from packbench.core import packing_model as pm
from packbench.core import packing_search as ps

try:
    from ortools.sat.python import cp_model
except ImportError:  # pragma: no cover - optional
    cp_model = None
try:
    from py3dbp import Bin as DbpBin
    from py3dbp import Item as DbpItem
    from py3dbp import Packer as DbpPacker
except ImportError:  # pragma: no cover - optional
    DbpPacker = None


def B(code, x, y, z, cost, max_g, tare):
    return pk.BoxType(code, "box", (x, y, z), max_g, tare, cost)


CATALOGUE = [
    B("BOX-XS", 150, 100, 50, 350, 3000, 50),
    B("BOX-S1", 220, 160, 80, 450, 5000, 90),
    B("BOX-S2", 250, 180, 100, 500, 8000, 120),
    B("BOX-M1", 300, 200, 120, 600, 10000, 160),
    B("BOX-M2", 350, 250, 100, 650, 10000, 180),
    B("TUBE", 600, 110, 110, 650, 5000, 150),
    B("BOX-M3", 300, 300, 200, 750, 12000, 220),
    B("BOX-L1", 400, 300, 200, 900, 15000, 280),
    B("BOX-L2", 450, 350, 250, 1100, 20000, 350),
    B("BOX-XL", 600, 400, 400, 1800, 25000, 600),
    pk.BoxType("BAG-S", "bag", (250, 350, 40), 1500, 15, 150),
    pk.BoxType("BAG-M", "bag", (350, 450, 70), 3000, 25, 250),
]

# name, (length range, width range, height range), weight range, keep upright, how common
PRODUCTS = [
    ("BOOK", (200, 260), (130, 170), (15, 45), (250, 800), False, 10),
    ("CASE", (160, 180), (80, 95), (15, 25), (40, 80), False, 6),
    ("TSHIRT", (280, 320), (200, 240), (20, 40), (150, 250), False, 8),
    ("MUG", (115, 125), (90, 100), (95, 105), (300, 400), True, 5),
    ("BOTTLE", (70, 85), (70, 85), (230, 300), (600, 1100), True, 3),
    ("JAR", (60, 75), (60, 75), (60, 90), (150, 300), True, 4),
    ("SHOES", (300, 340), (190, 220), (100, 130), (700, 1200), False, 3),
    ("PHONES", (170, 210), (150, 190), (70, 100), (300, 600), False, 4),
    ("TOY", (80, 250), (60, 200), (40, 150), (100, 700), False, 6),
    ("CANDLE", (80, 100), (80, 100), (90, 130), (300, 500), True, 3),
    ("CABLE", (130, 170), (90, 120), (20, 40), (60, 150), False, 6),
    ("GAME", (270, 300), (270, 300), (60, 90), (800, 1500), False, 2),
    ("POSTER", (480, 520), (70, 80), (70, 80), (200, 400), False, 1),
    ("SOCKS", (180, 220), (90, 110), (30, 50), (60, 120), False, 5),
    ("SERUM", (35, 50), (35, 50), (100, 140), (80, 200), True, 4),
    ("LAMP", (420, 560), (300, 390), (300, 390), (1500, 3000), True, 1),
    ("DUMBBELL", (250, 300), (100, 120), (100, 120), (4000, 8000), False, 1),
]


# The hard set (#20): big orders of four everyday products.
HARD_PRODUCTS = [
    ("BOOK", (200, 260), (130, 170), (15, 45), (250, 800), False, 4),
    ("MUG", (115, 125), (90, 100), (95, 105), (300, 400), True, 3),
    ("SHIRT", (280, 320), (200, 240), (20, 40), (150, 250), False, 3),
    ("SHOES", (300, 340), (190, 220), (100, 130), (700, 1200), False, 2),
]
HARD_CATALOGUE = [b for b in CATALOGUE if b.kind == "box"] + [
    b for b in CATALOGUE if b.code == "BAG-M"
]


def make_hard_orders(n: int, seed: int) -> list[list[pk.Item]]:
    """Orders of 8-20 units of books, upright mugs, folded shirts and shoe boxes."""
    rng = random.Random(seed)
    weights = [p[-1] for p in HARD_PRODUCTS]
    orders = []
    for o in range(n):
        units = rng.randint(8, 20)
        items: list[pk.Item] = []
        while units > 0:
            name, lx, wx, hx, gx, upright, _ = rng.choices(HARD_PRODUCTS, weights=weights)[0]
            q = min(units, rng.choice([1, 1, 2, 2, 3, 4, 6]))
            units -= q
            dims = (rng.randint(*lx), rng.randint(*wx), rng.randint(*hx))
            sku = f"{name}-{o}-{len(items)}"
            items.append(pk.Item(sku, dims, rng.randint(*gx), q, upright))
        orders.append(items)
    return orders


def make_orders(n: int, seed: int) -> list[list[pk.Item]]:
    rng = random.Random(seed)
    weights = [p[-1] for p in PRODUCTS]
    orders = []
    for o in range(n):
        units = rng.choices(range(1, 13), weights=[14, 12, 10, 9, 8, 7, 6, 5, 4, 3, 3, 3])[0]
        items: list[pk.Item] = []
        while units > 0:
            name, lx, wx, hx, gx, upright, _ = rng.choices(PRODUCTS, weights=weights)[0]
            q = min(units, rng.choice([1, 1, 1, 1, 2, 2, 3, 4]))
            units -= q
            dims = (rng.randint(*lx), rng.randint(*wx), rng.randint(*hx))
            sku = f"{name}-{o}-{len(items)}"
            items.append(pk.Item(sku, dims, rng.randint(*gx), q, upright))
        orders.append(items)
    return orders


def units_of(items):
    return [(it.dims_mm, it.keep_upright) for it in items for _ in range(it.quantity)]


def trivially_infeasible(box: pk.BoxType, items) -> bool:
    """Exact necessary conditions: weight, each unit alone, volume (a bag at its roomiest)."""
    kinds = pm._kinds(items)
    if sum(k.weight * k.count for k in kinds) > box.max_weight_g:
        return True
    if not all(pb._unit_fits_box(k, box) for k in kinds):
        return True
    return sum(k.volume * k.count for k in kinds) > pk.nominal_volume_mm3(box) + 1


def cpsat_feasible(box: pk.BoxType, items, limit: float) -> bool | None:
    """True / False proved by CP-SAT, None if it ran out of time."""
    m = cp_model.CpModel()
    if box.kind == "bag":
        flat_l, flat_w, t_max = box.inner_mm
        t = m.NewIntVar(1, t_max, "t")
        cx, cy, cz = flat_l - t, flat_w - t, t
        ub = (flat_l, flat_w, t_max)
    else:
        cx, cy, cz = box.inner_mm
        ub = box.inner_mm
    pos, size = [], []
    units = units_of(items)
    for i, (dims, upright) in enumerate(units):
        rots = [r for r in pm._rotations(dims, upright) if all(r[a] <= ub[a] for a in range(3))]
        if not rots:
            return False
        o = [m.NewBoolVar(f"o{i}_{r}") for r in range(len(rots))]
        m.AddExactlyOne(o)
        s = [sum(o[r] * rots[r][a] for r in range(len(rots))) for a in range(3)]
        p = [m.NewIntVar(0, ub[a], f"p{i}_{a}") for a in range(3)]
        m.Add(p[0] + s[0] <= cx)
        m.Add(p[1] + s[1] <= cy)
        m.Add(p[2] + s[2] <= cz)
        pos.append(p)
        size.append(s)
    for i in range(len(units)):
        for j in range(i + 1, len(units)):
            sep = [m.NewBoolVar(f"s{i}_{j}_{k}") for k in range(6)]
            m.AddBoolOr(sep)
            for a in range(3):
                m.Add(pos[i][a] + size[i][a] <= pos[j][a]).OnlyEnforceIf(sep[2 * a])
                m.Add(pos[j][a] + size[j][a] <= pos[i][a]).OnlyEnforceIf(sep[2 * a + 1])
            if units[i] == units[j] and j == i + 1:
                m.Add(pos[i][0] <= pos[j][0])  # identical units: any order will do
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = 2
    status = solver.Solve(m)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    if status == cp_model.INFEASIBLE:
        return False
    return None


def own_exact_feasible(box: pk.BoxType, items) -> bool | None:
    kinds = pm._kinds(items)
    if sum(k.count for k in kinds) > pk.EXACT_MAX_UNITS:
        return None
    shapes = [box.inner_mm]
    if box.kind == "bag":
        flat_l, flat_w, t_max = box.inner_mm
        shapes = [(flat_l - t, flat_w - t, t) for t in range(1, t_max + 1)]
    unknown = False
    for c in shapes:
        if pb._quick_reject(c, kinds):
            continue
        rots = [tuple(r for r in k.rots if pb._fits_in(r, c)) for k in kinds]
        status, _ = ps._exact(c, kinds, rots, ps._Meter(perf_counter() + 5.0), 10**9)
        if status:
            return True
        unknown |= status is None
    return None if unknown else False


def run_py3dbp(order_boxes, items):
    """py3dbp's single-container answer: (box, Parcel) or None."""
    kinds = pm._kinds(items)
    for box in order_boxes:
        if sum(k.weight * k.count for k in kinds) > box.max_weight_g:
            continue
        for c in pb._containers(box, kinds):
            packer = DbpPacker()
            packer.add_bin(DbpBin(box.code, *c, box.max_weight_g))
            for k in kinds:
                for n in range(k.count):
                    packer.add_item(DbpItem(f"{k.sku}#{n}", *k.dims, k.weight))
            packer.pack(bigger_first=True, number_of_decimals=0)
            b = packer.bins[0]
            if b.unfitted_items or len(b.items) != sum(k.count for k in kinds):
                continue
            placements = tuple(
                pk.Placement(
                    it.name.split("#")[0],
                    tuple(int(v) for v in it.position),
                    tuple(int(v) for v in it.get_dimension()),
                )
                for it in b.items
            )
            volume = sum(k.volume * k.count for k in kinds)
            weight = sum(k.weight * k.count for k in kinds) + box.tare_g
            fill = volume / (c[0] * c[1] * c[2])
            return box, pk.Parcel(box.code, c, weight, fill, placements)
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=None)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--budget", type=float, default=0.2)
    ap.add_argument("--cpsat-limit", type=float, default=1.0)
    ap.add_argument("--hard", action="store_true", help="the big orders of issue #20")
    ap.add_argument("--misses", action="store_true", help="list the orders packbench missed")
    ap.add_argument(
        "--no-safety-net",
        action="store_true",
        help="let every search run its steps however long they take (on a busy machine: "
        "the answers of an idle one, with the busy machine's times)",
    )
    args = ap.parse_args()
    if args.no_safety_net:
        pk.SAFETY_NET = math.inf

    catalogue = HARD_CATALOGUE if args.hard else CATALOGUE
    n_orders = args.orders or (200 if args.hard else 300)
    order_boxes = sorted(catalogue, key=pm._order_key)
    rank = {b.code: i for i, b in enumerate(order_boxes)}
    orders = (make_hard_orders if args.hard else make_orders)(n_orders, args.seed)
    bench = "packing-hard" if args.hard else "packing"
    exact_name = "OR-Tools CP-SAT" if cp_model else "own corner-point search (<= 8 units only)"
    what = "hard set: 8-20 units" if args.hard else "units per order 1-12"
    print(f"orders: {len(orders)} (seed {args.seed}), catalogue: {len(catalogue)} containers,")
    print(f"{what}, time budget {args.budget} s; exact check: {exact_name}")
    print(f"ortools: {'installed' if cp_model else 'not installed'}; ", end="")
    print(f"py3dbp: {'installed' if DbpPacker else 'not installed'}")

    rows = {"packbench": _Stats(), "py3dbp": _Stats()}
    exact_time = 0.0
    cpu_times: list[float] = []
    answers = hashlib.sha256()
    dbp_invalid: dict[str, int] = {}
    for n, items in enumerate(orders):
        t0, c0 = perf_counter(), process_time()
        s = pk.suggest(catalogue, items, time_budget_s=args.budget)
        ours_t = perf_counter() - t0
        cpu_times.append(process_time() - c0)
        ok = True
        try:
            pk.verify_suggestion(s, catalogue, items)
        except pk.PackingError as e:
            ok = False
            print("INVALID packbench:", e)
        ours = rank[s.parcels[0].box] if len(s.parcels) == 1 else None
        answers.update(("+".join(p.box for p in s.parcels) + ";").encode())

        dbp = None
        if DbpPacker:
            t0 = perf_counter()
            got = run_py3dbp(order_boxes, items)
            dbp_t = perf_counter() - t0
            dbp_ok = True
            if got is not None:
                try:
                    pk.verify(got[1], got[0], items)
                except pk.PackingError as e:
                    dbp_ok = False
                    why = str(e)
                    for word in ("rotation", "overlap", "sticks out", "weigh"):
                        if word in why:
                            why = word
                    dbp_invalid[why] = dbp_invalid.get(why, 0) + 1
                dbp = rank[got[0].code]

        # Exact status of each container before ours, up to the first feasible one.
        t0 = perf_counter()
        status: dict[int, bool | None] = {}
        horizon = ours if ours is not None else len(order_boxes)
        for i in range(horizon):
            box = order_boxes[i]
            if trivially_infeasible(box, items):
                status[i] = False
            elif dbp is not None and dbp == i and dbp_ok:
                status[i] = True  # py3dbp's checked packing proves it
            elif cp_model:
                status[i] = cpsat_feasible(box, items, args.cpsat_limit)
            else:
                status[i] = own_exact_feasible(box, items)
            if status[i]:
                break
        if ours is not None and not any(status.values()):
            status[ours] = True  # packbench's checked packing proves it
        exact_time += perf_counter() - t0

        verdict = rows["packbench"].add(ok, ours_t, ours, status, order_boxes)
        if args.misses and verdict != "cheapest":
            units = sum(it.quantity for it in items)
            chosen = order_boxes[ours].code if ours is not None else "split"
            known = " ".join(
                f"{order_boxes[i].code}={'?' if v is None else 'yes' if v else 'no'}"
                for i, v in sorted(status.items())
            )
            took = f"{ours_t * 1e3:.0f} ms"
            print(f"order {n}: {verdict}, {units} units, {chosen} in {took}; {known}")
        if DbpPacker:
            rows["py3dbp"].add(dbp_ok, dbp_t, dbp, status, order_boxes)

    print()
    head = (
        f"{'method':<10} {'orders':>6} {'invalid':>7} {'split':>5} {'median ms':>9} "
        f"{'worst ms':>8} {'cheapest':>14} {'same box':>8} {'costlier':>8} {'unproven':>8}"
    )
    print(head)
    print("-" * len(head))
    for name, st in rows.items():
        if not st.n:
            print(f"{name:<10} not installed")
            continue
        print(st.line(name))
        emit(bench, f"{name}: invalid suggestions", st.invalid, f"of {st.n}")
        emit(bench, f"{name}: cheapest feasible", 100 * st.cheapest / st.n, "%")
        if st.proven:
            share = 100 * st.cheapest / st.proven
            emit(bench, f"{name}: cheapest where the optimum is proven", share, "%")
        emit(bench, f"{name}: median time per order", statistics.median(st.times) * 1e3, "ms")
        emit(bench, f"{name}: worst time per order", max(st.times) * 1e3, "ms")
    emit(bench, "packbench: median CPU time per order", statistics.median(cpu_times) * 1e3, "ms")
    emit(bench, "packbench: worst CPU time per order", max(cpu_times) * 1e3, "ms")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    emit(bench, "load average (1 min) at the end", round(load, 2), "")
    emit(bench, "exact check", exact_name)
    emit(bench, "packbench: boxes chosen, digest", answers.hexdigest()[:12])
    print()
    for name, st in rows.items():
        if st.proven:
            share = 100 * st.cheapest / st.proven
            print(f"{name}: cheapest in {st.cheapest} of the {st.proven} orders whose optimum is")
            print(f"  proven ({share:.1f} %); worst {max(st.times) * 1e3:.1f} ms")
    print()
    print("cheapest: the suggestion costs no more than the cheapest feasible single container")
    print("  (a split counts only when no single container is feasible); same box: it is the")
    print("  cheapest-then-smallest one; costlier: a cheaper container was proved feasible;")
    print("  unproven: no cheaper container was proved feasible, but one proof ran out of time")
    print("  (or, without OR-Tools, the order has more than 8 units).")
    if dbp_invalid:
        why = ", ".join(f"{n} {w}" for w, n in sorted(dbp_invalid.items()))
        print(f"py3dbp's invalid packings: {why} (it has no keep-upright: 'rotation').")
    slowest = sorted(range(len(orders)), key=lambda n: -rows["packbench"].times[n])[:3]
    took = ", ".join(f"{n} ({rows['packbench'].times[n] * 1e3:.0f} ms)" for n in slowest)
    print(f"packbench's slowest orders: {took} (wall clock: the machine's load counts).")
    cpu = sorted(cpu_times)
    print(
        f"packbench's CPU time per order: median {statistics.median(cpu) * 1e3:.1f} ms, "
        f"worst {cpu[-1] * 1e3:.1f} ms (the search is bounded by steps, not time: on a busy "
        f"machine the wall time grows, the answer does not); load average {load:.2f}."
    )
    net = "none (--no-safety-net)" if args.no_safety_net else f"{args.budget} s"
    print(f"boxes chosen, digest: {answers.hexdigest()[:12]} (the same in every run whose")
    print(f"  searches all ran their steps); wall-clock safety net: {net}.")
    print(f"exact checking took {exact_time:.1f} s in all.")


class _Stats:
    def __init__(self) -> None:
        self.n = self.invalid = self.split = self.cheapest = self.same = 0
        self.costlier = self.unproven = 0
        self.times: list[float] = []

    def add(self, ok, t, chosen, status, order_boxes) -> str:
        """Count one order; its verdict: invalid, cheapest, costlier or unproven."""
        self.n += 1
        self.times.append(t)
        if not ok:
            self.invalid += 1
            return "invalid"
        last = len(order_boxes)
        if chosen is None:
            self.split += 1
            chosen = last
        feasible = [i for i, s in status.items() if s]
        first = min(feasible) if feasible else None
        if first is not None and first < chosen:
            if chosen < last and order_boxes[chosen].cost_ore == order_boxes[first].cost_ore:
                self.cheapest += 1
                return "cheapest"
            self.costlier += 1
            return "costlier"
        if any(s is None for i, s in status.items() if i < chosen):
            self.unproven += 1
            return "unproven"
        self.cheapest += 1
        self.same += 1
        return "cheapest"

    @property
    def proven(self) -> int:
        """Orders whose answer is settled (an invalid packing counts, as a miss)."""
        return self.n - self.unproven

    def line(self, name: str) -> str:
        med = statistics.median(self.times) * 1000
        worst = max(self.times) * 1000
        share = f"{self.cheapest} ({100 * self.cheapest / self.n:.1f}%)"
        return (
            f"{name:<10} {self.n:>6} {self.invalid:>7} {self.split:>5} {med:>9.1f} "
            f"{worst:>8.1f} {share:>14} {self.same:>8} {self.costlier:>8} {self.unproven:>8}"
        )


if __name__ == "__main__":
    main()
