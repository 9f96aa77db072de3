"""The Bring adapter against the demo carrier over loopback (a real HTTP server): bookings per
product checked field by field as the server received them, labels fetched through the redirect,
rendered and their barcodes decoded, every kind of error, 429 with back-off, and the lost answer
followed by the lookup by reference — exactly one booking."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from packbench.carriers import (
    AuthError,
    BookingUndecided,
    NotSupported,
    ParcelRequest,
    RateLimited,
    Rejected,
    RetryPolicy,
    ShipmentRequest,
    TransientError,
    book,
)
from packbench.carriers.bring import BringCarrier
from packbench.carriers.demo_carrier import (
    COMPANY_PREFIX,
    DEFAULT_KEY,
    DEFAULT_UID,
    DemoCarrierApp,
    create_app,
    run_in_thread,
)
from packbench.carriers.factory import bring_config, carrier_for
from packbench.core.codes import is_valid_gs1, is_valid_sscc
from packbench.redact import clear_secrets, redact
from tests.printing.test_documents import pages

FIXTURES = Path(__file__).parent / "fixtures"
SENDER = {
    "name": "Fjordgarn Nettbutikk AS",
    "address": "Lagerveien 7",
    "postcode": "2013",
    "city": "Skjetten",
    "country": "NO",
    "phone": "+4712345678",
    "email": "lager@example.no",
}


class Demo:
    def __init__(self, url: str, app: DemoCarrierApp, path: Path) -> None:
        self.url, self.app, self.path = url, app, path
        self.sleeps: list[float] = []

    def carrier(self, **settings: Any) -> BringCarrier:
        base = {
            "api_url": self.url,
            "customer_number": "5",
            "client_url": "https://butikken.example.no",
            "label_url_template": "/labels/consignment/{consignment}.pdf",
            "timeout_s": 5.0,
        }
        config = bring_config("Bring", {**base, **settings}, sender=SENDER)
        return BringCarrier(config, DEFAULT_UID, DEFAULT_KEY, sleep=self.sleeps.append)

    def bookings(self) -> list[dict[str, Any]]:
        return self.app.state.bookings()

    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.app.state.received if r["method"] == "POST"]

    def book(self, carrier: BringCarrier, req: ShipmentRequest, **kw: Any) -> Any:
        return book(carrier, req, None, sleep=self.sleeps.append, **kw)

    def fault(self, *kinds: str) -> None:
        self.app.faults.update({"next": list(kinds)})


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    path = tmp_path / "carrier.json"
    app = create_app(path)
    url, stop = run_in_thread(app)
    try:
        yield Demo(url, app, path)
    finally:
        stop()
        clear_secrets()


def order(product: str, number: str = "5001", **changes: Any) -> ShipmentRequest:
    base = ShipmentRequest(
        order_number=number,
        service="",
        product=product,
        recipient_name="Åse Ødegård Brænne",
        address1="Bjørnstjerne Bjørnsons gate 12",
        address2="c/o Søren Æsøy",
        postcode="3044",
        city="Drammen",
        country="NO",
        email="ase.brenne@example.com",
        phone="+4791234567",
        pickup_point_id="304401" if product == "5800" else "",
        goods_description="Garn",
        parcels=(ParcelRequest(1, 1400, 350, 250, 120), ParcelRequest(2, 600, 310, 220, 40))
        if product != "3584"
        else (ParcelRequest(1, 900, 300, 200, 40),),
    )
    return ShipmentRequest(**{**base.__dict__, **changes})


def keys(node: Any) -> Any:
    """The shape of a JSON value: its keys, recursively (lists by their first element)."""
    if isinstance(node, dict):
        return {k: keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [keys(node[0])] if node else []
    return None


# --------------------------------------------------------------------------- bookings


@pytest.mark.parametrize("product", ["5800", "5600", "3584"])
def test_a_booking_per_product_is_sent_in_the_documented_shape(demo: Demo, product: str) -> None:
    carrier = demo.carrier()
    req = order(product)
    booked = book(carrier, req, None)

    (received,) = demo.posts()
    assert received["path"] == "/booking/api/create"
    h = received["headers"]
    assert h["x-mybring-api-uid"] == DEFAULT_UID
    assert h["x-mybring-api-key"] == "(given)"
    assert h["x-bring-client-url"] == "https://butikken.example.no"
    assert h["x-bring-test-indicator"] == "true"
    assert h["content-type"] == "application/json"
    body = received["body"]
    documented = json.loads((FIXTURES / "bring-booking-request.json").read_text())
    c, doc = body["consignments"][0], documented["consignments"][0]
    assert body["schemaVersion"] == 1 and body["testIndicator"] is True
    assert len(body["consignments"]) == 1
    assert keys(c["parties"]["sender"]) == keys(doc["parties"]["sender"])
    assert keys(c["parties"]["recipient"]) == keys(doc["parties"]["recipient"])
    assert keys(c["packages"]) == keys(doc["packages"])
    assert set(c) == set(doc)
    assert c["correlationId"] == "5001"
    assert c["parties"]["sender"]["reference"] == "5001"
    assert c["parties"]["sender"]["contact"]["phoneNumber"] == "+4712345678"
    r = c["parties"]["recipient"]
    assert (r["name"], r["postalCode"], r["city"], r["countryCode"]) == (
        "Åse Ødegård Brænne", "3044", "Drammen", "NO",
    )  # fmt: skip
    assert r["contact"] == {
        "name": "Åse Ødegård Brænne",
        "email": "ase.brenne@example.com",
        "phoneNumber": "+4791234567",
    }
    assert c["product"]["id"] == product and c["product"]["customerNumber"] == "5"
    first = c["packages"][0]
    assert first["correlationId"] == "5001-1" and first["goodsDescription"] == "Garn"
    if product == "3584":
        assert first["weightInKg"] == 0.9
        assert first["dimensions"] == {"heightInCm": 4, "widthInCm": 20, "lengthInCm": 30}
    else:
        assert [p["weightInKg"] for p in c["packages"]] == [1.4, 0.6]
    if product == "5800":
        assert c["parties"]["pickupPoint"] == {"id": "304401", "countryCode": "NO"}
        assert c["product"]["additionalServices"] == [
            {"id": "EVARSLING", "email": "ase.brenne@example.com", "mobile": "+4791234567"}
        ]
    else:
        assert "pickupPoint" not in c["parties"]
        assert c["product"]["additionalServices"] == []

    # The answer: valid numbers, one package number (an SSCC) per parcel.
    (stored,) = demo.bookings()
    assert booked.consignment_number == stored["consignmentNumber"]
    assert len(booked.consignment_number) == 17 and is_valid_gs1(booked.consignment_number)
    assert booked.consignment_number.startswith(COMPANY_PREFIX)
    assert len(booked.parcels) == len(req.parcels)
    for parcel, package in zip(booked.parcels, stored["packages"], strict=True):
        assert parcel.tracking_number == parcel.sscc == package["packageNumber"]
        assert is_valid_sscc(parcel.sscc)
    assert not booked.recovered and booked.product == product


def test_the_label_is_fetched_through_the_redirect_and_its_barcodes_decode(demo: Demo) -> None:
    carrier = demo.carrier()
    booked = demo.book(carrier, order("5800"))
    (link,) = booked.labels
    assert "#" not in link.url and link.url.startswith(demo.url + "/labels/id/")
    label = carrier.fetch_label(link)
    assert label.format == "pdf" and label.page_size_mm == (100.0, 190.0)
    paths = [r["path"] for r in demo.app.state.received if r["method"] == "GET"]
    assert paths[-2].startswith("/labels/id/") and paths[-1].startswith("/storage/labels/")
    rendered = pages(label.data)
    assert len(rendered) == 2
    for page, parcel in zip(rendered, booked.parcels, strict=True):
        assert round(page.width / (72 / 25.4)) == 100 and round(page.height / (72 / 25.4)) == 190
        gs1 = [c for c in page.codes() if c.symbology_identifier == "]C1"]
        assert [c.text for c in gs1] == [f"(00){parcel.sscc}"]
        assert booked.consignment_number in page.text


def test_the_storage_host_never_gets_the_mybring_headers(tmp_path: Path) -> None:
    """The client talks to the API as ``localhost``; label links redirect to ``127.0.0.1``,
    another origin, as Bring's redirect to S3 is: the Mybring headers must not follow."""
    app = create_app(tmp_path / "c.json")
    url, stop = run_in_thread(app)
    try:
        build = create_app(app.state, storage_url=url)
        app._injector = build._injector  # same books, redirecting to the other origin
        demo = Demo(url.replace("127.0.0.1", "localhost"), app, tmp_path / "c.json")
        carrier = demo.carrier()
        booked = demo.book(carrier, order("5600"))
        label = carrier.fetch_label(booked.labels[0])
        assert label.page_size_mm == (100.0, 190.0)
        link, stored = [r for r in app.state.received if r["method"] == "GET"][-2:]
        assert link["path"].startswith("/labels/id/") and "x-mybring-api-uid" in link["headers"]
        assert stored["path"].startswith("/storage/labels/")
        assert not any(h.startswith("x-mybring") for h in stored["headers"])
    finally:
        stop()


