"""Bring's request and response bodies: built and read here, pure (no network, no clock).

Shapes follow the Booking API (``/booking/api/create``, schemaVersion 1), the Pickup Point API
and the Tracking API v2 as ``../shared/fixtures/carrier-api-examples/`` documents them. Reading
is strict about what we act on (a consignment number, one package number per parcel) and
tolerant about the rest: unknown fields are ignored (Bring's versioning rule), ``expectedDelivery``
may be epoch ms or a date-time, pickup-point distances may be strings or numbers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urldefrag, urlsplit

from packbench.carriers.base import (
    Address,
    CarrierShipment,
    LabelDocument,
    LabelledParcel,
    PayloadError,
    PickupPoint,
    Problem,
    Rejected,
    ShipmentRequest,
)
from packbench.core.codes import is_valid_sscc

__all__ = [
    "TEXT_LIMIT",
    "BookingOptions",
    "booking_body",
    "check_request",
    "clean_label_url",
    "parse_booking",
    "parse_errors",
    "parse_pickup_points",
    "parse_tracking",
    "problems_from_errors",
]

TEXT_LIMIT = 35  # names and address lines; additionalAddressInfo 70, e-mail 60
EMAIL_LIMIT = 60
NOTIFY_SERVICE = "EVARSLING"
#: Products whose sender phone Bring does not require (mailbox parcels; returns are not ours).
NO_SENDER_PHONE = frozenset({"3584", "3570"})
_POSTCODE = {"NO": re.compile(r"^\d{4}$"), "SE": re.compile(r"^\d{3} ?\d{2}$"),
             "DK": re.compile(r"^\d{4}$"), "FI": re.compile(r"^\d{5}$")}  # fmt: skip
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class BookingOptions:
    """What the booking body needs beyond the order: from the carrier's configuration."""

    product_id: str
    customer_number: str
    sender: Address
    services: tuple[str, ...] = ()
    test_indicator: bool | None = True  # None: leave the body flag out (header only)
    goods_description: str = ""


# --------------------------------------------------------------------------- building


