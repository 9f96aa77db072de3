"""The command line: parses, calls operations, prints. Errors are one line on stderr.

One module per family of commands (``bench``, ``prints``, ``warehouse``, ``money``); what they
share is in ``common``, the options in ``parser``."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from packbench.cli.bench import (
    cmd_app,
    cmd_config,
    cmd_demo,
    cmd_history,
    cmd_init,
    cmd_orders,
    cmd_packers,
    cmd_report,
    cmd_serve,
    cmd_sync,
)
from packbench.cli.common import MESSAGE_LIMIT, CliError, _settings, log, missing_extra, one_line
from packbench.cli.money import cmd_ledger, cmd_settlements
from packbench.cli.parser import build_parser
from packbench.cli.prints import cmd_print, cmd_printers
from packbench.cli.warehouse import (
    cmd_box,
    cmd_boxes,
    cmd_handovers,
    cmd_route,
    cmd_ship,
    cmd_slotting,
)
from packbench.config import ConfigError, Settings

COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "route": cmd_route,  # #5
    "slotting": cmd_slotting,  # #5
    "box": cmd_box,  # #6
    "boxes": cmd_boxes,  # #6
    "handovers": cmd_handovers,  # #7
    "settlements": cmd_settlements,  # #15
    "ledger": cmd_ledger,  # #15
    "ship": cmd_ship,  # #14
    "init": cmd_init,
    "orders": cmd_orders,
    "config": cmd_config,
    "sync": cmd_sync,
    "printers": cmd_printers,
    "print": cmd_print,
    "demo": cmd_demo,
    "serve": cmd_serve,
    "packers": cmd_packers,
    "history": cmd_history,
    "report": cmd_report,
}


def _check_not_empty(args: argparse.Namespace) -> None:
    """``--db ''`` (an unset shell variable, say) would silently mean the default database."""
    for option in ("db", "config", "terminal"):
        value = getattr(args, option, None)
        if value is not None and not value.strip():
            flag = "--" + option.replace("_", "-")
            what = {
                "db": "a database file or a postgresql:// URL",
                "config": "a configuration file",
                "terminal": "this terminal's name",
            }[option]
            raise CliError(f"{flag} is empty: give {what}, or leave {flag} out", code=2)


def _is_database_error(exc: BaseException) -> bool:
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    from packbench.data.engine import DatabaseError

    return isinstance(exc, SQLAlchemyError | DatabaseError | sqlite3.Error)


def _database_shown(settings: Settings | None) -> str:
    from packbench.data.engine import url_for

    if settings is None:
        return "the database"
    try:
        return f"the database {url_for(settings.database_path())}"
    except Exception:  # a target too odd to resolve: say which by name only
        return f"the database {settings.database_path()}"


def main(argv: Sequence[str] | None = None) -> int:
    # The start imports much and frees little: the collector's passes over it (a tenth of the
    # start's CPU) wait until the command runs — the app's, until its station is there (#20).
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list[:1] == ["demo-shop"]:
            from packbench.shop.demo_shop import main as demo_shop_main

            return demo_shop_main(args_list[1:])
        if args_list[:1] == ["demo-carrier"]:  # #14
            from packbench.carriers.demo_carrier import main as demo_carrier_main

            return demo_carrier_main(args_list[1:])
        if args_list[:1] == ["demo-scale"]:  # #16
            from packbench.scale.demo import main as demo_scale_main

            return demo_scale_main(args_list[1:])
    except ModuleNotFoundError as exc:
        if (hint := missing_extra(exc)) is None:
            raise
        print(f"packbench: {args_list[0]}: {hint}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command == "demo-shop":  # only reached with options before it: not the app
        print(
            "packbench: demo-shop takes its own options only, after its name "
            "(packbench demo-shop --help)",
            file=sys.stderr,
        )
        return 2
    settings: Settings | None = None
    log_file: Path | None = None
    command = " ".join(
        x for x in (args.command, *(getattr(args, f"{args.command}_command", None),)) if x
    )
    try:
        _check_not_empty(args)
        settings = _settings(args)
        from packbench.logs import setup_logging

        log_file = setup_logging(settings)
        handler = COMMANDS.get(args.command or "", cmd_app)
        if handler is not cmd_app:  # the app resumes collections once its station is there
            gc.enable()
        return handler(args, settings)
    except CliError as exc:
        print(f"packbench: {one_line(exc)}", file=sys.stderr)
        return exc.code
    except ConfigError as exc:
        print(f"packbench: configuration error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: one line for the user, details in the log
        if (hint := missing_extra(exc)) is not None:
            print(f"packbench: {command or 'packbench'}: {hint}", file=sys.stderr)
            return 2
        log.exception("unexpected error")
        where = f"details in {log_file}" if log_file else "details in the log"
        doing = f"{command} failed" if command else "packbench failed"
        if _is_database_error(exc):
            from packbench.data.engine import DatabaseError, error_text

            if isinstance(exc, DatabaseError):  # its message names the database already
                line = f"{doing}: {exc} ({where})"
            else:
                line = f"{doing} on {_database_shown(settings)}: {error_text(exc)} ({where})"
        else:
            line = f"{doing}: {type(exc).__name__}: {exc} ({where})"
        print(f"packbench: {one_line(line, 2 * MESSAGE_LIMIT)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

__all__ = ["CliError", "build_parser", "main", "one_line"]
