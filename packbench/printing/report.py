"""The day report as an A4 PDF: totals, per carrier, per person, short picks, missed cut-off.

Every piece of text goes through ``clean`` and is drawn as plain table text (reportlab's table
cells given as strings are not parsed as markup), so a name like ``<b>`` prints as itself.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from packbench.printing.common import MM, clean, fonts, format_weight

__all__ = ["ReportData", "render_day_report"]


class ReportData:
    """What the PDF shows; filled from ``operations.report.DayReport`` by the caller."""

    def __init__(
        self,
        *,
        shop: str,
        day: str,
        totals: Sequence[tuple[str, str]],
        carriers: Sequence[tuple[str, int, int, int]],
        people: Sequence[tuple[str, int, int, int, int, str]],
        short_picks: Sequence[str],
        missed: Sequence[str],
    ) -> None:
        self.shop, self.day, self.totals = shop, day, totals
        self.carriers, self.people = carriers, people
        self.short_picks, self.missed = short_picks, missed


def _table(rows: list[list[str]], widths: list[float], *, head: bool = True) -> Table:
    f = fonts()
    t = Table(rows, colWidths=widths, repeatRows=1 if head else 0, hAlign="LEFT")
    style = [
        ("FONT", (0, 0), (-1, -1), f.regular, 9),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, -1), (-1, -1), 0.4, colors.grey),
    ]
    if head:
        style += [
            ("FONT", (0, 0), (-1, 0), f.bold, 9),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ]
    t.setStyle(TableStyle(style))
    return t


def _title(text: str, size: float = 12) -> Table:
    f = fonts()
    t = Table([[text]], hAlign="LEFT")
    t.setStyle(
        TableStyle([("FONT", (0, 0), (-1, -1), f.bold, size), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    return t


def render_day_report(data: ReportData) -> bytes:
    fonts()  # registers the faces before the first table uses them
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * MM,
        rightMargin=15 * MM,
        topMargin=15 * MM,
        bottomMargin=15 * MM,
        title=f"Dagsrapport {clean(data.day, limit=20)}",
        author="packbench",
        creator="packbench",
        invariant=1,
    )
    c = clean
    story: list[Any] = [
        _title(f"{c(data.shop, limit=120)} — dagsrapport {c(data.day, limit=20)}", 15),
        Spacer(1, 4 * MM),
        _table(
            [[c(k, limit=60), c(v, limit=60)] for k, v in data.totals],
            [70 * MM, 60 * MM],
            head=False,
        ),
        Spacer(1, 5 * MM),
        _title("Per transportør"),
        _table(
            [["Transportør", "Ordrer", "Kolli", "Vekt"]]
            + [[c(n, limit=60), str(o), str(p), format_weight(w)] for n, o, p, w in data.carriers],
            [70 * MM, 25 * MM, 25 * MM, 30 * MM],
        ),
        Spacer(1, 5 * MM),
        _title("Per person"),
        _table(
            [["Navn", "Ordrer", "Enheter", "Skann", "Feil", "Min/ordre"]]
            + [
                [c(n, limit=60), str(o), str(u), str(s), str(e), c(m, limit=10)]
                for n, o, u, s, e, m in data.people
            ],
            [60 * MM, 20 * MM, 20 * MM, 20 * MM, 20 * MM, 25 * MM],
        ),
        Spacer(1, 5 * MM),
        _title(f"Mangler ved plukk ({len(data.short_picks)})"),
        _table([[c(s, limit=200)] for s in data.short_picks] or [["—"]], [180 * MM], head=False),
        Spacer(1, 5 * MM),
        _title(f"Ikke sendt før fristen ({len(data.missed)})"),
        _table(
            [
                [", ".join(c(n, limit=20) for n in data.missed[i : i + 8])]
                for i in range(0, len(data.missed), 8)
            ]
            or [["—"]],
            [180 * MM],
            head=False,
        ),
    ]
    doc.build(story)
    return buffer.getvalue()
