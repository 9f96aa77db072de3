"""Booking with a carrier's web API at the ship station (#14): never inside a transaction,
never twice for one order.

1. **Request** (one transaction): the order is checked as for any shipment, the request is
   built, and a ``shipment`` with ``booking_state = requested`` and the request is committed
   with a ``booking_requested`` event. A shipment of the order still *requested* (a process
   died between the call and recording its answer) is taken up again and looked up first.
2. **Call** the carrier through :func:`packbench.carriers.booking.book`, outside any
   transaction: a 429 waits and tries again; after a timeout, a dropped connection or a 5xx the
   booking is looked up by the order's reference before anything is sent again.
3. **Record** (one transaction): *booked* → the carrier's numbers on the parcels (its package
   number as tracking number, and as SSCC when it is one) and the order *shipped*; *refused* →
   the shipment is refused, the order stays packed, the message names the field; *undecided*
   → the shipment is *held* and the order goes on hold with the reason: a person checks with
   the carrier. Releasing the hold is that person's word that nothing was booked: the next
   scan looks the booking up once more and books only if the carrier has none.
4. **Labels** are fetched after the booking is recorded and kept in ``carrier_label``, so
   printing again never asks the carrier; a label that could not be fetched yet is fetched when
   it is printed.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from packbench.carriers import (
    BookingUndecided,
    Carrier,
    CarrierError,
    CarrierShipment,
    LabelDocument,
    ParcelRequest,
    RetryPolicy,
    SeriesExhausted,
    ShipmentRequest,
    book,
    carrier_for,
)
from packbench.carriers.base import Address
from packbench.core.workflow import Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import CarrierLabel, Order, Parcel, Shipment
from packbench.data.types import utcnow
from packbench.operations.common import (
    Actor,
    Refused,
    change_status,
    record_event,
    transact_logged,
)
from packbench.redact import cut

if TYPE_CHECKING:
    from packbench.config import ShipSettings
    from packbench.operations.printing import Document

__all__ = [
    "CarrierFactory",
    "book_order",
    "fetch_labels",
    "is_api_carrier",
    "label_documents",
    "make_carrier",
]

CarrierFactory = Callable[["ShipSettings", str], Carrier]


_CREDENTIAL_ENV = (
    "PACKBENCH_BRING_UID",
    "PACKBENCH_BRING_KEY",
    "PACKBENCH_CARGONIZER_KEY",
    "PACKBENCH_CARGONIZER_SENDER",
    "PACKBENCH_SHIPMONDO_USER",
    "PACKBENCH_SHIPMONDO_KEY",
)
_carriers: dict[tuple[str, ...], Carrier] = {}
_carriers_lock = threading.Lock()


def make_carrier(ship: ShipSettings, name: str) -> Carrier:
    """The configured carrier ``name`` (credentials from the environment or keyring).

    Adapters are kept per configuration (and credentials in the environment): building one
    makes an HTTP client, whose TLS context alone took ~0.1 s a booking, and a kept one reuses
    its connections."""
    settings = ship.carriers[name]
    sender = ship.sender.model_dump_json() if ship.sender else ""
    key = (
        name,
        settings.model_dump_json(),
        sender,
        *(os.environ.get(v, "") for v in _CREDENTIAL_ENV),
    )
    with _carriers_lock:
        cached = _carriers.get(key)
    if cached is not None:
        return cached
    try:
        carrier = carrier_for(name, settings, sender=ship.sender)
    except CarrierError as exc:
        raise Refused(f"{name}: {exc.message}.") from None
    with _carriers_lock:
        if len(_carriers) > 16:
            _carriers.clear()
        return _carriers.setdefault(key, carrier)


def is_api_carrier(ship: ShipSettings, method_id: str | None) -> bool:
    method = ship.methods.get(method_id or "")
    return method is not None and ship.carriers[method.carrier].kind != "s10"


@dataclass(frozen=True)
class _Pending:
    shipment_id: int
    order_number: str
    carrier: str
    request: ShipmentRequest
    uncertain: bool  # a request may have reached the carrier before
    released: bool  # a person released the hold: an empty lookup may be trusted


def _request_of(order: Order, parcels: list[Parcel], product: str, service: str) -> ShipmentRequest:
    company = order.ship_company.strip()
    return ShipmentRequest(
        order_number=order.number,
        service=service,
        product=product,
        recipient_name=company or order.ship_name,
        contact=order.ship_name if company else "",
        address1=order.ship_address1,
        address2=order.ship_address2,
        postcode=order.ship_postcode,
        city=order.ship_city,
        country=order.ship_country or "NO",
        email=order.customer_email,
        phone=order.customer_phone,
        # The customer's choice at the checkout; without one the carrier (or the nearest
        # point, when configured) decides.
        pickup_point_id=order.pickup_point_id or "",
        parcels=tuple(
            ParcelRequest(p.seq, p.weight_g, p.length_mm, p.width_mm, p.height_mm) for p in parcels
        ),
    )


def _request_json(request: ShipmentRequest) -> str:
    data = asdict(request)
    return json.dumps(data, ensure_ascii=False)


def _request_from_json(text: str) -> ShipmentRequest:
    data = json.loads(text)
    data["parcels"] = tuple(ParcelRequest(**p) for p in data["parcels"])
    if data.get("sender"):
        data["sender"] = Address(**data["sender"])
    return ShipmentRequest(**data)


def _begin(db: Database, actor: Actor, ship: ShipSettings, order_id: int, code: str) -> _Pending:
    from packbench.operations.shipping import shippable_parcels

    def run(session: Session) -> _Pending:
        order = session.get(Order, order_id)
        if order is None:
            raise Refused(f"There is no order {order_id}.")
        assert order.id is not None
        parcels = shippable_parcels(session, order)
        method = ship.methods[order.shipping_method_id]
        pending = session.exec(
            select(Shipment)
            .where(
                Shipment.order_id == order.id,
                col(Shipment.booking_state).in_(("requested", "held")),
            )
            .order_by(col(Shipment.id).desc())
        ).first()
        if pending is not None and pending.booking_request:
            assert pending.id is not None
            record_event(
                session, actor, "booking_resumed", order_id=order.id, code=code,
                message=f"shipment {pending.id}: {pending.booking_state} before; looking it up",
            )  # fmt: skip
            released = pending.booking_state == "held"
            pending.booking_state = "requested"
            session.add(pending)
            return _Pending(
                pending.id, order.number, pending.carrier,
                _request_from_json(pending.booking_request), True, released,
            )  # fmt: skip
        request = _request_of(order, parcels, method.product or method.service, method.service)
        voids = len(session.exec(select(Shipment.id).where(
            Shipment.order_id == order.id, Shipment.booking_state == "void")).all())  # fmt: skip
        if voids:  # a voided booking keeps "5001": this one is looked up as "5001-2"
            request = replace(request, reference=f"{order.number}-{voids + 1}")
        shipment = Shipment(
            order_id=order.id,
            carrier=method.carrier,
            service=method.service,
            status="created",
            booking_state="requested",
            product=request.product[:20],
            booking_request=_request_json(request),
            # The customer's own choice, shown at the station under its id (the carrier's
            # answer or the nearest-point search names it).
            pickup_point_id=request.pickup_point_id or None,
            pickup_point_name=(
                order.pickup_point_name[:200]
                or f"the customer's choice, point {request.pickup_point_id}"
                if request.pickup_point_id
                else None
            ),
        )
        session.add(shipment)
        session.flush()
        assert shipment.id is not None
        record_event(
            session, actor, "booking_requested", order_id=order.id, code=code,
            message=f"shipment {shipment.id}: booking with {method.carrier} "
            f"{request.product}".rstrip(),
            data={"shipment": shipment.id, "reference": request.ref},
        )  # fmt: skip
        return _Pending(shipment.id, order.number, method.carrier, request, False, False)

    return transact_logged(db, actor, run, kind="ship", code=code, order_id=order_id)


def _record_booked(
    db: Database, actor: Actor, ship: ShipSettings, order_id: int, shipment_id: int,
    booked: CarrierShipment, code: str,
) -> None:  # fmt: skip
    from packbench.operations.ship_complete import queue_tracking_if_completed
    from packbench.operations.ship_numbers import SessionNumbers, sscc_series

    def run(session: Session) -> None:
        order = session.get(Order, order_id)
        shipment = session.get(Shipment, shipment_id)
        assert order is not None and shipment is not None and order.id is not None
        if shipment.booking_state == "booked" and (
            shipment.consignment_number == booked.consignment_number[:40]
        ):
            return  # recorded already (a start-up lookup got there first): nothing twice
        parcels = [
            p for p in session.exec(
                select(Parcel).where(Parcel.order_id == order.id, Parcel.status != "void")
                .order_by(col(Parcel.seq))
            ).all()
        ]  # fmt: skip
        if shipment.status == "cancelled" and shipment.booking_state == "refused":
            # Closed as "not booked" meanwhile (a start-up lookup that found nothing yet): the
            # carrier's answer says otherwise, and the booking is real.
            shipment.status, shipment.cancelled_at, shipment.cancel_reason = "created", None, None
        shipment.booking_state = "booked"
        shipment.consignment_number = booked.consignment_number[:40] or None
        shipment.tracking_url = booked.tracking_url[:500] or None
        shipment.booking_response = booked.raw or None
        shipment.booking_error = None
        shipment.booked_at = utcnow()
        shipment.product = (booked.product or shipment.product)[:20]
        session.add(shipment)
        by_seq = {lp.seq: lp for lp in booked.parcels}
        mine = {p.id for p in parcels}
        for lp in booked.parcels:
            for code in {lp.tracking_number, lp.sscc} - {""}:
                other = session.exec(
                    select(Parcel.order_id).where(
                        (col(Parcel.tracking_number) == code) | (col(Parcel.sscc) == code),
                        col(Parcel.id).not_in(mine),
                    )
                ).first()
                if other is not None:
                    raise _NotRecorded(
                        f"{shipment.carrier} booked consignment {booked.consignment_number} but "
                        f"gave parcel {lp.seq} the number {code}, which another order's parcel "
                        "already carries"
                    )
        numbers = SessionNumbers(session)
        series, first, last, render = sscc_series(ship)
        for parcel in parcels:
            labelled = by_seq.get(parcel.seq)
            if labelled is None:
                raise Refused(f"Order {order.number}: {shipment.carrier} gave no number for "
                              f"parcel {parcel.seq}.")  # fmt: skip
            try:
                parcel.sscc = labelled.sscc or numbers.take(series, first, last, render)
            except SeriesExhausted as exc:
                raise Refused(f"Order {order.number}: {exc.message}.") from None
            parcel.tracking_number = labelled.tracking_number
            parcel.carrier = shipment.carrier
            parcel.shipment_id = shipment.id
            parcel.status = "labelled"
            parcel.label_printed_at = None
            session.add(parcel)
        for label in booked.labels:
            session.add(
                CarrierLabel(
                    shipment_id=shipment_id,
                    format=label.format,
                    url=label.url[:1000],
                    data=label.data or None,
                    page_width_mm=label.page_size_mm[0] if label.page_size_mm else None,
                    page_height_mm=label.page_size_mm[1] if label.page_size_mm else None,
                    fetched_at=utcnow() if label.data else None,
                )
            )
        session.flush()
        what = f"{shipment.carrier} {booked.consignment_number}"
        if order.status == OrderStatus.ON_HOLD.value:
            change_status(session, order, Action.RELEASE, actor, code=code,
                          message="the carrier has the booking")  # fmt: skip
        change_status(
            session, order, Action.SHIP, actor, code=code,
            message=f"booked with {what}" + (" (found by reference)" if booked.recovered else ""),
        )  # fmt: skip
        record_event(
            session, actor, "ship", order_id=order.id, code=code,
            message=f"shipment {shipment.id}: {what}, "
            + ", ".join(p.tracking_number or "" for p in parcels),
            data={
                "shipment": shipment.id,
                "consignment": booked.consignment_number,
                "recovered": booked.recovered,
                "parcels": [
                    {"seq": p.seq, "sscc": p.sscc, "tracking": p.tracking_number} for p in parcels
                ],
            },
        )  # fmt: skip
        queue_tracking_if_completed(session, order, shipment, parcels)

    transact_logged(db, actor, run, kind="ship", code=code, order_id=order_id)


def _record_failed(
    db: Database, actor: Actor, order_id: int, shipment_id: int, *, held: bool, reason: str,
    code: str, booked: CarrierShipment | None = None,
) -> None:  # fmt: skip
    def run(session: Session) -> None:
        order = session.get(Order, order_id)
        shipment = session.get(Shipment, shipment_id)
        assert order is not None and shipment is not None
        shipment.booking_error = cut(reason, 1000)
        if booked is not None:  # booked, but not recordable: keep what the carrier said
            shipment.consignment_number = booked.consignment_number[:40] or None
            shipment.booking_response = booked.raw or None
        if held:
            shipment.booking_state = "held"
            if order.status != OrderStatus.ON_HOLD.value:
                change_status(session, order, Action.HOLD, actor, code=code,
                              reason=cut(f"Booking unclear: {reason}", 500))  # fmt: skip
        else:
            shipment.booking_state = "refused"
            shipment.status = "cancelled"
            shipment.cancelled_at = utcnow()
            shipment.cancel_reason = cut(reason, 500)
        session.add(shipment)
        record_event(
            session, actor, "booking_held" if held else "booking_refused", order_id=order_id,
            code=code, result="refused", message=cut(reason, 500),
            data={"shipment": shipment_id},
        )  # fmt: skip

    db.transact(run)


def book_order(
    db: Database,
    actor: Actor,
    ship: ShipSettings,
    order_id: int,
    *,
    code: str = "",
    factory: CarrierFactory = make_carrier,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Book a packed order with its carrier's web API; returns a line on what happened to the
    labels. Raises :class:`Refused` (the carrier said no, or the booking is held)."""
    pending = _begin(db, actor, ship, order_id, code)
    settings = ship.carriers[pending.carrier]
    pending = _with_pickup_point(db, ship, pending, factory)
    policy = RetryPolicy(
        trust_empty_lookup=settings.trust_empty_lookup or pending.released,
    )
    try:
        carrier = factory(ship, pending.carrier)
    except Refused as exc:
        _record_failed(db, actor, order_id, pending.shipment_id, held=pending.uncertain,
                       reason=exc.message, code=code)  # fmt: skip
        raise
    try:
        booked = book(carrier, pending.request, _NoNumbers(), policy=policy,
                      uncertain=pending.uncertain, sleep=sleep)  # fmt: skip
    except BookingUndecided as exc:
        reason = exc.message
        _record_failed(db, actor, order_id, pending.shipment_id, held=True, reason=reason,
                       code=code)  # fmt: skip
        raise Refused(
            f"Order {pending.order_number} is on hold: {reason}", order_id=order_id
        ) from None
    except CarrierError as exc:
        # Certain that nothing was booked: a refusal, bad credentials, or every attempt failed
        # and the (trusted) lookup found nothing.
        _record_failed(db, actor, order_id, pending.shipment_id, held=False,
                       reason=exc.message, code=code)  # fmt: skip
        again = " Try again when it answers." if exc.retryable else ""
        raise Refused(
            f"Order {pending.order_number}: {pending.carrier} did not book it: {exc.message}."
            + again,
            order_id=order_id,
        ) from None
    if booked.recovered and booked.consignment_number in voided_consignments(db, order_id):
        reason = voided_found(pending.carrier, booked.consignment_number, pending.request.ref)
        _record_failed(db, actor, order_id, pending.shipment_id, held=True, reason=reason,
                       code=code)  # fmt: skip
        raise Refused(f"Order {pending.order_number} is on hold: {reason}", order_id=order_id)
    try:
        _record_booked(db, actor, ship, order_id, pending.shipment_id, booked, code)
    except Refused as exc:
        # Booked at the carrier, but its answer cannot be written onto the parcels: a person
        # must look at it; the booking is kept on the shipment, never made again.
        _record_failed(db, actor, order_id, pending.shipment_id, held=True, reason=exc.message,
                       code=code, booked=booked)  # fmt: skip
        raise Refused(f"Order {pending.order_number} is on hold: {exc.message}",
                      order_id=order_id) from None  # fmt: skip
    return fetch_labels(db, pending.shipment_id, carrier)


