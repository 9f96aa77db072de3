"""What classifying a scan costs, by kind of code, and what biip adds to the start.

Run, from the repository root:

    .venv/bin/python benchmarks/codes.py [--repeat N]

Each code is classified N times (default 20,000) with the Norwegian variable-measure rules on;
the figure is the mean per scan. The import of ``packbench.core.codes`` (which brings in biip's
AI table) is timed in fresh interpreters, as an app start pays it.
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


def import_ms(runs: int = 5) -> float:
    code = (
        "import time; t=time.perf_counter(); import packbench.core.codes; "
        "print((time.perf_counter()-t)*1000)"
    )
    times = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout)
        for _ in range(runs)
    ]  # fmt: skip
    return statistics.median(times)


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
    ms = import_ms()
    print(f"import packbench.core.codes (with biip), median of 5 fresh interpreters: {ms:.1f} ms")
    emit("codes", "import packbench.core.codes", ms, "ms")


if __name__ == "__main__":
    main()
