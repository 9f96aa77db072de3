"""The schema is Alembic's: it upgrades in place and keeps the data."""

from __future__ import annotations

import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, select

from packbench.data.engine import create_database
from packbench.data.migrate import (
    current_revision,
    head_revision,
    needs_upgrade,
    plain_head_revision,
    upgrade,
)
from packbench.data.models import Event, Order, OutboxItem


def test_fresh_database_reaches_head_and_matches_the_models(tmp_path: Path) -> None:
    db = create_database(tmp_path / "fresh.db")
    assert needs_upgrade(db)
    upgrade(db)
    assert current_revision(db) == head_revision()
    assert not needs_upgrade(db)
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == [], f"models and migrations disagree: {diff}"


def test_the_start_checks_the_schema_without_alembic(tmp_path: Path) -> None:
    """The files' revision lines name Alembic's head; a database at it is checked by one query
    without importing Alembic (#20), one behind it still needs its upgrade."""
    import subprocess
    import sys

    assert plain_head_revision() == head_revision()
    db = create_database(tmp_path / "at-head.db")
    upgrade(db)
    behind = create_database(tmp_path / "behind.db")
    upgrade(behind, "0012")
    assert needs_upgrade(behind) and not needs_upgrade(db)
    code = (
        "import sys\n"
        "from packbench.data.engine import create_database\n"
        "from packbench.data.migrate import needs_upgrade\n"
        f"print(needs_upgrade(create_database({str(tmp_path / 'at-head.db')!r})),"
        " any(m.split('.')[0] == 'alembic' for m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_upgrade_from_the_first_migration_keeps_the_rows(tmp_path: Path) -> None:
    db = create_database(tmp_path / "old.db")
    upgrade(db, "0001")
    assert current_revision(db) == "0001"
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO orders (id, shop_order_id, number, status, created_at,"
                " customer_email, customer_phone, ship_name, ship_company, ship_address1,"
                " ship_address2, ship_postcode, ship_city, ship_country, bill_name,"
                " shipping_method_id, shipping_method_title, payment_method,"
                " payment_method_title, payment_status, currency, shipping_ore, total_ore,"
                " customer_note, updated_at)"
                " VALUES (1, 777, '777', 'packed', '2026-11-01 10:00:00', 'a@b.no', '',"
                " 'Åse Ødegård', '', 'Storgata 1', '', '0150', 'Oslo', 'NO', 'Åse Ødegård',"
                " 'flat_rate:3', 'Posten', 'vipps', 'Vipps', 'authorized', 'NOK', 9900, 49900,"
                " 'Ring på', '2026-11-01 10:00:00')"
            )
        )
        for n in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO outbox (id, order_id, kind, payload, status, attempts,"
                    " created_at) VALUES (:id, 1, 'note', '{}', 'pending', 0,"
                    " '2026-11-01 10:00:00')"
                ),
                {"id": n},
            )
        conn.execute(
            text(
                "INSERT INTO event (at, order_id, station, terminal, kind, result, message)"
                " VALUES ('2026-11-01 10:00:00', 1, 'pack', 't1', 'scan', 'ok', 'packed')"
            )
        )
    upgrade(db)
    assert current_revision(db) == head_revision()
    assert "sync_lease" in inspect(db.engine).get_table_names()
    with db.read() as session:
        order = session.exec(select(Order)).one()
        assert order.ship_name == "Åse Ødegård"
        assert order.status == "packed"
        assert order.created_at == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
        keys = sorted(o.idempotency_key for o in session.exec(select(OutboxItem)).all())
        assert keys == ["legacy-1", "legacy-2"]
        assert session.exec(select(Event)).one().message == "packed"
    with db.write() as session:  # the new column is really unique now
        session.add(OutboxItem(order_id=1, kind="note", idempotency_key="legacy-1"))
        with pytest.raises(Exception, match="UNIQUE"):
            session.flush()


def test_upgrading_twice_is_harmless(db) -> None:  # type: ignore[no-untyped-def]
    upgrade(db)
    assert current_revision(db) == head_revision()


@pytest.mark.sqlite_only
def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(db) -> None:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_foreign_keys_are_enforced(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match=r"(?i)foreign key"), db.write() as session:
        session.add(Event(kind="scan", order_id=99999))


def test_the_database_file_is_private(tmp_path: Path) -> None:
    db = create_database(tmp_path / "private.db")
    upgrade(db)
    mode = stat.S_IMODE(os.stat(tmp_path / "private.db").st_mode)
    assert mode & 0o077 == 0


def test_naive_datetimes_are_refused(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="naive datetime"), db.write() as session:
        session.add(Event(kind="scan", at=datetime(2026, 1, 1)))
        session.flush()


def test_two_writers_serialise_instead_of_failing(db) -> None:  # type: ignore[no-untyped-def]
    """BEGIN IMMEDIATE + retries: concurrent writers never see 'database is locked'."""
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(40):
                db.transact(lambda s, i=i: s.add(Event(kind="scan", terminal=f"t{n}", code=str(i))))
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.read() as session:
        assert len(session.exec(select(Event)).all()) == 160