def test_a_booking_found_by_lookup_has_its_label_through_the_configured_template(
    demo: Demo,
) -> None:
    carrier = demo.carrier()
    demo.book(carrier, order("5600"))
    found = carrier.find_booking(order("5600"))
    assert found is not None and found.recovered
    label = carrier.fetch_label(found.labels[0])
    gs1 = [c.text for p in pages(label.data) for c in p.codes() if c.symbology_identifier == "]C1"]
    assert gs1 == [f"(00){p.sscc}" for p in found.parcels]


def test_bookings_are_kept_in_the_file(demo: Demo, tmp_path: Path) -> None:
    booked = demo.book(demo.carrier(), order("5600"))
    on_disk = json.loads(demo.path.read_text())
    assert [b["consignmentNumber"] for b in on_disk["bookings"]] == [booked.consignment_number]
    again = create_app(demo.path)
    assert again.state.search("5001")[0]["consignmentNumber"] == booked.consignment_number


# --------------------------------------------------------------------------- errors


def test_bring_s_error_list_becomes_a_message_naming_the_field(demo: Demo) -> None:
    carrier = demo.carrier()
    # Our own check lets "0000" through (four digits); Bring's does not.
    with pytest.raises(Rejected) as err:
        demo.book(carrier, order("5600", postcode="0000"))
    assert err.value.status == 400
    assert "recipient postcode '0000': Invalid postal Code (BOOK_INPUT-057-RECIPIENT)" in str(
        err.value
    )
    assert demo.bookings() == [] and len(demo.posts()) == 1  # not retried


