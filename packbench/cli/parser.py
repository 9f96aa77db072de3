"""The command line's options and commands (``packbench --help``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from packbench import __version__
from packbench.cli.common import (
    Parser,
    _common,
)
from packbench.config import STATIONS
from packbench.core.workflow import OrderStatus


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
    p.add_argument(  # the demo scale weighs each boxed parcel at the pack station
        "--no-scale",
        action="store_true",
        help="no demo bench scale: weights are scanned or typed ([pack] scale, if set, is used)",
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
    p.add_argument("args", nargs=argparse.REMAINDER, help="see packbench demo-shop --help")

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
    p.add_argument("args", nargs=argparse.REMAINDER, help="see packbench demo-carrier --help")

    p = sub.add_parser(  # #16: the demo bench scale (packbench.scale.demo)
        "demo-scale",
        help="a demo bench scale on a pseudo-terminal, weights typed on stdin",
        add_help=False,
    )
    p.add_argument("args", nargs=argparse.REMAINDER, help="see packbench demo-scale --help")

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
    p.add_argument(
        "--transfer",
        action="store_true",
        help="first send the consignment transfers (Cargonizer EDI) that closed handovers left",
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
    c.add_argument(
        "--provider",
        required=True,
        choices=["vipps", "klarna", "stripe"],
        help="whose payouts these are",
    )
    src = c.add_mutually_exclusive_group(required=True)
    src.add_argument("files", nargs="*", default=[], metavar="FILE", help="JSON or CSV reports")
    src.add_argument("--api", action="store_true", help="fetch from the provider's API")
    c.add_argument("--since", metavar="DATE", help="only payouts from this date (YYYY-MM-DD)")
    c.add_argument("--until", metavar="DATE", help="--api: ask up to this date (default: today)")
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
