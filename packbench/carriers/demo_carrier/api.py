"""The demo carrier's HTTP face: Bring's Booking, Pickup Point and Tracking (by reference) APIs
in the shapes of the examples' README, over :class:`DemoCarrierState`.

- ``POST /booking/api/create`` (and the older ``/booking/api/booking``,
  ``/booking-api/api/booking``): the three Mybring headers are required; test mode by
  ``X-Bring-Test-Indicator`` or the body's ``testIndicator``, else ``BOOK-INPUT-030``.
- ``GET /labels/id/{id}.pdf`` → 302 to ``/storage/labels/{id}.pdf`` (Bring redirects to S3);
  the answer's label link ends in ``#zoom=100,0,0`` as some real ones do.
  ``GET /labels/consignment/{number}.pdf`` does the same by consignment number.
- ``GET /pickuppoint/api/pickuppoint/{CC}/postalCode/{pc}.json`` and ``…/{CC}/id/{id}.json``.
- ``GET /tracking/api/v2/tracking.json?q=`` finds a booking by sender reference, consignment or
  package number (Tracking API v2 shape; ``{"error": {"code": 404}}`` when none).
- ``/_demo/…``: bookings, the requests received, the faults (never disturbed by faults).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from packbench.carriers.demo_carrier.faults import FaultSettings
from packbench.carriers.demo_carrier.label import render_label_pdf
from packbench.carriers.demo_carrier.state import (
    BookingRefused,
    DemoCarrierState,
    pickup_points_near,
)

__all__ = ["BOOKING_PATHS", "build_api"]

log = logging.getLogger("packbench.demo_carrier")

BOOKING_PATHS = ("/booking/api/create", "/booking/api/booking", "/booking-api/api/booking")
_SECRET_HEADERS = {"x-mybring-api-key", "x-cargonizer-key", "authorization"}


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def build_api(
    state: DemoCarrierState,
    faults: FaultSettings,
    *,
    uid: str,
    key: str,
    error_status: int = 400,
    storage_url: str = "",
    cargonizer_key: str = "",
    cargonizer_sender: str = "",
    shipmondo_user: str = "",
    shipmondo_key: str = "",
) -> Starlette:
    """``storage_url``: where label links redirect to (default: this server, as seen by the
    client); another origin lets a test see which headers follow a redirect."""

    def storage(request: Request, label_id: str) -> str:
        return f"{storage_url or _base(request)}/storage/labels/{label_id}.pdf"

    def authorised(request: Request) -> Response | None:
        given_uid = request.headers.get("x-mybring-api-uid", "")
        given_key = request.headers.get("x-mybring-api-key", "")
        ok = hmac.compare_digest(given_uid.encode(), uid.encode()) and hmac.compare_digest(
            given_key.encode(), key.encode()
        )
        if not ok:
            # Bring's auth failures come as plain text (the Fraktguiden plugin's comments).
            return PlainTextResponse("Authentication failed: invalid API uid or key", 401)
        if not request.headers.get("x-bring-client-url"):
            return JSONResponse(
                {"message": "X-Bring-Client-URL header is required", "code": "CLIENT-URL"}, 400
            )
        return None

    async def note(request: Request, body: Any = None) -> None:
        headers = {
            k: ("(given)" if k in _SECRET_HEADERS else v)
            for k, v in request.headers.items()
            if k.startswith("x-") or k in ("content-type", "accept")
        }
        state.record(
            {
                "method": request.method,
                "path": request.url.path,
                "query": str(request.url.query),
                "headers": headers,
                "body": body,
            }
        )

    async def create(request: Request) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            body = None
        await note(request, body)
        denied = authorised(request)
        if denied is not None:
            return denied
        test_header = request.headers.get("x-bring-test-indicator", "").lower() == "true"
        try:
            record = await asyncio.to_thread(state.book, body, test_header=test_header)
        except BookingRefused as exc:
            return JSONResponse(exc.body(), status_code=error_status)
        base = _base(request)
        number = record["consignmentNumber"]
        return JSONResponse(
            {
                "consignments": [
                    {
                        "correlationId": record["correlationId"],
                        "confirmation": {
                            "consignmentNumber": number,
                            "productSpecificData": None,
                            "links": {
                                "labels": f"{base}/labels/id/{record['labelId']}.pdf#zoom=100,0,0",
                                "waybill": None,
                                "tracking": f"https://sporing.bring.no/sporing/{number}",
                            },
                            "dateAndTimes": {
                                "earliestPickup": None,
                                "expectedDelivery": record["expectedDelivery"],
                            },
                            "packages": [
                                {
                                    "packageNumber": p["packageNumber"],
                                    "correlationId": p["correlationId"],
                                }
                                for p in record["packages"]
                            ],
                        },
                        "errors": None,
                    }
                ]
            }
        )

    async def label_link(request: Request) -> Response:
        await note(request)
        label_id = request.path_params["label_id"]
        if state.by_label(label_id) is None:
            return PlainTextResponse("Not found", 404)
        return RedirectResponse(storage(request, label_id), 302)

    async def label_by_consignment(request: Request) -> Response:
        await note(request)
        denied = authorised(request)
        if denied is not None:
            return denied
        booking = state.by_consignment(request.path_params["number"])
        if booking is None:
            return PlainTextResponse("Not found", 404)
        return RedirectResponse(storage(request, booking["labelId"]), 302)

    async def label_file(request: Request) -> Response:
        await note(request)
        booking = state.by_label(request.path_params["label_id"])
        if booking is None:
            return Response(
                b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>",
                404,
                media_type="application/xml",
            )
        pdf = await asyncio.to_thread(render_label_pdf, booking, booking["packages"])
        return Response(pdf, media_type="application/pdf")

    async def pickup_by_postcode(request: Request) -> Response:
        await note(request)
        denied = authorised(request)
        if denied is not None:
            return denied
        cc = request.path_params["cc"].upper()
        pc = request.path_params["postcode"]
        if cc != "NO" or not (pc.isdigit() and len(pc) == 4):
            return JSONResponse({"pickupPoint": []})
        try:
            n = int(request.query_params.get("numberOfResponses", "5"))
        except ValueError:
            n = 5
        return JSONResponse({"pickupPoint": pickup_points_near(cc, pc, max(0, min(n, 5)))})

    async def pickup_by_id(request: Request) -> Response:
        await note(request)
        denied = authorised(request)
        if denied is not None:
            return denied
        pid = request.path_params["pid"]
        if len(pid) == 6 and pid.isdigit():
            for p in pickup_points_near(request.path_params["cc"].upper(), pid[:4]):
                if p["id"] == pid:
                    return JSONResponse({"pickupPoint": [p]})
        return JSONResponse({"pickupPoint": []})

    async def tracking(request: Request) -> Response:
        await note(request)
        denied = authorised(request)
        if denied is not None:
            return denied
        found = state.search(request.query_params.get("q", ""))
        if not found:
            return JSONResponse(
                {
                    "apiVersion": "2",
                    "consignmentSet": [{"error": {"code": 404, "message": "No shipments found"}}],
                }
            )
        return JSONResponse(
            {"apiVersion": "2", "consignmentSet": [_tracked(b) for b in found]},
            headers={"content-type": "application/json; charset=utf-8"},
        )

    async def demo_bookings(request: Request) -> Response:
        return JSONResponse({"bookings": state.bookings()})

    async def demo_requests(request: Request) -> Response:
        return JSONResponse({"requests": list(state.received)})

    async def demo_faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                faults.update(json.loads(await request.body()))
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(faults.as_dict())

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "bookings": len(state.bookings())})

    routes = [Route(p, create, methods=["POST"]) for p in BOOKING_PATHS]
    routes += [
        Route("/labels/id/{label_id}.pdf", label_link),
        Route("/labels/consignment/{number}.pdf", label_by_consignment),
        Route("/storage/labels/{label_id}.pdf", label_file),
        Route("/pickuppoint/api/pickuppoint/{cc}/postalCode/{postcode}.json", pickup_by_postcode),
        Route("/pickuppoint/api/pickuppoint/{cc}/id/{pid}.json", pickup_by_id),
        Route("/tracking/api/v2/tracking.json", tracking),
        Route("/_demo/bookings", demo_bookings),
        Route("/_demo/requests", demo_requests),
        Route("/_demo/faults", demo_faults, methods=["GET", "POST"]),
        Route("/_demo/health", health),
    ]
    if cargonizer_key and cargonizer_sender:
        from packbench.carriers.demo_carrier.cargonizer_api import cargonizer_routes

        routes += cargonizer_routes(state, key=cargonizer_key, sender=cargonizer_sender, note=note)
    if shipmondo_user and shipmondo_key:
        from packbench.carriers.demo_carrier.shipmondo_api import shipmondo_routes

        routes += shipmondo_routes(state, user=shipmondo_user, key=shipmondo_key, note=note)
    return Starlette(routes=routes)


def _tracked(b: dict[str, Any]) -> dict[str, Any]:
    """A booking as the Tracking API v2 shows a consignment that has only been booked."""
    recipient = b["recipient"]
    return {
        "consignmentId": b["consignmentNumber"],
        "previousConsignmentId": "",
        "packageSet": [
            {
                "statusDescription": "The shipment has been booked.",
                "descriptions": [],
                "packageNumber": p["packageNumber"],
                "previousPackageNumber": "",
                "productName": b["productName"].upper(),
                "productCode": b["productId"],
                "brand": "BRING",
                "weightInKgs": p["weightInKg"],
                "eventSet": [],
            }
            for p in b["packages"]
        ],
        "recipientHandlingAddress": {
            "addressLine1": "",
            "addressLine2": "",
            "postalCode": recipient.get("postalCode", ""),
            "city": recipient.get("city", ""),
            "countryCode": recipient.get("countryCode", ""),
            "country": "",
        },
        "senderReference": b["reference"],
        "senderName": b["sender"].get("name", ""),
        "totalWeightInKgs": round(sum(p["weightInKg"] for p in b["packages"]), 3),
        "consignmentActionSet": [],
    }
