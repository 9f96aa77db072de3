"""Bounds on what a shop can make the bench spend: time, memory and parser depth per request.

A shop is a server on the internet, hacked or merely broken. httpx's own limits do not hold it:

- **Time.** httpx timeouts are per read: a shop that sends one byte every few seconds never
  trips them. :func:`deadline` sets a total deadline for everything one request does (connect,
  TLS, send, every read), and :class:`DeadlineBackend` (the network backend under httpx) gives
  each socket operation only the time left, so the call ends at its deadline, not one read
  timeout later.
- **Memory.** httpx decompresses ``Content-Encoding`` without an output limit: 1.8 KB of
  ``gzip, gzip`` unpacks to 2 GB in one call. :class:`BoundedBody` takes the raw bytes and
  decompresses the whole chain itself, in slices of :data:`SLICE` bytes, refusing the answer
  as soon as any stage's output passes the limit.
- **Depth.** One deeply nested order makes Python's JSON parser raise ``RecursionError`` for the
  whole page. :func:`decode_items` then splits the top-level array into its items with a flat
  scan and decodes each alone; any item nested deeper than ``max_depth`` becomes an
  :class:`Unreadable` in its place, so the page's other items still arrive. Broken JSON
  anywhere still refuses the whole answer: a broken transfer is asked for again, not taken in
  part.
"""

from __future__ import annotations

import json
import re
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

import httpcore

__all__ = [
    "MAX_DEPTH",
    "MAX_ENCODINGS",
    "SLICE",
    "BadEncoding",
    "BodyTooLarge",
    "BoundedBody",
    "DeadlineBackend",
    "NotJSON",
    "Unreadable",
    "deadline",
    "deadline_left",
    "decode_items",
    "install_deadline",
]

#: Deeper than any WooCommerce order (about 6 levels) with room for plugins' meta values.
MAX_DEPTH = 32
#: ``gzip, gzip`` is legal; a longer chain is an attack, not a shop.
MAX_ENCODINGS = 3
#: Decompressed bytes taken per step: what one stage holds in memory at a time.
SLICE = 64 * 1024

# --------------------------------------------------------------------------- time

_local = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Everything this thread sends and receives inside the block ends within ``seconds``."""
    previous = getattr(_local, "deadline", None)
    at = time.monotonic() + seconds
    _local.deadline = at if previous is None else min(previous, at)
    try:
        yield _local.deadline
    finally:
        _local.deadline = previous


def deadline_left() -> float | None:
    """Seconds left before this thread's deadline (may be ≤ 0), or None outside one."""
    at = getattr(_local, "deadline", None)
    return None if at is None else at - time.monotonic()


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    left = deadline_left()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the request's total deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(
            ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(stream)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """A network backend whose every socket operation gets at most the thread's time left."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host,
            port,
            _bounded(timeout, httpcore.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, _bounded(timeout, httpcore.ConnectTimeout), socket_options=socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install_deadline(transports: Iterable[object]) -> int:
    """Put :class:`DeadlineBackend` under httpx's own transports (the default one and those
    for proxies from the environment); returns how many took it.

    httpx does not let a caller choose the network backend of the transport it builds, so this
    reaches into its connection pools; a test fails loudly if an httpx upgrade moves them.
    """
    count = 0
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is None:
            continue
        if not isinstance(backend, DeadlineBackend):
            pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]  # httpx's private pool: install_deadline checks it is there
        count += 1
    return count


# --------------------------------------------------------------------------- memory


class BodyTooLarge(ValueError):
    """The answer (raw or after any stage of decompression) passed its limit."""


class BadEncoding(ValueError):
    """A Content-Encoding we do not decode, too long a chain, or a broken compressed stream."""


class _Stage:
    """One ``gzip``/``deflate`` layer, decompressed in bounded slices."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.produced = 0
        self._first = True
        self._obj = self._new()

    def _new(self) -> Any:
        if self.encoding == "deflate":
            return zlib.decompressobj()  # zlib format; raw deflate is tried on the first error
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def slices(self, data: bytes) -> Iterator[bytes]:
        """The decompressed output of ``data``, :data:`SLICE` bytes at most at a time."""
        while True:
            try:
                out = self._obj.decompress(data, SLICE)
            except zlib.error:
                if self.encoding == "deflate" and self._first:
                    # Some servers send raw deflate for "deflate" (as httpx also tolerates).
                    self._first = False
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise BadEncoding(f"the {self.encoding} data is broken") from None
            self._first = False
            data = self._obj.unconsumed_tail
            if self._obj.eof and self._obj.unused_data:
                # A second gzip member follows (valid gzip): decode it as well.
                data = self._obj.unused_data + data
                self._obj = self._new()
            self.produced += len(out)
            if out:
                yield out
            if not data and len(out) < SLICE:
                return

    def finish(self) -> None:
        if not self._obj.eof:
            raise BadEncoding(f"the {self.encoding} data ends early")