def voided_consignments(db: Database, order_id: int) -> set[str]:
    """The consignments of this order voided at the bench: never the order's booking again."""
    with db.read() as session:
        return {
            c
            for c in session.exec(
                select(Shipment.consignment_number).where(
                    Shipment.order_id == order_id, Shipment.booking_state == "void"
                )
            ).all()
            if c
        }


def voided_found(carrier: str, consignment: str, ref: str) -> str:
    return (
        f"looking the booking up by reference {ref!r}, {carrier} answered consignment "
        f"{consignment}, which was voided at the bench; a person must check which booking "
        "the carrier holds for this order"
    )


class _NotRecorded(Refused):
    """The carrier's answer cannot be written onto the parcels."""


def _with_pickup_point(
    db: Database, ship: ShipSettings, pending: _Pending, factory: CarrierFactory
) -> _Pending:
    """For a pickup-point product without a point, when configured: the nearest one for the
    recipient's postcode, asked outside any transaction and kept on the shipment (so a
    resumed booking sends the same). A lookup that fails leaves the choice to the carrier."""
    settings = ship.carriers[pending.carrier]
    request = pending.request
    # "choose" is the ship station's: the packer chose before booking (pickup_points); a
    # booking without a person to ask (packbench ship, pack-and-ship) takes the nearest.
    mode = getattr(settings, "pickup_point", "carrier")
    if request.pickup_point_id or mode not in ("nearest", "choose"):
        return pending
    try:
        carrier = factory(ship, pending.carrier)
        product = next((p for p in carrier.products() if p.id == request.product.upper()), None)
        if product is None or not product.pickup_point:
            return pending
        points = carrier.pickup_points(request.postcode, request.country, street=request.address1,
                                       limit=1)  # fmt: skip
    except (CarrierError, Refused):
        return pending
    if not points:
        return pending
    point = points[0]
    request = replace(request, pickup_point_id=point.id)

    def keep(session: Session) -> None:
        shipment = session.get(Shipment, pending.shipment_id)
        assert shipment is not None
        shipment.pickup_point_id = point.id[:40]
        shipment.pickup_point_name = point.describe()[:200]
        shipment.booking_request = _request_json(request)
        session.add(shipment)

    db.transact(keep)
    return replace(pending, request=request)


