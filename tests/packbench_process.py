"""`python -m packbench …` run as a person runs it: its own process, its own arguments,
environment, umask, standard input and output, and its exit status — for half the CPU.

Each command starts by importing SQLAlchemy, SQLModel, pydantic and the rest: about 0.5 s of
CPU of the 0.8–1 s a short command takes here, paid again by each of the ~190 commands the tests
run. So the commands are forked from a server process that has imported those libraries once
(0.3–0.45 s a command then); the child runs ``python -m packbench`` as the interpreter would
(``runpy``, ``packbench/__main__.py``), imports packbench itself as a fresh process does, and
exits as an interpreter does (atexit, then its objects closed: SQLite folds its WAL back into
the file) with the command's status. Only libraries are imported beforehand, not packbench, so
a packbench module that forgets an import, or imports in a circle, fails here as for a person.

``PACKBENCH_TEST_EXEC=1`` runs every command as a new interpreter instead (``subprocess.run``),
for a run that also covers the interpreter's own start; tests that signal, time or read
a running command (``serve``, the kill-9 tests) start it with ``subprocess.Popen`` anyway.
"""

from __future__ import annotations

import atexit
import json
import locale
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

EXEC = os.environ.get("PACKBENCH_TEST_EXEC") == "1"

# What the commands import before they do anything (python -X importtime -m packbench ...): the
# libraries only. Importing them runs nothing of a command's, and none of them reads the
# environment or the working directory when imported.
PRELOAD = [
    "asyncio",
    "email.message",
    "tomllib",
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite",
    "sqlmodel",
    "pydantic",
    "alembic.command",
    "alembic.config",
    "alembic.runtime.migration",
    "alembic.script",
    "rich.console",
    "rich.table",
    "httpx",
    "reportlab.pdfgen.canvas",
]
ROOT = Path(__file__).resolve().parent.parent
# The server: imports the libraries, then for each request (a JSON line on its standard input)
# forks a child that runs the command, answers with the child's pid, waits for it and answers
# with its exit status. One command at a time; run_packbench starts another server for a command
# run while one is busy.
SERVER = f"""
import json, os, sys
sys.path.insert(0, {str(ROOT)!r})
for name in {PRELOAD!r}:
    __import__(name)
from tests.packbench_process import _child
import gc; gc.freeze()
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            code = _child(**request)
        except BaseException:
            os._exit(70)  # never back into this loop
        sys.exit(code)  # an interpreter's exit: atexit, then objects closed (SQLite's WAL too)
    print(json.dumps({{"pid": pid}}), flush=True)
    _, status, usage = os.wait4(pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({{"status": os.waitstatus_to_exitcode(status), "cpu": cpu}}), flush=True)
"""


def _interpreter_env(env: Mapping[str, str]) -> dict[str, str]:
    """What the interpreter reads of the environment as it starts (PYTHONPATH, PYTHONUTF8, the
    locale, ...): a command given other values than its server started with is run by a new
    interpreter."""
    return {k: v for k, v in env.items() if k.startswith(("PYTHON", "LC_", "LANG"))}


def _umask() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    raise RuntimeError("no Umask in /proc/self/status")


class _Server:
    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PACKBENCH_")}
        self.interpreter_env = _interpreter_env(env)
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            env=env,
            cwd=ROOT,
            bufsize=0,
        )
        self.buffer = b""

    def send(self, request: dict[str, object]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")

    def answer(self, timeout: float | None) -> dict[str, float] | None:
        """The server's next answer, or None when ``timeout`` passed first."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("the packbench fork server ended")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        answer: dict[str, float] = json.loads(line)
        return answer


_idle: list[_Server] = []
cpu_seconds = 0.0  # the commands' CPU time, user and system, for measuring
_lock = threading.Lock()


def run_packbench(
    *args: str,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run([sys.executable, "-m", "packbench", *args], capture_output=True,
    text=True, env=env or os.environ, input=input, timeout=timeout, cwd=cwd)``: the same
    result, the command in a process of its own; without ``input`` its standard input is empty
    (/dev/null)."""
    argv = [sys.executable, "-m", "packbench", *args]
    full_env = dict(os.environ if env is None else env)
    with _lock:
        server = None if EXEC else _idle.pop() if _idle else _Server()
    if server is not None and server.interpreter_env != _interpreter_env(full_env):
        with _lock:
            _idle.append(server)
        server = None
    if server is None:
        return subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=full_env,
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            timeout=timeout,
            cwd=cwd,
        )
    with tempfile.TemporaryDirectory(prefix="packbench-run-") as tmp:
        paths = [os.path.join(tmp, name) for name in ("stdin", "stdout", "stderr")]
        with open(paths[0], "wb") as f:
            f.write((input or "").encode(locale.getpreferredencoding(False)))
        for path in paths[1:]:
            Path(path).touch()
        workdir = None if cwd is None else os.fspath(cwd)
        request = {"args": list(args), "env": full_env, "cwd": workdir, "paths": paths}
        server.send({**request, "umask": _umask()})
        started = server.answer(None)
        assert started is not None
        finished = server.answer(timeout)
        if finished is None:
            os.kill(int(started["pid"]), signal.SIGKILL)
            server.answer(None)
        stdout, stderr = (_text(path) for path in paths[1:])
    with _lock:
        _idle.append(server)
    if finished is None:
        raise subprocess.TimeoutExpired(argv, timeout, output=stdout, stderr=stderr)
    global cpu_seconds
    cpu_seconds += finished["cpu"]
    return subprocess.CompletedProcess(argv, int(finished["status"]), stdout, stderr)


def _text(path: str) -> str:
    """As subprocess's text mode reads a pipe: the locale's encoding, universal newlines."""
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _stop_servers() -> None:
    with _lock:
        servers, _idle[:] = list(_idle), []
    for server in servers:
        assert server.process.stdin is not None
        server.process.stdin.close()  # the server's loop ends
        server.process.wait(timeout=30)


atexit.register(_stop_servers)


def _child(
    args: list[str], env: dict[str, str], cwd: str | None, umask: int, paths: list[str]
) -> int:  # pragma: no cover - runs in the forked process
    """In the forked process: the standard streams on the files, the environment, directory and
    umask the caller's, then what ``python -m packbench ARGS`` does; returns the exit status."""
    import io
    import runpy
    import traceback

    for fd, (path, flags) in enumerate(
        zip(paths, (os.O_RDONLY, os.O_WRONLY | os.O_TRUNC, os.O_WRONLY | os.O_TRUNC), strict=True)
    ):
        opened = os.open(path, flags)
        os.dup2(opened, fd)
        os.close(opened)
    encoding = locale.getpreferredencoding(False)
    # As the interpreter makes them when the streams are files or pipes: stdout block-buffered,
    # stderr line-buffered ("backslashreplace"), stdin strict.
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=encoding)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding=encoding)
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False),
        encoding=encoding,
        errors="backslashreplace",
        line_buffering=True,
    )
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    os.environ.clear()
    os.environ.update(env)
    os.umask(umask)
    if cwd is not None:
        os.chdir(cwd)
    sys.argv = ["-m", *args]
    # As the interpreter would have it for ``python -m packbench ARGS``: a command that starts
    # the app re-runs itself from it (packbench.heap), and must re-run that, not this server.
    sys.orig_argv = [sys.executable, "-m", "packbench", *args]
    code: int = 0
    try:
        runpy.run_module("packbench", run_name="__main__", alter_sys=True)
    except SystemExit as exc:  # as the interpreter treats it
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:  # an uncaught error: its traceback, status 1
        traceback.print_exc()
        code = 1
    return code
