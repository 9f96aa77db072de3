"""The pack station knows the carrier product's limits (#14): for a mailbox parcel (Bring 3584:
5 kg, 45 cm long, sides summing to 90 cm) it suggests only boxes and bags that qualify, refuses
a box that does not and a parcel too heavy — before any label is bought."""

from __future__ import annotations

import pytest
from sqlmodel import select

from packbench.config import Settings
from packbench.data.engine import Database
from packbench.data.models import Order, Parcel, Product
from packbench.operations.common import Actor
from packbench.operations.intake import receive_order
from packbench.operations.pack_views import PackRules
from packbench.operations.packstation import pack_scan
from tests.operations.seed import order_in, seed
from tests.operations.test_packstation import BOXES, CODES, KARI, add_boxes, make_picked

MAILBOX = "flat_rate:9"
SETTINGS = Settings(
    ship={
        "carriers": {
            "Bring": {"kind": "bring", "customer_number": "5", "client_url": "https://x.no"},
            "Posten": {},
        },
        "methods": {
            MAILBOX: {"carrier": "Bring", "product": "3584"},
            "flat_rate:3": {"carrier": "Posten"},
        },
    }
)
RULES = PackRules.from_settings(SETTINGS)
#: Too long for a mailbox parcel (50 cm), and the cheapest: the suggestion would take it.
LONG_BOX = ("BOX-L", "box", "Eske L", 500, 300, 200, 20000, 100, 100)


def scan(db: Database, raw: str, order_id: int | None):  # type: ignore[no-untyped-def]
    outcome = pack_scan(db, KARI, raw, CODES, RULES, order_id=order_id)
    assert outcome is not None, raw
    return outcome


@pytest.fixture
def bench(db: Database) -> tuple[Database, dict[str, int]]:
    ids = seed(db)
    add_boxes(db, [*BOXES, LONG_BOX])
    system = Actor("admin", "seed")
    with db.write() as s:
        s.add(Product(sku="FJ-HG-0003", gtin="7071234000039", gtin14="07071234000039",
                      name="Hagespade", location="A-01-1", length_mm=600, width_mm=60,
                      height_mm=40, weight_g=900))  # fmt: skip
        for oid in (ids["first"], ids["second"]):
            order = s.get(Order, oid)
            assert order is not None
            order.shipping_method_id = MAILBOX
            s.add(order)
        ids["long"] = receive_order(
            s, system, order_in(5010, ("FJ-HG-0003", 1), shipping_method_id=MAILBOX)
        ).order_id
    for key in ("first", "second", "long"):
        make_picked(db, ids[key])
    return db, ids


def test_the_limits_come_from_the_configuration() -> None:
    product = RULES.product_for(MAILBOX)
    assert product is not None
    assert (product.max_weight_g, product.max_length_mm, product.max_sum_of_sides_mm) == (
        5000, 450, 900,
    )  # fmt: skip
    assert RULES.product_for("flat_rate:3") is None  # the built-in carrier sets none


def test_only_boxes_that_qualify_are_suggested(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    out = scan(db, "ORD-5001", None)
    s = out.view.suggestion
    assert s is not None and s.parcels
    assert all(p.box != "BOX-L" for p in s.parcels) and "BOX-L" not in s.alternatives
    # The same order without the limit takes the cheapest, the long box.
    unlimited = pack_scan(db, KARI, "ORD-5002", CODES, PackRules(), order_id=None)
    assert unlimited is not None
    assert unlimited.view.suggestion.parcels[0].box == "BOX-L"


def test_a_box_that_does_not_qualify_is_refused_before_the_label(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["first"]
    scan(db, "ORD-5001", None)
    scan(db, "7071234000015", oid)
    scan(db, "7071234000015", oid)
    out = scan(db, "BOX-L", oid)
    assert not out.ok
    assert (
        "BOX-L (Eske L) does not qualify for order 5001: Pakke i postkassen takes at most 45 cm "
        "long (50)" in out.message
    )
    with db.read() as s:
        (parcel,) = s.exec(select(Parcel).where(Parcel.order_id == oid)).all()
        assert parcel.box_code is None
    assert scan(db, "BOX-S", oid).ok


def test_a_parcel_too_heavy_for_the_product_is_refused(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["first"]
    scan(db, "ORD-5001", None)
    scan(db, "2*7071234000015", oid)
    scan(db, "BOX-S", oid)
    out = scan(db, "5200g", oid)
    assert not out.ok and "Parcel 1 weighs 5.20 kg, too much for order 5001" in out.message
    assert "takes at most 5 kg" in out.message and "not kept" in out.message
    with db.read() as s:
        (parcel,) = s.exec(select(Parcel).where(Parcel.order_id == oid)).all()
        assert parcel.weight_g == 0
    assert scan(db, "850g", oid).finished


def test_a_mailbox_order_whose_items_fit_no_qualifying_box_says_so(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    out = scan(db, "ORD-5010", None)
    s = out.view.suggestion
    assert s is not None and not s.parcels
    assert s.note is not None
    assert "in the boxes that qualify for Pakke i postkassen (at most 5 kg, 45 cm long, sides " \
        "summing to 90 cm)" in s.note  # fmt: skip
