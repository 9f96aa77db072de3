"""``packbench serve``: the app in a browser, through textual-serve.

textual-serve starts one ``packbench`` process per browser tab and relays its terminal over a
web socket. It has no authentication of its own, so it binds to loopback unless told otherwise
and then warns loudly; the dashboard still asks for a supervisor's badge and PIN, and every
operation checks the actor's role whatever screen it came from.
"""

from __future__ import annotations

import ipaddress
import shlex
import socket
import sys
from collections.abc import Sequence

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8070

WARNING = (
    "WARNING: packbench serve is binding to {host}, which is not loopback.\n"
    "textual-serve has NO authentication: anyone who can reach {host}:{port} gets a packbench\n"
    "terminal on this machine's database. Only do this on a network you trust, behind a\n"
    "firewall or an authenticating reverse proxy. The dashboard still asks for a PIN."
)


def is_loopback(host: str) -> bool:
    """True for addresses and names that only this machine can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def app_command(app_args: Sequence[str]) -> str:
    """The shell command textual-serve runs for each browser session."""
    return shlex.join([sys.executable, "-m", "packbench", *app_args])


def serve(host: str, port: int, app_args: Sequence[str], *, warn=print) -> None:  # type: ignore[no-untyped-def]
    """Serve the app until interrupted."""
    from textual_serve.server import Server

    if not is_loopback(host):
        warn(WARNING.format(host=host, port=port), file=sys.stderr)
    Server(app_command(app_args), host=host, port=port, title="packbench").serve()
