"""`packbench demo-shop` and `packbench sync` as processes, the way an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import run


@pytest.fixture
def shop_url(tmp_path: Path) -> Iterator[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "packbench",
            "demo-shop",
            "--port",
            "0",
            "--state",
            str(tmp_path / "shop.json"),
            "--key",
            "ck_t",
            "--secret",
            "cs_t",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "demo shop on http://127.0.0.1:PORT (key ck_t)"
    assert line.startswith("demo shop on http://127.0.0.1:"), line
    yield line.split()[3]
    proc.terminate()
    proc.wait(timeout=10)


def test_sync_once_pulls_the_shop(tmp_path: Path, shop_url: str) -> None:
    db = tmp_path / "bench.db"
    assert run("init", "--db", str(db)).returncode == 0
    env = {"PACKBENCH_SHOP_KEY": "ck_t", "PACKBENCH_SHOP_SECRET": "cs_t"}
    result = run("sync", "--db", str(db), "--shop-url", shop_url, "--once", "--products", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sync: pulled ")
    orders = json.loads(run("orders", "--db", str(db), "--json").stdout)
    assert len(orders) > 20 and {o["status"] for o in orders} == {"new"}
    assert all(line["sku"] for o in orders for line in o["lines"])


def test_sync_with_wrong_credentials_is_one_line(tmp_path: Path, shop_url: str) -> None:
    db = tmp_path / "bench.db"
    run("init", "--db", str(db))
    env = {"PACKBENCH_SHOP_KEY": "ck_t", "PACKBENCH_SHOP_SECRET": "nope"}
    result = run("sync", "--db", str(db), "--shop-url", shop_url, "--watch", env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused the consumer key and secret" in lines[0]
    assert "nope" not in result.stderr


def test_sync_without_credentials_says_what_is_missing(tmp_path: Path) -> None:
    db = tmp_path / "bench.db"
    run("init", "--db", str(db))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACKBENCH_SHOP")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "packbench",
            "sync",
            "--db",
            str(db),
            "--shop-url",
            "http://127.0.0.1:9",
            "--once",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2 and "PACKBENCH_SHOP_KEY" in result.stderr
