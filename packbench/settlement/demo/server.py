"""The demo providers on loopback: Vipps MobilePay's Report API, Klarna's Settlements API and
Stripe's payouts and balance transactions, each under its own prefix, in the documented shapes.

- ``/vipps``: ``POST /accesstoken/get`` (``client_id``, ``client_secret``,
  ``Ocp-Apim-Subscription-Key`` headers) → Bearer token; ``GET /settlement/v1/ledgers``;
  ``GET /report/v2/ledgers/{id}/{funds|fees}/dates/{date}`` with ``cursor`` paging
  (``Vipps-Feed-Page-Size`` says the page size) and ``tryLater`` for dates not closed.
- ``/klarna/settlements/v1``: HTTP Basic; ``GET /payouts`` (``start_date``/``end_date``,
  ``size``/``offset``) and ``GET /transactions?payment_reference=``; errors as
  ``{error_code, error_messages, correlation_id}``.
- ``/stripe``: Bearer secret key; ``GET /v1/payouts`` and ``GET /v1/balance_transactions
  ?payout=`` with ``starting_after`` paging, newest first, ``expand[]=data.source``.

``faults`` makes the next N data requests answer 429 (``Retry-After: 0``) or 503, so the
clients' retries are tested against a real server. Always on 127.0.0.1.
"""

from __future__ import annotations

import base64
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from packbench.loopback import serve_in_thread
from packbench.settlement.demo.data import ProviderData

__all__ = ["DemoCredentials", "DemoProviders", "create_app", "run_in_thread"]


@dataclass
class DemoCredentials:
    vipps_client_id: str = "demo-vipps-client"
    vipps_client_secret: str = "demo-vipps-secret"
    vipps_subscription_key: str = "demo-vipps-subscription"
    klarna_username: str = "K501234_demo"
    klarna_password: str = "demo-klarna-password"
    stripe_secret_key: str = "sk_test_demo_settlement"


@dataclass
class DemoProviders:
    data: ProviderData = field(default_factory=ProviderData)
    #: Where the reports come from when they are not fixed: called (in a worker thread) for
    #: each request, e.g. :class:`~packbench.settlement.demo.shop_feed.ShopFeed` settling the
    #: demo shop's captures. Errors answer 503, as a provider that cannot report would.
    source: Callable[[], ProviderData] | None = None
    credentials: DemoCredentials = field(default_factory=DemoCredentials)
    page_size: int = 4
    faults: list[int] = field(default_factory=list)  # statuses for the next data requests
    #: Answers a real provider might give: "vipps_more_without_cursor" (hasMore, no cursor),
    #: "klarna_next_only" (pagination with a next link but no total).
    quirks: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)  # "GET /vipps/…": what was asked
    tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self) -> JSONResponse | None:
        with self.lock:
            status = self.faults.pop(0) if self.faults else None
        if status is None:
            return None
        headers = {"Retry-After": "0"} if status == 429 else {}
        return JSONResponse({"error": "demo fault"}, status_code=status, headers=headers)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f'{{"offset":{offset}}}'.encode()).decode()


def _offset(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return int(text.split(":")[1].rstrip("}"))
    except (ValueError, IndexError, UnicodeDecodeError):
        return None


def _klarna_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error_code": code, "error_messages": [message], "correlation_id": str(uuid.uuid4())},
        status_code=status,
    )