def _text(value: str) -> str:
    """One line: control characters and runs of blanks become one space."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def _cm(mm: int) -> int:
    """Whole centimetres, rounded up: a parcel is never declared smaller than it is."""
    return max(1, math.ceil(mm / 10))


def _kg(grams: int) -> float:
    return round(grams / 1000, 3)


def check_request(request: ShipmentRequest, options: BookingOptions) -> None:
    """Refuse, before anything is sent, what Bring would refuse or we would regret: each
    problem names its field. Raises :class:`Rejected`."""
    problems: list[Problem] = []

    def need(cond: bool, field: str, message: str) -> None:
        if not cond:
            problems.append(Problem(message, field=field))

    def fits(value: str, field: str, shown: str, limit: int = TEXT_LIMIT) -> None:
        n = len(_text(value))
        need(n <= limit, field, f"{shown} is {n} characters; Bring takes at most {limit}")

    for party, addr in (("sender", options.sender), ("recipient", request.recipient)):
        need(bool(_text(addr.name)), f"{party}.name", f"{party} name is missing")
        need(bool(_text(addr.address1)), f"{party}.address", f"{party} address is missing")
        need(bool(_text(addr.city)), f"{party}.city", f"{party} city is missing")
        country = addr.country.strip().upper()
        need(
            bool(_COUNTRY.match(country)),
            f"{party}.country",
            f"{party} country {addr.country!r} is not a two-letter country code",
        )
        pattern = _POSTCODE.get(country)
        need(
            bool(addr.postcode.strip())
            and (pattern is None or bool(pattern.match(addr.postcode.strip()))),
            f"{party}.postcode",
            f"{party} postcode {addr.postcode!r} is not valid for {country or 'its country'}",
        )
        fits(addr.name, f"{party}.name", f"{party} name")
        fits(addr.address1, f"{party}.address", f"{party} address line")
        fits(addr.address2, f"{party}.address2", f"{party} second address line")
        fits(addr.city, f"{party}.city", f"{party} city")
        fits(addr.contact, f"{party}.contact", f"{party} contact name")
        fits(addr.email, f"{party}.email", f"{party} e-mail", EMAIL_LIMIT)
    if options.product_id not in NO_SENDER_PHONE:
        need(
            bool(options.sender.phone.strip()),
            "sender.phone",
            f"the sender's phone is required for product {options.product_id}: set it in "
            "[ship.sender]",
        )
    notify = request.pickup_point_id or NOTIFY_SERVICE in options.services
    if notify:
        need(
            bool(request.email.strip() or request.phone.strip()),
            "recipient.email",
            "the recipient needs an e-mail address or a mobile number for the pickup notice",
        )
    need(bool(options.product_id.strip()), "product", "no Bring product for this shipping method")
    need(bool(options.customer_number.strip()), "customer_number", "no Bring customer number")
    need(bool(request.parcels), "packages", f"order {request.order_number} has no parcels")
    need(len(request.parcels) <= 50, "packages", "Bring takes at most 50 packages a booking")
    for p in request.parcels:
        need(p.weight_g > 0, f"packages[{p.seq}].weight", f"parcel {p.seq} has no weight")
        dims = (p.length_mm, p.width_mm, p.height_mm)
        need(
            all(d >= 0 for d in dims),
            f"packages[{p.seq}].dimensions",
            f"parcel {p.seq} has a negative dimension",
        )
    if problems:
        raise Rejected(problems)


def _party(addr: Address, reference: str | None) -> dict[str, Any]:
    contact: dict[str, Any] = {"name": _text(addr.contact or addr.name)}
    if addr.email.strip():
        contact["email"] = addr.email.strip()
    if addr.phone.strip():
        contact["phoneNumber"] = addr.phone.strip()
    return {
        "name": _text(addr.name),
        "addressLine": _text(addr.address1),
        "addressLine2": _text(addr.address2) or None,
        "postalCode": addr.postcode.strip(),
        "city": _text(addr.city),
        "countryCode": addr.country.strip().upper(),
        "reference": reference,
        "additionalAddressInfo": None,
        "contact": contact,
    }


def _service(sid: str, request: ShipmentRequest) -> dict[str, Any]:
    if sid.upper() == NOTIFY_SERVICE:
        out: dict[str, Any] = {"id": NOTIFY_SERVICE}
        if request.email.strip():
            out["email"] = request.email.strip()
        if request.phone.strip():
            out["mobile"] = request.phone.strip()
        return out
    return {"id": sid}


def package_correlation(reference: str, seq: int) -> str:
    return f"{reference}-{seq}"


def booking_body(
    request: ShipmentRequest, options: BookingOptions, shipping_time: datetime
) -> dict[str, Any]:
    """The ``POST /booking/api/create`` body for one consignment (checked first: raises
    :class:`Rejected` naming the field). ``shipping_time`` is local wall-clock time."""
    check_request(request, options)
    ref = request.ref
    packages = []
    for p in request.parcels:
        package: dict[str, Any] = {
            "correlationId": package_correlation(ref, p.seq),
            "weightInKg": _kg(p.weight_g),
            "goodsDescription": _text(p.goods_description or request.goods_description
                                      or options.goods_description)[:TEXT_LIMIT] or None,
            "dimensions": None,
            "containerId": None,
            "packageType": None,
            "numberOfItems": None,
        }  # fmt: skip
        if p.length_mm > 0 and p.width_mm > 0 and p.height_mm > 0:
            package["dimensions"] = {
                "heightInCm": _cm(p.height_mm),
                "widthInCm": _cm(p.width_mm),
                "lengthInCm": _cm(p.length_mm),
            }
        packages.append(package)
    parties: dict[str, Any] = {
        "sender": _party(options.sender, ref),
        "recipient": _party(request.recipient, None),
    }
    if request.pickup_point_id:
        parties["pickupPoint"] = {
            "id": request.pickup_point_id.strip(),
            "countryCode": request.country.strip().upper(),
        }
    body: dict[str, Any] = {}
    if options.test_indicator is not None:
        body["testIndicator"] = options.test_indicator
    body["schemaVersion"] = 1
    body["consignments"] = [
        {
            "shippingDateTime": shipping_time.replace(tzinfo=None, microsecond=0).isoformat(),
            "correlationId": ref,
            "parties": parties,
            "product": {
                "id": options.product_id.strip().upper(),
                "customerNumber": options.customer_number.strip(),
                "additionalServices": [_service(s, request) for s in options.services],
            },
            "purchaseOrder": None,
            "packages": packages,
        }
    ]
    return body


# --------------------------------------------------------------------------- errors

#: Bring's error code (without the -SENDER/-RECIPIENT suffix, dashes only) → what it is about.
#: Bring adds codes over time (BOOK-VALIDATION-001 is being split): unknown codes still show
#: their own message.
_PARTY_FIELDS = {
    "BOOK-INPUT-014": ("name", "name"),
    "BOOK-INPUT-015": ("address", "addressLine"),
    "BOOK-INPUT-016": ("city", "city"),
    "BOOK-INPUT-017": ("country", "countryCode"),
    "BOOK-INPUT-022": ("country", "countryCode"),
    "BOOK-INPUT-028": ("country", "countryCode"),
    "BOOK-INPUT-057": ("postcode", "postalCode"),
    "BOOK-VALIDATION-003": ("country", "countryCode"),
}
_OTHER_FIELDS = {
    "BOOK-INPUT-002": "package weight",
    "BOOK-INPUT-013": "package dimensions",
    "BOOK-INPUT-018": "product",
    "BOOK-INPUT-020": "product",
    "BOOK-INPUT-019": "customer number",
    "BOOK-INPUT-021": "customer number",
    "BOOK-INPUT-029": "customer number",
    "BOOK-INPUT-023": "parcel size",
    "BOOK-INPUT-011": "number of packages",
    "BOOK-INPUT-032": "number of packages",
    "BOOK-INPUT-045": "pickup point",
    "BOOK-INPUT-072": "recipient phone",
    "BOOK-VALIDATION-002": "recipient e-mail or mobile",
    "BOOK-VALIDATION-011": "recipient e-mail or mobile",
}


def _message(err: Mapping[str, Any]) -> str:
    messages = err.get("messages")
    texts: list[tuple[str, str]] = []
    if isinstance(messages, list):
        for m in messages:
            if isinstance(m, Mapping) and isinstance(m.get("message"), str):
                texts.append((str(m.get("lang") or ""), m["message"]))
            elif isinstance(m, str):
                texts.append(("", m))
    elif isinstance(err.get("message"), str):
        texts.append(("", err["message"]))
    for lang, text in texts:
        if lang.lower() == "en":
            return _text(text)[:300]
    return _text(texts[0][1])[:300] if texts else ""


def _value(sent: Mapping[str, Any] | None, *path: str | int) -> Any:
    node: Any = sent
    for key in path:
        if isinstance(key, int):
            if not isinstance(node, list) or len(node) <= key:
                return None
        elif not isinstance(node, Mapping):
            return None
        node = node[key] if isinstance(key, int) else node.get(key)
    return node


def problems_from_errors(
    errors: Sequence[Any], sent: Mapping[str, Any] | None = None
) -> tuple[Problem, ...]:
    """Bring's ``errors[] {code, messages[{lang, message}]}`` as problems naming the field,
    with the value we sent when the code says which one ("recipient postcode '0000': …")."""
    out: list[Problem] = []
    consignment = _value(sent, "consignments", 0)
    for err in errors:
        if not isinstance(err, Mapping):
            if isinstance(err, str) and err.strip():
                out.append(Problem(_text(err)[:300]))
            continue
        code = str(err.get("code") or "").strip()
        text = _message(err) or "refused without a reason"
        norm = code.upper().replace("_", "-")
        party = ""
        value: Any = None
        for suffix in ("-RECIPIENT", "-SENDER"):
            if norm.endswith(suffix):
                party, norm = suffix[1:].lower(), norm[: -len(suffix)]
        if norm in _PARTY_FIELDS:
            field, key = _PARTY_FIELDS[norm]
            who = party or "recipient"
            value = _value(consignment, "parties", who, key)
            shown = f" {value!r}" if value not in (None, "") else ""
            out.append(Problem(f"{who} {field}{shown}: {text}", code, f"{who}.{field}"))
        elif norm in _OTHER_FIELDS:
            field = _OTHER_FIELDS[norm]
            value = None
            if field == "product":
                value = _value(consignment, "product", "id")
            elif field == "customer number":
                value = _value(consignment, "product", "customerNumber")
            elif field == "pickup point":
                value = _value(consignment, "parties", "pickupPoint", "id")
            elif field == "number of packages":
                packages = _value(consignment, "packages")
                value = len(packages) if isinstance(packages, list) else None
            shown = f" {value!r}" if value not in (None, "") else ""
            out.append(Problem(f"{field}{shown}: {text}", code, field.replace(" ", "_")))
        else:
            where = f"{party}: " if party else ""
            out.append(Problem(f"{where}{text}", code))
    return tuple(out)


def parse_errors(body: Any, sent: Mapping[str, Any] | None = None) -> tuple[Problem, ...]:
    """Every error in an answer: per consignment, or at the top (``errors`` / ``message``)."""
    errors: list[Any] = []
    if isinstance(body, Mapping):
        consignments = body.get("consignments")
        if isinstance(consignments, list):
            for c in consignments:
                if isinstance(c, Mapping) and isinstance(c.get("errors"), list):
                    errors.extend(c["errors"])
        if isinstance(body.get("errors"), list):
            errors.extend(body["errors"])
        if not errors and isinstance(body.get("message"), str):
            errors.append({"code": body.get("code") or "", "messages": [body["message"]]})
    return problems_from_errors(errors, sent)


# --------------------------------------------------------------------------- reading answers


def _str(node: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = node.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None or value == "":
        if required:
            raise PayloadError(f"Bring's answer has no {where}.{key}", field=f"{where}.{key}")
        return ""
    if not isinstance(value, str):
        raise PayloadError(
            f"Bring's answer: {where}.{key} is {type(value).__name__}, not text",
            field=f"{where}.{key}",
        )
    return value.strip()


def clean_label_url(url: str) -> str:
    """The label link without a ``#zoom=…`` fragment; only http(s)."""
    bare, _ = urldefrag(url.strip())
    parts = urlsplit(bare)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PayloadError(f"Bring's label link {url[:80]!r} is not an http(s) URL",
                           field="links.labels")  # fmt: skip
    return bare


