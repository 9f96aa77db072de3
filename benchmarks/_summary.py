"""`benchmarks/run`'s tables: every figure measured, then the issues' targets with baselines.

Run: python benchmarks/_summary.py FIGURES.jsonl WRITE_README(0|1) TARGETS_ONLY(0|1)

Every figure gets one column per run (`benchmarks/run --runs N`). Each target of issue #20 is
read from the figures of the same run as its baseline, and says whether it was met in every run.
With WRITE_README=1 the tables go into README.md between its markers: the whole table between
``<!-- benchmarks:begin/end -->`` (a full run), the targets between ``<!-- targets:begin/end -->``.
"""

from __future__ import annotations

import json
import operator
import pathlib
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Target:
    issue: str
    what: str
    figure: tuple[str, str]
    op: str  # "<=", ">=" or "=="
    limit: float
    baseline: tuple[str, str] | None
    baseline_name: str


HARD = "packing-hard"
TARGETS = [
    Target(
        "#20", "start: first frame ÷ minimal Textual app",
        ("startup", "packbench first frame / minimal app (medians)"), "<=", 2.5,
        ("startup", "minimal Textual app: median"), "minimal app's start, ms",
    ),
    Target(
        "#20", "scan → screen p95, 200k-order history, ms",
        ("volume", "pack scan → screen (headless app, all): p95"), "<=", 12,
        ("scan_floor", "minimal Textual app, burst → frame: p95"), "minimal app, same bursts",
    ),
    Target(
        "#20", "label PDF 102×152, median ms",
        ("printing", "render label 102x152, PDF: median"), "<=", 6,
        ("printing", "render label 102x152, PDF (fa30e75): median"), "the code before #20",
    ),
    Target(
        "#20", "label PDF 100×190, median ms",
        ("printing", "render label 100x190, PDF: median"), "<=", 6,
        ("printing", "render label 100x190, PDF (fa30e75): median"), "the code before #20",
    ),
    Target(
        "#20", "boxes: cheapest where the optimum is proven, %",
        (HARD, "packbench: cheapest where the optimum is proven"), ">=", 95,
        (HARD, "py3dbp: cheapest where the optimum is proven"), "py3dbp",
    ),
    Target(
        "#20", "boxes: invalid suggestions",
        (HARD, "packbench: invalid suggestions"), "==", 0,
        (HARD, "py3dbp: invalid suggestions"), "py3dbp",
    ),
    Target(
        "#20", "boxes: worst time per order, ms",
        (HARD, "packbench: worst time per order"), "<=", 250,
        (HARD, "py3dbp: worst time per order"), "py3dbp",
    ),
]  # fmt: skip
OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
}


def text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return "—" if value is None else str(value)


def main() -> int:
    source, write_readme, targets_only = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
    rows = [json.loads(line) for line in pathlib.Path(source).read_text().splitlines()]
    runs = sorted({int(r.get("run", 1)) for r in rows}) or [1]
    values: dict[tuple[str, str], dict[int, object]] = {}
    units: dict[tuple[str, str], str] = {}
    for r in rows:
        key = (r["benchmark"], r["figure"])
        values.setdefault(key, {})[int(r.get("run", 1))] = r["value"]
        units[key] = r["unit"]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    head = (
        f"{len(values)} figures, {len(runs)} run(s), {date.today()}, commit {commit}, "
        f"Python {platform.python_version()}"
    )

    width = max((len(f) for _, f in values), default=10)
    bench_w = max((len(b) for b, _ in values), default=9)
    lines = [head, ""]
    cols = "".join(f"{'run ' + str(n):>13}" for n in runs)
    lines.append(f"{'benchmark':<{bench_w}} {'figure':<{width}}{cols}  unit")
    lines.append("-" * (bench_w + width + 13 * len(runs) + 8))
    for key, by_run in values.items():
        cells = "".join(f" {text(by_run.get(n)):>12}" for n in runs)
        lines.append(f"{key[0]:<{bench_w}} {key[1]:<{width}}{cells}  {units[key]}")
    table = "\n".join(lines)
    print(table)

    t_lines = [head, ""]
    what_w = max(len(t.what) for t in TARGETS)
    t_lines.append(
        f"{'issue':<6}{'target':<{what_w}}  {'limit':>8}"
        + "".join(f"{'run ' + str(n):>10}{'met':>5}{'baseline':>10}" for n in runs)
        + "  baseline is"
    )
    t_lines.append("-" * (6 + what_w + 10 + 25 * len(runs) + 30))
    missed = 0
    for t in TARGETS:
        cells = ""
        for n in runs:
            got = values.get(t.figure, {}).get(n)
            base = values.get(t.baseline, {}).get(n) if t.baseline else None
            if isinstance(got, int | float):
                ok = OPS[t.op](float(got), t.limit)
                missed += not ok
                verdict = "yes" if ok else "NO"
            else:
                missed += 1
                verdict = "—"
            cells += f"{text(got):>10}{verdict:>5}{text(base):>10}"
        limit = f"{t.op} {text(t.limit)}"
        t_lines.append(f"{t.issue:<6}{t.what:<{what_w}}  {limit:>8}{cells}  {t.baseline_name}")
    loads = values.get(("machine", "load average, 1 min, at the start"), {})
    if loads:
        t_lines.append("")
        t_lines.append(
            "load average at each run's start: "
            + ", ".join(f"run {n} {text(loads.get(n))}" for n in runs)
        )
    targets = "\n".join(t_lines)
    print()
    print(targets)
    print(f"\n{'every target met in every run' if not missed else f'{missed} target(s) not met'}")

    if write_readme:
        readme = pathlib.Path("README.md")
        text_ = readme.read_text()
        blocks = [("targets", targets)] + ([] if targets_only else [("benchmarks", table)])
        for marker, block in blocks:
            begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
            if begin in text_ and end in text_:
                before, rest = text_.split(begin, 1)
                _, after = rest.split(end, 1)
                text_ = f"{before}{begin}\n```\n{block}\n```\n{end}{after}"
                print(f"README.md: {marker} updated")
            else:
                print(f"README.md has no {marker} markers; not updated", file=sys.stderr)
        readme.write_text(text_)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
