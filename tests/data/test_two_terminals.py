"""Two terminals writing the same row at once: no lost update, on SQLite and on PostgreSQL.

Each transaction reads a counter, waits, and writes it plus one — the shape of a claim or a
number series. Both must count: SQLite serialises writers (BEGIN IMMEDIATE), PostgreSQL runs
writers REPEATABLE READ and ``transact`` retries the one that lost.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlmodel import select

from packbench.data.engine import Database, create_database
from packbench.data.models import SyncState
from tests.packbench_process import run_packbench


def test_no_lost_update_between_two_engines(db: Database) -> None:
    with db.write() as s:
        s.add(SyncState(key="counter", value="0"))
    other = create_database(db.target)  # another terminal: its own engine, same database
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def bump(database: Database) -> None:
        def run(session) -> None:  # type: ignore[no-untyped-def]
            row = session.exec(select(SyncState).where(SyncState.key == "counter")).one()
            seen = int(row.value)
            time.sleep(0.05)  # the other terminal reads the same value meanwhile, if it can
            row.value = str(seen + 1)
            session.add(row)

        try:
            barrier.wait()
            for _ in range(5):
                database.transact(run)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(d,)) for d in (db, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    other.dispose()
    assert not errors, errors
    with db.read() as s:
        assert s.exec(select(SyncState).where(SyncState.key == "counter")).one().value == "10"


@pytest.mark.skipif(not os.environ.get("PACKBENCH_TEST_PG"), reason="needs PACKBENCH_TEST_PG")
def test_the_command_line_on_postgresql(db: Database) -> None:
    """`--db postgresql://…`: init (migrations) with the demo data, then the order list."""
    url = db.target.replace("postgresql+psycopg://", "postgresql://")
    env = {**os.environ, "PACKBENCH_DB": url}
    init = run_packbench("init", "--demo", env=env)
    assert init.returncode == 0, init.stderr
    assert "schema 0006" in init.stdout or "schema" in init.stdout
    out = run_packbench("orders", "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count('"number"') >= 60