def sscc_of(package_number: str) -> str:
    """The SSCC a Bring package number is (18 digits; 20 with the AI ``00`` in front), or ""."""
    digits = package_number.strip()
    if len(digits) == 20 and digits.startswith("00"):
        digits = digits[2:]
    return digits if is_valid_sscc(digits) else ""


def _packages(
    items: Any, request: ShipmentRequest, where: str, key: str = "packageNumber"
) -> tuple[LabelledParcel, ...]:
    """Package numbers onto the parcels: by our ``correlationId`` when every package echoes
    one, else in the order given. The count must match."""
    if not isinstance(items, list):
        raise PayloadError(f"Bring's answer has no list at {where}", field=where)
    seqs = [p.seq for p in request.parcels]
    if len(items) != len(seqs):
        raise PayloadError(
            f"Bring's answer has {len(items)} package numbers for {len(seqs)} parcels",
            field=where,
        )
    numbers: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise PayloadError(f"Bring's answer: {where}[{i}] is not an object", field=where)
        numbers.append((_str(item, key, f"{where}[{i}]"),
                        _str(item, "correlationId", f"{where}[{i}]", required=False)))  # fmt: skip
    by_corr = {package_correlation(request.ref, s): s for s in seqs}
    if all(c in by_corr for _, c in numbers) and len({c for _, c in numbers}) == len(numbers):
        order = [by_corr[c] for _, c in numbers]
    else:
        order = seqs
    if len({n for n, _ in numbers}) != len(numbers):
        raise PayloadError("Bring's answer gives two parcels the same package number", field=where)
    parcels = [
        LabelledParcel(seq=seq, tracking_number=number, sscc=sscc_of(number))
        for seq, (number, _) in zip(order, numbers, strict=True)
    ]
    return tuple(sorted(parcels, key=lambda p: p.seq))


