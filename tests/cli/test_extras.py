"""The optional parts (pyproject's extras): a command whose part is missing says what to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from packbench.cli.common import missing_extra


def _run_without(modules: list[str], argv: list[str], tmp_path) -> subprocess.CompletedProcess[str]:
    """packbench's CLI in a fresh interpreter where ``modules`` cannot be imported."""
    code = textwrap.dedent(
        f"""
        import sys
        for name in {modules!r}:
            sys.modules[name] = None  # import raises ModuleNotFoundError naming it
        from packbench.cli import main
        raise SystemExit(main({argv!r}))
        """
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path / "d")}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    ("modules", "argv", "extra"),
    [
        (["starlette"], ["demo-shop", "--help"], "demo"),
        (["starlette"], ["demo-carrier", "--help"], "demo"),
        (["textual_serve", "aiohttp"], ["serve", "--db", "{db}"], "serve"),
    ],
)
def test_a_missing_optional_part_is_named_with_what_to_install(tmp_path, modules, argv, extra):
    db = tmp_path / "bench.db"
    argv = [a.replace("{db}", str(db)) for a in argv]
    done = _run_without(modules, argv, tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"optional part '{extra}'" in done.stderr
    assert f".[{extra}]" in done.stderr
    assert "Traceback" not in done.stderr


def test_other_missing_modules_are_not_mistaken_for_an_extra():
    assert missing_extra(ModuleNotFoundError("No module named 'nosuch'", name="nosuch")) is None
    assert missing_extra(ValueError("x")) is None
    hint = missing_extra(ModuleNotFoundError("x", name="uvicorn.config"))
    assert hint is not None and "'demo'" in hint
