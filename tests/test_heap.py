"""The app's command re-runs itself once with its objects on huge pages, where the machine
has them, and only then (#20)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from packbench.cli import COMMANDS
from packbench.heap import MARK, SWITCH, THP_MODE, huge_pages_env
from packbench.start import NOT_THE_APP, runs_the_app

MADVISE = "always [madvise] never"


def test_the_environment_of_the_rerun() -> None:
    env = huge_pages_env({"PATH": "/bin"}, thp_mode=MADVISE, glibc="glibc 2.36")
    assert env == {
        "PATH": "/bin",
        MARK: "1",
        "PYTHONMALLOC": "malloc",
        "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1",
    }
    kept = huge_pages_env(
        {"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"},
        thp_mode="[always] madvise never",
        glibc="glibc 2.35",
    )
    assert kept is not None
    assert kept["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
    chosen = huge_pages_env(
        {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}, thp_mode=MADVISE, glibc="glibc 2.36"
    )
    assert chosen is not None and chosen["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=0"


@pytest.mark.parametrize(
    ("env", "thp_mode", "glibc"),
    [
        ({SWITCH: "0"}, MADVISE, "glibc 2.36"),  # switched off
        ({MARK: "1"}, MADVISE, "glibc 2.36"),  # the re-run itself
        ({"PYTHONMALLOC": "debug"}, MADVISE, "glibc 2.36"),  # someone chose an allocator
        ({}, "always madvise [never]", "glibc 2.36"),  # no transparent huge pages
        ({}, "", "glibc 2.36"),  # no such file
        ({}, MADVISE, "glibc 2.34"),  # a glibc without the tunable
        ({}, MADVISE, ""),  # not glibc (musl)
        ({}, MADVISE, "glibc x.y"),
    ],
)
def test_no_rerun(env: dict[str, str], thp_mode: str, glibc: str) -> None:
    assert huge_pages_env(env, thp_mode=thp_mode, glibc=glibc) is None


def test_the_commands_that_are_not_the_app_are_the_command_lines_own() -> None:
    assert (set(COMMANDS) - {"demo"}) | {"demo-shop", "demo-carrier", "demo-scale"} == NOT_THE_APP


@pytest.mark.parametrize(
    ("args", "app"),
    [
        ([], True),
        (["--db", "x.db", "--station", "pack"], True),
        (["demo"], True),
        (["--db", "x.db", "demo", "--no-scale"], True),
        (["init", "--demo"], False),
        (["--db", "x.db", "sync", "once"], False),
        (["demo-shop", "--port", "0"], False),
        (["serve"], False),
    ],
)
def test_which_command_lines_start_the_app(args: list[str], app: bool) -> None:
    assert runs_the_app(args) is app


PROBE = """
import os
from packbench.heap import MARK, on_huge_pages, rerun_on_huge_pages
if not os.environ.get(MARK):
    print("first", os.getpid(), flush=True)
rerun_on_huge_pages()
objects = [[i] for i in range(400_000)]  # some 40 MB of small objects
rollup = open("/proc/self/smaps_rollup").read()
huge = next(int(l.split()[1]) for l in rollup.splitlines() if l.startswith("AnonHugePages:"))
print("then", os.getpid(), on_huge_pages(), huge, flush=True)
"""


def probe(env: dict[str, str]) -> list[str]:
    """What PROBE prints, run as a command of its own with ``env``."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.skipif(sys.platform != "linux", reason="huge pages are Linux's")
def test_the_rerun_is_the_same_process_with_its_objects_on_huge_pages() -> None:
    env = {k: v for k, v in os.environ.items() if k not in (MARK, SWITCH, "PYTHONMALLOC")}
    out = probe(env)
    thp_mode = THP_MODE.read_text() if THP_MODE.exists() else ""
    expected = huge_pages_env(env, thp_mode=thp_mode, glibc=os.confstr("CS_GNU_LIBC_VERSION") or "")
    if expected is None:  # this machine has no huge pages for it: the command runs on as it is
        assert out[:1] == ["first"] and out[3:5] == [out[1], "False"]
        return
    first, pid, then, again, on, huge_kb = out
    assert (first, then) == ("first", "then")
    assert again == pid, "the re-run must be the same process (its pid is in lock files and logs)"
    assert on == "True"
    assert int(huge_kb) > 0, "glibc put none of the objects on huge pages"


def test_switched_off_there_is_no_rerun() -> None:
    env = {**os.environ, SWITCH: "0"}
    env.pop(MARK, None)
    env.pop("PYTHONMALLOC", None)
    out = probe(env)
    assert out[0] == "first" and out[3:5] == [out[1], "False"]


def test_an_app_command_line_forked_by_the_tests_reruns_as_the_real_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The tests' fork server (tests/packbench_process.py) runs ``python -m packbench ARGS`` in
    a forked process: a command line that starts the app re-runs from that command, not from
    the server, and ends as the real command does."""
    from tests.packbench_process import run_packbench

    env = {k: v for k, v in os.environ.items() if k not in (MARK, SWITCH, "PYTHONMALLOC")}
    args = ("--db", str(tmp_path / "no" / "such" / "dir" / "x.db"), "--station", "nowhere")
    forked = run_packbench(*args, env=env, timeout=60)
    real = subprocess.run(
        [sys.executable, "-m", "packbench", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        real.returncode,
        real.stdout,
        real.stderr,
    )
    assert forked.returncode == 2 and "nowhere" in forked.stderr, forked.stderr
