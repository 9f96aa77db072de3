"""What classifying a scan costs, by kind of code, and what biip adds to the start.

Run, from the repository root:

    .venv/bin/python benchmarks/codes.py [--repeat N]

Each code is classified N times (default 20,000) with the Norwegian variable-measure rules on;
the figure is the mean per scan (warm: biip already loaded). The import of
``packbench.core.codes`` and the loading of biip's tables (on the first GS1 code, or by
``gs1.preload`` in a worker at app start) are timed in fresh interpreters.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path
from time import perf_counter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _figures import emit

GTIN = "09506000134352"
CODES = {
    "EAN-13": "5901234123457",
    "UPC-E": "04252614",
    "SKU": "FJ-KJ-0001",
    "badge": "BDG-1001",
    "SSCC (00)": "00376130321109103420",
    "GS1 DataMatrix, batch last": f"01{GTIN}17261231" + "10ABC123",
    "GS1-128 with GS": f"]C101{GTIN}10ABC123\x1d17261231\x1d21SN0001",
    "SSCC + (02) + (37)": "00376130321109103420" + "0200614141123452" + "3712",
    "printed SSCC text": "(00) 3 7071234 000000001 6",
    "Digital Link": f"https://id.gs1.org/01/{GTIN}/10/ABC?17=261231",
    "variable measure": "2302148210869",
}


def start_ms(runs: int = 5) -> tuple[float, float]:
    """Median ms, in fresh interpreters, of importing packbench.core.codes and then of
    loading biip's tables (``gs1.preload``, which the app runs in a worker at start)."""
    code = (
        "import time; t=time.perf_counter(); import packbench.core.codes; "
        "u=time.perf_counter(); from packbench.core.gs1 import preload; preload(); "
        "print((u-t)*1000, (time.perf_counter()-u)*1000)"
    )
    pairs = [
        tuple(map(float, subprocess.run([sys.executable, "-c", code], capture_output=True,
                                        text=True, check=True).stdout.split()))
        for _ in range(runs)
    ]  # fmt: skip
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20_000)
    args = parser.parse_args()
    from packbench.core.codes import CodeRules, classify

    rules = CodeRules(rcn_region="no")
    print(f"classify(), mean of {args.repeat} runs per code")
    print(f"{'code':<28} {'kind':<8} {'µs':>8}")
    for name, code in CODES.items():
        scan = classify(code, rules)  # warm: biip's caches, our AI cache
        start = perf_counter()
        for _ in range(args.repeat):
            classify(code, rules)
        us = (perf_counter() - start) / args.repeat * 1e6
        print(f"{name:<28} {scan.kind.value:<8} {us:8.1f}")
        emit("codes", f"classify {name}", us, "µs")
    imported, loaded = start_ms()
    print(f"median of 5 fresh interpreters: import packbench.core.codes {imported:.1f} ms, "
          f"then biip's tables (gs1.preload) {loaded:.1f} ms")  # fmt: skip
    emit("codes", "import packbench.core.codes", imported, "ms")
    emit("codes", "load biip (first GS1 code or preload)", loaded, "ms")


if __name__ == "__main__":
    main()
