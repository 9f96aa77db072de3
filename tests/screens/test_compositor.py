"""The stations' compositor (``screens/compositor.py``) against Textual's own: every frame of a
pack station's scans, drawn both ways from the same changed regions, must reach the terminal as
the same bytes; and it must draw fewer lines to get there (else it would be Textual's own)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from textual._compositor import Compositor
from textual.widget import Widget

from packbench.app import PackbenchApp
from packbench.data.engine import Database
from packbench.screens.compositor import DirtyLinesCompositor
from tests.operations.seed import seed
from tests.operations.test_packstation import CUP, SOCKS, add_boxes, make_picked
from tests.screens.helpers import scan, settle
from tests.screens.test_pack import make_app


class Compared(DirtyLinesCompositor):
    """Draws each partial update both ways and keeps both, with the lines each asked for."""

    frames: list[tuple[str | None, str | None, int, int]]
    console: Any

    def render_partial_update(self) -> Any:
        changed = set(self._dirty_regions)
        with counted() as ours:
            mine = super().render_partial_update()
        self._dirty_regions.update(changed)
        with counted() as textuals:
            stock = Compositor.render_partial_update(self)
        self.frames.append(
            (
                mine.render_segments(self.console) if mine else None,
                stock.render_segments(self.console) if stock else None,
                ours[0],
                textuals[0],
            )
        )
        return mine


@contextmanager
def counted() -> Iterator[list[int]]:
    """The lines widgets were asked to draw meanwhile."""
    lines = [0]
    render_lines = Widget.render_lines

    def counting(widget: Widget, crop: Any) -> Any:
        lines[0] += crop.height
        return render_lines(widget, crop)

    Widget.render_lines = counting  # type: ignore[method-assign]
    try:
        yield lines
    finally:
        Widget.render_lines = render_lines  # type: ignore[method-assign]


def compare(app: PackbenchApp) -> Compared:
    compositor = app.screen._compositor
    assert isinstance(compositor, DirtyLinesCompositor)
    compositor.__class__ = Compared
    assert isinstance(compositor, Compared)
    compositor.frames, compositor.console = [], app.console
    return compositor


@pytest.mark.parametrize("size", [(150, 50), (80, 24)])
async def test_every_frame_of_a_packing_run_reaches_the_terminal_as_textual_draws_it(
    db: Database, size: tuple[int, int]
) -> None:
    ids = seed(db)
    add_boxes(db)
    make_picked(db, ids["second"])
    app = make_app(db)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        compositor = compare(app)
        # Signed in, the order opened, its units (a wrong one, an undo), the box, the weight.
        for code in ("BDG-1001", "ORD-5002", SOCKS, "7071234999990", "CMD-UNDO", SOCKS, CUP):
            await scan(pilot, code)
        box = app.screen.view.suggestion.parcels[0].box  # type: ignore[attr-defined]
        for code in (box, "2 kg", "CMD-CONFIRM"):
            await scan(pilot, code)
    frames = compositor.frames
    assert len(frames) >= 10, len(frames)
    for n, (mine, textuals, _, _) in enumerate(frames):
        assert mine == textuals, n
    drawn = sum(f[2] for f in frames)
    stock = sum(f[3] for f in frames)
    # 29 % of Textual's lines at 150×50, 76 % at 80×24 (where most of the screen changes).
    assert drawn <= 0.9 * stock, (drawn, stock)
