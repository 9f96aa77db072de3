"""Fault injection for the demo carrier: 5xx, dropped connections, latency, 429s and the
dangerous one — the booking is made, and the answer is lost.

Raw ASGI around every route but ``/_demo/…``. Random faults come from one
``random.Random(seed)``; a test that wants one exact fault on the next request puts it in
``next`` (``"429"``, ``"500"``, ``"drop"``, ``"lose"``), taken first-in first-out.

- ``fail_rate``: share of requests that fail without being acted on; of those ``drop_share``
  lose the connection, the rest get Bring's 500 (``BOOK-INTERNAL-001``).
- ``lose_answer_rate``: share of writes (bookings) that are carried out (booked and written to
  the file) and then lose the connection instead of the answer.
- ``latency_ms`` before every request; ``answer_latency_ms`` after a request was carried out,
  before its answer (the window in which a client killed has booked without knowing);
  ``rate_limit`` requests per second before a 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAULT_KINDS", "FaultInjector", "FaultSettings"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FAULT_KINDS = ("429", "500", "drop", "lose")
_SHARES = ("fail_rate", "drop_share", "lose_answer_rate")
_COUNTS = ("latency_ms", "answer_latency_ms", "rate_limit")


@dataclass
class FaultSettings:
    fail_rate: float = 0.0
    drop_share: float = 0.5
    lose_answer_rate: float = 0.0
    latency_ms: int = 0
    answer_latency_ms: int = 0
    rate_limit: int = 0
    next: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.update(self.as_dict())

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply ``changes`` all or nothing; ValueError naming the bad one."""
        if not isinstance(changes, Mapping):
            raise ValueError("faults must be a JSON object")
        new = self.as_dict()
        for name, value in changes.items():
            if name in _SHARES:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{name} must be a number")
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{name} must be between 0 and 1")
            elif name in _COUNTS:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{name} must be a whole number, 0 or more")
            elif name == "next":
                if not isinstance(value, list) or any(v not in FAULT_KINDS for v in value):
                    raise ValueError(f"next must be a list of {', '.join(FAULT_KINDS)}")
                value = list(value)
            else:
                raise ValueError(f"unknown fault setting {name!r}")
            new[name] = value
        with self._lock:
            for name, value in new.items():
                setattr(self, name, value)

    def take_next(self) -> str | None:
        with self._lock:
            return self.next.pop(0) if self.next else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "fail_rate": self.fail_rate,
            "drop_share": self.drop_share,
            "lose_answer_rate": self.lose_answer_rate,
            "latency_ms": self.latency_ms,
            "answer_latency_ms": self.answer_latency_ms,
            "rate_limit": self.rate_limit,
            "next": list(self.next),
        }


async def _discard(message: Message) -> None:
    """The ``send`` of a request whose answer is lost: the work is done, nobody hears of it."""


async def _drop_connection(receive: Receive, send: Send) -> None:
    """Close the connection without a response (with uvicorn, closing the transport makes it
    send nothing); elsewhere promise a body and break off."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and callable(getattr(transport, "close", None)):
        transport.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                while (await receive())["type"] != "http.disconnect":
                    pass
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b"{", "more_body": True})


async def _json(send: Send, status: int, body: Any, extra: list[tuple[bytes, bytes]]) -> None:
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class FaultInjector:
    def __init__(self, app: ASGIApp, settings: FaultSettings, *, seed: int | None = None):
        self.app = app
        self.settings = settings
        self.rng = random.Random(seed)
        self._recent: deque[float] = deque()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_demo/"):
            await self.app(scope, receive, send)
            return
        s = self.settings
        if s.latency_ms > 0:
            await asyncio.sleep(s.latency_ms / 1000)
        kind = s.take_next()
        if kind is None:
            kind = self._random(scope["method"] not in ("GET", "HEAD", "OPTIONS"))
        if kind == "429":
            wait = self._over_limit(0) or 1
            await _json(send, 429, {"message": "Too Many Requests"},
                        [(b"retry-after", str(wait).encode())])  # fmt: skip
        elif kind == "500":
            error = {
                "code": "BOOK-INTERNAL-001",
                "messages": [{"lang": "en", "message": "An unexpected error occurred"}],
            }
            body = {"consignments": [{"confirmation": None, "errors": [error]}]}
            await _json(send, 500, body, [])
        elif kind == "drop":
            await _drop_connection(receive, send)
        elif kind == "lose":
            await self.app(scope, receive, _discard)
            await _drop_connection(receive, send)
        elif s.answer_latency_ms > 0:
            delay = s.answer_latency_ms / 1000

            async def late(message: Message) -> None:
                if message["type"] == "http.response.start":
                    await asyncio.sleep(delay)
                await send(message)

            await self.app(scope, receive, late)
        else:
            await self.app(scope, receive, send)

    def _random(self, write: bool) -> str | None:
        s = self.settings
        if s.rate_limit > 0 and self._over_limit(s.rate_limit) is not None:
            return "429"
        if s.fail_rate > 0 and self.rng.random() < s.fail_rate:
            return "drop" if self.rng.random() < s.drop_share else "500"
        if write and s.lose_answer_rate > 0 and self.rng.random() < s.lose_answer_rate:
            return "lose"
        return None

    def _over_limit(self, limit: int) -> int | None:
        """Seconds to wait if this request is one too many in the last second, else None
        (the request is counted). ``limit`` 0: only the wait for a forced 429."""
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if limit <= 0:
            return None
        if len(self._recent) >= limit:
            return max(1, math.ceil(1.0 - (now - self._recent[0])))
        self._recent.append(now)
        return None
