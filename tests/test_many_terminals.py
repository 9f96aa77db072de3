"""Several terminals (separate processes) scanning at once on one database, checked from the
database alone: no scan lost, no lock error reaching a person, claims exclusive, every order's
status as its log says, units exactly as the accepted scans confirmed. The minute-long version
with six terminals is `benchmarks/terminals.py`; this is a short one for every CI run."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from packbench.data.engine import Database

TERMINALS_SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "terminals.py"


def load_terminals():  # type: ignore[no-untyped-def]
    """benchmarks/terminals.py as a module (benchmarks/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("terminals", TERMINALS_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pickers_packers_and_a_shipper_at_once(demo_db: Database, tmp_path: Path) -> None:
    terminals = load_terminals()
    os.environ.setdefault("PACKBENCH_BENCH__TERMINAL", "test")
    report = terminals.run(demo_db.target, pick=1, pack=2, ship=1, seconds=6, workdir=tmp_path)
    assert report["failures"] == []
    assert report["problems"] == []
    assert report["scans"] > 20
    assert report["units_picked"] > 0 and report["units_packed"] > 0
    journals = [p.read_text() for p in tmp_path.glob("term-*.jsonl")]
    assert len(journals) == 4
