"""A bench scale's lines, and when a reading is a parcel's weight (pure: no port, no Textual).

Bench scales with a serial or USB-serial port send one line per reading, in a handful of
families (every manual describes its own; the common shapes):

- ``ST,GS,  0.935kg`` / ``US,GS,+0000.935 kg`` / ``OL,GS,+9999.999 kg`` — A&D, CAS, Dini Argeo
  and many others: *ST* stable, *US* unstable, *OL* overload; *GS* gross, *NT* net, *TR* tare.
- ``S S     100.00 g`` / ``S D     100.00 g`` / ``S +`` — Mettler Toledo's MT-SICS: *S* stable,
  *D* dynamic (unstable), ``+``/``-`` over- and underload, ``I`` not executable.
- ``  0.935 kg`` / ``+2.06 lb`` — a scale set to print only its number and unit (usually when
  the reading is stable, or when its print key is pressed): no mark either way.

:func:`parse_line` reads any of them into grams (kg, g, lb and oz; a decimal comma too) and
whether the scale called the reading stable, unstable or said nothing; anything else (a tare
line, an overload, a status answer, noise) is no reading. :class:`WeightGate` decides which
reading becomes a parcel's weight: only a stable one, each placement once — the same weight
read again is not taken twice until the scale has been unstable or empty in between — and an
unmarked reading counts as stable once it has come ``settle`` times in a row unchanged.

:func:`tolerance_band` is the band a weighed parcel must fall in, the pack station's hint.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: Grams per unit a scale may send.
UNITS: dict[str, float] = {
    "kg": 1000.0,
    "g": 1.0,
    "lb": 453.59237,
    "lbs": 453.59237,
    "oz": 28.349523125,
}

#: The heaviest reading taken as a parcel (a scale's full range is far beyond any parcel).
MAX_GRAMS = 1_000_000

_READING = re.compile(
    r"""^(?P<head>(?:[A-Za-z]{1,2}[\s,]+)*?)      # ST, GS, / S S / nothing
        (?P<sign>[+-])?\s*
        (?P<number>[0-9]+(?:[.,][0-9]+)?|[.,][0-9]+)
        \s*,?\s*(?P<unit>kg|g|lbs|lb|oz)\.?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
#: Marks a reading as stable / unstable (first token of A&D-style lines, second of MT-SICS).
_STABLE = {"ST", "S"}
_UNSTABLE = {"US", "D", "SD"}
#: Lines that are not a parcel's weight: overload, underload, tare, not executable.
_NOT_A_WEIGHT = {"OL", "TR", "I", "UL"}


@dataclass(frozen=True)
class Reading:
    """One line's weight. ``stable``: True/False as the scale marked it, None when unmarked."""

    grams: int
    stable: bool | None
    unit: str


def parse_line(line: str) -> Reading | None:
    """The reading in one line a scale sent, or None when the line holds none (see module)."""
    text = "".join(ch for ch in line if ch.isprintable()).strip()
    if not text or len(text) > 80:
        return None
    m = _READING.match(text)
    if m is None:
        return None
    tokens = [t.upper() for t in re.split(r"[\s,]+", m.group("head")) if t]
    if any(t in _NOT_A_WEIGHT for t in tokens):
        return None
    stable: bool | None = None
    # MT-SICS marks in its second token ("S S …" / "S D …"), the others in their first.
    marks = tokens[1:] if tokens[:1] == ["S"] and len(tokens) >= 2 else tokens
    if any(t in _UNSTABLE for t in marks):
        stable = False
    elif any(t in _STABLE for t in marks):
        stable = True
    number = float(m.group("number").replace(",", "."))
    unit = m.group("unit").lower()
    grams = number * UNITS[unit]
    if m.group("sign") == "-":
        grams = -grams
    if abs(grams) > MAX_GRAMS:
        return None
    return Reading(round(grams), stable, "lb" if unit == "lbs" else unit)


class WeightGate:
    """Which of a scale's readings is a parcel's weight: stable ones, each placement once.

    Feed every reading (:meth:`feed`); :attr:`ready` is a stable weight on the scale that has
    not been taken; :meth:`take` takes it. An unstable reading, or one at or below ``zero_g``
    (the scale emptied), makes the next stable weight new even if it weighs the same; a stable
    weight that differs from the last is new at once (a scale that reports only when stable).
    """

    def __init__(self, *, zero_g: int = 5, settle: int = 2) -> None:
        self.zero_g = zero_g
        self.settle = max(1, settle)
        self._weight: int | None = None  # the stable weight on the scale now
        self._taken = False
        self._run_grams: int | None = None  # unmarked readings: the last one and how many
        self._run = 0

    def feed(self, reading: Reading | None) -> None:
        if reading is None:
            return
        if reading.grams <= self.zero_g or reading.stable is False:
            self._weight, self._taken = None, False
            self._run_grams, self._run = None, 0
            return
        if reading.stable is None:
            if reading.grams == self._run_grams:
                self._run += 1
            else:
                self._run_grams, self._run = reading.grams, 1
            if self._run < self.settle:
                if reading.grams != self._weight:
                    self._weight, self._taken = None, False  # moving: not settled yet
                return
        else:  # a marked reading ends a run of unmarked ones
            self._run_grams, self._run = None, 0
        if reading.grams != self._weight:
            self._weight, self._taken = reading.grams, False

    @property
    def ready(self) -> int | None:
        """The stable weight on the scale not yet taken, or None."""
        return None if self._taken else self._weight

    def take(self) -> int | None:
        """Take the ready weight (None when there is none): it is not ready again until the
        scale has shown something else."""
        grams = self.ready
        if grams is not None:
            self._taken = True
        return grams


def accepted(grams: int, expected_g: int, tolerance_pct: float) -> bool:
    """The pack station's rule: a weight this far off its expected weight needs no confirmation."""
    if expected_g <= 0:
        return False
    return abs(grams - expected_g) / expected_g * 100 <= tolerance_pct


def tolerance_band(expected_g: int, tolerance_pct: float) -> tuple[int, int]:
    """The lightest and heaviest weights (grams) :func:`accepted` takes; (1, 0) when none."""
    if expected_g <= 0:
        return 1, 0
    spread = expected_g * tolerance_pct / 100
    lo, hi = max(1, math.ceil(expected_g - spread)), math.floor(expected_g + spread)
    # The float arithmetic of the rule itself decides the ends, not the one above.
    while lo > 1 and accepted(lo - 1, expected_g, tolerance_pct):
        lo -= 1
    while lo <= expected_g and not accepted(lo, expected_g, tolerance_pct):
        lo += 1
    while accepted(hi + 1, expected_g, tolerance_pct):
        hi += 1
    while hi >= expected_g and not accepted(hi, expected_g, tolerance_pct):
        hi -= 1
    return lo, hi


def band_text(expected_g: int, tolerance_pct: float, *, short: bool = False) -> str:
    """``between 0.90 and 0.97 kg`` (``short``: ``0.90–0.97 kg``): the band, rounded inwards so
    that every weight shown is accepted (in grams when two decimals of a kilogram would not tell
    its ends apart)."""
    lo, hi = tolerance_band(expected_g, tolerance_pct)
    if lo > hi:
        return "—" if short else "no expected weight to check it against"
    lo10, hi10 = math.ceil(lo / 10) * 10, hi // 10 * 10
    a, b, unit = (f"{lo10 / 1000:.2f}", f"{hi10 / 1000:.2f}", "kg")
    if hi10 - lo10 < 20:
        a, b, unit = str(lo), str(hi), "g"
    return f"{a}–{b} {unit}" if short else f"between {a} and {b} {unit}"
