"""The demo shop's data and bookkeeping: orders, notes, meta, captures, the ledger, on disk.

Everything the HTTP layer can change goes through :class:`DemoShopState`, which holds one lock
for the whole shop and writes the JSON state file (temp file + ``os.replace``) before a change
is answered. One lock is plenty for a demo and makes the one rule that matters easy to see:
an order's payment is captured, invoiced and booked at most once, whoever asks how often.

Money is integer øre throughout; only the HTTP layer turns it into WooCommerce's "398.00".
Times are kept as WooCommerce keeps them in ``*_gmt`` fields: UTC, whole seconds, no offset.
"""

from __future__ import annotations

import copy
import json
import os
import random
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict, cast

from packbench.data.demo_catalogue import (
    REFERENCE_NOW,
    DemoAddress,
    DemoOrder,
    DemoProduct,
    demo_shift,
    generate,
    generate_orders,
    moved_to,
)

__all__ = [
    "CAPTURED_AT_META",
    "CAPTURE_COUNT_META",
    "CAPTURE_ID_META",
    "DEFAULT_CLEARING_ACCOUNT",
    "INVOICE_META",
    "LOCATION_META",
    "OUTPUT_VAT_ACCOUNT",
    "SALES_ACCOUNT",
    "SHOP_OWNED_META",
    "STATE_FORMAT",
    "VAT_PERCENT",
    "WC_STATUSES",
    "DemoShopState",
    "ShopApiError",
    "StateFileError",
    "split_vat",
]

STATE_FORMAT = 1

#: Product meta key holding the shelf location (what the bench's adapter reads by default).
LOCATION_META = "_packbench_location"
#: Order meta the shop writes when it completes the transaction.
INVOICE_META = "_packbench_invoice_number"
CAPTURED_AT_META = "_payment_captured_at"
CAPTURE_ID_META = "_capture_id"
CAPTURE_COUNT_META = "_capture_count"
#: Keys only the shop may write: a client changing them would make the order lie about money.
SHOP_OWNED_META = frozenset({INVOICE_META, CAPTURED_AT_META, CAPTURE_ID_META, CAPTURE_COUNT_META})

DEFAULT_CLEARING_ACCOUNT = "1570"  # the payment provider's clearing account (Vipps, Klarna)
SALES_ACCOUNT = "3000"  # salgsinntekt, avgiftspliktig
OUTPUT_VAT_ACCOUNT = "2700"  # utgående merverdiavgift
VAT_PERCENT = 25
CURRENCY = "NOK"
FIRST_INVOICE_NUMBER = 100001

#: WooCommerce's order statuses (what ``status`` may be set to or filtered by).
WC_STATUSES: tuple[str, ...] = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)
_STATUS_LABELS = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "failed": "Failed",
    "checkout-draft": "Draft",
}
#: Where an order may go from each status. WooCommerce itself allows nearly anything; the demo
#: is stricter so that a bench bug (say, reopening a completed order) shows up as a 400.
_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"processing", "on-hold", "completed", "cancelled", "failed"}),
    "processing": frozenset({"completed", "on-hold", "cancelled"}),
    "on-hold": frozenset({"processing", "completed", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
    "refunded": frozenset(),
    "failed": frozenset({"processing", "cancelled"}),
    "checkout-draft": frozenset({"pending", "processing"}),
}

#: The bench's workflow state of a generated order → the shop's status.
_SHOP_STATUS = {"cancelled": "cancelled", "handed_over": "completed"}
#: How long after payment a demo order that is already handed over was completed: the eight
#: 20-minute steps ``packbench.operations.demo`` walks it through.
_HANDED_OVER_AFTER = timedelta(minutes=160)
_CANCELLED_AFTER = timedelta(minutes=20)

_WC_TIME = "%Y-%m-%dT%H:%M:%S"


class ShopApiError(Exception):
    """A refusal in WooCommerce's words: ``{"code", "message", "data": {"status", …}}``."""

    def __init__(
        self, status: int, code: str, message: str, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status}}

    def json(self) -> dict[str, Any]:
        body = self.body()
        body["data"].update(self.extra)
        return body


class StateFileError(Exception):
    """The state file exists but cannot be used; the message says which file and why."""


# --------------------------------------------------------------------------- records


