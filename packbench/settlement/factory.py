"""The parser for a provider and a file, from the configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from packbench.settlement.base import PROVIDERS, ParseResult, SettlementError, SettlementParser
from packbench.settlement.klarna import KlarnaCsvParser, KlarnaParser
from packbench.settlement.stripe import StripeParser
from packbench.settlement.vipps import DEFAULT_REFERENCE_PATTERN, VippsParser

__all__ = ["make_parser", "parse_file"]

MAX_FILE_BYTES = 200 * 1024 * 1024


def make_parser(
    provider: str,
    *,
    csv: bool = False,
    currency: str = "NOK",
    vipps_reference_pattern: str = DEFAULT_REFERENCE_PATTERN,
) -> SettlementParser:
    if provider not in PROVIDERS:
        raise SettlementError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    if provider == "vipps":
        if csv:
            raise SettlementError("Vipps reports are read from the Report API's JSON, not CSV")
        return VippsParser(reference_pattern=vipps_reference_pattern, currency=currency)
    if provider == "klarna":
        return KlarnaCsvParser(currency=currency) if csv else KlarnaParser(currency=currency)
    if csv:
        raise SettlementError("Stripe balance transactions are read as JSON, not CSV")
    return StripeParser(currency=currency)


def parse_file(
    provider: str,
    path: Path,
    *,
    payout_id: str | None = None,
    currency: str = "NOK",
    vipps_reference_pattern: str = DEFAULT_REFERENCE_PATTERN,
) -> ParseResult:
    """Read ``path`` (JSON, or CSV by its name or content) into lines; a file that cannot be
    read at all is a :class:`SettlementError` naming it."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SettlementError(f"{path}: {size} bytes is larger than a settlement report")
        raw = path.read_bytes()
    except OSError as exc:
        raise SettlementError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SettlementError(f"{path}: not UTF-8 text") from None
    is_csv = path.suffix.lower() == ".csv" or not text.lstrip().startswith(("{", "["))
    parser = make_parser(
        provider, csv=is_csv, currency=currency, vipps_reference_pattern=vipps_reference_pattern
    )
    document: Any
    if is_csv:
        document = text
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettlementError(
                f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
    try:
        return parser.parse(document, payout_id=payout_id)
    except SettlementError as exc:
        raise SettlementError(f"{path}: {exc}") from None
