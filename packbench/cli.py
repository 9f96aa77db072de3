"""The command line: parses, calls operations, prints. Errors are one line on stderr."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from packbench import __version__
from packbench.config import STATIONS, ConfigError, Settings, data_dir, load_settings, render_toml
from packbench.core.workflow import OrderStatus
from packbench.redact import cut, redact
from packbench.screens.plain import cells, shown

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


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="packbench",
        description="The packing bench of a web shop: admin, pick, pack, ship and post stations.",
    )
    parser.add_argument("--version", action="version", version=f"packbench {__version__}")
    _common(parser, top=True)
    parser.add_argument("--station", choices=STATIONS, help="the station to open (default: admin)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("init", help="create or upgrade the database (optionally with demo data)")
    _common(p)
    p.add_argument("--demo", action="store_true", help="fill a new database with the demo shop")
    p.add_argument("--seed", type=int, default=1, help="demo data seed (default 1)")
    p.add_argument("--orders", type=int, default=72, help="demo orders (default 72)")

    p = sub.add_parser("demo", help="open the app on the demo database (created if missing)")
    _common(p)
    p.add_argument(
        "--station",
        choices=STATIONS,
        default=argparse.SUPPRESS,
        help="the station to open (default: admin)",
    )
    p.add_argument(
        "--seed", type=int, default=1, help="demo data seed for a new demo database (default 1)"
    )
    p.add_argument("--reset", action="store_true", help="start again from fresh demo data")
    p.add_argument(
        "--new-order-every",
        type=float,
        default=45.0,
        help="seconds between new orders in the demo shop (0: none; default 45)",
    )

    p = sub.add_parser("orders", help="list orders")
    _common(p)
    p.add_argument(
        "--status",
        action="append",
        choices=[s.value for s in OrderStatus],
        help="only orders in this status (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON array")

    p = sub.add_parser("sync", help="sync with the shop: pull orders, push the outbox")
    _common(p)
    p.add_argument("--shop-url", help="the shop's base URL (default: [shop] url)")
    # Refused when given (see cmd_sync): a credential on the command line is visible in ps.
    p.add_argument("--key", help=argparse.SUPPRESS)
    p.add_argument("--secret", help=argparse.SUPPRESS)
    once = p.add_mutually_exclusive_group(required=True)
    once.add_argument("--once", action="store_true", help="one round, then exit")
    once.add_argument("--watch", action="store_true", help="sync until interrupted")
    p.add_argument("--interval", type=float, help="seconds between rounds with --watch")
    p.add_argument("--products", action="store_true", help="also pull the product catalogue")

    p = sub.add_parser(
        "demo-shop", help="run the bundled demo shop (WooCommerce API) on loopback", add_help=False
    )
    p.add_argument("args", nargs=argparse.REMAINDER)

    p = sub.add_parser(  # #14: book packed orders as the ship station does
        "ship", help="book packed orders with their carrier and print (or save) the labels"
    )
    _common(p)
    p.add_argument("orders", nargs="+", metavar="ORDER", help="order numbers (5001 or ORD-5001)")
    p.add_argument("--out", type=Path, help="write the labels into this folder instead")
    p.add_argument("--printer", help="label printer queue (default: the ship station's)")
    p.add_argument("--json", action="store_true", help="print the shipments as JSON")

    p = sub.add_parser(  # #14: the bundled demo carrier (packbench.carriers.demo_carrier)
        "demo-carrier",
        help="run the bundled demo carrier (Bring's APIs) on loopback",
        add_help=False,
    )
    p.add_argument("args", nargs=argparse.REMAINDER)

    p = sub.add_parser("print", help="print packing slips or shipping labels")
    psub = p.add_subparsers(dest="print_command", metavar="DOCUMENT", required=True)
    c = psub.add_parser("slip", help="packing slips for orders (one job)")
    _common(c)
    c.add_argument("orders", nargs="+", metavar="ORDER", help="order numbers")
    where = c.add_mutually_exclusive_group()
    where.add_argument("--printer", help="CUPS queue (default: the admin station's slip printer)")
    where.add_argument("--out", type=Path, help="write the PDF to this file instead")
    c = psub.add_parser("label", help="shipping labels for parcels (one job)")
    _common(c)
    c.add_argument("parcels", nargs="+", metavar="PARCEL", help="SSCC or tracking number")
    c.add_argument("--format", choices=["pdf", "zpl"], help="default: the ship station's")
    c.add_argument("--size", choices=["102x152", "100x190"], help="default: the ship station's")
    where = c.add_mutually_exclusive_group()
    where.add_argument("--printer", help="CUPS queue (default: the ship station's label printer)")
    where.add_argument("--out", type=Path, help="write the label(s) to this file instead")
    c = psub.add_parser("history", help="recent print jobs and how each ended")
    _common(c)
    c.add_argument("--json", action="store_true", help="print a JSON array")
    c.add_argument("--limit", type=int, default=50, metavar="N", help="how many (default 50)")
    c = psub.add_parser("reprint", help="print a job's document again (a new job)")
    _common(c)
    c.add_argument("job", type=int, metavar="JOB_ID", help="the job's id in the history")
    c.add_argument("--printer", help="CUPS queue (default: the queue the job went to)")

    p = sub.add_parser("printers", help="the CUPS queues, their state, and who prints what")
    _common(p)  # --db: unfinished print jobs are settled from CUPS's record (issue #4)
    p.add_argument("--json", action="store_true", help="print the queues and their use as JSON")

    p = sub.add_parser(
        "serve", help="serve the app in a browser (textual-serve; loopback by default)"
    )
    _common(p)
    p.add_argument(
        "--host",
        default=None,
        help="address to bind (default 127.0.0.1); any other than loopback asks for a token",
    )
    p.add_argument("--port", type=int, default=None, help="port (default 8070)")
    p.add_argument(
        "--require-token",
        action="store_true",
        help="ask for the access token on loopback too (a machine with several users)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another name browsers use for this server (its DNS name); repeatable",
    )
    p.add_argument(
        "--station",
        choices=STATIONS,
        default=argparse.SUPPRESS,
        help="the station each browser opens (default: dashboard)",
    )

    p = sub.add_parser("packers", help="the people of the bench; supervisors' PINs")
    ksub = p.add_subparsers(dest="packers_command", metavar="ACTION", required=True)
    c = ksub.add_parser("list", help="everyone active, with badge and role")
    _common(c)
    c.add_argument("--json", action="store_true", help="print a JSON array")
    c = ksub.add_parser("set-pin", help="set a supervisor's PIN (read from stdin, never argv)")
    _common(c)
    c.add_argument("badge", help="the supervisor's badge code")

    # -- the warehouse (#5) ------------------------------------------------------------------
    p = sub.add_parser("route", help="the shortest pick route through the warehouse")
    _common(p, db=False)
    p.add_argument(
        "--layout", type=Path, help="warehouse layout TOML (default: [warehouse] layout)"
    )
    p.add_argument("--json", action="store_true", help='print {"sequence": [...], "distance_m"}')
    p.add_argument("locations", nargs="+", metavar="LOC", help="location codes, e.g. C-07-2")

    p = sub.add_parser("slotting", help="slotting advice from the order history")
    _common(p)
    p.add_argument("--days", type=int, default=90, help="history to look at (default 90 days)")
    p.add_argument("--layout", type=Path, help="warehouse layout (default: [warehouse] layout)")
    p.add_argument("--json", action="store_true", help="print JSON")
    # -- end of the warehouse block ---------------------------------------------------------

    # -- the pack station (#6) ---------------------------------------------------------------
    p = sub.add_parser("box", help="which box or bag a set of items goes in (JSON in, JSON out)")
    _common(p, db=False)
    p.add_argument(
        "--boxes",
        required=True,
        metavar="FILE",
        help='the request as JSON: a file, or "-" for stdin',
    )
    p.add_argument("--json", action="store_true", help="print the suggestion as JSON")

    p = sub.add_parser("boxes", help="the box and bag catalogue; the standard-box advisor")
    bsub = p.add_subparsers(dest="boxes_command", metavar="ACTION", required=True)
    c = bsub.add_parser("list", help="every box and bag with its code (the bench's barcode sheet)")
    _common(c)
    c.add_argument("--json", action="store_true", help="print a JSON array")
    c = bsub.add_parser("advise", help="the K standard boxes that leave the least air")
    _common(c)
    c.add_argument("--count", type=int, default=3, metavar="K", help="how many (default 3)")
    c.add_argument("--json", action="store_true", help="print the advice as JSON")
    # -- end of the pack station block -------------------------------------------------------

    # -- the post station (#7) ----------------------------------------------------------------
    p = sub.add_parser(
        "handovers", help="parcels waiting per carrier, the carriers' handovers; a manifest again"
    )
    _common(p)
    p.add_argument("--manifest", type=int, metavar="ID", help="a closed handover's manifest")
    p.add_argument("--printer", help="print the manifest on this CUPS queue")
    p.add_argument("--out", type=Path, help="write the manifest PDF to this file instead")
    p.add_argument(
        "--json", action="store_true", help="print the waiting parcels and handovers as JSON"
    )
    # -- end of the post station block --------------------------------------------------------

    p = sub.add_parser("history", help="an order's whole audit trail (every scan and action)")
    _common(p)
    p.add_argument("order", metavar="ORDER", help="order number, slip code, SSCC or tracking no.")
    p.add_argument("--json", action="store_true", help="print the trail as JSON")

    p = sub.add_parser("report", help="the day report: shipped, per carrier and person, errors")
    _common(p)
    p.add_argument("--date", help="the day, YYYY-MM-DD (default: today in [day] timezone)")
    p.add_argument("--csv", type=Path, help="write the report as CSV to this file (- for stdout)")
    p.add_argument("--pdf", type=Path, help="write the report as PDF to this file")
    p.add_argument("--printer", help="print the PDF on this CUPS queue")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")

    # -- settlement (#15) -----------------------------------------------------------------------
    p = sub.add_parser(
        "settlements", help="import the payment providers' payouts (Vipps, Klarna, Stripe)"
    )
    ssub = p.add_subparsers(dest="settlements_command", metavar="ACTION", required=True)
    c = ssub.add_parser("import", help="import payouts from report files or the provider's API")
    _common(c)
    c.add_argument("--provider", required=True, choices=["vipps", "klarna", "stripe"])
    src = c.add_mutually_exclusive_group(required=True)
    src.add_argument("files", nargs="*", default=[], metavar="FILE", help="JSON or CSV reports")
    src.add_argument("--api", action="store_true", help="fetch from the provider's API")
    c.add_argument("--since", metavar="DATE", help="only payouts from this date (YYYY-MM-DD)")
    c.add_argument("--payout", metavar="REF", help="the payout a Klarna CSV report is for")
    c.add_argument("--json", action="store_true", help="print the import's result as JSON")

    p = sub.add_parser("ledger", help="the clearing account (1570) explained: open items, payouts")
    _common(p)
    p.add_argument("--account", help="the account (default: [shop] clearing_account)")
    p.add_argument("--as-of", metavar="DATE", help="count ages to this date (default: today)")
    p.add_argument("--json", action="store_true", help="print the ledger as JSON")
    p.add_argument(
        "--journal", metavar="FILE", help="write one voucher per payout as CSV (- for stdout)"
    )
    p.add_argument("--saft", metavar="FILE", help="write the payouts as a SAF-T Financial file")
    p.add_argument("--from", dest="period_from", metavar="DATE", help="SAF-T period start")
    p.add_argument("--to", dest="period_to", metavar="DATE", help="SAF-T period end")
    # -- end of the settlement block ------------------------------------------------------------

    p = sub.add_parser("config", help="configuration")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c = csub.add_parser("show", help="print the effective configuration (secrets masked)")
    _common(c)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        getattr(args, "config", None),
        db=getattr(args, "db", None),
        station=getattr(args, "station", None),
        log_level=getattr(args, "log_level", None),
        terminal=getattr(args, "terminal", None),
    )


def _open_db(  # type: ignore[no-untyped-def]
    settings: Settings,
    *,
    create: bool = False,
    migrate: bool = True,
    empty_ok: bool = False,
    empty_hint: str = "",
):
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


def _now():  # type: ignore[no-untyped-def]
    """The wall clock, aware: the demo's data are moved to this day."""
    from datetime import UTC, datetime

    return datetime.now(UTC)


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.data.engine import sqlite_file
    from packbench.data.migrate import current_revision
    from packbench.operations.demo import DemoError, load_demo

    path = sqlite_file(settings.database_path())
    try:
        was_empty = path is not None and path.is_file() and path.stat().st_size == 0
    except OSError:  # _open_db says what is wrong with the path
        was_empty = False
    db = _open_db(settings, create=True, empty_ok=True)
    print(f"database ready at {db.url} (schema {current_revision(db)})")
    if was_empty:
        print(f"(the file {path} was empty: a new database was made in it)")
    if args.demo:
        try:
            summary = load_demo(
                db,
                seed=args.seed,
                orders=args.orders,
                terminal=settings.bench.terminal,
                now=_now(),
            )
        except DemoError as exc:
            raise CliError(f"cannot load demo data: {exc}") from None
        print(
            f"demo data loaded: {summary.products} products, {summary.orders} orders, "
            f"{summary.packers} packers, {summary.boxes} boxes and bags"
        )
    return 0


