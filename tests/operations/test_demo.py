from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from packbench.config import ShipSettings
from packbench.core.codes import is_valid_s10, is_valid_sscc
from packbench.data.demo_catalogue import REFERENCE_NOW
from packbench.data.engine import create_database
from packbench.data.migrate import upgrade
from packbench.data.models import Event, Order, Packer, Parcel, Product
from packbench.operations.demo import DemoError, load_demo
from packbench.operations.orders import export_orders, status_counts
from packbench.operations.packers import check_pin


def test_demo_has_every_state_and_a_full_history(demo_db) -> None:  # type: ignore[no-untyped-def]
    counts = status_counts(demo_db)
    assert sum(counts.values()) >= 60
    assert all(n > 0 for n in counts.values()), counts
    with demo_db.read() as s:
        assert s.exec(select(func.count()).select_from(Product)).one() >= 200
        without_events = s.exec(
            select(Order.number).where(~col(Order.id).in_(select(Event.order_id)))
        ).all()
        assert without_events == []
        held = s.exec(select(Order).where(Order.status == "on_hold")).all()
        assert all(o.held_from and o.hold_reason for o in held)


def test_shipped_parcels_carry_valid_numbers(demo_db) -> None:  # type: ignore[no-untyped-def]
    with demo_db.read() as s:
        rows = s.exec(
            select(Parcel, Order.status).join(Order, col(Parcel.order_id) == col(Order.id))
        ).all()
    assert rows
    for parcel, status in rows:
        assert parcel.box_code and parcel.weight_g > 0
        if status in ("shipped", "handed_over"):
            assert is_valid_sscc(parcel.sscc or "") and is_valid_s10(parcel.tracking_number or "")
            # From the carrier's configured range: PostNord's are CP 80000000-89999999.
            carrier = ShipSettings().carriers[parcel.carrier or ""]
            number = parcel.tracking_number or ""
            assert number.startswith(carrier.s10_prefix), (parcel.carrier, number)
            assert carrier.s10_first <= int(number[2:10]) <= carrier.s10_last
        else:
            assert status == "packed" and parcel.sscc is None


def test_pins_are_hashed(demo_db) -> None:  # type: ignore[no-untyped-def]
    with demo_db.read() as s:
        boss = s.exec(select(Packer).where(Packer.role == "supervisor")).one()
    assert boss.pin_hash and "2468" not in boss.pin_hash
    assert check_pin("2468", boss.pin_hash)
    assert not check_pin("2469", boss.pin_hash)


def test_demo_is_deterministic_by_seed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    exports = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        db = create_database(tmp_path / f"{name}.db")
        upgrade(db)
        load_demo(db, seed=seed, orders=60)
        exports.append(export_orders(db))
        db.dispose()
    assert exports[0] == exports[1]
    assert exports[0] != exports[2]


def test_demo_refuses_a_database_with_orders(demo_db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DemoError, match="already holds"):
        load_demo(demo_db)


def test_the_demo_loaded_weeks_after_its_reference_day_is_dated_today(tmp_path) -> None:  # type: ignore[no-untyped-def]
    now = REFERENCE_NOW + timedelta(days=40, hours=3)
    db = create_database(tmp_path / "dated.db")
    upgrade(db)
    load_demo(db, seed=1, now=now)
    with db.read() as s:
        created = list(s.exec(select(Order.created_at)).all())
    db.dispose()
    assert created and max(created) <= now
    assert max(created) > now - timedelta(days=1)
    assert min(created) > now - timedelta(days=9)
