"""The demo shop's generator: deterministic, complete, and believable enough to demo with."""

from __future__ import annotations

import ast
import dataclasses
import itertools
import random
import re
import sys
import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import mean

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packbench.core.codes import is_valid_gtin
from packbench.core.workflow import OrderStatus
from packbench.data import demo_catalogue as dc
from packbench.data.demo_catalogue import (
    BUNDLES,
    ORDER_STATUSES,
    REFERENCE_NOW,
    DemoData,
    DemoProduct,
    demo_shift,
    generate,
    generate_orders,
    gtin13,
    moved_to,
    popularity_weights,
)

LAYOUT = Path(dc.__file__).with_name("demo_layout.toml")
LOCATION = re.compile(r"^([A-Z])-(\d{2})-([1-9])$")
NORWEGIAN = re.compile("[æøåÆØÅ]")


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate()


@pytest.fixture(scope="module")
def layout() -> dict:
    return tomllib.loads(LAYOUT.read_text(encoding="utf-8"))


def check_digit(body: str) -> int:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def walk_m(code: str, layout: dict) -> float:
    """Metres from the depot at the front of aisle A: across the front, then up the aisle."""
    aisle, bay, _level = LOCATION.match(code).groups()  # type: ignore[union-attr]
    w = layout["warehouse"]
    return w["aisles"].index(aisle) * w["aisle_pitch_m"] + int(bay) * w["bay_width_m"]


def base_of(product: DemoProduct) -> str:
    return product.name.split(", ")[0]


# --------------------------------------------------------------------------- determinism


def test_the_same_seed_gives_the_same_data(data: DemoData) -> None:
    assert generate(1) == data
    assert generate(1, now=REFERENCE_NOW) == data
    later = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    assert generate(7, 60, later) == generate(7, 60, later)


def test_different_seeds_give_different_data(data: DemoData) -> None:
    other = generate(2)
    assert other != data
    assert other.orders != data.orders
    assert [p.location for p in other.products] != [p.location for p in data.products]


def test_neither_the_global_random_nor_the_clock_is_used() -> None:
    random.seed(12345)
    state = random.getstate()
    first = generate(3, 60)
    assert random.getstate() == state
    random.seed(999)
    assert generate(3, 60) == first


def test_only_the_standard_library_is_imported() -> None:
    tree = ast.parse(Path(dc.__file__).read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}


def test_records_are_frozen(data: DemoData) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.products[0].price_ore = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.orders[0].status = "new"  # type: ignore[misc]


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        generate(1, now=datetime(2026, 11, 26, 8, 0))


# --------------------------------------------------------------------------- counts


def test_counts(data: DemoData) -> None:
    assert len(data.products) >= 200
    assert len(data.orders) == 72
    assert sum(b.kind == "box" for b in data.boxes) >= 6
    assert sum(b.kind == "bag" for b in data.boxes) >= 2
    assert len(data.packers) == 4
    assert [p.role for p in data.packers].count("supervisor") == 1
    assert data.shop_name == "Fjordhandel AS"
    assert data.shop_address.country == "NO"
    assert re.fullmatch(r"\d{4}", data.shop_address.postcode)


def test_order_statuses_match_the_workflow() -> None:
    assert set(ORDER_STATUSES) == {s.value for s in OrderStatus}
    assert len(ORDER_STATUSES) == len(set(ORDER_STATUSES))


# --------------------------------------------------------------------------- products


def test_gtin13_appends_the_gs1_check_digit() -> None:
    assert gtin13("590123412345") == "5901234123457"
    assert gtin13("400638133393") == "4006381333931"
    assert gtin13("707123400000") == "707123400000" + str(check_digit("707123400000"))
    for bad in ("12345", "70712340000a", "7071234000001", 707123400000):
        with pytest.raises(ValueError):
            gtin13(bad)  # type: ignore[arg-type]


def test_every_gtin_is_valid_norwegian_and_unique(data: DemoData) -> None:
    gtins = [p.gtin for p in data.products]
    assert len(set(gtins)) == len(gtins)
    for g in gtins:
        assert len(g) == 13 and g.isdigit() and g.startswith("70")
        assert int(g[-1]) == check_digit(g[:-1])
        assert is_valid_gtin(g)


def test_skus_and_shop_ids_are_unique(data: DemoData) -> None:
    skus = [p.sku for p in data.products]
    assert len(set(skus)) == len(skus)
    assert all(re.fullmatch(r"FJ-[A-Z]{2}-\d{4}", s) for s in skus)
    ids = [p.shop_product_id for p in data.products]
    assert len(set(ids)) == len(ids)
    assert len({p.name for p in data.products}) == len(data.products)