def test_a_mailbox_parcel_too_big_for_the_product_is_refused_by_the_carrier(demo: Demo) -> None:
    req = order("3584", parcels=(ParcelRequest(1, 900, 460, 200, 40),))
    with pytest.raises(Rejected) as err:
        book(demo.carrier(), req, None)
    assert "parcel size: The shipment is too big" in str(err.value)


def test_an_unknown_product_is_refused_before_anything_is_sent(demo: Demo) -> None:
    with pytest.raises(NotSupported) as err:
        demo.book(demo.carrier(), order("9999"))
    assert "product 9999 is not configured" in str(err.value)
    assert demo.posts() == []


def test_without_any_test_indicator_bring_says_so(demo: Demo) -> None:
    carrier = demo.carrier(test_header=False, test_body_flag=False)
    with pytest.raises(Rejected) as err:
        demo.book(carrier, order("5600"))
    assert "testIndicator" in str(err.value) and "BOOK-INPUT-030" in str(err.value)
    # Either way of saying it is enough.
    demo.book(demo.carrier(test_header=False), order("5600"))
    demo.book(demo.carrier(test_body_flag=False), order("5600", "5002"))
    assert len(demo.bookings()) == 2


def test_wrong_credentials_are_an_auth_error_without_the_key(demo: Demo) -> None:
    config = bring_config(
        "Bring", {"api_url": demo.url, "customer_number": "5", "client_url": "https://x.no"},
        sender=SENDER,
    )  # fmt: skip
    carrier = BringCarrier(config, DEFAULT_UID, "wrong-key-123", sleep=demo.sleeps.append)
    with pytest.raises(AuthError) as err:
        demo.book(carrier, order("5600"))
    assert "refused the Mybring credentials (401)" in str(err.value)
    assert "wrong-key-123" not in str(err.value)
    assert redact("key=wrong-key-123") == "key=***"


