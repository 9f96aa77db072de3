"""Booking without ever booking twice: the one rule about retrying a carrier.

Carrier APIs have no idempotency key. A booking request that timed out, lost its connection or
got a 5xx (or an answer we could not read) may have been booked all the same, so it is never
simply sent again: the booking is first looked up by the order's reference. Found → that is
the booking (``recovered``). Not found → sent again only when the carrier's lookup is trusted
to list a booking at once (``trust_empty_lookup``, on for the demo carrier; Bring's tracking
search may lag, which the examples' README leaves unconfirmed, so it is off by default); else
:class:`~packbench.carriers.base.BookingUndecided`, and a person decides. A 429 or a refused
connection is sent again after a back-off: nothing was booked.

Pure of the database: the operations layer records "booking requested" and commits before
calling :func:`book`, and passes ``uncertain=True`` when it finds a request recorded by a
process that died before it recorded the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from packbench.carriers.base import (
    BookingUndecided,
    Carrier,
    CarrierError,
    CarrierShipment,
    NumberSource,
    PayloadError,
    RateLimited,
    ShipmentRequest,
    TransientError,
)

__all__ = ["RetryPolicy", "book", "look_up"]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # booking requests sent at most, per call of :func:`book`
    backoff_s: float = 0.5  # the first wait; doubled after each failure
    max_backoff_s: float = 8.0
    #: A lookup that finds nothing means nothing was booked (safe only if the carrier lists a
    #: new booking at once).
    trust_empty_lookup: bool = False
    #: Wait this long before looking a booking up (a carrier may index new bookings late).
    lookup_delay_s: float = 0.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be 1 or more")
        if self.backoff_s < 0 or self.max_backoff_s < 0 or self.lookup_delay_s < 0:
            raise ValueError("waits cannot be negative")


def look_up(carrier: Carrier, request: ShipmentRequest) -> CarrierShipment | None:
    """The carrier's booking for ``request.ref``, None if it has none; any failure to find out
    becomes :class:`BookingUndecided` (a lookup that cannot be done cannot decide anything)."""
    try:
        return carrier.find_booking(request)
    except BookingUndecided:
        raise
    except CarrierError as exc:
        raise BookingUndecided(
            f"order {request.order_number}: the booking's outcome is unknown and looking it up "
            f"by reference {request.ref!r} failed: {exc.message}"
        ) from None


def book(
    carrier: Carrier,
    request: ShipmentRequest,
    numbers: NumberSource,
    *,
    policy: RetryPolicy | None = None,
    uncertain: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> CarrierShipment:
    """Book ``request`` exactly once.

    Raises :class:`~packbench.carriers.base.Rejected` (and other non-retryable errors) at once,
    :class:`BookingUndecided` when a booking may exist and the lookup cannot say, and the last
    retryable error when every attempt failed and the lookup says nothing was booked.
    """
    policy = policy or RetryPolicy()
    wait = policy.backoff_s
    sent = 0
    last: CarrierError | None = None
    while True:
        if uncertain:
            if policy.lookup_delay_s:
                sleep(policy.lookup_delay_s)
            found = look_up(carrier, request)
            if found is not None:
                return found
            if not policy.trust_empty_lookup:
                why = f" ({last.message})" if last is not None else ""
                raise BookingUndecided(
                    f"order {request.order_number}: a booking request may have reached "
                    f"{carrier.name}{why}, and its lookup by reference {request.ref!r} finds "
                    "none yet; a new booking could be a second one. Check with the carrier "
                    "before booking again."
                )
            uncertain = False
        if sent >= policy.attempts:
            assert last is not None
            raise last
        sent += 1
        try:
            return carrier.create_shipment(request, numbers)
        except RateLimited as exc:
            last = exc
            sleep(min(max(exc.retry_after or 0.0, wait), max(policy.max_backoff_s, wait)))
        except TransientError as exc:
            last = exc
            uncertain = exc.sent
            sleep(wait)
        except PayloadError as exc:
            # The carrier answered 2xx with something we cannot read: it may have booked.
            last = exc
            uncertain = True
        wait = min(wait * 2, policy.max_backoff_s)