def create_app(providers: DemoProviders) -> Starlette:
    creds = providers.credentials

    async def current() -> ProviderData | JSONResponse:
        if providers.source is None:
            return providers.data
        try:
            return await run_in_threadpool(providers.source)
        except Exception as exc:  # the shop behind the demo cannot be read: a provider outage
            return JSONResponse({"error": f"reports unavailable: {exc}"}, status_code=503)

    def seen(request: Request) -> None:
        with providers.lock:
            providers.requests.append(f"{request.method} {request.url.path}")

    # -- Vipps --------------------------------------------------------------------------------
    async def vipps_token(request: Request) -> JSONResponse:
        seen(request)
        h = request.headers
        if (
            h.get("client_id") != creds.vipps_client_id
            or h.get("client_secret") != creds.vipps_client_secret
            or h.get("ocp-apim-subscription-key") != creds.vipps_subscription_key
        ):
            return JSONResponse({"error": "unauthorized_client"}, status_code=401)
        token = "demo." + secrets.token_urlsafe(24)
        with providers.lock:
            providers.tokens.add(token)
        return JSONResponse(
            {
                "token_type": "Bearer",
                "expires_in": "86398",
                "ext_expires_in": "86398",
                "access_token": token,
            }
        )

    def vipps_authorised(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        key = request.headers.get("ocp-apim-subscription-key")
        token = auth.removeprefix("Bearer ")
        return (
            auth.startswith("Bearer ")
            and token in providers.tokens
            and (key == creds.vipps_subscription_key)
        )

    async def vipps_ledgers(request: Request) -> JSONResponse:
        seen(request)
        if not vipps_authorised(request):
            return JSONResponse({"title": "Unauthorized"}, status_code=401)
        data = await current()
        if isinstance(data, JSONResponse):
            return data
        handle = request.query_params.get("settlesForRecipientHandles")
        items = [
            ledger
            for ledger in data.vipps_ledgers
            if handle is None or handle in ledger.get("settlesForRecipientHandles", [])
        ]
        return JSONResponse({"items": items})

    async def vipps_report(request: Request) -> JSONResponse:
        seen(request)
        if not vipps_authorised(request):
            return JSONResponse({"title": "Unauthorized"}, status_code=401)
        if (fault := providers.fault()) is not None:
            return fault
        data = await current()
        if isinstance(data, JSONResponse):
            return data
        ledger = request.path_params["ledger"]
        topic = request.path_params["topic"]
        day = request.path_params["day"]
        if topic not in ("funds", "fees"):
            return JSONResponse({"title": "Not Found"}, status_code=404)
        if not any(ledger == str(lg.get("ledgerId")) for lg in data.vipps_ledgers):
            return JSONResponse({"title": "Ledger not found"}, status_code=404)
        headers = {"Vipps-Feed-Page-Size": str(providers.page_size)}
        if data.vipps_is_open(day):
            return JSONResponse({"hasMore": False, "tryLater": True, "items": []}, headers=headers)
        offset = _offset(request.query_params.get("cursor"))
        if offset is None:
            return JSONResponse({"title": "Bad cursor"}, status_code=400)
        items = data.vipps_entries.get((ledger, topic, day), [])
        page = items[offset : offset + providers.page_size]
        more = offset + providers.page_size < len(items)
        body: dict[str, Any] = {"hasMore": more, "tryLater": False, "items": page}
        if more and "vipps_more_without_cursor" not in providers.quirks:
            body["cursor"] = _cursor(offset + providers.page_size)
        return JSONResponse(body, headers=headers)

    # -- Klarna -------------------------------------------------------------------------------
    def klarna_authorised(request: Request) -> bool:
        expected = base64.b64encode(
            f"{creds.klarna_username}:{creds.klarna_password}".encode()
        ).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def klarna_page(request: Request) -> tuple[int, int] | JSONResponse:
        try:
            size = int(request.query_params.get("size", "20"))
            offset = int(request.query_params.get("offset", "0"))
        except ValueError:
            return _klarna_error(400, "BAD_VALUE", "size and offset are numbers")
        if not 1 <= size <= 500 or offset < 0:
            return _klarna_error(400, "BAD_VALUE", "size is 1..500, offset 0 or more")
        return min(size, providers.page_size), offset

    async def klarna_payouts(request: Request) -> JSONResponse:
        seen(request)
        if not klarna_authorised(request):
            return _klarna_error(401, "UNAUTHORIZED", "Bad credentials")
        if (fault := providers.fault()) is not None:
            return fault
        data = await current()
        if isinstance(data, JSONResponse):
            return data
        paging = klarna_page(request)
        if isinstance(paging, JSONResponse):
            return paging
        size, offset = paging
        start = request.query_params.get("start_date", "")
        end = request.query_params.get("end_date", "9999")
        rows = [p for p in data.klarna_payouts if start <= p["payout_date"] <= end]
        page = rows[offset : offset + size]
        return JSONResponse(
            {"payouts": page,
             "pagination": {"count": len(page), "total": len(rows), "offset": offset}}
        )  # fmt: skip

    async def klarna_transactions(request: Request) -> JSONResponse:
        seen(request)
        if not klarna_authorised(request):
            return _klarna_error(401, "UNAUTHORIZED", "Bad credentials")
        if (fault := providers.fault()) is not None:
            return fault
        data = await current()
        if isinstance(data, JSONResponse):
            return data
        paging = klarna_page(request)
        if isinstance(paging, JSONResponse):
            return paging
        size, offset = paging
        ref = request.query_params.get("payment_reference")
        rows = [t for t in data.klarna_transactions if ref is None or t["payment_reference"] == ref]
        page = rows[offset : offset + size]
        pagination: dict[str, Any] = {"count": len(page), "total": len(rows), "offset": offset}
        if "klarna_next_only" in providers.quirks:
            del pagination["total"]
            if offset + size < len(rows):
                pagination["next"] = str(
                    request.url.include_query_params(offset=offset + size, size=size)
                )
        return JSONResponse({"transactions": page, "pagination": pagination})

    # -- Stripe -------------------------------------------------------------------------------
    def stripe_authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {creds.stripe_secret_key}"

    def stripe_error(status: int, message: str) -> JSONResponse:
        return JSONResponse(
            {"error": {"type": "invalid_request_error", "message": message}}, status_code=status
        )

    def stripe_list(request: Request, rows: list[dict[str, Any]]) -> JSONResponse:
        try:
            limit = int(request.query_params.get("limit", "10"))
        except ValueError:
            return stripe_error(400, "limit must be a number")
        if not 1 <= limit <= 100:
            return stripe_error(400, "limit must be between 1 and 100")
        limit = min(limit, providers.page_size)
        after = request.query_params.get("starting_after")
        start = 0
        if after:
            ids = [r["id"] for r in rows]
            if after not in ids:
                return stripe_error(400, f"No such object: '{after}'")
            start = ids.index(after) + 1
        page = rows[start : start + limit]
        return JSONResponse(
            {"object": "list", "data": page, "has_more": start + limit < len(rows),
             "url": request.url.path.removeprefix("/stripe")}
        )  # fmt: skip

    async def stripe_payouts(request: Request) -> JSONResponse:
        seen(request)
        if not stripe_authorised(request):
            return stripe_error(401, "Invalid API Key provided")
        if (fault := providers.fault()) is not None:
            return fault
        data = await current()
        if isinstance(data, JSONResponse):
            return data
        q = request.query_params
        try:
            gte = int(q.get("arrival_date[gte]", "0"))
            lt = int(q.get("arrival_date[lt]", str(2**40)))
        except ValueError:
            return stripe_error(400, "arrival_date must be a timestamp")
        status = q.get("status")
        rows = [
            p
            for p in data.stripe_payouts
            if gte <= p["arrival_date"] < lt and (status is None or p.get("status") == status)
        ]
        return stripe_list(request, rows)

    async def stripe_balance(request: Request) -> JSONResponse:
        seen(request)
        if not stripe_authorised(request):
            return stripe_error(401, "Invalid API Key provided")
        if (fault := providers.fault()) is not None:
            return fault
        data = await current()
        if isinstance(data, JSONResponse):
            return data
        payout = request.query_params.get("payout")
        if payout is not None and payout not in data.stripe_transactions:
            return stripe_error(404, f"No such payout: '{payout}'")
        rows = (
            data.stripe_transactions[payout]
            if payout
            else [r for rows in data.stripe_transactions.values() for r in rows]
        )
        if "data.source" not in request.query_params.getlist("expand[]"):
            rows = [
                {**r, "source": r["source"]["id"]} if isinstance(r.get("source"), dict) else r
                for r in rows
            ]
        return stripe_list(request, rows)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "at": datetime.now(UTC).isoformat()})

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/vipps/accesstoken/get", vipps_token, methods=["POST"]),
            Route("/vipps/settlement/v1/ledgers", vipps_ledgers),
            Route("/vipps/report/v2/ledgers/{ledger}/{topic}/dates/{day}", vipps_report),
            Route("/klarna/settlements/v1/payouts", klarna_payouts),
            Route("/klarna/settlements/v1/transactions", klarna_transactions),
            Route("/stripe/v1/payouts", stripe_payouts),
            Route("/stripe/v1/balance_transactions", stripe_balance),
        ]
    )


def run_in_thread(providers: DemoProviders, *, port: int = 0) -> tuple[str, Callable[[], None]]:
    """Serve the demo providers from a daemon thread → ``(base_url, stop)``. The Vipps API is
    at ``base_url + "/vipps"``, Klarna's at ``+ "/klarna/settlements/v1"``, Stripe's at
    ``+ "/stripe"``."""
    return serve_in_thread(create_app(providers), name="demo-providers", port=port, lifespan="off")
