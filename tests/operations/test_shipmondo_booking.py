"""The ship station booking through Shipmondo (the demo carrier over loopback) on a real
database: the same operations as for Bring and Cargonizer — the carrier's numbers on the
parcels, its inline label kept (ZPL printed raw), and a lost answer found by reference
instead of a second booking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from packbench.config import Settings
from packbench.data.models import CarrierLabel, Shipment
from packbench.operations.carrier_booking import label_documents
from packbench.operations.shipping import create_shipment
from tests.operations.carrier_bench import SENDER, SHIPPER, demo_carrier, live_parcels, rows
from tests.operations.test_carrier_booking import bench  # noqa: F401

from packbench.carriers.demo_carrier import (  # isort: skip
    DEFAULT_SHIPMONDO_KEY, DEFAULT_SHIPMONDO_USER, DemoCarrierApp,
)  # fmt: skip


def shipmondo_settings(url: str, **carrier: Any) -> Settings:
    return Settings(
        ship={
            "carriers": {
                "Shipmondo": {
                    "kind": "shipmondo",
                    "api_url": url + "/shipmondo/api/public/v3",
                    "trust_empty_lookup": True,
                    "timeout_s": 5,
                    **carrier,
                }
            },
            "methods": {
                "flat_rate:3": {"carrier": "Shipmondo", "service": "Hjem", "product": "BRI_NO_HOME"}
            },
            "sender": SENDER,
        }
    )


@pytest.fixture
def carrier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, DemoCarrierApp]]:
    with demo_carrier(
        tmp_path,
        monkeypatch,
        PACKBENCH_SHIPMONDO_USER=DEFAULT_SHIPMONDO_USER,
        PACKBENCH_SHIPMONDO_KEY=DEFAULT_SHIPMONDO_KEY,
    ) as running:
        yield running


@pytest.mark.parametrize("label_format", ["10x19_pdf", "10x19_zpl"])
def test_the_station_books_through_shipmondo_and_keeps_its_label(  # type: ignore[no-untyped-def]
    bench,  # noqa: F811
    carrier,
    label_format: str,
) -> None:
    db, ids = bench
    url, app = carrier
    view = create_shipment(db, SHIPPER, shipmondo_settings(url, label_format=label_format).ship,
                           ids["first"])  # fmt: skip
    (booking,) = app.state.bookings()
    assert view.carrier == "Shipmondo" and view.consignment == booking["consignmentNumber"]
    assert booking["productId"] == "5600" and booking["reference"] == "5001"
    assert [p.tracking_number for p in live_parcels(db, ids["first"])] == [
        p["packageNumber"] for p in booking["packages"]
    ]
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.booking_state == "booked" and shipment.product == "BRI_NO_HOME"
    (label,) = rows(db, CarrierLabel, shipment_id=shipment.id)
    fmt = label_format.removeprefix("10x19_")
    assert label.format == fmt and label.data and label.fetched_at is not None
    (doc,) = label_documents(db, shipment.id or 0)
    assert doc.raw == (fmt == "zpl")
    if fmt == "pdf":
        assert dict(doc.options)["PageSize"] == "Custom.100x190mm"
    # The label came inline: the carrier was asked once, for the booking.
    assert [r["method"] for r in app.state.received] == ["POST"]


def test_a_lost_answer_at_the_station_is_one_booking(bench, carrier) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    db, ids = bench
    url, app = carrier
    app.faults.update({"next": ["lose"]})
    view = create_shipment(db, SHIPPER, shipmondo_settings(url).ship, ids["first"])
    (booking,) = app.state.bookings()
    assert view.consignment == booking["consignmentNumber"]
    assert [r["method"] for r in app.state.received].count("POST") == 1
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    (label,) = rows(db, CarrierLabel, shipment_id=shipment.id)
    assert label.data and label.data.startswith(b"%PDF")  # fetched by the shipment's id
