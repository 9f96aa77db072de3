"""Fault injection for the demo carrier: 5xx, dropped connections, latency, 429s and the
dangerous one — the booking is made, and the answer is lost.

Raw ASGI around every route but ``/_demo/…``. Random faults come from one
``random.Random(seed)``; a test that wants one exact fault on the next request puts it in
``next`` (``"429"``, ``"500"``, ``"drop"``, ``"lose"``), taken first-in first-out.

- ``fail_rate``: share of requests that fail without being acted on; of those ``drop_share``
  lose the connection, the rest get a 500 in the shape of the API asked (Bring's
  ``BOOK-INTERNAL-001``, Cargonizer's ``<errors>``, Shipmondo's ``{"error": …}``).
- ``lose_answer_rate``: share of writes (bookings) that are carried out (booked and written to
  the file) and then lose the connection instead of the answer.
- ``latency_ms`` before every request; ``answer_latency_ms`` after a request was carried out,
  before its answer (the window in which a client killed has booked without knowing);
  ``rate_limit`` requests per second before a 429.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
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

__all__ = [
    "FAULT_KINDS",
    "ASGIApp",
    "FaultInjector",
    "FaultSettings",
    "Message",
    "Receive",
    "Scope",
    "Send",
]

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


def _answer(path: str, status: int) -> tuple[bytes, bytes]:
    """(content type, body) of a fault's answer in the shape of the API under ``path``."""
    if path.startswith("/shipmondo/"):  # {"error": …}; its 429 is plain text (README)
        if status == 429:
            return b"text/plain", b"Too many requests"
        return b"application/json", json.dumps({"error": "Internal server error"}).encode()
    if path.startswith("/cargonizer/"):
        xml = "<errors><info><request-id>demo</request-id></info><error>{}</error></errors>"
        said = "For mange forespørsler" if status == 429 else "Intern feil"
        return b"application/xml; charset=utf-8", xml.format(said).encode()
    if status == 429:
        return b"application/json", json.dumps({"message": "Too Many Requests"}).encode()
    error = {
        "code": "BOOK-INTERNAL-001",
        "messages": [{"lang": "en", "message": "An unexpected error occurred"}],
    }
    return b"application/json", json.dumps(
        {"consignments": [{"confirmation": None, "errors": [error]}]}
    ).encode()


class FaultInjector:
    def __init__(self, app: ASGIApp, settings: FaultSettings, *, seed: int | None = None):
        self.app = app
        self.settings = settings
        self.rng = random.Random(seed)
        self._window = RateWindow()

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
        if kind in ("429", "500"):
            status = int(kind)
            ctype, body = _answer(scope["path"], status)
            extra = [(b"retry-after", b"1")] if status == 429 else []
            await send_json(send, status, body, extra, content_type=ctype)
        elif kind == "drop":
            await drop_connection(receive, send)
        elif kind == "lose":
            await self.app(scope, receive, discard)
            await drop_connection(receive, send)
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
        if s.rate_limit > 0 and self._window.over(s.rate_limit) is not None:
            return "429"
        if s.fail_rate > 0 and self.rng.random() < s.fail_rate:
            return "drop" if self.rng.random() < s.drop_share else "500"
        if write and s.lose_answer_rate > 0 and self.rng.random() < s.lose_answer_rate:
            return "lose"
        return None
