"""Bookings a crash left behind, settled when the bench starts (#14).

A process killed between "booking requested" (committed) and its answer (recorded) leaves the
shipment ``requested``: the carrier may or may not hold the booking. Before this, only the next
scan of that order's slip took it up again. Now the app (in a worker, after its first frame),
``packbench ship`` and ``packbench sync`` look every such booking up by its reference at the
carrier — the same lookup a retry makes — and record the answer:

- **found** → the booking is recorded as if its answer had arrived (numbers on the parcels, the
  order *shipped*, the labels fetched and kept; printing them is the packer's F8 or next scan);
- **certainly not booked** (the carrier's lookup is trusted to list a booking at once:
  ``trust_empty_lookup``) → the request is closed as not booked and the order stays *packed*:
  its next scan books it, once;
- **cannot tell** (the lookup fails, finds several, or finds none from a carrier whose search
  may lag) → the shipment is *held* and the order goes on hold with the reason, for a person.

Nothing is ever sent to book here: the only calls are lookups. A void a crash left half done
(``voiding``, see ``shipment_void``) is finished here too, with the reason it was asked with.

Which ``requested`` shipments are crash-left: this terminal's own when the app starts (one app
per terminal, so nobody is still waiting for that answer), and any terminal's once nothing has
happened to the booking for ``STALE_AFTER_S`` (longer than a booking with every retry and
lookup can take). Taking one up is a compare-and-set on the shipment row, written with a
``booking_resumed`` event, so two benches starting at once never both look it up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from packbench.carriers import BookingUndecided
from packbench.carriers.booking import look_up
from packbench.data.engine import Database
from packbench.data.models import Event, Order, Shipment
from packbench.data.types import utcnow
from packbench.operations.carrier_booking import (
    CarrierFactory,
    _record_booked,
    _record_failed,
    _request_from_json,
    fetch_labels,
    make_carrier,
    voided_consignments,
    voided_found,
)
from packbench.operations.common import Actor, Refused, record_event

if TYPE_CHECKING:
    from packbench.carriers import CarrierShipment
    from packbench.config import ShipSettings

__all__ = ["STALE_AFTER_S", "RecoveryReport", "crash_left_bookings", "resolve_crash_left"]

#: A booking nothing has happened to for this long is no longer being made by anyone: four
#: attempts and the lookups at a 30 s timeout with back-off take a few minutes at most.
STALE_AFTER_S = 600.0

_BOOKING_EVENTS = ("booking_requested", "booking_resumed")


@dataclass
class RecoveryReport:
    """What the start-up lookups found: one line per booking, in the order they were settled."""

    booked: list[str] = field(default_factory=list)  # order numbers recorded as booked
    not_booked: list[str] = field(default_factory=list)  # closed; the order is packed again
    held: list[str] = field(default_factory=list)  # on hold for a person
    voided: list[str] = field(default_factory=list)  # voids a crash left half done, finished
    lines: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """One line for the feedback line or the terminal ('' when there was nothing)."""
        if not self.lines:
            return ""
        head = (
            f"Bookings left by a crash: {len(self.booked)} found at the carrier, "
            f"{len(self.not_booked)} not booked, {len(self.held)} on hold"
            + (f", {len(self.voided)} voids finished." if self.voided else ".")
        )
        return " ".join([head, *self.lines])


def crash_left_bookings(
    db: Database, terminal: str | None = None, *, stale_after_s: float = STALE_AFTER_S
) -> list[int]:
    """Shipments still ``requested`` that nobody is booking any more: ``terminal``'s own (the
    app starting on it), and every one untouched for ``stale_after_s``. Oldest first."""
    with db.read() as session:
        return [s.id for s in session.exec(_requested()).all() if s.id is not None and
                _abandoned(session, s, terminal, stale_after_s)]  # fmt: skip


def _requested() -> SelectOfScalar[Shipment]:
    return (
        select(Shipment)
        .where(Shipment.booking_state == "requested", col(Shipment.booking_request).is_not(None))
        .order_by(col(Shipment.id))
    )


def _last_event(
    session: Session, shipment: Shipment, kinds: tuple[str, ...] = _BOOKING_EVENTS
) -> Event | None:
    return session.exec(
        select(Event)
        .where(Event.order_id == shipment.order_id, col(Event.kind).in_(kinds))
        .order_by(col(Event.at).desc(), col(Event.id).desc())
    ).first()


def _abandoned(
    session: Session,
    shipment: Shipment,
    terminal: str | None,
    stale_after_s: float,
    *,
    kinds: tuple[str, ...] = _BOOKING_EVENTS,
) -> bool:
    last = _last_event(session, shipment, kinds)
    if last is None:  # no trail at all: nobody is at it
        return True
    if terminal is not None and last.terminal == terminal:
        return True
    return last.at <= utcnow() - timedelta(seconds=stale_after_s)


def _take_up(
    db: Database, actor: Actor, shipment_id: int, terminal: str | None, stale_after_s: float
) -> tuple[int, str, str, str] | None:
    """Compare-and-set: still requested and still abandoned → marked as looked up by us (the
    row written, so a second bench taking it at the same moment conflicts and sees ours)."""

    def run(session: Session) -> tuple[int, str, str, str] | None:
        shipment = session.get(Shipment, shipment_id)
        if shipment is None or shipment.booking_state != "requested":
            return None
        if not shipment.booking_request:
            return None
        if not _abandoned(session, shipment, terminal, stale_after_s):
            return None
        order = session.get(Order, shipment.order_id)
        assert order is not None
        shipment.booking_error = (
            f"left unanswered by a crash; being looked up by reference ({actor.terminal})"
        )
        session.add(shipment)
        record_event(
            session, actor, "booking_resumed", order_id=order.id,
            message=f"shipment {shipment_id}: requested before a crash; looking it up by "
            "reference at start-up (nothing is booked here)",
            data={"shipment": shipment_id, "startup": True},
        )  # fmt: skip
        return shipment.order_id, order.number, shipment.carrier, shipment.booking_request

    return db.transact(run)


def resolve_crash_left(
    db: Database,
    actor: Actor,
    ship: ShipSettings,
    *,
    own_terminal: bool = False,
    stale_after_s: float = STALE_AFTER_S,
    factory: CarrierFactory = make_carrier,
) -> RecoveryReport:
    """Look every crash-left booking up at its carrier and record what it says (see the module
    docstring). ``own_terminal``: the app starting on ``actor.terminal`` — its own bookings are
    crash-left at once. Never books; never raises for one booking's trouble."""
    terminal = actor.terminal if own_terminal else None
    report = RecoveryReport()
    for shipment_id in crash_left_bookings(db, terminal, stale_after_s=stale_after_s):
        taken = _take_up(db, actor, shipment_id, terminal, stale_after_s)
        if taken is None:
            continue  # answered meanwhile, or another bench took it up
        order_id, number, carrier_name, request_json = taken
        _settle(db, actor, ship, report, shipment_id, order_id, number, carrier_name,
                request_json, factory)  # fmt: skip
    from packbench.operations.shipment_void import settle_voiding

    for line in settle_voiding(db, actor, terminal=terminal, stale_after_s=stale_after_s):
        report.voided.append(line)
        report.lines.append(line)
    return report


