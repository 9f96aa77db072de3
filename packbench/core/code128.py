"""What a Code 128 barcode can carry, and why an order's number cannot be its slip's barcode.

Slips, labels and manifests print their codes as Code 128 (subset B for text, C for digit
runs): printable ASCII only, from space to ``~``. Anything else — full-width digits (``１２３``),
``Æ``, a control character — has no bars. An order's number comes from the shop (plugins and
imports make numbers of their own), so it is checked where it arrives (the shop adapter refuses
the order) and again where its slip is drawn (an order with such a number is left out of a
batch, by name, instead of stopping the batch for everyone else).

Pure logic, standard library only.
"""

from __future__ import annotations

__all__ = ["MAX_LENGTH", "code128_problem", "order_code_problem"]

#: The longest code we print as one symbol: wider does not fit a slip's or label's width at
#: 3-dot modules (PRINTING.md), and no code of ours or a carrier's is longer.
MAX_LENGTH = 48


def _printable(ch: str) -> bool:
    return " " <= ch <= "~"


def _shown(ch: str) -> str:
    if ch.isprintable() and not ch.isspace():
        return f"“{ch}”"
    return f"U+{ord(ch):04X}"


def code128_problem(data: str) -> str | None:
    """Why ``data`` cannot be printed as a Code 128 barcode, or ``None`` when it can. Worded
    to follow "it": ``f"… cannot be a barcode: it {problem}"``."""
    if not data:
        return "is empty"
    bad: list[str] = []
    for ch in data:
        if not _printable(ch) and ch not in bad:
            bad.append(ch)
    if bad:
        listed = ", ".join(_shown(ch) for ch in bad[:5]) + (", …" if len(bad) > 5 else "")
        return (
            f"has {listed}, which Code 128 cannot carry (only ASCII letters, digits, spaces "
            "and signs)"
        )
    if len(data) > MAX_LENGTH:
        return f"is longer than the {MAX_LENGTH} characters a barcode here can carry"
    return None


def order_code_problem(number: str, prefix: str = "ORD-") -> str | None:
    """Why the slip of the order numbered ``number`` cannot carry its barcode
    (``prefix + number``), or ``None`` when it can; worded like :func:`code128_problem`."""
    if not number:
        return "is empty"
    return code128_problem(prefix + number)
