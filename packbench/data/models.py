"""The tables. Money in integer øre, sizes in millimetres, weights in grams, times aware UTC.

Only the operations layer and the sync engine use these classes; screens get plain dataclasses.
The schema itself is owned by the Alembic migrations in ``migrations/``; a test checks that these
models and the migrated schema agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from packbench.data.types import UTCDateTime, utcnow


def table_of(model: type[SQLModel]) -> Table:
    """A model's table, for statements in SQLAlchemy Core (SQLModel's types do not show
    ``__table__``)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def _now_field() -> datetime:
    field: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    return field


def _opt_time() -> datetime | None:
    field: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    return field


class Location(SQLModel, table=True):
    __tablename__ = "location"

    code: str = Field(primary_key=True, max_length=16)  # AISLE-BAY-LEVEL, e.g. C-07-2
    aisle: str = Field(max_length=4)
    bay: int
    level: int


class Product(SQLModel, table=True):
    __tablename__ = "product"

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64, unique=True)
    gtin: str | None = Field(default=None, max_length=14, index=True)  # as printed, 8–14 digits
    gtin14: str | None = Field(default=None, max_length=14, index=True)  # zero-padded for lookup
    name: str = Field(max_length=200)
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    weight_g: int = 0
    price_ore: int = 0
    location: str | None = Field(default=None, max_length=16, foreign_key="location.code")
    fragile: bool = False
    keep_upright: bool = False
    shop_product_id: int | None = Field(default=None, index=True)
    updated_at: datetime = _now_field()


