"""`kill -9` in the middle of a schema upgrade: the database is either still the old one with
every row, or the new one with every row — never half — and the next start finishes the job."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from packbench.data.engine import create_database
from packbench.data.migrate import current_revision, head_revision, upgrade

ROWS = 30_000

UPGRADE = (
    "import sys; from packbench.data.engine import create_database; "
    "from packbench.data.migrate import upgrade; upgrade(create_database(sys.argv[1]))"
)


def _old_database(path: Path) -> None:
    db = create_database(path)
    upgrade(db, "0001")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO orders (id, number, status, created_at, customer_email,"
                " customer_phone, ship_name, ship_company, ship_address1, ship_address2,"
                " ship_postcode, ship_city, ship_country, bill_name, shipping_method_id,"
                " shipping_method_title, payment_method, payment_method_title, payment_status,"
                " currency, shipping_ore, total_ore, customer_note, updated_at) VALUES (1, '1',"
                " 'new', '2026-11-01 10:00:00', '', '', 'Åse', '', '', '', '', '', 'NO', '', '',"
                " '', '', '', 'authorized', 'NOK', 0, 0, '', '2026-11-01 10:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO outbox (id, order_id, kind, payload, status, attempts, created_at)"
                " VALUES (:id, 1, 'note', '{}', 'pending', 0, '2026-11-01 10:00:00')"
            ),
            [{"id": n} for n in range(1, ROWS + 1)],
        )
    db.dispose()


def _state(path: Path) -> tuple[str | None, int]:
    db = create_database(path)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM outbox")).scalar_one()
        return current_revision(db), rows
    finally:
        db.dispose()


@pytest.mark.sqlite_only
def test_kill_9_during_the_upgrade_leaves_old_or_new_never_half(tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    _old_database(template)
    # How long a whole upgrade takes here (start-up included), to aim the kills at its end.
    timing = tmp_path / "timing.db"
    timing.write_bytes(template.read_bytes())
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-c", UPGRADE, str(timing)], check=True)
    full = time.monotonic() - t0
    rng = random.Random(4)
    seen: set[str | None] = set()
    for attempt in range(8):
        path = tmp_path / f"try-{attempt}.db"
        path.write_bytes(template.read_bytes())
        proc = subprocess.Popen([sys.executable, "-c", UPGRADE, str(path)])
        time.sleep(rng.uniform(0.55, 1.05) * full)  # around the copy of the outbox rows
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        revision, rows = _state(path)
        seen.add(revision)
        assert revision in ("0001", head_revision()), revision
        assert rows == ROWS  # every row, whichever side of the upgrade it is on
        # The next start finishes the upgrade with the rows intact.
        db = create_database(path)
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            keys = conn.execute(
                text("SELECT count(DISTINCT idempotency_key) FROM outbox")
            ).scalar_one()
        assert keys == ROWS
        db.dispose()
    # At least one kill landed before the upgrade committed (else it proved little).
    assert "0001" in seen, seen