def _settle(
    db: Database, actor: Actor, ship: ShipSettings, report: RecoveryReport, shipment_id: int,
    order_id: int, number: str, carrier_name: str, request_json: str, factory: CarrierFactory,
) -> None:  # fmt: skip
    code = "startup-lookup"

    def hold(reason: str, booked: CarrierShipment | None = None) -> None:
        _record_failed(db, actor, order_id, shipment_id, held=True, reason=reason, code=code,
                       booked=booked)  # fmt: skip
        report.held.append(number)
        report.lines.append(f"Order {number} is on hold: {reason}")

    settings = ship.carriers.get(carrier_name)
    if settings is None:
        hold(f"its booking was requested from {carrier_name}, which is no longer configured; "
             "check with that carrier whether it holds the booking")  # fmt: skip
        return
    try:
        request = _request_from_json(request_json)
    except (ValueError, TypeError, KeyError) as exc:
        hold(f"the recorded booking request cannot be read ({exc}); check with {carrier_name}")
        return
    try:
        carrier = factory(ship, carrier_name)
    except Refused as exc:
        hold(f"a booking request may have reached {carrier_name} and it cannot be looked up: "
             f"{exc.message}")  # fmt: skip
        return
    try:
        found = look_up(carrier, request)
    except BookingUndecided as exc:
        hold(exc.message)
        return
    if found is None:
        if settings.trust_empty_lookup:
            _record_failed(
                db, actor, order_id, shipment_id, held=False, code=code,
                reason=f"not booked: {carrier_name} holds no booking under reference "
                f"{request.ref!r} (the request never reached it); the order is packed again",
            )  # fmt: skip
            report.not_booked.append(number)
            report.lines.append(f"Order {number} was not booked: scan it to book it.")
            return
        hold(
            f"a booking request may have reached {carrier_name} before a crash, and its lookup "
            f"by reference {request.ref!r} finds none yet; a new booking could be a second one. "
            "Check with the carrier before booking again."
        )
        return
    if found.consignment_number in voided_consignments(db, order_id):
        hold(voided_found(carrier_name, found.consignment_number, request.ref))
        return
    try:
        _record_booked(db, actor, ship, order_id, shipment_id, found, code)
    except Refused as exc:
        hold(exc.message, booked=found)
        return
    labels = fetch_labels(db, shipment_id, carrier)
    report.booked.append(number)
    report.lines.append(
        f"Order {number}: found booked with {carrier_name} {found.consignment_number}; "
        f"F8 prints its labels.{' ' + labels if labels else ''}"
    )
