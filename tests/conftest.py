"""Every test gets its own database under tmp_path and never touches the user's real paths."""

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
        if var.startswith("PACKBENCH_") and var != "PACKBENCH_REQUIRE_CUPS":
            monkeypatch.delenv(var)
    monkeypatch.setenv("PACKBENCH_BENCH__TERMINAL", "test-term")
    return home


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = create_database(tmp_path / "bench.db")
    upgrade(database)
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
def demo_db(tmp_path: Path, _demo_template: Path) -> Iterator[Database]:
    """A fresh copy of the demo database (built once per test session)."""
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
