"""Build a carrier adapter from its configuration.

``kind = "s10"`` is the built-in carrier (the shop's own labels); ``kind = "bring"`` books with
Bring, ``kind = "cargonizer"`` through Logistra Cargonizer, ``kind = "shipmondo"`` through
Shipmondo. Credentials come from the environment (``PACKBENCH_BRING_UID``,
``PACKBENCH_BRING_KEY``, ``PACKBENCH_CARGONIZER_KEY``, ``PACKBENCH_CARGONIZER_SENDER``,
``PACKBENCH_SHIPMONDO_USER``, ``PACKBENCH_SHIPMONDO_KEY``) or, when those are not set, from the
OS keyring (service ``packbench``, names ``bring_uid``, ``bring_key``, ``cargonizer_key``,
``cargonizer_sender``, ``shipmondo_user``, ``shipmondo_key``)
— never from the configuration file, the database or the logs: every credential is registered
with :func:`packbench.redact.register_secret` before it is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from packbench.carriers.base import Address, AuthError, Carrier, CarrierError, Product
from packbench.carriers.bring import DEFAULT_PRODUCTS, BringCarrier, BringConfig, BringProduct
from packbench.carriers.cargonizer import CargonizerCarrier, CargonizerConfig, CargonizerProduct
from packbench.carriers.s10 import s10_from_settings
from packbench.carriers.shipmondo import ShipmondoCarrier, ShipmondoConfig, ShipmondoProduct
from packbench.redact import register_secret

__all__ = [
    "KEYRING_SERVICE",
    "bring_config",
    "cargonizer_config",
    "carrier_for",
    "credential",
    "products_by_method",
    "shipmondo_config",
]

KEYRING_SERVICE = "packbench"


def _from_keyring(name: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, name) or None
    except (KeyringError, RuntimeError, OSError):
        return None


def credential(env: str, keyring_name: str) -> str | None:
    """A credential from the environment, else the OS keyring; registered as a secret."""
    value = os.environ.get(env) or _from_keyring(keyring_name)
    register_secret(value)
    return value


def _get(settings: Any, key: str, default: Any = None) -> Any:
    if isinstance(settings, Mapping):
        return settings.get(key, default)
    return getattr(settings, key, default)


def _address(value: Any) -> Address | None:
    if value is None or isinstance(value, Address):
        return value
    return Address(
        name=_get(value, "name", ""),
        address1=_get(value, "address", "") or _get(value, "address1", ""),
        address2=_get(value, "address2", ""),
        postcode=_get(value, "postcode", ""),
        city=_get(value, "city", ""),
        country=_get(value, "country", "NO"),
        email=_get(value, "email", ""),
        phone=_get(value, "phone", ""),
        contact=_get(value, "contact", ""),
    )


def bring_config(name: str, settings: Any, sender: Any = None) -> BringConfig:
    """A :class:`BringConfig` from a settings object or mapping (the keys of
    ``[ship.carriers.<name>]``); keys it does not give keep their defaults."""
    products = dict(DEFAULT_PRODUCTS)
    for pid, p in (_get(settings, "products", None) or {}).items():
        base = products.get(str(pid).upper())
        fields = {
            k: _get(p, k) for k in BringProduct.__dataclass_fields__ if _get(p, k) is not None
        }
        fields.setdefault("id", str(pid).upper())
        if "services" in fields:
            fields["services"] = tuple(fields["services"])
        products[fields["id"]] = (
            BringProduct(**{**base.__dict__, **fields}) if base else BringProduct(**fields)
        )
    simple = {
        k: _get(settings, k)
        for k in BringConfig.__dataclass_fields__
        if k not in ("name", "products", "sender") and _get(settings, k) is not None
    }
    return BringConfig(name=name, products=products, sender=_address(sender), **simple)


def products_by_method(ship: Any) -> dict[str, Product]:
    """Each shipping method's carrier product with its limits, from the configuration alone
    (no credentials, no network): what the pack station needs to choose a box that qualifies.
    Methods of the built-in carrier, or whose product sets no limits, are left out."""
    out: dict[str, Product] = {}
    for method_id, method in (_get(ship, "methods", None) or {}).items():
        settings = (_get(ship, "carriers", None) or {}).get(_get(method, "carrier"))
        kind = _get(settings, "kind", "s10") if settings is not None else "s10"
        pid = str(_get(method, "product", "") or _get(method, "service", "") or "").strip()
        product: Product | None = None
        if kind == "bring":
            found = bring_config("", settings).products.get(pid.upper())
            product = found.product() if found else None
        elif kind == "cargonizer":
            c = cargonizer_config("", settings).products.get(pid)
            if c is not None:
                product = Product(c.id, c.name, c.max_weight_g, c.max_length_mm,
                                  c.max_sum_of_sides_mm, c.pickup_point)  # fmt: skip
        elif kind == "shipmondo":
            config = shipmondo_config("", settings)
            s = config.products.get(pid)
            product = s.product(config.label_format) if s is not None else None
        limited = product is not None and (
            product.max_weight_g or product.max_length_mm or product.max_sum_of_sides_mm
        )
        if product is not None and limited:
            out[str(method_id)] = product
    return out


def carrier_for(
    name: str,
    settings: Any,
    *,
    sender: Any = None,
    credentials: Callable[[str, str], str | None] = credential,
    **options: Any,
) -> Carrier:
    """The adapter for a carrier configured under ``[ship.carriers.<name>]``. ``options`` go to
    the adapter (``transport``, ``sleep`` for tests)."""
    kind = _get(settings, "kind", "s10")
    if kind == "s10":
        return s10_from_settings(name, settings)
    if kind == "bring":
        uid = credentials("PACKBENCH_BRING_UID", "bring_uid")
        key = credentials("PACKBENCH_BRING_KEY", "bring_key")
        if not uid or not key:
            raise AuthError(
                f"carrier {name}: no Mybring credentials; set PACKBENCH_BRING_UID and "
                "PACKBENCH_BRING_KEY, or store them in the OS keyring (keyring set packbench "
                "bring_uid / bring_key)"
            )
        try:
            return BringCarrier(bring_config(name, settings, sender), uid, key, **options)
        except (TypeError, ValueError) as exc:
            raise CarrierError(f"carrier {name}: {exc}") from None
    if kind == "cargonizer":
        key = credentials("PACKBENCH_CARGONIZER_KEY", "cargonizer_key")
        sender_id = credentials("PACKBENCH_CARGONIZER_SENDER", "cargonizer_sender")
        if not key or not sender_id:
            raise AuthError(
                f"carrier {name}: no Cargonizer credentials; set PACKBENCH_CARGONIZER_KEY and "
                "PACKBENCH_CARGONIZER_SENDER, or store them in the OS keyring (keyring set "
                "packbench cargonizer_key / cargonizer_sender)"
            )
        try:
            return CargonizerCarrier(cargonizer_config(name, settings, sender), key, sender_id,
                                     **options)  # fmt: skip
        except (TypeError, ValueError) as exc:
            raise CarrierError(f"carrier {name}: {exc}") from None
    if kind == "shipmondo":
        user = credentials("PACKBENCH_SHIPMONDO_USER", "shipmondo_user")
        key = credentials("PACKBENCH_SHIPMONDO_KEY", "shipmondo_key")
        if not user or not key:
            raise AuthError(
                f"carrier {name}: no Shipmondo credentials; set PACKBENCH_SHIPMONDO_USER and "
                "PACKBENCH_SHIPMONDO_KEY, or store them in the OS keyring (keyring set "
                "packbench shipmondo_user / shipmondo_key)"
            )
        try:
            return ShipmondoCarrier(shipmondo_config(name, settings, sender), user, key,
                                    **options)  # fmt: skip
        except (TypeError, ValueError) as exc:
            raise CarrierError(f"carrier {name}: {exc}") from None
    raise CarrierError(f"carrier {name}: unknown kind {kind!r}")


def _aggregator_config(
    config_cls: Any, product_cls: Any, name: str, settings: Any, sender: Any
) -> Any:
    """``config_cls`` from a settings object or mapping: its own keys as given, ``products``
    (keyed by the carrier's product id) made ``product_cls``, the sender an address."""
    products = {}
    for pid, p in (_get(settings, "products", None) or {}).items():
        fields = {
            k: _get(p, k)
            for k in product_cls.__dataclass_fields__
            if k != "id" and _get(p, k) is not None
        }
        if "services" in fields:
            fields["services"] = tuple(fields["services"])
        products[str(pid)] = product_cls(id=str(pid), **fields)
    simple = {
        k: _get(settings, k)
        for k in config_cls.__dataclass_fields__
        if k not in ("name", "products", "sender") and _get(settings, k) is not None
    }
    return config_cls(name=name, products=products, sender=_address(sender), **simple)


def cargonizer_config(name: str, settings: Any, sender: Any = None) -> CargonizerConfig:
    """A :class:`CargonizerConfig`; ``products`` are keyed by Cargonizer's product identifier."""
    config: CargonizerConfig = _aggregator_config(
        CargonizerConfig, CargonizerProduct, name, settings, sender
    )
    return config


def shipmondo_config(name: str, settings: Any, sender: Any = None) -> ShipmondoConfig:
    """A :class:`ShipmondoConfig`; ``products`` are keyed by Shipmondo's ``product_code``."""
    config: ShipmondoConfig = _aggregator_config(
        ShipmondoConfig, ShipmondoProduct, name, settings, sender
    )
    return config
