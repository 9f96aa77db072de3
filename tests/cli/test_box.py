"""``packbench box`` and ``packbench boxes``, run as a person runs them (a subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packbench.core import packing
from tests.cli.test_cli import run
from tests.packbench_process import run_packbench

REQUEST = {
    "boxes": [
        {
            "code": "BOX-S",
            "kind": "box",
            "inner_mm": [250, 180, 100],
            "max_weight_g": 10000,
            "tare_g": 150,
            "cost_ore": 900,
        },
        {
            "code": "BOX-M",
            "kind": "box",
            "inner_mm": [350, 250, 150],
            "max_weight_g": 15000,
            "tare_g": 260,
            "cost_ore": 1200,
        },
        {
            "code": "BAG-M",
            "kind": "bag",
            "flat_mm": [300, 400],
            "max_thickness_mm": 80,
            "max_weight_g": 3000,
            "tare_g": 20,
            "cost_ore": 300,
        },
    ],
    "items": [
        {"sku": "ABC", "dims_mm": [120, 80, 40], "weight_g": 350, "quantity": 2},
        {"sku": "MUG", "dims_mm": [90, 90, 100], "weight_g": 300, "keep_upright": True},
    ],
}


def box_run(tmp_path: Path, doc: object, *extra: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "request.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return run("box", "--boxes", str(path), *extra)


def check_every_placement(out: dict, request: dict) -> None:
    boxes, items = packing.parse_request(request)
    by_code = {b.code: b for b in boxes}
    units = {i.sku: i for i in items}
    total: dict[str, int] = {}
    for p in out["parcels"]:
        box = by_code[p["box"]]
        placements = tuple(
            packing.Placement(u["sku"], tuple(u["position_mm"]), tuple(u["size_mm"]))  # type: ignore[arg-type]
            for u in p["items"]
        )
        counts: dict[str, int] = {}
        for u in p["items"]:
            counts[u["sku"]] = counts.get(u["sku"], 0) + 1
            total[u["sku"]] = total.get(u["sku"], 0) + 1
        mine = [
            packing.Item(s, units[s].dims_mm, units[s].weight_g, n, units[s].keep_upright)
            for s, n in counts.items()
        ]
        fill = sum(
            units[s].dims_mm[0] * units[s].dims_mm[1] * units[s].dims_mm[2] * n
            for s, n in counts.items()
        ) / (p["inner_mm"][0] * p["inner_mm"][1] * p["inner_mm"][2])
        parcel = packing.Parcel(p["box"], tuple(p["inner_mm"]), p["weight_g"], fill, placements)  # type: ignore[arg-type]
        packing.verify(parcel, box, mine)  # containment, rotation, overlap, weight
    assert total == {i.sku: i.quantity for i in items}


def test_box_json_matches_the_issue_format_and_every_placement_checks(tmp_path: Path) -> None:
    result = box_run(tmp_path, REQUEST, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"parcels", "alternatives"}
    assert len(out["parcels"]) == 1
    parcel = out["parcels"][0]
    assert {"box", "inner_mm", "weight_g", "items"} <= set(parcel)
    assert len(parcel["items"]) == 3  # one entry per unit
    for u in parcel["items"]:
        assert set(u) == {"sku", "position_mm", "size_mm"}
    # The mug (100 mm tall, upright) is thicker than the bag's 80 mm: the cheaper box.
    assert parcel["box"] == "BOX-S"
    assert parcel["weight_g"] == 2 * 350 + 300 + 150
    assert out["alternatives"] == ["BOX-M"]
    check_every_placement(out, REQUEST)


def test_flat_items_go_in_the_bag_placed_inside_the_box_it_was_modelled_as(tmp_path: Path) -> None:
    request = {"boxes": REQUEST["boxes"], "items": [REQUEST["items"][0]]}
    out = json.loads(box_run(tmp_path, request, "--json").stdout)
    parcel = out["parcels"][0]
    assert parcel["box"] == "BAG-M" and parcel["weight_g"] == 2 * 350 + 20
    t = parcel["inner_mm"][2]
    assert parcel["inner_mm"] == [300 - t, 400 - t, t] and 0 < t <= 80
    assert out["alternatives"] == ["BOX-S", "BOX-M"]
    check_every_placement(out, request)


def test_box_reads_stdin_and_prints_text(tmp_path: Path) -> None:
    result = run_packbench("box", "--boxes", "-", input=json.dumps(REQUEST), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "parcel 1: BOX-S (250×180×100 mm), 3 units, 1150 g, 35% full\nalso fits: BOX-M\n"
    )


def test_an_order_split_over_parcels(tmp_path: Path) -> None:
    request = {
        "boxes": [REQUEST["boxes"][0]],
        "items": [{"sku": "BRICK", "dims_mm": [240, 170, 90], "weight_g": 900, "quantity": 3}],
    }
    result = box_run(tmp_path, request, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [p["box"] for p in out["parcels"]] == ["BOX-S"] * 3
    assert out["alternatives"] == []
    check_every_placement(out, request)


def _with(path: tuple, value: object) -> dict:
    doc = json.loads(json.dumps(REQUEST))
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


_DELETE = object()


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ("{not json", "not valid JSON"),
        (_with(("items", 0, "dims_mm"), [120, -80, 40]), "items[0].dims_mm[1]: must be positive"),
        (_with(("items", 0, "dims_mm"), _DELETE), "items[0].dims_mm: missing"),
        (_with(("boxes", 0, "inner_mm"), [250, 180]), "boxes[0].inner_mm"),
        (_with(("items", 0, "weight_g"), "heavy"), "items[0].weight_g: must be a whole number"),
        (_with(("items", 0, "keep_upright"), "yes"), "keep_upright: must be true or false"),
        (_with(("items", 0, "colour"), "red"), "items[0].colour: unknown field"),
        (_with(("boxes",), []), "boxes: must be a non-empty list"),
        ([1, 2], "request: must be an object"),
    ],
)
def test_bad_input_is_a_clear_error_with_status_2(tmp_path: Path, doc: object, words: str) -> None:
    result = box_run(tmp_path, doc, "--json")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("packbench: box: ") and words in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_missing_file_and_items_no_box_holds(tmp_path: Path) -> None:
    result = run("box", "--boxes", str(tmp_path / "nope.json"))
    assert result.returncode == 2 and "cannot read" in result.stderr
    huge = _with(("items", 0, "dims_mm"), [2000, 80, 40])
    result = box_run(tmp_path, huge)
    assert result.returncode == 1 and "fits in no box or bag" in result.stderr


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("boxes") / "demo.db"
    result = run("init", "--db", str(path), "--demo", "--seed", "3")
    assert result.returncode == 0, result.stderr
    return path


def test_boxes_list_prints_the_codes(demo_file: Path) -> None:
    result = run("boxes", "list", "--db", str(demo_file))
    assert result.returncode == 0, result.stderr
    for code in ("BOX-S", "BOX-M", "BAG-M"):
        assert code in result.stdout
    rows = json.loads(run("boxes", "list", "--db", str(demo_file), "--json").stdout)
    assert {"BOX-XS", "BOX-S", "BAG-BOBLE"} <= {r["code"] for r in rows}


def test_boxes_advise_on_the_demo_history(demo_file: Path) -> None:
    result = run("boxes", "advise", "--db", str(demo_file), "--count", "3", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert 1 <= len(out["boxes"]) <= 3
    assert out["orders"] > 0
    assert sum(b["orders"] for b in out["boxes"]) == out["compared"] - len(out["uncovered"])
    assert out["saved_litres"] == pytest.approx(
        out["baseline_empty_litres"] - out["empty_litres"], abs=0.02
    )
    text = run("boxes", "advise", "--db", str(demo_file), "--count", "2")
    assert text.returncode == 0 and "saved" in text.stdout
    bad = run("boxes", "advise", "--db", str(demo_file), "--count", "0")
    assert bad.returncode == 2 and "count must be 1–20" in bad.stderr
