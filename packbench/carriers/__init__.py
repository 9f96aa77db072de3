"""Carriers: who takes the parcels, and where their numbers and labels come from.

A carrier sits behind :class:`~packbench.carriers.base.Carrier`: book one order's parcels (the
carrier's consignment number, one package number per parcel, the tracking link, the label
documents), fetch a label, cancel, look a booking up by the order's reference, list pickup
points near a postcode and the products it offers with their limits. Errors come by kind
(:mod:`packbench.carriers.base`); :func:`~packbench.carriers.booking.book` is the one rule
about retrying a booking (look it up before booking again).

- :mod:`~packbench.carriers.s10`: the built-in carrier for shops that print their own labels
  under an agreement (UPU S10 numbers from the shop's range, taken through a
  :class:`~packbench.carriers.base.NumberSource` inside the transaction that writes them);
- :mod:`~packbench.carriers.bring` (transport) and :mod:`~packbench.carriers.bring_payloads`
  (pure request/response bodies): Bring's Booking, Pickup Point and Tracking APIs;
- :mod:`~packbench.carriers.cargonizer` and :mod:`~packbench.carriers.shipmondo`, each with its
  ``_payloads`` module: the two aggregators (Logistra Cargonizer's XML, Shipmondo's JSON);
- :mod:`~packbench.carriers.http`: what the web-API adapters share (a size-limited request,
  the read retry with back-off, the ``api_url`` check);
- :mod:`~packbench.carriers.factory`: the adapter from the configuration and credentials;
- :mod:`~packbench.carriers.demo_carrier`: a carrier on loopback answering Bring's, Cargonizer's
  and Shipmondo's calls.

No database and no Textual here.
"""

from typing import TYPE_CHECKING, Any

from packbench.carriers.base import (
    Address,
    AuthError,
    BookingUndecided,
    Carrier,
    CarrierError,
    CarrierShipment,
    LabelDocument,
    LabelledParcel,
    NotFound,
    NotSupported,
    NumberSource,
    ParcelRequest,
    PayloadError,
    PickupPoint,
    Problem,
    Product,
    RateLimited,
    Rejected,
    SeriesExhausted,
    ShipmentRequest,
    TransientError,
)
from packbench.carriers.booking import RetryPolicy, book
from packbench.carriers.s10 import S10Carrier

if TYPE_CHECKING:
    from packbench.carriers.factory import carrier_for


def __getattr__(name: str) -> Any:
    # The factory brings every carrier's web client (httpx: 0.1 s): imported when asked for,
    # not by a station that only names a carrier's product (the pack station, #20).
    if name == "carrier_for":
        from packbench.carriers.factory import carrier_for

        return carrier_for
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "RetryPolicy",
    "S10Carrier",
    "SeriesExhausted",
    "ShipmentRequest",
    "TransientError",
    "book",
    "carrier_for",
]