class AddressRecord(TypedDict):
    first_name: str
    last_name: str
    company: str
    address_1: str
    address_2: str
    city: str
    state: str
    postcode: str
    country: str
    email: str
    phone: str


class LineRecord(TypedDict):
    id: int
    product_id: int
    sku: str
    name: str
    quantity: int
    price_ore: int


class ShippingLineRecord(TypedDict):
    id: int
    method_id: str  # "flat_rate", as WooCommerce ≥ 3.4 splits it
    instance_id: str  # "3"
    method_title: str
    total_ore: int


class MetaRecord(TypedDict):
    id: int
    key: str
    value: Any


class NoteRecord(TypedDict):
    id: int
    author: str
    date_gmt: str
    note: str
    customer_note: bool


class OrderRecord(TypedDict):
    id: int
    status: str
    order_key: str
    created_gmt: str
    paid_gmt: str | None
    modified_gmt: str
    completed_gmt: str | None
    customer_note: str
    billing: AddressRecord
    shipping: AddressRecord
    payment_method: str
    payment_method_title: str
    transaction_id: str
    shipping_line: ShippingLineRecord
    lines: list[LineRecord]
    shipping_ore: int
    total_ore: int
    meta: list[MetaRecord]
    notes: list[NoteRecord]


class CaptureRecord(TypedDict):
    id: str
    order_id: int
    amount_ore: int
    currency: str
    captured_at: str  # ISO 8601 UTC with "Z"
    payment_method: str
    invoice_number: str


class LedgerLine(TypedDict):
    account: str
    debit_ore: int
    credit_ore: int


class LedgerEntry(TypedDict):
    id: int
    date: str  # ISO 8601 UTC with "Z"
    order_id: int
    invoice_number: str
    capture_id: str
    text: str
    lines: list[LedgerLine]


class StateData(TypedDict):
    format: int
    seed: int
    next_order_id: int
    next_item_id: int
    next_meta_id: int
    next_note_id: int
    invoice_counter: int  # invoices issued so far; numbers have no gaps
    products: list[dict[str, Any]]  # DemoProduct fields plus "meta_id"
    #: Product id (as text) → when it was last edited, for products edited since creation
    #: (absent in state files written before products could be edited).
    product_modified: NotRequired[dict[str, str]]
    orders: list[OrderRecord]
    captures: list[CaptureRecord]
    ledger: list[LedgerEntry]


# --------------------------------------------------------------------------- helpers


def split_vat(gross_ore: int, percent: int = VAT_PERCENT) -> tuple[int, int]:
    """``(net, vat)`` of a VAT-inclusive amount: net rounded half up to whole øre, and the VAT
    is the rest, so that net + VAT is the gross exactly and a journal entry always balances."""
    denominator = 100 + percent
    net = (2 * gross_ore * 100 + denominator) // (2 * denominator)
    return net, gross_ore - net


def wc_time(when: datetime) -> str:
    """UTC, whole seconds, no offset: how WooCommerce writes ``*_gmt``."""
    return when.astimezone(UTC).strftime(_WC_TIME)


def parse_wc_time(text: str) -> datetime:
    return datetime.strptime(text, _WC_TIME).replace(tzinfo=UTC)


def iso_z(when: datetime) -> str:
    return when.astimezone(UTC).strftime(_WC_TIME) + "Z"


def money(ore: int) -> str:
    """Øre → WooCommerce's money text, "398.00"."""
    sign = "-" if ore < 0 else ""
    whole, cents = divmod(abs(ore), 100)
    return f"{sign}{whole}.{cents:02d}"


def _transaction_id(method: str, oid: int) -> str:
    """What the payment plugin stores as the order's ``transaction_id`` (fixtures' README):
    Vipps the ePayment reference it sent (``woo-`` + site + ``-`` + order id), Klarna its order
    UUID, Stripe the charge id; the settlement reports name the payment by it."""
    if method.startswith("vipps"):
        return f"woo-demobutk-{oid}"
    if method.startswith(("klarna", "kco")):
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"packbench-demo:klarna-order:{oid}"))
    if method.startswith("stripe"):
        return f"ch_3Demo{oid * 104729 % 999983:06d}{oid}"
    return f"{method}-{oid}-{oid * 104729 % 999983:06d}"


