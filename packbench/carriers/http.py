"""What every web-API carrier adapter does with httpx: one request, its body read with a size
limit, and network failures turned into :class:`~packbench.carriers.base.TransientError`
(``sent=False`` only when the connection was never made). Errors are raised ``from None`` so the
request — and its credential headers — never reach a traceback."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from packbench.carriers.base import CarrierError, PayloadError, RateLimited, TransientError
from packbench.redact import redact

__all__ = ["is_loopback", "retry_after", "retrying", "send"]

T = TypeVar("T")


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_url(url: str) -> None:
    """An adapter's ``api_url`` is http(s) with a host, and plain http only to this machine
    (the demo carrier): credentials never travel in the clear. A ValueError says which."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"api_url {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(f"api_url {url!r}: plain http only to this machine")


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def send(
    client: httpx.Client,
    carrier: str,
    method: str,
    url: str,
    what: str,
    *,
    content: bytes | None = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    limit: int,
) -> tuple[httpx.Response, bytes]:
    try:
        with client.stream(
            method, url, content=content, params=params, headers=dict(headers or {})
        ) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise PayloadError(f"{what}: the answer is larger than {limit} bytes")
                chunks.append(chunk)
            return response, b"".join(chunks)
    except httpx.ConnectError as exc:
        raise TransientError(
            f"{what}: could not reach {carrier} ({redact(exc)[:150]})", sent=False
        ) from None
    except httpx.TimeoutException as exc:
        raise TransientError(
            f"{what}: {carrier} did not answer in time ({type(exc).__name__})"
        ) from None
    except httpx.HTTPError as exc:
        raise TransientError(
            f"{what}: the connection to {carrier} failed ({type(exc).__name__})"
        ) from None


def retrying(
    attempt: Callable[[], T],
    *,
    attempts: int,
    backoff_s: float,
    max_backoff_s: float,
    sleep: Callable[[float], None],
) -> T:
    """A read (never a booking), tried up to ``attempts`` times while it fails retryably.

    ``attempt`` returns the answer or raises a :class:`CarrierError`; one that is not
    ``retryable`` (a refusal, a malformed answer) is raised at once, the last one when the
    attempts are spent. Between attempts the wait doubles from ``backoff_s`` up to
    ``max_backoff_s``, and is never shorter than a 429's ``Retry-After``.
    """
    wait = backoff_s
    for n in range(1, attempts + 1):
        try:
            return attempt()
        except CarrierError as error:
            if not error.retryable or n >= attempts:
                raise
            after = error.retry_after if isinstance(error, RateLimited) else None
            sleep(min(max(after or 0.0, wait), max(max_backoff_s, wait)))
            wait = min(wait * 2, max_backoff_s)
    raise ValueError(f"attempts must be at least 1, got {attempts}")
