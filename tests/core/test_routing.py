"""Tests for packbench.core.routing: layouts, location codes, exact and heuristic pick routes.

The reference optimum is computed independently of the module: an explicit graph of the aisle
and cross-aisle centre lines, Dijkstra for the legs, and every permutation of the stops.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packbench.core.routing import (
    Layout,
    LayoutError,
    Location,
    LocationError,
    Route,
    load_layout,
    parse_layout,
    parse_location,
    route_length,
    s_shape_route,
    shortest_route,
    sorted_route,
)

SPEC_TOML = """
[warehouse]
aisles = ["A", "B", "C", "D", "E", "F", "G", "H"]  # walkable aisles, left to right
bays = 20
bay_width_m = 1.0
aisle_pitch_m = 3.0
depot = "A"
cross_aisles = []
"""

SPEC = Layout(("A", "B", "C", "D", "E", "F", "G", "H"), 20, 1.0, 3.0, "A")


def layout(depot: str = "A", cross: tuple[int, ...] = (), aisles: str = "ABCDEFGH") -> Layout:
    return Layout(tuple(aisles), 20, 1.0, 3.0, depot, cross)


# --------------------------------------------------------------------------------------------
# Independent reference: explicit graph + Dijkstra + permutations


def _graph_distances(lay: Layout, points: list[tuple[int, float]]) -> list[list[float]]:
    """All-pairs shortest walking distances between ``points`` on the explicit aisle graph."""
    rows = [0.0, *(k * lay.bay_width_m for k in lay.cross_aisles), lay.bays * lay.bay_width_m]
    on_aisle: dict[int, set[float]] = defaultdict(set)
    for c in range(len(lay.aisles)):
        on_aisle[c].update(rows)
    for c, y in points:
        on_aisle[c].add(y)
    adj: dict[tuple[int, float], list[tuple[tuple[int, float], float]]] = defaultdict(list)

    def link(u, v, w):
        adj[u].append((v, w))
        adj[v].append((u, w))

    for c, ys in on_aisle.items():
        ys_sorted = sorted(ys)
        for a, b in itertools.pairwise(ys_sorted):
            link((c, a), (c, b), b - a)
    for c in range(len(lay.aisles) - 1):
        for y in rows:
            link((c, y), (c + 1, y), lay.aisle_pitch_m)

    def dijkstra(src):
        dist = {src: 0.0}
        heap = [(0.0, src)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for v, w in adj[u]:
                if d + w < dist.get(v, math.inf):
                    dist[v] = d + w
                    heapq.heappush(heap, (d + w, v))
        return dist

    out = []
    for p in points:
        dist = dijkstra(p)
        out.append([dist[q] for q in points])
    return out


def _point(lay: Layout, code: str) -> tuple[int, float]:
    aisle, bay, _ = code.split("-")
    return (lay.aisles.index(aisle), (int(bay) - 0.5) * lay.bay_width_m)


def brute_force(lay: Layout, codes: list[str]) -> float:
    stops = sorted({_point(lay, c) for c in codes})
    depot = (lay.aisles.index(lay.depot), 0.0)
    dm = _graph_distances(lay, [depot, *stops])
    best = math.inf
    for perm in itertools.permutations(range(1, len(stops) + 1)):
        tour = (0, *perm, 0)
        best = min(best, sum(dm[a][b] for a, b in itertools.pairwise(tour)))
    return best if stops else 0.0


def reference_length(lay: Layout, sequence: tuple[str, ...]) -> float:
    depot = (lay.aisles.index(lay.depot), 0.0)
    pts = [depot, *(_point(lay, c) for c in sequence), depot]
    dm = _graph_distances(lay, pts)
    return sum(dm[i][i + 1] for i in range(len(pts) - 1))


# --------------------------------------------------------------------------------------------
# Strategies


@st.composite
def instances(draw, max_cross: int = 0, max_stops: int = 7, min_stops: int = 0):
    n_aisles = draw(st.integers(1, 7))
    bays = draw(st.integers(2, 14))
    aisles = tuple("ABCDEFGHIJ"[:n_aisles])
    n_cross = draw(st.integers(0, min(max_cross, bays - 1)))
    cross = tuple(
        draw(st.lists(st.integers(1, bays - 1), min_size=n_cross, max_size=n_cross, unique=True))
    )
    lay = Layout(
        aisles,
        bays,
        draw(st.sampled_from([1.0, 0.8, 1.25])),
        draw(st.sampled_from([3.0, 0.5, 2.5, 6.0])),
        draw(st.sampled_from(aisles)),
        cross,
    )
    stops = draw(
        st.lists(
            st.tuples(st.sampled_from(aisles), st.integers(1, bays)),
            min_size=min_stops,
            max_size=max_stops,
            unique=True,
        )
    )
    codes = []
    for aisle, bay in stops:  # one to three codes per stop, sometimes repeated, mixed forms
        for level in draw(st.lists(st.integers(0, 4), min_size=1, max_size=3)):
            codes.append(
                draw(st.sampled_from([f"{aisle}-{bay:02d}-{level}", f"{aisle}-{bay}-{level}"]))
            )
    return lay, draw(st.permutations(codes))


def check_route(lay: Layout, codes: list[str], route: Route) -> None:
    """Each distinct normalised code once, codes of one stop adjacent, length consistent."""
    expected = {parse_location(c, lay).code for c in codes}
    assert len(route.sequence) == len(expected)
    assert set(route.sequence) == expected
    stops = [c.rsplit("-", 1)[0] for c in route.sequence]
    assert len({s for s, _ in itertools.groupby(stops)}) == len(list(itertools.groupby(stops)))
    assert route.distance_m == pytest.approx(route_length(lay, route.sequence), abs=1e-9)
    assert route.distance_m == pytest.approx(reference_length(lay, route.sequence), abs=1e-6)


# --------------------------------------------------------------------------------------------
# Layouts


def test_load_layout_spec_example(tmp_path):
    path = tmp_path / "layout.toml"
    path.write_text(SPEC_TOML)
    assert load_layout(path) == SPEC
    assert load_layout(str(path)).length_m == 20.0


def test_parse_layout_accepts_table_itself_and_sorts_cross_aisles():
    data = {
        "aisles": ["X", "Y"],
        "bays": 12,
        "bay_width_m": 2,
        "aisle_pitch_m": 2.5,
        "depot": "Y",
        "cross_aisles": [8, 4],
    }
    lay = parse_layout(data)
    assert lay == Layout(("X", "Y"), 12, 2.0, 2.5, "Y", (4, 8))
    assert isinstance(lay.bay_width_m, float)


def _table(**changes):
    table = {
        "aisles": ["A", "B", "C"],
        "bays": 20,
        "bay_width_m": 1.0,
        "aisle_pitch_m": 3.0,
        "depot": "A",
        "cross_aisles": [10],
    }
    for key, value in changes.items():
        if value is ...:
            del table[key]
        else:
            table[key] = value
    return {"warehouse": table}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, r"lay\.toml: missing \[warehouse\] table"),
        ({"warehouse": [1]}, r"\[warehouse\] must be a table, got list"),
        (_table(aisles=...), r"warehouse\.aisles: missing key"),
        (_table(bays=...), r"warehouse\.bays: missing key"),
        (_table(bay_width_m=...), r"warehouse\.bay_width_m: missing key"),
        (_table(aisle_pitch_m=...), r"warehouse\.aisle_pitch_m: missing key"),
        (_table(depot=...), r"warehouse\.depot: missing key"),
        (_table(bay_widht_m=1.0), r"warehouse\.bay_widht_m: unknown key"),
        (_table(aisles="ABC"), r"warehouse\.aisles must be a list of aisle names, got str"),
        (_table(aisles=[]), r"warehouse\.aisles must name at least one aisle"),
        (_table(aisles=["A", 2]), r"warehouse\.aisles\[1\] must be a string, got int"),
        (_table(aisles=["A", "B-1"]), r"warehouse\.aisles\[1\] = 'B-1'"),
        (_table(aisles=["A", ""]), r"warehouse\.aisles\[1\] = ''"),
        (_table(aisles=["A", "B", "A"]), r"warehouse\.aisles: duplicate aisle 'A'"),
        (_table(bays="20"), r"warehouse\.bays must be an integer, got str"),
        (_table(bays=True), r"warehouse\.bays must be an integer, got bool"),
        (_table(bays=20.0), r"warehouse\.bays must be an integer, got float"),
        (_table(bays=0), r"warehouse\.bays must be positive, got 0"),
        (_table(bay_width_m="1"), r"warehouse\.bay_width_m must be a number, got str"),
        (_table(bay_width_m=0), r"warehouse\.bay_width_m must be a positive number, got 0"),
        (_table(bay_width_m=float("nan")), r"warehouse\.bay_width_m must be a positive number"),
        (_table(aisle_pitch_m=-3.0), r"warehouse\.aisle_pitch_m must be a positive number"),
        (_table(depot=1), r"warehouse\.depot must be an aisle name, got int"),
        (_table(depot="Z"), r"warehouse\.depot 'Z' is not one of the aisles"),
        (_table(cross_aisles=10), r"warehouse\.cross_aisles must be a list of bay numbers"),
        (_table(cross_aisles=["10"]), r"warehouse\.cross_aisles\[0\] must be an integer"),
        (_table(cross_aisles=[0]), r"warehouse\.cross_aisles\[0\] = 0: .* 1\.\.19"),
        (_table(cross_aisles=[5, 20]), r"warehouse\.cross_aisles\[1\] = 20"),
        (_table(cross_aisles=[5, 5]), r"warehouse\.cross_aisles: duplicate cross aisle .* 5"),
    ],
)
def test_parse_layout_errors(data, message):
    with pytest.raises(LayoutError, match=message):
        parse_layout(data, "lay.toml")


def test_parse_layout_rejects_non_mapping():
    with pytest.raises(LayoutError, match="<layout>: expected a table, got list"):
        parse_layout([])  # type: ignore[arg-type]


def test_layout_constructor_validates():
    with pytest.raises(LayoutError, match=r"Layout\.depot 'Z' is not one of the aisles"):
        Layout(("A", "B"), 10, 1.0, 3.0, "Z")
    with pytest.raises(LayoutError, match=r"Layout\.bays must be positive"):
        Layout(("A",), -1, 1.0, 3.0, "A")
    with pytest.raises(LayoutError, match=r"Layout\.cross_aisles\[0\] = 10"):
        Layout(("A",), 10, 1.0, 3.0, "A", (10,))
    assert Layout(["A", "B"], 10, 1, 3, "B").aisles == ("A", "B")  # type: ignore[arg-type]
    assert issubclass(LayoutError, ValueError) and issubclass(LocationError, ValueError)


def test_load_layout_file_errors(tmp_path):
    with pytest.raises(LayoutError, match=r"missing\.toml: cannot read layout"):
        load_layout(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[warehouse\naisles = 1")
    with pytest.raises(LayoutError, match=r"bad\.toml: not valid TOML"):
        load_layout(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(SPEC_TOML.replace("bays = 20", "bays = 0"))
    with pytest.raises(LayoutError, match=r"wrong\.toml: warehouse\.bays must be positive"):
        load_layout(wrong)


# --------------------------------------------------------------------------------------------
# Locations


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("C-07-2", Location("C", 7, 2)),
        ("C-7-2", Location("C", 7, 2)),
        ("  c-20-0 ", Location("C", 20, 0)),
        ("H-01-12", Location("H", 1, 12)),
    ],
)
def test_parse_location(code, expected):
    loc = parse_location(code, SPEC)
    assert loc == expected
    assert loc.code == f"{expected.aisle}-{expected.bay:02d}-{expected.level}"


def test_location_order_and_code():
    locs = [Location("B", 2, 1), Location("A", 10, 1), Location("A", 2, 3), Location("A", 2, 1)]
    assert [loc.code for loc in sorted(locs)] == ["A-02-1", "A-02-3", "A-10-1", "B-02-1"]


def test_parse_location_three_digit_bays_when_the_layout_has_them():
    big = Layout(("A", "B"), 120, 1.0, 3.0, "A")
    assert parse_location("B-105-1", big).code == "B-105-1"
    assert parse_location("B-7-1", big).code == "B-07-1"


def test_parse_location_case_insensitive_only_when_unambiguous():
    lay = Layout(("ab", "AB", "Cd"), 10, 1.0, 3.0, "AB")
    assert parse_location("ab-01-1", lay).aisle == "ab"
    assert parse_location("cD-01-1", lay).code == "Cd-01-1"
    with pytest.raises(LocationError, match="unknown aisle 'Ab'"):
        parse_location("Ab-01-1", lay)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("C07", r"location 'C07': malformed, expected AISLE-BAY-LEVEL"),
        ("C-07", r"location 'C-07': malformed"),
        ("C-07-2-1", r"location 'C-07-2-1': malformed"),
        ("", r"location '': malformed"),
        ("C-x7-2", r"location 'C-x7-2': malformed"),
        ("C-07-", r"location 'C-07-': malformed"),
        ("C-07-1234", r"location 'C-07-1234': malformed"),
        ("C 07 2", r"location 'C 07 2': malformed"),
        ("Z-07-2", r"location 'Z-07-2': unknown aisle 'Z' \(aisles: A, B, C, D, E, F, G, H\)"),
        ("C-21-2", r"location 'C-21-2': bay 21 out of range 1\.\.20"),
        ("C-00-2", r"location 'C-00-2': bay 0 out of range 1\.\.20"),
        ("C-007-2", r"location 'C-007-2': malformed bay '007'"),
        (42, r"location 42: expected a string, got int"),
    ],
)
def test_parse_location_errors(code, message):
    with pytest.raises(LocationError, match=message):
        parse_location(code, SPEC)


def test_routing_functions_report_bad_codes():
    for fn in (shortest_route, sorted_route, s_shape_route, route_length):
        with pytest.raises(LocationError, match="location 'Q-01-1': unknown aisle 'Q'"):
            fn(SPEC, ["A-01-1", "Q-01-1"])
        with pytest.raises(TypeError, match="not a single string"):
            fn(SPEC, "A-01-1")


def test_unknown_and_overloaded_methods():
    with pytest.raises(ValueError, match="unknown routing method 'fast'"):
        shortest_route(SPEC, ["A-01-1"], method="fast")  # type: ignore[arg-type]
    many = [f"{a}-{b:02d}-1" for a in "AB" for b in range(1, 10)]
    with pytest.raises(ValueError, match="held-karp: 18 stops is too many"):
        shortest_route(SPEC, many, method="held-karp")


# --------------------------------------------------------------------------------------------
# Hand-checked routes


def test_empty_pick_list():
    for fn in (shortest_route, sorted_route, s_shape_route):
        assert fn(SPEC, []) == Route((), 0.0)
    assert route_length(SPEC, []) == 0.0


def test_route_length_by_hand():
    # A front -> A-05 (4.5) -> C-05: back to the front, across 6, up 4.5 -> home: 4.5 + 6
    assert route_length(SPEC, ["A-05-1", "C-05-3"]) == pytest.approx(4.5 + 4.5 + 6 + 4.5 + 10.5)
    # via the back cross aisle: A-18 (17.5) -> B-19 (2.5 up, 3 across, 1.5 down) -> home
    assert route_length(SPEC, ["A-18-1", "B-19-1"]) == pytest.approx(17.5 + 7 + 18.5 + 3)


def test_two_back_picks_traverse_both_aisles():
    route = shortest_route(SPEC, ["B-20-1", "A-20-1"])
    assert route == Route(("A-20-1", "B-20-1"), 46.0)  # up A, across the back, down B, home


def test_middle_cross_aisle_shortens_the_route():
    picks = ["A-11-1", "C-11-1"]
    assert shortest_route(layout(aisles="ABC"), picks).distance_m == pytest.approx(52.0)
    # up A to the cross aisle at 10 m and 0.5 m beyond, across 6, the same in C, home
    assert shortest_route(layout(cross=(10,), aisles="ABC"), picks).distance_m == pytest.approx(34)


def test_picks_only_in_the_depot_aisle():
    lay = layout(depot="D")
    route = shortest_route(lay, ["D-05-1", "D-12-3", "D-03-2"])
    assert route == Route(("D-03-2", "D-05-1", "D-12-3"), 23.0)
    assert shortest_route(layout("D", (6,)), ["D-12-3", "D-03-2"]).distance_m == 23.0


def test_depot_in_the_middle_of_the_warehouse():
    lay = layout(depot="D")
    assert shortest_route(lay, ["A-01-1"]).distance_m == pytest.approx(2 * (9 + 0.5))
    assert shortest_route(lay, ["H-01-1"]).distance_m == pytest.approx(2 * (12 + 0.5))
    picks = ["A-02-1", "H-02-1", "B-19-1", "F-17-2"]
    route = shortest_route(lay, picks)
    check_route(lay, picks, route)
    assert route.distance_m == pytest.approx(brute_force(lay, picks), abs=1e-6)


def test_merged_duplicates_and_levels():
    picks = ["C-07-2", "c-7-2", "C-07-1", "E-03-1", "C-07-2", "E-3-4"]
    route = shortest_route(SPEC, picks)
    assert sorted(route.sequence) == ["C-07-1", "C-07-2", "E-03-1", "E-03-4"]
    assert route.sequence.index("C-07-2") == route.sequence.index("C-07-1") + 1
    assert route.sequence.index("E-03-4") == route.sequence.index("E-03-1") + 1
    assert route.distance_m == shortest_route(SPEC, ["C-07-9", "E-03-9"]).distance_m
    check_route(SPEC, picks, route)


def test_baselines():
    picks = ["B-15-1", "A-02-1", "D-19-1", "B-01-1", "A-02-3"]
    srt = sorted_route(SPEC, picks)
    assert srt.sequence == ("A-02-1", "A-02-3", "B-01-1", "B-15-1", "D-19-1")
    check_route(SPEC, picks, srt)
    s = s_shape_route(SPEC, picks)
    check_route(SPEC, picks, s)
    # S-shape from the right end (shorter here than from the left): up D, down B, and A, the
    # last of an odd count, in and out from the front
    assert s == Route(("D-19-1", "B-15-1", "B-01-1", "A-02-1", "A-02-3"), 61.0)
    best = shortest_route(SPEC, picks)
    assert best.distance_m <= s.distance_m and best.distance_m <= srt.distance_m


# --------------------------------------------------------------------------------------------
# Against the brute-force optimum (property tests)


@settings(max_examples=120, deadline=None)
@given(instances(max_cross=0))
def test_single_block_equals_brute_force(case):
    lay, codes = case
    route = shortest_route(lay, codes)
    check_route(lay, codes, route)
    assert route.distance_m == pytest.approx(brute_force(lay, codes), abs=1e-6)


@settings(max_examples=120, deadline=None)
@given(instances(max_cross=2))
def test_multi_block_equals_brute_force(case):
    lay, codes = case
    route = shortest_route(lay, codes)
    check_route(lay, codes, route)
    assert route.distance_m == pytest.approx(brute_force(lay, codes), abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(instances(max_cross=4, max_stops=6, min_stops=1))
def test_every_method_with_many_cross_aisles(case):
    """The DP forced on 5 blocks, Held-Karp, and the heuristic; baselines never beat it."""
    lay, codes = case
    best = brute_force(lay, codes)
    for method in ("dp", "held-karp", "auto"):
        route = shortest_route(lay, codes, method=method)
        check_route(lay, codes, route)
        assert route.distance_m == pytest.approx(best, abs=1e-6)
    for route in (
        shortest_route(lay, codes, method="heuristic"),
        s_shape_route(lay, codes),
        sorted_route(lay, codes),
    ):
        check_route(lay, codes, route)
        assert route.distance_m >= best - 1e-6


def _random_codes(rng: random.Random, lay: Layout, n: int) -> list[str]:
    return [f"{rng.choice(lay.aisles)}-{rng.randint(1, lay.bays):02d}-1" for _ in range(n)]


def test_dp_equals_held_karp_up_to_12_stops():
    rng = random.Random(11)
    for i in range(12):
        lay = layout(rng.choice("ABCDEFGH"), (() if i % 3 == 0 else (rng.randint(1, 19),)))
        codes = _random_codes(rng, lay, rng.randint(8, 12))
        dp = shortest_route(lay, codes)
        hk = shortest_route(lay, codes, method="held-karp")
        check_route(lay, codes, dp)
        assert dp.distance_m == pytest.approx(hk.distance_m, abs=1e-6)


def test_heuristic_within_5_percent_on_larger_multi_block_lists():
    """Three middle cross aisles and > 12 stops: the app falls back to the heuristic."""
    rng = random.Random(5)
    lay = Layout(tuple("ABCDEFGH"), 20, 1.0, 3.0, "C", (5, 10, 15))
    for _ in range(4):
        codes = _random_codes(rng, lay, rng.randint(14, 25))
        auto = shortest_route(lay, codes)
        check_route(lay, codes, auto)
        exact = shortest_route(lay, codes, method="dp")
        assert exact.distance_m <= auto.distance_m + 1e-6
        assert auto.distance_m <= 1.05 * exact.distance_m
    two_blocks = layout("E", (8,))
    for _ in range(4):
        codes = _random_codes(rng, two_blocks, rng.randint(14, 30))
        heuristic = shortest_route(two_blocks, codes, method="heuristic")
        check_route(two_blocks, codes, heuristic)
        assert heuristic.distance_m <= 1.05 * shortest_route(two_blocks, codes).distance_m


def test_routes_are_deterministic_and_order_independent():
    rng = random.Random(3)
    lay = layout("B", (10,))
    codes = _random_codes(rng, lay, 25)
    first = shortest_route(lay, codes)
    assert shortest_route(lay, list(reversed(codes))) == first
    assert shortest_route(lay, iter(codes)) == first
