"""Build the shop adapter from the configuration.

Credentials come from the environment (``PACKBENCH_SHOP_KEY``/``PACKBENCH_SHOP_SECRET``) or,
when those are not set, from the OS keyring (service ``packbench``, names ``shop_key`` and
``shop_secret``; e.g. ``keyring set packbench shop_key``). Never from a file, the database or
the command line, where any user of the machine reads them in ``ps`` (``packbench sync`` refuses
``--key``/``--secret``), and never from the shop URL: ``https://key:secret@shop`` is refused
with a message that does not repeat it.
"""

from __future__ import annotations

from packbench.config import Settings
from packbench.redact import redact_url, register_basic_auth
from packbench.shop.base import ShopAdapter

KEYRING_SERVICE = "packbench"


def from_keyring(name: str) -> str | None:
    """A credential from the OS keyring, or None (no keyring package, no backend, no entry)."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, name) or None
    except (KeyringError, RuntimeError, OSError):
        return None


class ShopNotConfigured(Exception):
    """No shop URL or no credentials: the bench works offline; the message says what is missing."""


def make_adapter(
    settings: Settings,
    *,
    url: str | None = None,
) -> ShopAdapter:
    from packbench.shop.woocommerce import WooCommerceAdapter

    base = url or settings.shop.url
    if not base:
        raise ShopNotConfigured("no shop URL: use --shop-url or [shop] url in the configuration")
    key = settings.shop_key.get_secret_value() if settings.shop_key else None
    secret = settings.shop_secret.get_secret_value() if settings.shop_secret else None
    key = key or from_keyring("shop_key")
    secret = secret or from_keyring("shop_secret")
    if not key or not secret:
        raise ShopNotConfigured(
            "no shop credentials: set PACKBENCH_SHOP_KEY and PACKBENCH_SHOP_SECRET, or store "
            "them in the OS keyring (keyring set packbench shop_key / shop_secret)"
        )
    register_basic_auth(key, secret)
    try:
        return WooCommerceAdapter(
            base.rstrip("/"),
            key,
            secret,
            location_meta_key=settings.shop.location_meta_key,
            pickup_meta_keys=tuple(settings.shop.pickup_point_meta_keys),
            request_fields=settings.shop.request_fields,
            rate_limit=settings.shop.rate_limit_per_s,
            concurrency=settings.shop.concurrent_pages,
        )
    except ValueError as exc:  # a URL the adapter will not use (plain http off loopback, …)
        # Shown without its user part or query values: a key or secret pasted into the URL is
        # not repeated to the terminal or the log.
        raise ShopNotConfigured(f"shop URL {redact_url(base)}: {exc}") from None
