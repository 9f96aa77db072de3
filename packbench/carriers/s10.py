"""The built-in carrier: UPU S10 tracking numbers from the range the shop's agreement gives.

An S10 item id is two letters (the service indicator), eight serial digits, a check digit and the
issuing country, e.g. ``RR473124829NO``. The serials come from the number series
``s10:<prefix><country>``, so two carriers configured with the same letters and country still
never share a number.
"""

from __future__ import annotations

from dataclasses import dataclass

from packbench.carriers.base import (
    CarrierError,
    CarrierShipment,
    LabelDocument,
    LabelledParcel,
    NumberSource,
    PickupPoint,
    Product,
    ShipmentRequest,
)
from packbench.core.codes import make_s10

TRACKING_URLS = {
    "Posten": "https://sporing.posten.no/sporing/{tracking}",
    "Bring": "https://sporing.bring.no/sporing/{tracking}",
    "PostNord": "https://tracking.postnord.com/no/?id={tracking}",
}
DEFAULT_TRACKING_URL = "https://sporing.posten.no/sporing/{tracking}"


@dataclass(frozen=True)
class S10Carrier:
    name: str
    prefix: str = "RR"
    country: str = "NO"
    first: int = 0
    last: int = 99_999_999

    def __post_init__(self) -> None:
        make_s10(self.prefix, 0, self.country)  # letters checked once, here
        if not 0 <= self.first <= self.last <= 99_999_999:
            raise ValueError(f"S10 range {self.first}..{self.last} is not within 0..99999999")

    @property
    def series(self) -> str:
        return f"s10:{self.prefix}{self.country}"

    def create_shipment(self, request: ShipmentRequest, numbers: NumberSource) -> CarrierShipment:
        if not request.parcels:
            raise CarrierError(f"order {request.order_number} has no parcels to ship")
        parcels = tuple(
            LabelledParcel(
                seq=p.seq,
                tracking_number=numbers.take(
                    self.series,
                    self.first,
                    self.last,
                    lambda serial: make_s10(self.prefix, serial, self.country),
                ),
            )
            for p in request.parcels
        )
        return CarrierShipment(carrier=self.name, service=request.service, parcels=parcels)

    def cancel_shipment(self, shipment: CarrierShipment) -> None:
        """Nothing to tell anyone: the labels are the shop's own. The numbers stay used."""

    def tracking_url(self, tracking_number: str) -> str:
        return TRACKING_URLS.get(self.name, DEFAULT_TRACKING_URL).format(tracking=tracking_number)

    def find_booking(self, request: ShipmentRequest) -> CarrierShipment | None:
        """Nobody else holds the booking: the numbers are taken inside the transaction that
        writes them, so there is never an answer to lose."""
        return None

    def fetch_label(self, label: LabelDocument) -> LabelDocument:
        return label  # the bench renders its own labels

    def pickup_points(
        self, postcode: str, country: str = "NO", *, street: str = "", limit: int = 10
    ) -> tuple[PickupPoint, ...]:
        return ()

    def products(self) -> tuple[Product, ...]:
        return ()


def s10_from_settings(name: str, settings: object) -> S10Carrier:
    return S10Carrier(
        name=name,
        prefix=settings.s10_prefix,  # type: ignore[attr-defined]  # extra keys of the carrier's settings table
        country=settings.s10_country,  # type: ignore[attr-defined]  # extra keys of the carrier's settings table
        first=settings.s10_first,  # type: ignore[attr-defined]  # extra keys of the carrier's settings table
        last=settings.s10_last,  # type: ignore[attr-defined]  # extra keys of the carrier's settings table
    )
