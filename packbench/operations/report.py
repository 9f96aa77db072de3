"""The day report: what the bench shipped on one day, per carrier and per person, and what went
wrong (scan errors, short picks, orders that missed the cut-off). Printable (PDF) and
exportable (CSV); every figure comes from the event log and the parcels, like the dashboard's.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import case
from sqlmodel import col, func, select

from packbench.config import DaySettings, Settings
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Event, Order, OrderLine, Parcel
from packbench.operations.common import Actor
from packbench.operations.messages import count
from packbench.operations.team import SCAN_KINDS, RosterRow, roster

if TYPE_CHECKING:
    from packbench.operations.printing import Document, PrintResult


@dataclass(frozen=True)
class CarrierRow:
    carrier: str
    orders: int
    parcels: int
    weight_g: int


@dataclass(frozen=True)
class DayReport:
    day: date
    timezone: str
    orders_shipped: int
    units_shipped: int
    parcels_shipped: int
    carriers: tuple[CarrierRow, ...]
    people: tuple[RosterRow, ...]
    scans: int
    scan_errors: int
    short_picks: tuple[str, ...]  # "order: message"
    missed_cutoff: tuple[str, ...]  # order numbers paid before the cut-off, not shipped that day

    @property
    def scan_error_rate(self) -> float:
        return self.scan_errors / self.scans if self.scans else 0.0


def _bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def day_report(db: Database, day: date, settings: DaySettings) -> DayReport:
    tz = settings.tz()
    start, end = _bounds(day, tz)
    cutoff = datetime.combine(day, settings.cutoff, tzinfo=tz)
    with db.read() as session:
        status_rows = session.exec(
            select(Event.order_id, Event.at, Event.data).where(
                Event.kind == "status",
                Event.result == "ok",
                col(Event.at) >= start,
                col(Event.at) < end,
            )
        ).all()
        shipped: set[int] = set()
        holds: list[tuple[int, str]] = []
        for order_id, _at, data in status_rows:
            details = json.loads(data) if data else {}
            if order_id is None:
                continue
            if details.get("to") == OrderStatus.SHIPPED.value:
                shipped.add(order_id)
            reason = details.get("reason") or ""
            if details.get("to") == OrderStatus.ON_HOLD.value and "short" in reason.lower():
                holds.append((order_id, reason))
        # Short picks that let the order ship partially leave no hold: their events say so.
        short_events = session.exec(
            select(Event.order_id, Event.message).where(
                col(Event.at) >= start, col(Event.at) < end, Event.kind == "short_pick"
            )
        ).all()
        numbers = {
            o.id: o.number
            for o in session.exec(
                select(Order).where(
                    col(Order.id).in_(
                        shipped | {i for i, _ in holds} | {i for i, _ in short_events if i}
                    )
                )
            ).all()
        }
        short: dict[str, str] = {}
        for order_id, reason in holds:
            short.setdefault(numbers.get(order_id, f"#{order_id}"), reason)
        for order_id, message in short_events:
            if order_id is not None:
                short.setdefault(numbers.get(order_id, f"#{order_id}"), message)
        units = 0
        if shipped:
            units = session.exec(
                select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(
                    col(OrderLine.order_id).in_(shipped)
                )
            ).one()
        per_carrier: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        seen_orders: dict[str, set[int]] = defaultdict(set)
        parcels = 0
        if shipped:
            for p in session.exec(
                select(Parcel).where(col(Parcel.order_id).in_(shipped), Parcel.status != "void")
            ).all():
                name = p.carrier or "no carrier"
                seen_orders[name].add(p.order_id)
                per_carrier[name][1] += 1
                per_carrier[name][2] += p.weight_g
                parcels += 1
        carriers = tuple(
            CarrierRow(name, len(seen_orders[name]), v[1], v[2])
            for name, v in sorted(per_carrier.items())
        )
        scans, errors = session.exec(
            select(
                func.count(),
                func.coalesce(func.sum(case((col(Event.result) == "refused", 1), else_=0)), 0),
            ).where(
                col(Event.kind).in_(sorted(SCAN_KINDS)),
                col(Event.code).is_not(None),
                col(Event.at) >= start,
                col(Event.at) < end,
            )
        ).one()
        # Paid before the cut-off and not shipped that day (nor earlier): missed.
        shipped_before = select(Event.order_id).where(
            Event.kind == "status",
            Event.result == "ok",
            col(Event.at) < end,
            col(Event.data).contains('"to": "shipped"'),
        )
        missed = session.exec(
            select(Order.number)
            .where(
                func.coalesce(Order.paid_at, Order.created_at) < cutoff,
                Order.status != OrderStatus.CANCELLED.value,
                col(Order.id).not_in(shipped_before),
                # A month back is plenty for "still not shipped"; older is a case for the
                # admin station, and the bound keeps the query off the whole history.
                col(Order.created_at) >= start - timedelta(days=30),
            )
            .order_by(col(Order.created_at))
        ).all()
    people = tuple(
        r
        for r in roster(db, tz=tz, now=end - timedelta(microseconds=1), since=start)
        if r.scans or r.orders
    )
    return DayReport(
        day=day,
        timezone=settings.timezone,
        orders_shipped=len(shipped),
        units_shipped=int(units),
        parcels_shipped=parcels,
        carriers=carriers,
        people=people,
        scans=int(scans),
        scan_errors=int(errors),
        short_picks=tuple(f"{n}: {m}" for n, m in sorted(short.items())),
        missed_cutoff=tuple(missed),
    )


def report_text(report: DayReport) -> str:
    """The day in a few lines for a terminal (``packbench report``; ``--json`` for the data)."""
    lines = [
        f"The day {report.day.isoformat()} ({report.timezone})",
        f"Shipped: {count(report.orders_shipped, 'order')}, "
        f"{count(report.units_shipped, 'unit')}, {count(report.parcels_shipped, 'parcel')}",
    ]
    for c in report.carriers:
        lines.append(
            f"  {c.carrier}: {count(c.orders, 'order')}, {count(c.parcels, 'parcel')}, "
            f"{c.weight_g / 1000:.1f} kg"
        )
    lines.append(
        f"Scans: {report.scans}, refused {report.scan_errors} ({report.scan_error_rate:.0%})"
    )
    if report.people:
        lines.append("People:")
        for p in report.people:
            lines.append(
                f"  {p.name}: {count(p.orders, 'order')}, {count(p.units, 'unit')}, "
                f"{count(p.scans, 'scan')}"
            )
    lines.append(
        "Short picks: " + ("; ".join(report.short_picks) if report.short_picks else "none")
    )
    lines.append(
        "Paid before the cut-off, not shipped: "
        + (", ".join(report.missed_cutoff) if report.missed_cutoff else "none")
    )
    return "\n".join(lines)


def report_csv(report: DayReport) -> str:
    """The report as CSV: one section per table, each with its header, for a spreadsheet."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "name", "orders", "units", "parcels", "weight_g", "scans", "errors"])
    w.writerow(
        [
            "day",
            report.day.isoformat(),
            report.orders_shipped,
            report.units_shipped,
            report.parcels_shipped,
            sum(c.weight_g for c in report.carriers),
            report.scans,
            report.scan_errors,
        ]
    )
    for c in report.carriers:
        w.writerow(["carrier", _safe(c.carrier), c.orders, "", c.parcels, c.weight_g, "", ""])
    for p in report.people:
        w.writerow(["person", _safe(p.name), p.orders, p.units, "", "", p.scans, p.scan_errors])
    for s in report.short_picks:
        w.writerow(["short_pick", _safe(s), "", "", "", "", "", ""])
    for n in report.missed_cutoff:
        w.writerow(["missed_cutoff", _safe(n), "", "", "", "", "", ""])
    return out.getvalue()


