"""One redaction function for every message that leaves the process or reaches the database.

Anything that may carry a credential — a shop's error text, a network error, a traceback, a
database URL, a value the shop echoed back — goes through :func:`redact` **before** it is cut
short, logged, stored or shown. Cutting first would leave a prefix of a secret that no longer
matches (15 of 19 characters of a secret are still a leak).

It knows:

- every value registered with :func:`register_secret` (the shop's key and secret, and whatever
  else a caller registers), and for a key pair registered with :func:`register_basic_auth`
  their HTTP Basic form (``base64(key:secret)``) and its percent-encoded forms;
- passwords in URLs (``scheme://user:password@host``, PostgreSQL URLs included) and in
  libpq keyword strings (``password=…``);
- ``Authorization``/``Proxy-Authorization`` header values, and ``Basic …``/``Bearer …`` tokens.

Pure: imports nothing of the app; the registry is process-wide and thread-safe to read.
"""

from __future__ import annotations

import base64
import re
import threading
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

__all__ = [
    "MASK",
    "clear_secrets",
    "cut",
    "redact",
    "redact_url",
    "register_basic_auth",
    "register_secret",
]

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()

# scheme://user:password@host → scheme://user:***@host (also with no user: scheme://:pw@host)
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+(?=@)")
# libpq keyword form: password=secret or password='sec ret'
_KEYWORD_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|secret|consumer_secret|consumer_key)\s*[=:]\s*)"
    r"(?:'[^']*'|\"[^\"]*\"|[^\s&;,]+)",
    re.IGNORECASE,
)
_AUTH_HEADER = re.compile(
    r"(?P<head>\b(?:proxy-)?authorization\s*[:=]\s*['\"]?)[^\r\n'\"]+", re.IGNORECASE
)
# "Basic dXNlcjpwYXNz" / "Bearer eyJ…": capitalised as HTTP writes them, so "a basic checklist"
# stays readable.
_AUTH_TOKEN = re.compile(r"(?P<head>\b(?:Basic|BASIC|Bearer|BEARER)\s+)[A-Za-z0-9+/=._~\\\-]{12,}")


def register_secret(value: str | None) -> None:
    """Never show ``value`` again, whoever shows it (and its URL-encoded forms)."""
    global _secrets
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    # As written, URL-encoded, and JSON-escaped the way PHP's json_encode writes "/" ("\/"): a
    # shop that echoes a base64 value inside an HTML page or a broken JSON answer does that.
    forms = {value, quote(value, safe=""), quote_plus(value), value.replace("/", "\\/")}
    with _lock:
        _secrets = _secrets | {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


def register_basic_auth(user: str | None, password: str | None) -> None:
    """The key, the secret and the ``Authorization: Basic`` value they make are all secrets."""
    register_secret(user)
    register_secret(password)
    if user and password:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        register_secret(token)
        register_secret(token.rstrip("="))


def clear_secrets() -> None:
    """Forget every registered secret (tests)."""
    global _secrets
    with _lock:
        _secrets = frozenset()


def redact(text: object) -> str:
    """``text`` as a string with every known secret and credential pattern masked."""
    out = text if isinstance(text, str) else str(text)
    # Longest first: a secret that contains another is masked whole.
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in out:
            out = out.replace(secret, MASK)
    out = _URL_PASSWORD.sub(rf"\g<head>{MASK}", out)
    out = _AUTH_HEADER.sub(rf"\g<head>{MASK}", out)
    out = _AUTH_TOKEN.sub(rf"\g<head>{MASK}", out)
    out = _KEYWORD_PASSWORD.sub(rf"\g<head>{MASK}", out)
    return out


def redact_url(url: object) -> str:
    """A URL safe to print: its whole user part (name and password), its query's values and any
    registered secret masked. A user name can be a consumer key pasted in by mistake, and a
    query can hold ``consumer_secret=…``, so neither is repeated."""
    text = url if isinstance(url, str) else str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return redact(text)
    if parts.scheme and parts.netloc:
        netloc = parts.netloc
        if "@" in netloc:
            netloc = MASK + "@" + netloc.rpartition("@")[2]
        query = "&".join(
            f"{name}={MASK}" if sep else name
            for name, sep, _value in (item.partition("=") for item in parts.query.split("&"))
            if name
        )
        text = urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    return redact(text)


def cut(text: object, limit: int) -> str:
    """Redact, then cut to ``limit`` characters (with "…" when cut): the only safe order."""
    out = redact(text)
    if len(out) <= limit:
        return out
    return out[: max(0, limit - 1)] + "…"