def parse_booking(
    body: Any,
    request: ShipmentRequest,
    *,
    carrier: str,
    sent: Mapping[str, Any] | None = None,
    raw: str = "",
) -> CarrierShipment:
    """A booking answer → the shipment; :class:`Rejected` when the consignment carries errors
    (each naming its field), :class:`PayloadError` when it cannot be read."""
    if not isinstance(body, Mapping):
        raise PayloadError("Bring's booking answer is not a JSON object")
    consignments = body.get("consignments")
    if not isinstance(consignments, list) or not consignments:
        problems = parse_errors(body, sent)
        if problems:
            raise Rejected(problems)
        raise PayloadError("Bring's booking answer has no consignments", field="consignments")
    if len(consignments) != 1:
        raise PayloadError(
            f"Bring's booking answer has {len(consignments)} consignments for one booked",
            field="consignments",
        )
    c = consignments[0]
    if not isinstance(c, Mapping):
        raise PayloadError("Bring's answer: consignments[0] is not an object")
    if c.get("errors"):
        errors = c["errors"] if isinstance(c["errors"], list) else [c["errors"]]
        raise Rejected(problems_from_errors(errors, sent))
    conf = c.get("confirmation")
    if not isinstance(conf, Mapping):
        raise PayloadError("Bring's answer has neither a confirmation nor errors",
                           field="consignments[0].confirmation")  # fmt: skip
    where = "consignments[0].confirmation"
    number = _str(conf, "consignmentNumber", where)
    links = conf.get("links") if isinstance(conf.get("links"), Mapping) else {}
    assert isinstance(links, Mapping)
    label_url = _str(links, "labels", f"{where}.links", required=False)
    tracking = _str(links, "tracking", f"{where}.links", required=False)
    labels: tuple[LabelDocument, ...] = ()
    if label_url:
        labels = (LabelDocument(format="pdf", url=clean_label_url(label_url)),)
    product = _value(sent, "consignments", 0, "product", "id") or request.product
    return CarrierShipment(
        carrier=carrier,
        service=request.service,
        parcels=_packages(conf.get("packages"), request, f"{where}.packages"),
        consignment_number=number,
        tracking_url=tracking,
        labels=labels,
        product=str(product or ""),
        raw=raw,
    )


