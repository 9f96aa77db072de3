"""Files the bench writes are its owner's alone: the log (and every rotation of it) and the
documents written with ``--out``/``--pdf``/``--csv`` hold customers' names and addresses."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from packbench.config import load_settings
from packbench.data.engine import create_database
from packbench.logs import PrivateRotatingFileHandler, setup_logging
from packbench.operations.printing import export_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive common umask: what we create must be 0600 regardless."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def private_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PACKBENCH_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("PACKBENCH_LOG__FILE", str(tmp_path / "logs" / "packbench.log"))
    path = setup_logging(load_settings())
    yield path
    for handler in list(logging.getLogger().handlers):
        if isinstance(handler, PrivateRotatingFileHandler):
            logging.getLogger().removeHandler(handler)
            handler.close()


def _handler() -> PrivateRotatingFileHandler:
    return next(
        h for h in logging.getLogger().handlers if isinstance(h, PrivateRotatingFileHandler)
    )


def test_the_log_file_and_its_rotations_are_0600(open_umask: None, private_log: Path) -> None:
    logging.getLogger("packbench.test").warning("first file")
    handler = _handler()
    handler.flush()
    assert mode(private_log) == 0o600
    assert mode(private_log.parent) == 0o700
    for n in range(3):
        handler.doRollover()
        logging.getLogger("packbench.test").warning("file after rollover %d", n)
        handler.flush()
    rotated = sorted(private_log.parent.glob("packbench.log.*"))
    assert [p.name for p in rotated] == ["packbench.log.1", "packbench.log.2", "packbench.log.3"]
    for path in [private_log, *rotated]:
        assert mode(path) == 0o600, path


def test_an_older_world_readable_log_is_narrowed(
    open_umask: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "packbench.log"
    old.write_text("from an older version\n")
    old.chmod(0o644)
    backup = tmp_path / "packbench.log.1"
    backup.write_text("older still\n")
    backup.chmod(0o644)
    handler = PrivateRotatingFileHandler(old, maxBytes=10, backupCount=2, encoding="utf-8")
    try:
        assert mode(old) == 0o600
        handler.doRollover()
        assert mode(tmp_path / "packbench.log.2") == 0o600  # the old backup, moved on
    finally:
        handler.close()


def test_written_documents_are_0600_even_over_a_world_readable_file(
    open_umask: None, tmp_path: Path
) -> None:
    out = tmp_path / "docs" / "slips.pdf"
    export_file(out, b"%PDF-1.4 first")
    assert mode(out) == 0o600 and out.read_bytes() == b"%PDF-1.4 first"
    out.chmod(0o644)
    export_file(out, b"%PDF-1.4 second")
    assert mode(out) == 0o600 and out.read_bytes() == b"%PDF-1.4 second"
    assert [p.name for p in out.parent.iterdir()] == ["slips.pdf"]  # no temporary file left


def test_cli_documents_are_0600(open_umask: None, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from packbench import cli

    monkeypatch.setenv("PACKBENCH_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("PACKBENCH_LOG__FILE", str(tmp_path / "pb.log"))
    db = str(tmp_path / "bench.db")
    assert cli.main(["init", "--db", db, "--demo", "--orders", "3"]) == 0
    csv, pdf = tmp_path / "day.csv", tmp_path / "day.pdf"
    assert cli.main(["report", "--db", db, "--csv", str(csv), "--pdf", str(pdf)]) == 0
    slip = tmp_path / "slip.pdf"
    number = _order_numbers(db)[0]
    assert cli.main(["print", "slip", "--db", db, number, "--out", str(slip)]) == 0
    for path in (csv, pdf, slip):
        assert mode(path) == 0o600, path


def _order_numbers(db: str) -> list[str]:
    import json

    from tests.packbench_process import run_packbench

    result = run_packbench("orders", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    return [o["number"] for o in json.loads(out)]


def test_database_errors_do_not_carry_customer_data(tmp_path: Path) -> None:
    db = create_database(tmp_path / "x.db")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE people (email TEXT UNIQUE)")
        conn.exec_driver_sql("INSERT INTO people VALUES (?)", ("kari.nordmann@example.no",))
    with pytest.raises(IntegrityError) as info, db.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO people VALUES (?)", ("kari.nordmann@example.no",))
    assert "UNIQUE constraint failed" in str(info.value)
    assert "kari.nordmann" not in str(info.value)
    db.dispose()


_WRITER = """
import logging, sys
from packbench.logs import PrivateRotatingFileHandler
path, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
handler = PrivateRotatingFileHandler(path, maxBytes=4000, backupCount=400)
handler.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("w")
log.addHandler(handler)
log.setLevel(logging.INFO)
for n in range(count):
    log.info("%s %05d %s", who, n, "x" * 60)
handler.close()
"""


def test_several_processes_share_one_rotating_log_without_losing_a_line(tmp_path: Path) -> None:
    """The sync, the app and each browser tab's process write one log: every line of every
    process arrives whole, exactly once, across the rotations they trigger between them."""
    import subprocess
    import sys

    path = tmp_path / "shared.log"
    writers, count = 4, 600
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), f"p{w}", str(count)])
        for w in range(writers)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * writers
    files = [path, *path.parent.glob("shared.log.*")]
    assert len(files) > 10  # it did rotate, many times, under all four writers
    lines = [line for f in files for line in f.read_text().splitlines()]
    expected = {f"p{w} {n:05d} {'x' * 60}" for w in range(writers) for n in range(count)}
    assert len(lines) == writers * count  # nothing lost, nothing written twice
    assert set(lines) == expected  # and no line torn or interleaved with another
    for f in files:
        assert mode(f) == 0o600, f
    # Read from the oldest backup to the live file, each process's lines come in its order.
    oldest_first = sorted(path.parent.glob("shared.log.*"), key=lambda f: -int(f.suffix[1:]))
    seen: dict[str, list[int]] = {}
    for f in [*oldest_first, path]:
        for line in f.read_text().splitlines():
            who, n, _ = line.split(" ")
            seen.setdefault(who, []).append(int(n))
    assert all(ns == sorted(ns) for ns in seen.values())