class BoundedBody:
    """Raw response bytes in, the decoded body out, never holding more than ``limit`` decoded
    bytes (plus one slice per stage) however the body is compressed.

    ``truncate`` keeps the first ``limit`` bytes instead of refusing (an error page needs only
    its beginning).
    """

    def __init__(self, content_encoding: list[str], limit: int, *, truncate: bool = False) -> None:
        names = [e.strip().lower() for e in content_encoding if e.strip()]
        names = [n for n in names if n != "identity"]
        if len(names) > MAX_ENCODINGS:
            raise BadEncoding(f"{len(names)} content encodings in a row")
        for name in names:
            if name not in ("gzip", "x-gzip", "deflate"):
                raise BadEncoding(f"content encoding {name[:20]!r} is not one we asked for")
        # Encodings are listed in the order they were applied: undo the last one first.
        self._stages = [_Stage("deflate" if n == "deflate" else "gzip") for n in reversed(names)]
        self._limit = limit
        self._truncate = truncate
        self._raw = 0
        self._size = 0
        self._chunks: list[bytes] = []
        self.full = False  # truncate mode: the limit was reached, later bytes are dropped

    def feed(self, raw: bytes) -> None:
        if self.full:
            return
        self._raw += len(raw)
        if self._raw > self._limit and not self._truncate:
            raise BodyTooLarge(f"larger than {self._limit:,} bytes")
        self._push(0, raw)

    def _push(self, index: int, data: bytes) -> None:
        if index == len(self._stages):
            self._emit(data)
            return
        stage = self._stages[index]
        for piece in stage.slices(data):
            if stage.produced > self._limit and not self._truncate:
                raise BodyTooLarge(f"larger than {self._limit:,} bytes once decompressed")
            self._push(index + 1, piece)
            if self.full:
                return

    def _emit(self, data: bytes) -> None:
        room = self._limit - self._size
        if len(data) > room:
            if not self._truncate:
                raise BodyTooLarge(f"larger than {self._limit:,} bytes once decompressed")
            data, self.full = data[:room], True
        self._size += len(data)
        self._chunks.append(data)

    def result(self) -> bytes:
        if not self.full:
            for stage in self._stages:
                stage.finish()
        return b"".join(self._chunks)


# --------------------------------------------------------------------------- depth


@dataclass(frozen=True)
class Unreadable:
    """An item of a JSON array that was not decoded because it is nested too deeply."""

    reason: str
    id: int | None = None  # the item's ``"id"`` when it could be read from its first bytes


class NotJSON(ValueError):
    """The body as a whole is not JSON (or, not an array, is nested too deeply)."""


# A JSON string (escapes included) or one structural character: everything else is skipped.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
_LEADING_ID = re.compile(rb'\A\s*\{\s*"id"\s*:\s*([0-9]{1,19})\s*[,}]')
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_COMMA = ord(",")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


