"""The pace chart as drawn: bars per hour, the needed pace as a line, colours a glance reads."""

from __future__ import annotations

from rich.text import Text

from packbench.screens.widgets.pace_chart import pace_chart

COLUMN = {h: 6 + (h - 8) * 4 for h in range(8, 16)}  # where each hour's bar starts


def styles_at(text: Text, row: int, column: int) -> set[str]:
    lines = text.plain.split("\n")
    place = sum(len(line) + 1 for line in lines[:row]) + column
    return {str(s.style) for s in text.spans if s.start <= place < s.end}


def test_bars_against_the_needed_line() -> None:
    counts = [0] * 24
    counts[8], counts[9], counts[10] = 12, 3, 5  # 10 is the hour running now
    chart = pace_chart(counts, range(8, 16), now_hour=10, needed=10.0, needed_label="10/h needed")
    lines = chart.plain.splitlines()
    assert len(lines) == 9  # six rows of bars, the axis, the hours, the counts
    assert lines[0].startswith("  20 ┤")  # the scale's top: a round number over 12 and 10×1.2
    (line,) = [row for row in lines if "┼" in row]
    assert line.startswith("  10 ┼") and line.endswith(" 10/h needed")
    assert "┄" * 4 in line  # the line runs on through the hours to come
    assert lines[-2].split()[:8] == ["08", "09", "10", "11", "12", "13", "14", "15"]
    assert lines[-1].split() == ["12", "3", "5", "packed"]  # nothing under hours to come
    bottom = 5
    assert [lines[bottom][COLUMN[h]] for h in (8, 9, 10, 11)] == ["█", "▇", "█", " "]  # 3 of 20
    # 12 at or above the needed 10: green; 3 below it: red; the hour running now: yellow.
    assert "green" in styles_at(chart, bottom, COLUMN[8])
    assert "red" in styles_at(chart, bottom, COLUMN[9])
    assert "yellow" in styles_at(chart, bottom, COLUMN[10])


def test_no_line_when_nothing_is_needed_and_one_order_still_shows() -> None:
    counts = [0] * 24
    counts[9] = 1
    chart = pace_chart(counts, range(8, 16), now_hour=13, needed=None)
    lines = chart.plain.splitlines()
    assert not [row for row in lines if "┼" in row or "┄" in row]
    assert lines[5][COLUMN[9]] == "█" and lines[4][COLUMN[9]] == "▄"  # 1 on a scale of 4
    assert "green" in styles_at(chart, 5, COLUMN[9])
