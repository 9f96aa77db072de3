"""The benchmarks' figures, gathered for `benchmarks/run`'s one table.

Each benchmark prints its own report as before; where it prints a headline figure it also
calls ``emit``, which appends one JSON line to the file named by ``PACKBENCH_FIGURES`` (and does
nothing when that is not set, e.g. when a benchmark is run by hand).
"""

from __future__ import annotations

import json
import os


def emit(benchmark: str, figure: str, value: float | int | str, unit: str = "") -> None:
    path = os.environ.get("PACKBENCH_FIGURES")
    if not path:
        return
    if isinstance(value, float):
        value = round(value, 3)
    with open(path, "a", encoding="utf-8") as out:
        out.write(
            json.dumps({"benchmark": benchmark, "figure": figure, "value": value, "unit": unit})
            + "\n"
        )
