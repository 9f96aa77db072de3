"""Bring (Posten/Bring) over httpx: the Booking, Pickup Point and Tracking APIs.

Every request carries ``X-Mybring-API-Uid``, ``X-Mybring-API-Key`` and ``X-Bring-Client-URL``;
test mode sends ``X-Bring-Test-Indicator: true`` and/or the body's ``testIndicator`` (which one
Bring's current endpoint wants is unconfirmed: both are configurable). The base URL and every
path are configurable because Bring has moved the booking endpoint twice.

Reads (pickup points, tracking, labels) are retried here on 429, 5xx and network errors with
back-off. A booking (POST) is never retried here: it raises, and
:func:`packbench.carriers.booking.book` decides (429 → again; outcome unknown → look up first).

The label link answers with a redirect to a storage host; it is followed by hand so the Mybring
headers go only to the API's own host, never to the storage host.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import httpx

from packbench.carriers.base import (
    Address,
    AuthError,
    BookingUndecided,
    CarrierError,
    CarrierShipment,
    LabelDocument,
    LabelledParcel,
    NotFound,
    NotSupported,
    NumberSource,
    PayloadError,
    PickupPoint,
    Problem,
    Product,
    RateLimited,
    Rejected,
    ShipmentRequest,
    TransientError,
    pdf_page_size_mm,
)
from packbench.carriers.bring_payloads import (
    BookingOptions,
    booking_body,
    decode,
    parse_booking,
    parse_errors,
    parse_pickup_points,
    parse_tracking,
    sscc_of,
)
from packbench.carriers.http import check_api_url, retry_after, retrying, send
from packbench.redact import redact, register_secret

__all__ = ["DEFAULT_PRODUCTS", "BringCarrier", "BringConfig", "BringProduct"]

MAX_BODY_BYTES = 2_000_000
MAX_LABEL_BYTES = 20_000_000
MAX_REDIRECTS = 5

T = TypeVar("T")


@dataclass(frozen=True)
class BringProduct:
    """A Bring product as configured: its id, limits, additional services and, where it needs
    another one, its own customer number (mailbox parcels on some agreements)."""

    id: str
    name: str = ""
    max_weight_g: int | None = None
    max_length_mm: int | None = None
    max_sum_of_sides_mm: int | None = None
    pickup_point: bool = False
    services: tuple[str, ...] = ()
    customer_number: str = ""
    label_format: str = "pdf"

    def product(self) -> Product:
        return Product(
            id=self.id,
            name=self.name,
            max_weight_g=self.max_weight_g,
            max_length_mm=self.max_length_mm,
            max_sum_of_sides_mm=self.max_sum_of_sides_mm,
            pickup_point=self.pickup_point,
            label_format="zpl" if self.label_format == "zpl" else "pdf",
        )


#: Bring's Norwegian B2C products (service portfolio, Nov 2025, in the examples' README).
DEFAULT_PRODUCTS: dict[str, BringProduct] = {
    "5800": BringProduct("5800", "Pakke til hentested", 35_000, pickup_point=True,
                         services=("EVARSLING",)),
    "5600": BringProduct("5600", "Pakke levert hjem", 35_000),
    "3584": BringProduct("3584", "Pakke i postkassen", 5_000, 450, 900),
    "3570": BringProduct("3570", "Pakke i postkassen med RFID", 5_000, 450, 900,
                         label_format="zpl"),
    "5000": BringProduct("5000", "Pakke til bedrift", 35_000),
    "4850": BringProduct("4850", "Ekspress neste dag", 35_000),
}  # fmt: skip


@dataclass(frozen=True)
class BringConfig:
    name: str = "Bring"
    api_url: str = "https://api.bring.com"
    booking_path: str = "/booking/api/create"
    pickup_path: str = "/pickuppoint/api/pickuppoint"
    tracking_path: str = "/tracking/api/v2/tracking.json"
    customer_number: str = ""
    client_url: str = ""
    test_mode: bool = True
    test_header: bool = True  # X-Bring-Test-Indicator: true
    test_body_flag: bool = True  # "testIndicator": true at the body root
    products: Mapping[str, BringProduct] = field(default_factory=lambda: dict(DEFAULT_PRODUCTS))
    sender: Address | None = None
    goods_description: str = ""
    #: Where a booking's label is when only its consignment number is known (a booking found
    #: by lookup); ``{consignment}`` is filled in. Empty: such a booking has no label link.
    label_url_template: str = ""
    label_headers: bool = True  # send the Mybring headers when fetching a label link
    tracking_link: str = "https://sporing.bring.no/sporing/{tracking}"
    timezone: str = "Europe/Oslo"
    timeout_s: float = 30.0
    read_attempts: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0

    def product(self, product_id: str) -> BringProduct:
        pid = product_id.strip().upper()
        found = self.products.get(pid)
        if found is None:
            known = ", ".join(sorted(self.products)) or "none"
            raise NotSupported(f"{self.name}: product {pid or '(none)'} is not configured "
                               f"(configured: {known})")  # fmt: skip
        return found


class BringCarrier:
    """:class:`~packbench.carriers.base.Carrier` for Bring. Blocking; thread-safe as httpx is."""

    def __init__(
        self,
        config: BringConfig,
        uid: str,
        key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not uid or not key:
            raise AuthError(f"{config.name}: no Mybring API uid and key")
        check_api_url(config.api_url)
        if not config.client_url:
            raise ValueError("client_url (the shop's URL, X-Bring-Client-URL) is required")
        register_secret(uid)
        register_secret(key)
        self.config = config
        self.name = config.name
        self._uid, self._key = uid, key
        self._sleep = sleep
        self._tz = ZoneInfo(config.timezone)
        self._clock = clock or (lambda: datetime.now(self._tz))
        self._client = httpx.Client(
            base_url=config.api_url.rstrip("/"),
            timeout=httpx.Timeout(config.timeout_s, connect=min(10.0, config.timeout_s)),
            transport=transport,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "packbench"},
        )
        api = urlsplit(config.api_url)
        self._api_origin = (api.scheme, api.hostname, api.port)

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ plumbing

    def _headers(self) -> dict[str, str]:
        h = {
            "X-Mybring-API-Uid": self._uid,
            "X-Mybring-API-Key": self._key,
            "X-Bring-Client-URL": self.config.client_url,
        }
        if self.config.test_mode and self.config.test_header:
            h["X-Bring-Test-Indicator"] = "true"
        return h

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        limit: int = MAX_BODY_BYTES,
    ) -> tuple[httpx.Response, bytes]:
        """One request → (response, body bytes). Network failures become TransientError
        (``sent=False`` only when the connection was never made), raised ``from None`` so the
        headers never reach a traceback."""
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        hdrs = dict(headers if headers is not None else self._headers())
        if content is not None:
            hdrs["Content-Type"] = "application/json"
        return send(
            self._client, self.name, method, url, what,
            content=content, params=params, headers=hdrs, limit=limit,
        )  # fmt: skip

    def _fail(
        self, response: httpx.Response, content: bytes, what: str, sent: Any = None
    ) -> CarrierError:
        """The error for a non-2xx answer, with Bring's own words when it gave any."""
        status = response.status_code
        try:
            body = json.loads(content) if content else None
        except (ValueError, UnicodeDecodeError):
            body = None
        problems = parse_errors(body, sent) if body is not None else ()
        text = "; ".join(str(p) for p in problems)
        if not text and content:
            text = " ".join(content[:300].decode("utf-8", "replace").split())
        said = redact(f": {text}" if text else "")[:400]
        if status == 429:
            return RateLimited(
                f"{what}: {self.name} asks us to slow down (429)",
                retry_after=retry_after(response),
                status=status,
            )
        if status >= 500:
            return TransientError(f"{what}: {self.name} failed ({status}){said}", status=status)
        if status in (401, 403) or (
            status == 400 and not problems and any(
                w in text.lower() for w in ("auth", "credential", "api key", "apikey", "uid")
            )
        ):  # fmt: skip
            return AuthError(
                f"{what}: {self.name} refused the Mybring credentials ({status}){said}",
                status=status,
            )
        if status == 404 and not problems:
            return NotFound(f"{what}: {self.name} has no {response.request.url.path} (404){said}",
                            status=status)  # fmt: skip
        if problems:
            return Rejected(problems, status=status)
        return Rejected(
            [Problem(f"{what}: {self.name} refused it ({status}){said}")], status=status
        )

    def _get_json(
        self, url: str, what: str, params: Mapping[str, str] | None = None
    ) -> tuple[httpx.Response, Any]:
        """A read, retried on 429/5xx/network errors with back-off."""

        def attempt() -> tuple[httpx.Response, Any]:
            response, content = self._send("GET", url, what, params=params)
            if response.is_success:
                return response, decode(content, what)
            raise self._fail(response, content, what)

        return self._retrying(attempt)

    def _retrying(self, attempt: Callable[[], T]) -> T:
        c = self.config
        return retrying(attempt, attempts=c.read_attempts, backoff_s=c.backoff_s,
                        max_backoff_s=c.max_backoff_s, sleep=self._sleep)  # fmt: skip

    # ------------------------------------------------------------------ the interface

    def options(self, request: ShipmentRequest) -> BookingOptions:
        product = self.config.product(request.product or request.service)
        sender = request.sender or self.config.sender
        if sender is None:
            raise Rejected([Problem("no sender address: set [ship.sender]", field="sender")])
        test: bool | None = None
        if self.config.test_body_flag or not self.config.test_mode:
            test = self.config.test_mode
        return BookingOptions(
            product_id=product.id,
            customer_number=product.customer_number or self.config.customer_number,
            sender=sender,
            services=product.services,
            test_indicator=test,
            goods_description=self.config.goods_description,
        )

    def booking_body(self, request: ShipmentRequest) -> dict[str, Any]:
        """The body :meth:`create_shipment` sends (checked; raises Rejected naming the field)."""
        return booking_body(request, self.options(request), self._clock().astimezone(self._tz))

    def create_shipment(self, request: ShipmentRequest, numbers: NumberSource) -> CarrierShipment:
        body = self.booking_body(request)
        what = f"booking order {request.order_number}"
        response, content = self._send("POST", self.config.booking_path, what, body=body)
        if not response.is_success:
            raise self._fail(response, content, what, sent=body)
        raw = content.decode("utf-8", "replace")
        return parse_booking(decode(content, what), request, carrier=self.name, sent=body, raw=raw)

    def cancel_shipment(self, shipment: CarrierShipment) -> None:
        raise NotSupported(
            f"{self.name} bookings are not cancelled through the Booking API: cancel "
            f"consignment {shipment.consignment_number or '(unknown)'} in Mybring"
        )

    def tracking_url(self, tracking_number: str) -> str:
        return self.config.tracking_link.replace("{tracking}", quote(tracking_number, safe=""))

    def find_booking(self, request: ShipmentRequest) -> CarrierShipment | None:
        """Search the Tracking API by the booking's reference; match the sender reference
        exactly (a search may also find other shipments mentioning it)."""
        ref = request.ref
        what = f"looking up order {request.order_number}'s booking"
        _, body = self._get_json(self.config.tracking_path, what, {"q": ref})
        found = parse_tracking(body)
        exact = [c for c in found if c.reference is not None and c.reference == ref]
        unknown = [c for c in found if c.reference is None]
        if len(exact) > 1:
            numbers = ", ".join(c.consignment_number for c in exact)
            raise BookingUndecided(
                f"order {request.order_number}: {self.name} holds {len(exact)} bookings under "
                f"reference {ref!r} ({numbers}); a person must cancel the extra ones"
            )
        if not exact:
            if unknown:
                raise BookingUndecided(
                    f"order {request.order_number}: the tracking search for {ref!r} found "
                    f"consignment(s) {', '.join(c.consignment_number for c in unknown)} without "
                    "a sender reference; cannot tell whether one is this order's booking"
                )
            return None
        hit = exact[0]
        if len(hit.package_numbers) != len(request.parcels):
            raise BookingUndecided(
                f"order {request.order_number}: {self.name}'s booking {hit.consignment_number} "
                f"has {len(hit.package_numbers)} packages, the order {len(request.parcels)} "
                "parcels"
            )
        parcels = tuple(
            LabelledParcel(seq=p.seq, tracking_number=n, sscc=sscc_of(n))
            for p, n in zip(request.parcels, hit.package_numbers, strict=True)
        )
        labels: tuple[LabelDocument, ...] = ()
        if self.config.label_url_template:
            url = self.config.label_url_template.replace(
                "{consignment}", quote(hit.consignment_number, safe="")
            )
            labels = (LabelDocument(format="pdf", url=urljoin(self.config.api_url + "/", url)),)
        product = self.config.products.get((request.product or request.service).upper())
        return CarrierShipment(
            carrier=self.name,
            service=request.service,
            parcels=parcels,
            consignment_number=hit.consignment_number,
            tracking_url=self.tracking_url(hit.consignment_number),
            labels=labels,
            product=product.id if product else request.product,
            recovered=True,
            raw=json.dumps(body, ensure_ascii=False),
        )

    def fetch_label(self, label: LabelDocument) -> LabelDocument:
        """Fetch the label link, following its redirect by hand: the Mybring headers go to the
        API's host only (configurable), never to the storage host it redirects to."""
        if label.fetched:
            return label
        if not label.url:
            raise PayloadError(f"{self.name}: the label has neither bytes nor a link")
        url = label.url.split("#", 1)[0]

        def attempt() -> LabelDocument:
            response, content = self._follow(url)
            if response.is_success:
                return self._label(label, response, content)
            raise self._fail(response, content, "fetching the label")

        return self._retrying(attempt)

    def _follow(self, url: str) -> tuple[httpx.Response, bytes]:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            same = (parts.scheme, parts.hostname, parts.port) == self._api_origin
            headers = self._headers() if same and self.config.label_headers else {}
            response, content = self._send(
                "GET", url, "fetching the label", headers=headers, limit=MAX_LABEL_BYTES
            )
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("location")
                if not location:
                    raise PayloadError(f"{self.name}: the label link redirects nowhere")
                url = urljoin(url, location).split("#", 1)[0]
                if urlsplit(url).scheme not in ("http", "https"):
                    raise PayloadError(f"{self.name}: the label link redirects off http(s)")
                continue
            return response, content
        raise PayloadError(f"{self.name}: the label link redirects more than {MAX_REDIRECTS} times")

    def _label(self, label: LabelDocument, response: httpx.Response, data: bytes) -> LabelDocument:
        ctype = response.headers.get("content-type", "").lower()
        if data.startswith(b"%PDF"):
            return replace(label, format="pdf", data=data, page_size_mm=pdf_page_size_mm(data))
        if data.lstrip().startswith((b"^XA", b"~")) or "zpl" in ctype:
            return replace(label, format="zpl", data=data, page_size_mm=None)
        start = data[:40].decode("utf-8", "replace")
        raise PayloadError(
            f"{self.name}: the label is neither a PDF nor ZPL ({ctype or 'no type'}, starts "
            f"{start!r})"
        )

    def pickup_points(
        self, postcode: str, country: str = "NO", *, street: str = "", limit: int = 10
    ) -> tuple[PickupPoint, ...]:
        cc = country.strip().upper()
        pc = postcode.strip()
        if not (len(cc) == 2 and cc.isalpha() and pc and pc.replace(" ", "").isalnum()):
            raise Rejected([Problem(f"postcode {postcode!r} in {country!r} cannot be searched",
                                    field="postcode")])  # fmt: skip
        path = f"{self.config.pickup_path}/{cc}/postalCode/{quote(pc, safe='')}.json"
        params = {"numberOfResponses": str(max(1, min(limit, 50)))}
        if street.strip():
            params["street"] = street.strip()
        _, body = self._get_json(path, f"pickup points near {pc}", params)
        return parse_pickup_points(body, limit=limit)

    def products(self) -> tuple[Product, ...]:
        return tuple(p.product() for p in self.config.products.values())
