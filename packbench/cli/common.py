"""What every command shares: one-line errors, the option parser, settings, the database."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from datetime import date, datetime
from typing import TYPE_CHECKING, NoReturn

from packbench.config import ConfigError, Settings, load_settings
from packbench.redact import cut, redact
from packbench.screens.plain import shown

if TYPE_CHECKING:
    from packbench.core.routing import Layout as WarehouseLayout
    from packbench.data.engine import Database
    from packbench.operations.actor import Actor

log = logging.getLogger("packbench.cli")

#: An error line quotes what it was given (an order number, a path, a shop's answer): never
#: more than this, whatever was typed or pasted (a 100 000-character argument came back whole).
MESSAGE_LIMIT = 600
_QUOTED_LIMIT = 200  # one long word (an argument, a path) inside an error line
_LONG_WORD = re.compile(rf"\S{{{_QUOTED_LIMIT + 1},}}")


class CliError(Exception):
    """A failure to report as one line, with exit status ``code``; credentials masked."""

    def __init__(self, message: str, code: int = 1) -> None:
        from packbench.redact import redact

        super().__init__(redact(message))
        self.code = code


# The optional parts (pyproject's extras) by the top-level module each one brings.
EXTRA_OF_MODULE = {
    "starlette": "demo",
    "uvicorn": "demo",
    "textual_serve": "serve",
    "aiohttp": "serve",
    "cups": "print",
    "psycopg": "pg",
    "keyring": "keyring",
}


def missing_extra(exc: BaseException) -> str | None:
    """What to install when ``exc`` says an optional part of packbench is not installed."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    extra = EXTRA_OF_MODULE.get(exc.name.partition(".")[0])
    if extra is None:
        return None
    return (
        f"this needs packbench's optional part '{extra}' ({exc.name} is not installed): "
        f"pip install -c requirements.lock -e '.[{extra}]' in the checkout, "
        f"or pip install 'packbench[{extra}]'"
    )


def one_line(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """An error message as one safe line: secrets redacted, then cut; each over-long word (an
    echoed argument) cut on its own so the rest of the sentence survives; control characters
    shown as escapes, line breaks as spaces, so nothing in it acts on the terminal."""
    text = _LONG_WORD.sub(lambda m: m.group()[: _QUOTED_LIMIT - 1] + "…", redact(text))
    return shown(cut(" ".join(text.split()), limit))


class Parser(argparse.ArgumentParser):
    """argparse, with its error line bounded and safe: it quotes the argument it refuses."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")


#: Options every command takes, before or after the command's name (``packbench --db x orders``
#: and ``packbench orders --db x``). Below the top level they default to SUPPRESS: a command's
#: parser that was not given one must not overwrite the value given before the command.
def _common(p: argparse.ArgumentParser, *, db: bool = True, top: bool = False) -> None:
    default = None if top else argparse.SUPPRESS
    if db:
        p.add_argument(
            "--db",
            default=default,
            help="database file or URL (default: PACKBENCH_DB, then the data dir)",
        )
    p.add_argument(
        "--config",
        default=default,
        help="configuration file (default: PACKBENCH_CONFIG, then the config dir)",
    )
    p.add_argument(
        "--log-level",
        default=default,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
        help="what goes into the log file (default: [log] level, INFO)",
    )
    p.add_argument("--terminal", default=default, help="this terminal's name in the audit trail")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        getattr(args, "config", None),
        db=getattr(args, "db", None),
        station=getattr(args, "station", None),
        log_level=getattr(args, "log_level", None),
        terminal=getattr(args, "terminal", None),
    )


def _open_db(
    settings: Settings,
    *,
    create: bool = False,
    migrate: bool = True,
    empty_ok: bool = False,
    empty_hint: str = "",
) -> Database:
    """The database, migrated. A missing file is made only with ``create``; an existing file
    must be a SQLite database — a 0-byte one only with ``empty_ok`` (``packbench init``)."""
    from packbench.data.engine import (
        DatabaseError,
        EmptyDatabaseFile,
        check_database_file,
        create_database,
        sqlite_file,
    )
    from packbench.data.migrate import needs_upgrade, upgrade

    target = settings.database_path()
    path = sqlite_file(target)
    if path is not None:
        try:
            exists = path.exists()
        except OSError as exc:  # a name too long for the file system, say
            raise CliError(f"cannot use {path} as the database: {exc.strerror}") from None
        if not exists:
            if not create:
                raise CliError(
                    f"no database at {path}; create one with: packbench init --db {path}"
                )
        else:
            try:
                check_database_file(path, empty_ok=empty_ok)
            except EmptyDatabaseFile as exc:
                hint = empty_hint or (
                    "restore it from a backup, or make a new database in it with: "
                    f"packbench init --db {path}"
                )
                raise CliError(f"{exc}; {hint}") from None
            except DatabaseError as exc:
                raise CliError(str(exc)) from None
    db = create_database(target)
    if migrate and needs_upgrade(db):
        log.info("upgrading the database schema at %s", db.url)
        upgrade(db)
    return db


def _now() -> datetime:
    """The wall clock, aware: the demo's data are moved to this day."""
    from datetime import UTC

    return datetime.now(UTC)


def _settle_print_jobs(settings: Settings) -> None:
    """Jobs a killed terminal left *submitted* are settled from CUPS (printing, issue #4)."""
    from packbench.operations.common import Actor
    from packbench.operations.printing import settle_unfinished_jobs

    try:
        db = _open_db(settings)
    except CliError:  # no database here: only the queues to show
        return
    report = settle_unfinished_jobs(db, Actor("admin", settings.bench.terminal), settings)
    if report.message:
        print(one_line(report.message, 2 * MESSAGE_LIMIT), file=sys.stderr)


def settle_crash_left_bookings(db: Database, actor: Actor, settings: Settings) -> None:
    """Carrier bookings a killed process left *requested* and nobody is at any more are looked
    up by reference and recorded, or held for a person (#14); one line on stderr if any."""
    from packbench.operations.booking_recovery import resolve_crash_left

    if all(c.kind == "s10" for c in settings.ship.carriers.values()):
        return
    report = resolve_crash_left(db, actor, settings.ship)
    if report.message:
        print(one_line(report.message, 4 * MESSAGE_LIMIT), file=sys.stderr)


def _layout(args: argparse.Namespace, settings: Settings) -> WarehouseLayout:
    from packbench.config import load_warehouse_layout

    path = args.layout or settings.warehouse.layout_path()
    try:
        return load_warehouse_layout(path)
    except ConfigError as exc:
        raise CliError(str(exc).removeprefix("warehouse.layout: "), code=2) from None


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option}: {text!r} is not a date (YYYY-MM-DD)", code=2) from None
