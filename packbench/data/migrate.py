"""Create and upgrade the schema with Alembic, in place, keeping the data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from packbench.data.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# A migration's own lines naming it and what it revises (``revision: str = "0013"``).
_REVISION = re.compile(r"""^revision(?:\s*:[^=\n]*)?\s*=\s*["']([^"'\n]+)["']\s*$""", re.M)
_REVISES = re.compile(
    r"""^down_revision(?:\s*:[^=\n]*)?\s*=\s*(?:["']([^"'\n]+)["']|(None))\s*$""", re.M
)


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest) in one transaction per step."""
    from alembic import command

    cfg = _config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def needs_upgrade(db: Database) -> bool:
    """Whether the schema is behind the newest migration. The usual answer, "no", costs one
    query and a read of the migration files' revision lines (Alembic's own check imports it and
    every migration: 0.1-0.2 s of the app's start, #20); every other case is Alembic's."""
    head = plain_head_revision()
    if head is not None and _stamped(db) == head:
        return False
    return current_revision(db) != head_revision()


def plain_head_revision() -> str | None:
    """The newest migration read from the files' ``revision``/``down_revision`` lines: the one
    no other revises. None when a file does not say both plainly or there is not one head."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        if path.name.startswith("_"):
            continue
        source = path.read_text(encoding="utf-8")
        own, down = _REVISION.findall(source), _REVISES.findall(source)
        if len(own) != 1 or len(down) != 1:
            return None
        revisions.add(own[0])
        if down[0][0]:
            revised.add(down[0][0])
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def _stamped(db: Database) -> str | None:
    """The one revision the database says it is at (Alembic's table), else None."""
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # no such table yet: Alembic says what to do
        return None
    return str(rows[0][0]) if len(rows) == 1 else None