def test_429_is_retried_with_backoff_and_books_once(demo: Demo) -> None:
    demo.fault("429", "429")
    booked = demo.book(demo.carrier(), order("5600"), policy=RetryPolicy(backoff_s=0.25))
    assert len(demo.bookings()) == 1 and booked.consignment_number
    assert demo.sleeps == [1.0, 1.0]  # Retry-After: 1 beats the first back-offs
    demo.sleeps.clear()
    demo.fault("429", "429", "429")
    with pytest.raises(RateLimited):
        demo.book(demo.carrier(), order("5600", "5002"), policy=RetryPolicy(attempts=3))
    assert len(demo.bookings()) == 1


def test_a_500_that_booked_nothing_is_looked_up_then_retried(demo: Demo) -> None:
    demo.fault("500")
    policy = RetryPolicy(backoff_s=0.1, trust_empty_lookup=True)
    booked = demo.book(demo.carrier(), order("5600"), policy=policy)
    assert len(demo.bookings()) == 1 and not booked.recovered
    gets = [r for r in demo.app.state.received if r["path"].startswith("/tracking/")]
    assert len(gets) == 1 and gets[0]["query"] == "q=5001"
    assert demo.sleeps == [0.1]


def test_the_lost_answer_is_found_by_reference_exactly_one_booking(demo: Demo) -> None:
    demo.fault("lose")
    booked = demo.book(demo.carrier(), order("5800"), policy=RetryPolicy(trust_empty_lookup=True))
    (stored,) = demo.bookings()
    assert booked.recovered
    assert booked.consignment_number == stored["consignmentNumber"]
    assert [p.sscc for p in booked.parcels] == [p["packageNumber"] for p in stored["packages"]]
    assert len(demo.posts()) == 1


def test_a_lost_answer_without_a_trusted_lookup_holds_rather_than_books_again(
    demo: Demo,
) -> None:
    demo.fault("drop")  # not booked, but the client cannot know
    with pytest.raises(BookingUndecided) as err:
        demo.book(demo.carrier(), order("5600"))
    assert "finds none yet" in str(err.value)
    assert demo.bookings() == []  # the connection was dropped before the carrier saw it


def test_a_lookup_that_fails_cannot_decide(demo: Demo) -> None:
    demo.fault("lose", "500", "500", "500", "500")
    with pytest.raises(BookingUndecided) as err:
        demo.book(demo.carrier(), order("5600"), policy=RetryPolicy(trust_empty_lookup=True))
    assert "looking it up" in str(err.value)
    assert len(demo.bookings()) == 1 and len(demo.posts()) == 1


def test_two_bookings_under_one_reference_are_never_taken_for_one(demo: Demo) -> None:
    carrier = demo.carrier()
    demo.book(carrier, order("5600"))
    demo.book(carrier, order("5600"))  # a second booking made outside the rule
    with pytest.raises(BookingUndecided) as err:
        carrier.find_booking(order("5600"))
    assert "2 bookings under reference '5001'" in str(err.value)


def test_a_refused_connection_is_retried_without_a_lookup() -> None:
    config = bring_config(
        "Bring",
        {"api_url": "http://127.0.0.1:9", "customer_number": "5", "client_url": "https://x.no"},
        sender=SENDER,
    )
    sleeps: list[float] = []
    carrier = BringCarrier(config, DEFAULT_UID, DEFAULT_KEY, sleep=sleeps.append)
    with pytest.raises(TransientError) as err:
        book(carrier, order("5600"), None, policy=RetryPolicy(attempts=3, backoff_s=0.5),
             sleep=sleeps.append)  # fmt: skip
    assert not err.value.sent and sleeps == [0.5, 1.0, 2.0]


