"""The carrier interface: create a shipment → numbers and label data; cancel it.

An adapter for a carrier's web API books the shipment with the carrier and returns the numbers
the carrier gave; the built-in S10 carrier takes them from the shop's own range. Either way the
operations layer writes the answer onto the parcels in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


class CarrierError(Exception):
    """The carrier could not do it; ``retryable`` when trying again later may work."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class SeriesExhausted(CarrierError):
    """Every number of a configured range has been issued; a new range must be configured."""


class NumberSource(Protocol):
    """Serial numbers that are never given out twice (the operations layer's number series)."""

    def take(self, series: str, first: int, last: int, render: Callable[[int], str]) -> str:
        """The next unused serial of ``series`` within ``first``..``last``, as ``render`` makes
        it; raises :class:`SeriesExhausted` when the range is used up."""
        ...


@dataclass(frozen=True)
class ParcelRequest:
    seq: int
    weight_g: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0


@dataclass(frozen=True)
class ShipmentRequest:
    """What a carrier needs to know to take the parcels of one order."""

    order_number: str
    service: str
    recipient_name: str
    postcode: str
    city: str
    country: str
    parcels: tuple[ParcelRequest, ...]


@dataclass(frozen=True)
class LabelledParcel:
    seq: int
    tracking_number: str
    #: Anything else the carrier wants on the label (routing codes); empty for the built-in one.
    label_fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CarrierShipment:
    carrier: str
    service: str
    parcels: tuple[LabelledParcel, ...]
    reference: str = ""  # the carrier's own id for the shipment, when it has one


class Carrier(Protocol):
    name: str

    def create_shipment(self, request: ShipmentRequest, numbers: NumberSource) -> CarrierShipment:
        """Book the parcels; one tracking number per parcel, in the order asked."""
        ...

    def cancel_shipment(self, shipment: CarrierShipment) -> None:
        """Tell the carrier the shipment will not come. Numbers are never given back."""
        ...

    def tracking_url(self, tracking_number: str) -> str: ...
