"""Shipmondo: its JSON built and read by pure functions against the examples' documented
payloads, then the adapter against the demo carrier's ``/shipmondo`` face over loopback —
bookings checked field by field as the server received them, base64 labels decoded (the PDF
rendered and its GS1-128 barcodes read back; the ZPL parsed for its ``^BC`` and rendered),
errors naming the field, 429 with back-off, and the lost answer looked up before any retry."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zplkit
import zxingcpp
from PIL import Image

from packbench.carriers import (
    Address,
    AuthError,
    BookingUndecided,
    NotSupported,
    ParcelRequest,
    PayloadError,
    RateLimited,
    Rejected,
    RetryPolicy,
    ShipmentRequest,
    book,
)
from packbench.carriers.demo_carrier import (
    DEFAULT_SHIPMONDO_KEY,
    DEFAULT_SHIPMONDO_USER,
    DemoCarrierApp,
    create_app,
    run_in_thread,
)
from packbench.carriers.factory import carrier_for, shipmondo_config
from packbench.carriers.shipmondo import ShipmondoCarrier
from packbench.carriers.shipmondo_payloads import (
    ShipmondoOptions,
    labels_in,
    parse_errors,
    parse_shipment,
    shipment_body,
)
from packbench.core.codes import is_valid_sscc
from packbench.redact import clear_secrets
from tests.printing.test_documents import pages

FIXTURES = Path(__file__).parent / "fixtures"
SENDER = Address("Fjordgarn Nettbutikk AS", "Lagerveien 7", "Port 3", "2013", "Skjetten", "NO",
                 "lager@example.com", "+4712345678", "Pakkebenken")  # fmt: skip
OPTIONS = ShipmondoOptions(
    "BRI_NO_PICKUP_PLACEHOLDER",
    SENDER,
    label_format="10x19_zpl",
    customer_number="20019455",
    contents="Garn og strikketilbehør",
)
PREFIX = "/shipmondo/api/public/v3"


def request(number: str = "10457", **changes: Any) -> ShipmentRequest:
    base = ShipmentRequest(
        order_number=number,
        reference=f"Ordre {number}",
        service="",
        product="BRI_NO_PICKUP_PLACEHOLDER",
        recipient_name="Åse Ødegård Brænne",
        address1="Bjørnstjerne Bjørnsons gate 12",
        address2="c/o Søren Æsøy",
        postcode="3044",
        city="Drammen",
        country="NO",
        email="ase.brenne@example.com",
        phone="+4791234567",
        pickup_point_id="148302",
        parcels=(
            ParcelRequest(1, 1400, 350, 250, 120, "Garn og strikkepinner"),
            ParcelRequest(2, 600, 310, 220, 40, "Mønsterhefte"),
        ),
    )
    return ShipmentRequest(**{**base.__dict__, **changes})


# --------------------------------------------------------------------------- pure


def test_the_body_has_the_documented_fields_and_values() -> None:
    ours = shipment_body(request(), OPTIONS)
    documented = json.loads((FIXTURES / "shipmondo-shipment-request.json").read_text())
    assert set(ours) <= set(documented)
    for key in ("own_agreement", "customer_number", "label_format", "product_code",
                "service_codes", "reference", "contents", "automatic_select_service_point",
                "service_point_id", "print", "replace_http_status_code"):  # fmt: skip
        assert ours[key] == documented[key], key
    assert ours["parties"] == documented["parties"]  # sender and receiver, field by field
    for mine, theirs in zip(ours["parcels"], documented["parcels"], strict=True):
        assert set(mine) == set(theirs)
        for key in ("quantity", "weight", "length", "width", "height", "description"):
            assert mine[key] == theirs[key], key
        assert isinstance(mine["weight"], int)  # whole grams
    assert [p["internal_reference"] for p in ours["parcels"]] == ["Ordre 10457-1", "Ordre 10457-2"]


def test_bad_input_is_refused_before_sending_naming_the_field() -> None:
    with pytest.raises(Rejected) as err:
        shipment_body(request(postcode="", parcels=(ParcelRequest(1, 0),)), OPTIONS)
    fields = {p.field for p in err.value.problems}
    assert {"recipient.postcode", "parcels[1].weight"} <= fields
    with pytest.raises(Rejected, match="e-mail or mobile"):
        shipment_body(request(email="", phone=""), OPTIONS)


def test_the_documented_answer_gives_the_numbers_and_the_zpl_label() -> None:
    body = json.loads((FIXTURES / "shipmondo-shipment-response.json").read_text())
    booked = parse_shipment(body, request(), carrier="Shipmondo")
    assert booked.consignment_number == "70438105551104577"
    assert [p.tracking_number for p in booked.parcels] == [
        "370438105551045711",
        "370438105551045728",
    ]
    # An SSCC is kept only when the number is one (the fixture's invented numbers are not).
    assert all(p.sscc == (p.tracking_number if is_valid_sscc(p.tracking_number) else "")
               for p in booked.parcels)  # fmt: skip
    (label,) = booked.labels
    assert label.format == "zpl" and label.data.startswith(b"^XA")
    assert b"^BC" in label.data and b"370438105551045711" in label.data


def test_parcels_are_matched_by_internal_reference_not_order() -> None:
    body = json.loads((FIXTURES / "shipmondo-shipment-response.json").read_text())
    body["parcels"].reverse()
    for p, ref in zip(body["parcels"], ("Ordre 10457-2", "Ordre 10457-1"), strict=True):
        p["internal_reference"] = ref
    booked = parse_shipment(body, request(), carrier="Shipmondo")
    assert [p.tracking_number for p in booked.parcels] == [
        "370438105551045711",
        "370438105551045728",
    ]


@pytest.mark.parametrize(
    ("body", "said", "field"),
    [
        ({"error": "Receiver postal_code is invalid"}, "recipient postcode:", "recipient.postcode"),
        ({"error": ["product_code is invalid"]}, "product:", "product_code"),
        ({"errors": {"parcels.weight": ["must be greater than 0"]}}, "parcel weight:",
         "parcels.weight"),
        ({"error": "Something else"}, "Something else", ""),
    ],
)  # fmt: skip
def test_error_texts_name_the_field(body: Any, said: str, field: str) -> None:
    (problem,) = parse_errors(body)
    assert str(problem).startswith(said) and problem.field == field


def test_hostile_answers_are_payload_errors() -> None:
    good = json.loads((FIXTURES / "shipmondo-shipment-response.json").read_text())
    for broken in (
        {**good, "id": None},
        {**good, "parcels": good["parcels"][:1]},
        {**good, "labels": [{"base64": "not base64!", "file_format": "pdf"}]},
        {**good, "labels": [{"base64": base64.b64encode(b"PNG").decode(), "file_format": "png"}]},
    ):
        with pytest.raises(PayloadError):
            parse_shipment(broken, request(), carrier="Shipmondo")
    with pytest.raises(PayloadError, match="says pdf"):
        labels_in([{"base64": base64.b64encode(b"^XA^XZ").decode(), "file_format": "pdf"}])


# --------------------------------------------------------------------------- the demo carrier


class Demo:
    def __init__(self, url: str, app: DemoCarrierApp) -> None:
        self.url, self.app = url, app
        self.sleeps: list[float] = []

    def carrier(self, **settings: Any) -> ShipmondoCarrier:
        base = {"api_url": self.url + PREFIX, "timeout_s": 5.0, "customer_number": "20019455"}
        config = shipmondo_config("Shipmondo", {**base, **settings}, sender=SENDER)
        return ShipmondoCarrier(config, DEFAULT_SHIPMONDO_USER, DEFAULT_SHIPMONDO_KEY,
                                sleep=self.sleeps.append)  # fmt: skip

    def bookings(self) -> list[dict[str, Any]]:
        return [b for b in self.app.state.bookings() if b.get("source") == "shipmondo"]

    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.app.state.received if r["method"] == "POST"]

    def book(self, carrier: ShipmondoCarrier, req: ShipmentRequest, **kw: Any) -> Any:
        return book(carrier, req, None, sleep=self.sleeps.append, **kw)

    def fault(self, *kinds: str) -> None:
        self.app.faults.update({"next": list(kinds)})


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    app = create_app(tmp_path / "carrier.json")
    url, stop = run_in_thread(app)
    try:
        yield Demo(url, app)
    finally:
        stop()
        clear_secrets()


def order(product: str, number: str = "5001", **changes: Any) -> ShipmentRequest:
    return request(number, reference=number, product=product, **changes)


@pytest.mark.parametrize("product", ["BRI_NO_PICKUP", "BRI_NO_HOME", "BRI_NO_MAILBOX"])
def test_a_booking_per_product_is_sent_in_the_documented_shape(demo: Demo, product: str) -> None:
    pickup = product == "BRI_NO_PICKUP"
    parcels = (ParcelRequest(1, 1400, 350, 250, 120), ParcelRequest(2, 600, 300, 200, 40))
    req = order(product, pickup_point_id="304401" if pickup else "", parcels=parcels)
    booked = demo.book(demo.carrier(label_format="10x19_pdf"), req)
    (post,) = demo.posts()
    assert post["path"] == f"{PREFIX}/shipments"
    assert post["headers"]["content-type"] == "application/json"
    sent = post["body"]
    documented = json.loads((FIXTURES / "shipmondo-shipment-request.json").read_text())
    assert set(sent) <= set(documented)
    assert sent["product_code"] == product and sent["own_agreement"] is True
    assert sent["label_format"] == "10x19_pdf" and sent["service_codes"] == ""
    assert sent["reference"] == "5001" and sent["customer_number"] == "20019455"
    assert ("service_point_id" in sent) == pickup
    sender, receiver = sent["parties"]
    assert sender["type"] == "sender" and receiver["type"] == "receiver"
    assert receiver == {
        "type": "receiver", "name": "Åse Ødegård Brænne",
        "address1": "Bjørnstjerne Bjørnsons gate 12", "address2": "c/o Søren Æsøy",
        "postal_code": "3044", "city": "Drammen", "country_code": "NO",
        "email": "ase.brenne@example.com", "phone": "+4791234567",
    }  # fmt: skip
    assert [(p["weight"], p["length"], p["width"], p["height"]) for p in sent["parcels"]] == [
        (1400, 35, 25, 12), (600, 30, 20, 4),
    ]  # fmt: skip
    (stored,) = demo.bookings()
    assert booked.consignment_number == stored["consignmentNumber"]
    assert [p.tracking_number for p in booked.parcels] == [
        p["packageNumber"] for p in stored["packages"]
    ]
    assert all(is_valid_sscc(p.sscc) for p in booked.parcels)
    assert booked.tracking_url.endswith(booked.consignment_number)
    (label,) = booked.labels  # inline, no second call
    assert label.fetched and label.format == "pdf" and label.page_size_mm == (100.0, 190.0)
    rendered = pages(label.data)
    assert len(rendered) == 2
    for page, parcel in zip(rendered, booked.parcels, strict=True):
        gs1 = [c.text for c in page.codes() if c.symbology_identifier == "]C1"]
        assert gs1 == [f"(00){parcel.sscc}"]


def render_zpl(data: bytes) -> list[Image.Image]:
    doc = zplkit.render(data, zplkit.Options(profile="specification", dpi=203))
    out = []
    for scene in doc.labels:
        raster = scene.rasterize()
        out.append(Image.frombytes("L", (raster.width, raster.height), raster.pixels))
    return out


def test_a_zpl_label_10x19_carries_each_package_number_as_gs1_128(demo: Demo) -> None:
    # ASCII text: the offline ZPL renderer has no glyphs for æøå (printers do, with ^CI28).
    plain = {"recipient_name": "Ase Odegard", "address1": "Storgata 12", "address2": ""}
    booked = demo.book(demo.carrier(label_format="10x19_zpl"), order("BRI_NO_HOME", **plain))
    (label,) = booked.labels
    assert label.format == "zpl" and label.page_size_mm is None
    text = label.data.decode("ascii")
    assert text.count("^XA") == 2 and "^PW799" in text and "^LL1518" in text  # 100 x 190 mm
    # ^BC in UCC/EAN mode (D): FNC1 and AI 00 before each package's SSCC.
    bc = re.findall(r"\^BCN,\d+,[YN],N,N,D\^FD\(00\)(\d{18})\^FS", text)
    assert bc == [p.sscc for p in booked.parcels]
    for image, parcel in zip(render_zpl(label.data), booked.parcels, strict=True):
        found = {(c.text, c.symbology_identifier) for c in zxingcpp.read_barcodes(image)}
        assert (f"(00){parcel.sscc}", "]C1") in found


def test_a_product_may_ask_for_its_own_label_format(demo: Demo) -> None:
    carrier = demo.carrier(products={"BRI_NO_MAILBOX": {"label_format": "10x19_zpl"}})
    assert demo.book(carrier, order("BRI_NO_MAILBOX")).labels[0].format == "zpl"
    assert demo.book(carrier, order("BRI_NO_HOME", "5002")).labels[0].format == "pdf"
    assert [p.label_format for p in carrier.products()] == ["zpl"]


def test_without_a_label_format_the_label_is_fetched_by_the_shipment_id(demo: Demo) -> None:
    carrier = demo.carrier(label_format="")
    booked = demo.book(carrier, order("BRI_NO_HOME"))
    (link,) = booked.labels
    assert not link.fetched and link.url.startswith("shipmondo:")
    label = carrier.fetch_label(link)
    assert label.data.startswith(b"%PDF") and label.page_size_mm == (100.0, 190.0)
    last = demo.app.state.received[-1]
    assert last["path"] == f"{PREFIX}/shipments/{link.url.removeprefix('shipmondo:')}/labels"


def test_errors_name_the_field_and_book_nothing(demo: Demo) -> None:
    carrier = demo.carrier()
    with pytest.raises(Rejected) as err:  # our check passes "0000"; the carrier's does not
        demo.book(carrier, order("BRI_NO_HOME", postcode="0000"))
    assert err.value.status == 422
    assert str(err.value).startswith("recipient postcode: Receiver postal_code 0000 is invalid")
    assert err.value.problems[0].field == "recipient.postcode"
    with pytest.raises(Rejected, match="product: product_code 'BRI_NOPE' is invalid"):
        demo.book(carrier, order("BRI_NOPE"))
    big = (ParcelRequest(1, 9000, 500, 400, 300),)
    with pytest.raises(Rejected, match="exceed the product"):
        demo.book(carrier, order("BRI_NO_MAILBOX", parcels=big))
    assert demo.bookings() == []


def test_wrong_credentials_are_an_auth_error_without_the_key(demo: Demo) -> None:
    config = shipmondo_config("Shipmondo", {"api_url": demo.url + PREFIX}, sender=SENDER)
    carrier = ShipmondoCarrier(config, DEFAULT_SHIPMONDO_USER, "wrong-key-123")
    with pytest.raises(AuthError) as err:
        demo.book(carrier, order("BRI_NO_HOME"))
    assert err.value.status == 401 and "wrong-key-123" not in str(err.value)
    assert "refused the API user or key" in str(err.value)


def test_429_is_retried_with_backoff_and_books_once(demo: Demo) -> None:
    demo.fault("429", "429")
    booked = demo.book(demo.carrier(), order("BRI_NO_HOME"), policy=RetryPolicy(backoff_s=0.25))
    assert len(demo.bookings()) == 1 and booked.consignment_number
    assert demo.sleeps == [1.0, 1.0]  # Retry-After: 1
    demo.fault("429", "429", "429")
    with pytest.raises(RateLimited):
        demo.book(demo.carrier(), order("BRI_NO_HOME", "5002"), policy=RetryPolicy(attempts=3))
    assert len(demo.bookings()) == 1


def test_the_lost_answer_is_found_by_reference_before_any_retry(demo: Demo) -> None:
    demo.fault("lose")
    carrier = demo.carrier()
    booked = demo.book(carrier, order("BRI_NO_HOME"), policy=RetryPolicy(trust_empty_lookup=True))
    (stored,) = demo.bookings()
    assert booked.recovered and len(demo.posts()) == 1
    assert booked.consignment_number == stored["consignmentNumber"]
    assert [p.sscc for p in booked.parcels] == [p["packageNumber"] for p in stored["packages"]]
    (lookup,) = [r for r in demo.app.state.received if r["method"] == "GET"]
    assert lookup["path"] == f"{PREFIX}/shipments" and "created_at_min=" in lookup["query"]
    label = carrier.fetch_label(booked.labels[0])  # a recovered booking's label, by its id
    gs1 = [c.text for p in pages(label.data) for c in p.codes() if c.symbology_identifier == "]C1"]
    assert gs1 == [f"(00){p.sscc}" for p in booked.parcels]


def test_a_drop_without_a_trusted_lookup_holds_rather_than_books_again(demo: Demo) -> None:
    demo.fault("drop")  # nothing booked, but the client cannot know
    with pytest.raises(BookingUndecided, match="finds none yet"):
        demo.book(demo.carrier(), order("BRI_NO_HOME"))
    assert demo.bookings() == []
    assert not [r for r in demo.app.state.received if r["method"] == "POST"]  # dropped first


def test_two_shipments_under_one_reference_are_never_taken_for_one(demo: Demo) -> None:
    carrier = demo.carrier()
    demo.book(carrier, order("BRI_NO_HOME"))
    demo.book(carrier, order("BRI_NO_HOME"))  # a second booking made elsewhere
    with pytest.raises(BookingUndecided, match="holds 2 shipments"):
        carrier.find_booking(order("BRI_NO_HOME"))
    assert carrier.find_booking(order("BRI_NO_HOME", "5999")) is None


def test_the_lookup_pages_through_the_list(demo: Demo) -> None:
    carrier = demo.carrier(lookup_page_size=2)
    for n in range(5):
        demo.book(carrier, order("BRI_NO_HOME", f"50{n:02d}"))
    found = carrier.find_booking(order("BRI_NO_HOME", "5004"))
    assert found is not None and found.recovered
    pages_asked = [r["query"] for r in demo.app.state.received if r["method"] == "GET"]
    asked = [re.search(r"(?:^|&)page=(\d+)", q)[1] for q in pages_asked]  # type: ignore[index]
    assert asked == ["1", "2", "3"]


def test_cancel_and_pickup_points(demo: Demo) -> None:
    carrier = demo.carrier()
    booked = demo.book(carrier, order("BRI_NO_HOME"))
    carrier.cancel_shipment(booked)
    (stored,) = demo.bookings()
    assert stored["cancelled"]
    with pytest.raises(NotSupported, match="already cancelled"):
        carrier.cancel_shipment(booked)
    assert carrier.find_booking(order("BRI_NO_HOME")) is None  # a cancelled one is not it
    with pytest.raises(NotSupported, match="pickup points"):
        carrier.pickup_points("3044")


def test_credentials_only_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = {"kind": "shipmondo", "api_url": "http://127.0.0.1:9"}
    with pytest.raises(AuthError, match="PACKBENCH_SHIPMONDO_USER and PACKBENCH_SHIPMONDO_KEY"):
        carrier_for("Shipmondo", settings, credentials=lambda env, name: None)
    monkeypatch.setenv("PACKBENCH_SHIPMONDO_USER", "u")
    monkeypatch.setenv("PACKBENCH_SHIPMONDO_KEY", "k-secret")
    made = carrier_for("Shipmondo", settings)
    assert isinstance(made, ShipmondoCarrier) and made.name == "Shipmondo"
    clear_secrets()


def test_the_configuration_defaults_to_shipmondo_s_api_and_checks_the_label_format() -> None:
    from pydantic import ValidationError

    from packbench.config import CarrierSettings

    s = CarrierSettings(kind="shipmondo")
    assert s.api_url == "https://app.shipmondo.com/api/public/v3"
    assert s.label_format == "10x19_pdf"
    assert CarrierSettings(kind="shipmondo", api_url="http://127.0.0.1:1").api_url.endswith(":1")
    with pytest.raises(ValidationError, match="label_format"):
        CarrierSettings(kind="shipmondo", label_format="10x19_png")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="label_format"):
        shipmondo_config("S", {"products": {"X": {"label_format": "a5"}}})
