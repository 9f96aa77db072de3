"""Carriers: who takes the parcels, and where their tracking numbers come from.

A carrier sits behind :class:`~packbench.carriers.base.Carrier`: create a shipment (numbers and
label data for every parcel) and cancel one. The built-in
:class:`~packbench.carriers.s10.S10Carrier` is for shops that print their own labels under an
agreement with their carrier: it issues UPU S10
tracking numbers from the range the agreement gives. Adapters for carriers' web APIs fit the
same interface later. No database and no Textual here: numbers are taken through a
:class:`~packbench.carriers.base.NumberSource` the operations layer provides, inside the
transaction that writes them onto the parcels.
"""

from packbench.carriers.base import (
    Carrier,
    CarrierError,
    CarrierShipment,
    LabelledParcel,
    NumberSource,
    ParcelRequest,
    SeriesExhausted,
    ShipmentRequest,
)
from packbench.carriers.s10 import S10Carrier, carrier_for

__all__ = [
    "Carrier",
    "CarrierError",
    "CarrierShipment",
    "LabelledParcel",
    "NumberSource",
    "ParcelRequest",
    "S10Carrier",
    "SeriesExhausted",
    "ShipmentRequest",
    "carrier_for",
]
