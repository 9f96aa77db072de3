"""``packbench route`` and ``packbench slotting``, run as a person runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packbench.config import BUNDLED_LAYOUT
from packbench.core.routing import load_layout, shortest_route
from tests.cli.test_cli import run

MULTI = """
[warehouse]
aisles = ["A", "B", "C", "D"]
bays = 10
bay_width_m = 1.0
aisle_pitch_m = 3.0
depot = "B"
cross_aisles = [5]
"""


def test_route_json_lists_each_location_once_in_walking_order() -> None:
    locs = ["C-07-2", "A-01-1", "H-20-3", "C-07-2", "c-7-2", "B-12-1"]
    result = run("route", "--layout", str(BUNDLED_LAYOUT), "--json", *locs)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"sequence", "distance_m"}
    assert sorted(out["sequence"]) == ["A-01-1", "B-12-1", "C-07-2", "H-20-3"]
    expected = shortest_route(load_layout(BUNDLED_LAYOUT), locs)
    assert out["sequence"] == list(expected.sequence)
    assert out["distance_m"] == pytest.approx(expected.distance_m)


def test_route_on_a_multi_block_layout_and_as_text(tmp_path: Path) -> None:
    layout = tmp_path / "w.toml"
    layout.write_text(MULTI)
    result = run("route", "--layout", str(layout), "--json", "A-02-1", "D-09-1", "C-04-2")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    expected = shortest_route(load_layout(layout), ["A-02-1", "D-09-1", "C-04-2"])
    assert out == {"sequence": list(expected.sequence), "distance_m": expected.distance_m}
    text = run("route", "--layout", str(layout), "A-02-1")
    assert text.returncode == 0 and "A-02-1" in text.stdout and "m" in text.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["Z-01-1"], "unknown aisle 'Z'"),
        (["A-21-1"], "bay 21 out of range 1..20"),
        (["A07"], "malformed"),
    ],
)
def test_route_errors_go_to_stderr_with_exit_code_2(args: list[str], words: str) -> None:
    result = run("route", "--layout", str(BUNDLED_LAYOUT), "--json", "A-01-1", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert words in result.stderr and result.stderr.count("\n") == 1


def test_route_bad_layout_files(tmp_path: Path) -> None:
    missing = run("route", "--layout", str(tmp_path / "nope.toml"), "A-01-1")
    assert missing.returncode == 2 and "cannot read layout" in missing.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(MULTI.replace("bays = 10", "bays = 0"))
    result = run("route", "--layout", str(bad), "A-01-1")
    assert result.returncode == 2 and "bays must be positive, got 0" in result.stderr
    nothing = run("route", "--layout", str(BUNDLED_LAYOUT))
    assert nothing.returncode == 2  # argparse: at least one location


def test_route_uses_the_configured_layout(tmp_path: Path) -> None:
    layout = tmp_path / "w.toml"
    layout.write_text(MULTI)
    config = tmp_path / "c.toml"
    config.write_text(f'[warehouse]\nlayout = "{layout}"\n')
    result = run("route", "--config", str(config), "--json", "D-09-1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sequence"] == ["D-09-1"]
    wrong = run("route", "--config", str(config), "H-01-1")
    assert wrong.returncode == 2 and "unknown aisle 'H'" in wrong.stderr


def test_slotting_on_the_demo_history(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert run("init", "--db", str(db), "--demo").returncode == 0
    result = run("slotting", "--db", str(db), "--days", "30", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["days"] == 30 and report["orders"] > 0 and report["walked_m"] > 0
    assert report["best_sellers"] and report["moves"]
    for move in report["moves"]:
        assert move["saved_m"] > 0 and move["kind"] in ("swap", "pair")
    text = run("slotting", "--db", str(db))
    assert text.returncode == 0 and "Best sellers" in text.stdout and "saves" in text.stdout
    bad = run("slotting", "--db", str(db), "--days", "0")
    assert bad.returncode == 2 and "--days" in bad.stderr


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[pick]\nshort_pick = "maybe"\n', "pick.short_pick"),
        ("[pick]\nbatch_size = 0\n", "pick.batch_size"),
        ("[pick]\nbatchsize = 6\n", "pick.batchsize: unknown key"),
        ('[warehouse]\nlayout = "/no/such/layout.toml"\n', "cannot read layout"),
    ],
)
def test_bad_warehouse_and_pick_settings_are_clear_errors(
    tmp_path: Path, toml: str, words: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(toml)
    result = run("route", "--config", str(config), "A-01-1")
    assert result.returncode == 2
    assert words in result.stderr and result.stdout == ""
