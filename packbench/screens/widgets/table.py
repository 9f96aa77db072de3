"""A ``DataTable`` that draws its rows again when its columns widen to fit them.

Textual's ``DataTable`` (8.x) sizes its columns to new rows on an idle tick, but caches the
lines it draws under a count that the widening does not change. A line drawn between
``add_row`` and that tick (the screen painted, or a test read the table) stayed as it was: every
column at its header's width, the rest of each cell cut off, until something else changed the
table — on a list loaded once that was for good (the flake of the markup-injection test under
pytest-xdist; upstream: Textualize/textual#3533, the same for ``update_cell``). Every table on
the screens is this one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic

from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, CellType, RowKey


class SizedTable(DataTable[CellType], Generic[CellType]):
    """A ``DataTable`` whose cached lines go when a column's width changes."""

    def _widths(self) -> list[int]:
        return [column.content_width for column in self.columns.values()]

    def _redraw_if_widened(self, before: list[int]) -> None:
        if self._widths() != before:
            self._clear_caches()
            self.refresh()

    def _update_column_widths(self, updated_cells: set[CellKey]) -> None:
        before = self._widths()
        super()._update_column_widths(updated_cells)
        self._redraw_if_widened(before)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        before = self._widths()
        super()._update_dimensions(new_rows)
        self._redraw_if_widened(before)
