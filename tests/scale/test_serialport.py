"""The scale adapter on a real pseudo-terminal pair: what a USB-serial scale's cable gives."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import tty

import pytest

from packbench.config import load_settings
from packbench.core.scale import Reading
from packbench.scale.base import ScaleError, follow
from packbench.scale.demo import DemoScale
from packbench.scale.factory import make_scale
from packbench.scale.serialport import SerialScale, termios_attrs


@pytest.fixture
def pty_pair():  # type: ignore[no-untyped-def]
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave), slave
    for fd in (master, slave):
        with contextlib.suppress(OSError):
            os.close(fd)


def test_lines_in_any_ending_and_in_pieces(pty_pair) -> None:  # type: ignore[no-untyped-def]
    master, path, _ = pty_pair
    os.write(master, b"ST,GS,  0.100kg\r\n")  # sent before the port was opened: not this parcel
    scale = SerialScale(path)
    scale.open()
    try:
        assert scale.readline(0.1) is None
        os.write(master, b"ST,GS,  0.9")
        assert scale.readline(0.1) is None  # half a line is no line
        os.write(master, b"35kg\r\nS S     100.00 g\r  1.250 kg\n\r\n")
        assert scale.readline(1) == "ST,GS,  0.935kg"
        assert scale.readline(1) == "S S     100.00 g"
        assert scale.readline(1) == "  1.250 kg"
        assert scale.readline(0.1) is None  # empty lines are skipped
        os.write(master, b"\xff" * 600 + b"ST,GS,  0.400kg\r\n")  # a wrong baud rate's noise
        os.write(master, b"ST,GS,  0.500kg\r\n")
        assert scale.readline(1) == "ST,GS,  0.500kg"  # the noisy line is dropped whole
    finally:
        scale.close()
        scale.close()  # twice is fine


def test_the_port_is_set_as_configured(pty_pair) -> None:  # type: ignore[no-untyped-def]
    import termios

    _, path, slave = pty_pair
    scale = SerialScale(path, baud=2400, bytesize=7, parity="E", stopbits=2)
    scale.open()
    try:
        iflag, _, _, lflag, ispeed, ospeed, _ = termios.tcgetattr(slave)
        assert ispeed == ospeed == termios.B2400
        assert not lflag & termios.ICANON and not lflag & termios.ECHO
        assert not iflag & termios.ICRNL  # a CR stays a CR
    finally:
        scale.close()
    # The frame (Linux's pty keeps the speed but not the frame bits; a real UART keeps both).
    _, _, cflag, _, _, _, cc = termios_attrs(termios.tcgetattr(slave), 2400, 7, "E", 2)
    assert cflag & termios.CSIZE == termios.CS7
    assert cflag & termios.PARENB and not cflag & termios.PARODD
    assert cflag & termios.CSTOPB and cflag & termios.CLOCAL
    assert cc[termios.VMIN] == 0
    _, _, cflag, _, _, _, _ = termios_attrs(termios.tcgetattr(slave), 9600, 8, "O", 1)
    assert cflag & termios.CSIZE == termios.CS8 and cflag & termios.PARODD
    assert not cflag & termios.CSTOPB
    assert scale.name == f"{path} at 2400 baud, 7E2"
    with pytest.raises(ScaleError, match="no baud rate"):
        SerialScale(path, baud=12345)
    with pytest.raises(ScaleError, match="no serial frame"):
        SerialScale(path, parity="X")


def test_a_polled_scale_is_asked(pty_pair) -> None:  # type: ignore[no-untyped-def]
    master, path, _ = pty_pair
    scale = SerialScale(path, poll=b"SI\r\n", poll_interval_s=0.05)
    scale.open()
    try:
        assert scale.readline(0.2) is None
        asked = os.read(master, 100)
        assert asked.startswith(b"SI\r\n") and asked.count(b"SI\r\n") >= 2
    finally:
        scale.close()


def test_errors_in_one_line(tmp_path, pty_pair) -> None:  # type: ignore[no-untyped-def]
    missing = SerialScale(str(tmp_path / "ttyUSB0"))
    with pytest.raises(ScaleError, match=r"ttyUSB0 cannot be opened: No such file"):
        missing.open()
    plain = tmp_path / "notatty"
    plain.write_text("x")
    with pytest.raises(ScaleError, match="is no serial port"):
        SerialScale(str(plain)).open()
    master, path, slave = pty_pair
    scale = SerialScale(path)
    scale.open()
    os.close(master)  # the cable pulled
    os.close(slave)
    with pytest.raises(ScaleError, match="has gone"):
        for _ in range(20):
            scale.readline(0.05)
    scale.close()


def test_follow_reads_the_demo_scale_and_says_when_it_goes() -> None:
    readings: list[Reading] = []
    states: list[str | None] = []
    stop = threading.Event()
    demo = DemoScale(interval_s=0.02, unstable_readings=2).start()
    demo.put(935)
    reader = threading.Thread(
        target=follow,
        args=(SerialScale(demo.path), readings.append, stop),
        kwargs={"on_state": states.append, "retry_s": 0.05},
    )
    reader.start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(r.stable for r in readings):
            time.sleep(0.02)
        stable = [r for r in readings if r.stable]
        assert stable and stable[0].grams == 935 and stable[0].unit == "kg"
        assert states == []  # nothing to say while it reads
        demo.close()  # unplugged: said once, and tried again meanwhile
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not states:
            time.sleep(0.02)
        time.sleep(0.2)  # several retries
        assert len(states) == 1 and states[0] is not None
        assert "has gone" in states[0] or "cannot be opened" in states[0]
    finally:
        stop.set()
        reader.join(timeout=5)
        demo.close()
    assert not reader.is_alive()


def test_the_factory_reads_the_configuration() -> None:
    base = load_settings(None, db="unused.db")
    assert make_scale(base.pack) is None
    pack = base.pack.model_copy(
        update={"scale": "/dev/ttyUSB0", "scale_baud": 4800, "scale_poll": "Q\r\n"}
    )
    scale = make_scale(pack)
    assert isinstance(scale, SerialScale)
    assert (scale.path, scale.baud, scale.poll) == ("/dev/ttyUSB0", 4800, b"Q\r\n")


def test_packbench_demo_scale_takes_weights_from_stdin() -> None:
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "packbench", "demo-scale", "--interval", "0.05"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        first = proc.stdout.readline()
        assert first.startswith("demo scale on /dev/") and '[pack] scale = "' in first
        path = first.split()[3].rstrip(":")
        scale = SerialScale(path)
        scale.open()
        proc.stdin.write("heavy\n1.25kg\n")
        proc.stdin.flush()
        assert "not a weight: 'heavy'" in proc.stdout.readline()
        assert proc.stdout.readline().strip() == "on the scale: 1250 g"
        seen = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            line = scale.readline(0.2)
            if line and line.startswith("ST") and "1.250kg" in line:
                break
            seen.append(line)
        else:
            pytest.fail(f"no stable 1.250 kg reading: {seen}")
        scale.close()
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        assert proc.wait(timeout=10) == 0
