"""The carrier interface: book one order's parcels, fetch the labels, cancel, look a booking up.

An adapter for a carrier's web API books the shipment with the carrier and returns the numbers
the carrier gave (a consignment number, one package number per parcel — Bring's are SSCCs),
the tracking link and the label documents (bytes, or a URL to fetch them from); the built-in S10
carrier takes its numbers from the shop's own range. Either way the operations layer writes the
answer onto the parcels.

Adapters turn every way a carrier can fail into one of the :class:`CarrierError` subclasses
below, so the caller decides "retry", "look the booking up first", "show it to the packer" or
"hold the order for a person" from the type alone, without knowing HTTP. Messages are written
for a person at the bench, name the field when the carrier did, and never carry credentials.

Carrier APIs have no idempotency key: :mod:`packbench.carriers.booking` holds the one rule
about retrying a booking (look it up by reference before booking again).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

__all__ = [
    "Address",
    "AuthError",
    "BookingUndecided",
    "Carrier",
    "CarrierError",
    "CarrierShipment",
    "LabelDocument",
    "LabelledParcel",
    "NotFound",
    "NotSupported",
    "NumberSource",
    "ParcelRequest",
    "PayloadError",
    "PickupPoint",
    "Problem",
    "Product",
    "RateLimited",
    "Rejected",
    "SeriesExhausted",
    "ShipmentRequest",
    "TransientError",
    "pdf_page_size_mm",
]


# --------------------------------------------------------------------------- errors


class CarrierError(Exception):
    """The carrier could not do it; ``retryable`` when trying again later may work."""

    retryable_default = False

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = self.retryable_default if retryable is None else retryable
        self.status = status
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class SeriesExhausted(CarrierError):
    """Every number of a configured range has been issued; a new range must be configured."""


class AuthError(CarrierError):
    """HTTP 401/403 (or the carrier's way of saying so): the credentials are wrong or lack the
    right. Retrying will not help; a person fixes the credentials."""


class NotFound(CarrierError):
    """The booking, pickup point or route does not exist (HTTP 404)."""


class NotSupported(CarrierError):
    """The carrier does not offer this (a cancel after handover, a product it lacks)."""


class RateLimited(CarrierError):
    """HTTP 429: the carrier refused before doing anything; ``retry_after`` seconds if it said.
    Safe to send again: nothing was booked."""

    retryable_default = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]  # kw are the base error's keyword fields
        self.retry_after = retry_after


class TransientError(CarrierError):
    """A failure that usually goes away: 5xx, timeouts, refused or dropped connections.

    ``sent`` is False only when the request certainly never reached the carrier (the
    connection was refused); otherwise the carrier may have acted on it, and a booking must be
    looked up by reference before it is sent again."""

    retryable_default = True

    def __init__(self, message: str, *, sent: bool = True, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]  # kw are the base error's keyword fields
        self.sent = sent


@dataclass(frozen=True)
class Problem:
    """One thing the carrier (or our own check before sending) found wrong with a request."""

    message: str  # for a person: "recipient postcode '0000': Invalid postal Code"
    code: str = ""  # the carrier's code, "BOOK_INPUT-057-RECIPIENT"
    field: str = ""  # where it is: "recipient.postcode"

    def __str__(self) -> str:
        return f"{self.message} ({self.code})" if self.code else self.message


class Rejected(CarrierError):
    """The carrier said no to this request (validation, a 4xx): sending it again will fail the
    same way. ``problems`` lists what was wrong, each naming its field when known."""

    def __init__(self, problems: tuple[Problem, ...] | list[Problem], **kw: object) -> None:
        self.problems = tuple(problems) or (Problem("the carrier refused the request"),)
        super().__init__("; ".join(str(p) for p in self.problems), **kw)  # type: ignore[arg-type]  # kw are the base error's keyword fields


class PayloadError(CarrierError, ValueError):
    """An answer that cannot be used (not JSON, a field missing or of the wrong type); the
    message names the field. The request may have worked: for a booking, treat it as a booking
    whose outcome is unknown."""

    def __init__(self, message: str, *, field: str | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]  # kw are the base error's keyword fields
        self.field = field


class BookingUndecided(CarrierError):
    """After a failure whose outcome is unknown, the lookup by reference could not tell whether
    the carrier has the booking. Booking again could make two: a person must decide."""


# --------------------------------------------------------------------------- numbers


class NumberSource(Protocol):
    """Serial numbers that are never given out twice (the operations layer's number series)."""

    def take(self, series: str, first: int, last: int, render: Callable[[int], str]) -> str:
        """The next unused serial of ``series`` within ``first``..``last``, as ``render`` makes
        it; raises :class:`SeriesExhausted` when the range is used up."""
        ...


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Address:
    """A party of a shipment. ``contact`` is the person when ``name`` is a company."""

    name: str
    address1: str = ""
    address2: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "NO"
    email: str = ""
    phone: str = ""
    contact: str = ""


@dataclass(frozen=True)
class ParcelRequest:
    """One packed parcel: its weight and outer dimensions (the packed box)."""

    seq: int
    weight_g: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    goods_description: str = ""


@dataclass(frozen=True)
class ShipmentRequest:
    """What a carrier needs to take the parcels of one order.

    The first fields are what the built-in carrier needs; the rest is what carriers' APIs need
    (WooCommerce keeps e-mail and phone on the billing address). ``product`` is the carrier's
    product id for the order's shipping method; ``reference`` (the order number unless given)
    is sent with every booking and is what a lookup searches for.
    """

    order_number: str
    service: str
    recipient_name: str
    postcode: str
    city: str
    country: str
    parcels: tuple[ParcelRequest, ...]
    product: str = ""
    address1: str = ""
    address2: str = ""
    email: str = ""
    phone: str = ""
    contact: str = ""  # the person, when recipient_name is a company
    pickup_point_id: str = ""
    goods_description: str = ""
    sender: Address | None = None
    reference: str = ""

    @property
    def ref(self) -> str:
        return self.reference or self.order_number

    @property
    def recipient(self) -> Address:
        return Address(
            name=self.recipient_name,
            address1=self.address1,
            address2=self.address2,
            postcode=self.postcode,
            city=self.city,
            country=self.country,
            email=self.email,
            phone=self.phone,
            contact=self.contact,
        )


# --------------------------------------------------------------------------- answers


LabelFormat = Literal["pdf", "zpl"]


@dataclass(frozen=True)
class LabelDocument:
    """A carrier's label: the bytes (``data``), or where to fetch them (``url``) when the
    carrier answers with a link. ``parcels`` are the seqs it holds (empty: all of them);
    ``page_size_mm`` is (width, height) of a PDF's first page when known."""

    format: LabelFormat = "pdf"
    data: bytes = b""
    url: str = ""
    page_size_mm: tuple[float, float] | None = None
    parcels: tuple[int, ...] = ()

    @property
    def fetched(self) -> bool:
        return bool(self.data)


@dataclass(frozen=True)
class LabelledParcel:
    seq: int
    tracking_number: str
    #: Anything else the carrier wants on the label (routing codes); empty for the built-in one.
    label_fields: Mapping[str, str] = field(default_factory=dict)
    #: The carrier's SSCC for the parcel when its package number is one (Bring), else "".
    sscc: str = ""


@dataclass(frozen=True)
class CarrierShipment:
    """A booking: the carrier's numbers for every parcel and where its labels are.

    ``recovered`` marks a booking found by looking it up after an answer was lost: it may lack
    the label link (``labels`` empty) and its parcels are matched in the carrier's order.
    ``raw`` is the carrier's answer as received, to be kept with the shipment.
    """

    carrier: str
    service: str
    parcels: tuple[LabelledParcel, ...]
    consignment_number: str = ""
    tracking_url: str = ""
    labels: tuple[LabelDocument, ...] = ()
    product: str = ""
    recovered: bool = False
    raw: str = ""

    @property
    def reference(self) -> str:
        """The carrier's own id for the shipment (the consignment number)."""
        return self.consignment_number


@dataclass(frozen=True)
class PickupPoint:
    """A place the customer collects a parcel. ``address``/``postcode`` are what goes on a
    label (a post box for Bring); ``visiting_*`` is where to go, for the screen."""

    id: str
    name: str
    address: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "NO"
    visiting_address: str = ""
    visiting_postcode: str = ""
    visiting_city: str = ""
    distance_km: float | None = None
    kind: str = ""  # the carrier's type code ("4" Post i Butikk, "37" parcel locker)
    locker: bool = False
    opening_hours: str = ""
    #: For a locker, the largest parcel it takes, (length, width, height) in mm.
    max_dimensions_mm: tuple[int, int, int] | None = None

    def describe(self) -> str:
        where = ", ".join(x for x in (self.visiting_address, self.visiting_city or self.city) if x)
        away = f" ({self.distance_km:g} km)" if self.distance_km is not None else ""
        return f"{self.name}{', ' + where if where else ''}{away}"


@dataclass(frozen=True)
class Product:
    """A carrier product and its limits; ``None`` means the carrier sets none we know of."""

    id: str
    name: str = ""
    max_weight_g: int | None = None
    max_length_mm: int | None = None
    max_sum_of_sides_mm: int | None = None  # length + width + height
    pickup_point: bool = False  # delivered to a pickup point the customer may choose
    label_format: LabelFormat = "pdf"

    def refuses(self, weight_g: int, dims_mm: tuple[int, int, int]) -> str | None:
        """Why a parcel of this weight and outer size does not qualify, or None if it does."""
        what = f"{self.name or self.id}"
        if self.max_weight_g is not None and weight_g > self.max_weight_g:
            return f"{what} takes at most {self.max_weight_g / 1000:g} kg ({weight_g} g)"
        longest = max(dims_mm) if dims_mm else 0
        if self.max_length_mm is not None and longest > self.max_length_mm:
            return f"{what} takes at most {self.max_length_mm / 10:g} cm long ({longest / 10:g})"
        total = sum(dims_mm)
        if self.max_sum_of_sides_mm is not None and total > self.max_sum_of_sides_mm:
            return (
                f"{what} takes sides summing to at most {self.max_sum_of_sides_mm / 10:g} cm "
                f"({total / 10:g})"
            )
        return None


# --------------------------------------------------------------------------- the interface


class Carrier(Protocol):
    """One configured carrier. Calls are blocking and may take seconds: never call them inside
    a database transaction (record the intent, commit, call, record the answer)."""

    @property
    def name(self) -> str: ...

    def create_shipment(self, request: ShipmentRequest, numbers: NumberSource) -> CarrierShipment:
        """Book the parcels; one package number per parcel, in the order asked."""
        ...

    def cancel_shipment(self, shipment: CarrierShipment) -> None:
        """Tell the carrier the shipment will not come (:class:`NotSupported` where it cannot
        be cancelled through the API). Numbers are never given back."""
        ...

    def tracking_url(self, tracking_number: str) -> str: ...

    def find_booking(self, request: ShipmentRequest) -> CarrierShipment | None:
        """The booking the carrier holds under ``request.ref``, or None when it has none;
        :class:`BookingUndecided` when it cannot tell (several, or not matching the parcels)."""
        ...

    def fetch_label(self, label: LabelDocument) -> LabelDocument:
        """The label with its bytes (fetched from its URL if it has none yet)."""
        ...

    def pickup_points(
        self, postcode: str, country: str = "NO", *, street: str = "", limit: int = 10
    ) -> tuple[PickupPoint, ...]:
        """Pickup points near a postcode, nearest first (empty for a carrier without any)."""
        ...

    def products(self) -> tuple[Product, ...]:
        """The products this carrier is configured to book, with their limits."""
        ...


# --------------------------------------------------------------------------- helpers

_MEDIABOX = re.compile(rb"/MediaBox\s*\[\s*(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s*\]")
_PT_MM = 25.4 / 72


def pdf_page_size_mm(data: bytes) -> tuple[float, float] | None:
    """(width, height) in mm of the first MediaBox found in a PDF, rounded to 0.1 mm; None when
    the bytes are not a PDF or hide it (compressed object streams): tolerant, never raises."""
    if not data.startswith(b"%PDF"):
        return None
    match = _MEDIABOX.search(data)
    if match is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in match.groups())
    except ValueError:
        return None
    width, height = abs(x1 - x0) * _PT_MM, abs(y1 - y0) * _PT_MM
    if width <= 0 or height <= 0:
        return None
    return round(width, 1), round(height, 1)
