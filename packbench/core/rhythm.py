"""The team's rhythm, as arithmetic: cut-off pace, throughput per hour, where help is needed.

Pure functions over plain values; the operations layer gathers the numbers from the database
and the dashboard shows what comes back. Times are aware datetimes; "today" and the cut-off are
in the bench's own time zone, which the caller passes in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from statistics import median

#: The stations an order passes through, in order, and the statuses that wait for each.
FLOW = ("admin", "pick", "pack", "ship", "post")


def local_day_bounds(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """Start and end of ``now``'s day in the bench's time zone, as aware datetimes."""
    local = now.astimezone(tz)
    start = datetime.combine(local.date(), time(0), tzinfo=tz)
    end = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def at_local(now: datetime, tz: tzinfo, clock: time) -> datetime:
    """Today's ``clock`` time in the bench's time zone (e.g. today's 14:00 cut-off)."""
    return datetime.combine(now.astimezone(tz).date(), clock, tzinfo=tz)


@dataclass(frozen=True)
class Pace:
    """Will the orders that must ship today make it before the shift ends?"""

    must_ship: int  # orders paid before today's cut-off that are not shipped yet
    shipped_today: int
    hours_left: float  # until the end of the shift (0 once it has ended)
    rate_per_hour: float  # orders shipped per hour, over the last ``window``
    needed_per_hour: float  # what it takes to ship ``must_ship`` in ``hours_left``

    @property
    def on_pace(self) -> bool:
        if self.must_ship == 0:
            return True
        if self.hours_left <= 0:
            return False
        return self.rate_per_hour * self.hours_left >= self.must_ship

    @property
    def projected_missed(self) -> int:
        """Orders that will miss the cut-off at the current rate."""
        return max(0, self.must_ship - math.floor(self.rate_per_hour * self.hours_left))


def pace(
    now: datetime,
    *,
    must_ship: int,
    shipped_at: Iterable[datetime],
    shift_end: datetime,
    window: timedelta = timedelta(hours=1),
    day_start: datetime | None = None,
) -> Pace:
    """The pace from the times orders were shipped today (``shipped_at``).

    The rate is measured over the last ``window`` (clipped to the part of it after
    ``day_start``, so the first hour of the day is not diluted by the night).
    """
    if must_ship < 0:
        raise ValueError("must_ship cannot be negative")
    if window <= timedelta(0):
        raise ValueError("window must be positive")
    times = [t for t in shipped_at if t <= now]
    if day_start is not None:
        times = [t for t in times if t >= day_start]
    since = now - window
    if day_start is not None and day_start > since:
        since = day_start
    span_h = (now - since).total_seconds() / 3600
    recent = sum(1 for t in times if t > since)
    rate = recent / span_h if span_h > 0 else 0.0
    hours_left = max(0.0, (shift_end - now).total_seconds() / 3600)
    needed = must_ship / hours_left if hours_left > 0 else math.inf if must_ship else 0.0
    return Pace(
        must_ship=must_ship,
        shipped_today=len(times),
        hours_left=hours_left,
        rate_per_hour=rate,
        needed_per_hour=needed,
    )


def per_hour(times: Iterable[datetime], tz: tzinfo, day_start: datetime) -> list[int]:
    """Counts per local clock hour of the day that starts at ``day_start`` (24 bins)."""
    bins = [0] * 24
    end = day_start + timedelta(days=1)
    for t in times:
        if day_start <= t < end:
            bins[t.astimezone(tz).hour] += 1
    return bins


def chart_hours(
    counts: Sequence[int], now_hour: int, end_hour: int, *, min_hours: int = 8
) -> range:
    """The clock hours a day's chart shows: from the first hour with work (earlier if needed to
    show ``min_hours``) through the hour the shift ends in (``end_hour``, exclusive) or the hour
    running now, whichever is later."""
    last = min(24, max(end_hour, now_hour + 1))
    first = min([h for h, n in enumerate(counts[:24]) if n > 0] + [now_hour])
    return range(max(0, min(first, last - min_hours)), last)


BLOCKS = " ▁▂▃▄▅▆▇█"


def bar_cells(value: float, top: float, height: int) -> list[str]:
    """A vertical bar of ``value`` on a scale where ``top`` fills ``height`` cells, as one
    character per cell from the bottom up, in eighths of a cell. Any value above zero shows
    at least an eighth, so one order is never drawn as none."""
    if height <= 0:
        raise ValueError("height must be positive")
    if value <= 0 or top <= 0:
        return [" "] * height
    eighths = max(1, round(min(value, top) / top * height * 8))
    cells = []
    for _ in range(height):
        take = min(8, eighths)
        cells.append(BLOCKS[take])
        eighths -= take
    return cells


def median_minutes(durations: Iterable[timedelta]) -> float | None:
    values = [d.total_seconds() / 60 for d in durations if d >= timedelta(0)]
    return round(median(values), 1) if values else None


@dataclass(frozen=True)
class StationLoad:
    station: str
    waiting: int  # orders waiting for this station (or being worked on there)
    people: int  # people signed in at this station now
    done_last_hour: int  # orders that left this station in the last hour


@dataclass(frozen=True)
class Advice:
    station: str
    severity: str  # "warn" | "info"
    message: str


#: A station whose queue would take longer than this to clear at its pace is backed up.
BACKED_UP_HOURS = 1.0
#: Without a measured pace, one person clears this many orders an hour.
DEFAULT_RATE = 12


def _hours_to_clear(load: StationLoad, default_rate: int) -> float:
    if load.waiting == 0:
        return 0.0
    rate = load.done_last_hour or load.people * default_rate
    return math.inf if rate == 0 else load.waiting / rate


def where_help_is_needed(
    loads: Sequence[StationLoad],
    *,
    backed_up_hours: float = BACKED_UP_HOURS,
    default_rate: int = DEFAULT_RATE,
) -> list[Advice]:
    """Say which stations need hands and who could move there.

    A station with work and nobody there needs someone; a station whose queue would take more
    than ``backed_up_hours`` to clear is backed up; a station with people and nothing to do is
    idle, and its people are the first to move. Stations are named in the order of the flow.
    """
    by_name: Mapping[str, StationLoad] = {load.station: load for load in loads}
    ordered = [by_name[s] for s in FLOW if s in by_name] + [
        load for load in loads if load.station not in FLOW
    ]
    idle = [load for load in ordered if load.people > 0 and load.waiting == 0]
    advice: list[Advice] = []
    needy: list[tuple[float, StationLoad]] = []
    for load in ordered:
        if load.waiting == 0:
            continue
        hours = _hours_to_clear(load, default_rate)
        if load.people == 0:
            advice.append(
                Advice(
                    load.station,
                    "warn",
                    f"{load.station}: {_orders(load.waiting)} waiting and nobody there",
                )
            )
            needy.append((hours, load))
        elif hours > backed_up_hours:
            advice.append(
                Advice(
                    load.station,
                    "warn",
                    f"{load.station}: {_orders(load.waiting)} waiting, about "
                    f"{_fmt_hours(hours)} to clear with {load.people} "
                    f"{'person' if load.people == 1 else 'people'} there",
                )
            )
            needy.append((hours, load))
    needy.sort(
        key=lambda pair: (-pair[0], FLOW.index(pair[1].station) if pair[1].station in FLOW else 99)
    )
    for (_, load), spare in zip(needy, idle, strict=False):
        advice.append(
            Advice(
                load.station,
                "info",
                f"move someone from {spare.station} (nothing waiting) to {load.station}",
            )
        )
    return advice


def _orders(n: int) -> str:
    return f"{n} order" if n == 1 else f"{n} orders"  # "1 orders waiting" read wrong


def _fmt_hours(hours: float) -> str:
    if math.isinf(hours):
        return "forever"
    minutes = round(hours * 60)
    return f"{minutes} min" if minutes < 90 else f"{hours:.1f} h"
