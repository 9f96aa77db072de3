"""The demo servers' shared fault mechanics: the rate window counts only what it lets through."""

from __future__ import annotations

from packbench.loopback_faults import RateWindow


def test_the_rate_window_refuses_the_one_too_many_and_says_how_long_to_wait() -> None:
    now = [100.0]
    window = RateWindow(clock=lambda: now[0])
    assert [window.over(2) for _ in range(2)] == [None, None]
    now[0] = 100.4
    assert window.over(2) == 1  # the third within the second
    assert window.over(2) == 1  # refused requests are not counted...
    now[0] = 101.0
    assert window.over(2) is None  # ...so one that waited as told gets through
    assert window.over(0) is None and window.over(0) is None  # no limit: nothing counted
    assert window.over(1) is None
