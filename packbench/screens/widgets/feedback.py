"""The station's feedback line: what the last scan did, in the colour of its kind."""

from __future__ import annotations

import logging
from typing import ClassVar

from textual.css.parse import parse_declarations
from textual.css.styles import Styles
from textual.widgets import Static

from packbench.screens.plain import plain

KINDS = ("ok", "info", "error")

log = logging.getLogger(__name__)


class FeedbackLine(Static):
    """Three lines under the station's view: ``ok`` green, ``info`` plain, ``error`` red and bold;
    while the station flashes an error, reversed on red.

    The kind's colours are inline styles, not CSS classes. A class change makes Textual apply
    the whole stylesheet to the widget again (about 1–2 ms, measured with ``benchmarks/volume.py``
    on every scan whose kind differs from the one before, e.g. a wrong item after a good one);
    inline colours only repaint. They are read from the theme's variables, like the CSS would.
    """

    DEFAULT_CSS = "FeedbackLine { height: 3; padding: 0 1; content-align: left middle; }"

    #: Each kind's look, in CSS with the theme's variables.
    LOOKS: ClassVar[dict[str, str]] = {
        "ok": "background: $success 30%;",
        "info": "background: $panel;",
        "error": "background: $error; color: $text; text-style: bold;",
        "flash": "background: $error; color: $text; text-style: bold reverse;",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.kind = ""
        self.flashing = False
        self._looks: tuple[str, dict[str, Styles]] | None = None

    def show(self, kind: str, message: str) -> None:
        """Say ``message`` as it is (it quotes scanned codes and the shop's words: no markup)."""
        if (
            kind not in KINDS
        ):  # a slip of the code: say it plainly rather than take the station down
            log.warning("feedback kind %r is none of %s; shown as info", kind, KINDS)
            kind = "info"
        self.update(plain(message), layout=False)  # a fixed height: no layout needed
        if kind != self.kind:
            self.kind = kind
            self._restyle()

    def flash(self, on: bool) -> None:
        if on != self.flashing:
            self.flashing = on
            self._restyle()

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda _: self._restyle(), init=False)

    def _restyle(self) -> None:
        if not self.is_mounted:
            return
        look = self._look("flash" if self.flashing else self.kind or "info")
        inline = self.styles.inline
        for rule in list(inline.get_rules()):
            inline.clear_rule(rule)
        inline.merge(look)
        self.refresh()

    def _look(self, name: str) -> Styles:
        theme = self.app.theme
        if self._looks is None or self._looks[0] != theme:
            variables = self.app.get_css_variables()

            def resolved(css: str) -> str:
                # Longest names first: $text-muted must not be read as $text + "-muted".
                for var in sorted(variables, key=len, reverse=True):
                    css = css.replace(f"${var}", variables[var])
                return css

            looks = {}
            for kind, css in self.LOOKS.items():
                look = parse_declarations(resolved(css), read_from=("FeedbackLine", kind))
                flags = look.get_rule("text_style", None)
                if isinstance(flags, str):  # kept as written by the parser: made a style here
                    look.text_style = flags
                looks[kind] = look
            self._looks = (theme, looks)
        return self._looks[1][name]
