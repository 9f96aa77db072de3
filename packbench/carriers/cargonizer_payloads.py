"""Logistra Cargonizer's XML bodies: built and read here, pure (no network).

Shapes follow ``../shared/fixtures/carrier-api-examples/cargonizer-*.xml`` and its README:
``POST /consignments.xml`` with ``<consignments><consignment transport_agreement=…>``, the
answer a full consignment (``id``, ``number-with-checksum``, per-piece numbers under
``bundles/bundle/pieces/piece`` — or ``bundles/pieces`` as the wiki sample shows: both read).
Errors are free text, sometimes Norwegian, either at the root (``<errors><error>``) or per
consignment (``consignments/consignment/errors/error``), and sometimes with HTTP 200: every
answer is checked for them whatever its status.

XML is built with ElementTree (so ``& < > " '`` in a customer's name are escaped — an unescaped
one is a 500 at Cargonizer) and read only without a DOCTYPE (no entity tricks).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from packbench.carriers.base import (
    Address,
    CarrierShipment,
    LabelDocument,
    LabelledParcel,
    PayloadError,
    Problem,
    Rejected,
    ShipmentRequest,
)
from packbench.carriers.bring_payloads import sscc_of

__all__ = [
    "CargonizerOptions",
    "Found",
    "consignment_id_of",
    "consignment_xml",
    "errors_in",
    "parse_consignment",
    "parse_list",
    "read_xml",
    "recovered",
    "transferred",
]

MAX_TEXT = 100


@dataclass(frozen=True)
class CargonizerOptions:
    transport_agreement: str
    product: str  # Cargonizer's product identifier, e.g. bring2_parcel_pickup_point
    sender: Address | None = None  # the return address
    services: tuple[str, ...] = ()
    transfer: bool = False  # send EDI to the carrier now (else when the handover closes)
    provider: str = "packbench"
    pickup_point_service: str = "bring2_choice_of_pickup_point"


def _text(value: str, limit: int = MAX_TEXT) -> str:
    return " ".join("".join(c if c.isprintable() else " " for c in value).split())[:limit]


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _party(parent: ET.Element, tag: str, addr: Address, *, contact: bool) -> None:
    el = _sub(parent, tag)
    _sub(el, "name", _text(addr.name))
    _sub(el, "address1", _text(addr.address1))
    if addr.address2.strip():
        _sub(el, "address2", _text(addr.address2))
    _sub(el, "postcode", addr.postcode.strip())
    _sub(el, "city", _text(addr.city))
    _sub(el, "country", addr.country.strip().upper() or "NO")
    if contact:
        if addr.email.strip():
            _sub(el, "email", addr.email.strip())
        if addr.phone.strip():
            _sub(el, "mobile", addr.phone.strip())
        _sub(el, "contact-person", _text(addr.contact or addr.name))


def check(request: ShipmentRequest, options: CargonizerOptions) -> None:
    problems = []
    r = request.recipient
    for field, value in (("name", r.name), ("address", r.address1), ("postcode", r.postcode),
                         ("city", r.city)):  # fmt: skip
        if not value.strip():
            problems.append(Problem(f"recipient {field} is missing", field=f"recipient.{field}"))
    if not options.transport_agreement.strip():
        problems.append(Problem("no Cargonizer transport agreement", field="transport_agreement"))
    if not options.product.strip():
        problems.append(Problem("no Cargonizer product for this shipping method", field="product"))
    if not request.parcels:
        problems.append(Problem(f"order {request.order_number} has no parcels", field="items"))
    for p in request.parcels:
        if p.weight_g <= 0:
            problems.append(Problem(f"parcel {p.seq} has no weight", field=f"items[{p.seq}]"))
    if problems:
        raise Rejected(problems)


def consignment_xml(request: ShipmentRequest, options: CargonizerOptions) -> bytes:
    """The ``POST /consignments.xml`` body for one consignment (checked first)."""
    check(request, options)
    root = ET.Element("consignments")
    c = _sub(root, "consignment", transport_agreement=options.transport_agreement.strip(),
             print="false", estimate="false")  # fmt: skip
    values = _sub(c, "values")
    _sub(values, "value", name="provider", value=_text(options.provider))
    _sub(values, "value", name="orderno", value=_text(request.ref))
    _sub(c, "transfer", "true" if options.transfer else "false")
    _sub(c, "booking_request", "false")
    _sub(c, "email-notification-to-consignee", "false")
    _sub(c, "product", options.product.strip())
    parts = _sub(c, "parts")
    _party(parts, "consignee", request.recipient, contact=True)
    if request.pickup_point_id:
        sp = _sub(parts, "service_partner")
        _sub(sp, "number", _text(request.pickup_point_id, 40))
    if options.sender is not None:
        _party(parts, "return_address", options.sender, contact=False)
    items = _sub(c, "items")
    for p in request.parcels:
        attrs = {"type": "package", "amount": "1", "weight": f"{p.weight_g / 1000:g}"}
        if p.length_mm > 0 and p.width_mm > 0 and p.height_mm > 0:
            attrs.update(length=str(math.ceil(p.length_mm / 10)),
                         width=str(math.ceil(p.width_mm / 10)),
                         height=str(math.ceil(p.height_mm / 10)))  # fmt: skip
        description = _text(p.goods_description or request.goods_description, 50)
        if description:
            attrs["description"] = description
        _sub(items, "item", **attrs)
    services = list(options.services)
    if request.pickup_point_id and options.pickup_point_service not in services:
        services.append(options.pickup_point_service)
    if services:
        svc = _sub(c, "services")
        for sid in services:
            _sub(svc, "service", id=sid)
    refs = _sub(c, "references")
    _sub(refs, "consignor", _text(request.ref))
    body: bytes = ET.tostring(root, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


# --------------------------------------------------------------------------- reading


def read_xml(content: bytes, what: str) -> ET.Element:
    """An XML document we may read: no DOCTYPE (so no entities), well-formed."""
    head = content[:2048].lower()
    if b"<!doctype" in head or b"<!entity" in content.lower():
        raise PayloadError(f"{what}: the answer declares a DOCTYPE; not read")
    try:
        return ET.fromstring(content)
    except ET.ParseError:
        start = content[:60].decode("utf-8", "replace")
        raise PayloadError(f"{what}: the answer is not XML (it starts {start!r})") from None


def errors_in(root: ET.Element) -> tuple[Problem, ...]:
    """Every ``error`` text at the root (``<errors>``) or per consignment; free text, kept as
    Cargonizer wrote it (it names the field itself when it does)."""
    found: list[ET.Element] = []
    if root.tag == "errors":
        found = root.findall("error")
    found += root.findall("./consignment/errors/error")
    out = []
    for el in found:
        text = _text("".join(el.itertext()), 300)
        if text:
            out.append(Problem(text))
    return tuple(out)


def _child(el: ET.Element, tag: str, where: str, *, required: bool = True) -> str:
    node = el.find(tag)
    text = (node.text or "").strip() if node is not None else ""
    if not text and required:
        raise PayloadError(f"Cargonizer's answer has no {where}/{tag}", field=f"{where}/{tag}")
    return text


def _pieces(c: ET.Element) -> list[str]:
    numbers = [
        (n.text or "").strip()
        for n in c.findall("./bundles/bundle/pieces/piece/number-with-checksum")
    ]
    if not numbers:  # the wiki's sample: bundles/pieces/number-with-checksum
        numbers = [(n.text or "").strip() for n in c.findall("./bundles//number-with-checksum")]
    return numbers


def _shipment(
    c: ET.Element, request: ShipmentRequest, carrier: str, *, recovered: bool, raw: str
) -> CarrierShipment:
    cid = _child(c, "id", "consignment")
    if not cid.isdigit():
        raise PayloadError(f"Cargonizer's consignment id {cid[:20]!r} is not a number")
    number = _child(c, "number-with-checksum", "consignment")
    pieces = _pieces(c)
    if len(pieces) != len(request.parcels) or any(not n for n in pieces):
        raise PayloadError(
            f"Cargonizer's answer has {len(pieces)} piece numbers for {len(request.parcels)} "
            "parcels"
        )
    if len(set(pieces)) != len(pieces):
        raise PayloadError("Cargonizer's answer gives two parcels the same piece number")
    parcels = tuple(
        LabelledParcel(
            seq=p.seq, tracking_number=n, sscc=sscc_of(n), label_fields={"consignment_id": cid}
        )
        for p, n in zip(request.parcels, pieces, strict=True)
    )
    product = c.find("./product/identifier")
    return CarrierShipment(
        carrier=carrier,
        service=request.service,
        parcels=parcels,
        consignment_number=number,
        tracking_url=_child(c, "tracking-url", "consignment", required=False),
        # The label PDF needs the API's headers: fetched through the adapter, by id.
        labels=(LabelDocument(format="pdf", url=f"cargonizer:{cid}"),),
        product=(product.text or "").strip() if product is not None else request.product,
        recovered=recovered,
        raw=raw,
    )


def parse_consignment(content: bytes, request: ShipmentRequest, *, carrier: str) -> CarrierShipment:
    """A ``POST /consignments.xml`` answer → the booking; :class:`Rejected` when it carries
    errors (with any HTTP status), :class:`PayloadError` when it cannot be read."""
    root = read_xml(content, "Cargonizer's booking answer")
    problems = errors_in(root)
    if problems:
        raise Rejected(problems)
    if root.tag != "consignments":
        raise PayloadError(f"Cargonizer's booking answer is <{root.tag[:30]}>, not consignments")
    found = root.findall("consignment")
    if len(found) != 1:
        raise PayloadError(f"Cargonizer's booking answer has {len(found)} consignments for one")
    return _shipment(found[0], request, carrier, recovered=False,
                     raw=content.decode("utf-8", "replace"))  # fmt: skip


@dataclass(frozen=True)
class Found:
    consignment_id: str
    reference: str
    element: ET.Element


def parse_list(content: bytes) -> tuple[Found, ...]:
    """``GET /consignments.xml?text=…`` → every consignment with its consignor reference."""
    root = read_xml(content, "Cargonizer's consignment search")
    problems = errors_in(root)
    if problems:
        raise PayloadError(f"Cargonizer's search failed: {problems[0]}")
    if root.tag != "consignments":
        raise PayloadError(f"Cargonizer's search answer is <{root.tag[:30]}>, not consignments")
    out = []
    for c in root.findall("consignment"):
        ref = c.find("consignor-reference")
        if ref is None:
            ref = c.find("./references/consignor")
        out.append(Found(_child(c, "id", "consignment"), (ref.text or "").strip()
                         if ref is not None else "", c))  # fmt: skip
    return tuple(out)


def recovered(
    found: Sequence[Found], request: ShipmentRequest, carrier: str
) -> CarrierShipment | None:
    """The one consignment whose consignor reference is exactly the order's (the search also
    matches substrings); None if none; ValueError listing them if several."""
    exact = [f for f in found if f.reference == request.ref]
    if not exact:
        return None
    if len(exact) > 1:
        raise ValueError(", ".join(f.consignment_id for f in exact))
    raw = ET.tostring(exact[0].element, encoding="unicode")
    return _shipment(exact[0].element, request, carrier, recovered=True, raw=raw)


def transferred(found: Found) -> bool:
    """Whether Cargonizer says the consignment's EDI has gone to the carrier (``state``
    ``transferred``, or ``<transfer>true</transfer>``)."""
    state = (found.element.findtext("state") or "").strip().lower()
    flag = (found.element.findtext("transfer") or "").strip().lower()
    return state == "transferred" or flag == "true"


def consignment_id_of(raw: str) -> str | None:
    """Cargonizer's own id of the consignment in a kept answer (a booking's ``<consignments>``
    or a looked-up ``<consignment>``), None when it has none."""
    try:
        root = read_xml(raw.encode("utf-8"), "the kept answer")
    except PayloadError:
        return None
    node = root if root.tag == "consignment" else root.find("consignment")
    cid = (node.findtext("id") or "").strip() if node is not None else ""
    return cid if cid.isdigit() else None
