"""Bench scales (#16): a scale's readings over a serial or USB-serial port, built like shop/.

``base`` is the interface (a port that gives lines; ``follow`` turns them into readings), the
``serialport`` adapter reads a tty with termios (no extra dependency), ``demo`` is a scale that
writes its lines into a pseudo-terminal, ``factory`` makes the configured one. What a line
means and which reading is a parcel's weight is pure logic: ``packbench.core.scale``.
"""

from packbench.scale.base import ScaleError, ScalePort, follow

__all__ = ["ScaleError", "ScalePort", "follow"]
