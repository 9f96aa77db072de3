"""Outside text on screen exactly as it is: never read as markup, never a terminal escape.

Names, addresses, notes, product names and SKUs come from the shop, codes from the scanner,
reasons and queue names from people, and error messages quote all of them. Textual reads a plain
``str`` as content markup in ``Static``, ``DataTable`` cells, ``OptionList`` prompts and
``notify``; Rich reads it as console markup in a ``Table`` cell or title (Textual's console has
markup on). Either way ``[/x]`` in a customer's name raised ``MarkupError`` and stopped the app,
``[@click=app.quit]…[/]`` became a clickable action and ``:smile:`` an emoji. So every screen
hands outside text over as a :class:`rich.text.Text` made here: nothing parses it, and the
styles our own code adds are ``style=`` arguments, never markup in a string.

Control characters are shown as escapes (``\\x1b``): an ESC in a name would otherwise reach the
terminal as the start of an escape sequence. The shop adapter already drops them on the way in;
this is the last line. Line breaks and tabs are kept (a customer note has lines).
"""

from __future__ import annotations

import re

from rich.console import RenderableType
from rich.protocol import is_renderable
from rich.style import StyleType
from rich.text import Text

__all__ = ["cells", "plain", "shown"]

# C0 controls but tab and line feed, DEL, C1 controls, and the bidi overrides and isolates
# (which reorder what follows them on screen).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(value: object) -> str:
    """``value`` as text that is safe to draw: control characters as visible escapes."""
    return _UNSAFE.sub(_escape, value if isinstance(value, str) else str(value))


def plain(value: object, style: StyleType = "", **kw: object) -> Text:
    """Outside text as a ``Text`` that is never parsed; ``style`` is our own styling."""
    return Text(shown(value), style=style, **kw)  # type: ignore[arg-type]  # kw are Text's own keyword arguments


def cells(*values: object) -> list[RenderableType]:
    """A table row (Rich ``Table`` or Textual ``DataTable``): each ``str`` (or number) as
    :func:`plain` text; a ``Text`` or other renderable as it is (built without markup)."""
    return [plain(v) if isinstance(v, str) or not is_renderable(v) else v for v in values]  # type: ignore[misc]  # is_renderable narrows at run time only