@dataclass(frozen=True)
class TrackedConsignment:
    consignment_number: str
    reference: str | None  # None: the answer does not say
    package_numbers: tuple[str, ...]


def parse_tracking(body: Any) -> tuple[TrackedConsignment, ...]:
    """A Tracking API v2 answer → its consignments. An entry ``{"error": {"code": 404}}`` is
    "no shipments found"; any other error raises :class:`PayloadError` (cannot decide)."""
    if not isinstance(body, Mapping):
        raise PayloadError("Bring's tracking answer is not a JSON object")
    cset = body.get("consignmentSet")
    if not isinstance(cset, list):
        raise PayloadError("Bring's tracking answer has no consignmentSet", field="consignmentSet")
    out: list[TrackedConsignment] = []
    for i, c in enumerate(cset):
        where = f"consignmentSet[{i}]"
        if not isinstance(c, Mapping):
            raise PayloadError(f"Bring's tracking answer: {where} is not an object")
        err = c.get("error")
        if err is not None:
            code = err.get("code") if isinstance(err, Mapping) else None
            if str(code) == "404":
                continue
            text = err.get("message") if isinstance(err, Mapping) else err
            raise PayloadError(f"Bring's tracking search failed: {_text(str(text))[:200]}")
        number = _str(c, "consignmentId", where)
        ref = c.get("senderReference")
        packages = c.get("packageSet")
        if not isinstance(packages, list):
            raise PayloadError(f"Bring's tracking answer: {where} has no packageSet")
        nums = tuple(
            _str(p, "packageNumber", f"{where}.packageSet[{j}]")
            if isinstance(p, Mapping)
            else _str({}, "packageNumber", f"{where}.packageSet[{j}]")
            for j, p in enumerate(packages)
        )
        reference = ref.strip() if isinstance(ref, str) and ref.strip() else None
        out.append(TrackedConsignment(number, reference, nums))
    return tuple(out)


