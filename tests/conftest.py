"""Every test gets its own database under tmp_path and never touches the user's real paths.

With ``PACKBENCH_TEST_PG`` set to a PostgreSQL URL (a role allowed to create databases), the
``db`` and ``demo_db`` fixtures give each test its own fresh PostgreSQL database instead, made
from a migrated template; `.ci/run` runs the data, operations and sync tests that way too.
Tests that are about SQLite itself are marked ``sqlite_only`` and skipped there. Every test that
gets its database from those fixtures is marked ``pg`` (a test that reaches PostgreSQL another
way is marked by hand): scripts/test's PostgreSQL pass runs only these, the others would run
there exactly as in the SQLite pass.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from packbench.config import Settings, load_settings
from packbench.data.engine import Database, create_database
from packbench.data.migrate import upgrade
from packbench.operations.common import Actor


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("home")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    for var in list(os.environ):
        if var.startswith("PACKBENCH_") and var not in KEEP_ENV:
            monkeypatch.delenv(var)
    monkeypatch.setenv("PACKBENCH_BENCH__TERMINAL", "test-term")
    return home


@pytest.fixture(autouse=True)
def _session_printers(
    request: pytest.FixtureRequest, _isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test that prints through CUPS prints with the configured defaults on the session's
    own PDF queue (tests/printing/conftest.py), not on PACKBENCH-PDF, which other runs on the
    machine may stop while they test."""
    if "cups_ready" not in request.fixturenames:
        return
    from tests.printing.conftest import OWN_QUEUES, PDF_QUEUE

    if OWN_QUEUES:
        for document in ("SLIP", "LABEL", "MANIFEST"):
            monkeypatch.setenv(f"PACKBENCH_PRINTERS__{document}", PDF_QUEUE)


PG_URL = os.environ.get("PACKBENCH_TEST_PG", "")
KEEP_ENV = {"PACKBENCH_REQUIRE_CUPS", "PACKBENCH_TEST_PG"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: about SQLite itself; skipped on PostgreSQL")
    config.addinivalue_line(
        "markers",
        "serial: cannot run beside other tests; scripts/test runs it in a pass of its own",
    )
    config.addinivalue_line(
        "markers",
        "pg: runs on PostgreSQL when PACKBENCH_TEST_PG is set (given to every test using the "
        "db or demo_db fixtures); scripts/test's PostgreSQL pass runs only these",
    )


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by the markers given here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from tests.printing.conftest import OWN_QUEUES

    for item in items:
        if "_pg" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pg)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # The longest first, so that the pass does not end with one worker on a long test
        # while the others are done. Sorting is stable: every file keeps its own order.
        first = {path: rank for rank, path in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: first.get(item.nodeid.split("::")[0], len(first)))
    if not OWN_QUEUES:
        # Not root: the printing tests share the machine's queues (they stop, reject and count
        # them, and listen on port 9100), so scripts/test runs them after the rest, alone.
        for item in items:
            if "cups_ready" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.serial)
    if not PG_URL:
        return
    skip = pytest.mark.skip(reason="about SQLite itself (PACKBENCH_TEST_PG is set)")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


# The files with the longest tests (10-30 s each on a loaded 2-core machine; pytest
# --durations), longest first.
LONGEST_FIRST = [
    "tests/test_end_to_end.py",
    "tests/data/test_migration_crash.py",
    "tests/browser/test_serve_browser.py",
    "tests/cli/test_settlements_cli.py",
    "tests/printing/test_print_history.py",
    "tests/screens/test_sizes.py",
    "tests/screens/test_markup_injection.py",
    "tests/test_hostile_input.py",
    "tests/test_many_terminals.py",
    "tests/operations/test_carrier_booking.py",
    "tests/operations/test_booking_recovery.py",
    "tests/test_crash_completion.py",
    "tests/shop/test_sync.py",
    "tests/core/test_gs1.py",
    "tests/screens/test_admin_one_slip.py",
]


