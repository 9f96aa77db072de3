"""Benchmark of the standard-box advisor (packbench.core.boxadvice) on generated histories.

Run, from the repository root:

    .venv/bin/python benchmarks/boxadvice.py [--sizes 100,300,1000] [--counts 3,6] [--seed 5]

The history is random orders (1–4 different products of the demo catalogue, 1–2 of each) and
the catalogue is the demo's 9 boxes and bags. For each history size and K it prints the time,
the share of the history's air the K boxes save against today's whole catalogue (negative:
K boxes leave more air than all 9 of today's), and checks every order's assignment with
``packing.fits`` + ``packing.verify`` (a box the order would not fit in would be a bug).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from time import perf_counter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _figures import emit

from packbench.core import packing
from packbench.core.boxadvice import HistoryOrder, advise
from packbench.data.demo_catalogue import generate


def history(n: int, seed: int) -> list[HistoryOrder]:
    products = generate(seed=1, n_orders=10).products
    rng = random.Random(seed)
    out = []
    for i in range(n):
        chosen = rng.sample(products, rng.choice([1, 1, 1, 2, 2, 3, 4]))
        items = tuple(
            packing.Item(
                p.sku,
                (p.length_mm, p.width_mm, p.height_mm),
                p.weight_g,
                rng.choice([1, 1, 2]),
                p.keep_upright,
            )
            for p in chosen
        )
        out.append(HistoryOrder(str(i), items))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,300,1000")
    ap.add_argument("--counts", default="3,6")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    catalogue = [
        packing.BoxType(
            b.code,
            b.kind,
            (b.inner_l_mm, b.inner_w_mm, b.inner_h_mm),
            b.max_weight_g,
            b.tare_g,
            b.cost_ore,
        )
        for b in generate(seed=1, n_orders=10).boxes
    ]
    print(f"{'orders':>6} {'K':>2} {'time s':>7} {'saved %':>8} {'new':>4} {'bad':>4}  boxes")
    for n in (int(x) for x in args.sizes.split(",")):
        h = history(n, args.seed)
        by_ref = {o.ref: o for o in h}
        for k in (int(x) for x in args.counts.split(",")):
            t = perf_counter()
            a = advise(h, catalogue, k)
            took = perf_counter() - t
            bad = 0
            for ref, i in a.placed:
                b = a.boxes[i]
                box = next((c for c in catalogue if c.code == b.code), None) or packing.BoxType(
                    "NEW", b.kind, b.inner_mm, 25000, 0, 0
                )
                parcel = packing.fits(box, by_ref[ref].items, time_budget_s=0.5)
                try:
                    if parcel is None:
                        raise packing.PackingError("no packing found")
                    packing.verify(parcel, box, by_ref[ref].items)
                except packing.PackingError:
                    bad += 1
            new = sum(b.code is None for b in a.boxes)
            labels = ", ".join(f"{b.label} {b.share:.0%}" for b in a.boxes)
            print(f"{n:>6} {k:>2} {took:>7.1f} {a.saved_pct:>8.1f} {new:>4} {bad:>4}  {labels}")
            emit("boxadvice", f"{n} orders, K={k}: air saved vs today's boxes", a.saved_pct, "%")
            emit("boxadvice", f"{n} orders, K={k}: time", took, "s")
            emit("boxadvice", f"{n} orders, K={k}: unverified assignments", bad)


if __name__ == "__main__":
    main()
