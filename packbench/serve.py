"""``packbench serve``: the app in a browser (textual-serve), for the bench's own page only.

textual-serve starts one ``packbench`` process per browser tab and relays its terminal over a
web socket. It checks nothing itself, so :class:`BenchServer` (a subclass: the library's files
stay as installed) puts a guard in front of every request:

- the ``Host`` header must name the served address (loopback by default; on ``0.0.0.0`` one of
  this machine's addresses or names): a name that merely *resolves* here — DNS rebinding — is
  refused, and so is a port that is not ours;
- the web socket (and the sign-in form) must come from a page of that same origin (``Origin``
  is ``http://`` + the ``Host``): another site open in the supervisor's browser cannot read the
  bench or scan a badge into it. A web socket without ``Origin`` (no browser sends none) is
  refused too;
- on an address other machines can reach (or with ``--require-token``) every page asks for an
  access token, made at start and printed once; the right one, compared in constant time,
  gives the browser an HttpOnly, SameSite=Strict cookie for as long as the server runs.

The page is our own (``PAGE``): no font or script from another host, a Content-Security-Policy
that lets it connect to its own origin only, and the web socket's address taken from the
``Host`` the browser used, never the bind address (``ws://0.0.0.0`` reaches nothing).
"""

from __future__ import annotations

import asyncio
import hmac
import html
import ipaddress
import os
import re
import secrets
import shlex
import socket
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8070
WILDCARDS = ("0.0.0.0", "::", "")
SHUTDOWN_S = 10  # how long the tabs' apps get to quit when the server stops
_HOST_CHARS = re.compile(r"[A-Za-z0-9.\-_:\[\]]+")