class _NoNumbers:
    """Carriers' APIs issue their own numbers; the SSCCs we may need are taken when recording."""

    def take(self, series: str, first: int, last: int, render: Callable[[int], str]) -> str:
        raise SeriesExhausted("a carrier's web API issues its own numbers")


def fetch_labels(db: Database, shipment_id: int, carrier: Carrier) -> str:
    """Fetch every label of the shipment not fetched yet and keep it; a line saying how it went
    (a label that cannot be fetched now is fetched again when printed)."""
    with db.read() as session:
        todo = [
            (lab.id, lab.url, lab.format)
            for lab in session.exec(
                select(CarrierLabel).where(
                    CarrierLabel.shipment_id == shipment_id, col(CarrierLabel.data).is_(None)
                )
            ).all()
        ]
        has_any = session.exec(
            select(CarrierLabel.id).where(CarrierLabel.shipment_id == shipment_id)
        ).first()
    if has_any is None:
        return "The carrier gave no label link: print the label from the carrier's own site."
    problems = []
    for label_id, url, fmt in todo:
        try:
            got = carrier.fetch_label(LabelDocument(format=fmt, url=url))  # type: ignore[arg-type]  # fmt comes from a stored label, one of the formats
        except CarrierError as exc:
            problems.append(exc.message)
            continue

        def store(
            session: Session, label_id: int | None = label_id, got: LabelDocument = got
        ) -> None:
            row = session.get(CarrierLabel, label_id)
            assert row is not None
            row.data = got.data
            row.format = got.format
            if got.page_size_mm:
                row.page_width_mm, row.page_height_mm = got.page_size_mm
            row.fetched_at = utcnow()
            session.add(row)

        db.transact(store)
    if problems:
        return f"The label could not be fetched yet ({problems[0]}); printing tries again."
    return ""


