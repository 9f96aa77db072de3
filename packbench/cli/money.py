"""Settlement (#15): the providers' payouts imported, the clearing account and its journal."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from packbench.cli.common import (
    CliError,
    _day,
    _open_db,
)
from packbench.config import Settings

if TYPE_CHECKING:
    from packbench.data.engine import Database


def credentials_shown() -> str:
    """For ``config show``: which provider credentials are set and where, never their values
    (they are not in the configuration: the environment or the OS keyring only)."""
    from packbench.settlement.clients import CREDENTIALS, credential_source

    out = ["", "# payment provider credentials (environment or OS keyring, never this file):"]
    for entries in CREDENTIALS.values():
        for env, name, _ in entries:
            where = credential_source(env, name)
            shown = f"******** (from the {where})" if where else "not set"
            out.append(f"#   {env:<34} {shown}")
    return "\n".join(out) + "\n"


def cmd_settlements(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.common import Actor
    from packbench.operations.settlement import ImportRefused, import_settlement
    from packbench.settlement.base import SettlementError, merge, since
    from packbench.settlement.factory import parse_file
    from packbench.settlement.vipps import assign_payouts

    start = _day(args.since, "--since")
    end = _day(args.until, "--until")
    cfg = settings.settlement
    try:
        if args.api:
            from packbench.settlement.clients import ClientError, NotConfigured, fetch

            try:
                result = fetch(args.provider, settings, since=start, until=end)
            except NotConfigured as exc:
                raise CliError(str(exc), code=2) from None
            except ClientError as exc:
                raise CliError(str(exc)) from None
            source = f"{args.provider} API"
        else:
            if not args.files:
                raise CliError("give the report FILE(s), or --api", code=2)
            if end is not None:
                raise CliError("--until is for --api: a file holds what it holds", code=2)
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


def _write_saft(args: argparse.Namespace, settings: Settings, db: Database) -> int:
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