def cmd_orders(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.orders import export_orders

    db = _open_db(settings)
    orders = export_orders(db, statuses=args.status)
    if args.json:
        json.dump(orders, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("Order", "Status", "Customer", "City", "Lines", "Method")
    for o in orders:
        # The shop's text as plain Text: a name like "[/x]" is a name, not Rich markup, and an
        # escape sequence in it is shown, not sent to the terminal.
        table.add_row(
            *cells(
                o["number"],
                o["status"],
                o["shipping"]["name"],
                o["shipping"]["city"],
                str(len(o["lines"])),
                o["shipping_method"],
            )
        )
    Console().print(table)
    return 0


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.config import settings_source

    source = settings_source(settings)
    print(f"# effective configuration; file: {source or 'none (defaults)'}")
    print(render_toml(settings), end="")
    return 0


def _run_app(settings: Settings, db) -> int:  # type: ignore[no-untyped-def]
    from packbench.app import PackbenchApp

    PackbenchApp(settings=settings, db=db).run()
    return 0


def cmd_app(args: argparse.Namespace, settings: Settings) -> int:
    return _run_app(settings, _open_db(settings))


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """The full app on the embedded default: a local SQLite file, the bundled demo shop running
    on loopback in the background (new orders tick in), and the demo data in both."""
    from pydantic import SecretStr

    from packbench.operations.demo import load_demo
    from packbench.shop.demo_shop import DEFAULT_KEY, DEFAULT_SECRET, DemoShopState, run_in_thread

    explicit = args.db or settings.db
    path = Path(settings.database_path()) if explicit else data_dir() / "demo.db"
    shop_state = path.with_name(path.stem + "-shop.json")
    carrier_state = path.with_name(path.stem + "-carrier.json")  # #14
    if args.reset:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shop_state.unlink(missing_ok=True)
        carrier_state.unlink(missing_ok=True)
    fresh = not path.exists()
    settings = settings.model_copy(update={"db": str(path)})
    db = _open_db(
        settings,
        create=True,
        empty_hint=f"start the demo again from fresh data with: packbench demo --reset --db {path}",
    )
    if fresh:
        load_demo(db, seed=args.seed, terminal=settings.bench.terminal, now=_now())
    state = DemoShopState.open(
        shop_state,
        seed=args.seed,
        clearing_account=str(settings.shop.clearing_account),
        now=_now(),
    )
    url, stop = run_in_thread(
        state, key=DEFAULT_KEY, secret=DEFAULT_SECRET, new_order_every=args.new_order_every
    )
    log.info("demo shop on %s (state %s)", url, shop_state)
    shop = settings.shop.model_copy(update={"url": url, "sync_interval_s": 5.0})
    settings = settings.model_copy(
        update={
            "shop": shop,
            "shop_key": SecretStr(DEFAULT_KEY),
            "shop_secret": SecretStr(DEFAULT_SECRET),
        }
    )
    # #14: the demo carrier (Bring's APIs on loopback); the ship station books with it.
    from packbench.carriers.demo_carrier import configure_demo
    from packbench.carriers.demo_carrier import run_in_thread as run_carrier

    carrier_url, stop_carrier = run_carrier(carrier_state)
    log.info("demo carrier on %s (state %s)", carrier_url, carrier_state)
    settings = configure_demo(settings, carrier_url)
    settings = _demo_printers(settings, path)
    try:
        return _run_app(settings, db)
    finally:
        stop_carrier()
        stop()


def _demo_printers(settings: Settings, db_path: Path) -> Settings:
    """On a machine without CUPS the demo prints into a folder beside its database
    (``folder:…/demo-printed``): written counts as printed, so slips, labels and manifests
    move the orders on instead of stopping the whole bench at the first slip."""
    from packbench.printing.cups import cups_available
    from packbench.printing.folder import folder_queue

    if cups_available():
        return settings
    folder = db_path.with_name(db_path.stem + "-printed")
    folder.mkdir(mode=0o700, exist_ok=True)
    queue = folder_queue(folder)
    log.info("no CUPS on this machine: the demo prints into %s", folder)
    print(f"packbench: no CUPS here; documents are written into {folder}", file=sys.stderr)
    printers = settings.printers.model_copy(
        update={"slip": queue, "label": queue, "manifest": queue, "stations": {}}
    )
    return settings.model_copy(update={"printers": printers})


def cmd_ship(args: argparse.Namespace, settings: Settings) -> int:
    """#14: ``packbench ship ORDER…``: book each packed order exactly as the ship station does
    (the carrier's web API or the built-in carrier), then print its labels or save them."""
    from sqlmodel import select

    from packbench.data.models import CarrierLabel, Order, Parcel, Shipment
    from packbench.operations.common import Actor, Refused
    from packbench.operations.shipping import create_shipment, label_documents_for, print_labels
    from packbench.printing.cups import make_printer

    db = _open_db(settings)
    actor = Actor(station="ship", terminal=settings.bench.terminal)
    out: list[dict[str, object]] = []
    failed = 0
    for raw in args.orders:
        number = raw.upper().removeprefix(settings.codes.order_prefix.upper())
        with db.read() as s:
            oid = s.exec(select(Order.id).where(Order.number == number)).first()
        entry: dict[str, object] = {"number": number}
        try:
            if oid is None:
                raise Refused(f"There is no order {number}.")
            view = create_shipment(db, actor, settings.ship, oid, code=raw)
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                for i, doc in enumerate(label_documents_for(db, settings, oid), start=1):
                    ext = "zpl" if doc.raw else "pdf"
                    (args.out / f"{number}-{i}.{ext}").write_bytes(doc.data)
            else:
                printer = make_printer(server=settings.printers.server or None)
                result = print_labels(db, actor, settings, printer, oid, queue=args.printer)
                if not result.ok:
                    entry["print_error"] = result.message
        except Refused as exc:
            entry["error"] = exc.message
            failed += 1
            out.append(entry)
            if not args.json:
                print(f"{number}: {exc.message}", file=sys.stderr)
            continue
        with db.read() as s:
            shipment = s.get(Shipment, view.shipment_id) if view.shipment_id else None
            parcels = s.exec(
                select(Parcel).where(Parcel.order_id == oid, Parcel.status != "void")
            ).all()
            if shipment is not None and shipment.booking_state == "booked":
                labels = s.exec(
                    select(CarrierLabel).where(CarrierLabel.shipment_id == shipment.id)
                ).all()
                fmt = labels[0].format if labels else "pdf"
            else:
                fmt = settings.printers.for_station("ship").label_format or "pdf"
            entry.update(
                carrier=view.carrier,
                consignment=shipment.consignment_number if shipment else None,
                parcels=[
                    {"sscc": p.sscc, "tracking_number": p.tracking_number, "label_format": fmt}
                    for p in sorted(parcels, key=lambda p: p.seq)
                ],
            )
        out.append(entry)
        if not args.json:
            numbers = ", ".join(str(p["tracking_number"]) for p in entry["parcels"])  # type: ignore[attr-defined]
            print(f"{number}: {view.carrier} {entry['consignment'] or ''} {numbers}".strip())
    if args.json:
        print(json.dumps({"orders": out}, ensure_ascii=False))
    return 1 if failed else 0


def cmd_packers(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.common import Actor, Refused
    from packbench.operations.packers import list_packers, set_pin

    db = _open_db(settings)
    if args.packers_command == "list":
        people = list_packers(db)
        if args.json:
            print(json.dumps([{"name": p.name, "badge": p.badge, "role": p.role} for p in people]))
        else:
            for p in people:
                print(shown(f"{p.badge:<12} {p.role:<10} {p.name}"))
        return 0
    if sys.stdin.isatty():
        import getpass

        pin = getpass.getpass("New PIN (4–12 digits): ")
        if getpass.getpass("Again: ") != pin:
            raise CliError("the two PINs differ; nothing changed")
    else:
        pin = sys.stdin.readline().strip()
    actor = Actor(station="admin", terminal=settings.bench.terminal)
    try:
        set_pin(db, actor, args.badge, pin)
    except Refused as exc:
        raise CliError(exc.message, code=2) from None
    print(f"PIN set for {args.badge.upper()}")
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.audit import order_history

    history = order_history(_open_db(settings), args.order, settings.code_rules())
    if history is None:
        raise CliError(f"no order matches {args.order!r}", code=2)
    if args.json:
        print(json.dumps(history.to_json(), ensure_ascii=False, indent=1))
        return 0
    events = len(history.entries)
    plural = "" if events == 1 else "s"
    print(shown(f"Order {history.number} ({history.status_label}), {events} event{plural}"))
    for e in history.entries:
        who = e.packer or "-"
        code = f" [{e.code}]" if e.code else ""
        flag = " REFUSED" if e.result == "refused" else ""
        # Scanned codes, names and messages quoting the shop's text: one line each, shown.
        line = (
            f"{e.at.astimezone():%Y-%m-%d %H:%M:%S} {e.station:<9} {e.terminal:<12} {who:<18} "
            f"{e.kind}{flag}{code} {e.message}"
        )
        print(shown(line).replace("\n", " ").replace("\t", " "))
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    import dataclasses
    from datetime import date

    from packbench.data.types import utcnow
    from packbench.operations.report import day_report, report_csv, report_pdf, report_text

    if args.date:
        try:
            day = date.fromisoformat(args.date)
        except ValueError:
            raise CliError(f"--date {args.date!r} is not a date like 2026-11-27", code=2) from None
    else:
        day = utcnow().astimezone(settings.day.tz()).date()
    db = _open_db(settings)
    report = day_report(db, day, settings.day)
    if args.csv:
        text = report_csv(report)
        if str(args.csv) == "-":
            sys.stdout.write(text)
        else:
            from packbench.operations.printing import export_file

            export_file(args.csv, text.encode("utf-8"))  # 0600: it names people
    if args.pdf or args.printer:
        pdf = report_pdf(report, settings.bench.shop_name)
        if args.pdf:
            from packbench.operations.printing import export_file

            export_file(args.pdf, pdf)
        if args.printer:
            from packbench.operations import printing
            from packbench.operations.common import Actor
            from packbench.operations.report import day_report_document
            from packbench.printing.cups import make_printer

            doc = day_report_document(db, settings, day)
            actor = Actor(station="admin", terminal=settings.bench.terminal)
            result = printing.print_job(
                db,
                actor,
                make_printer(server=settings.printers.server or None),
                doc,
                queue=args.printer,
                timeout_s=settings.printers.timeout_s,
            )
            print(shown(result.message))
            if not result.ok:
                return 1
    if not args.json and not (args.csv or args.pdf or args.printer):
        print(shown(report_text(report)))  # names come from the shop and the bench: plain
        return 0
    if args.json:
        doc = dataclasses.asdict(report)
        doc["day"] = report.day.isoformat()
        for person in doc["people"]:
            person["last_seen"] = person["last_seen"].isoformat() if person["last_seen"] else None
        print(json.dumps(doc, ensure_ascii=False, indent=1))
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.serve import DEFAULT_HOST, DEFAULT_PORT, serve

    _open_db(settings).dispose()  # a missing or unmigratable database fails here, not per tab
    app_args = ["--station", args.station or "dashboard"]
    if args.config:
        app_args += ["--config", str(args.config)]
    serve(
        args.host or DEFAULT_HOST,
        args.port or DEFAULT_PORT,
        app_args,
        # In the environment, not on each tab's command line (`ps` shows a PostgreSQL password)
        env={"PACKBENCH_DB": settings.database_path()},
        require_token=args.require_token,
        names=args.allow_host,
    )
    return 0


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


def _print_history_or_reprint(args: argparse.Namespace, settings: Settings, db) -> int:  # type: ignore[no-untyped-def]
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


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    from packbench.config import load_warehouse_layout
    from packbench.shop.factory import ShopNotConfigured, make_adapter
    from packbench.shop.sync import SyncEngine, SyncReport, SyncStopped

    if args.key is not None or args.secret is not None:
        raise CliError(
            "--key and --secret are not accepted: any user of this machine can read them in ps. "
            "Set PACKBENCH_SHOP_KEY and PACKBENCH_SHOP_SECRET in the environment, or store them "
            "in the OS keyring (keyring set packbench shop_key / shop_secret)",
            code=2,
        )
    db = _open_db(settings)
    try:
        layout = load_warehouse_layout(settings.warehouse.layout_path())
    except ConfigError as exc:
        raise CliError(str(exc), code=2) from None
    try:
        adapter = make_adapter(settings, url=args.shop_url)
    except ShopNotConfigured as exc:
        raise CliError(str(exc), code=2) from None
    progress = None
    if sys.stdout.isatty():
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("pulling", total=None)
        bar.start()

        def progress(status: str, page: int, pages: int) -> None:
            bar.update(task, description=f"pulling {status}", completed=page, total=pages)

    engine = SyncEngine(
        db,
        adapter,
        holder=f"{settings.bench.terminal}-sync",
        lease_ttl_s=settings.shop.lease_ttl_s,
        layout=layout,  # a product's shelf is taken when the warehouse has it
        progress=progress,
    )

    def show(report: SyncReport) -> None:
        # The summary and the refusals quote the shop's data and answers: shown, one line each.
        print(f"sync: {one_line(report.summary(), 2 * MESSAGE_LIMIT)}", flush=True)
        for rejected in report.rejected:
            print(f"  rejected: {one_line(rejected)}", flush=True)

    # SIGTERM and SIGINT end the round after the page in hand and give the lease back at once
    # (a second terminal need not wait for it to run out).
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()
        engine.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if args.once:
            report = engine.run_once(products=args.products)
            show(report)
            return 1 if report.error or report.skipped_lease else 0
        # A failed round is shown and the next one comes on time (``watch`` never gives up
        # but on refused credentials).
        engine.watch(args.interval or settings.shop.sync_interval_s, stop, on_report=show)
        return 0
    except SyncStopped as exc:
        raise CliError(f"sync stopped: {exc}") from None
    finally:
        engine.release()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if progress is not None:
            bar.stop()
        adapter.close()


# -- the warehouse (#5) ----------------------------------------------------------------------
def _layout(args: argparse.Namespace, settings: Settings):  # type: ignore[no-untyped-def]
    from packbench.config import load_warehouse_layout

    path = args.layout or settings.warehouse.layout_path()
    try:
        return load_warehouse_layout(path)
    except ConfigError as exc:
        raise CliError(str(exc).removeprefix("warehouse.layout: "), code=2) from None


def cmd_route(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.core.routing import LocationError, shortest_route

    layout = _layout(args, settings)
    try:
        route = shortest_route(layout, args.locations)
    except LocationError as exc:
        raise CliError(str(exc), code=2) from None
    if args.json:
        out = {"sequence": list(route.sequence), "distance_m": round(route.distance_m, 3)}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    for n, code in enumerate(route.sequence, start=1):
        print(f"{n:3d}  {code}")
    print(f"round trip from the depot at aisle {layout.depot}: {route.distance_m:.1f} m")
    return 0


def cmd_slotting(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.slotting import slotting_report

    if args.days < 1:
        raise CliError(f"--days must be at least 1, got {args.days}", code=2)
    layout = _layout(args, settings)
    report = slotting_report(_open_db(settings), layout, days=args.days)
    if args.json:
        json.dump(report.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(shown(report.as_text()))  # SKUs and product names come from the shop
    return 0


# -- end of the warehouse block ---------------------------------------------------------------


# -- the pack station (#6) ----------------------------------------------------------------------
def cmd_box(args: argparse.Namespace, settings: Settings) -> int:
    """``packbench box``: bad input is exit 2, items no box holds exit 1; one line on stderr."""
    from packbench.core.packing import PackingError, parse_request, suggest, suggestion_to_json

    try:
        if args.boxes == "-":
            text = sys.stdin.read()
        else:
            text = Path(args.boxes).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"box: cannot read {args.boxes}: {exc.strerror}", code=2) from None
    except UnicodeDecodeError:
        raise CliError(f"box: {args.boxes} is not UTF-8 text", code=2) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"box: not valid JSON: {exc}", code=2) from None
    try:
        boxes, items = parse_request(doc)
    except PackingError as exc:
        raise CliError(f"box: {exc}", code=2) from None
    try:
        suggestion = suggest(boxes, items)
    except PackingError as exc:
        raise CliError(f"box: {exc}", code=1) from None
    out = suggestion_to_json(suggestion)
    if args.json:
        json.dump(out, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for n, parcel in enumerate(out["parcels"], start=1):
        dims = "×".join(map(str, parcel["inner_mm"]))
        units = len(parcel["items"])
        print(
            shown(
                f"parcel {n}: {parcel['box']} ({dims} mm), {units} units, "
                f"{parcel['weight_g']} g, {parcel['fill']:.0%} full"
            )
        )
    if out["alternatives"]:
        print(shown(f"also fits: {', '.join(out['alternatives'])}"))
    return 0


def cmd_boxes(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.common import Refused

    db = _open_db(settings)
    if args.boxes_command == "list":
        from packbench.operations.packstation import box_rows

        rows = box_rows(db)
        if args.json:
            json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
            return 0
        for r in rows:
            size = "×".join(map(str, r["inner_mm"]))
            what = "flat L×W×max thickness" if r["kind"] == "bag" else "inner L×W×H"
            flags = ("standard " if r["standard"] else "") + ("" if r["active"] else "NOT IN USE")
            line = (
                f"{r['code']:<12} {r['kind']:<4} {size:>13} mm ({what}), max {r['max_weight_g']} g,"
                f" tare {r['tare_g']} g, {r['cost_ore'] / 100:.2f} kr  {r['name']}  {flags}"
            )
            print(shown(line.rstrip()))
        return 0
    from packbench.operations.boxadvice import advice_json, advise_boxes

    try:
        advice = advise_boxes(db, args.count)
    except Refused as exc:
        raise CliError(f"boxes advise: {exc.message}", code=2) from None
    data = advice_json(advice)
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(
        f"{advice.orders} packed/shipped orders; {advice.compared} fit one parcel of today's "
        "catalogue."
    )
    for b in data["boxes"]:
        size = "×".join(map(str, b["inner_mm"]))
        print(
            shown(f"  {b['label']:<22} {size:>13} mm  {b['share']:6.1%} of orders  ({b['orders']})")
        )
    print(
        f"empty volume: {data['empty_litres']} l with these, {data['baseline_empty_litres']} l "
        f"with today's catalogue — {data['saved_litres']} l ({data['saved_pct']} %) saved"
    )
    if advice.uncovered:
        print(shown(f"not held by these {args.count}: {', '.join(advice.uncovered)}"))
    if advice.too_big:
        print(shown(f"too big for any one box today (left out): {', '.join(advice.too_big)}"))
    return 0


# -- end of the pack station block --------------------------------------------------------------


# -- the post station (#7) ------------------------------------------------------------------------
def cmd_handovers(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.common import Actor, Refused
    from packbench.operations.handover import (
        manifest_document,
        print_manifest,
        recent_handovers,
        waiting_by_carrier,
    )
    from packbench.operations.printing import export_file

    db = _open_db(settings)
    if args.manifest is not None:
        try:
            if args.out:
                export_file(args.out, manifest_document(db, settings, args.manifest).data)
                print(f"manifest of handover {args.manifest} written to {args.out}")
                return 0
            from packbench.printing.cups import make_printer

            actor = Actor(station="post", terminal=settings.bench.terminal)
            result = print_manifest(
                db,
                actor,
                settings,
                make_printer(server=settings.printers.server or None),
                args.manifest,
                queue=args.printer,
            )
        except Refused as exc:
            raise CliError(exc.message, code=2) from None
        print(one_line(result.message))
        return 0 if result.ok else 1
    groups = waiting_by_carrier(db)
    handovers = recent_handovers(db)
    if args.json:
        print(
            json.dumps(
                {
                    "waiting": {
                        g.carrier: [
                            {
                                "order": r.order_number,
                                "parcel": r.seq,
                                "tracking_number": r.tracking_number,
                                "sscc": r.sscc,
                                "in_cage": r.in_cage,
                                "since": r.since.isoformat(),
                            }
                            for r in g.parcels
                        ]
                        for g in groups
                    },
                    "handovers": [h.as_json() for h in handovers],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    for g in groups:
        print(shown(f"{g.carrier}: {len(g.parcels)} waiting, {g.in_cage} in the cage"))
        for r in g.parcels:
            cage = "in cage" if r.in_cage else ""
            print(
                shown(
                    f"  {r.since.astimezone():%Y-%m-%d %H:%M}  {r.order_number:<10} {r.seq}  "
                    f"{r.tracking_number or '-':<14} {r.sscc or '-':<18} {cage}"
                )
            )
    if not groups:
        print("no parcels waiting")
    for h in handovers:
        when = f"{h.closed_at.astimezone():%Y-%m-%d %H:%M}" if h.closed_at else "open"
        print(
            shown(f"handover {h.id}: {h.carrier} {h.day} {h.status} ({when}), {h.parcels} parcels")
        )
    return 0


# -- end of the post station block ----------------------------------------------------------------


# -- settlement (#15) ---------------------------------------------------------------------------
def _day(text: str | None, option: str):  # type: ignore[no-untyped-def]
    from datetime import date

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option}: {text!r} is not a date (YYYY-MM-DD)", code=2) from None


def cmd_settlements(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.common import Actor
    from packbench.operations.settlement import ImportRefused, import_settlement
    from packbench.settlement.base import SettlementError, merge, since
    from packbench.settlement.factory import parse_file
    from packbench.settlement.vipps import assign_payouts

    start = _day(args.since, "--since")
    cfg = settings.settlement
    try:
        if args.api:
            from packbench.settlement.clients import ClientError, NotConfigured, fetch

            try:
                result = fetch(args.provider, settings, since=start)
            except NotConfigured as exc:
                raise CliError(str(exc), code=2) from None
            except ClientError as exc:
                raise CliError(str(exc)) from None
            source = f"{args.provider} API"
        else:
            if not args.files:
                raise CliError("give the report FILE(s), or --api", code=2)
            result = merge(
                [
                    parse_file(
                        args.provider,
                        Path(f),
                        payout_id=args.payout,
                        currency=cfg.currency,
                        vipps_reference_pattern=cfg.vipps_reference_pattern,
                    )
                    for f in args.files
                ]
            )
            if args.provider == "vipps":
                result.lines = assign_payouts(result.lines)
            source = ", ".join(Path(f).name for f in args.files)
    except SettlementError as exc:
        raise CliError(str(exc), code=2) from None
    if start is not None:
        result = since(result, start)
    db = _open_db(settings)
    actor = Actor(station="admin", terminal=settings.bench.terminal)
    try:
        report = import_settlement(db, actor, result, source=source)
    except ImportRefused as exc:
        for problem in exc.problems[:50]:
            print(f"  {problem}", file=sys.stderr)
        if len(exc.problems) > 50:
            print(f"  … and {len(exc.problems) - 50} more", file=sys.stderr)
        raise CliError(exc.message, code=2) from None
    if args.json:
        from dataclasses import asdict

        print(json.dumps(asdict(report), ensure_ascii=False, indent=1))
    else:
        print(report.summary())
    return 0


def _write_saft(args: argparse.Namespace, settings: Settings, db) -> int:  # type: ignore[no-untyped-def]
    from datetime import date

    from packbench.operations.journal import JournalError, journal
    from packbench.operations.printing import export_file
    from packbench.operations.saft import Company, saft_xml

    start, end = _day(args.period_from, "--from"), _day(args.period_to, "--to")
    if start is None or end is None or start > end:
        raise CliError("--saft needs the period: --from DATE --to DATE (in that order)", code=2)
    cfg = settings.settlement
    try:
        data = saft_xml(
            journal(db, settings),
            Company(cfg.organisation_number, cfg.company_name),
            accounts={
                "clearing": settings.shop.clearing_account,
                "bank": cfg.bank_account,
                "fee": cfg.fee_account,
            },
            start=start,
            end=end,
            created=date.today(),
        )
    except JournalError as exc:
        raise CliError(
            f"{exc} ([settlement] company_name and organisation_number name the company)"
        ) from None
    export_file(Path(args.saft), data)
    print(f"SAF-T Financial written to {args.saft}")
    return 0


def cmd_ledger(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.ledger import clearing_ledger

    account = str(settings.shop.clearing_account)
    if args.account and args.account != account:
        raise CliError(
            f"--account {args.account}: the bench keeps only the clearing account {account} "
            "([shop] clearing_account)",
            code=2,
        )
    db = _open_db(settings)
    if args.saft:
        return _write_saft(args, settings, db)
    if args.journal:
        from packbench.operations.journal import JournalError, journal, journal_csv

        try:
            text = journal_csv(journal(db, settings))
        except JournalError as exc:
            raise CliError(str(exc)) from None
        if args.journal == "-":
            sys.stdout.write(text)
        else:
            from packbench.operations.printing import export_file

            export_file(Path(args.journal), text.encode("utf-8"))
            print(f"journal written to {args.journal}")
        return 0
    ledger = clearing_ledger(db, settings, today=_day(args.as_of, "--as-of"))
    if args.json:
        json.dump(ledger.as_json(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(ledger.as_text())
    return 0


# -- end of the settlement block ----------------------------------------------------------------


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
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["demo-shop"]:
        from packbench.shop.demo_shop import main as demo_shop_main

        return demo_shop_main(args_list[1:])
    if args_list[:1] == ["demo-carrier"]:  # #14
        from packbench.carriers.demo_carrier import main as demo_carrier_main

        return demo_carrier_main(args_list[1:])
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
