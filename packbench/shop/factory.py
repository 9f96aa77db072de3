"""Build the shop adapter from the configuration (credentials from the environment only)."""

from __future__ import annotations

from packbench.config import Settings
from packbench.shop.base import ShopAdapter


class ShopNotConfigured(Exception):
    """No shop URL or no credentials: the bench works offline; the message says what is missing."""


def make_adapter(
    settings: Settings,
    *,
    url: str | None = None,
    key: str | None = None,
    secret: str | None = None,
) -> ShopAdapter:
    from packbench.shop.woocommerce import WooCommerceAdapter

    base = url or settings.shop.url
    if not base:
        raise ShopNotConfigured("no shop URL: use --shop-url or [shop] url in the configuration")
    key = key or (settings.shop_key.get_secret_value() if settings.shop_key else None)
    secret = secret or (settings.shop_secret.get_secret_value() if settings.shop_secret else None)
    if not key or not secret:
        raise ShopNotConfigured(
            "no shop credentials: set PACKBENCH_SHOP_KEY and PACKBENCH_SHOP_SECRET"
        )
    try:
        return WooCommerceAdapter(
            base.rstrip("/"), key, secret, location_meta_key=settings.shop.location_meta_key
        )
    except ValueError as exc:  # a URL the adapter will not use (plain http off loopback, …)
        raise ShopNotConfigured(f"shop URL {base!r}: {exc}") from None
