"""The ship station: shipments, numbers, labels, completing the transaction, cancelling.

- **Ship**: a packed order's slip creates its shipment with the carrier and service its shipping
  method maps to (``[ship.methods]``); every packed parcel gets an SSCC (the shop's GS1 prefix, a
  serial from the number series) and the carrier's tracking number, and becomes *labelled*
  (numbers and label data issued); the order becomes *shipped*. Serials are taken in the same
  transaction that writes them onto the parcels, so a crash either issues a number or leaves it
  unused, and no number is ever issued twice (the series only moves forward, and a number some
  parcel already carries — imported or demo data — is skipped).
- **Labels** print through CUPS on the station's label printer (``operations.printing``); only a
  job CUPS completed sets ``label_printed_at``. A failed print says why and can be sent again,
  to the same queue or another.
- **Complete the transaction**: allowed when the order is shipped, nobody upstream changed it
  and every parcel's label printed. One transaction records the completion and queues, in this
  order, the tracking numbers as order meta, a note for the customer and the completion itself.
  The idempotency keys are per order and shipment, so a second press, a crash or a retry never
  queues it twice; the sync engine reads the order back before completing it in the shop.
- **Cancel** before handover, with a reason: the parcels' rows become *void* and keep their
  numbers (so they are never issued again), fresh *packed* parcels take their place with the
  same box, size, weight and contents, and the order goes back to *packed*.

This module makes the shipment (``create_shipment``, ``ship_order``) and is the station's way
in (``ship_scan``, ``ship_packed``). Its rooms: ``ship_numbers`` (the number series),
``ship_labels`` (printing and saving labels), ``ship_complete`` (completing the transaction),
``ship_cancel`` (cancelling before handover) and ``ship_views`` (the views, outcomes and reads
the screens receive, the ready queues).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlmodel import Session, col, or_, select

from packbench.carriers import (
    Carrier,
    CarrierError,
    LabelledParcel,
    ParcelRequest,
    SeriesExhausted,
    ShipmentRequest,
    carrier_for,
)
from packbench.core.codes import CodeKind, CodeRules, Command, classify
from packbench.core.workflow import Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Order, Parcel, Shipment
from packbench.operations import messages as msg
from packbench.operations.common import (
    Actor,
    Refused,
    change_status,
    log_refusal,
    record_event,
    transact_logged,
)
from packbench.operations.pickup_points import ask_for_pickup_point
from packbench.operations.printing import Printer
from packbench.operations.ship_complete import complete_transaction, queue_tracking_if_completed
from packbench.operations.ship_labels import _printed_message, print_labels
from packbench.operations.ship_numbers import SessionNumbers, sscc_series
from packbench.operations.ship_views import (
    ShipOutcome,
    ShipView,
    _live_parcels,
    _method_of,
    _view_in,
    next_to_ship,
    ship_view,
)
from packbench.operations.shipment_void import void_label_message

if TYPE_CHECKING:
    from packbench.config import Settings, ShipSettings


# --------------------------------------------------------------------------- ship


def _carrier(ship: ShipSettings, order: Order) -> tuple[Carrier, str]:
    method = ship.methods.get(order.shipping_method_id)
    if method is None:
        shown = order.shipping_method_id or "none"
        title = f" ({order.shipping_method_title})" if order.shipping_method_title else ""
        raise Refused(
            f"Order {order.number}: its shipping method “{shown}”{title} has no carrier; "
            "add it under [ship.methods] in the configuration.",
            order_id=order.id,
        )
    return carrier_for(method.carrier, ship.carriers[method.carrier]), method.service


def shippable_parcels(session: Session, order: Order) -> list[Parcel]:
    """The order's packed parcels, or Refused saying why it cannot ship now."""
    assert order.id is not None
    if order.upstream_flag:
        raise Refused(
            f"Order {order.number} was changed or cancelled in the shop ({order.upstream_flag}); "
            "a supervisor must decide before it ships.",
            order_id=order.id,
        )
    if order.status != OrderStatus.PACKED.value:
        label = OrderStatus(order.status).label.lower()
        raise Refused(
            f"Order {order.number} is {label}; the shipping station ships packed orders.",
            order_id=order.id,
        )
    parcels = _live_parcels(session, order.id)
    if not parcels or any(p.status != "packed" for p in parcels):
        open_ = [str(p.seq) for p in parcels if p.status != "packed"]
        why = f"parcel {', '.join(open_)} is not packed" if open_ else "it has no packed parcels"
        raise Refused(
            f"Order {order.number} cannot ship: {why}. Finish it at the packing station.",
            order_id=order.id,
        )
    return parcels


