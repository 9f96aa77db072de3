"""Benchmark of start-up: from the command to the first frame on a terminal, packbench beside a
minimal Textual app started the same way (#20).

Run from the repository root:

    .venv/bin/python benchmarks/startup.py [--repeat 9] [--db PATH]

Each program runs in a pseudo-terminal of 120×40 (as a packer's terminal would run it), and the
clock stops when the terminal has received the first frame: for the minimal app its one label,
for packbench its first screen ("Opening the pack station…", shown while the database, the
tables and the station load in a worker). A second figure for packbench is the time until the
pack station itself is on the screen with its scan prompt (keys typed before then are kept and
given to the station). Nothing is added to the app for this: the
figures are what a person at the terminal waits. The database is a demo database made once
beforehand (`packbench init --demo`), so the start-up's own work (open the file, check its
migrations, read the station's first data) is in the figure and making demo data is not.
Reported: median and best of N starts each, and the ratio of the medians; beside them the CPU
time the process had used when its marker appeared (all its threads, from the kernel's
/proc/PID/task/*/schedstat), which another engineer's load changes much less than the wall
time, and the load average before and after.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import emit

MINIMAL = """
from textual.app import App
from textual.widgets import Label

class Minimal(App):
    def compose(self):
        yield Label("minimal-app-ready")

Minimal().run()
"""


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by every live thread of process ``pid`` (Linux; 0 elsewhere)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])  # nanoseconds on a CPU
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def first_frame(
    argv: list[str], marker: bytes, env: dict[str, str], timeout: float = 60
) -> tuple[float, float]:
    """Seconds from spawning ``argv`` in a 120×40 pseudo-terminal until ``marker`` is shown,
    and the CPU seconds the process had used by then."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                seen += chunk
                # Textual draws with cursor moves between cells: look at the text alone
                if marker in seen.replace(b"\x1b", b"").replace(b" ", b"") or marker in seen:
                    return time.perf_counter() - start, cpu_seconds(proc.pid)
            elif proc.poll() is not None:
                break
        raise RuntimeError(f"{argv[:3]}: no {marker!r} within {timeout} s: {seen[-300:]!r}")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--db", type=Path, help="a packbench database (default: a new demo one)")
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": tmp,
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "LANG": "C.UTF-8",
            "PACKBENCH_CONFIG": str(Path(tmp) / "none.toml"),
            "PACKBENCH_LOG__FILE": str(Path(tmp) / "pb.log"),
        }
        Path(tmp, "none.toml").write_text("")
        db = args.db or Path(tmp) / "bench.db"
        if args.db is None:
            subprocess.run(
                [py, "-m", "packbench", "init", "--db", str(db), "--demo", "--orders", "200"],
                check=True, env=env, capture_output=True,
            )  # fmt: skip
        script = Path(tmp) / "minimal.py"
        script.write_text(MINIMAL)
        app = [py, "-m", "packbench", "--db", str(db), "--station", "pack", "--terminal", "T1"]
        runs = {
            "minimal Textual app": ([py, str(script)], b"minimal-app-ready"),
            "packbench, first frame": (app, b"Opening"),
            "packbench, station ready": (app, b"Scan"),
        }
        for argv, marker in runs.values():  # warm the file cache and .pyc files once
            first_frame(argv, marker, env)
        times: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        load_before = os.getloadavg()
        for _ in range(args.repeat):  # interleaved, so a busy moment hits both alike
            for name, (argv, marker) in runs.items():
                wall, used = first_frame(argv, marker, env)
                times[name].append(wall)
                cpu[name].append(used)
        load_after = os.getloadavg()
    head = f"{'program':<28}{'median s':>10}{'best s':>10}{'CPU s':>10}"
    print(f"{head}   ({args.repeat} starts each)")
    for name, ts in times.items():
        used = statistics.median(cpu[name])
        print(f"{name:<28}{statistics.median(ts):>10.3f}{min(ts):>10.3f}{used:>10.3f}")
        emit("startup", f"{name}: median", statistics.median(ts) * 1000, "ms")
        emit("startup", f"{name}: CPU median", used * 1000, "ms")
    minimal, ours, ready = (statistics.median(ts) for ts in times.values())
    print(f"first frame, ratio of the medians: {ours / minimal:.2f}x (target <= 2.5x)")
    print(f"station ready, ratio of the medians: {ready / minimal:.2f}x")
    cpu_minimal, cpu_ours, cpu_ready = (statistics.median(ts) for ts in cpu.values())
    print(
        f"CPU ratios: first frame {cpu_ours / cpu_minimal:.2f}x, "
        f"station ready {cpu_ready / cpu_minimal:.2f}x (CPU s is the median CPU time used "
        "by then)"
    )
    print(
        "load average (1, 5, 15 min): before "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + "; after "
        + ", ".join(f"{x:.2f}" for x in load_after)
    )
    emit("startup", "packbench first frame / minimal app (medians)", ours / minimal, "x")
    emit("startup", "packbench station ready / minimal app (medians)", ready / minimal, "x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
