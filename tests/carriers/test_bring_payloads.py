"""Bring's bodies, built and read by pure functions: the examples' documented payloads
(``fixtures/``, copies of ``shared/fixtures/carrier-api-examples``) and hostile variations."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from packbench.carriers import (
    Address,
    ParcelRequest,
    PayloadError,
    Product,
    Rejected,
    ShipmentRequest,
)
from packbench.carriers.base import pdf_page_size_mm
from packbench.carriers.bring_payloads import (
    BookingOptions,
    booking_body,
    check_request,
    clean_label_url,
    parse_booking,
    parse_errors,
    parse_pickup_points,
    parse_tracking,
    sscc_of,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


SENDER = Address(
    name="Fjordgarn Nettbutikk AS",
    address1="Lagerveien 7",
    address2="Port 3",
    postcode="2013",
    city="SKJETTEN",
    country="NO",
    email="lager@example.com",
    phone="+4712345678",
    contact="Pakkebenken Skjetten",
)
OPTIONS = BookingOptions(
    product_id="5800", customer_number="5", sender=SENDER, services=("EVARSLING",)
)


def fixture_request(**changes: Any) -> ShipmentRequest:
    """The order behind ``bring-booking-request.json``."""
    base = ShipmentRequest(
        order_number="10457",
        reference="ORD-10457",
        service="Pakke til hentested",
        product="5800",
        recipient_name="Åse Ødegård Brænne",
        address1="Bjørnstjerne Bjørnsons gate 12",
        address2="c/o Søren Æsøy",
        postcode="3044",
        city="DRAMMEN",
        country="NO",
        email="ase.brenne@example.com",
        phone="+4791234567",
        pickup_point_id="148302",
        parcels=(
            ParcelRequest(1, 1400, 350, 250, 120, "Garn og strikkepinner"),
            ParcelRequest(2, 600, 310, 220, 40, "Mønsterhefte, størrelse XS–XL"),
        ),
    )
    return ShipmentRequest(**{**base.__dict__, **changes})


SHIPPING = datetime(2026, 3, 16, 14, 0, 0)


# --------------------------------------------------------------------------- building


def test_the_booking_body_is_the_documented_request_field_by_field() -> None:
    body = booking_body(fixture_request(), OPTIONS, SHIPPING)
    expected = fixture("bring-booking-request.json")
    # The sender reference is ours (the order's reference), the fixture's a template's output.
    assert body["consignments"][0]["parties"]["sender"]["reference"] == "ORD-10457"
    expected["consignments"][0]["parties"]["sender"]["reference"] = "ORD-10457"
    assert body == expected


def test_weights_are_kg_and_dimensions_whole_cm_rounded_up() -> None:
    req = fixture_request(parcels=(ParcelRequest(1, 1234, 351, 250, 9),))
    package = booking_body(req, OPTIONS, SHIPPING)["consignments"][0]["packages"][0]
    assert package["weightInKg"] == 1.234
    assert package["dimensions"] == {"heightInCm": 1, "widthInCm": 25, "lengthInCm": 36}
    assert all(isinstance(v, int) for v in package["dimensions"].values())


def test_a_parcel_without_dimensions_is_sent_without_them() -> None:
    req = fixture_request(parcels=(ParcelRequest(1, 500),))
    package = booking_body(req, OPTIONS, SHIPPING)["consignments"][0]["packages"][0]
    assert package["dimensions"] is None


def test_home_delivery_has_no_pickup_point_and_no_notice_unless_configured() -> None:
    req = fixture_request(product="5600", pickup_point_id="")
    options = BookingOptions(product_id="5600", customer_number="5", sender=SENDER)
    c = booking_body(req, options, SHIPPING)["consignments"][0]
    assert "pickupPoint" not in c["parties"]
    assert c["product"] == {"id": "5600", "customerNumber": "5", "additionalServices": []}


def test_test_mode_by_header_only_leaves_the_body_flag_out() -> None:
    options = BookingOptions(**{**OPTIONS.__dict__, "test_indicator": None})
    assert "testIndicator" not in booking_body(fixture_request(), options, SHIPPING)


def test_control_characters_in_customer_text_become_spaces() -> None:
    req = fixture_request(recipient_name="Ola\x07\nNordmann\t Jr")
    c = booking_body(req, OPTIONS, SHIPPING)["consignments"][0]
    assert c["parties"]["recipient"]["name"] == "Ola Nordmann Jr"


@pytest.mark.parametrize(
    ("changes", "options", "said"),
    [
        ({"address1": "x" * 36}, OPTIONS, "recipient address line is 36 characters"),
        ({"postcode": "123"}, OPTIONS, "recipient postcode '123' is not valid for NO"),
        ({"country": "Norge"}, OPTIONS, "recipient country 'Norge' is not a two-letter"),
        ({"address1": ""}, OPTIONS, "recipient address is missing"),
        ({"email": "", "phone": ""}, OPTIONS, "needs an e-mail address or a mobile number"),
        ({"parcels": (ParcelRequest(1, 0),)}, OPTIONS, "parcel 1 has no weight"),
        ({"parcels": ()}, OPTIONS, "has no parcels"),
        (
            {},
            BookingOptions("5800", "5", Address(**{**SENDER.__dict__, "phone": ""})),
            "sender's phone is required for product 5800",
        ),
        ({}, BookingOptions("5800", "", SENDER), "no Bring customer number"),
    ],
)
def test_bad_input_is_refused_before_sending_naming_the_field(
    changes: dict[str, Any], options: BookingOptions, said: str
) -> None:
    with pytest.raises(Rejected) as err:
        booking_body(fixture_request(**changes), options, SHIPPING)
    assert said in err.value.message


def test_a_mailbox_parcel_needs_no_sender_phone() -> None:
    sender = Address(**{**SENDER.__dict__, "phone": ""})
    check_request(fixture_request(pickup_point_id=""), BookingOptions("3584", "5", sender))


# --------------------------------------------------------------------------- reading bookings


def test_the_documented_answer_gives_the_numbers_and_the_label_link() -> None:
    req = fixture_request()
    booked = parse_booking(fixture("bring-booking-response.json"), req, carrier="Bring")
    assert booked.consignment_number == "70438105551104577"
    assert [(p.seq, p.tracking_number) for p in booked.parcels] == [
        (1, "370438105551045711"),
        (2, "370438105551045728"),
    ]
    # The fixture's invented numbers fail the GS1 check: not taken as SSCCs.
    assert [p.sscc for p in booked.parcels] == ["", ""]
    assert booked.tracking_url == "https://sporing.bring.no/sporing.html?q=70438105551104577"
    (label,) = booked.labels
    assert label.url.endswith("3f6c2a9e-5b1d-4e07-9a8c-0d2e7b41c955.pdf")
    assert not label.fetched


def test_packages_are_matched_by_correlation_id_not_by_position() -> None:
    body = fixture("bring-booking-response.json")
    body["consignments"][0]["confirmation"]["packages"].reverse()
    booked = parse_booking(body, fixture_request(), carrier="Bring")
    assert booked.parcels[0].tracking_number == "370438105551045711"


def test_valid_sscc_package_numbers_become_the_parcels_ssccs() -> None:
    assert sscc_of("370900010000001018") == "370900010000001018"
    assert sscc_of("00370900010000001018") == "370900010000001018"  # with AI (00)
    assert sscc_of("370900010000001019") == ""
    assert sscc_of("TESTPACKAGE") == ""


def test_the_label_link_loses_its_zoom_fragment() -> None:
    url = "https://api.bring.com/labels/id/abc.pdf#zoom=100,0,0"
    assert clean_label_url(url) == "https://api.bring.com/labels/id/abc.pdf"
    with pytest.raises(PayloadError):
        clean_label_url("javascript:alert(1)")


def test_the_documented_error_names_the_party_and_field() -> None:
    sent = booking_body(fixture_request(), OPTIONS, SHIPPING)
    sent["consignments"][0]["parties"]["recipient"]["addressLine"] = ""
    with pytest.raises(Rejected) as err:
        parse_booking(fixture("bring-booking-error.json"), fixture_request(), carrier="Bring",
                      sent=sent)  # fmt: skip
    first, second = err.value.problems
    assert str(first) == "recipient address: Address must be provided (BOOK-INPUT-015-RECIPIENT)"
    assert first.field == "recipient.address"
    assert str(second).startswith("recipient e-mail or mobile: A valid recipient mobile")


def test_an_error_shows_the_value_we_sent_and_prefers_english() -> None:
    sent = booking_body(fixture_request(), OPTIONS, SHIPPING)
    sent["consignments"][0]["parties"]["recipient"]["postalCode"] = "0000"
    body = {
        "consignments": [
            {
                "confirmation": None,
                "errors": [
                    {
                        "code": "BOOK_INPUT-057-RECIPIENT",
                        "messages": [
                            {"lang": "no", "message": "Ugyldig postnummer"},
                            {"lang": "en", "message": "Invalid postal Code"},
                        ],
                    },
                    {"code": "BOOK-VALIDATION-099", "messages": [{"message": "Something new"}]},
                ],
            }
        ]
    }
    problems = parse_errors(body, sent)
    assert str(problems[0]) == (
        "recipient postcode '0000': Invalid postal Code (BOOK_INPUT-057-RECIPIENT)"
    )
    assert str(problems[1]) == "Something new (BOOK-VALIDATION-099)"


def _with(path: tuple[Any, ...], value: Any) -> Any:
    body = copy.deepcopy(fixture("bring-booking-response.json"))
    node = body
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return body


_DELETE = object()
CONF = ("consignments", 0, "confirmation")


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ([], "not a JSON object"),
        ({}, "has no consignments"),
        ({"consignments": [{}, {}]}, "2 consignments"),
        (_with(("consignments", 0, "confirmation"), None), "neither a confirmation nor errors"),
        (_with((*CONF, "consignmentNumber"), _DELETE), "no consignments[0].confirmation"),
        (_with((*CONF, "consignmentNumber"), {"n": 1}), "is dict, not text"),
        (_with((*CONF, "packages"), []), "0 package numbers for 2 parcels"),
        (_with((*CONF, "packages"), "370438105551045711"), "no list at"),
        (_with((*CONF, "packages", 1, "packageNumber"), "370438105551045711"), "same package"),
        (_with((*CONF, "links", "labels"), "file:///etc/passwd"), "not an http(s) URL"),
    ],
)
def test_an_answer_that_cannot_be_used_is_a_payload_error(body: Any, said: str) -> None:
    with pytest.raises(PayloadError) as err:
        parse_booking(body, fixture_request(), carrier="Bring")
    assert said in str(err.value)


def test_a_numeric_consignment_number_is_read_as_text_and_unknown_fields_ignored() -> None:
    body = _with((*CONF, "consignmentNumber"), 70438105551104577)
    body["consignments"][0]["confirmation"]["somethingNew"] = {"x": [1, 2]}
    booked = parse_booking(body, fixture_request(), carrier="Bring")
    assert booked.consignment_number == "70438105551104577"


def test_a_huge_error_message_is_cut() -> None:
    body = {"consignments": [{"errors": [{"code": "X", "messages": [{"message": "y" * 10_000}]}]}]}
    (problem,) = parse_errors(body)
    assert len(problem.message) <= 300


# --------------------------------------------------------------------------- tracking


def test_the_tracking_search_gives_the_consignment_its_reference_and_packages() -> None:
    (found,) = parse_tracking(fixture("bring-tracking-found.json"))
    assert found.consignment_number == "70438105551104577"
    assert found.reference == "ORD-10457"
    assert found.package_numbers == ("370438105551045711", "370438105551045728")


def test_no_shipments_found_is_an_empty_answer() -> None:
    assert parse_tracking(fixture("bring-tracking-none.json")) == ()


@pytest.mark.parametrize(
    "body",
    [
        {"consignmentSet": [{"error": {"code": 503, "message": "Service unavailable"}}]},
        {"consignmentSet": [{"consignmentId": "1"}]},
        {"consignmentSet": "x"},
        "not json object",
    ],
)
def test_a_tracking_answer_that_cannot_decide_is_a_payload_error(body: Any) -> None:
    with pytest.raises(PayloadError):
        parse_tracking(body)


# --------------------------------------------------------------------------- pickup points


def test_the_documented_pickup_points_in_bring_order() -> None:
    points = parse_pickup_points(fixture("bring-pickup-points-response.json"))
    assert [p.id for p in points] == ["148302", "190577", "131925"]
    kiwi, locker, posten = points
    assert kiwi.name == "Kiwi Bragernes torg" and kiwi.distance_km == 0.8 and not kiwi.locker
    assert kiwi.visiting_address == "Øvre Storgate 4" and kiwi.address.startswith("Postboks")
    assert locker.locker and locker.max_dimensions_mm == (445, 505, 600)
    assert posten.kind == "21"
    assert kiwi.describe() == "Kiwi Bragernes torg, Øvre Storgate 4, DRAMMEN (0.8 km)"


def test_hostile_pickup_points_are_left_out_not_guessed() -> None:
    body = {
        "pickupPoint": [
            {"id": 148302, "name": "Numeric id", "distanceInKm": "far"},
            {"name": "No id"},
            {"id": "1", "name": ""},
            "not an object",
            {"id": "2", "name": "NaN away", "distanceInKm": float("nan"),
             "maxParcelDimensions": {"length": "x"}},
        ]
    }  # fmt: skip
    points = parse_pickup_points(body)
    assert [(p.id, p.distance_km, p.max_dimensions_mm) for p in points] == [
        ("148302", None, None),
        ("2", None, None),
    ]
    assert parse_pickup_points({}) == ()
    with pytest.raises(PayloadError):
        parse_pickup_points({"pickupPoint": {"id": "1"}})


# --------------------------------------------------------------------------- products, PDFs


def test_a_mailbox_parcel_product_knows_its_limits() -> None:
    mailbox = Product("3584", "Pakke i postkassen", 5_000, 450, 900)
    assert mailbox.refuses(5_000, (450, 300, 150)) is None
    assert "at most 5 kg" in (mailbox.refuses(5_001, (100, 100, 100)) or "")
    assert "at most 45 cm long" in (mailbox.refuses(1_000, (460, 100, 50)) or "")
    assert "summing to at most 90 cm" in (mailbox.refuses(1_000, (400, 300, 210)) or "")


def test_the_page_size_of_a_pdf_and_nothing_from_garbage() -> None:
    from packbench.carriers.demo_carrier.label import render_label_pdf

    booking = {
        "consignmentNumber": "70900010000000010",
        "productName": "Pakke i postkassen",
        "productId": "3584",
        "reference": "5001",
        "sender": {"name": "Fjordgarn", "postalCode": "2013", "city": "SKJETTEN"},
        "recipient": {"name": "Åse", "addressLine": "Gata 1", "postalCode": "3044"},
        "pickupPoint": None,
        "packages": [{"index": 1, "packageNumber": "370900010000001018", "weightInKg": 1.2}],
    }
    assert pdf_page_size_mm(render_label_pdf(booking, booking["packages"])) == (100.0, 190.0)
    assert pdf_page_size_mm(b"^XA^FO50,50^FDx^FS^XZ") is None
    assert pdf_page_size_mm(b"%PDF-1.4 /MediaBox [0 0 x y]") is None