class Packer(SQLModel, table=True):
    __tablename__ = "packer"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    badge: str = Field(max_length=64, unique=True)
    role: str = Field(default="packer", max_length=16)  # packer | supervisor
    pin_hash: str | None = Field(default=None, max_length=200)  # scrypt, never the PIN
    active: bool = True


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_created", "status", "created_at"),
        Index("ix_orders_created_at", "created_at"),
        Index("ix_orders_completed_at", "completed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_order_id: int | None = Field(default=None, unique=True)
    number: str = Field(max_length=32, unique=True)
    status: str = Field(default="new", max_length=16)
    held_from: str | None = Field(default=None, max_length=16)
    hold_reason: str | None = Field(default=None, max_length=500)
    # Set when the shop changed or cancelled an order the bench had already started on.
    upstream_flag: str | None = Field(default=None, max_length=500)
    created_at: datetime = _now_field()  # when the customer ordered (the shop's date)
    paid_at: datetime | None = _opt_time()
    upstream_modified_at: datetime | None = _opt_time()
    customer_email: str = Field(default="", max_length=200)
    customer_phone: str = Field(default="", max_length=50)
    ship_name: str = Field(default="", max_length=200)
    ship_company: str = Field(default="", max_length=200)
    ship_address1: str = Field(default="", max_length=200)
    ship_address2: str = Field(default="", max_length=200)
    ship_postcode: str = Field(default="", max_length=20)
    ship_city: str = Field(default="", max_length=100)
    ship_country: str = Field(default="NO", max_length=2)
    bill_name: str = Field(default="", max_length=200)
    shipping_method_id: str = Field(default="", max_length=100)
    shipping_method_title: str = Field(default="", max_length=200)
    payment_method: str = Field(default="", max_length=100)
    payment_method_title: str = Field(default="", max_length=200)
    # The provider's reference for the payment (WooCommerce ``transaction_id``): what a
    # settlement line names (#15).
    payment_reference: str = Field(default="", max_length=100)
    # The pickup point the customer chose at the checkout (the shipping line's meta, #14).
    pickup_point_id: str = Field(default="", max_length=40)
    # Its name, when a packer chose it at the ship station from the nearest ones (#14).
    pickup_point_name: str = Field(default="", max_length=200)
    payment_status: str = Field(default="authorized", max_length=20)  # authorized|captured|…
    currency: str = Field(default="NOK", max_length=3)
    shipping_ore: int = 0
    total_ore: int = 0
    customer_note: str = Field(default="", max_length=2000)
    completed_at: datetime | None = _opt_time()  # the transaction was completed at the bench
    invoice_number: str | None = Field(default=None, max_length=64)
    claimed_by: int | None = Field(default=None, foreign_key="packer.id")
    claimed_at: datetime | None = _opt_time()
    claim_terminal: str | None = Field(default=None, max_length=64)
    updated_at: datetime = _now_field()


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    line_no: int
    shop_line_id: int | None = None
    # The shop's product (or variation) id: links the line when the product arrives later.
    shop_product_id: int | None = None
    product_id: int | None = Field(default=None, foreign_key="product.id", index=True)
    sku: str = Field(default="", max_length=64)
    name: str = Field(default="", max_length=200)
    quantity: int
    picked_qty: int = 0
    packed_qty: int = 0
    unit_price_ore: int = 0
    short_qty: int = 0  # units a short pick left missing (#5)


class BoxType(SQLModel, table=True):
    __tablename__ = "box_type"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    kind: str = Field(default="box", max_length=8)  # box | bag
    name: str = Field(default="", max_length=100)
    # For a bag: flat length, flat width and the maximum filled thickness.
    inner_l_mm: int
    inner_w_mm: int
    inner_h_mm: int
    max_weight_g: int
    tare_g: int = 0
    cost_ore: int = 0
    standard: bool = False
    active: bool = True


class Shipment(SQLModel, table=True):
    __tablename__ = "shipment"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    carrier: str = Field(max_length=50)
    service: str = Field(default="", max_length=100)
    status: str = Field(default="created", max_length=16)  # created | cancelled | handed_over
    created_at: datetime = _now_field()
    cancelled_at: datetime | None = _opt_time()
    cancel_reason: str | None = Field(default=None, max_length=500)
    # A carrier's web API (#14): "" for the built-in carrier; requested (sent, answer not yet
    # recorded) | booked | held (a person must decide) | refused.
    booking_state: str = Field(default="", max_length=16)
    consignment_number: str | None = Field(default=None, max_length=40)
    tracking_url: str | None = Field(default=None, max_length=500)
    product: str = Field(default="", max_length=20)
    booking_request: str | None = None  # JSON: what was sent (credentials never in it)
    booking_response: str | None = None  # the carrier's answer as received
    booking_error: str | None = Field(default=None, max_length=1000)
    booked_at: datetime | None = _opt_time()
    pickup_point_id: str | None = Field(default=None, max_length=40)
    pickup_point_name: str | None = Field(default=None, max_length=200)


class CarrierLabel(SQLModel, table=True):
    """A carrier's label document for a shipment, kept so it reprints without asking again."""

    __tablename__ = "carrier_label"

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    format: str = Field(default="pdf", max_length=8)  # pdf | zpl
    url: str = Field(default="", max_length=1000)
    data: bytes | None = Field(default=None, sa_type=LargeBinary, nullable=True)
    page_width_mm: float | None = None
    page_height_mm: float | None = None
    created_at: datetime = _now_field()
    fetched_at: datetime | None = _opt_time()


class Parcel(SQLModel, table=True):
    __tablename__ = "parcel"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    seq: int  # parcel n of m
    shipment_id: int | None = Field(default=None, foreign_key="shipment.id", index=True)
    box_code: str | None = Field(default=None, max_length=32)
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    weight_g: int = 0
    sscc: str | None = Field(default=None, max_length=18, unique=True)
    tracking_number: str | None = Field(default=None, max_length=40, unique=True)
    carrier: str | None = Field(default=None, max_length=50)
    # open | packed | labelled | handed_over | void
    status: str = Field(default="open", max_length=16)
    label_printed_at: datetime | None = _opt_time()
    handed_over_at: datetime | None = _opt_time()
    created_at: datetime = _now_field()


class PrintJob(SQLModel, table=True):
    __tablename__ = "print_job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # slip | label | manifest | report
    ref: str = Field(max_length=200)  # what was printed: order numbers, parcel codes
    printer: str = Field(default="", max_length=100)
    cups_job_id: int | None = None
    status: str = Field(default="submitted", max_length=16)  # submitted|completed|failed|…
    error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _now_field()
    finished_at: datetime | None = _opt_time()


class OutboxItem(SQLModel, table=True):
    """A change the shop must hear about, written in the same transaction as the change."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    kind: str = Field(max_length=32)  # note | tracking | complete
    # One change, one key: a retried push or a re-queued change can be recognised as the same.
    idempotency_key: str = Field(max_length=100, unique=True)
    payload: str = Field(default="{}")  # JSON
    status: str = Field(default="pending", max_length=16)  # pending | done | parked
    attempts: int = 0
    next_attempt_at: datetime | None = _opt_time()
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _now_field()
    done_at: datetime | None = _opt_time()


class SyncState(SQLModel, table=True):
    __tablename__ = "sync_state"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="")
    updated_at: datetime = _now_field()


class SyncLease(SQLModel, table=True):
    """Only one terminal syncs at a time; a holder that dies lets the lease expire."""

    __tablename__ = "sync_lease"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=100)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Event(SQLModel, table=True):
    """The audit trail: every scan and action, good or refused — who, when, where, what."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_order_at", "order_id", "at"),
        Index("ix_event_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _now_field()
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    packer_id: int | None = Field(default=None, foreign_key="packer.id", index=True)
    station: str = Field(default="", max_length=16)
    terminal: str = Field(default="", max_length=64)
    kind: str = Field(max_length=32)  # scan | login | status | print | sync | …
    code: str | None = Field(default=None, max_length=500)  # what was scanned, as it arrived
    result: str = Field(default="ok", max_length=16)  # ok | refused | info
    message: str = Field(default="", max_length=1000)
    data: str | None = None  # JSON details


# -- picking (#5): batches on a cart of totes, the pick list's tasks ------------------------------
class PickBatch(SQLModel, table=True):
    """One walk through the warehouse for up to N orders, one tote each."""

    __tablename__ = "pick_batch"

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="open", max_length=16, index=True)  # open | done
    packer_id: int | None = Field(default=None, foreign_key="packer.id")
    terminal: str = Field(default="", max_length=64)
    created_at: datetime = _now_field()
    finished_at: datetime | None = _opt_time()
    distance_m: float = 0.0  # the whole round trip as planned
    at_location: str | None = Field(default=None, max_length=16)  # last location label scanned


