from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packbench.core.rhythm import (
    StationLoad,
    at_local,
    local_day_bounds,
    median_minutes,
    pace,
    per_hour,
    where_help_is_needed,
)

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 27, 11, 30, tzinfo=UTC)  # 12:30 in Oslo


def test_local_day_follows_the_bench_time_zone() -> None:
    start, end = local_day_bounds(datetime(2026, 11, 26, 23, 30, tzinfo=UTC), OSLO)
    # 23:30 UTC is already 00:30 on the 27th in Oslo.
    assert start == datetime(2026, 11, 27, 0, 0, tzinfo=OSLO)
    assert end - start == timedelta(days=1)
    assert at_local(NOW, OSLO, time(14)) == datetime(2026, 11, 27, 13, 0, tzinfo=UTC)


def test_pace_on_and_off() -> None:
    shift_end = at_local(NOW, OSLO, time(16))  # 3.5 h left
    shipped = [NOW - timedelta(minutes=m) for m in range(0, 60, 6)]  # 10 in the last hour
    good = pace(NOW, must_ship=30, shipped_at=shipped, shift_end=shift_end)
    assert good.rate_per_hour == pytest.approx(10)
    assert good.hours_left == pytest.approx(3.5)
    assert good.on_pace and good.projected_missed == 0
    bad = pace(NOW, must_ship=50, shipped_at=shipped, shift_end=shift_end)
    assert not bad.on_pace
    assert bad.projected_missed == 50 - 35
    assert bad.needed_per_hour == pytest.approx(50 / 3.5)


def test_pace_after_the_shift_and_with_nothing_to_ship() -> None:
    late = at_local(NOW, OSLO, time(10))  # the shift ended before now
    assert not pace(NOW, must_ship=1, shipped_at=[], shift_end=late).on_pace
    assert pace(NOW, must_ship=0, shipped_at=[], shift_end=late).on_pace


def test_pace_early_in_the_day_is_not_diluted() -> None:
    day_start = NOW - timedelta(minutes=30)
    shipped = [NOW - timedelta(minutes=5), NOW - timedelta(minutes=10)]
    p = pace(
        NOW,
        must_ship=5,
        shipped_at=shipped,
        shift_end=NOW + timedelta(hours=2),
        day_start=day_start,
    )
    assert p.rate_per_hour == pytest.approx(4)  # 2 in half an hour
    assert p.shipped_today == 2


def test_pace_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        pace(NOW, must_ship=-1, shipped_at=[], shift_end=NOW)
    with pytest.raises(ValueError):
        pace(NOW, must_ship=1, shipped_at=[], shift_end=NOW, window=timedelta(0))


@given(
    st.lists(st.integers(min_value=-3000, max_value=3000), max_size=60),
    st.integers(min_value=0, max_value=200),
    st.integers(min_value=-120, max_value=600),
)
def test_pace_properties(offsets: list[int], must: int, left_min: int) -> None:
    shipped = [NOW + timedelta(minutes=m) for m in offsets]
    p = pace(NOW, must_ship=must, shipped_at=shipped, shift_end=NOW + timedelta(minutes=left_min))
    # Future times are not counted, the rate counts only the last hour.
    assert p.shipped_today == sum(1 for m in offsets if m <= 0)
    assert p.rate_per_hour == sum(1 for m in offsets if -60 < m <= 0)
    assert p.hours_left >= 0
    if p.on_pace:
        assert p.projected_missed == 0
    if must and left_min <= 0:
        assert not p.on_pace


@given(st.lists(st.integers(min_value=-2000, max_value=3000), max_size=80))
def test_per_hour_counts_every_shipment_of_the_day_once(offsets: list[int]) -> None:
    start, end = local_day_bounds(NOW, OSLO)
    times = [NOW + timedelta(minutes=m) for m in offsets]
    bins = per_hour(times, OSLO, start)
    assert len(bins) == 24
    assert sum(bins) == sum(1 for t in times if start <= t < end)


def test_per_hour_bins_by_local_clock() -> None:
    start, _ = local_day_bounds(NOW, OSLO)
    bins = per_hour([NOW, NOW, NOW - timedelta(hours=2)], OSLO, start)
    assert bins[12] == 2 and bins[10] == 1


