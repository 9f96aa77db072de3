"""A hostile WooCommerce shop on loopback: a real HTTP/1.1 server over raw sockets whose answers
are written byte by byte, so a test can drip them, compress them in layers or echo what the
bench sent (its ``Authorization`` header included).

Each test gives a ``respond(request) -> Answer`` function; :class:`Request` carries the request
line, the headers as received and the body.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"[]"
    headers: list[tuple[str, str]] = field(default_factory=list)
    #: Seconds between single bytes, from the first byte of the status line (0: all at once).
    drip_s: float = 0.0
    #: Drip only the body (the status line and headers go at once).
    drip_body_only: bool = False


REASONS = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error"}


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Request(method, target, headers, rest)


def _write(conn: socket.socket, answer: Answer, stop: threading.Event) -> None:
    head = f"HTTP/1.1 {answer.status} {REASONS.get(answer.status, 'Whatever')}\r\n"
    headers = [("Content-Length", str(len(answer.body))), *answer.headers]
    head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    raw = head.encode("latin-1")
    if not answer.drip_s:
        conn.sendall(raw + answer.body)
        return
    if answer.drip_body_only:
        conn.sendall(raw)
        raw = b""
    for i in range(len(raw + answer.body)):
        if stop.wait(answer.drip_s):
            return
        conn.sendall((raw + answer.body)[i : i + 1])


@contextmanager
def hostile_shop(respond: Callable[[Request], Answer]) -> Iterator[str]:
    """Serve ``respond`` on 127.0.0.1 → the shop's base URL; one thread per connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    port = listener.getsockname()[1]
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def handle(conn: socket.socket) -> None:
        conn.settimeout(10)
        with conn:
            try:
                while not stop.is_set():
                    request = _read_request(conn)
                    if request is None:
                        return
                    _write(conn, respond(request), stop)
            except OSError:
                return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=handle, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        listener.close()
        acceptor.join(5)
        deadline = time.monotonic() + 5
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