class PickBatchOrder(SQLModel, table=True):
    __tablename__ = "pick_batch_order"
    __table_args__ = (
        UniqueConstraint("batch_id", "order_id"),
        UniqueConstraint("batch_id", "tote"),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="pick_batch.id")
    order_id: int = Field(foreign_key="orders.id", index=True)
    tote: int  # 1..N on the cart


class PickTask(SQLModel, table=True):
    """One order line at one stop: how many to pick into which tote, and how it went."""

    __tablename__ = "pick_task"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="pick_batch.id", index=True)
    seq: int  # the stop, 1.. in walking order
    location: str = Field(max_length=16)
    order_id: int = Field(foreign_key="orders.id")
    order_line_id: int = Field(foreign_key="order_line.id")
    product_id: int | None = Field(default=None, foreign_key="product.id")
    tote: int
    quantity: int
    picked: int = 0
    short: int = 0


# -- packing (#6): the pack plan, units per parcel, box overrides ---------------------------------
class PackPlan(SQLModel, table=True):
    """The box suggestion made when the order was opened at the pack station, kept as made."""

    __tablename__ = "pack_plan"

    order_id: int = Field(foreign_key="orders.id", primary_key=True)
    items_key: str  # the order's items, canonical: "SKU×qty|SKU×qty" sorted by SKU
    suggestion: str  # JSON: parcels (box, inner_mm, fill, weight_g, units per SKU), alternatives
    learned: bool = False  # the suggestion is the packers' choice, not the packing logic's
    # A weight off by more than the tolerance waits here for confirmation.
    pending_weight_g: int | None = None
    pending_weight_seq: int | None = None
    created_at: datetime = _now_field()


class ParcelItem(SQLModel, table=True):
    """How many units of an order line went into a parcel."""

    __tablename__ = "parcel_item"
    __table_args__ = (UniqueConstraint("parcel_id", "order_line_id"),)

    id: int | None = Field(default=None, primary_key=True)
    parcel_id: int = Field(foreign_key="parcel.id", index=True)
    order_line_id: int = Field(foreign_key="order_line.id")
    quantity: int


class BoxOverride(SQLModel, table=True):
    """An order packed in another box than suggested: what the packers know better."""

    __tablename__ = "box_override"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id")
    items_key: str = Field(index=True)
    suggested_code: str | None = Field(default=None, max_length=32)
    box_code: str = Field(max_length=32)
    packer_id: int | None = Field(default=None, foreign_key="packer.id")
    at: datetime = _now_field()


# -- end of the packing block ---------------------------------------------------------------------


# -- shipping and handover (#7): number series, the post station's cages --------------------------
class NumberSeries(SQLModel, table=True):
    """The next serial of one number series (SSCC serials, a carrier's S10 range)."""

    __tablename__ = "number_series"

    name: str = Field(primary_key=True, max_length=64)
    next_value: int
    updated_at: datetime = _now_field()


