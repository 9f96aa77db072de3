"""A station's screen updates drawn from the lines that changed, not from the box around them.

Textual's compositor draws a partial update (the frame after a scan) from every widget that
overlaps the *bounding box* of the changed regions, and asks each such widget for all of its
visible lines, then keeps only the changed ones. A scan at the pack station changes a checklist
row near the top and the feedback line at the bottom (and, for a wrong scan, the header and the
scan bar's border too), so the box is most of the screen: about 17 widgets and 200 lines were
drawn for the 5–10 lines that changed (counted with ``benchmarks/volume.py``'s scans).

``DirtyLinesCompositor`` draws the same update from the widgets that overlap a changed region
and, of each, only the changed lines. What reaches the terminal is the same, byte for byte:
only the changed lines' changed columns are written either way, and a widget that overlaps no
changed region has nothing to show in one. ``tests/screens/test_compositor.py`` compares the
two on every frame of a pack station's scans. Full updates (a new layout, a resize) are
Textual's own, unchanged.

It works on Textual's compositor internals (``_dirty_regions``, ``cuts``, ``visible_widgets``,
``ChopsUpdate``) as Textual 8.2.8 has them; the project pins that version, and the test fails
if a new one draws differently.
"""

from __future__ import annotations

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip

__all__ = ["DirtyLinesCompositor"]


class DirtyLinesCompositor(Compositor):
    """Textual's compositor, drawing partial updates from the changed lines only."""

    def render_partial_update(self) -> ChopsUpdate | None:
        update_regions = self._dirty_regions.copy()
        self._dirty_regions.clear()
        if not update_regions:
            return None
        screen = self.size.region
        changed = [region.intersection(screen) for region in update_regions]
        spans = list(self._regions_to_spans(update_regions))
        rows = {y for y, _, _ in spans}
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(line[:-1]) for line in cuts]
        # Front to back (visible_widgets is in render order): the first strip for a cut wins.
        for widget, (region, clip) in self.visible_widgets.items():
            if not any(c.overlaps(clip) for c in changed):
                continue
            visible = region.intersection(clip)
            x, top, width, height = visible
            if not (width and height):
                continue
            first_cut, last_cut = visible.column_span
            y, bottom = top, top + height
            while y < bottom:
                if y not in rows:
                    y += 1
                    continue
                end = y
                while end < bottom and end in rows:
                    end += 1
                lines = widget.render_lines(Region(x - region.x, y - region.y, width, end - y))
                for line_y, strip in zip(range(y, end), lines, strict=False):
                    line_cuts = [cut for cut in cuts[line_y] if last_cut >= cut >= first_cut]
                    parts = strip.divide([cut - x for cut in line_cuts[1:]])
                    chop = chops[line_y]
                    for cut, part in zip(line_cuts, parts, strict=False):
                        if chop.get(cut) is None:
                            chop[cut] = part
                y = end
        chop_ends = [line[1:] for line in cuts]
        return ChopsUpdate(chops, spans, chop_ends)
