"""Benchmark of the pick routing (packbench.core.routing) on random pick lists.

Run, from the repository root:

    .venv/bin/python benchmarks/routing.py [--instances N] [--seed S]

Warehouses of 8 and 20 aisles with 20 bays each (1 m bays, 3 m aisle pitch), as one block and
with one middle cross aisle after bay 10; for every instance the depot aisle is drawn at
random and 1-30 picks (aisle, bay, level 1-4) uniformly. Routes compared with the optimum:

* shortest_route: what the app uses (the exact aisle-by-aisle dynamic program here);
* heuristic: the fallback used for more middle cross aisles than the DP takes (S-shape,
  nearest neighbour and sorted orders improved by 2-opt / or-opt), forced on the same lists;
* s_shape_route: the classic S-shape / traversal strategy;
* sorted_route: the plain sorted list of location codes.

The optimum is the exact DP (Ratliff & Rosenthal for one block). For the multi-block layouts
it is also checked independently with Held-Karp over the shortest-path distances wherever
there are at most 12 distinct stops; above that the DP's length is the best known.

A last configuration has three middle cross aisles, more than shortest_route gives to the DP:
there it uses Held-Karp up to 12 stops and the heuristic above that; the optimum is the DP
forced with method="dp" (slower with every cross aisle, so not timed as the app's choice).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path
from time import perf_counter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _figures import emit

from packbench.core import routing as rt


def make_layout(n_aisles: int, cross_aisles: tuple[int, ...]) -> rt.Layout:
    aisles = tuple(f"{chr(65 + i)}" if i < 26 else f"A{i}" for i in range(n_aisles))
    return rt.Layout(aisles, 20, 1.0, 3.0, aisles[0], cross_aisles)


def make_instances(layout: rt.Layout, n: int, rng: random.Random):
    out = []
    for _ in range(n):
        depot = rng.choice(layout.aisles)
        lay = rt.Layout(
            layout.aisles,
            layout.bays,
            layout.bay_width_m,
            layout.aisle_pitch_m,
            depot,
            layout.cross_aisles,
        )
        picks = [
            f"{rng.choice(lay.aisles)}-{rng.randint(1, lay.bays):02d}-{rng.randint(1, 4)}"
            for _ in range(rng.randint(1, 30))
        ]
        out.append((lay, picks))
    return out


def timed(fn, *args, **kwargs):
    t = perf_counter()
    result = fn(*args, **kwargs)
    return result, perf_counter() - t


def n_stops(route: rt.Route) -> int:
    return len({code.rsplit("-", 1)[0] for code in route.sequence})


METHODS = {
    "shortest_route": rt.shortest_route,
    "heuristic": lambda lay, picks: rt.shortest_route(lay, picks, method="heuristic"),
    "s_shape_route": rt.s_shape_route,
    "sorted_route": rt.sorted_route,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=150, help="per configuration")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    print(f"{args.instances} random pick lists per configuration, seed {args.seed}")
    print("% over optimum: mean / worst;  time per route in ms: mean / worst\n")
    header = (
        f"{'layout':<22}{'method':<16}{'mean %':>8}{'worst %':>9}{'mean ms':>9}{'worst ms':>10}"
    )
    print(header)
    print("-" * len(header))
    problems = 0
    started = perf_counter()
    configs = [(n, cross) for n in (8, 20) for cross in ((), (10,))] + [(8, (5, 10, 15))]
    for n_aisles, cross in configs:
        base = make_layout(n_aisles, cross)
        name = f"{n_aisles} aisles, {len(cross) + 1} block" + ("s" if cross else "")
        instances = make_instances(base, args.instances, rng)
        gaps = {m: [] for m in METHODS}
        times = {m: [] for m in METHODS}
        hk_checked = hk_equal = 0
        for lay, picks in instances:
            routes = {}
            for m, fn in METHODS.items():
                route, dt = timed(fn, lay, picks)
                routes[m] = route
                times[m].append(dt)
                # every route must be consistent with its own sequence
                if abs(rt.route_length(lay, route.sequence) - route.distance_m) > 1e-6:
                    problems += 1
                    print(f"  inconsistent {m}: {lay} {picks}")
            best = routes["shortest_route"].distance_m
            if len(cross) > rt.DP_MAX_CROSS_AISLES:
                best = rt.shortest_route(lay, picks, method="dp").distance_m
            if cross and n_stops(routes["shortest_route"]) <= rt.HELD_KARP_MAX_STOPS:
                hk = rt.shortest_route(lay, picks, method="held-karp").distance_m
                hk_checked += 1
                hk_equal += abs(hk - best) <= 1e-6
                best = min(best, hk)
            for m, route in routes.items():
                gaps[m].append(100.0 * (route.distance_m / best - 1.0))
        for m in METHODS:
            g, t = gaps[m], times[m]
            print(
                f"{name:<22}{m:<16}{statistics.fmean(g):>8.2f}{max(g):>9.2f}"
                f"{1e3 * statistics.fmean(t):>9.2f}{1e3 * max(t):>10.2f}"
            )
            emit("routing", f"{name}, {m}: mean above optimum", statistics.fmean(g), "%")
            emit("routing", f"{name}, {m}: worst above optimum", max(g), "%")
            if m == "shortest_route":
                emit("routing", f"{name}: mean time per route", 1e3 * statistics.fmean(t), "ms")
        if cross:
            print(
                f"{'':<22}Held-Karp check: DP = Held-Karp on {hk_equal}/{hk_checked} "
                "lists with <= 12 stops"
            )
            problems += hk_checked - hk_equal
        print()
    print(f"total {perf_counter() - started:.1f} s; problems: {problems}")
    emit("routing", "inconsistent routes", problems)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