def _ship_in(session: Session, actor: Actor, ship: ShipSettings, order: Order, code: str) -> None:
    assert order.id is not None
    parcels = shippable_parcels(session, order)
    carrier, service = _carrier(ship, order)
    request = ShipmentRequest(
        order_number=order.number,
        service=service,
        recipient_name=order.ship_name,
        postcode=order.ship_postcode,
        city=order.ship_city,
        country=order.ship_country,
        parcels=tuple(
            ParcelRequest(p.seq, p.weight_g, p.length_mm, p.width_mm, p.height_mm) for p in parcels
        ),
    )
    numbers = SessionNumbers(session)
    try:
        booked = carrier.create_shipment(request, numbers)
    except CarrierError as exc:
        raise Refused(f"Order {order.number}: {carrier.name} refused: {exc.message}.") from None
    if len(booked.parcels) != len(parcels):
        raise Refused(
            f"Order {order.number}: {carrier.name} answered {len(booked.parcels)} numbers "
            f"for {len(parcels)} parcels."
        )
    series, first, last, render = sscc_series(ship)
    shipment = Shipment(order_id=order.id, carrier=booked.carrier, service=booked.service)
    session.add(shipment)
    session.flush()
    by_seq: dict[int, LabelledParcel] = {lp.seq: lp for lp in booked.parcels}
    for parcel in parcels:
        labelled = by_seq[parcel.seq]
        try:
            parcel.sscc = numbers.take(series, first, last, render)
        except SeriesExhausted as exc:
            raise Refused(f"Order {order.number}: {exc.message}.") from None
        parcel.tracking_number = labelled.tracking_number
        parcel.carrier = booked.carrier
        parcel.shipment_id = shipment.id
        parcel.status = "labelled"
        parcel.label_printed_at = None
        session.add(parcel)
    session.flush()
    change_status(
        session,
        order,
        Action.SHIP,
        actor,
        code=code,
        message=f"shipped with {booked.carrier} {booked.service}".strip(),
    )
    record_event(
        session,
        actor,
        "ship",
        order_id=order.id,
        code=code,
        message=(
            f"shipment {shipment.id}: {booked.carrier} {booked.service}, "
            + ", ".join(p.tracking_number or "" for p in parcels)
        ),
        data={
            "shipment": shipment.id,
            "parcels": [
                {"seq": p.seq, "sscc": p.sscc, "tracking": p.tracking_number} for p in parcels
            ],
        },
    )
    queue_tracking_if_completed(session, order, shipment, parcels)


def create_shipment(
    db: Database, actor: Actor, ship: ShipSettings, order_id: int, *, code: str = ""
) -> ShipView:
    """Create the shipment of a packed order: numbers for every parcel, the order shipped.
    A carrier's web API is booked outside any transaction (``operations.carrier_booking``)."""
    from packbench.operations.carrier_booking import book_order, is_api_carrier

    if is_api_carrier(ship, _method_of(db, order_id)):
        book_order(db, actor, ship, order_id, code=code)
        view = ship_view(db, order_id)
        assert view is not None
        return view

    def run(session: Session) -> ShipView:
        order = session.get(Order, order_id)
        if order is None:
            raise Refused(f"There is no order {order_id}.")
        _ship_in(session, actor, ship, order, code)
        return _view_in(session, order)

    return transact_logged(db, actor, run, kind="ship", code=code, order_id=order_id)


