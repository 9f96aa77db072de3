"""The benchmarks' figures, gathered for `benchmarks/run`'s one table.

Each benchmark prints its own report as before; where it prints a headline figure it also
calls ``emit``, which appends one JSON line to the file named by ``PACKBENCH_FIGURES`` (and does
nothing when that is not set, e.g. when a benchmark is run by hand). ``PACKBENCH_RUN`` numbers
the run when `benchmarks/run --runs N` measures the same figures more than once.

Run as a script, ``_figures.py load`` records the machine's load average.
"""

from __future__ import annotations

import json
import os
import sys


def _run() -> int:
    return int(os.environ.get("PACKBENCH_RUN") or 1)


def emit(benchmark: str, figure: str, value: float | int | str, unit: str = "") -> None:
    path = os.environ.get("PACKBENCH_FIGURES")
    if not path:
        return
    if isinstance(value, float):
        value = round(value, 3)
    row = {"benchmark": benchmark, "figure": figure, "value": value, "unit": unit, "run": _run()}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")


if __name__ == "__main__" and sys.argv[1:2] == ["load"]:
    emit("machine", "load average, 1 min, at the start", os.getloadavg()[0])
