"""What the demo servers' fault injectors share (the demo shop's and the demo carrier's): the
ASGI types, hanging up without an answer, a JSON answer written by hand, the answer that is
lost after the work was done, and the one-second window of a rate limit.

Each injector keeps its own policy (which paths, which faults, the error bodies in its API's
shape); what is here is the mechanics, written once so a fix reaches both.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

__all__ = [
    "ASGIApp",
    "Message",
    "RateWindow",
    "Receive",
    "Scope",
    "Send",
    "discard",
    "drop_connection",
    "send_json",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def discard(message: Message) -> None:
    """The ``send`` of a request whose answer is lost: the work is done, nobody hears of it."""


async def drop_connection(receive: Receive, send: Send, *, opening: bytes = b"{") -> None:
    """Close the connection without a response, so the client sees "server disconnected".

    ASGI has no "hang up" message. With uvicorn, ``send`` is a method of the request cycle,
    which holds the transport: closing it and waiting for the disconnect makes uvicorn send
    nothing (it only answers 500 itself if the client is still there). Elsewhere, fall back to
    promising a body and breaking off after ``opening``, which the client also sees as a
    protocol error.
    """
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
    await send({"type": "http.response.body", "body": opening, "more_body": True})


async def send_json(
    send: Send,
    status: int,
    body: bytes,
    extra: Sequence[tuple[bytes, bytes]] = (),
    *,
    content_type: bytes = b"application/json",
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RateWindow:
    """Requests in the last second, for a requests-per-second limit."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._recent: deque[float] = deque()
        self._clock = clock

    def over(self, limit: int) -> int | None:
        """Seconds to wait if this request is one too many in the last second, else None (and
        the request is counted). Refused requests are not counted, so a client that waits as
        told gets through. ``limit`` 0 or less: no limit, nothing counted."""
        if limit <= 0:
            self._recent.clear()
            return None
        now = self._clock()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= limit:
            return max(1, math.ceil(1.0 - (now - self._recent[0])))
        self._recent.append(now)
        return None