NOTE_REMOTE = (
    "packbench serve is listening on {host}, which other machines can reach. Every browser\n"
    "must give the access token below (it is shown this once; a restart makes a new one).\n"
    "The traffic is plain HTTP: on a network you do not trust, keep the default (loopback)\n"
    "and reach it through an SSH tunnel (ssh -L 8070:127.0.0.1:8070 THIS-MACHINE) instead."
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


def split_host(value: str | None) -> tuple[str, int | None] | None:
    """The lower-case name (IPv6 without brackets) and port of a ``Host`` header, or None when
    the value is not a plain ``host[:port]``."""
    if not value or len(value) > 300 or not _HOST_CHARS.fullmatch(value):
        return None
    try:
        parts = urlsplit("//" + value)
        port = parts.port
    except ValueError:
        return None
    name = parts.hostname
    if not name or name.endswith("."):
        return None
    return name, port


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def _is_own_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``ip`` is an address of this machine: only those can be bound."""
    family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(ip), 0))
    except OSError:
        return False
    return True


def _resolve(name: str) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return set()
    return {ip for info in infos if (ip := _ip(str(info[4][0]).split("%", 1)[0])) is not None}


class Gate:
    """Which requests may reach the bench: the ``Host``, ``Origin`` and token rules.

    Knows nothing of aiohttp, so each rule is tested on its own. Its repr shows no secret.
    """

    def __init__(
        self,
        bind_host: str,
        port: int,
        *,
        token: str | None = None,
        names: Iterable[str] = (),
    ) -> None:
        self.port = port
        self.wildcard = bind_host in WILDCARDS
        self.token = token
        self.session = secrets.token_urlsafe(32) if token else None
        self.cookie_name = f"packbench_session_{port}"  # cookies are shared between ports
        self.names = {n.lower().rstrip(".") for n in names if n}
        self.addresses: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
        bind_ip = _ip(bind_host)
        if bind_ip is not None:
            self.addresses.add(bind_ip)
        elif not self.wildcard:
            self.names.add(bind_host.lower().rstrip("."))
            self.addresses |= _resolve(bind_host)  # aiohttp binds every address of the name
        if self.wildcard or all(ip.is_loopback for ip in self.addresses):
            self.names.add("localhost")  # browsers keep localhost on loopback themselves
        if self.wildcard:
            for name in (socket.gethostname(), socket.getfqdn()):
                if name:
                    self.names.add(name.lower().rstrip("."))

    def __repr__(self) -> str:
        return f"Gate(port={self.port}, token={'yes' if self.token else 'no'})"

    def host_ok(self, host: str | None) -> bool:
        """The ``Host`` header names this server: its address or name, and its port."""
        parsed = split_host(host)
        if parsed is None:
            return False
        name, port = parsed
        if (port if port is not None else 80) != self.port:
            return False
        ip = _ip(name)
        if ip is None:
            return name in self.names
        if ip in self.addresses:
            return True
        return self.wildcard and _is_own_address(ip)

    def origin_ok(self, origin: str | None, host: str | None) -> bool:
        """The request comes from a page of this very origin (``Host`` checked already)."""
        if not origin or not host:
            return False
        origin = origin.lower()
        host = host.lower()
        return origin in (f"http://{host}", f"https://{host}")

    def token_ok(self, given: str | None) -> bool:
        if self.token is None:
            return True
        return hmac.compare_digest((given or "").encode(), self.token.encode())

    def session_ok(self, cookie: str | None) -> bool:
        if self.session is None:
            return True
        return hmac.compare_digest((cookie or "").encode(), self.session.encode())

    def set_cookie_header(self) -> str:
        assert self.session is not None
        return f"{self.cookie_name}={self.session}; Path=/; HttpOnly; SameSite=Strict"


def _csp(host: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:; font-src 'self'; connect-src 'self' ws://{host} wss://{host}; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>{title}</title>
<link rel="stylesheet" href="/static/css/xterm.css">
<script src="/static/js/textual.js"></script>
<style>
@font-face {{ font-family: "Roboto Mono";
  src: url("/static/fonts/RobotoMono-VariableFont_wght.ttf") format("truetype"); }}
body {{ background: #0c181f; margin: 0; }}
.textual-terminal {{ width: 100vw; height: 100vh; }}
.closed {{ display: none; position: absolute; inset: 0; z-index: 10; align-items: center;
  justify-content: center; color: #eee; font: 16px "Roboto Mono", monospace; }}
body.-closed .closed {{ display: flex; flex-direction: column; }}
.closed a {{ color: #ac5af4; margin-top: 1em; }}
#start {{ display: none; }}
</style>
</head>
<body>
<div class="closed"><div>Session ended.</div><a href="/">Start again</a></div>
<button type="button" id="start" hidden>Start</button>
<div id="terminal" class="textual-terminal" data-session-websocket-url="{ws_url}"
  data-font-size="{font_size}"></div>
</body>
</html>
"""

LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>{title} — access token</title>
<style>
body {{ background: #0c181f; color: #eee; font: 16px sans-serif; display: flex;
  align-items: center; justify-content: center; height: 100vh; margin: 0; }}
form {{ background: #12232d; padding: 2em; }}
input {{ font: inherit; width: 24em; }}
.error {{ color: #ff7b7b; }}
</style>
</head>
<body>
<form method="post" action="/login">
<p>This packbench bench asks for its access token<br>(printed where <code>packbench serve</code>
was started).</p>
{error}
<p><label>Access token<br><input type="password" name="token" autofocus
  autocomplete="off" required></label></p>
<p><button type="submit">Open the bench</button></p>
</form>
</body>
</html>
"""

REFUSED_HOST = "packbench serve: this server does not answer to that address.\n"
REFUSED_ORIGIN = "packbench serve: only the bench's own page may connect.\n"
REFUSED_TOKEN = "packbench serve: sign in with the access token first (/login).\n"


def _server_class() -> Any:
    """BenchServer, built on first use: textual-serve and aiohttp load only for ``serve``."""
    from aiohttp import WSCloseCode, web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server, log, to_int

    from packbench.redact import redact

    class BenchServer(Server):
        """textual-serve with the :class:`Gate` in front and our own page."""

        def __init__(
            self,
            command: str,
            host: str,
            port: int,
            *,
            token: str | None = None,
            names: Iterable[str] = (),
            out: Callable[..., None] = print,
        ) -> None:
            super().__init__(command, host=host, port=port, title="packbench")
            self.gate = Gate(host, port, token=token, names=names)
            self._out = out
            self._sockets: set[web.WebSocketResponse] = set()  # one per open tab

        def initialize_logging(self) -> None:
            """Nothing: the CLI logs to packbench's own file, redacted (textual-serve's console
            handler would print the local variables of a traceback, a submitted token among
            them)."""

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(self._guard_middleware())
            app.router.add_get("/login", self.handle_login_page)
            app.router.add_post("/login", self.handle_login)
            return app

        def _guard_middleware(self) -> Any:
            gate = self.gate

            @web.middleware
            async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
                host = request.headers.get("Host")
                if not gate.host_ok(host):
                    return web.Response(status=421, text=REFUSED_HOST)
                needs_origin = (
                    request.method not in ("GET", "HEAD")
                    or request.match_info.route.name == "websocket"
                    or request.headers.get("Upgrade", "").lower() == "websocket"
                )
                if needs_origin and not gate.origin_ok(request.headers.get("Origin"), host):
                    return web.Response(status=403, text=REFUSED_ORIGIN)
                if request.path != "/login" and not gate.session_ok(
                    request.cookies.get(gate.cookie_name)
                ):
                    if request.path == "/" and request.method in ("GET", "HEAD"):
                        raise web.HTTPSeeOther("/login")
                    return web.Response(status=403, text=REFUSED_TOKEN)
                response: web.StreamResponse = await handler(request)
                if not isinstance(response, web.WebSocketResponse):
                    response.headers.setdefault("X-Frame-Options", "DENY")
                    response.headers.setdefault("X-Content-Type-Options", "nosniff")
                    # not no-referrer: with it Chromium sends `Origin: null` with the sign-in form
                    response.headers.setdefault("Referrer-Policy", "same-origin")
                return response

            return guard

        async def handle_index(self, request: web.Request) -> web.Response:
            host = request.headers["Host"]  # checked by the guard
            font_size = min(max(to_int(request.query.get("fontsize", "16"), 16), 6), 64)
            body = PAGE.format(
                title=html.escape(self.title),
                ws_url=html.escape(f"ws://{host}/ws"),
                font_size=font_size,
            )
            return web.Response(
                text=body,
                content_type="text/html",
                headers={"Content-Security-Policy": _csp(host), "Cache-Control": "no-store"},
            )

        def _login_response(self, error: str = "", status: int = 200) -> web.Response:
            text = LOGIN_PAGE.format(
                title=html.escape(self.title),
                error=f'<p class="error">{html.escape(error)}</p>' if error else "",
            )
            return web.Response(
                text=text,
                status=status,
                content_type="text/html",
                headers={
                    "Content-Security-Policy": (
                        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                        "form-action 'self'; "
                        "frame-ancestors 'none'; base-uri 'none'"
                    ),
                    "Cache-Control": "no-store",
                },
            )

        async def handle_login_page(self, request: web.Request) -> web.StreamResponse:
            if self.gate.token is None or self.gate.session_ok(
                request.cookies.get(self.gate.cookie_name)
            ):
                raise web.HTTPSeeOther("/")
            return self._login_response()

        async def handle_login(self, request: web.Request) -> web.StreamResponse:
            if self.gate.token is None:
                raise web.HTTPSeeOther("/")
            form = await request.post()
            given = form.get("token")
            if not isinstance(given, str) or not self.gate.token_ok(given.strip()):
                return self._login_response("That is not the access token.", status=403)
            response = web.HTTPSeeOther("/")
            response.headers["Set-Cookie"] = self.gate.set_cookie_header()
            return response

        async def on_startup(self, app: web.Application) -> None:
            self._out(f"packbench serve: {redact(self.command)}")
            for url in self.urls():
                self._out(f"open {url}")
            if self.gate.token:
                self._out(f"access token: {self.gate.token}")
            self._out("Ctrl+C stops the server.", flush=True)

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            """textual-serve 1.1.3's handler, keeping each tab's socket so that stopping the
            server can close them (and a terminal size a browser could not have is refused)."""
            websocket = web.WebSocketResponse(heartbeat=15)
            width = min(max(to_int(request.query.get("width", "80"), 80), 10), 1000)
            height = min(max(to_int(request.query.get("height", "24"), 24), 5), 500)
            app_service: AppService | None = None
            try:
                await websocket.prepare(request)
                self._sockets.add(websocket)
                app_service = AppService(
                    self.command,
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=websocket.close,  # type: ignore[arg-type]  # its result is ignored
                    download_manager=self.download_manager,
                    debug=self.debug,
                )
                await app_service.start(width, height)
                try:
                    await self._process_messages(websocket, app_service)
                finally:
                    await app_service.stop()
            except asyncio.CancelledError:
                await websocket.close()
            except Exception as error:
                log.exception(error)
            finally:
                self._sockets.discard(websocket)
                if app_service is not None:
                    await app_service.stop()
            return websocket

        async def on_shutdown(self, app: web.Application) -> None:
            """Ctrl+C or SIGTERM: close every tab's web socket now, so each app is told to
            quit and the server exits in seconds, instead of waiting for the browsers."""
            closing = [
                asyncio.create_task(ws.close(code=WSCloseCode.GOING_AWAY, message=b"stopped"))
                for ws in list(self._sockets)
            ]
            if closing:
                await asyncio.wait(closing, timeout=SHUTDOWN_S)

        def urls(self) -> list[str]:
            names = [self.host]
            if self.gate.wildcard:  # the names a browser elsewhere would use for this machine
                names = [n for n in (socket.getfqdn(), socket.gethostname()) if n != "localhost"]
                names = names or ["localhost"]
            hosts = [f"[{n}]" if ":" in n else n for n in dict.fromkeys(names)]
            return [f"http://{h}:{self.port}/" for h in hosts]

    return BenchServer


def make_server(
    host: str,
    port: int,
    app_args: Sequence[str],
    *,
    require_token: bool = False,
    names: Iterable[str] = (),
    out: Callable[..., None] = print,
) -> Any:  # textual-serve's Server, subclassed on first use (its import is the serve extra)
    """The server for ``packbench serve``; a token whenever the address is not loopback."""
    from packbench.redact import register_secret

    token = None
    if require_token or not is_loopback(host):
        token = secrets.token_urlsafe(24)
        register_secret(token)
    return _server_class()(app_command(app_args), host, port, token=token, names=names, out=out)


def serve(
    host: str,
    port: int,
    app_args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    require_token: bool = False,
    names: Iterable[str] = (),
    warn: Callable[..., None] = print,
) -> None:
    """Serve the app until interrupted; ``env`` is added to each tab's environment."""
    if not is_loopback(host):
        warn(NOTE_REMOTE.format(host=host), file=sys.stderr)
    server = make_server(host, port, app_args, require_token=require_token, names=names)
    os.environ.update(env or {})  # textual-serve gives each tab a copy of this environment
    server.serve()
