"""GS1 codes at the pack and pick stations: element strings without separators, cases that
count their contents, expired items, UPC-E and variable-measure numbers, and a SKU that
reads like an element string (the catalogue wins)."""

# ruff: noqa: F811 - the tests take the imported `bench` fixture by name
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import select

from packbench.config import CodeSettings
from packbench.core.codes import RCN_REGIONS, CodeRules, gs1_check_digit
from packbench.data.engine import Database
from packbench.data.models import Event, Order, OrderLine, Product
from packbench.operations.common import Actor
from packbench.operations.intake import receive_order
from packbench.operations.pack_views import PackRules
from packbench.operations.packstation import pack_scan
from tests.operations.seed import order_in
from tests.operations.test_packstation import (  # noqa: F401 - the fixture
    CUP,
    KARI,
    RULES,
    SOCKS,
    bench,
    make_picked,
    snapshot,
)

CUP14, SOCKS14 = "0" + CUP, "0" + SOCKS
FUTURE = (date.today() + timedelta(days=400)).strftime("%y%m%d")
NO = CodeRules(rcn_region="no")
SYSTEM = Actor("admin", "seed", None)


def scan(db: Database, raw: str, order_id: int | None, *, codes=NO, rules=RULES):  # type: ignore[no-untyped-def]
    outcome = pack_scan(db, KARI, raw, codes, rules, order_id=order_id)
    assert outcome is not None, raw
    return outcome


def last_pack_data(db: Database) -> dict[str, object]:
    with db.read() as s:
        rows = s.exec(
            select(Event).where(Event.station == "pack", Event.result == "ok").order_by(Event.id)
        ).all()
    return json.loads([e for e in rows if e.data and '"qty"' in e.data][-1].data or "{}")


def add_product(db: Database, sku: str, gtin14: str) -> None:
    with db.write() as s:
        s.add(
            Product(
                sku=sku,
                gtin=gtin14.lstrip("0"),
                gtin14=gtin14,
                name=f"Vare {sku}",
                location="A-01-1",
                length_mm=100,
                width_mm=80,
                height_mm=50,
                weight_g=200,
            )
        )


def new_order(db: Database, shop_id: int, *lines: tuple[str, int]) -> int:
    with db.write() as s:
        oid = receive_order(s, SYSTEM, order_in(shop_id, *lines)).order_id
    make_picked(db, oid)
    return oid


