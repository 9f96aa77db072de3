"""The scale interface: a port that gives the lines a scale sends, and the loop that reads it.

A scale is read in a thread of its own, never in a database transaction; what it read reaches
the station as plain :class:`~packbench.core.scale.Reading` values through a callback.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable

from packbench.core.scale import Reading, parse_line

log = logging.getLogger(__name__)


class ScaleError(Exception):
    """The scale cannot be read (no such port, no permission, unplugged): one line, for people."""


class ScalePort(ABC):
    """Where a scale's lines come from."""

    #: What the port is, for messages ("/dev/ttyUSB0 at 9600 baud").
    name: str = "scale"

    @abstractmethod
    def open(self) -> None:
        """Open the port (raises :class:`ScaleError`)."""

    @abstractmethod
    def readline(self, timeout_s: float) -> str | None:
        """The next whole line the scale sent, without its terminator; None when none came
        within ``timeout_s``. Raises :class:`ScaleError` when the port has gone."""

    @abstractmethod
    def close(self) -> None:
        """Close the port; safe to call twice."""


def follow(
    port: ScalePort,
    on_reading: Callable[[Reading], None],
    stop: threading.Event,
    *,
    on_state: Callable[[str | None], None] | None = None,
    retry_s: float = 2.0,
) -> None:
    """Read ``port`` until ``stop`` is set, handing every reading to ``on_reading``.

    A port that cannot be opened, or goes away (a USB scale unplugged), is said once through
    ``on_state`` (the reason; None once it reads again) and tried again every ``retry_s``: the
    bench goes on with typed or scanned weights meanwhile.
    """
    said: str | None = None

    def state(text: str | None) -> None:
        # Once per change between reading and not: "gone", then "cannot be opened" at every
        # retry, is one problem to a person.
        nonlocal said
        if (text is None) != (said is None) and on_state is not None:
            on_state(text)
        said = text

    while not stop.is_set():
        try:
            port.open()
        except ScaleError as exc:
            state(str(exc))
            stop.wait(retry_s)
            continue
        state(None)
        try:
            while not stop.is_set():
                line = port.readline(0.2)
                if line is None:
                    continue
                reading = parse_line(line)
                if reading is not None:
                    on_reading(reading)
        except ScaleError as exc:
            log.warning("scale %s: %s", port.name, exc)
            state(str(exc))
            stop.wait(retry_s)
        finally:
            port.close()
