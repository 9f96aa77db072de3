"""Who is acting: passed explicitly to every operation.

Its own module, importing nothing of the database, so the app can know who is at the terminal
before the ORM and the tables are loaded (after the first frame, #20).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is acting, at which station and terminal. Passed explicitly to every operation."""

    station: str
    terminal: str
    packer_id: int | None = None
    packer_name: str | None = None
    role: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.packer_id is not None

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def as_packer(self, packer_id: int, name: str, role: str) -> Actor:
        return Actor(self.station, self.terminal, packer_id, name, role)

    def at_station(self, station: str) -> Actor:
        return Actor(station, self.terminal, self.packer_id, self.packer_name, self.role)
