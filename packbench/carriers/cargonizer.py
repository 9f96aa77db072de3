"""Logistra Cargonizer over httpx: book a consignment (XML), fetch its label, look it up.

Every request carries ``X-Cargonizer-Key`` and ``X-Cargonizer-Sender``; the transport agreement
and the product come from the configuration. Cargonizer's errors are free text, sometimes
Norwegian, and sometimes come with HTTP 200 and an XML error body: every answer is read for
errors, whatever its status, and a label call answering anything but a PDF is an error.

The consignment is booked without transfer (EDI to the carrier) unless ``transfer_on_booking``;
:meth:`CargonizerCarrier.transfer` sends it, for the post station's handover to call.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import httpx

from packbench.carriers.base import (
    Address,
    AuthError,
    BookingUndecided,
    CarrierError,
    CarrierShipment,
    LabelDocument,
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
from packbench.carriers.cargonizer_payloads import (
    CargonizerOptions,
    consignment_xml,
    errors_in,
    parse_consignment,
    parse_list,
    read_xml,
    recovered,
    transferred,
)
from packbench.carriers.http import check_api_url, retry_after, retrying, send
from packbench.redact import redact, register_secret

__all__ = ["CargonizerCarrier", "CargonizerConfig", "CargonizerProduct"]

MAX_BODY_BYTES = 2_000_000
MAX_LABEL_BYTES = 20_000_000


@dataclass(frozen=True)
class CargonizerProduct:
    """A shipping method's product at Cargonizer: its identifier (from
    ``/transport_agreements``), services and limits."""

    id: str
    name: str = ""
    services: tuple[str, ...] = ()
    max_weight_g: int | None = None
    max_length_mm: int | None = None
    max_sum_of_sides_mm: int | None = None
    pickup_point: bool = False


@dataclass(frozen=True)
class CargonizerConfig:
    name: str = "Cargonizer"
    api_url: str = "https://api.cargonizer.no"
    consignments_path: str = "/consignments.xml"
    label_path: str = "/consignments/label_pdf"
    transfer_path: str = "/consignments/transfer"
    transport_agreement: str = ""
    products: Mapping[str, CargonizerProduct] = field(default_factory=dict)
    sender: Address | None = None
    transfer_on_booking: bool = False
    provider: str = "packbench"
    timeout_s: float = 30.0
    read_attempts: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0


class CargonizerCarrier:
    """:class:`~packbench.carriers.base.Carrier` for Logistra Cargonizer."""

    def __init__(
        self,
        config: CargonizerConfig,
        key: str,
        sender_id: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not key or not sender_id:
            raise AuthError(f"{config.name}: no Cargonizer key and sender id")
        check_api_url(config.api_url)
        register_secret(key)
        register_secret(sender_id)
        self.config = config
        self.name = config.name
        self._key, self._sender = key, sender_id
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=config.api_url.rstrip("/"),
            timeout=httpx.Timeout(config.timeout_s, connect=min(10.0, config.timeout_s)),
            transport=transport,
            follow_redirects=False,
            headers={"Accept": "application/xml", "User-Agent": "packbench"},
        )

    def close(self) -> None:
        self._client.close()

    def _headers(self) -> dict[str, str]:
        return {"X-Cargonizer-Key": self._key, "X-Cargonizer-Sender": self._sender}

    def _send(
        self, method: str, url: str, what: str, *, content: bytes | None = None,
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        limit: int = MAX_BODY_BYTES,
    ) -> tuple[httpx.Response, bytes]:  # fmt: skip
        headers = self._headers()
        if content is not None:
            headers["Content-Type"] = "application/xml"
        return send(self._client, self.name, method, url, what, content=content,
                    params=params, headers=headers, limit=limit)  # type: ignore[arg-type]  # fmt: skip

    def _fail(self, response: httpx.Response, content: bytes, what: str) -> CarrierError:
        status = response.status_code
        try:
            problems = errors_in(read_xml(content, what)) if content.strip() else ()
        except PayloadError:
            problems = ()
        text = "; ".join(str(p) for p in problems) or " ".join(
            content[:200].decode("utf-8", "replace").split()
        )
        said = redact(f": {text}" if text else "")[:400]
        if status == 429:
            return RateLimited(f"{what}: {self.name} asks us to slow down (429)",
                               retry_after=retry_after(response), status=status)  # fmt: skip
        if status >= 500:
            return TransientError(f"{what}: {self.name} failed ({status}){said}", status=status)
        if status in (401, 402, 403):
            return AuthError(f"{what}: {self.name} refused the key or sender id ({status}){said}",
                             status=status)  # fmt: skip
        if status == 404:
            return NotFound(f"{what}: {self.name} found nothing (404){said}", status=status)
        return Rejected(problems or [Problem(f"{what}: {self.name} refused it ({status}){said}")],
                        status=status)  # fmt: skip

    def _read(
        self, url: str, what: str, params: Sequence[tuple[str, str]], limit: int = MAX_BODY_BYTES
    ) -> tuple[httpx.Response, bytes]:
        """A read, retried on 429/5xx/network errors with back-off."""

        def attempt() -> tuple[httpx.Response, bytes]:
            response, content = self._send("GET", url, what, params=params, limit=limit)
            if response.is_success:
                return response, content
            raise self._fail(response, content, what)

        c = self.config
        return retrying(attempt, attempts=c.read_attempts, backoff_s=c.backoff_s,
                        max_backoff_s=c.max_backoff_s, sleep=self._sleep)  # fmt: skip

    # ------------------------------------------------------------------ the interface

    def _product(self, request: ShipmentRequest) -> CargonizerProduct:
        pid = (request.product or request.service).strip()
        found = self.config.products.get(pid)
        if found is None:
            if not pid:
                raise NotSupported(f"{self.name}: no product for this shipping method")
            found = CargonizerProduct(pid)  # identifiers come from /transport_agreements
        return found

    def consignment_xml(self, request: ShipmentRequest) -> bytes:
        product = self._product(request)
        options = CargonizerOptions(
            transport_agreement=self.config.transport_agreement,
            product=product.id,
            sender=request.sender or self.config.sender,
            services=product.services,
            transfer=self.config.transfer_on_booking,
            provider=self.config.provider,
        )
        return consignment_xml(request, options)

    def create_shipment(self, request: ShipmentRequest, numbers: NumberSource) -> CarrierShipment:
        body = self.consignment_xml(request)
        what = f"booking order {request.order_number}"
        response, content = self._send("POST", self.config.consignments_path, what, content=body)
        if response.status_code in (429,) or response.status_code >= 500:
            raise self._fail(response, content, what)
        if not response.is_success:
            raise self._fail(response, content, what)
        # 2xx: may still carry errors (HTTP 200 with an XML error body).
        return parse_consignment(content, request, carrier=self.name)

    def cancel_shipment(self, shipment: CarrierShipment) -> None:
        raise NotSupported(
            f"{self.name}: consignment {shipment.consignment_number or '(unknown)'} is "
            "cancelled in Cargonizer itself"
        )

    def tracking_url(self, tracking_number: str) -> str:
        return f"https://sporing.bring.no/sporing/{tracking_number}"

    def find_booking(self, request: ShipmentRequest) -> CarrierShipment | None:
        what = f"looking up order {request.order_number}'s consignment"
        _, content = self._read(self.config.consignments_path, what, [("text", request.ref)])
        try:
            return recovered(parse_list(content), request, self.name)
        except ValueError as exc:
            raise BookingUndecided(
                f"order {request.order_number}: {self.name} holds several consignments with "
                f"reference {request.ref!r} ({exc}); a person must remove the extra ones"
            ) from None

    def fetch_label(self, label: LabelDocument) -> LabelDocument:
        if label.fetched:
            return label
        cid = label.url.removeprefix("cargonizer:")
        if not cid.isdigit():
            raise PayloadError(f"{self.name}: label reference {label.url[:40]!r} is not ours")
        response, content = self._read(
            self.config.label_path, "fetching the label", [("consignment_ids[]", cid)],
            limit=MAX_LABEL_BYTES,
        )  # fmt: skip
        if not content.startswith(b"%PDF"):
            # Cargonizer answers some label calls with 200 and an XML error.
            problems: tuple[Problem, ...] = ()
            with contextlib.suppress(PayloadError):
                problems = errors_in(read_xml(content, "the label"))
            why = "; ".join(str(p) for p in problems) or (
                f"{response.headers.get('content-type', 'no type')} instead of a PDF"
            )
            raise Rejected([Problem(f"{self.name} gave no label: {redact(why)[:300]}")])
        return replace(label, format="pdf", data=content, page_size_mm=pdf_page_size_mm(content))

    def transfer(self, consignment_ids: Sequence[str]) -> None:
        """Send the consignments' EDI to the carrier (one call for many)."""
        ids = [c for c in consignment_ids if c.isdigit()]
        if not ids:
            return
        response, content = self._send(
            "POST", self.config.transfer_path, "transferring consignments",
            params=[("consignment_ids[]", c) for c in ids],
        )  # fmt: skip
        if not response.is_success:
            raise self._fail(response, content, "transferring consignments")
        if content.strip():
            problems = errors_in(read_xml(content, "transferring consignments"))
            if problems:
                raise Rejected(problems)

    def transfer_state(self, consignment_id: str, reference: str) -> bool | None:
        """Whether the consignment has been transferred, by the search on its reference (the
        check before sending a transfer whose answer was lost again); None when the search
        does not find it. Raises :class:`CarrierError` when it cannot be asked."""
        what = f"checking the transfer of consignment {consignment_id}"
        _, content = self._read(self.config.consignments_path, what, [("text", reference)])
        for found in parse_list(content):
            if found.consignment_id == consignment_id:
                return transferred(found)
        return None

    def pickup_points(
        self, postcode: str, country: str = "NO", *, street: str = "", limit: int = 10
    ) -> tuple[PickupPoint, ...]:
        raise NotSupported(f"{self.name}: pickup points are not read from Cargonizer yet")

    def products(self) -> tuple[Product, ...]:
        return tuple(
            Product(
                p.id, p.name, p.max_weight_g, p.max_length_mm, p.max_sum_of_sides_mm, p.pickup_point
            )
            for p in self.config.products.values()
        )
