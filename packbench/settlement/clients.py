"""The providers' settlement APIs over HTTP: fetch the pages, hand them to the pure parsers.

- **Vipps MobilePay Report API**: ``POST /accesstoken/get`` (headers ``client_id``,
  ``client_secret``, ``Ocp-Apim-Subscription-Key``, ``Merchant-Serial-Number``) → a Bearer
  token; ``GET /settlement/v1/ledgers`` finds the ledger(s); then per ledger, topic (funds,
  fees) and ledger date ``GET /report/v2/ledgers/{id}/{topic}/dates/{date}``, following
  ``cursor`` while ``hasMore``. ``tryLater`` means the date is not closed: that date and the
  ones after it are left for the next import (reported as pending), not an error.
- **Klarna (Kustom) Settlements API**: HTTP Basic; ``GET /payouts`` between two datetimes and
  ``GET /transactions?payment_reference=`` for each, both paged with ``size`` + ``offset``.
- **Stripe**: Bearer secret key; ``GET /v1/payouts`` (cursor ``starting_after``), then each
  payout's ``GET /v1/balance_transactions?payout=…&expand[]=data.source``.

The pages are collected as ``{"exchanges": [{request, response}]}`` — the shape of the
fixtures — so the same parser reads a recorded file and a live answer. Credentials come only
from the environment or the OS keyring (:data:`CREDENTIALS`) and are registered with
:mod:`packbench.redact` before the first request, so no message, log line or event can carry
them. 429 and 5xx are retried a few times (``Retry-After`` honoured); 401/403 is an
:class:`AuthFailed` at once. The fetch happens before the import's transaction: no network
call inside a database transaction.
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from packbench.config import Settings
from packbench.redact import cut, register_basic_auth, register_secret
from packbench.settlement.base import OSLO, ParseResult
from packbench.settlement.factory import make_parser

__all__ = [
    "AuthFailed",
    "ClientError",
    "KlarnaClient",
    "NotConfigured",
    "StripeClient",
    "VippsClient",
    "fetch",
]

USER_AGENT = "packbench-settlement/0.1"
MAX_PAGES = 10_000  # a loop guard: a provider whose cursor never ends cannot hang the import


class ClientError(Exception):
    """The provider could not be asked, or said no; the message is for a person, redacted."""


class NotConfigured(ClientError):
    """Credentials or the URL are missing; the message says which environment variable."""


class AuthFailed(ClientError):
    """401/403: the credentials are wrong or lack the right; retrying will not help."""


#: Each provider's credentials: (environment variable, OS keyring name, what it is). The
#: keyring entries are in the service ``packbench``, like the shop's (``keyring set packbench
#: vipps_client_secret``); the environment wins when both are set.
CREDENTIALS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "vipps": (
        ("PACKBENCH_VIPPS_CLIENT_ID", "vipps_client_id", "Vipps client id"),
        ("PACKBENCH_VIPPS_CLIENT_SECRET", "vipps_client_secret", "Vipps client secret"),
        ("PACKBENCH_VIPPS_SUBSCRIPTION_KEY", "vipps_subscription_key", "Vipps subscription key"),
    ),
    "klarna": (
        ("PACKBENCH_KLARNA_USERNAME", "klarna_username", "Klarna API username"),
        ("PACKBENCH_KLARNA_PASSWORD", "klarna_password", "Klarna API password"),
    ),
    "stripe": (("PACKBENCH_STRIPE_SECRET_KEY", "stripe_secret_key", "Stripe secret key"),),
}


def credential_source(env: str, name: str) -> str | None:
    """Where a credential would come from: "environment", "keyring" or None (not set)."""
    from packbench.shop.factory import from_keyring

    if os.environ.get(env, "").strip():
        return "environment"
    return "keyring" if from_keyring(name) else None


def _credential(env: str, name: str, what: str) -> str:
    """From the environment, else the OS keyring (the shop's code path); registered as a secret
    before it is used. Never from the command line, the configuration file or the database."""
    from packbench.shop.factory import KEYRING_SERVICE, from_keyring

    value = os.environ.get(env, "").strip() or (from_keyring(name) or "").strip()
    if not value:
        raise NotConfigured(
            f"no {what}: set {env} in the environment, or store it in the OS keyring "
            f"(keyring set {KEYRING_SERVICE} {name})"
        )
    register_secret(value)
    return value


def _credentials(provider: str) -> list[str]:
    return [_credential(*c) for c in CREDENTIALS[provider]]


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise NotConfigured(f"{what}: {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise NotConfigured(f"{what}: plain http is only allowed to this machine (loopback)")
    return url.rstrip("/")


class _Http:
    """One httpx client with the retry rules every provider shares."""

    def __init__(
        self,
        base: str,
        *,
        provider: str,
        transport: httpx.BaseTransport | None = None,
        attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = base
        self.provider = provider
        self.attempts = attempts
        self.sleep = sleep
        self.client = httpx.Client(
            timeout=httpx.Timeout(30.0, connect=10.0),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
        )
        self.requests = 0

    def close(self) -> None:
        self.client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
    ) -> tuple[httpx.Response, Any]:
        url = self.base + path
        name = self.provider.capitalize()
        for attempt in range(1, self.attempts + 1):
            self.requests += 1
            try:
                response = self.client.request(
                    method, url, params=params, headers=headers, auth=auth
                )
            except httpx.TransportError as exc:
                if attempt == self.attempts:
                    raise ClientError(cut(f"{name}: cannot reach {url}: {exc}", 500)) from None
                self.sleep(min(0.5 * 2**attempt, 10))
                continue
            status = response.status_code
            if status in (429, 500, 502, 503, 504) and attempt < self.attempts:
                wait = _retry_after(response)  # "Retry-After: 0" is now, not "not said"
                if wait is None:
                    wait = min(0.5 * 2**attempt, 10)
                self.sleep(min(wait, 60))
                continue
            if status in (401, 403):
                raise AuthFailed(
                    f"{name} refused the credentials (HTTP {status}): check the "
                    f"PACKBENCH_{self.provider.upper()}_* environment variables or the "
                    f"{self.provider}_* entries in the OS keyring"
                )
            if status >= 400:
                raise ClientError(
                    cut(f"{name}: HTTP {status} from {path}: {_error_text(response)}", 500)
                )
            try:
                return response, response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ClientError(f"{name}: {path} did not answer JSON") from None
        raise ClientError(f"{name}: no answer from {path}")  # pragma: no cover


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:200]
    if isinstance(body, dict):
        for key in ("error_messages", "message", "detail", "title", "error"):
            if key in body:
                return str(body[key])[:300]
    return str(body)[:300]


def _exchange(url: str, query: dict[str, Any] | None, body: Any) -> dict[str, Any]:
    return {"request": {"url": url, "query": query}, "response": {"status": 200, "body": body}}


# -- Vipps MobilePay --------------------------------------------------------------------------
class VippsClient:
    provider = "vipps"

    def __init__(
        self,
        base: str,
        *,
        client_id: str,
        client_secret: str,
        subscription_key: str,
        msn: str,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for secret in (client_id, client_secret, subscription_key):
            register_secret(secret)
        self.http = _Http(_check_url(base, "vipps url"), provider="vipps", transport=transport,
                          sleep=sleep)  # fmt: skip
        self.client_id, self.client_secret = client_id, client_secret
        self.subscription_key, self.msn = subscription_key, msn
        self._token: str | None = None
        self._token_until = 0.0

    def close(self) -> None:
        self.http.close()

    def _headers(self) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._token_until:
            self._authenticate()
        return {
            "Authorization": f"Bearer {self._token}",
            "Ocp-Apim-Subscription-Key": self.subscription_key,
            "Merchant-Serial-Number": self.msn,
            "Vipps-System-Name": "packbench",
            "Vipps-System-Version": "0.1",
        }

    def _authenticate(self) -> None:
        _, body = self.http.call(
            "POST",
            "/accesstoken/get",
            headers={
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "Ocp-Apim-Subscription-Key": self.subscription_key,
                "Merchant-Serial-Number": self.msn,
            },
        )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ClientError("Vipps: the access token answer has no access_token")
        register_secret(token)
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._token = token
        self._token_until = time.monotonic() + max(60.0, lifetime - 300)

    def ledgers(self) -> list[str]:
        handle = f"api:{self.msn}"
        _, body = self.http.call(
            "GET",
            "/settlement/v1/ledgers",
            params={"settlesForRecipientHandles": handle},
            headers=self._headers(),
        )
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ClientError("Vipps: GET /settlement/v1/ledgers answered without items")
        return [str(i["ledgerId"]) for i in items if isinstance(i, dict) and i.get("ledgerId")]

    def fetch(self, since: date, until: date) -> dict[str, Any]:
        exchanges: list[dict[str, Any]] = []
        for ledger in self.ledgers():
            for topic in ("funds", "fees"):
                day = since
                while day <= until:
                    path = f"/report/v2/ledgers/{ledger}/{topic}/dates/{day.isoformat()}"
                    cursor: str | None = None
                    closed = True
                    for _ in range(MAX_PAGES):
                        params = {"cursor": cursor} if cursor else None
                        _, body = self.http.call("GET", path, params=params,
                                                 headers=self._headers())  # fmt: skip
                        exchanges.append(_exchange(self.http.base + path, params, body))
                        if not isinstance(body, dict):
                            raise ClientError(f"Vipps: {path} did not answer a report page")
                        if body.get("tryLater") is True:
                            closed = False
                            break
                        if body.get("hasMore") is not True:
                            break
                        cursor = body.get("cursor")
                        if not isinstance(cursor, str) or not cursor:
                            raise ClientError(
                                f"Vipps: {path} says there is more but gives no cursor; "
                                "nothing imported"
                            )
                    else:
                        raise ClientError(f"Vipps: {path} kept answering hasMore")
                    if not closed:
                        break  # this date is still open, so are the ones after it
                    day += timedelta(days=1)
        return {"exchanges": exchanges}


# -- Klarna / Kustom ----------------------------------------------------------------------------
class KlarnaClient:
    provider = "klarna"
    PAGE = 500  # the documented maximum

    def __init__(
        self,
        base: str,
        *,
        username: str,
        password: str,
        currency: str = "NOK",
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        register_basic_auth(username, password)
        self.http = _Http(_check_url(base, "klarna url"), provider="klarna", transport=transport,
                          sleep=sleep)  # fmt: skip
        self.auth = (username, password)
        self.currency = currency

    def close(self) -> None:
        self.http.close()

    def _paged(self, path: str, params: dict[str, Any], key: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset = 0
        for _ in range(MAX_PAGES):
            query = {**params, "size": self.PAGE, "offset": offset}
            _, body = self.http.call("GET", path, params=query, auth=self.auth)
            if not isinstance(body, dict) or not isinstance(body.get(key), list):
                raise ClientError(f"Klarna: {path} answered without {key}")
            out.append(_exchange(self.http.base + path, query, body))
            page = body.get("pagination") or {}
            page = page if isinstance(page, dict) else {}
            count = len(body[key])
            total = page.get("total")
            offset += count
            # The total says when to stop; without one, a "next" link says there is more.
            if count == 0 or (offset >= total if isinstance(total, int) else not page.get("next")):
                return out
        raise ClientError(f"Klarna: {path} kept paging")

    def fetch(self, since: date, until: date) -> dict[str, Any]:
        payouts = self._paged(
            "/payouts",
            {
                "start_date": f"{since.isoformat()}T00:00:00Z",
                "end_date": f"{until.isoformat()}T23:59:59Z",
                "currency_code": self.currency,
            },
            "payouts",
        )
        exchanges = list(payouts)
        refs = [
            p["payment_reference"]
            for ex in payouts
            for p in ex["response"]["body"]["payouts"]
            if isinstance(p, dict) and isinstance(p.get("payment_reference"), str)
        ]
        for ref in refs:
            exchanges += self._paged("/transactions", {"payment_reference": ref}, "transactions")
        return {"exchanges": exchanges}


# -- Stripe -------------------------------------------------------------------------------------
class StripeClient:
    provider = "stripe"
    PAGE = 100

    def __init__(
        self,
        base: str,
        *,
        secret_key: str,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        register_secret(secret_key)
        self.http = _Http(_check_url(base, "stripe url"), provider="stripe", transport=transport,
                          sleep=sleep)  # fmt: skip
        self.headers = {"Authorization": f"Bearer {secret_key}"}

    def close(self) -> None:
        self.http.close()

    def _list(self, path: str, params: list[tuple[str, Any]]) -> list[tuple[Any, list[Any]]]:
        pages: list[tuple[Any, list[Any]]] = []
        after: str | None = None
        for _ in range(MAX_PAGES):
            query = [*params, ("limit", self.PAGE)] + ([("starting_after", after)] if after else [])
            _, body = self.http.call("GET", path, params=query, headers=self.headers)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise ClientError(f"Stripe: {path} did not answer a list")
            pages.append((body, query))
            data = body["data"]
            if body.get("has_more") is not True or not data:
                return pages
            last = data[-1]
            after = last.get("id") if isinstance(last, dict) else None
            if not isinstance(after, str):
                raise ClientError(f"Stripe: {path} has a row without an id")
        raise ClientError(f"Stripe: {path} kept answering has_more")

    def fetch(self, since: date, until: date) -> dict[str, Any]:
        start = int(datetime(since.year, since.month, since.day, tzinfo=OSLO).timestamp())
        end = int(
            (datetime(until.year, until.month, until.day, tzinfo=OSLO) + timedelta(days=1))
            .astimezone(UTC)
            .timestamp()
        )
        payouts = self._list(
            "/v1/payouts",
            [("arrival_date[gte]", start), ("arrival_date[lt]", end), ("status", "paid")],
        )
        exchanges: list[dict[str, Any]] = []
        for body, _ in payouts:
            for payout in body["data"]:
                pid = payout.get("id") if isinstance(payout, dict) else None
                if not isinstance(pid, str):
                    raise ClientError("Stripe: a payout without an id")
                for page, query in self._list(
                    "/v1/balance_transactions", [("payout", pid), ("expand[]", "data.source")]
                ):
                    exchanges.append(
                        _exchange(
                            self.http.base + "/v1/balance_transactions",
                            {"payout": pid, **{k: v for k, v in query if k != "payout"}},
                            page,
                        )
                    )
        return {"exchanges": exchanges}


# -- from the configuration ---------------------------------------------------------------------
def make_client(
    provider: str, settings: Settings, *, transport: httpx.BaseTransport | None = None
) -> VippsClient | KlarnaClient | StripeClient:
    cfg = settings.settlement
    if provider == "vipps":
        msn = cfg.vipps_msn or os.environ.get("PACKBENCH_VIPPS_MSN", "").strip()
        if not msn:
            raise NotConfigured(
                "no Vipps merchant serial number: [settlement] vipps_msn or PACKBENCH_VIPPS_MSN"
            )
        client_id, client_secret, subscription_key = _credentials("vipps")
        return VippsClient(
            cfg.vipps_url,
            client_id=client_id,
            client_secret=client_secret,
            subscription_key=subscription_key,
            msn=msn,
            transport=transport,
        )
    if provider == "klarna":
        username, password = _credentials("klarna")
        return KlarnaClient(
            cfg.klarna_url,
            username=username,
            password=password,
            currency=cfg.currency,
            transport=transport,
        )
    if provider == "stripe":
        (secret_key,) = _credentials("stripe")
        return StripeClient(cfg.stripe_url, secret_key=secret_key, transport=transport)
    raise NotConfigured(f"unknown provider {provider!r}")


def fetch(
    provider: str,
    settings: Settings,
    *,
    since: date | None = None,
    until: date | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ParseResult:
    """Fetch ``since``..``until`` (Oslo dates; default the last 31 days) and parse it."""
    today = datetime.now(OSLO).date()
    until = until or today
    since = since or until - timedelta(days=31)
    if since > until:
        raise ClientError(f"--since {since} is after {until}")
    client = make_client(provider, settings, transport=transport)
    try:
        document = client.fetch(since, until)
    finally:
        client.close()
    cfg = settings.settlement
    parser = make_parser(
        provider, currency=cfg.currency, vipps_reference_pattern=cfg.vipps_reference_pattern
    )
    return parser.parse(document)
