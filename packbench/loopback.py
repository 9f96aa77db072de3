"""Serve an ASGI app on loopback: the bundled demo shop, demo carrier and demo providers.

Each is a real HTTP server (uvicorn) on 127.0.0.1, either in the foreground (its own command)
or from a daemon thread beside the app (``packbench demo``, the tests). One way of doing it for
all three, so a fix (Nagle's delay, a start that never comes) reaches every demo.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

__all__ = [
    "HOST",
    "DefaultsHelp",
    "listen",
    "serve_forever",
    "serve_in_thread",
    "uvicorn_server",
]

HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0


class DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in --help, except where there is none to show (the demo servers'
    commands: ``packbench demo-shop --help`` and ``demo-carrier --help``)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def listen(port: int, *, backlog: int = 128) -> socket.socket:
    """A listening TCP socket on loopback (``port`` 0: any free port)."""
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it Nagle + delayed ACKs add ~40 ms to every keep-alive request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def uvicorn_server(
    app: Any,
    *,
    lifespan: Literal["auto", "on", "off"] = "on",
    access_log: bool = False,
    log_level: str = "warning",
) -> Any:
    """A uvicorn server for ``app``: HTTP/1.1 only, asyncio, a short graceful shutdown."""
    import uvicorn

    config = uvicorn.Config(
        app,
        lifespan=lifespan,
        log_level=log_level,
        access_log=access_log,
        http="h11",
        ws="none",
        loop="asyncio",
        timeout_graceful_shutdown=3,
    )
    return uvicorn.Server(config)


def serve_in_thread(
    app: Any, *, name: str, port: int = 0, lifespan: Literal["auto", "on", "off"] = "on"
) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` from a daemon thread → ``(base_url, stop)``, once it is listening."""
    sock = listen(port)
    server = uvicorn_server(app, lifespan=lifespan)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the {name.replace('-', ' ')} did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return f"http://{HOST}:{sock.getsockname()[1]}", stop


def serve_forever(app: Any, *, name: str, port: int, banner: str, access_log: bool = False) -> int:
    """Serve ``app`` in the foreground until interrupted (a demo's own command). Prints one
    line once listening — ``{name} on http://127.0.0.1:PORT {banner}`` — which a parent
    process can wait for; 1 when the port cannot be had."""
    import sys

    try:
        sock = listen(port)
    except OSError as exc:
        print(f"{name}: cannot listen on {HOST}:{port}: {exc}", file=sys.stderr)
        return 1
    print(f"{name} on http://{HOST}:{sock.getsockname()[1]} {banner}".rstrip(), flush=True)
    server = uvicorn_server(app, access_log=access_log, log_level="info")
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0