def ship_order(
    db: Database,
    actor: Actor,
    settings: Settings,
    printer: Printer,
    order_id: int,
    *,
    code: str = "",
) -> ShipOutcome:
    """Create the shipment and print its labels; a failed print leaves the shipment made."""
    view = create_shipment(db, actor, settings.ship, order_id, code=code)
    head = (
        f"Order {view.number} shipped with {view.carrier} {view.service or ''}".rstrip()
        + f": {len(view.parcels)} parcel{'s' if len(view.parcels) != 1 else ''}, "
        + ", ".join(p.tracking_number or "" for p in view.parcels)
        + "."
    )
    try:
        result = print_labels(db, actor, settings, printer, order_id)
    except Refused as exc:  # the labels could not even be made; the shipment stands
        return ShipOutcome(
            ok=False,
            kind="error",
            message=f"{head} No label printed: {exc.message}",
            code=code,
            order_id=order_id,
            view=ship_view(db, order_id),
        )
    after = ship_view(db, order_id)
    return ShipOutcome(
        ok=result.ok,
        kind="ok" if result.ok else "error",
        message=f"{head} {_printed_message(result)}",
        code=code,
        order_id=order_id,
        view=after,
        printed=result,
    )


# --------------------------------------------------------------------------- scans


def _refuse(
    db: Database, actor: Actor, code: str, message: str, order_id: int | None
) -> ShipOutcome:
    log_refusal(db, actor, "scan", code=code, message=message, order_id=order_id)
    return ShipOutcome(ok=False, kind="error", message=message, code=code, order_id=order_id)


def _order_for_scan(db: Database, kind: CodeKind, value: str) -> tuple[int, str, str] | None:
    with db.read() as session:
        if kind is CodeKind.ORDER:
            row = session.exec(
                select(Order.id, Order.number, Order.status).where(Order.number == value)
            ).first()
        else:
            row = session.exec(
                select(Order.id, Order.number, Order.status)
                .join(Parcel, col(Parcel.order_id) == col(Order.id))
                .where(or_(col(Parcel.sscc) == value, col(Parcel.tracking_number) == value))
            ).first()
        return (row[0] or 0, row[1], row[2]) if row else None


def ship_packed(
    db: Database, actor: Actor, settings: Settings, printer: Printer, order_id: int, raw: str
) -> ShipOutcome:
    """Ship a packed order (the ship station's slip scan, and the pack station's last scan with
    ``[pack] ship_when_packed``); with ``[ship] complete_on_label`` also complete its transaction
    once every label has printed — one scan of the slip, no key. A label that did not print, or
    an order the shop changed, leaves the completion to F7 as before."""
    shipped = ship_order(db, actor, settings, printer, order_id, code=raw)
    view = shipped.view
    if (
        not getattr(settings.ship, "complete_on_label", False)
        or not shipped.ok
        or view is None
        or view.unprinted
        or view.flag
        or view.completed_at is not None
    ):
        return shipped
    try:
        done = complete_transaction(db, actor, order_id, code=raw, ship=settings.ship)
    except Refused as exc:
        return replace(shipped, message=f"{shipped.message} Not completed: {exc.message}")
    return replace(done, message=f"{shipped.message} {done.message}", printed=shipped.printed)