def test_a_gs1_datamatrix_with_the_batch_last_packs_the_item_and_keeps_its_batch(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["first"]
    assert scan(db, "ORD-5001", None).ok
    out = scan(db, f"01{CUP14}17{FUTURE}10LOT42", oid)
    assert out.ok and "1 of 2" in out.message, out.message
    data = last_pack_data(db)
    assert (data["batch"], data["qty"], data["gtin"]) == ("LOT42", 1, CUP14)
    assert data["expiry"] == f"20{FUTURE[:2]}-{FUTURE[2:4]}-{FUTURE[4:]}"
    # The same unit as a Digital Link on the brand's own domain.
    out = scan(db, f"https://shop.example.no/01/{CUP14}/10/LOT43?17={FUTURE}", oid)
    assert out.ok and "2 of 2" in out.message, out.message


def test_an_expired_item_is_refused_with_its_date_or_warned_about(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["first"]
    scan(db, "ORD-5001", None)
    before = snapshot(db)
    out = scan(db, f"01{CUP14}17200100" + "10OLD", oid)
    assert not out.ok
    assert "Expired" in out.message and "31.01.2020" in out.message, out.message
    assert snapshot(db) == before
    warn = PackRules(30, 3, 10.0, expired_items="warn")
    out = scan(db, f"01{CUP14}17200100" + "10OLD", oid, rules=warn)
    assert out.ok and "EXPIRED 31.01.2020" in out.message, out.message


def test_a_case_counts_the_units_it_holds_when_the_order_wants_them(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    oid = new_order(db, 6001, ("FJ-TX-0002", 6))
    scan(db, "ORD-6001", None)
    before = snapshot(db)
    too_many = scan(db, f"02{SOCKS14}3712", oid)
    assert not too_many.ok
    assert "A case of 12 × Ullsokker 3-pk, but only 6 still to pack" in too_many.message
    no_count = scan(db, f"(02){SOCKS14}", oid)
    assert not no_count.ok and "not how many (no AI 37)" in no_count.message
    typed = scan(db, f"2*02{SOCKS14}374", oid)
    assert not typed.ok and "A case counts itself" in typed.message
    assert snapshot(db) == before
    out = scan(db, f"02{SOCKS14}374", oid)
    assert out.ok and out.view.units_packed == 4, out.message
    assert last_pack_data(db)["case_of"] == 4
    # A pallet label (SSCC + contents + count) counts the same way.
    sscc_body = "37071234" + "000000099"
    sscc = sscc_body + str(gs1_check_digit(sscc_body))
    out = scan(db, f"00{sscc}02{SOCKS14}372", oid)
    assert out.ok and out.view.units_packed == 6, out.message
    # Undo takes the whole case back out.
    out = scan(db, "CMD-UNDO", oid)
    assert out.ok and out.view.units_packed == 4, out.message


def test_a_case_of_another_product_is_not_counted(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["first"]  # two cups, no socks
    scan(db, "ORD-5001", None)
    out = scan(db, f"02{SOCKS14}372", oid)
    assert not out.ok and "Ullsokker" in out.message and "nothing counted" in out.message


def test_a_sku_that_reads_like_an_element_string_is_the_catalogues_sku(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    code = f"01{CUP14}10AB"  # reads as the cup's GTIN with batch AB …
    with db.write() as s:  # … but the shop gave the socks this SKU
        socks = s.exec(select(Product).where(Product.gtin == SOCKS)).one()
        socks.sku = code
        s.add(socks)
        for line in s.exec(select(OrderLine).where(OrderLine.product_id == socks.id)).all():
            line.sku = code
            s.add(line)
    oid = ids["second"]  # socks and a cup
    scan(db, "ORD-5002", None)
    out = scan(db, code, oid)
    assert out.ok and "Ullsokker" in out.message, out.message
    # Separated, it can only be the element string: the cup.
    out = scan(db, f"01{CUP14}\x1d10AB", oid)
    assert out.ok and "Kaffekopp" in out.message, out.message


def test_without_that_sku_the_same_code_is_the_gs1_product(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    scan(db, "ORD-5001", None)
    out = scan(db, f"01{CUP14}10AB", ids["first"])
    assert out.ok and "Kaffekopp" in out.message and "1 of 2" in out.message, out.message


def test_upc_e_and_an_8_digit_code_with_two_readings_find_their_products(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    add_product(db, "US-CANDY", "00042100005264")  # UPC-A 042100005264, printed as UPC-E
    add_product(db, "EAN8-ITEM", "00000001234565")  # listed under the EAN-8 reading
    oid = new_order(db, 6002, ("US-CANDY", 1), ("EAN8-ITEM", 1))
    scan(db, "ORD-6002", None)
    out = scan(db, "04252614", oid)
    assert out.ok and "Vare US-CANDY" in out.message, out.message
    out = scan(db, "01234565", oid)  # UPC-E first, then EAN-8: the catalogue has the EAN-8
    assert out.ok and "Vare EAN8-ITEM" in out.message, out.message


def test_a_weighed_item_is_found_by_its_item_number_and_its_weight_kept(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    add_product(db, "LAKS-FILET", "02302148200006")
    oid = new_order(db, 6003, ("LAKS-FILET", 1))
    scan(db, "ORD-6003", None)
    out = scan(db, "2302148210869", oid, codes=CodeRules())  # no region: a plain GTIN
    assert not out.ok and "No product has GTIN" in out.message
    out = scan(db, "2302148210869", oid)
    assert out.ok and "Vare LAKS-FILET" in out.message, out.message
    assert last_pack_data(db)["weight_g"] == 1086
    with db.read() as s:
        assert s.get(Order, oid).status in ("packing", "packed")  # type: ignore[union-attr]


def test_the_configured_regions_are_the_ones_the_core_reads() -> None:
    field = CodeSettings.model_fields["variable_measure_region"]
    allowed = set(field.annotation.__args__)  # type: ignore[union-attr]
    assert allowed - {""} == set(RCN_REGIONS)
    with pytest.raises(ValueError):
        CodeSettings(variable_measure_region="xx")  # type: ignore[arg-type]


def test_a_serialised_unit_scanned_twice_counts_once(bench) -> None:
    db, ids = bench
    oid = ids["first"]  # two cups
    scan(db, "ORD-5001", None)
    assert scan(db, f"01{CUP14}21SN1", oid).ok
    before = snapshot(db)
    again = scan(db, f"(01){CUP14}(21)SN1", oid)
    assert not again.ok and "Already packed" in again.message and "serial SN1" in again.message
    assert snapshot(db) == before
    # Undone, the same unit may be scanned again; another serial is another unit.
    assert scan(db, "CMD-UNDO", oid).ok
    assert scan(db, f"01{CUP14}21SN1", oid).ok
    out = scan(db, f"01{CUP14}21SN2", oid)
    assert out.ok and out.view.units_packed == 2, out.message