class _PgDatabases:
    """Fresh PostgreSQL databases cloned from migrated templates (CREATE DATABASE … TEMPLATE)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        from packbench.data.engine import url_for

        self.url = make_url(url_for(url))
        self.admin = create_engine(
            self.url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        self.templates: dict[str, str] = {}
        self.prefix = f"pbt_{os.getpid()}"
        self.count = 0

    def _sql(self, statement: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(statement)

    def template(self, name: str, fill) -> str:  # type: ignore[no-untyped-def]
        if name not in self.templates:
            dbname = f"{self.prefix}_tpl_{name}"
            self._sql(f'DROP DATABASE IF EXISTS "{dbname}"')
            self._sql(f'CREATE DATABASE "{dbname}"')
            database = create_database(self.url.set(database=dbname).render_as_string(False))
            upgrade(database)
            fill(database)
            database.dispose()
            self.templates[name] = dbname
        return self.templates[name]

    def fresh(self, template: str) -> tuple[Database, str]:
        self.count += 1
        dbname = f"{self.prefix}_{self.count}"
        self._sql(f'DROP DATABASE IF EXISTS "{dbname}"')
        self._sql(f'CREATE DATABASE "{dbname}" TEMPLATE "{template}"')
        return create_database(self.url.set(database=dbname).render_as_string(False)), dbname

    def drop(self, dbname: str) -> None:
        """Drop a test database; a backend still closing (or one FORCE may not end) is waited out.

        A leftover database costs only disk on the throw-away server, so after a few tries the
        failure is a warning, not an error in the test that used it.
        """
        import time
        import warnings

        from sqlalchemy.exc import DBAPIError

        for attempt in range(20):
            try:
                self._sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
                return
            except DBAPIError as exc:
                error = exc
                time.sleep(0.05 * (attempt + 1))
        warnings.warn(f"test database {dbname} left behind: {error}", stacklevel=2)

    def close(self) -> None:
        for dbname in self.templates.values():
            self.drop(dbname)
        self.admin.dispose()


@pytest.fixture(scope="session")
def _pg() -> Iterator[_PgDatabases | None]:
    if not PG_URL:
        yield None
        return
    pg = _PgDatabases(PG_URL)
    yield pg
    pg.close()


@pytest.fixture(scope="session")
def _empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty database, made once a session (migrating takes ~0.1 s of CPU)."""
    path = tmp_path_factory.mktemp("empty-template") / "bench.db"
    database = create_database(path)
    upgrade(database)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture
def db(tmp_path: Path, _empty_template: Path, _pg: _PgDatabases | None) -> Iterator[Database]:
    """A fresh migrated database: a copy of the session's template (on PostgreSQL a database
    made from a migrated template)."""
    if _pg is not None:
        database, name = _pg.fresh(_pg.template("empty", lambda d: None))
        yield database
        database.dispose()
        _pg.drop(name)
        return
    path = tmp_path / "bench.db"
    path.touch(mode=0o600)  # as create_database makes it: nobody else reads the file
    shutil.copyfile(_empty_template, path)
    database = create_database(path)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from packbench.operations.demo import load_demo

    path = tmp_path_factory.mktemp("demo-template") / "demo.db"
    database = create_database(path)
    upgrade(database)
    load_demo(database, seed=1, terminal="template")
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture
def demo_db(tmp_path: Path, _demo_template: Path, _pg: _PgDatabases | None) -> Iterator[Database]:
    """A fresh copy of the demo database (built once per test session)."""
    if _pg is not None:
        from packbench.operations.demo import load_demo

        template = _pg.template("demo", lambda d: load_demo(d, seed=1, terminal="template"))
        database, name = _pg.fresh(template)
        yield database
        database.dispose()
        _pg.drop(name)
        return
    path = tmp_path / "demo.db"
    shutil.copyfile(_demo_template, path)
    database = create_database(path)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(None, db=str(tmp_path / "demo.db"))


@pytest.fixture
def actor() -> Actor:
    return Actor(station="admin", terminal="test-term")