def _safe(text: str) -> str:
    """No formula injection when the CSV is opened in a spreadsheet (=, +, -, @ start a formula)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_pdf(report: DayReport, shop_name: str) -> bytes:
    """The report as an A4 PDF (Norwegian headings, like the other documents)."""
    from packbench.printing.report import ReportData, render_day_report

    totals = [
        ("Ordrer sendt", str(report.orders_shipped)),
        ("Enheter sendt", str(report.units_shipped)),
        ("Kolli", str(report.parcels_shipped)),
        ("Skann / feil", f"{report.scans} / {report.scan_errors} ({report.scan_error_rate:.1%})"),
        ("Mangler ved plukk", str(len(report.short_picks))),
        ("Ikke sendt før fristen", str(len(report.missed_cutoff))),
    ]
    return render_day_report(
        ReportData(
            shop=shop_name,
            day=report.day.strftime("%d.%m.%Y"),
            totals=totals,
            carriers=[(c.carrier, c.orders, c.parcels, c.weight_g) for c in report.carriers],
            people=[
                (
                    p.name,
                    p.orders,
                    p.units,
                    p.scans,
                    p.scan_errors,
                    f"{p.median_order_min:g}" if p.median_order_min is not None else "—",
                )
                for p in report.people
            ],
            short_picks=report.short_picks,
            missed=report.missed_cutoff,
        )
    )


def day_report_document(db: Database, settings: Settings, day: date) -> Document:
    """The day report as a print job's document; its spec lets the print history reprint it."""
    from packbench.operations.printing import Document

    pdf = report_pdf(day_report(db, day, settings.day), settings.bench.shop_name)
    return Document(
        kind="report",
        data=pdf,
        title=f"Day report {day}",
        ref=f"day report {day}",
        spec={"kind": "report", "day": day.isoformat()},
    )


def print_day_report(db: Database, actor: Actor, settings: Settings, day: date) -> PrintResult:
    """The day report on the station's A4 (manifest) printer, as one recorded print job."""
    from packbench.operations.printing import print_job
    from packbench.printing.cups import make_printer

    printers = settings.printers
    doc = day_report_document(db, settings, day)
    return print_job(
        db,
        actor,
        make_printer(server=printers.server or None),
        doc,
        queue=printers.for_station(actor.station).manifest,
        timeout_s=printers.timeout_s,
    )
