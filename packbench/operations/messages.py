"""Every sentence the bench says to a person about a scan, in one place.

Specific beats vague: name what was scanned and what to do instead ("Wrong product."), never a
bare "barcode not found". Screens show these as they are; tests assert on them.
"""

from __future__ import annotations

STATION_NAMES = {
    "admin": "admin station",
    "pick": "warehouse station",
    "pack": "packing station",
    "ship": "shipping station",
    "post": "post station",
    "dashboard": "dashboard",
}


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 parcel``, ``3 parcels``, ``0 stops`` — never "parcel(s)" or "1 stops"."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def quote(code: str, limit: int = 40) -> str:
    shown = code if len(code) <= limit else code[: limit - 1] + "…"
    shown = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in shown)
    return f"“{shown}”"


def sign_in_first(code: str) -> str:
    return f"Scan your badge first — {quote(code)} was not used."


def unknown_order(number: str) -> str:
    return f"No order number {number} on this bench."


def unknown_parcel(code: str) -> str:
    return f"No parcel has the label {quote(code)}."


def unknown_gtin(gtin: str) -> str:
    return f"No product has GTIN {gtin}."


def unknown_sku(sku: str) -> str:
    return f"{quote(sku)} is not a product, order, parcel or badge that this bench knows."


def product_not_here(name: str, code: str, station: str) -> str:
    where = STATION_NAMES.get(station, station)
    return (
        f"{quote(code)} is the product “{name}”; the {where} opens orders — "
        "scan a packing slip or a parcel label."
    )


def not_here(kind: str, code: str, station: str) -> str:
    where = STATION_NAMES.get(station, station)
    return f"{quote(code)} is a {kind} code; the {where} has no use for it."


def unknown_box(code: str) -> str:
    return f"No box or bag has the code {quote(code)}."


def order_opened(number: str, status_label: str) -> str:
    return f"Order {number} — {status_label.lower()}."


def case_alone(code: str) -> str:
    """A quantity typed before a case label (``(02)``+``(37)``): the case counts itself."""
    return f"A case counts itself: scan {quote(code)} alone."


def case_without_count(code: str) -> str:
    """A case label that names its GTIN (``(02)``) but not how many it holds (no ``(37)``)."""
    return (
        f"{quote(code)} names what the case holds but not how many (no AI 37): "
        "open it and scan the units."
    )
