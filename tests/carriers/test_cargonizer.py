"""Logistra Cargonizer: its XML built and read by pure functions on the examples' documented
payloads and hostile variations, then the adapter against the demo carrier's ``/cargonizer``
face over loopback — HTTP-200 error bodies, the exact-reference lookup, labels decoded."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from packbench.carriers import (
    Address,
    AuthError,
    ParcelRequest,
    PayloadError,
    Rejected,
    RetryPolicy,
    ShipmentRequest,
    book,
)
from packbench.carriers.cargonizer import CargonizerCarrier
from packbench.carriers.cargonizer_payloads import (
    CargonizerOptions,
    consignment_xml,
    parse_consignment,
    parse_list,
    recovered,
)
from packbench.carriers.demo_carrier import (
    DEFAULT_CARGONIZER_KEY,
    DEFAULT_CARGONIZER_SENDER,
    DemoCarrierApp,
    create_app,
    run_in_thread,
)
from packbench.carriers.factory import cargonizer_config, carrier_for
from packbench.core.codes import is_valid_sscc
from packbench.redact import clear_secrets
from tests.printing.test_documents import pages

FIXTURES = Path(__file__).parent / "fixtures"
SENDER = Address("Fjordgarn Nettbutikk AS", "Lagerveien 7", "", "2013", "SKJETTEN", "NO")
OPTIONS = CargonizerOptions("4821", "bring2_parcel_pickup_point", SENDER, transfer=True,
                            provider="Fjordgarn pakkebenk")  # fmt: skip


def request(number: str = "10457", **changes: Any) -> ShipmentRequest:
    base = ShipmentRequest(
        order_number=number,
        reference=f"Ordre {number}",
        service="",
        product="bring2_parcel_pickup_point",
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
            ParcelRequest(2, 600, 310, 220, 40, "Mønsterhefte"),
        ),
    )
    return ShipmentRequest(**{**base.__dict__, **changes})


def tags(el: ET.Element) -> set[str]:
    return {e.tag for e in el.iter()}


# --------------------------------------------------------------------------- pure


def test_the_consignment_xml_has_the_documented_elements_and_values() -> None:
    ours = ET.fromstring(consignment_xml(request(), OPTIONS))
    documented = ET.parse(FIXTURES / "cargonizer-consignment-request.xml").getroot()
    assert tags(ours) <= tags(documented)
    c, d = ours.find("consignment"), documented.find("consignment")
    assert c is not None and d is not None
    assert c.get("transport_agreement") == d.get("transport_agreement") == "4821"
    for path in ("product", "transfer", "booking_request", "./references/consignor",
                 "./parts/service_partner/number"):  # fmt: skip
        assert c.findtext(path) == d.findtext(path), path
    for field in ("name", "address1", "address2", "postcode", "city", "country", "email",
                  "mobile", "contact-person"):  # fmt: skip
        assert c.findtext(f"./parts/consignee/{field}") == d.findtext(f"./parts/consignee/{field}")
    assert [i.attrib for i in c.findall("./items/item")] == [
        i.attrib for i in d.findall("./items/item")
    ]
    assert [s.get("id") for s in c.findall("./services/service")] == [
        "bring2_choice_of_pickup_point"
    ]
    values = {v.get("name"): v.get("value") for v in c.findall("./values/value")}
    assert values == {"provider": "Fjordgarn pakkebenk", "orderno": "Ordre 10457"}


def test_xml_special_characters_in_customer_text_are_escaped() -> None:
    name = "Ola & <Kari> \"AS\" 'x'"
    body = consignment_xml(request(recipient_name=name, pickup_point_id=""), OPTIONS)
    assert b"& <" not in body
    assert ET.fromstring(body).findtext("./consignment/parts/consignee/name") == name


def test_bad_input_is_refused_before_sending() -> None:
    with pytest.raises(Rejected) as err:
        consignment_xml(request(address1="", parcels=(ParcelRequest(1, 0),)), OPTIONS)
    assert "recipient address is missing" in str(err.value)
    assert "parcel 1 has no weight" in str(err.value)


def test_the_documented_answer_gives_the_numbers() -> None:
    content = (FIXTURES / "cargonizer-consignment-response.xml").read_bytes()
    booked = parse_consignment(content, request(), carrier="Cargonizer")
    assert booked.consignment_number == "70438105551104584"
    assert [p.tracking_number for p in booked.parcels] == [
        "370438105551045711",
        "370438105551045728",
    ]
    assert booked.tracking_url == "https://sporing.bring.no/sporing/70438105551104584"
    assert booked.labels[0].url == "cargonizer:90431"
    assert booked.product == "bring2_parcel_pickup_point"


def test_the_wiki_s_flat_pieces_are_read_too() -> None:
    content = (
        b"<consignments><consignment><id>7</id><number-with-checksum>123</number-with-checksum>"
        b"<bundles><pieces><number-with-checksum>A1</number-with-checksum></pieces>"
        b"<pieces><number-with-checksum>A2</number-with-checksum></pieces></bundles>"
        b"</consignment></consignments>"
    )
    booked = parse_consignment(content, request(), carrier="Cargonizer")
    assert [p.tracking_number for p in booked.parcels] == ["A1", "A2"]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"<consignments><consignment><errors><error>Services er ugyldig</error></errors>"
         b"</consignment></consignments>", "Services er ugyldig"),
        (b"<errors><info><request-id>1</request-id></info><error>Postnummer mangler</error>"
         b"</errors>", "Postnummer mangler"),
    ],
)  # fmt: skip
def test_an_error_body_is_a_refusal_whatever_the_status(content: bytes, said: str) -> None:
    with pytest.raises(Rejected) as err:
        parse_consignment(content, request(), carrier="Cargonizer")
    assert str(err.value) == said


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"not xml", "not XML"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><consignments/>', "DOCTYPE"),
        (b"<consignments/>", "0 consignments"),
        (b"<consignments><consignment><id>x</id></consignment></consignments>", "not a number"),
        (b"<consignments><consignment><id>7</id><number-with-checksum>1</number-with-checksum>"
         b"</consignment></consignments>", "0 piece numbers for 2"),
    ],
)  # fmt: skip
def test_an_answer_that_cannot_be_used_is_a_payload_error(content: bytes, said: str) -> None:
    with pytest.raises(PayloadError) as err:
        parse_consignment(content, request(), carrier="Cargonizer")
    assert said in str(err.value)


def test_the_lookup_takes_the_exact_reference_only() -> None:
    content = (FIXTURES / "cargonizer-consignment-response.xml").read_bytes()
    listing = content.replace(b"Ordre 10457", b"Ordre 104570")  # a substring match, another order
    assert recovered(parse_list(listing), request(), "Cargonizer") is None
    found = recovered(parse_list(content), request(), "Cargonizer")
    assert found is not None and found.recovered and found.consignment_number.endswith("584")


# --------------------------------------------------------------------------- over loopback


class Demo:
    def __init__(self, url: str, app: DemoCarrierApp) -> None:
        self.url, self.app = url, app
        self.sleeps: list[float] = []

    def carrier(self, key: str = DEFAULT_CARGONIZER_KEY) -> CargonizerCarrier:
        config = cargonizer_config(
            "Cargonizer",
            {"api_url": self.url + "/cargonizer", "transport_agreement": "1", "timeout_s": 5.0},
            sender={"name": "Fjordgarn", "address": "Lagerveien 7", "postcode": "2013",
                    "city": "Skjetten"},
        )  # fmt: skip
        return CargonizerCarrier(config, key, DEFAULT_CARGONIZER_SENDER, sleep=self.sleeps.append)

    def book(self, carrier: CargonizerCarrier, req: ShipmentRequest, **kw: Any) -> Any:
        return book(carrier, req, None, sleep=self.sleeps.append, **kw)

    def bookings(self) -> list[dict[str, Any]]:
        return self.app.state.bookings()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    app = create_app(tmp_path / "carrier.json")
    url, stop = run_in_thread(app)
    try:
        yield Demo(url, app)
    finally:
        stop()
        clear_secrets()


def test_a_consignment_is_booked_and_its_label_decodes(demo: Demo) -> None:
    carrier = demo.carrier()
    booked = demo.book(carrier, request("5001"))
    (stored,) = demo.bookings()
    assert booked.consignment_number == stored["consignmentNumber"]
    assert all(is_valid_sscc(p.sscc) and p.sscc == p.tracking_number for p in booked.parcels)
    (post,) = [r for r in demo.app.state.received if r["method"] == "POST"]
    assert post["path"] == "/cargonizer/consignments.xml"
    assert post["headers"]["x-cargonizer-sender"] == DEFAULT_CARGONIZER_SENDER
    assert post["headers"]["content-type"] == "application/xml"
    sent = ET.fromstring(post["body"].encode())
    assert sent.findtext("./consignment/references/consignor") == "Ordre 5001"
    assert sent.findtext("./consignment/transfer") == "false"  # EDI when the handover closes
    label = carrier.fetch_label(booked.labels[0])
    assert label.page_size_mm == (100.0, 190.0)
    decoded = [
        c.text for p in pages(label.data) for c in p.codes() if c.symbology_identifier == "]C1"
    ]
    assert decoded == [f"(00){p.sscc}" for p in booked.parcels]
    carrier.transfer([booked.parcels[0].label_fields["consignment_id"]])
    assert demo.bookings()[0]["transferred"] is True


def test_an_http_200_error_body_is_a_refusal_not_a_booking(demo: Demo) -> None:
    with pytest.raises(Rejected) as err:
        demo.book(demo.carrier(), request("5001", postcode="0000"))
    assert "Mottakers postnummer 0000 er ugyldig" in str(err.value)
    with pytest.raises(Rejected) as err:
        demo.book(demo.carrier(), request("5001", product="bring2_express_nonsense"))
    assert "er ugyldig for fraktavtalen" in str(err.value)
    assert demo.bookings() == []


def test_a_wrong_key_is_an_auth_error_without_the_key(demo: Demo) -> None:
    with pytest.raises(AuthError) as err:
        demo.book(demo.carrier(key="wrong-cargonizer-key"), request("5001"))
    assert "401" in str(err.value) and "wrong-cargonizer-key" not in str(err.value)


def test_the_lost_answer_is_found_by_its_exact_reference(demo: Demo) -> None:
    carrier = demo.carrier()
    demo.book(carrier, request("50011"))  # "Ordre 50011" contains "Ordre 5001"
    demo.app.faults.update({"next": ["lose"]})
    booked = demo.book(carrier, request("5001"), policy=RetryPolicy(trust_empty_lookup=True))
    assert booked.recovered and len(demo.bookings()) == 2
    mine = next(b for b in demo.bookings() if b["reference"] == "Ordre 5001")
    assert booked.consignment_number == mine["consignmentNumber"]


def test_a_label_call_answered_200_with_an_xml_error_is_refused(demo: Demo) -> None:
    from packbench.carriers import LabelDocument

    with pytest.raises(Rejected) as err:
        demo.carrier().fetch_label(LabelDocument(url="cargonizer:12345"))
    assert "gave no label: Fant ingen sendinger" in str(err.value)


def test_the_factory_takes_the_credentials_from_the_environment(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {"kind": "cargonizer", "api_url": demo.url + "/cargonizer",
                "transport_agreement": "1"}  # fmt: skip
    with pytest.raises(AuthError, match="PACKBENCH_CARGONIZER_KEY"):
        carrier_for("Cargonizer", settings)
    monkeypatch.setenv("PACKBENCH_CARGONIZER_KEY", DEFAULT_CARGONIZER_KEY)
    monkeypatch.setenv("PACKBENCH_CARGONIZER_SENDER", DEFAULT_CARGONIZER_SENDER)
    carrier = carrier_for("Cargonizer", settings, sender=SENDER)
    assert demo.book(carrier, request("5001")).consignment_number