def _address(a: DemoAddress) -> AddressRecord:
    first, _, last = a.name.partition(" ")
    return AddressRecord(
        first_name=first,
        last_name=last,
        company=a.company,
        address_1=a.address1,
        address_2=a.address2,
        city=a.city,
        state="",
        postcode=a.postcode,
        country=a.country,
        email=a.email,
        phone=a.phone,
    )


#: When the demo's products were made, one minute apart in id order (so "orderby=date" is id
#: order); a product never edited was last modified then.
PRODUCTS_CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def product_created(product_id: int) -> str:
    return wc_time(PRODUCTS_CREATED + timedelta(minutes=product_id - 1201))


def _sort_key(orderby: str) -> Callable[[OrderRecord], tuple[str, int]]:
    """An order listing's sort: by creation or modification time (stored UTC text sorts like
    the time), else by id alone; ties by id."""
    if orderby == "date":
        return lambda o: (o["created_gmt"], o["id"])
    if orderby == "modified":
        return lambda o: (o["modified_gmt"], o["id"])
    return lambda o: ("", o["id"])


def _product_from(record: dict[str, Any]) -> DemoProduct:
    fields = {k: v for k, v in record.items() if k != "meta_id"}
    return DemoProduct(**fields)


# --------------------------------------------------------------------------- the state


