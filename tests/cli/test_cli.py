"""The command line, run as a person runs it: a subprocess, its output and its exit status."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.packbench_process import run_packbench


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m packbench ARGS`` in a process of its own (forked: tests/packbench_process.py)."""
    return run_packbench(*args, env={**os.environ, **(env or {})}, timeout=120)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    result = run("init", "--db", str(path), "--demo", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert "demo data loaded" in result.stdout
    return path


def test_init_demo_then_orders_json(demo_file: Path) -> None:
    result = run("orders", "--db", str(demo_file), "--json")
    assert result.returncode == 0, result.stderr
    orders = json.loads(result.stdout)
    assert len(orders) >= 60
    for order in orders:
        assert {"number", "shop_order_id", "status", "shipping", "lines"} <= set(order)
        assert {"name", "address1", "postcode", "city", "country"} <= set(order["shipping"])
        assert order["lines"] and all(
            {"sku", "name", "quantity"} <= set(line) for line in order["lines"]
        )
    statuses = {o["status"] for o in orders}
    assert {"new", "slip_printed", "packed", "handed_over"} <= statuses
    assert any(ch in json.dumps(orders, ensure_ascii=False) for ch in "æøå")


def test_orders_status_filter(demo_file: Path) -> None:
    result = run("orders", "--db", str(demo_file), "--status", "new", "--json")
    orders = json.loads(result.stdout)
    assert orders and {o["status"] for o in orders} == {"new"}
    both = json.loads(
        run(
            "orders", "--db", str(demo_file), "--status", "new", "--status", "packed", "--json"
        ).stdout
    )
    assert {o["status"] for o in both} == {"new", "packed"}
    assert len(both) > len(orders)


def test_orders_table_for_people(demo_file: Path) -> None:
    result = run("orders", "--db", str(demo_file), "--status", "packed")
    assert result.returncode == 0 and "Status" in result.stdout and "packed" in result.stdout


def test_the_database_comes_from_the_environment(demo_file: Path) -> None:
    result = run("orders", "--json", env={"PACKBENCH_DB": str(demo_file)})
    assert result.returncode == 0 and json.loads(result.stdout)


def test_demo_data_into_a_full_database_is_refused(demo_file: Path) -> None:
    result = run("init", "--db", str(demo_file), "--demo")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "already holds" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "needle", "code"),
    [
        (("orders", "--db", "/nonexistent/x.db", "--json"), "no database at", 1),
        (("orders", "--status", "lost", "--json"), "invalid choice", 2),
        (("--station", "kitchen"), "invalid choice", 2),
        (("frobnicate",), "invalid choice", 2),
    ],
)
def test_errors_are_one_clear_line(args: tuple[str, ...], needle: str, code: int) -> None:
    result = run(*args)
    assert result.returncode == code
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_is_one_line_naming_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[scanner]\nlayout = "klingon"\n', encoding="utf-8")
    result = run("config", "show", "--config", str(cfg))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "scanner.layout" in lines[0] and str(cfg) in lines[0]


def test_an_environment_variable_that_is_not_json_is_one_line_naming_it(tmp_path: Path) -> None:
    """Read without pydantic-settings (#20): its SettingsError was a crash's line, exit 1."""
    cfg = tmp_path / "c.toml"
    cfg.write_text("", encoding="utf-8")
    env = {"PACKBENCH_SHOP__PICKUP_POINT_META_KEYS": "pickup_point_id"}
    result = run("config", "show", "--config", str(cfg), env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "packbench: configuration error: environment: PACKBENCH_SHOP__PICKUP_POINT_META_KEYS: "
        'takes JSON here (a table or a list, e.g. \'{"key": "value"}\' or \'["a", "b"]\'): '
        "Expecting value: line 1 column 1 (char 0)"
    ]


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[shop]\nurl = "http://127.0.0.1:8765"\n', encoding="utf-8")
    result = run(
        "config", "show", "--config", str(cfg), env={"PACKBENCH_SHOP_SECRET": "cs_topsecret"}
    )
    assert result.returncode == 0, result.stderr
    assert "cs_topsecret" not in result.stdout and "********" in result.stdout
    assert 'url = "http://127.0.0.1:8765"' in result.stdout
    assert str(cfg) in result.stdout


def test_logs_go_to_a_file_not_the_terminal(tmp_path: Path, demo_file: Path) -> None:
    log = tmp_path / "pb.log"
    result = run(
        "orders",
        "--db",
        str(demo_file),
        "--json",
        "--log-level",
        "debug",
        env={"PACKBENCH_LOG__FILE": str(log)},
    )
    assert result.returncode == 0 and result.stderr == ""
    assert log.exists()


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("packbench ")
