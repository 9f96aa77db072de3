"""What the bench needs from a web shop, independent of which shop software runs it.

The sync engine talks only to :class:`ShopAdapter`. Adapters turn every way a shop can fail
into one of the :class:`ShopError` subclasses below, so the engine decides "retry later",
"park this item" or "stop and tell a person" from the exception type and ``retryable`` alone,
without knowing HTTP. Payloads that cannot be understood are a different kind of problem (the
shop answered, but with something we must not act on) and raise :class:`PayloadError`, or,
inside a page, become a :class:`RejectedPayload` so one broken order does not hold up the rest.

Messages in these exceptions are written for a person at the bench and never contain the
shop's credentials: :class:`ShopError` passes its message and code through
:func:`packbench.redact.redact` when it is made, so whatever the shop echoed back (the key, the
secret, their ``Authorization: Basic`` form) is masked before anyone can log, store or show it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# ProductIn lives next to OrderIn in intake so that operations.syncing can take it without
# importing the shop package; it is re-exported here as part of the adapter's vocabulary.
from packbench.operations.intake import OrderIn, ProductIn
from packbench.redact import redact

__all__ = [
    "AuthError",
    "NotFound",
    "OrderPage",
    "PayloadError",
    "PermanentError",
    "ProductIn",
    "ProductPage",
    "ProductRef",
    "RateLimited",
    "RejectedPayload",
    "RemoteOrder",
    "ShopAdapter",
    "ShopError",
    "TransientError",
]


class ShopError(Exception):
    """The shop could not be asked, or said no.

    ``retryable`` is what the sync engine acts on: retry later with back-off (waiting at least
    ``retry_after`` seconds when the shop said so) or park the item for a person.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = redact(code) if code is not None else None
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, "
            f"code={self.code!r}, retry_after={self.retry_after!r})"
        )


class AuthError(ShopError):
    """HTTP 401/403: the key and secret are wrong or lack permission. Retrying will not help;
    a person has to fix the credentials."""


class NotFound(ShopError):
    """HTTP 404: the order or route does not exist (deleted order, wrong shop URL)."""


class RateLimited(ShopError):
    """HTTP 429: the shop asks us to slow down; ``retry_after`` says for how long, if it did."""

    retryable = True


class TransientError(ShopError):
    """A failure that usually goes away: 5xx, 408, timeouts, refused or dropped connections."""

    retryable = True


class PermanentError(ShopError):
    """Any other refusal (4xx): the same request will fail again, so park it for a person."""


class PayloadError(ShopError, ValueError):
    """A payload that cannot be mapped into our types; the message names the field.

    The request worked, the content is wrong. Inside a page only that one order or product is
    rejected; a body that is unusable as a whole (not JSON, not a list, not the order asked
    for) raises this from the adapter call. It is also a :class:`ShopError` (not retryable), so
    a sync loop that handles ``ShopError`` parks or reports it instead of crashing, and a
    :class:`ValueError`, because that is what it is to code that maps payloads directly.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RejectedPayload:
    """One item of a page that was skipped, and why, for the log and the admin screen."""

    ref: str  # "order 727" when the id could be read, else "item #3 on page 2"
    reason: str  # names the field: "line_items[1].quantity: expected a positive integer, …"

    def __str__(self) -> str:
        return f"{self.ref}: {self.reason}"


@dataclass(frozen=True)
class ProductRef:
    """A product an order line names: the shop's product, and its variation if it is one (a
    variation is what has the SKU, GTIN, shelf and sizes; it is fetched through its parent)."""

    product_id: int
    variation_id: int | None = None

    @property
    def shop_id(self) -> int:
        """The id the bench keeps the product under (``Product.shop_product_id``)."""
        return self.variation_id or self.product_id


@dataclass(frozen=True)
class OrderPage:
    orders: tuple[OrderIn, ...]
    rejected: tuple[RejectedPayload, ...]
    page: int
    total_pages: int
    has_next: bool
    #: The products the page's orders name, each once, in the order they first appear.
    references: tuple[ProductRef, ...] = ()
    #: Whether ``total_pages`` is the shop's own count (``X-WP-TotalPages``); without it the
    #: total is only "this page, and one more if there is a next".
    counted: bool = True


@dataclass(frozen=True)
class ProductPage:
    products: tuple[ProductIn, ...]
    rejected: tuple[RejectedPayload, ...]
    page: int
    total_pages: int
    has_next: bool
    #: The newest ``date_modified`` on the page (taken or rejected): where the next
    #: incremental catalogue pull may start.
    newest_modified: datetime | None = None
    #: Whether ``total_pages`` is the shop's own count (see :class:`OrderPage`).
    counted: bool = True


@dataclass(frozen=True)
class RemoteOrder:
    """The little the bench needs to decide whether a push already happened ("already done?").

    ``meta`` holds the order's meta data whose values are plain strings or integers (as
    strings); anything structured is left out.
    """

    shop_order_id: int
    status: str
    modified_at: datetime | None
    meta: dict[str, str]


class ShopAdapter(Protocol):
    """One shop. Calls are blocking; the sync engine runs them off the UI thread.

    Every method raises :class:`ShopError` subclasses for transport and HTTP failures and
    :class:`PayloadError` for an answer that cannot be used. Fetches may be called from
    several threads at once, up to ``concurrency``.
    """

    #: How many requests the shop may be sent side by side (its rate limit allowing).
    concurrency: int

    def fetch_orders(
        self,
        *,
        status: str = "processing",
        modified_after: datetime | None,
        page: int = 1,
        per_page: int = 100,
    ) -> OrderPage: ...

    def fetch_products(
        self, *, page: int = 1, per_page: int = 100, modified_after: datetime | None = None
    ) -> ProductPage:
        """A page of the catalogue in id order; only products changed after
        ``modified_after`` when it is given."""
        ...

    def fetch_products_by_id(self, ids: Iterable[int]) -> ProductPage:
        """The products with these ids (asked for 100 at a time); ids the shop does not have
        are simply absent."""
        ...

    def fetch_variations(self, product_id: int, ids: Iterable[int]) -> ProductPage:
        """Variations of the variable product ``product_id`` with these ids."""
        ...

    def get_order(self, shop_order_id: int) -> RemoteOrder: ...

    def update_order(
        self,
        shop_order_id: int,
        *,
        status: str | None = None,
        meta: dict[str, str] | None = None,
    ) -> RemoteOrder: ...

    def add_note(self, shop_order_id: int, note: str, *, customer_note: bool = False) -> None: ...

    def list_notes(self, shop_order_id: int) -> tuple[str, ...]:
        """The texts of the order's notes, as the shop stores them: lets a push that may have
        landed check before adding a note a second time."""
        ...

    def close(self) -> None: ...