def test_median_minutes() -> None:
    assert median_minutes([]) is None
    assert median_minutes([timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=9)]) == 4


def test_nobody_at_a_station_with_work() -> None:
    advice = where_help_is_needed(
        [StationLoad("pick", 0, 2, 10), StationLoad("pack", 14, 0, 0), StationLoad("ship", 0, 0, 0)]
    )
    texts = [a.message for a in advice]
    assert "pack: 14 orders waiting and nobody there" in texts
    assert "move someone from pick (nothing waiting) to pack" in texts
    (one,) = where_help_is_needed([StationLoad("post", 1, 0, 0)])
    assert one.message == "post: 1 order waiting and nobody there"  # not "1 orders"


def test_a_backed_up_station_and_a_coping_one() -> None:
    loads = [
        StationLoad("pick", 3, 1, 20),  # 3 waiting at 20/h: fine
        StationLoad("pack", 40, 1, 10),  # 4 h to clear: backed up
        StationLoad("post", 0, 1, 0),  # idle
    ]
    advice = where_help_is_needed(loads)
    assert [a.station for a in advice if a.severity == "warn"] == ["pack"]
    assert "about 4.0 h to clear with 1 person there" in advice[0].message
    assert advice[-1].message == "move someone from post (nothing waiting) to pack"


def test_all_quiet() -> None:
    assert where_help_is_needed([StationLoad("pick", 2, 1, 12), StationLoad("pack", 0, 0, 0)]) == []


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=100),
            st.integers(min_value=0, max_value=5),
            st.integers(min_value=0, max_value=60),
        ),
        min_size=5,
        max_size=5,
    )
)
def test_advice_properties(values: list[tuple[int, int, int]]) -> None:
    loads = [
        StationLoad(s, w, p, d)
        for s, (w, p, d) in zip(("admin", "pick", "pack", "ship", "post"), values, strict=True)
    ]
    advice = where_help_is_needed(loads)
    by = {load.station: load for load in loads}
    for a in advice:
        if a.severity == "warn":
            assert by[a.station].waiting > 0  # never a warning for an empty queue
    moves = [a for a in advice if a.severity == "info"]
    idle = [load for load in loads if load.people and not load.waiting]
    assert len(moves) <= len(idle)
    for a in moves:  # a move always goes from an idle station to a station with a warning
        src = a.message.split("from ")[1].split(" ")[0]
        assert by[src].waiting == 0 and by[src].people > 0
        assert any(w.station == a.station and w.severity == "warn" for w in advice)


def test_the_chart_shows_the_working_hours_through_the_shift_end() -> None:
    from packbench.core.rhythm import chart_hours

    counts = [0] * 24
    counts[7], counts[9] = 3, 5
    assert chart_hours(counts, now_hour=10, end_hour=16) == range(7, 16)
    # Nothing done yet early in the day: at least eight hours, ending with the shift.
    assert chart_hours([0] * 24, now_hour=9, end_hour=16) == range(8, 16)
    # Working late: the hour running now is on the chart.
    assert chart_hours(counts, now_hour=18, end_hour=16) == range(7, 19)
    assert chart_hours(counts, now_hour=23, end_hour=16, min_hours=30) == range(0, 24)


@given(st.integers(0, 500), st.integers(1, 500), st.integers(1, 12))
def test_a_bar_is_as_tall_as_its_value_in_eighths(value: int, top: int, height: int) -> None:
    from packbench.core.rhythm import BLOCKS, bar_cells

    cells = bar_cells(value, top, height)
    assert len(cells) == height
    eighths = sum(BLOCKS.index(c) for c in cells)
    if value == 0:
        assert eighths == 0
    else:
        assert eighths >= 1
        assert abs(eighths - min(value, top) / top * height * 8) <= 1  # rounded to an eighth
    # Filled from the bottom: a cell is only started once those under it are full.
    levels = [BLOCKS.index(c) for c in cells]
    assert all(levels[i] == 8 for i in range(len(levels) - 1) if levels[i + 1] > 0)
