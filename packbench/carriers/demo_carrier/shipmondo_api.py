"""The demo carrier's Shipmondo face, under ``/shipmondo/api/public/v3``: Shipmondo's REST v3 in
the shapes of the examples' README, booking into the same books as the Bring face.

- HTTP Basic auth (API user, API key), else 401 ``{"error": …}``.
- ``POST /shipments``: the ``parties[]`` body (sender and receiver required), ``product_code``
  one of :data:`PRODUCTS`, parcels in grams and whole cm; refusals are 422 ``{"error": …}``
  naming the field as Shipmondo's text does. The answer is the whole shipment (``id``,
  ``pkg_no``, ``parcels[].pkg_no``/``pkg_nos``, ``parties`` and the legacy ``sender``/
  ``receiver``) with ``labels[] {base64, file_format}`` when ``label_format`` was given:
  ``10x19_pdf``/``a4_pdf`` a PDF (10 × 19 cm pages either way), ``10x19_zpl`` ZPL.
- ``GET /shipments?created_at_min=&page=&per_page=`` (no reference filter, as the real one),
  ``GET /shipments/{id}``, ``GET /shipments/{id}/labels?label_format=``,
  ``PUT /shipments/{id}/cancel``.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import re
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from packbench.carriers.demo_carrier.label import render_label_pdf, render_label_zpl
from packbench.carriers.demo_carrier.state import (
    BookingRefused,
    DemoCarrierState,
    pickup_points_near,
)

__all__ = ["PRODUCTS", "SHIPMONDO_PREFIX", "shipmondo_routes"]

SHIPMONDO_PREFIX = "/shipmondo/api/public/v3"
#: product_code → the Bring product it books. Shipmondo's real Bring codes are unconfirmed
#: (``BRI_`` prefix); the fixture's placeholder is accepted, the others are the demo's own.
PRODUCTS = {
    "BRI_NO_PICKUP_PLACEHOLDER": "5800",
    "BRI_NO_PICKUP": "5800",
    "BRI_NO_HOME": "5600",
    "BRI_NO_MAILBOX": "3584",
}
SERVICES = {"", "SMS", "EMAIL"}
LABEL_FORMATS = {"10x19_pdf", "a4_pdf", "10x19_zpl"}
_POSTCODE = re.compile(r"^\d{4}$")
_BRING_FIELDS = {  # the books' Bring checks → Shipmondo's words for the field
    "-RECIPIENT": "Receiver",
    "-SENDER": "Sender",
}


def shipmondo_id(record: dict[str, Any]) -> int:
    return 48_000_000 + int(record["consignmentNumber"][7:16])


def _error(text: str, status: int) -> Response:
    return JSONResponse({"error": text}, status)


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _as_bring(body: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """A Shipmondo shipment as the Bring-shaped booking the books keep, or its errors."""
    if not isinstance(body, dict):
        return None, ["Request body must be a JSON object"]
    errors = []
    if not isinstance(body.get("own_agreement"), bool):
        errors.append("own_agreement is required")
    product = _str(body.get("product_code"))
    if product not in PRODUCTS:
        errors.append(f"product_code {product!r} is invalid")
    services = body.get("service_codes")
    if not isinstance(services, str):
        errors.append("service_codes must be a comma-separated string")
    elif any(s.strip() not in SERVICES for s in services.split(",")):
        errors.append(f"service_codes {services!r} are not available for the product")
    fmt = body.get("label_format")
    if fmt is not None and fmt not in LABEL_FORMATS:
        errors.append(f"label_format {fmt!r} is invalid")
    parties = body.get("parties")
    if not isinstance(parties, list):
        return None, [*errors, "parties must be a list"]
    by_type = {_str(p.get("type")): p for p in parties if isinstance(p, dict)}
    for kind, word in (("sender", "Sender"), ("receiver", "Receiver")):
        p = by_type.get(kind)
        if p is None:
            errors.append(f"parties must include a {kind}")
            continue
        for key in ("name", "address1", "postal_code", "city", "country_code"):
            if not _str(p.get(key)):
                errors.append(f"{word} {key} can't be blank")
        pc = _str(p.get("postal_code"))
        if pc and _str(p.get("country_code")) == "NO" and (not _POSTCODE.match(pc) or pc == "0000"):
            errors.append(f"{word} postal_code {pc} is invalid")
    parcels = body.get("parcels")
    if not isinstance(parcels, list) or not parcels:
        return None, [*errors, "parcels can't be blank"]
    packages = []
    for i, p in enumerate(parcels):
        if not isinstance(p, dict):
            errors.append(f"parcels[{i}] must be an object")
            continue
        weight = p.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
            errors.append(f"parcels[{i}].weight must be a whole number of grams above 0")
            continue
        dims = [p.get(k) for k in ("length", "width", "height")]
        if any(d is not None for d in dims) and not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims
        ):
            errors.append(f"parcels[{i}] length, width and height must be whole centimetres")
            continue
        quantity = p.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 50:
            errors.append(f"parcels[{i}].quantity is invalid")
            continue
        for _ in range(quantity):
            packages.append(
                {
                    "correlationId": _str(p.get("internal_reference")) or None,
                    "weightInKg": weight / 1000,
                    "dimensions": (
                        dict(zip(("lengthInCm", "widthInCm", "heightInCm"), dims, strict=True))
                        if all(dims)
                        else None
                    ),
                }
            )
    if errors:
        return None, errors

    def party(p: dict[str, Any], reference: str = "") -> dict[str, Any]:
        return {
            "name": _str(p.get("name")),
            "addressLine": _str(p.get("address1")),
            "addressLine2": _str(p.get("address2")) or None,
            "postalCode": _str(p.get("postal_code")),
            "city": _str(p.get("city")),
            "countryCode": _str(p.get("country_code")),
            "reference": reference,
            "contact": {"email": _str(p.get("email")), "phoneNumber": _str(p.get("phone"))},
        }

    out: dict[str, Any] = {
        "sender": party(by_type["sender"], _str(body.get("reference"))),
        "recipient": party(by_type["receiver"]),
    }
    point = _str(body.get("service_point_id"))
    if point:
        out["pickupPoint"] = {"id": point, "countryCode": out["recipient"]["countryCode"]}
    return {
        "schemaVersion": 1,
        "testIndicator": True,
        "consignments": [
            {
                "shippingDateTime": "now",
                "correlationId": _str(body.get("reference")) or None,
                "parties": out,
                "product": {
                    "id": PRODUCTS[product],
                    "customerNumber": _str(body.get("customer_number")) or "shipmondo",
                },
                "packages": packages,
            }
        ],
    }, []


def _refused(exc: BookingRefused) -> Response:
    """The books' Bring codes in Shipmondo's words (``Receiver postal_code is invalid``)."""
    words = []
    for code, message in exc.errors:
        who = next((w for suffix, w in _BRING_FIELDS.items() if code.endswith(suffix)), "")
        if "postal" in message.lower():
            words.append(f"{who or 'Receiver'} postal_code is invalid")
        elif "too big" in message.lower():
            words.append(f"parcels exceed the product's weight or dimensions ({message})")
        else:
            words.append(f"{who} {message}".strip())
    return _error("; ".join(words), 422)


def _label(record: dict[str, Any], fmt: str) -> dict[str, str]:
    if fmt.endswith("_zpl"):
        data, kind = render_label_zpl(record, record["packages"]), "zpl"
    else:
        data, kind = render_label_pdf(record, record["packages"]), "pdf"
    return {"base64": base64.b64encode(data).decode("ascii"), "file_format": kind}


def _legacy(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": p["name"],
        "attention": p.get("attention"),
        "address1": p["address1"],
        "address2": p.get("address2"),
        "zipcode": p["postal_code"],
        "city": p["city"],
        "country_code": p["country_code"],
        "email": p.get("email"),
        "mobile": p.get("phone"),
        "telephone": None,
    }


def _shipment(record: dict[str, Any]) -> dict[str, Any]:
    body = record["shipmondoBody"]
    parties = [p for p in body["parties"] if isinstance(p, dict)]
    by_type = {p["type"]: p for p in parties}
    point = None
    if record.get("pickupPoint"):
        pid = str(record["pickupPoint"])
        found = [p for p in pickup_points_near("NO", pid[:4]) if p["id"] == pid]
        point = {
            "id": pid,
            "name": found[0]["name"] if found else f"Hentested {pid}",
            "address1": found[0]["visitingAddress"] if found else None,
            "address2": None,
            "zipcode": found[0]["postalCode"] if found else pid[:4],
            "city": found[0]["city"] if found else None,
            "country_code": "NO",
            "shipping_agent": "bring",
        }
    packages = iter(record["packages"])
    parcels = []
    for p in body["parcels"]:
        numbers = [next(packages)["packageNumber"] for _ in range(int(p.get("quantity", 1)))]
        parcels.append(
            {
                "quantity": p.get("quantity", 1),
                "weight": p["weight"],
                "weight_kg": f"{p['weight'] / 1000:g}",
                "pkg_no": numbers[0],
                "pkg_nos": numbers,
                "external_pkg_no": None,
                "length": p.get("length"),
                "width": p.get("width"),
                "height": p.get("height"),
                "volume": None,
                "running_metre": None,
                "content": p.get("description"),
                "internal_reference": p.get("internal_reference"),
                "labelless_code": None,
                "dangerous_goods": [],
            }
        )
    return {
        "id": shipmondo_id(record),
        "created_at": record["createdAt"],
        "updated_at": record.get("cancelledAt") or record["createdAt"],
        "carrier_code": "bring",
        "description": record["productName"],
        "contents": body.get("contents"),
        "term_of_trade": "DAP",
        "product_id": 1900 + int(record["productId"]) % 100,
        "product_code": body["product_code"],
        "service_codes": body.get("service_codes", ""),
        "customer_number": body.get("customer_number"),
        "price": "0.0",
        "reference": body.get("reference"),
        "additional_reference": body.get("additional_reference"),
        "order_id": None,
        "pkg_no": record["consignmentNumber"],
        "external_pkg_no": None,
        "parties": parties,
        "sender": _legacy(by_type["sender"]),
        "receiver": _legacy(by_type["receiver"]),
        "service_point": point,
        "parcels": parcels,
        "cancelled_at": record.get("cancelledAt"),
        "source_type": "api",
    }


def shipmondo_routes(state: DemoCarrierState, *, user: str, key: str, note: Any) -> list[Route]:
    def authorised(request: Request) -> Response | None:
        given = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return _error("Invalid API user or API key", 401)
        return None

    def ours(record: dict[str, Any]) -> bool:
        return record.get("source") == "shipmondo"

    def find(request: Request) -> dict[str, Any] | None:
        sid = request.path_params["sid"]
        for b in state.bookings():
            if ours(b) and str(shipmondo_id(b)) == sid:
                return b
        return None

    async def shipments(request: Request) -> Response:
        raw = await request.body() if request.method == "POST" else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            body = None
        await note(request, body)
        denied = authorised(request)
        if denied is not None:
            return denied
        if request.method == "GET":
            return listing(request)
        if body is None:
            return _error("Request body is not valid JSON", 400)
        bring, errors = _as_bring(body)
        if errors or bring is None:
            return _error("; ".join(errors), 422)
        try:
            record = await asyncio.to_thread(
                state.book, bring, test_header=True,
                extra={"source": "shipmondo", "shipmondoBody": body},
            )  # fmt: skip
        except BookingRefused as exc:
            return _refused(exc)
        out = _shipment(record)
        fmt = body.get("label_format")
        out["labels"] = [await asyncio.to_thread(_label, record, fmt)] if fmt else []
        return JSONResponse(out, 201)

    def listing(request: Request) -> Response:
        q = request.query_params
        try:
            since = datetime.fromisoformat(q["created_at_min"]) if "created_at_min" in q else None
            page = max(1, int(q.get("page", "1")))
            per_page = max(1, min(int(q.get("per_page", "20")), 100))
        except ValueError as exc:
            return _error(f"Invalid filter: {exc}", 422)
        found = [
            _shipment(b)
            for b in state.bookings()
            if ours(b) and (since is None or datetime.fromisoformat(b["createdAt"]) >= since)
        ]
        chunk = found[(page - 1) * per_page : page * per_page]
        return JSONResponse(chunk, headers={"x-total-count": str(len(found))})

    async def one(request: Request) -> Response:
        await note(request)
        denied = authorised(request)
        if denied is not None:
            return denied
        record = find(request)
        return JSONResponse(_shipment(record)) if record else _error("Shipment not found", 404)

    async def labels(request: Request) -> Response:
        await note(request)
        denied = authorised(request)
        if denied is not None:
            return denied
        record = find(request)
        if record is None:
            return _error("Shipment not found", 404)
        fmt = request.query_params.get("label_format", "10x19_pdf")
        if fmt not in LABEL_FORMATS:
            return _error(f"label_format {fmt!r} is invalid", 422)
        return JSONResponse([await asyncio.to_thread(_label, record, fmt)])

    async def cancel(request: Request) -> Response:
        await note(request)
        denied = authorised(request)
        if denied is not None:
            return denied
        record = find(request)
        if record is None:
            return _error("Shipment not found", 404)
        if record.get("cancelledAt"):
            return _error("Shipment is already cancelled", 422)
        sid = shipmondo_id(record)
        (done,) = state.apply(
            lambda b: ours(b) and shipmondo_id(b) == sid,
            lambda b: b.update(cancelled=True, cancelledAt=datetime.now().astimezone().isoformat()),
        )
        return JSONResponse(_shipment(done))

    p = SHIPMONDO_PREFIX
    return [
        Route(f"{p}/shipments", shipments, methods=["GET", "POST"]),
        Route(f"{p}/shipments/{{sid}}", one),
        Route(f"{p}/shipments/{{sid}}/labels", labels),
        Route(f"{p}/shipments/{{sid}}/cancel", cancel, methods=["PUT"]),
    ]
