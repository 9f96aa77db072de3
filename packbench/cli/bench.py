"""Commands for the bench itself: init, the app and the demo, orders, people, history, the day
report, serve and the shop sync."""

from __future__ import annotations

import argparse
import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packbench.cli.common import (
    MESSAGE_LIMIT,
    CliError,
    _now,
    _open_db,
    log,
    one_line,
    settle_crash_left_bookings,
)
from packbench.config import ConfigError, Settings, data_dir, render_toml
from packbench.screens.plain import cells, shown

if TYPE_CHECKING:
    from packbench.data.engine import Database


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
    from packbench.cli.money import credentials_shown  # #15

    print(credentials_shown(), end="")
    return 0


def _run_app(settings: Settings, db: Database) -> int:
    from packbench.app import PackbenchApp

    PackbenchApp(settings=settings, db=db).run()
    return 0


def cmd_app(args: argparse.Namespace, settings: Settings) -> int:
    """The app, shown at once: the database opens (and its schema is checked) in a worker
    after the first frame; what stops that is reported here, once the app has closed."""
    from packbench.app import PackbenchApp

    app = PackbenchApp(settings=settings, open_db=lambda: _open_db(settings))
    app.run()
    if app.boot_error is not None:
        raise app.boot_error
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """The full app on the embedded default: a local SQLite file, the bundled demo shop running
    on loopback in the background (new orders tick in), the demo data in both, the demo carrier
    and the demo payment providers (their payouts imported as they come), and a demo bench scale
    at the pack station (``demo_scale``)."""
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
    settings, stop_scale = demo_scale(settings, db, off=args.no_scale)
    # #15: the demo payment providers settle the demo shop's captures; their payouts come in.
    from packbench.settlement.demo.bench import start_demo_providers

    settings, stop_providers = start_demo_providers(
        settings, db, shop_url=url, shop_key=DEFAULT_KEY, shop_secret=DEFAULT_SECRET
    )
    try:
        return _run_app(settings, db)
    finally:
        stop_scale()
        stop_providers()
        stop_carrier()
        stop()


def demo_scale(
    settings: Settings, db: Database, *, off: bool = False
) -> tuple[Settings, Callable[[], None]]:
    """The demo's bench scale: a configured ``[pack] scale`` is used as it is; otherwise
    (unless ``off``) the demo scale on a pseudo-terminal, which weighs the parcel the pack
    station at this terminal has boxed — its weight comes with no scan, as from a real scale
    (``scale 935 g`` in the history). → the settings the app runs with, and how to stop it."""
    if off or settings.pack.scale:
        return settings, lambda: None
    from packbench.operations.demo import on_the_demo_scale
    from packbench.scale.demo import DemoScale

    terminal = settings.bench.terminal or socket.gethostname()  # as the app names it
    scale = DemoScale(interval_s=0.2).start().follow(lambda: on_the_demo_scale(db, terminal))
    log.info("demo scale on %s: it weighs each boxed parcel at the pack station", scale.path)
    pack = settings.pack.model_copy(update={"scale": scale.path})
    return settings.model_copy(update={"pack": pack}), scale.close


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
        out: dict[str, Any] = dataclasses.asdict(report)
        out["day"] = report.day.isoformat()
        for person in out["people"]:
            person["last_seen"] = person["last_seen"].isoformat() if person["last_seen"] else None
        print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import textual_serve  # noqa: F401  # the `serve` extra: a missing one is named before anything

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
    from packbench.operations.common import Actor

    settle_crash_left_bookings(db, Actor("sync", settings.bench.terminal), settings)
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
