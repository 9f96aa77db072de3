"""The day's pace as a bar chart a supervisor takes in at a glance.

One bar per clock hour: the orders packed in it. A dashed line across the chart is the pace the
cut-off needs now (orders per hour to ship what must ship before the shift ends). A past hour at
or above the line is green, below it red; the hour running now is yellow; the hours still to
come are empty, with the line running on through them to the end of the shift. Under the bars,
the hour and its count. Plain Rich text: any terminal draws it, a screen reader reads the counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text

from packbench.core.rhythm import bar_cells

HEIGHT = 6  # rows of bars
COLUMN = 4  # characters per hour: a bar two wide and a gap
BAR = 2
AXIS = 6  # the scale's width on the left ("  24 ┤")


def _nice_top(value: float) -> int:
    """A round number at or above ``value`` for the top of the scale."""
    if value <= 4:
        return 4
    step = 10 ** math.floor(math.log10(value))
    for mult in (1, 2, 2.5, 5, 10):
        if value <= mult * step:
            return int(mult * step) if mult * step >= 4 else 4
    return int(10 * step)


def pace_chart(
    counts: Sequence[int],
    hours: range,
    now_hour: int,
    needed: float | None,
    *,
    needed_label: str = "",
) -> Text:
    """The chart for ``hours`` of ``counts`` (orders per clock hour, 24 of them).

    ``needed``: orders per hour the cut-off needs now, drawn as the line (None: no line, for a
    day with nothing left to ship or a shift already over)."""
    shown = [counts[h] if h <= now_hour else 0 for h in hours]
    line = needed if needed is not None and math.isfinite(needed) and needed > 0 else None
    top = _nice_top(max([*shown, (line or 0) * 1.2, 1]))
    line_row = None  # 0 is the bottom row
    if line is not None:
        line_row = min(HEIGHT - 1, max(0, math.ceil(line / top * HEIGHT) - 1))
    bars = [bar_cells(n, top, HEIGHT) for n in shown]
    out = Text(no_wrap=True, overflow="crop")
    for row in range(HEIGHT - 1, -1, -1):
        label = ""
        if row == HEIGHT - 1:
            label = str(top)
        elif row == line_row and line is not None:
            label = f"{line:.0f}"
        on_line = row == line_row
        out.append(f"{label:>{AXIS - 2}} ", style="bold yellow" if on_line and label else "dim")
        out.append("┼" if on_line else "┤" if label else "│", style="dim")
        for hour, cells in zip(hours, bars, strict=True):
            cell = cells[row]
            style = _bar_style(hour, now_hour, counts[hour], line)
            if cell != " ":
                out.append(cell * BAR, style=style)
                out.append("┄" * (COLUMN - BAR) if on_line else " " * (COLUMN - BAR),
                           style="yellow")  # fmt: skip
            elif on_line:
                out.append("┄" * COLUMN, style="yellow")
            else:
                out.append(" " * COLUMN)
        if on_line and needed_label:
            out.append(f" {needed_label}", style="bold yellow")
        out.append("\n")
    out.append(" " * (AXIS - 1) + "└" + "─" * (COLUMN * len(hours)) + "\n", style="dim")
    out.append(" " * AXIS)
    for hour in hours:
        style = "bold reverse" if hour == now_hour else "dim"
        out.append(f"{hour:02d}", style=style)
        out.append(" " * (COLUMN - 2))
    out.append("  hour\n", style="dim")
    out.append(" " * AXIS)
    for hour in hours:
        count = str(counts[hour]) if hour <= now_hour else ""
        out.append(f"{count:>2}"[:COLUMN].ljust(COLUMN), style="bold")
    out.append("  packed", style="dim")
    return out


def _bar_style(hour: int, now_hour: int, count: int, needed: float | None) -> str:
    if hour == now_hour:
        return "yellow"
    if needed is None or count >= needed:
        return "green"
    return "red"
