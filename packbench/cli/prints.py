"""Printing from the command line: documents, the print history, the queues."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from packbench.cli.common import (
    CliError,
    _open_db,
    _settle_print_jobs,
    one_line,
)
from packbench.config import STATIONS, Settings
from packbench.screens.plain import cells, shown

if TYPE_CHECKING:
    from packbench.data.engine import Database


def cmd_print(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations import printing
    from packbench.operations.common import Actor, Refused
    from packbench.printing.cups import make_printer

    db = _open_db(settings)
    if args.print_command in ("history", "reprint"):
        return _print_history_or_reprint(args, settings, db)
    printers = settings.printers
    actor = Actor(
        station="admin" if args.print_command == "slip" else "ship",
        terminal=settings.bench.terminal,
    )
    try:
        if args.print_command == "slip":
            job = printing.slip_job(db, args.orders, settings)
            queue = args.printer or printers.for_station("admin").slip
        else:
            choice = printers.for_station("ship")
            job = printing.label_job(
                db,
                args.parcels,
                settings,
                fmt=args.format or choice.label_format or "pdf",
                size=args.size or choice.label_size or "102x152",
            )
            queue = args.printer or choice.label
    except Refused as exc:
        raise CliError(exc.message) from None
    if args.out:
        printing.export_file(args.out, job.data)
        print(f"wrote {args.out} ({len(job.data)} bytes); nothing was marked printed")
        if job.left_out:
            print(f"packbench: {one_line(printing.left_out_text(job.left_out))}", file=sys.stderr)
            return 1
        return 0
    result = printing.print_job(
        db,
        actor,
        make_printer(server=printers.server or None),
        job,
        queue=queue,
        timeout_s=printers.timeout_s,
    )
    if not result.ok:
        raise CliError(result.message)
    print(shown(result.message))
    return 1 if result.left_out else 0  # printed, but not every slip asked for


def _print_history_or_reprint(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """``packbench print history`` and ``packbench print reprint`` (printing, issue #4)."""
    from packbench.operations import printing
    from packbench.operations.common import Actor, Refused
    from packbench.printing.cups import make_printer

    if args.print_command == "history":
        if args.limit < 1:
            raise CliError("--limit must be at least 1", code=2)
        jobs = printing.print_history(db, limit=args.limit)
        if args.json:
            json.dump([j.as_json() for j in jobs], sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
            return 0
        from rich.console import Console
        from rich.table import Table

        table = Table("Job", "When", "Kind", "What", "Printer", "State", "Why")
        for j in jobs:
            state = j.status + (f" (reprint of {j.reprint_of})" if j.reprint_of else "")
            style = None if j.status in ("completed", "submitted") else "bold red"
            when = j.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
            table.add_row(
                *cells(str(j.id), when, j.kind, j.ref, j.printer, state, j.error or ""),
                style=style,
            )
        Console().print(table)
        return 0
    actor = Actor(station="admin", terminal=settings.bench.terminal)
    printer = make_printer(server=settings.printers.server or None)
    try:
        result = printing.reprint(db, actor, printer, args.job, settings, queue=args.printer)
    except Refused as exc:
        raise CliError(exc.message) from None
    if not result.ok:
        raise CliError(result.message)
    print(shown(f"{result.message} (job {result.print_job_id}, reprint of job {args.job})"))
    return 0


def cmd_printers(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.printing.cups import PrintError, make_printer
    from packbench.printing.folder import folder_of

    printer = make_printer(server=settings.printers.server or None)
    try:
        queues = printer.queues()
    except PrintError as exc:
        raise CliError(str(exc)) from None
    configured = {
        getattr(settings.printers.for_station(st), kind)
        for st in STATIONS
        for kind in ("slip", "label", "manifest")
    }
    # Folder printers are listed too: they are queues the bench prints to.
    queues += [printer.queue(name) for name in sorted(configured) if folder_of(name) is not None]
    _settle_print_jobs(settings)
    if args.json:
        rows = [q.__dict__ for q in queues]
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    # queue -> document kind -> the stations that print it there
    uses: dict[str, dict[str, list[str]]] = {}
    for station in STATIONS:
        choice = settings.printers.for_station(station)
        for kind in ("slip", "label", "manifest"):
            uses.setdefault(getattr(choice, kind), {}).setdefault(kind, []).append(station)

    def used_for(queue: str) -> str:
        kinds = uses.get(queue, {})
        return "; ".join(
            f"{kind} ({'all stations' if len(st) == len(STATIONS) else ', '.join(st)})"
            for kind, st in kinds.items()
        )

    table = Table("Queue", "State", "Accepting", "Device", "Used for", "Message")
    for q in queues:
        used = used_for(q.name) or "—"
        # CUPS's names, devices and messages are outside text too.
        table.add_row(
            *cells(q.name, q.state, "yes" if q.accepting else "NO", q.device, used, q.message)
        )
    Console().print(table)
    missing = sorted(name for name in uses if name and name not in {q.name for q in queues})
    for name in missing:
        print(f"configured but missing in CUPS: {one_line(name)}", file=sys.stderr)
    stopped = [q.name for q in queues if folder_of(q.name) is not None and not q.accepting]
    for name in stopped:
        print(f"configured but not a folder it can write to: {one_line(name)}", file=sys.stderr)
    return 1 if missing or stopped else 0