def test_products_are_norwegian_and_believable(data: DemoData) -> None:
    cats = Counter(p.category for p in data.products)
    assert {"kjøkken", "tekstil", "friluft", "interiør", "kontor", "leker", "hobby"} <= set(cats)
    assert all(n >= 5 for n in cats.values())
    assert sum(bool(NORWEGIAN.search(p.name)) for p in data.products) >= 20
    for p in data.products:
        assert min(p.length_mm, p.width_mm, p.height_mm) >= 1, p
        assert max(p.length_mm, p.width_mm, p.height_mm) <= 600, p
        assert 5 <= p.weight_g <= 10_000, p
        assert 1_000 <= p.price_ore <= 500_000, p
    assert 10 <= sum(p.fragile for p in data.products) <= len(data.products) // 2
    assert 5 <= sum(p.keep_upright for p in data.products) <= len(data.products) // 3
    by_name = {p.name: p for p in data.products}
    assert by_name["Kaffekopp i steintøy, hvit"].fragile
    assert by_name["Honning fra Hardanger 350 g"].keep_upright


def fits(item: tuple[int, ...], space: tuple[int, ...]) -> bool:
    return all(a <= b for a, b in zip(sorted(item), sorted(space), strict=True))


def test_every_product_fits_the_biggest_box(data: DemoData) -> None:
    biggest = max(
        (b for b in data.boxes if b.kind == "box"),
        key=lambda b: b.inner_l_mm * b.inner_w_mm * b.inner_h_mm,
    )
    inner = (biggest.inner_l_mm, biggest.inner_w_mm, biggest.inner_h_mm)
    for p in data.products:
        assert fits((p.length_mm, p.width_mm, p.height_mm), inner), p
        assert p.weight_g + biggest.tare_g <= biggest.max_weight_g, p
        if p.keep_upright:  # standing up: its height against the box's height
            assert p.height_mm <= biggest.inner_h_mm, p
            assert fits((p.length_mm, p.width_mm), inner[:2]), p


# --------------------------------------------------------------------------- boxes and packers


def test_boxes_and_bags(data: DemoData) -> None:
    codes = [b.code for b in data.boxes]
    assert len(set(codes)) == len(codes)
    assert {"BOX-XS", "BOX-S", "BOX-M", "BOX-L", "BOX-XL", "BOX-LONG", "BAG-S", "BAG-M"} <= set(
        codes
    )
    assert 2 <= sum(b.standard for b in data.boxes) <= 3
    for b in data.boxes:
        assert b.kind in ("box", "bag")
        assert b.code.startswith("BAG-" if b.kind == "bag" else "BOX-")
        assert min(b.inner_l_mm, b.inner_w_mm, b.inner_h_mm, b.max_weight_g, b.tare_g) > 0
        assert b.cost_ore > 0 and b.name
        if b.kind == "bag":
            assert b.inner_h_mm < min(b.inner_l_mm, b.inner_w_mm)


def test_packers(data: DemoData) -> None:
    assert [p.badge for p in data.packers] == ["BDG-1001", "BDG-1002", "BDG-1003", "BDG-1004"]
    (boss,) = [p for p in data.packers if p.role == "supervisor"]
    assert boss.pin == "2468"
    assert all(p.role == "packer" and p.pin is None for p in data.packers if p is not boss)
    assert any(NORWEGIAN.search(p.name) for p in data.packers)


# --------------------------------------------------------------------------- the warehouse


def test_layout_file(layout: dict) -> None:
    assert layout == {
        "warehouse": {
            "aisles": ["A", "B", "C", "D", "E", "F", "G", "H"],
            "bays": 20,
            "bay_width_m": 1.0,
            "aisle_pitch_m": 3.0,
            "depot": "A",
            "cross_aisles": [],
        }
    }
    assert LAYOUT.read_text(encoding="utf-8").startswith("#")
    assert list(dc.AISLES) == layout["warehouse"]["aisles"]
    assert layout["warehouse"]["bays"] == dc.BAYS


def test_locations_are_unique_well_formed_and_inside_the_layout(
    data: DemoData, layout: dict
) -> None:
    codes = [loc.code for loc in data.locations]
    assert len(set(codes)) == len(codes)
    w = layout["warehouse"]
    for loc in data.locations:
        aisle, bay, level = LOCATION.match(loc.code).groups()  # type: ignore[union-attr]
        assert (aisle, int(bay), int(level)) == (loc.aisle, loc.bay, loc.level)
        assert loc.aisle in w["aisles"] and 1 <= loc.bay <= w["bays"] and 1 <= loc.level <= 3
    used = [p.location for p in data.products]
    assert len(set(used)) == len(used), "one product per location"
    assert set(used) <= set(codes)
    assert len(codes) > len(used), "some empty locations too"


