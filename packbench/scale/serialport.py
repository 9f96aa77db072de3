"""A scale on a serial or USB-serial port (``/dev/ttyUSB0``, ``/dev/ttyACM0``, ``/dev/ttyS0``).

Read with the operating system's own tty interface (termios), so no serial library is needed:
raw mode, the configured baud rate, data bits, parity and stop bits, no flow control, and
anything the scale sent before the port was opened thrown away (an old reading is not this
parcel's weight). A scale that sends only when asked gets ``poll`` (e.g. ``SI\\r\\n`` for
MT-SICS, ``Q\\r\\n`` for A&D) every ``poll_interval_s``. Lines end in CR, LF or both.
"""

from __future__ import annotations

import errno
import os
import select
import termios
import time
from typing import Any

from packbench.scale.base import ScaleError, ScalePort

#: A line longer than this without a terminator is noise (a wrong baud rate): dropped.
MAX_LINE = 256
_BITS = {5: termios.CS5, 6: termios.CS6, 7: termios.CS7, 8: termios.CS8}


def termios_attrs(
    current: list[Any], baud: int, bytesize: int, parity: str, stopbits: int
) -> list[Any]:
    """``current`` (``tcgetattr``) made raw, with the frame and speed asked for."""
    iflag, oflag, cflag, lflag, _ispeed, _ospeed, cc = current
    iflag &= ~(
        termios.IGNBRK
        | termios.BRKINT
        | termios.PARMRK
        | termios.ISTRIP
        | termios.INLCR
        | termios.IGNCR
        | termios.ICRNL
        | termios.IXON
        | termios.IXOFF
        | termios.IXANY
    )
    oflag &= ~termios.OPOST
    lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    cflag &= ~(termios.CSIZE | termios.PARENB | termios.PARODD | termios.CSTOPB)
    cflag &= ~getattr(termios, "CRTSCTS", 0)
    cflag |= _BITS[bytesize] | termios.CREAD | termios.CLOCAL
    if parity != "N":
        cflag |= termios.PARENB | (termios.PARODD if parity == "O" else 0)
    if stopbits == 2:
        cflag |= termios.CSTOPB
    cc = list(cc)
    cc[termios.VMIN] = 0
    cc[termios.VTIME] = 0
    speed = getattr(termios, f"B{baud}")
    return [iflag, oflag, cflag, lflag, speed, speed, cc]


class SerialScale(ScalePort):
    def __init__(
        self,
        path: str,
        *,
        baud: int = 9600,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: int = 1,
        poll: bytes = b"",
        poll_interval_s: float = 0.5,
    ) -> None:
        if not hasattr(termios, f"B{baud}"):
            raise ScaleError(f"{baud} is no baud rate this system knows")
        if bytesize not in _BITS or parity.upper() not in ("N", "E", "O") or stopbits not in (1, 2):
            raise ScaleError(f"{bytesize}{parity}{stopbits} is no serial frame (e.g. 8N1, 7E1)")
        self.path = path
        self.baud = baud
        self.bytesize = bytesize
        self.parity = parity.upper()
        self.stopbits = stopbits
        self.poll = poll
        self.poll_interval_s = poll_interval_s
        self.name = f"{path} at {baud} baud, {bytesize}{self.parity}{stopbits}"
        self._fd: int | None = None
        self._buffer = b""
        self._noise = False  # the line being read began as noise
        self._polled = 0.0

    def open(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError as exc:
            raise ScaleError(f"the scale at {self.path} cannot be opened: {exc.strerror}") from exc
        try:
            self._configure(fd)
        except (OSError, termios.error) as exc:
            os.close(fd)
            raise ScaleError(f"{self.path} is no serial port: {exc}") from exc
        self._fd = fd
        self._buffer, self._noise = b"", False
        self._polled = 0.0

    def _configure(self, fd: int) -> None:
        attrs = termios_attrs(
            termios.tcgetattr(fd), self.baud, self.bytesize, self.parity, self.stopbits
        )
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        termios.tcflush(fd, termios.TCIFLUSH)

    def readline(self, timeout_s: float) -> str | None:
        fd = self._fd
        if fd is None:
            raise ScaleError("the scale's port is not open")
        deadline = time.monotonic() + timeout_s
        while True:
            line = self._take_line()
            if line is not None:
                return line
            now = time.monotonic()
            if self.poll and now - self._polled >= self.poll_interval_s:
                self._polled = now
                try:
                    os.write(fd, self.poll)
                except BlockingIOError:
                    pass
                except OSError as exc:
                    raise ScaleError(f"the scale at {self.path} has gone: {exc.strerror}") from exc
            left = deadline - now
            if left <= 0:
                return None
            wait = min(left, self.poll_interval_s) if self.poll else left
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 512)
            except BlockingIOError:
                continue
            except OSError as exc:  # EIO: a USB scale unplugged, a pty's other end closed
                why = "disconnected" if exc.errno == errno.EIO else exc.strerror
                raise ScaleError(f"the scale at {self.path} has gone: {why}") from exc
            if not chunk:
                raise ScaleError(f"the scale at {self.path} has gone: end of file")
            self._buffer += chunk

    def _take_line(self) -> str | None:
        while True:
            cut = [i for i in (self._buffer.find(b"\r"), self._buffer.find(b"\n")) if i >= 0]
            if not cut:
                if len(self._buffer) > MAX_LINE:  # noise: dropped, up to the next line end
                    self._buffer, self._noise = b"", True
                return None
            end = min(cut)
            raw, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
            noise, self._noise = self._noise, False
            if raw.strip() and not noise and len(raw) <= MAX_LINE:
                return raw.decode("ascii", "replace")

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