def test_a_restart_with_a_booking_in_doubt_looks_up_first(demo: Demo) -> None:
    carrier = demo.carrier()
    demo.book(carrier, order("5600"))
    again = demo.book(carrier, order("5600"), uncertain=True)
    assert again.recovered and len(demo.bookings()) == 1


# --------------------------------------------------------------------------- pickup points


def test_pickup_points_near_a_postcode(demo: Demo) -> None:
    points = demo.carrier().pickup_points("3044", limit=3)
    assert [p.id for p in points] == ["304401", "304402", "304403"]
    assert points[1].locker and points[1].max_dimensions_mm == (445, 505, 600)
    (query,) = [r for r in demo.app.state.received if r["path"].startswith("/pickuppoint/")]
    assert query["path"] == "/pickuppoint/api/pickuppoint/NO/postalCode/3044.json"
    assert query["query"] == "numberOfResponses=3"
    assert query["headers"]["x-bring-client-url"] == "https://butikken.example.no"
    with pytest.raises(Rejected):
        demo.carrier().pickup_points("30/44")


def test_pickup_points_retry_a_429(demo: Demo) -> None:
    demo.fault("429")
    assert len(demo.carrier().pickup_points("3044")) == 5


# --------------------------------------------------------------------------- the factory


def test_credentials_only_from_the_environment_and_never_shown(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {"kind": "bring", "api_url": demo.url, "customer_number": "5",
                "client_url": "https://x.no"}  # fmt: skip
    with pytest.raises(AuthError) as err:
        carrier_for("Bring", settings, sender=SENDER)
    assert "PACKBENCH_BRING_UID" in str(err.value)
    monkeypatch.setenv("PACKBENCH_BRING_UID", DEFAULT_UID)
    monkeypatch.setenv("PACKBENCH_BRING_KEY", DEFAULT_KEY)
    carrier = carrier_for("Bring", settings, sender=SENDER)
    assert demo.book(carrier, order("5600")).consignment_number
    assert redact(f"uid {DEFAULT_UID} key {DEFAULT_KEY}") == "uid *** key ***"
    assert carrier.products()[0].id == "5800"
    mailbox = next(p for p in carrier.products() if p.id == "3584")
    assert (mailbox.max_weight_g, mailbox.max_length_mm, mailbox.max_sum_of_sides_mm) == (
        5000, 450, 900,
    )  # fmt: skip


def test_plain_http_is_refused_off_loopback() -> None:
    config = bring_config(
        "Bring", {"api_url": "http://api.bring.com", "client_url": "https://x.no"}
    )
    with pytest.raises(ValueError, match="plain http"):
        BringCarrier(config, DEFAULT_UID, DEFAULT_KEY)


def test_cancelling_a_bring_booking_says_where_to_do_it(demo: Demo) -> None:
    carrier = demo.carrier()
    booked = demo.book(carrier, order("5600"))
    with pytest.raises(NotSupported) as err:
        carrier.cancel_shipment(booked)
    assert booked.consignment_number in str(err.value) and "Mybring" in str(err.value)


def test_the_demo_carrier_runs_as_its_own_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "packbench.carriers.demo_carrier", "--port", "0",
         "--state", str(tmp_path / "c.json"), "--lose-answer-rate", "1"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("demo carrier on http://127.0.0.1:")
        url = line.split()[3]
        assert httpx.get(f"{url}/_demo/health").json() == {"ok": True, "bookings": 0}
        config = bring_config(
            "Bring", {"api_url": url, "customer_number": "5", "client_url": "https://x.no"},
            sender=SENDER,
        )  # fmt: skip
        carrier = BringCarrier(config, DEFAULT_UID, DEFAULT_KEY, sleep=lambda s: None)
        # Every answer to a booking is lost: each is found by its reference, none made twice.
        for number in ("5001", "5002"):
            found = book(carrier, order("5600", number), None, sleep=lambda s: None)
            assert found.recovered and found.consignment_number
        assert httpx.get(f"{url}/_demo/health").json()["bookings"] == 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)
