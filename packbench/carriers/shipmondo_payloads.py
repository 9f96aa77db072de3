"""Shipmondo's JSON bodies (REST v3): built and read here, pure (no network).

Shapes follow ``../shared/fixtures/carrier-api-examples/shipmondo-*.json`` and its README:
``POST /shipments`` with ``own_agreement``, ``product_code``, ``service_codes`` (one
comma-separated string), ``parties[]`` (``type`` sender/receiver, ``postal_code``, ``phone``;
the old top-level ``sender``/``receiver`` objects are deprecated), ``parcels[]`` (``weight`` in
whole grams, dimensions in whole cm), a pickup point as ``service_point_id``. The answer is the
shipment: ``id``, ``pkg_no`` (the carrier's shipment number), ``parcels[].pkg_no``/``pkg_nos``
and, when ``label_format`` was asked for, ``labels[] {base64, file_format}``. Errors are
``{"error": "text"}`` (401/404/422); the text is mapped onto the field it names where it names
one we sent. Clients must ignore unknown fields.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packbench.carriers.base import (
    Address,
    CarrierShipment,
    LabelDocument,
    LabelledParcel,
    PayloadError,
    Problem,
    Rejected,
    ShipmentRequest,
    pdf_page_size_mm,
)
from packbench.carriers.bring_payloads import sscc_of

__all__ = [
    "LABEL_FORMATS",
    "ShipmondoOptions",
    "decode",
    "labels_in",
    "parse_errors",
    "parse_list",
    "parse_shipment",
    "shipment_body",
]

#: ``label_format`` values the README lists that give one document (PNG gives one image per
#: label: not printed here).
LABEL_FORMATS = ("10x19_pdf", "a4_pdf", "compact_pdf", "10x19_zpl", "compact_zpl")
MAX_TEXT = 35  # Bring's limit on name/address lines; Shipmondo passes them on


@dataclass(frozen=True)
class ShipmondoOptions:
    product_code: str
    sender: Address
    service_codes: tuple[str, ...] = ()
    label_format: str = "10x19_pdf"  # "" asks for no labels in the answer
    own_agreement: bool = True
    customer_number: str = ""  # picks one of several own agreements
    contents: str = ""


def _text(value: str, limit: int = MAX_TEXT) -> str:
    return " ".join("".join(c if c.isprintable() else " " for c in value).split())[:limit]


def _party(kind: str, addr: Address) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": kind,
        "name": _text(addr.name),
        "address1": _text(addr.address1),
        "postal_code": addr.postcode.strip(),
        "city": _text(addr.city),
        "country_code": (addr.country.strip() or "NO").upper(),
    }
    if addr.contact.strip() and addr.contact.strip() != addr.name.strip():
        out["attention"] = _text(addr.contact)
    if addr.address2.strip():
        out["address2"] = _text(addr.address2)
    if addr.email.strip():
        out["email"] = addr.email.strip()[:60]
    if addr.phone.strip():
        out["phone"] = addr.phone.strip()[:20]
    return out


def check(request: ShipmentRequest, options: ShipmondoOptions) -> None:
    problems = []
    for who, addr in (("recipient", request.recipient), ("sender", options.sender)):
        for name, value in (("name", addr.name), ("address", addr.address1),
                            ("postcode", addr.postcode), ("city", addr.city)):  # fmt: skip
            if not value.strip():
                problems.append(Problem(f"{who} {name} is missing", field=f"{who}.{name}"))
        cc = (addr.country.strip() or "NO").upper()
        if not re.fullmatch(r"[A-Z]{2}", cc):
            problems.append(Problem(f"{who} country {addr.country!r} is not a two-letter code",
                                    field=f"{who}.country"))  # fmt: skip
    if not options.product_code.strip():
        problems.append(Problem("no Shipmondo product_code for this shipping method",
                                field="product_code"))  # fmt: skip
    if options.label_format and options.label_format not in LABEL_FORMATS:
        problems.append(Problem(f"label_format {options.label_format!r} is not one of "
                                f"{', '.join(LABEL_FORMATS)}", field="label_format"))  # fmt: skip
    if not request.parcels:
        problems.append(Problem(f"order {request.order_number} has no parcels", field="parcels"))
    for p in request.parcels:
        if p.weight_g <= 0:
            problems.append(Problem(f"parcel {p.seq} has no weight",
                                    field=f"parcels[{p.seq}].weight"))  # fmt: skip
    if request.pickup_point_id and not request.email.strip() and not request.phone.strip():
        problems.append(Problem("a pickup point needs the recipient's e-mail or mobile",
                                field="recipient.email"))  # fmt: skip
    if problems:
        raise Rejected(problems)


def internal_reference(request: ShipmentRequest, seq: int) -> str:
    return f"{request.ref}-{seq}"


def shipment_body(request: ShipmentRequest, options: ShipmondoOptions) -> dict[str, Any]:
    """The ``POST /shipments`` body (checked first; Rejected naming the field)."""
    check(request, options)
    body: dict[str, Any] = {"own_agreement": options.own_agreement}
    if options.customer_number.strip():
        body["customer_number"] = options.customer_number.strip()
    if options.label_format:
        body["label_format"] = options.label_format
    body["product_code"] = options.product_code.strip()
    body["service_codes"] = ",".join(s.strip() for s in options.service_codes if s.strip())
    body["reference"] = _text(request.ref, 100)
    contents = _text(request.goods_description or options.contents, 100)
    if contents:
        body["contents"] = contents
    body["automatic_select_service_point"] = False
    if request.pickup_point_id:
        body["service_point_id"] = _text(request.pickup_point_id, 40)
    body["parties"] = [_party("sender", options.sender), _party("receiver", request.recipient)]
    parcels = []
    for p in request.parcels:
        parcel: dict[str, Any] = {"quantity": 1, "weight": int(p.weight_g)}
        if p.length_mm > 0 and p.width_mm > 0 and p.height_mm > 0:
            parcel.update(length=math.ceil(p.length_mm / 10), width=math.ceil(p.width_mm / 10),
                          height=math.ceil(p.height_mm / 10))  # fmt: skip
        description = _text(p.goods_description or request.goods_description, 50)
        if description:
            parcel["description"] = description
        parcel["internal_reference"] = internal_reference(request, p.seq)
        parcels.append(parcel)
    body["parcels"] = parcels
    body["print"] = False
    body["replace_http_status_code"] = False
    return body


# --------------------------------------------------------------------------- reading


def decode(content: bytes, what: str) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        start = content[:60].decode("utf-8", "replace")
        raise PayloadError(f"{what}: the answer is not JSON (it starts {start!r})") from None


#: Words in Shipmondo's error text → the field we sent, in the bench's words.
_POSTCODE = r"(postal_code|zip ?code|postcode)"
_FIELDS = (
    (rf"receiver.{{0,20}}{_POSTCODE}", "recipient postcode", "recipient.postcode"),
    (rf"sender.{{0,20}}{_POSTCODE}", "sender postcode", "sender.postcode"),
    (r"receiver.{0,20}(address1|address)", "recipient address", "recipient.address"),
    (r"receiver.{0,20}city", "recipient city", "recipient.city"),
    (r"receiver.{0,20}name", "recipient name", "recipient.name"),
    (r"receiver.{0,20}(phone|mobile)", "recipient mobile", "recipient.phone"),
    (r"receiver.{0,20}email", "recipient e-mail", "recipient.email"),
    (r"sender.{0,20}phone", "sender phone", "sender.phone"),
    (_POSTCODE, "postcode", "postcode"),
    (r"service_point", "pickup point", "service_point_id"),
    (r"product_code|product", "product", "product_code"),
    (r"service_codes?", "additional services", "service_codes"),
    (r"weight", "parcel weight", "parcels.weight"),
    (r"length|width|height|dimension", "parcel size", "parcels.dimensions"),
    (r"customer_number|agreement", "agreement", "customer_number"),
    (r"label_format", "label format", "label_format"),
)  # fmt: skip


def _problem(text: str) -> Problem:
    text = _text(text, 300)
    for pattern, name, where in _FIELDS:
        if re.search(pattern, text, re.IGNORECASE):
            return Problem(f"{name}: {text}", field=where)
    return Problem(text)


def parse_errors(body: Any) -> tuple[Problem, ...]:
    """Shipmondo's ``{"error": "text"}`` (tolerating a list, ``errors`` or ``message``) as
    problems, each naming the field it is about when the text says."""
    if not isinstance(body, Mapping):
        return ()
    out: list[Problem] = []
    for key in ("error", "errors", "message"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            out.append(_problem(value))
        elif isinstance(value, list):
            out += [_problem(str(v)) for v in value if str(v).strip()]
        elif isinstance(value, Mapping):  # {"field": ["is invalid"]}
            for name, said in value.items():
                said = "; ".join(map(str, said)) if isinstance(said, list) else str(said)
                out.append(_problem(f"{name} {said}"))
    return tuple(out)


def labels_in(value: Any, *, parcels: tuple[int, ...] = ()) -> tuple[LabelDocument, ...]:
    """``labels[] {base64, file_format}`` (or one such object) → documents; PNG is refused
    (one image per label, not a printable document)."""
    if isinstance(value, Mapping) and "labels" in value:
        value = value["labels"]
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise PayloadError("Shipmondo's labels are not a list", field="labels")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or not isinstance(item.get("base64"), str):
            raise PayloadError(f"Shipmondo's labels[{i}] has no base64", field=f"labels[{i}]")
        fmt = str(item.get("file_format") or "").lower()
        try:
            data = base64.b64decode(item["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise PayloadError(f"Shipmondo's labels[{i}].base64 is not base64",
                               field=f"labels[{i}].base64") from None  # fmt: skip
        if fmt == "pdf" or data.startswith(b"%PDF"):
            if not data.startswith(b"%PDF"):
                raise PayloadError(f"Shipmondo's labels[{i}] says pdf but is not a PDF")
            out.append(LabelDocument("pdf", data, page_size_mm=pdf_page_size_mm(data),
                                     parcels=parcels))  # fmt: skip
        elif fmt == "zpl" or data.lstrip().startswith((b"^XA", b"~")):
            out.append(LabelDocument("zpl", data, parcels=parcels))
        else:
            raise PayloadError(f"Shipmondo's labels[{i}] is {fmt or 'of no format'}: only PDF "
                               "and ZPL labels are printed here (set label_format)")  # fmt: skip
    return tuple(out)


def _parcel_numbers(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(internal_reference, package number) per package, in the answer's order."""
    parcels = body.get("parcels")
    if not isinstance(parcels, list):
        raise PayloadError("Shipmondo's answer has no parcels list", field="parcels")
    out = []
    for i, p in enumerate(parcels):
        if not isinstance(p, Mapping):
            raise PayloadError(f"Shipmondo's parcels[{i}] is not an object", field="parcels")
        numbers = p.get("pkg_nos") if isinstance(p.get("pkg_nos"), list) else None
        numbers = [str(n) for n in numbers if n] if numbers else []
        if not numbers and p.get("pkg_no"):
            numbers = [str(p["pkg_no"])]
        try:
            quantity = int(p.get("quantity") or 1)
        except (TypeError, ValueError):
            quantity = 1
        if len(numbers) != quantity:
            raise PayloadError(
                f"Shipmondo's parcels[{i}] has {len(numbers)} package numbers for quantity "
                f"{quantity}",
                field=f"parcels[{i}].pkg_nos",
            )
        ref = str(p.get("internal_reference") or "")
        out += [(ref, n) for n in numbers]
    return out