def test_best_sellers_stand_nearer_the_depot(data: DemoData, layout: dict) -> None:
    pop = popularity_weights(data.products)
    ranked = sorted(data.products, key=lambda p: -pop[p.sku])
    top, rest = ranked[: len(ranked) // 5], ranked[len(ranked) // 5 :]
    top_m = mean(walk_m(p.location, layout) for p in top)
    rest_m = mean(walk_m(p.location, layout) for p in rest)
    assert top_m < rest_m / 2
    assert all(p.location.endswith(("-1", "-2")) for p in ranked[:5])


def test_items_that_sell_together_stand_together(data: DemoData) -> None:
    def grid(code: str) -> tuple[int, int]:
        aisle, bay, _ = LOCATION.match(code).groups()  # type: ignore[union-attr]
        return "ABCDEFGH".index(aisle) * 3, int(bay)

    def spread(products: list[DemoProduct]) -> float:
        pts = [grid(p.location) for p in products]
        return mean(abs(a[0] - b[0]) + abs(a[1] - b[1]) for a, b in itertools.combinations(pts, 2))

    everything = spread(list(data.products))
    names = {base_of(p) for p in data.products}
    for bundle in BUNDLES:
        assert set(bundle) <= names, bundle
        members = [p for p in data.products if base_of(p) in bundle]
        assert spread(members) < everything / 3, bundle


# --------------------------------------------------------------------------- orders


def test_orders_refer_to_products_and_add_up(data: DemoData) -> None:
    products = {p.sku: p for p in data.products}
    for o in data.orders:
        assert 1 <= len(o.lines) <= 6
        assert len({ln.sku for ln in o.lines}) == len(o.lines)
        for ln in o.lines:
            assert ln.sku in products
            assert ln.quantity >= 1
            assert ln.unit_price_ore == products[ln.sku].price_ore
        subtotal = sum(ln.quantity * ln.unit_price_ore for ln in o.lines)
        assert o.total_ore == subtotal + o.shipping_ore
        assert all(isinstance(v, int) for v in (o.total_ore, o.shipping_ore))


def test_order_ids_numbers_and_times(data: DemoData) -> None:
    ids = [o.shop_order_id for o in data.orders]
    assert ids == list(range(5001, 5001 + len(ids)))
    assert all(o.number == str(o.shop_order_id) for o in data.orders)
    created = [o.created_at for o in data.orders]
    assert created == sorted(created)
    for o in data.orders:
        assert o.created_at.utcoffset() == timedelta(0)
        assert REFERENCE_NOW - timedelta(days=7) < o.created_at < REFERENCE_NOW
        assert o.paid_at is not None
        assert o.created_at <= o.paid_at <= min(REFERENCE_NOW, o.created_at + timedelta(hours=1))
    assert created[-1] - created[0] > timedelta(days=2), "spread over the past days"


def test_order_mix(data: DemoData) -> None:
    orders = data.orders
    multi = [o for o in orders if len(o.lines) > 1]
    assert 0.2 <= len(multi) / len(orders) <= 0.5
    assert any(ln.quantity > 1 for o in orders for ln in o.lines)
    notes = [o for o in orders if o.customer_note]
    assert 0.1 <= len(notes) / len(orders) <= 0.4
    assert any(NORWEGIAN.search(o.customer_note) for o in notes)
    methods = Counter(o.shipping_method_id for o in orders)
    assert set(methods) <= {"flat_rate:3", "flat_rate:4", "local_pickup:1"}
    assert methods["flat_rate:3"] + methods["flat_rate:4"] > len(orders) / 2
    titles = {(o.shipping_method_id, o.shipping_method_title) for o in orders}
    assert ("flat_rate:3", "Posten Norgespakke") in titles
    assert ("flat_rate:4", "PostNord MyPack Collect") in titles
    payments = {(o.payment_method, o.payment_method_title) for o in orders}
    assert payments == {("vipps", "Vipps"), ("klarna", "Klarna")}


def test_customers_are_norwegian(data: DemoData) -> None:
    orders = data.orders
    for o in orders:
        for a in (o.shipping, o.billing):
            assert a.name and a.address1 and a.city and a.country == "NO"
            assert re.fullmatch(r"\d{4}", a.postcode)
            assert re.fullmatch(r"[A-Za-zÆØÅæøå.\- ]+ \d+[A-Z]?", a.address1), a.address1
        assert re.fullmatch(r"\+47 [49]\d\d \d\d \d\d\d", o.billing.phone)
        assert re.fullmatch(r"[a-z0-9.]+@[a-z0-9.]+", o.billing.email)
    assert sum(bool(NORWEGIAN.search(o.billing.name)) for o in orders) >= 5
    assert any(o.shipping.company for o in orders)
    assert any(o.shipping.address2 for o in orders)


def test_postcodes_match_their_cities() -> None:
    known = {"0150": "Oslo", "5003": "Bergen", "7010": "Trondheim", "9008": "Tromsø"}
    known |= {"6002": "Ålesund", "8006": "Bodø", "4610": "Kristiansand S", "4006": "Stavanger"}
    known |= {"2609": "Lillehammer", "1606": "Fredrikstad"}
    table = dict(dc._POSTCODES)
    assert len(table) == len(dc._POSTCODES)
    for code, city in known.items():
        assert table[code] == city
    for code, city in table.items():
        if code < "1300":
            assert city == "Oslo", code


def test_every_state_and_the_older_the_further(data: DemoData) -> None:
    counts = Counter(o.status for o in data.orders)
    assert set(counts) == set(ORDER_STATUSES)
    assert counts["new"] + counts["slip_printed"] >= len(data.orders) * 0.4
    for s in ORDER_STATUSES:
        assert counts[s] >= 3, s
        assert counts[s] <= counts["new"], s
    when = {s: [o.created_at for o in data.orders if o.status == s] for s in ORDER_STATUSES}
    assert max(when["handed_over"]) < min(when["shipped"]) < min(when["new"])
    assert min(o.created_at for o in data.orders) in when["handed_over"]
    assert mean(t.timestamp() for t in when["packed"]) < mean(t.timestamp() for t in when["new"])


def test_items_sold_together_are_ordered_together(data: DemoData) -> None:
    bundle_of = {base: i for i, b in enumerate(BUNDLES) for base in b}
    products = {p.sku: p for p in data.products}
    orders = generate_orders(random.Random(11), data.products, 1, 300, REFERENCE_NOW)
    together = 0
    for o in orders:
        bases = {base_of(products[ln.sku]) for ln in o.lines}
        bundles = Counter(bundle_of[b] for b in bases if b in bundle_of)
        together += any(n > 1 for n in bundles.values())
    assert together >= 30


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_invariants_hold_for_other_seeds(seed: int) -> None:
    d = generate(seed, n_orders=60)
    assert len(d.orders) == 60
    assert {o.status for o in d.orders} == set(ORDER_STATUSES)
    skus = {p.sku for p in d.products}
    assert all(ln.sku in skus for o in d.orders for ln in o.lines)
    assert all(
        o.total_ore == o.shipping_ore + sum(ln.quantity * ln.unit_price_ore for ln in o.lines)
        for o in d.orders
    )
    assert len({p.location for p in d.products}) == len(d.products)
    assert any(len(o.lines) > 1 for o in d.orders)
    assert any(o.customer_note for o in d.orders)


def test_generate_orders_makes_fresh_orders_to_tick_in(data: DemoData) -> None:
    now = datetime(2026, 11, 27, 13, 30, tzinfo=UTC)
    (fresh,) = generate_orders(random.Random(5), data.products, 6001, 1, now)
    assert fresh.shop_order_id == 6001 and fresh.number == "6001"
    assert fresh.status == "new"
    assert now - timedelta(hours=1) < fresh.created_at < now
    assert fresh.paid_at is not None and fresh.paid_at <= now
    again = generate_orders(random.Random(5), data.products, 6001, 1, now)
    assert again == [fresh]
    assert generate_orders(random.Random(5), data.products, 6001, 0, now) == []
    with pytest.raises(ValueError):
        generate_orders(random.Random(5), data.products, 6001, 1, now.replace(tzinfo=None))


# --------------------------------------------------------------------------- the demo's day


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_the_demo_moves_to_any_day_in_whole_days_and_never_into_the_future(now: datetime) -> None:
    now = now.replace(tzinfo=UTC)
    shift = demo_shift(now)
    assert shift % timedelta(days=1) == timedelta(0)
    assert REFERENCE_NOW + shift <= now < REFERENCE_NOW + shift + timedelta(days=1)


def test_a_demo_started_weeks_later_shows_that_days_orders() -> None:
    later = REFERENCE_NOW + timedelta(days=23, hours=5)
    data, moved = generate(1), moved_to(generate(1), later)
    assert [o.number for o in moved.orders] == [o.number for o in data.orders]
    newest = max(o.created_at for o in moved.orders)
    assert later - timedelta(days=1) < newest <= later
    for before, after in zip(data.orders, moved.orders, strict=True):
        assert after.created_at - before.created_at == timedelta(days=23)
        assert after.lines == before.lines and after.status == before.status
    assert moved_to(data, REFERENCE_NOW) is data
