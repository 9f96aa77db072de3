"""Fault injection for the demo shop: errors, dropped connections, latency and rate limits.

A raw ASGI wrapper around the WooCommerce routes only (``/wp-json/wc/…``); the demo's own
endpoints (health, ledger, captures, faults) are never disturbed, so a test can always look
at the books and switch the faults off again.

The nastiest fault is modelled on purpose: a write that "fails" (500 or a dropped connection)
may already have been applied — the client cannot tell, and must read the order back before
it retries. Decisions come from one ``random.Random(seed)``, so a test with a fixed seed and a
fixed sequence of requests sees the same faults every run.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from packbench.loopback_faults import (
    ASGIApp,
    Message,
    RateWindow,
    Receive,
    Scope,
    Send,
    discard,
    drop_connection,
    send_json,
)

__all__ = ["ASGIApp", "FaultInjector", "FaultSettings", "Message", "Receive", "Scope", "Send"]

_JSON = b"application/json; charset=UTF-8"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class FaultSettings:
    """What goes wrong, changeable while the shop runs (``POST …/packbench-demo/v1/faults``).

    ``fail_rate``: share of WooCommerce requests that fail; of those, ``drop_share`` lose the
    connection without any answer and the rest get a 500; a failing *write* has been applied
    anyway with probability ``applied_share``. ``latency_ms`` is added to every WooCommerce
    request; ``rate_limit`` is requests per second before 429 (0 = no limit).
    ``fields_lost_share``: share of answers to a ``_fields`` request that lack some of the
    fields asked for (``line_items``, ``meta_data``), as with a plugin that breaks ``_fields``.
    """

    fail_rate: float = 0.0
    latency_ms: int = 0
    rate_limit: int = 0
    drop_share: float = 0.5
    applied_share: float = 0.5
    fields_lost_share: float = 0.0

    def __post_init__(self) -> None:
        self.update(asdict(self))

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply ``changes`` (any subset of the fields) all or nothing; ValueError if bad."""
        fields = asdict(self)
        unknown = set(changes) - set(fields)
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        new = dict(fields)
        for name, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if name in ("latency_ms", "rate_limit"):
                if value != int(value) or value < 0:
                    raise ValueError(f"{name} must be a whole number, 0 or more")
                value = int(value)
            elif not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
            new[name] = value
        for name, value in new.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _error_body(status: int, code: str, message: str) -> bytes:
    body = {"code": code, "message": message, "data": {"status": status}}
    return json.dumps(body).encode()


class FaultInjector:
    """ASGI middleware: rate limit, latency and failures for paths under ``prefix``."""

    def __init__(
        self,
        app: ASGIApp,
        settings: FaultSettings,
        *,
        seed: int | None = None,
        prefix: str = "/wp-json/wc/",
    ) -> None:
        self.app = app
        self.settings = settings
        self.prefix = prefix
        self.rng = random.Random(seed)
        self._window = RateWindow()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        s = self.settings
        retry_after = self._window.over(s.rate_limit)
        if retry_after is not None:
            body = _error_body(
                429,
                "rate_limit_exceeded",
                f"Too many requests. Please wait {retry_after} seconds before trying again.",
            )
            await send_json(send, 429, body, [(b"retry-after", str(retry_after).encode())],
                            content_type=_JSON)  # fmt: skip
            return
        if s.latency_ms > 0:
            await asyncio.sleep(s.latency_ms / 1000)
        if not (s.fail_rate > 0 and self.rng.random() < s.fail_rate):
            await self.app(scope, receive, send)
            return
        drop = self.rng.random() < s.drop_share
        if scope["method"] not in _SAFE_METHODS and self.rng.random() < s.applied_share:
            await self.app(scope, receive, discard)
        if drop:
            await drop_connection(receive, send, opening=b"[")
        else:
            body = _error_body(
                500, "internal_server_error", "There has been a critical error on this website."
            )
            await send_json(send, 500, body, content_type=_JSON)
