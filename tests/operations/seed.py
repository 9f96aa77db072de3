"""A small, explicit bench for operations tests (the demo data has its own tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from packbench.core.codes import make_s10, make_sscc
from packbench.data.engine import Database
from packbench.data.models import Location, Packer, Parcel, Product
from packbench.operations.common import Actor
from packbench.operations.intake import LineIn, OrderIn, receive_order
from packbench.operations.packers import hash_pin

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SSCC = make_sscc(3, "7071234", 42)
TRACKING = make_s10("RR", 47312482, "NO")
SUPERVISOR_PIN = "2468"
_PIN_HASH = hash_pin(SUPERVISOR_PIN)  # once: scrypt is slow on purpose


def order_in(shop_id: int, *lines: tuple[str, int], minutes: int = 0, **kw) -> OrderIn:  # type: ignore[no-untyped-def]
    defaults = dict(
        ship_name="Bjørn Ødegård",
        ship_address1="Kongens gate 5",
        ship_postcode="7010",
        ship_city="Trondheim",
        shipping_method_title="Posten Norgespakke",
        modified_at=T0 + timedelta(minutes=minutes),
    )
    defaults.update(kw)
    return OrderIn(
        shop_order_id=shop_id,
        number=str(shop_id),
        created_at=T0 + timedelta(minutes=minutes),
        lines=tuple(LineIn(sku=s, name="", quantity=q, unit_price_ore=9900) for s, q in lines),
        **defaults,
    )


def seed(db: Database) -> dict[str, int]:
    system = Actor(station="admin", terminal="seed")
    with db.write() as s:
        s.add(Location(code="A-01-1", aisle="A", bay=1, level=1))
        s.add(Location(code="C-07-2", aisle="C", bay=7, level=2))
        s.add(
            Product(
                sku="FJ-KJ-0001",
                gtin="7071234000015",
                gtin14="07071234000015",
                name="Kaffekopp i steintøy",
                location="A-01-1",
                fragile=True,
                length_mm=100,
                width_mm=90,
                height_mm=95,
                weight_g=350,
            )
        )
        s.add(
            Product(
                sku="FJ-TX-0002",
                gtin="7071234000022",
                gtin14="07071234000022",
                name="Ullsokker 3-pk",
                location="C-07-2",
                length_mm=200,
                width_mm=120,
                height_mm=40,
                weight_g=180,
            )
        )
        s.add(Packer(name="Kari Nordmann", badge="BDG-1001", role="packer"))
        s.add(Packer(name="Ola Sjef", badge="BDG-1004", role="supervisor", pin_hash=_PIN_HASH))
        s.add(Packer(name="Gone Person", badge="BDG-1999", role="packer", active=False))
    ids = {}
    with db.write() as s:
        ids["first"] = receive_order(s, system, order_in(5001, ("FJ-KJ-0001", 2))).order_id
        ids["second"] = receive_order(
            s,
            system,
            order_in(
                5002,
                ("FJ-TX-0002", 1),
                ("FJ-KJ-0001", 1),
                minutes=5,
                ship_name="Åse Kværner",
                ship_city="Tromsø",
                customer_note="Gaveinnpakning, takk!",
            ),
        ).order_id
        ids["third"] = receive_order(
            s, system, order_in(5003, ("FJ-TX-0002", 3), minutes=10)
        ).order_id
        s.add(
            Parcel(
                order_id=ids["third"],
                seq=1,
                sscc=SSCC,
                tracking_number=TRACKING,
                carrier="Posten",
                status="labelled",
                label_printed_at=T0,
            )
        )
    return ids