def parse_pickup_points(body: Any, *, limit: int = 50) -> tuple[Any, ...]:
    """The Pickup Point API's ``{"pickupPoint": [...]}`` → pickup points, in Bring's order
    (nearest first). Entries without an id or a name are left out, not guessed at."""
    if not isinstance(body, Mapping):
        raise PayloadError("Bring's pickup point answer is not a JSON object")
    items = body.get("pickupPoint")
    if items is None:
        return ()
    if not isinstance(items, list):
        raise PayloadError("Bring's pickup point answer: pickupPoint is not a list")
    out: list[PickupPoint] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        pid, name = item.get("id"), item.get("name")
        if isinstance(pid, int) and not isinstance(pid, bool):
            pid = str(pid)
        if not (isinstance(pid, str) and pid.strip() and isinstance(name, str) and name.strip()):
            continue

        def s(key: str, item: Mapping[str, Any] = item) -> str:
            v = item.get(key)
            return _text(v)[:100] if isinstance(v, str) else ""

        distance: float | None
        try:
            distance = float(item.get("distanceInKm"))  # type: ignore[arg-type]  # whatever the carrier sent: a refusal of float() is caught
            if not math.isfinite(distance) or distance < 0:
                distance = None
        except (TypeError, ValueError):
            distance = None
        max_dims: tuple[int, int, int] | None = None
        mpd = item.get("maxParcelDimensions")
        if isinstance(mpd, Mapping):
            try:
                l, w, h = (float(mpd[k]) for k in ("length", "width", "height"))  # noqa: E741
                if all(math.isfinite(x) and x > 0 for x in (l, w, h)):
                    max_dims = (round(l * 10), round(w * 10), round(h * 10))
            except (KeyError, TypeError, ValueError):
                max_dims = None
        kind = str(item.get("type") or "")
        out.append(
            PickupPoint(
                id=_text(pid)[:40],
                name=_text(name)[:100],
                address=s("address"),
                postcode=s("postalCode"),
                city=s("city"),
                country=s("countryCode") or "NO",
                visiting_address=s("visitingAddress"),
                visiting_postcode=s("visitingPostalCode"),
                visiting_city=s("visitingCity"),
                distance_km=distance,
                kind=kind,
                locker=kind == "37" or max_dims is not None,
                opening_hours=s("openingHoursNorwegian") or s("openingHoursEnglish"),
                max_dimensions_mm=max_dims,
            )
        )
        if len(out) >= limit:
            break
    return tuple(out)


def decode(content: bytes, what: str) -> Any:
    """JSON from bytes, or :class:`PayloadError` quoting the start of what came instead."""
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        start = content[:60].decode("utf-8", "replace")
        raise PayloadError(f"{what}: the answer is not JSON (it starts {start!r})") from None