def parse_shipment(
    body: Any, request: ShipmentRequest, *, carrier: str, raw: str = "", recovered: bool = False,
    tracking_link: str = "",
) -> CarrierShipment:  # fmt: skip
    """A shipment (the create answer or a listed one) → the booking. Parcels are matched by
    their ``internal_reference`` (``<ref>-<seq>``), else in order."""
    if not isinstance(body, Mapping):
        raise PayloadError("Shipmondo's answer is not an object")
    problems = parse_errors(body)
    if problems and not body.get("id"):
        raise Rejected(problems)
    sid = body.get("id")
    if isinstance(sid, bool) or not isinstance(sid, int | str) or not str(sid).isdigit():
        raise PayloadError("Shipmondo's answer has no shipment id", field="id")
    number = str(body.get("pkg_no") or "").strip()
    numbers = _parcel_numbers(body)
    if len(numbers) != len(request.parcels):
        raise PayloadError(f"Shipmondo's answer has {len(numbers)} package numbers for "
                           f"{len(request.parcels)} parcels", field="parcels")  # fmt: skip
    if len({n for _, n in numbers}) != len(numbers):
        raise PayloadError("Shipmondo's answer gives two parcels the same package number")
    by_ref = {ref: n for ref, n in numbers if ref}
    in_order = [n for _, n in numbers]
    parcels = []
    for i, p in enumerate(request.parcels):
        n = by_ref.get(internal_reference(request, p.seq)) or in_order[i]
        parcels.append(LabelledParcel(seq=p.seq, tracking_number=n, sscc=sscc_of(n),
                                      label_fields={"shipmondo_id": str(sid)}))  # fmt: skip
    if len({lp.tracking_number for lp in parcels}) != len(parcels):
        raise PayloadError("Shipmondo's parcels' references do not match the order's parcels")
    labels: tuple[LabelDocument, ...] = ()
    if body.get("labels"):
        labels = labels_in(body["labels"])
    if not labels:  # fetched later by the shipment's id (GET /shipments/{id}/labels)
        labels = (LabelDocument(format="pdf", url=f"shipmondo:{sid}"),)
    track = number or (parcels[0].tracking_number if parcels else "")
    return CarrierShipment(
        carrier=carrier,
        service=request.service,
        parcels=tuple(parcels),
        consignment_number=number or track,
        tracking_url=tracking_link.replace("{tracking}", track) if tracking_link and track else "",
        labels=labels,
        product=str(body.get("product_code") or request.product),
        recovered=recovered,
        raw=raw or json.dumps(body, ensure_ascii=False),
    )


def parse_list(body: Any) -> list[Mapping[str, Any]]:
    """``GET /shipments`` → the shipments (a list, or tolerated ``{"shipments": [...]}``)."""
    if isinstance(body, Mapping):
        body = body.get("shipments", body.get("data"))
    if not isinstance(body, list):
        raise PayloadError("Shipmondo's shipment list is not a list")
    return [s for s in body if isinstance(s, Mapping)]


def matching(shipments: Sequence[Mapping[str, Any]], request: ShipmentRequest) -> list[Any]:
    """The shipments booked for ``request``: ``reference`` exactly the order's, or a parcel's
    ``internal_reference`` one of ours (the list cannot be filtered by reference)."""
    ours = {internal_reference(request, p.seq) for p in request.parcels}
    out = []
    for s in shipments:
        refs = {
            str(p.get("internal_reference") or "")
            for p in (s.get("parcels") or [])
            if isinstance(p, Mapping)
        }
        if str(s.get("reference") or "") == request.ref or refs & ours:
            out.append(s)
    return out