def _loads(content: bytes) -> Any:
    return json.loads(content, parse_float=Decimal, parse_constant=_reject_constant)


def _max_depth(content: bytes) -> int:
    depth = deepest = 0
    for match in _TOKEN.finditer(content):
        ch = content[match.start()]
        if ch in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif ch in _CLOSE:
            depth -= 1
    return deepest


def _array_items(content: bytes) -> list[tuple[int, int, int]] | None:
    """``(start, end, depth)`` of each item of a top-level array, or None when ``content`` is
    not one. Raises :class:`NotJSON` when the array's own brackets do not add up."""
    start = len(content) - len(content.lstrip())
    if content[start : start + 1] != b"[":
        return None
    items: list[tuple[int, int, int]] = []
    depth = 0
    item_start = start + 1
    item_depth = 0
    end = None
    for match in _TOKEN.finditer(content, start):
        pos = match.start()
        ch = content[pos]
        if ch in _OPEN:
            depth += 1
            item_depth = max(item_depth, depth - 1)
        elif ch in _CLOSE:
            depth -= 1
            if depth == 0:
                if content[item_start:pos].strip() or items:
                    items.append((item_start, pos, item_depth))
                end = pos + 1
                break
            if depth < 0:
                break
        elif ch == _COMMA and depth == 1:
            items.append((item_start, pos, item_depth))
            item_start, item_depth = pos + 1, 0
    if end is None or content[end:].strip():
        raise NotJSON("not JSON (its list does not close where the answer ends)")
    return items


def _depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests (a scalar is 0), counting no further than ``limit + 1``.
    Level by level, so the work is one pass over the containers, in comprehensions."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level and depth <= limit:
        depth += 1
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
    return depth


def decode_items(content: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode a shop's JSON answer, every non-integer number as :class:`~decimal.Decimal`.

    In a top-level array, an item nested deeper than ``max_depth`` becomes an
    :class:`Unreadable` in its place. Anything else (an object) nested too deeply, or anything
    that is not JSON, is refused with :class:`NotJSON`.

    The common case is one ``json.loads`` and a walk over the containers it made. Only when the
    parser itself gives up (``RecursionError``: an item nested hundreds of levels deep) is the
    array split into its items by a flat scan of the bytes and each decoded alone.
    """
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        data = _loads(content)
    except RecursionError:
        return _decode_one_by_one(content, max_depth)
    except ValueError:
        raise NotJSON("not JSON") from None
    if isinstance(data, list):
        return [
            _unreadable(item, max_depth) if _depth(item, max_depth) > max_depth else item
            for item in data
        ]
    depth = _depth(data, max_depth)
    if depth > max_depth:
        raise NotJSON(f"nested more than {max_depth} levels deep")
    return data


def _unreadable(item: Any, max_depth: int) -> Unreadable:
    item_id = item.get("id") if isinstance(item, dict) else None
    if not (isinstance(item_id, int) and not isinstance(item_id, bool) and item_id > 0):
        item_id = None
    return Unreadable(f"nested more than {max_depth} levels deep", item_id)


def _decode_one_by_one(content: bytes, max_depth: int) -> Any:
    items = _array_items(content)
    if items is None:
        depth = _max_depth(content)
        raise NotJSON(f"nested {depth} levels deep (more than {max_depth})")
    out: list[Any] = []
    for start, end, depth in items:
        piece = content[start:end]
        if depth > max_depth:
            found = _LEADING_ID.match(piece)
            out.append(
                Unreadable(
                    f"nested more than {max_depth} levels deep",
                    int(found.group(1)) if found else None,
                )
            )
            continue
        try:
            out.append(_loads(piece))
        except (ValueError, RecursionError):
            # Broken syntax is a broken answer (a cut-off transfer, a PHP notice), not one bad
            # order: the page is asked for again rather than taken in part.
            raise NotJSON("not JSON") from None
    return out
