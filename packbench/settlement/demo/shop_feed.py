"""The demo providers' window on the demo shop: its captures, read over its HTTP API.

The providers are a separate server from the shop, as they are in life: they learn of a capture
the way a provider does, from the shop's side of the payment, here the demo shop's
``GET /wp-json/packbench-demo/v1/captures`` and each captured order's
``GET /wp-json/wc/v3/orders/{id}`` (number, ``transaction_id``, when it was made, its first
item, the customer), with the shop's consumer key. An order's fields that matter here do not
change once captured, so each is asked for once. :meth:`ShopFeed.__call__` settles them as of
the clock's Oslo day (:func:`~packbench.settlement.demo.settle.settle`) and is what
:class:`~packbench.settlement.demo.server.DemoProviders` calls as its ``source``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from packbench.settlement.base import OSLO
from packbench.settlement.demo.data import ProviderData
from packbench.settlement.demo.settle import Capture, Settled, settle

__all__ = ["ShopFeed"]

CAPTURES = "/wp-json/packbench-demo/v1/captures"
ORDERS = "/wp-json/wc/v3/orders"


def _ore(text: Any) -> int:
    """WooCommerce's "398.00" (or a number) → øre, without floats."""
    whole, _, part = str(text).strip().partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole or "0")) * 100 + int((part + "00")[:2] or "0"))


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ShopFeed:
    def __init__(
        self,
        shop_url: str,
        key: str,
        secret: str,
        *,
        methods: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.BaseTransport | None = None,
        cache_s: float = 1.0,
    ) -> None:
        self.client = httpx.Client(
            base_url=shop_url.rstrip("/"), auth=(key, secret), timeout=10.0, transport=transport
        )
        self.methods = methods
        self.clock = clock
        self.cache_s = cache_s
        self._orders: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._last: tuple[float, Settled] | None = None

    def close(self) -> None:
        self.client.close()

    def _get(self, path: str) -> Any:
        response = self.client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"the demo shop answered HTTP {response.status_code} to {path}")
        return response.json()

    def captures(self) -> list[Capture]:
        out: list[Capture] = []
        for c in self._get(CAPTURES):
            oid = int(c["order_id"])
            if oid not in self._orders:
                self._orders[oid] = self._get(f"{ORDERS}/{oid}")
            order = self._orders[oid]
            items = order.get("line_items") or []
            first = _ore(items[0]["price"]) if items else 0
            billing = order.get("billing") or {}
            name = f"{billing.get('first_name', '')} {billing.get('last_name', '')}"
            out.append(
                Capture(
                    order_id=oid,
                    number=str(order.get("number") or oid),
                    amount_ore=int(c["amount_ore"]),
                    at=_time(c["captured_at"]) or self.clock(),
                    payment_method=str(c.get("payment_method") or order.get("payment_method")),
                    transaction_id=str(order.get("transaction_id") or ""),
                    created_at=_time(order.get("date_created_gmt")),
                    return_ore=first,
                    customer=name.strip(),
                )
            )
        return out

    def settled(self) -> Settled:
        """What the providers report today (cached for ``cache_s``: one import asks many pages)."""
        with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < self.cache_s:
                return self._last[1]
            today = self.clock().astimezone(OSLO).date()
            result = settle(self.captures(), today=today, methods=self.methods)
            self._last = (now, result)
            return result

    def __call__(self) -> ProviderData:
        return self.settled().data
