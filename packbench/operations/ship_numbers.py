"""The number series inside the caller's transaction (``SessionNumbers``): a number handed out
commits with the parcel that carries it or not at all, the series only moves forward, and a
number some parcel already carries is skipped; the SSCC series of the shop's GS1 prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlmodel import Session, col, or_, select

from packbench.carriers import SeriesExhausted
from packbench.core.codes import make_sscc
from packbench.data.models import NumberSeries, Parcel
from packbench.data.types import utcnow

if TYPE_CHECKING:
    from packbench.config import ShipSettings


class SessionNumbers:
    """The number series, inside the caller's transaction: what it hands out commits with the
    parcels that carry it, or not at all."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _taken(self, code: str) -> bool:
        return (
            self.session.exec(
                select(Parcel.id).where(
                    or_(col(Parcel.sscc) == code, col(Parcel.tracking_number) == code)
                )
            ).first()
            is not None
        )

    def take(self, series: str, first: int, last: int, render: Callable[[int], str]) -> str:
        row = self.session.get(NumberSeries, series)
        if row is None:
            row = NumberSeries(name=series, next_value=first)
        value = max(row.next_value, first)
        while True:
            if value > last:
                raise SeriesExhausted(
                    f"the number series {series} is used up (range {first}–{last}); "
                    "configure a new range"
                )
            code = render(value)
            value += 1
            if not self._taken(code):
                break
        row.next_value = value
        row.updated_at = utcnow()
        self.session.add(row)
        self.session.flush()
        return code


def sscc_series(ship: ShipSettings) -> tuple[str, int, int, Callable[[int], str]]:
    prefix, ext = ship.gs1_company_prefix, ship.sscc_extension
    width = 16 - len(prefix)
    return (
        f"sscc:{ext}{prefix}",
        1,
        10**width - 1,
        lambda serial: make_sscc(ext, prefix, serial),
    )