class DemoShopState:
    """The whole shop behind one lock; every change is on disk before it is answered.

    ``clock`` returns aware datetimes (the wall clock by default). The shop's own clock never
    runs backwards past the newest modification it has stored, so ``modified_after`` stays a
    usable cursor even when the demo data were generated "in the future" of the wall clock.
    """

    def __init__(
        self,
        data: StateData,
        *,
        path: Path | None = None,
        clearing_account: str = DEFAULT_CLEARING_ACCOUNT,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if data.get("format") != STATE_FORMAT:
            raise StateFileError(f"unknown state format {data.get('format')!r}")
        self._data = data
        self._path = path
        self._lock = threading.RLock()
        self.clearing_account = clearing_account
        self._clock = clock or (lambda: datetime.now(UTC))
        self._orders = {o["id"]: o for o in data["orders"]}
        self._products = [_product_from(p) for p in data["products"]]
        #: The orders sorted for a listing, per sort key; dropped at every change that could
        #: move one (a page then copies only its own orders: O(page), not O(shop)).
        self._sorted: dict[str, list[OrderRecord]] = {}
        stamps = [parse_wc_time(o["modified_gmt"]) for o in data["orders"]]
        self._high_water = max(stamps, default=datetime(2000, 1, 1, tzinfo=UTC))

    # ----------------------------------------------------------------- making and loading

    @classmethod
    def fresh(
        cls,
        *,
        seed: int = 1,
        n_orders: int = 72,
        path: Path | None = None,
        clearing_account: str = DEFAULT_CLEARING_ACCOUNT,
        clock: Callable[[], datetime] | None = None,
        now: datetime | None = None,
    ) -> DemoShopState:
        """The demo data for ``seed`` as a shop sees it, with the orders the bench has already
        handed over completed, captured and booked. Not saved until :meth:`save`.

        ``now`` moves the demo's day to that day (as the bench's ``load_demo`` does); without
        it the data stay on the catalogue's reference day."""
        demo = generate(seed=seed, n_orders=n_orders)
        reference = REFERENCE_NOW
        if now is not None:
            demo = moved_to(demo, now)
            reference = REFERENCE_NOW + demo_shift(now)
        data = StateData(
            format=STATE_FORMAT,
            seed=seed,
            next_order_id=5001 + n_orders,
            next_item_id=1,
            next_meta_id=1,
            next_note_id=1,
            invoice_counter=0,
            products=[],
            orders=[],
            captures=[],
            ledger=[],
        )
        for product in demo.products:
            record = asdict(product)
            record["meta_id"] = data["next_meta_id"]
            data["next_meta_id"] += 1
            data["products"].append(record)
        state = cls(data, path=path, clearing_account=clearing_account, clock=clock)
        completions: list[tuple[datetime, OrderRecord]] = []
        for order in demo.orders:
            paid = order.paid_at or order.created_at
            shop_status = _SHOP_STATUS.get(order.status, "processing")
            if shop_status == "completed":
                modified = min(paid + _HANDED_OVER_AFTER, reference)
            elif shop_status == "cancelled":
                modified = min(paid + _CANCELLED_AFTER, reference)
            else:
                modified = paid
            made = state._new_order(order, "processing", paid)
            if shop_status != "processing":
                state._set_status(made, shop_status, modified)
            if shop_status == "completed":
                completions.append((modified, made))
            state._stamp(made, modified)
            state._add(made)
        # Invoice numbers follow the order in which the orders were completed.
        for when, done in sorted(completions, key=lambda c: (c[0], c[1]["id"])):
            state._capture(done, when)
        return state

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        clearing_account: str = DEFAULT_CLEARING_ACCOUNT,
        clock: Callable[[], datetime] | None = None,
    ) -> DemoShopState:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateFileError(f"cannot read the demo shop state {path}: {exc}") from None
        if not isinstance(data, dict):
            raise StateFileError(f"{path} is not a demo shop state file")
        try:
            return cls(
                cast(StateData, data),
                path=Path(path),
                clearing_account=clearing_account,
                clock=clock,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFileError(f"{path} is not a usable demo shop state file ({exc})") from None

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        seed: int = 1,
        n_orders: int = 72,
        clearing_account: str = DEFAULT_CLEARING_ACCOUNT,
        clock: Callable[[], datetime] | None = None,
        now: datetime | None = None,
    ) -> DemoShopState:
        """Load ``path`` if it exists (the shop survives restarts), else generate and save
        (``now``: see :meth:`fresh`)."""
        path = Path(path)
        if path.exists():
            return cls.load(path, clearing_account=clearing_account, clock=clock)
        state = cls.fresh(
            seed=seed,
            n_orders=n_orders,
            path=path,
            clearing_account=clearing_account,
            clock=clock,
            now=now,
        )
        state.save()
        return state

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def seed(self) -> int:
        return self._data["seed"]

    def save(self) -> None:
        """Write the state atomically: a crash leaves the old file or the new one, never half.
        No fsync: the demo guards against its own process dying, not against power loss."""
        if self._path is None:
            return
        with self._lock:
            text = json.dumps(self._data, ensure_ascii=False, separators=(",", ":"))
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_name(f".{self._path.name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self._path)

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of everything (for tests and for comparing before/after a restart)."""
        with self._lock:
            return copy.deepcopy(dict(self._data))

    # ----------------------------------------------------------------- clock and ids

    def now(self) -> datetime:
        """The shop's clock: whole seconds, like WooCommerce's columns. Two changes in the same
        second get the same stamp, as in WooCommerce. But the clock never goes back past the
        newest stored modification: when the wall clock is behind the demo data (generated
        for a fixed day), each change is stamped one second after the newest, so that
        ``modified_after`` still finds it."""
        with self._lock:
            t = self._clock().astimezone(UTC).replace(microsecond=0)
            if t < self._high_water:
                t = self._high_water + timedelta(seconds=1)
            return t

    def _stamp(self, record: OrderRecord, when: datetime) -> None:
        record["modified_gmt"] = wc_time(when)
        self._high_water = max(self._high_water, when)
        self._sorted.clear()

    def _next(self, counter: Literal["next_item_id", "next_meta_id", "next_note_id"]) -> int:
        value = self._data[counter]
        self._data[counter] = value + 1
        return value

    # ----------------------------------------------------------------- building orders

    def _new_order(self, order: DemoOrder, status: str, modified: datetime) -> OrderRecord:
        by_sku = {p.sku: p for p in self._products}
        lines: list[LineRecord] = []
        for line in order.lines:
            product = by_sku[line.sku]
            lines.append(
                LineRecord(
                    id=self._next("next_item_id"),
                    product_id=product.shop_product_id,
                    sku=line.sku,
                    name=product.name,
                    quantity=line.quantity,
                    price_ore=line.unit_price_ore,
                )
            )
        method, _, instance = order.shipping_method_id.partition(":")
        shipping_line = ShippingLineRecord(
            id=self._next("next_item_id"),
            method_id=method,
            instance_id=instance or "0",
            method_title=order.shipping_method_title,
            total_ore=order.shipping_ore,
        )
        oid = order.shop_order_id
        meta: list[MetaRecord] = [
            MetaRecord(id=self._next("next_meta_id"), key="is_vat_exempt", value="no"),
            MetaRecord(
                id=self._next("next_meta_id"),
                key="_wc_order_attribution_device_type",
                value="Mobile" if oid % 3 else "Desktop",
            ),
        ]
        if order.payment_method == "klarna":
            # Plugins keep structured values in meta too; the bench must cope with them.
            meta.append(
                MetaRecord(
                    id=self._next("next_meta_id"),
                    key="_klarna_order_data",
                    value={"fraud_status": "ACCEPTED", "klarna_reference": f"KL{oid * 7919:09d}"},
                )
            )
        created = order.created_at
        record = OrderRecord(
            id=oid,
            status=status,
            order_key=f"wc_order_{(oid * 2654435761) % 16**13:013x}",
            created_gmt=wc_time(created),
            paid_gmt=wc_time(order.paid_at) if order.paid_at else None,
            modified_gmt=wc_time(modified),
            completed_gmt=None,
            customer_note=order.customer_note,
            billing=_address(order.billing),
            shipping=_address(order.shipping),
            payment_method=order.payment_method,
            payment_method_title=order.payment_method_title,
            transaction_id=_transaction_id(order.payment_method, oid),
            shipping_line=shipping_line,
            lines=lines,
            shipping_ore=order.shipping_ore,
            total_ore=order.total_ore,
            meta=meta,
            notes=[],
        )
        self._note(
            record,
            f"{order.payment_method_title}: payment of kr {money(order.total_ore)} authorised.",
            order.paid_at or created,
        )
        self._note(record, "Order status changed from Pending payment to Processing.", modified)
        return record

    def _add(self, record: OrderRecord) -> None:
        self._data["orders"].append(record)
        self._orders[record["id"]] = record
        self._sorted.clear()

    def _note(
        self,
        record: OrderRecord,
        text: str,
        when: datetime,
        *,
        customer_note: bool = False,
        author: str = "system",
    ) -> NoteRecord:
        note = NoteRecord(
            id=self._next("next_note_id"),
            author=author,
            date_gmt=wc_time(when),
            note=text,
            customer_note=customer_note,
        )
        record["notes"].append(note)
        return note

    def _set_status(self, record: OrderRecord, status: str, when: datetime) -> None:
        old = record["status"]
        record["status"] = status
        self._sorted.clear()
        if status == "completed":
            record["completed_gmt"] = wc_time(when)
        self._note(
            record,
            f"Order status changed from {_STATUS_LABELS[old]} to {_STATUS_LABELS[status]}.",
            when,
        )

    def _upsert_meta(self, record: OrderRecord, key: str, value: Any) -> None:
        for entry in record["meta"]:
            if entry["key"] == key:
                entry["value"] = value
                return
        record["meta"].append(MetaRecord(id=self._next("next_meta_id"), key=key, value=value))

    # ----------------------------------------------------------------- completing

    def _capture(self, record: OrderRecord, when: datetime) -> bool:
        """Capture the payment, issue the invoice and book it — unless this order already has a
        capture. The capture list, not the status or the meta, is what is checked: it is the
        one thing a client cannot touch. Returns whether anything was done."""
        oid = record["id"]
        if any(c["order_id"] == oid for c in self._data["captures"]):
            return False
        self._data["invoice_counter"] += 1
        invoice = str(FIRST_INVOICE_NUMBER + self._data["invoice_counter"] - 1)
        capture_id = f"{record['payment_method']}-cap-{oid}"
        gross = record["total_ore"]
        net, vat = split_vat(gross)
        stamp = iso_z(when)
        self._data["captures"].append(
            CaptureRecord(
                id=capture_id,
                order_id=oid,
                amount_ore=gross,
                currency=CURRENCY,
                captured_at=stamp,
                payment_method=record["payment_method"],
                invoice_number=invoice,
            )
        )
        self._data["ledger"].append(
            LedgerEntry(
                id=len(self._data["ledger"]) + 1,
                date=stamp,
                order_id=oid,
                invoice_number=invoice,
                capture_id=capture_id,
                text=f"Faktura {invoice}, ordre {oid}",
                lines=[
                    LedgerLine(account=self.clearing_account, debit_ore=gross, credit_ore=0),
                    LedgerLine(account=SALES_ACCOUNT, debit_ore=0, credit_ore=net),
                    LedgerLine(account=OUTPUT_VAT_ACCOUNT, debit_ore=0, credit_ore=vat),
                ],
            )
        )
        self._upsert_meta(record, CAPTURED_AT_META, stamp)
        self._upsert_meta(record, CAPTURE_ID_META, capture_id)
        self._upsert_meta(record, CAPTURE_COUNT_META, "1")
        self._upsert_meta(record, INVOICE_META, invoice)
        self._note(
            record,
            f"{record['payment_method_title']}: kr {money(gross)} captured ({capture_id}). "
            f"Invoice {invoice} booked.",
            when,
        )
        return True

    # ----------------------------------------------------------------- the API's operations

    def products(self) -> list[tuple[DemoProduct, int]]:
        """Every product with the id of its location meta entry."""
        with self._lock:
            return [
                (p, int(rec["meta_id"]))
                for p, rec in zip(self._products, self._data["products"], strict=True)
            ]

    def catalogue(self) -> list[tuple[DemoProduct, int, str, str]]:
        """Every product with the id of its location meta entry, when it was created and when
        last modified (WooCommerce's ``*_gmt`` text)."""
        with self._lock:
            stamps = self._data.get("product_modified", {})
            out = []
            for p, rec in zip(self._products, self._data["products"], strict=True):
                created = product_created(p.shop_product_id)
                modified = stamps.get(str(p.shop_product_id), created)
                out.append((p, int(rec["meta_id"]), created, modified))
            return out

    def update_product(self, product_id: int, **changes: Any) -> DemoProduct:
        """A product edited in the shop's admin (its shelf, GTIN, sizes, SKU …): stamped with
        the shop's clock, so ``modified_after`` finds it."""
        with self._lock:
            i = next(
                (i for i, p in enumerate(self._products) if p.shop_product_id == product_id), None
            )
            if i is None:
                raise ShopApiError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            product = self._products[i]
            changed = replace(product, **changes)
            self._products[i] = changed
            self._data["products"][i].update(asdict(changed))
            now = self.now()
            self._data.setdefault("product_modified", {})[str(product_id)] = wc_time(now)
            self._high_water = max(self._high_water, now)
            self.save()
            return changed

    def orders(self) -> list[OrderRecord]:
        """A deep copy of every order (for tests; the API copies one page, see
        :meth:`order_page`)."""
        with self._lock:
            return copy.deepcopy(self._data["orders"])

    def order_page(
        self,
        *,
        statuses: Iterable[str] | None = None,
        modified_after: datetime | None = None,
        modified_before: datetime | None = None,
        orderby: str = "date",
        descending: bool = True,
        offset: int = 0,
        limit: int = 10,
    ) -> tuple[int, list[OrderRecord]]:
        """``(how many match, a copy of the ``limit`` of them from ``offset``)``: the orders
        are filtered and sorted as references and only the page is copied. ``orderby`` is
        ``date`` (created), ``modified`` or anything else for id order; ties go by id."""
        wanted = None if statuses is None else frozenset(statuses)
        # Stored times are whole seconds as sortable text: compare text, parse nothing. A
        # bound with a fraction of a second is rounded the way that keeps the comparison.
        after = wc_time(modified_after) if modified_after is not None else None
        before = None
        if modified_before is not None:
            before = wc_time(
                modified_before
                + (timedelta(seconds=1) if modified_before.microsecond else timedelta(0))
            )
        with self._lock:
            ordered = self._sorted.get(orderby)
            if ordered is None:
                ordered = sorted(self._data["orders"], key=_sort_key(orderby))
                self._sorted[orderby] = ordered
            matching = [
                o
                for o in (reversed(ordered) if descending else ordered)
                if (wanted is None or o["status"] in wanted)
                and (after is None or o["modified_gmt"] > after)
                and (before is None or o["modified_gmt"] < before)
            ]
            return len(matching), copy.deepcopy(matching[offset : offset + max(limit, 0)])

    def order_count(self) -> int:
        with self._lock:
            return len(self._orders)

    def order(self, order_id: int) -> OrderRecord:
        with self._lock:
            return copy.deepcopy(self._get(order_id))

    def _get(self, order_id: int) -> OrderRecord:
        record = self._orders.get(order_id)
        if record is None:
            raise ShopApiError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return record

    def update_order(
        self, order_id: int, *, status: str | None = None, meta: Iterable[dict[str, Any]] = ()
    ) -> OrderRecord:
        """WooCommerce's ``PUT /orders/{id}``: a status change and/or a meta upsert, all or
        nothing. Setting ``completed`` captures the payment the first time only."""
        meta = list(meta)
        with self._lock:
            record = self._get(order_id)
            if status is not None:
                if status not in WC_STATUSES:
                    raise ShopApiError(
                        400,
                        "rest_invalid_param",
                        "Invalid parameter(s): status",
                        {"params": {"status": f"status is not one of {', '.join(WC_STATUSES)}."}},
                    )
                old = record["status"]
                if status != old and status not in _TRANSITIONS[old]:
                    raise ShopApiError(
                        400,
                        "woocommerce_rest_shop_order_invalid_status",
                        f"Order {order_id} is {old} and cannot be changed to {status} "
                        "in the demo shop.",
                    )
            for entry in meta:
                if entry["key"] in SHOP_OWNED_META:
                    raise ShopApiError(
                        400,
                        "rest_invalid_param",
                        "Invalid parameter(s): meta_data",
                        {"params": {"meta_data": f"{entry['key']} is written by the shop only."}},
                    )
            changed = False
            now = self.now()
            if status is not None and status != record["status"]:
                self._set_status(record, status, now)
                changed = True
            if record["status"] == "completed":
                changed = self._capture(record, now) or changed
            for entry in meta:
                changed = self._apply_meta(record, entry) or changed
            if changed:
                self._stamp(record, now)
                self.save()
            return copy.deepcopy(record)

    def _apply_meta(self, record: OrderRecord, entry: dict[str, Any]) -> bool:
        """One ``meta_data`` item: by ``id`` if it names an existing entry, else by key (an
        upsert, as WooCommerce does); a null value deletes. Returns whether anything changed."""
        key, value = entry["key"], entry.get("value")
        target = None
        if isinstance(entry.get("id"), int):
            target = next((m for m in record["meta"] if m["id"] == entry["id"]), None)
        if target is None:
            target = next((m for m in record["meta"] if m["key"] == key), None)
        if value is None:
            if target is None:
                return False
            record["meta"].remove(target)
            return True
        if target is None:
            record["meta"].append(MetaRecord(id=self._next("next_meta_id"), key=key, value=value))
            return True
        if target["key"] == key and target["value"] == value:
            return False
        target["key"], target["value"] = key, value
        return True

    def add_note(self, order_id: int, text: str, *, customer_note: bool) -> NoteRecord:
        """A note as the API user. Like WooCommerce, it does not change ``date_modified``."""
        with self._lock:
            record = self._get(order_id)
            note = self._note(record, text, self.now(), customer_note=customer_note)
            self.save()
            return copy.deepcopy(note)

    def notes(self, order_id: int) -> list[NoteRecord]:
        with self._lock:
            return copy.deepcopy(self._get(order_id)["notes"])

    def captures(self) -> list[CaptureRecord]:
        with self._lock:
            return copy.deepcopy(self._data["captures"])

    def ledger(self) -> list[LedgerEntry]:
        with self._lock:
            return copy.deepcopy(self._data["ledger"])

    def add_new_order(self) -> OrderRecord:
        """A new paid ``processing`` order, as if a customer had just checked out.

        Its content comes from the demo generator with an RNG seeded by the shop's seed and the
        order id, so a restarted shop makes the same order next. Creation, payment and
        modification are *now*: a new order must sort after everything a sync has already seen.
        """
        with self._lock:
            oid = self._data["next_order_id"]
            rng = random.Random(f"packbench-demo-shop:{self._data['seed']}:{oid}")
            now = self.now()
            (order,) = generate_orders(rng, self._products, oid, 1, now)
            order = replace(order, created_at=now, paid_at=now)
            record = self._new_order(order, "processing", now)
            self._stamp(record, now)
            self._add(record)
            self._data["next_order_id"] = oid + 1
            self.save()
            return copy.deepcopy(record)
