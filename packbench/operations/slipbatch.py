"""A batch of packing slips that one order cannot stop.

F7 at the admin station prints every new order's slip as one job. An order whose slip cannot be
made — its number cannot be the slip's barcode (``ORD-<number>`` as Code 128: full-width
digits, ``Æ``), or drawing its slip fails for any other reason — used to stop the whole batch
with no message. Now it is left out by name, with why, and every other slip prints; the order
stays *new*, so it is in the next batch again and named again until someone deals with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from packbench.core.code128 import order_code_problem
from packbench.operations.views import OrderDetail

__all__ = ["LEFT_OUT_SHOWN", "left_out_text", "render_batch"]

log = logging.getLogger(__name__)

LEFT_OUT_SHOWN = 3  # a message names this many left-out orders; the log has them all


def left_out_text(left_out: Sequence[str]) -> str:
    """The orders a batch left out, for a person: the first few with why, then a count."""
    if not left_out:
        return ""
    named = "; ".join(left_out[:LEFT_OUT_SHOWN])
    more = len(left_out) - LEFT_OUT_SHOWN
    tail = f"; and {more} more (see the log)" if more > 0 else ""
    return f"No slip for {named}{tail}."


def _leave_out(left_out: list[str], number: str, why: str) -> None:
    log.warning("slip of order %s left out of the batch: %s", number, why)
    left_out.append(f"order {number}: {why}")


def render_batch(
    details: Sequence[OrderDetail],
    render: Callable[[list[OrderDetail]], bytes],
    *,
    prefix: str = "ORD-",
) -> tuple[bytes | None, list[OrderDetail], list[str]]:
    """The batch's PDF (``None`` when no slip could be made), the orders in it, and the ones
    left out, each "order N: why". Orders whose number cannot be the barcode are left out
    first; if drawing the rest still fails, each is drawn alone to find the ones that fail,
    and the batch is drawn again without them."""
    left_out: list[str] = []
    printable: list[OrderDetail] = []
    for detail in details:
        problem = order_code_problem(detail.summary.number, prefix)
        if problem is None:
            printable.append(detail)
        else:
            _leave_out(
                left_out,
                detail.summary.number,
                f"its number cannot be printed as a barcode: it {problem}",
            )
    if not printable:
        return None, [], left_out
    try:
        return render(printable), printable, left_out
    except Exception:
        log.exception("a slip batch of %d orders could not be drawn; trying each", len(printable))
    good: list[OrderDetail] = []
    for detail in printable:
        try:
            render([detail])
        except Exception as exc:
            _leave_out(left_out, detail.summary.number, f"its slip could not be drawn ({exc})")
        else:
            good.append(detail)
    return (render(good) if good else None), good, left_out