def ship_scan(
    db: Database,
    actor: Actor,
    raw: str,
    rules: CodeRules,
    settings: Settings,
    printer: Printer,
    *,
    order_id: int | None,
    done_number: str | None = None,
) -> ShipOutcome | None:
    """The ship station's own scans; ``None`` hands the scan to the common ``handle_scan``.

    A packed order's slip (or a parcel label of it) ships it and prints the labels; a shipped
    order's slip opens it; ``CMD-COMPLETE`` completes the open order's transaction;
    ``CMD-CANCEL`` asks for a reason to cancel the open order's shipment. ``done_number`` is
    the order still on the screen whose transaction is complete: it takes no more commands.
    """
    if not actor.signed_in:
        return None
    scan = classify(raw, rules)
    if scan.kind is CodeKind.COMMAND:
        no_order = "Scan a packing slip first: no order is open."
        if order_id is None and done_number is not None:
            no_order = (
                f"Order {done_number} is done. Scan the next packed order's slip first: "
                "no order is open."
            )
        if scan.command is Command.COMPLETE:
            if order_id is None:
                return _refuse(db, actor, raw, no_order, None)
            try:
                return complete_transaction(db, actor, order_id, code=raw, ship=settings.ship)
            except Refused as exc:
                return ShipOutcome(False, exc.message, raw, order_id, kind="error")
        if scan.command is Command.CANCEL:
            if order_id is None:
                return _refuse(db, actor, raw, no_order, None)
            return ShipOutcome(
                True, "Why is the shipment cancelled?", raw, order_id, ask_cancel=True, kind="info"
            )
        if scan.command is Command.NEXT:  # the next from the "ready to ship" queue
            nxt = next_to_ship(db, settings.ship)
            if nxt is None:
                return _refuse(db, actor, raw, "Nothing packed is waiting to ship.", None)
            try:
                return ask_for_pickup_point(db, settings.ship, nxt, raw) or ship_packed(
                    db, actor, settings, printer, nxt, raw
                )
            except Refused as exc:
                return ShipOutcome(False, exc.message, raw, nxt, kind="error")
        return None
    if scan.kind not in (CodeKind.ORDER, CodeKind.SSCC, CodeKind.TRACKING):
        return None
    if scan.kind is not CodeKind.ORDER and (void := void_label_message(db, scan.value)):
        return _refuse(db, actor, raw, void, None)
    found = _order_for_scan(db, scan.kind, scan.value)
    if found is None:
        text = (
            msg.unknown_order(scan.value)
            if scan.kind is CodeKind.ORDER
            else msg.unknown_parcel(scan.value)
        )
        return _refuse(db, actor, raw, text, None)
    oid, number, status = found
    if status == OrderStatus.PACKED.value and settings.ship.is_pickup(_method_of(db, oid)):
        view = ship_view(db, oid)
        assert view is not None
        db.transact(
            lambda s: record_event(
                s, actor, "scan", order_id=oid, code=raw, message=f"order {number} opened (pickup)"
            )
        )
        return ShipOutcome(
            True,
            f"Order {number} is collected in the shop: no carrier, no label. Put it on the pickup "
            "shelf; when the customer collects it, F7 (CMD-COMPLETE) hands it over and completes "
            "the transaction.",
            raw,
            oid,
            view,
            kind="info",
        )
    if status == OrderStatus.PACKED.value:
        try:
            return ask_for_pickup_point(db, settings.ship, oid, raw) or ship_packed(
                db, actor, settings, printer, oid, raw
            )
        except Refused as exc:
            return ShipOutcome(False, exc.message, raw, oid, kind="error")
    if status in (OrderStatus.SHIPPED.value, OrderStatus.HANDED_OVER.value):
        view = ship_view(db, oid)
        assert view is not None
        db.transact(
            lambda s: record_event(
                s, actor, "scan", order_id=oid, code=raw, message=f"order {number} opened"
            )
        )
        if view.unprinted:
            then = "its labels have not all printed: F8 prints them."
        elif view.completed_at is None:
            then = "complete the transaction (F7 or CMD-COMPLETE)."
        else:
            then = view.shop_answer()
        label = OrderStatus(status).label.lower()
        return ShipOutcome(True, f"Order {number} is {label}; {then}", raw, oid, view, kind="info")
    label = OrderStatus(status).label.lower()
    return _refuse(
        db,
        actor,
        raw,
        f"Order {number} is {label}; the shipping station takes packed orders.",
        oid,
    )
