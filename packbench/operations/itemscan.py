"""What an item scan names in the catalogue.

``core.codes`` says what a code *is*; two questions need the catalogue:

- **A SKU that reads as a GS1 element string** (``0109506000134352 10ABC`` typed as one
  word): the catalogue wins. When a product has that SKU, the scan is the SKU: the shop
  printed its own code, and a real GS1 string equal to one of its SKUs would be the shop's
  own doing. Otherwise the GS1 reading stands.
- **Which GTIN**: an 8-digit code may be an EAN-8 or a UPC-E, a variable-measure number is
  listed under its item number (measure zeroed) or, in some catalogues, as scanned; every
  reading is tried, the likeliest first.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from packbench.core.codes import CodeKind, Scan
from packbench.data.engine import Database
from packbench.data.models import Product

__all__ = ["find_by_gtin", "is_case", "prefer_catalogue_sku"]


def _has_sku(session: Session, sku: str) -> bool:
    return session.exec(select(Product.id).where(Product.sku == sku)).first() is not None


def prefer_catalogue_sku(db: Database | Session, scan: Scan) -> Scan:
    """``scan`` read as the SKU it also looks like when the catalogue has that SKU."""
    if scan.sku is None or scan.kind is CodeKind.SKU:
        return scan
    if isinstance(db, Session):
        known = _has_sku(db, scan.sku)
    else:
        with db.read() as session:
            known = _has_sku(session, scan.sku)
    return scan.as_sku() if known else scan


def find_by_gtin(session: Session, scan: Scan, first: Iterable[Product] = ()) -> Product | None:
    """The product a GTIN scan names: each of its readings in turn, among ``first`` (the
    order's own products, already loaded) and then in the catalogue."""
    readings = scan.gtins
    mine = list(first)
    for gtin in readings:
        for product in mine:
            if product.gtin14 == gtin:
                return product
    if not readings:
        return None
    found = session.exec(select(Product).where(col(Product.gtin14).in_(readings))).all()
    by_gtin = {p.gtin14: p for p in found}
    return next((by_gtin[g] for g in readings if g in by_gtin), None)


def is_case(scan: Scan) -> bool:
    """A case or pallet label naming what it holds: (02) with or without an SSCC."""
    return scan.content and scan.gtin14 is not None and scan.kind in (CodeKind.GTIN, CodeKind.SSCC)
