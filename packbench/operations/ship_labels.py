"""A shipment's labels: printed through the station's label printer (the bench's own, or the
carrier's document kept since a web API booking), one job, only a job CUPS completed marking
them printed; or handed over as documents to save instead of printing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packbench.data.engine import Database
from packbench.data.models import Order, Parcel, Shipment
from packbench.operations.common import Actor, Refused
from packbench.operations.printing import Document, Printer, PrintResult, label_job, print_job
from packbench.operations.ship_views import _live_parcels

if TYPE_CHECKING:
    from packbench.config import Settings


def _printer_settings(settings: Settings, station: str) -> tuple[str, str, str]:
    choice = settings.printers.for_station(station)
    return choice.label, choice.label_format or "pdf", choice.label_size or "102x152"


def print_labels(
    db: Database,
    actor: Actor,
    settings: Settings,
    printer: Printer,
    order_id: int,
    *,
    queue: str | None = None,
    again: bool = False,
) -> PrintResult:
    """Print the labels still unprinted (``again``: all of them), one job, on the station's label
    printer or ``queue``. CUPS completing the job is what marks them printed."""
    number, parcels = _labelled_parcels(db, order_id)
    if not parcels:
        raise Refused(f"Order {number} has no shipment to print labels for; scan its slip.")
    shipment_id = parcels[0].shipment_id
    if shipment_id is not None and _booked_with_api(db, shipment_id):
        return _print_carrier_labels(db, actor, settings, printer, shipment_id, queue, again)
    todo = parcels if again else [p for p in parcels if p.label_printed_at is None]
    if not todo:
        raise Refused(
            f"Every label of order {number} has printed; F8 prints them again if one is lost."
        )
    station_queue, fmt, size = _printer_settings(settings, actor.station)
    doc = label_job(db, [p.tracking_number or "" for p in todo], settings, fmt=fmt, size=size)
    return print_job(
        db, actor, printer, doc, queue=queue or station_queue, timeout_s=settings.printers.timeout_s
    )


def label_documents_for(db: Database, settings: Settings, order_id: int) -> list[Document]:
    """Every label of the order's shipment as documents (the carrier's own, kept since the
    booking, or the bench's), to save instead of printing. Marks nothing printed."""
    number, parcels = _labelled_parcels(db, order_id)
    if not parcels:
        raise Refused(f"Order {number} has no shipment to print labels for.")
    shipment_id = parcels[0].shipment_id
    if shipment_id is not None and _booked_with_api(db, shipment_id):
        with db.read() as session:
            shipment = session.get(Shipment, shipment_id)
            name = shipment.carrier if shipment else ""
        return _carrier_documents(db, settings, shipment_id, name)
    _, fmt, size = _printer_settings(settings, "ship")
    return [label_job(db, [p.tracking_number or "" for p in parcels], settings, fmt=fmt, size=size)]


def _labelled_parcels(db: Database, order_id: int) -> tuple[str, list[Parcel]]:
    """The order's number and its live parcels that carry a tracking number (none: no shipment
    to label yet). Refused when there is no such order."""
    with db.read() as session:
        order = session.get(Order, order_id)
        if order is None:
            raise Refused(f"There is no order {order_id}.")
        return order.number, [p for p in _live_parcels(session, order_id) if p.tracking_number]


def _carrier_documents(
    db: Database, settings: Settings, shipment_id: int, carrier_name: str
) -> list[Document]:
    """The carrier's own labels of a shipment booked with its web API, kept since the booking
    (its adapter made only if the carrier is still configured)."""
    from packbench.operations.carrier_booking import label_documents, make_carrier

    ship = settings.ship
    carrier = make_carrier(ship, carrier_name) if carrier_name in ship.carriers else None
    return label_documents(db, shipment_id, carrier)


def _booked_with_api(db: Database, shipment_id: int) -> bool:
    with db.read() as session:
        shipment = session.get(Shipment, shipment_id)
        return shipment is not None and shipment.booking_state == "booked"


def _print_carrier_labels(
    db: Database,
    actor: Actor,
    settings: Settings,
    printer: Printer,
    shipment_id: int,
    queue: str | None,
    again: bool,
) -> PrintResult:
    """The carrier's own label (one document for the consignment), kept since the booking."""
    with db.read() as session:
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None
        name = shipment.carrier
        printed = all(p.label_printed_at for p in _live_parcels(session, shipment.order_id))
    if printed and not again:
        raise Refused("Every label has printed; F8 prints them again if one is lost.")
    docs = _carrier_documents(db, settings, shipment_id, name)
    station_queue, _, _ = _printer_settings(settings, actor.station)
    result: PrintResult | None = None
    for doc in docs:
        result = print_job(
            db, actor, printer, doc, queue=queue or station_queue,
            timeout_s=settings.printers.timeout_s,
        )  # fmt: skip
        if not result.ok:
            break
    assert result is not None
    return result


def _printed_message(result: PrintResult) -> str:
    if result.ok:
        return result.message
    return f"{result.message} — F8 prints again, Ctrl+L sends the labels to another printer."