def label_documents(
    db: Database, shipment_id: int, carrier: Carrier | None = None
) -> list[Document]:
    """The shipment's carrier labels as print documents (fetching any still missing when a
    carrier is given). A PDF prints at its own page size, ZPL raw."""
    from packbench.operations.printing import Document

    if carrier is not None:
        fetch_labels(db, shipment_id, carrier)
    with db.read() as session:
        shipment = session.get(Shipment, shipment_id)
        if shipment is None:
            raise Refused(f"There is no shipment {shipment_id}.")
        order = session.get(Order, shipment.order_id)
        assert order is not None
        labels = list(
            session.exec(
                select(CarrierLabel)
                .where(CarrierLabel.shipment_id == shipment_id)
                .order_by(col(CarrierLabel.id))
            ).all()
        )
        parcels = list(
            session.exec(
                select(Parcel.id, Parcel.tracking_number).where(
                    Parcel.shipment_id == shipment_id, Parcel.status != "void"
                )
            ).all()
        )
    if shipment.booking_state in ("void", "voiding") or shipment.status == "cancelled":
        raise Refused(
            f"Order {order.number}: consignment {shipment.consignment_number} was voided "
            f"({shipment.cancel_reason or 'being voided'}); its labels are never printed again."
        )
    if not labels:
        raise Refused(
            f"Order {order.number}: {shipment.carrier} gave no label for consignment "
            f"{shipment.consignment_number or '?'}; print it from the carrier's own site."
        )
    missing = [lab for lab in labels if not lab.data]
    if missing:
        raise Refused(
            f"Order {order.number}: the label of consignment {shipment.consignment_number} "
            "has not been fetched from the carrier yet; try again when it answers."
        )
    docs = []
    for lab in labels:
        options: tuple[tuple[str, str], ...] = ()
        raw = lab.format == "zpl"
        if not raw and lab.page_width_mm and lab.page_height_mm:
            size = f"{lab.page_width_mm:g}x{lab.page_height_mm:g}"
            options = (("PageSize", f"Custom.{size}mm"), ("fit-to-page", "false"))
        docs.append(
            Document(
                kind="label",
                data=lab.data or b"",
                title=f"{shipment.carrier} {shipment.consignment_number}",
                order_numbers=(order.number,),
                parcel_ids=tuple(pid for pid, _ in parcels if pid is not None),
                raw=raw,
                options=options,
                ref=f"{shipment.carrier} {shipment.consignment_number}: "
                + ", ".join(t or "" for _, t in parcels),
                spec={"kind": "carrier_label", "shipment": shipment_id},
            )
        )
    return docs