class Handover(SQLModel, table=True):
    """One carrier's pickup on one day: open while parcels go into the cage, then closed."""

    __tablename__ = "handover"
    __table_args__ = (Index("ix_handover_carrier_status", "carrier", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    carrier: str = Field(max_length=50)
    day: str = Field(max_length=10)  # the bench's local date, YYYY-MM-DD
    status: str = Field(default="open", max_length=16)  # open | closed
    terminal: str = Field(default="", max_length=64)
    opened_by: int | None = Field(default=None, foreign_key="packer.id")
    opened_at: datetime = _now_field()
    closed_by: int | None = Field(default=None, foreign_key="packer.id")
    closed_at: datetime | None = _opt_time()


class HandoverParcel(SQLModel, table=True):
    """A parcel scanned into a carrier's cage (a parcel is in at most one)."""

    __tablename__ = "handover_parcel"

    id: int | None = Field(default=None, primary_key=True)
    handover_id: int = Field(foreign_key="handover.id", index=True)
    parcel_id: int = Field(foreign_key="parcel.id", unique=True)
    scanned_at: datetime = _now_field()
    packer_id: int | None = Field(default=None, foreign_key="packer.id")


class CarrierTransfer(SQLModel, table=True):
    """A consignment's EDI to be sent to its carrier (Cargonizer's transfer) when a handover
    with its parcels closes: written in the close's transaction, sent after it committed.

    ``pending``: not sent yet (or certainly not received); ``sending``: a call is under way or
    its answer was lost (looked up before it is sent again); ``done``: the carrier has it.
    One row per shipment, so a consignment is transferred once."""

    __tablename__ = "carrier_transfer"
    __table_args__ = (Index("ix_carrier_transfer_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", unique=True)
    handover_id: int | None = Field(default=None, foreign_key="handover.id", index=True)
    carrier: str = Field(max_length=50)
    consignment_id: str = Field(max_length=40)  # the carrier's id to transfer by
    reference: str = Field(default="", max_length=100)  # what a lookup searches for
    status: str = Field(default="pending", max_length=16)  # pending | sending | done
    attempts: int = 0
    next_attempt_at: datetime | None = _opt_time()
    sent_at: datetime | None = _opt_time()  # when the last call began
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _now_field()
    done_at: datetime | None = _opt_time()


# -- end of the shipping block --------------------------------------------------------------------


# -- the team's roster (#8) ---------------------------------------------------------------------
class RosterEntry(SQLModel, table=True):
    """Who works which station on a day, as the supervisor assigned it."""

    __tablename__ = "roster_entry"
    __table_args__ = (UniqueConstraint("day", "packer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    day: str = Field(max_length=10)  # the bench's local date, YYYY-MM-DD
    packer_id: int = Field(foreign_key="packer.id", index=True)
    station: str = Field(max_length=16)
    assigned_by: int | None = Field(default=None, foreign_key="packer.id")
    assigned_at: datetime = _now_field()


# -- settlement (#15): the payment providers' lines, matched to orders ----------------------------
class SettlementLine(SQLModel, table=True):
    """One movement of money on a payment provider's side (capture, refund, fee, payout…), as
    the provider reported it; ``line_key`` makes a second import of the same data a no-op."""

    __tablename__ = "settlement_line"
    __table_args__ = (
        UniqueConstraint("provider", "line_key"),
        Index("ix_settlement_line_payout", "provider", "payout_id"),
        Index("ix_settlement_line_reference", "provider", "reference"),
        Index("ix_settlement_line_unmatched", "provider", "order_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=16)  # vipps | klarna | stripe
    line_key: str = Field(max_length=400)
    payout_id: str | None = Field(default=None, max_length=100)
    day: str = Field(max_length=10)  # the Oslo date, YYYY-MM-DD
    # capture | refund | fee | chargeback | correction | payout | transfer | other
    kind: str = Field(max_length=16)
    # signed: + = the provider owes the shop more; 64-bit: a big shop's payout passes 21 M kr
    amount_ore: int = Field(sa_type=BigInteger)
    currency: str = Field(default="NOK", max_length=3)
    provider_type: str = Field(default="", max_length=100)
    reference: str = Field(default="", max_length=200)
    order_by: str | None = Field(default=None, max_length=8)  # id | number
    order_value: str | None = Field(default=None, max_length=64)
    related: str | None = Field(default=None, max_length=200)
    account: str | None = Field(default=None, max_length=64)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    occurred_at: datetime | None = _opt_time()
    imported_at: datetime = _now_field()
