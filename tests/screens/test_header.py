"""The station's top line at any width: the name of who is signed in outlasts the sync state."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text

from packbench.screens.base import RIGHT_AT_LEAST, StationHeader

NAME = "👤 Jørgen Hansen (supervisor)"
SYNC = "⇅ synced 12:03:04 · 1000 pulled · 3 waiting"


def header(who: str = NAME, sync: str = SYNC, terminal: str = "terminal bench-1") -> StationHeader:
    h = StationHeader("Pack station")
    h.show(who=Text(who), sync=sync, terminal=terminal)
    return h


def test_at_80_columns_the_name_is_whole_and_the_sync_state_cut_short() -> None:
    line = header()._line(80).plain
    assert line.startswith(" Pack station  " + NAME + "  ⇅ synced 12:03:04"), line
    assert line.endswith("…") and "terminal" not in line


def test_where_everything_fits_nothing_is_cut() -> None:
    line = header()._line(160).plain
    assert NAME in line and SYNC in line and line.rstrip().endswith("terminal bench-1")
    assert "…" not in line


def test_the_name_is_cut_only_when_the_right_part_is_down_to_its_least() -> None:
    line = header()._line(50).plain
    name_part = line[len(" Pack station  ") :]
    assert name_part.startswith("👤 Jørgen") and "…" in name_part.split("⇅")[0], line
    assert Text(line[line.index("  ⇅") :]).cell_len >= RIGHT_AT_LEAST, line


@given(
    width=st.integers(1, 240),
    who=st.text(min_size=0, max_size=60),
    sync=st.text(max_size=80),
    terminal=st.text(max_size=30),
)
def test_the_line_is_exactly_as_wide_as_the_screen(
    width: int, who: str, sync: str, terminal: str
) -> None:
    line = header(who, sync, terminal)._line(width)
    assert line.cell_len == width
    if width >= len(" Pack station ") + 1:
        assert line.plain.startswith(" Pack station ")
