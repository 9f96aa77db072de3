"""`packbench packers`: the people, and a supervisor's PIN set from stdin, never argv."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sqlmodel import select

from packbench.data.engine import create_database
from packbench.data.models import Packer
from packbench.operations.packers import check_pin
from tests.packbench_process import run_packbench


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_packbench(*args, input=stdin, timeout=120)


def test_list_and_set_pin(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    assert run("init", "--db", str(path), "--demo").returncode == 0
    listed = run("packers", "list", "--db", str(path), "--json")
    assert listed.returncode == 0, listed.stderr
    people = json.loads(listed.stdout)
    supervisors = [p for p in people if p["role"] == "supervisor"]
    assert supervisors and all(set(p) == {"name", "badge", "role"} for p in people)
    badge = supervisors[0]["badge"]

    ok = run("packers", "set-pin", "--db", str(path), badge.lower(), stdin="86420\n")
    assert ok.returncode == 0, ok.stderr
    db = create_database(path)
    with db.read() as s:
        stored = s.exec(select(Packer).where(Packer.badge == badge)).one().pin_hash
    db.dispose()
    assert check_pin("86420", stored) and "86420" not in stored

    bad = run("packers", "set-pin", "--db", str(path), badge, stdin="12\n")
    assert bad.returncode == 2 and "4 to 12 digits" in bad.stderr
    packer = next(p for p in people if p["role"] == "packer")
    refused = run("packers", "set-pin", "--db", str(path), packer["badge"], stdin="1234\n")
    assert refused.returncode == 2 and "not a supervisor" in refused.stderr
    db = create_database(path)
    with db.read() as s:  # the refused calls changed nothing
        assert s.exec(select(Packer).where(Packer.badge == badge)).one().pin_hash == stored
    db.dispose()
