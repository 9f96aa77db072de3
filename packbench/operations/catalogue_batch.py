"""A page of products the bench does not have yet, written in a handful of statements.

The sync fetches the products a page of orders names before it writes the page's lines, and a
new bench's first pull brings the whole catalogue: pages of products that are all new. Written
one by one (``sync_products._upsert_one``: two lookups, a flush and a savepoint each) they
cost more than the orders that name them. This writes such a page with one look at the
products and the shelves it names, one insert of the new shelves and one of the products;
anything else (a product the bench has, a SKU another holds, a repeated id or SKU, a value too
long) is left to the careful way, which decides product by product.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, or_, select
from sqlmodel import Session, col

from packbench.core.routing import Layout, LocationError, parse_location
from packbench.data.models import Location, OrderLine, Product
from packbench.data.types import utcnow
from packbench.operations.intake import ProductIn, _check_lengths


@dataclass(frozen=True)
class NewProducts:
    taken: list[ProductIn]
    #: Shelves the products name that the layout does not have (their location is left empty).
    unknown_shelves: list[str]
    #: Those of ``taken`` that open orders' unlinked lines may name (by shop id or SKU).
    awaited: list[ProductIn]


def write_new_products(
    session: Session, products: list[ProductIn], layout: Layout | None
) -> NewProducts | None:
    """Insert ``products`` if every one is new to the bench and free to take its SKU; None
    (nothing written) when the page needs the careful way."""
    if not products:
        return None
    ids = [p.shop_product_id for p in products]
    skus = [p.sku for p in products]
    if len(set(ids)) != len(ids) or len(set(skus)) != len(skus):
        return None
    try:
        for p in products:
            _check_lengths(Product, {"sku": p.sku, "name": p.name, "gtin": p.gtin}, "")
    except Exception:
        return None
    conn = session.connection()
    clash = conn.execute(
        select(col(Product.id))
        .where(or_(col(Product.shop_product_id).in_(ids), col(Product.sku).in_(skus)))
        .limit(1)
    ).first()
    if clash is not None:
        return None

    wanted = {p.location for p in products if p.location}
    known = set(
        conn.execute(select(col(Location.code)).where(col(Location.code).in_(wanted))).scalars()
    )
    shelf: dict[str, str] = {code: code for code in known}
    new_shelves: dict[str, dict[str, object]] = {}
    unknown: list[str] = []
    for code in sorted(wanted - known):
        parsed = None
        if layout is not None:
            try:
                parsed = parse_location(code, layout)
            except LocationError:
                parsed = None
        if parsed is None or len(parsed.code) > 16 or len(parsed.aisle) > 4:
            continue
        shelf[code] = parsed.code
        if parsed.code not in known:
            new_shelves[parsed.code] = {
                "code": parsed.code,
                "aisle": parsed.aisle,
                "bay": parsed.bay,
                "level": parsed.level,
            }
    missing = set(new_shelves) - set(
        conn.execute(
            select(col(Location.code)).where(col(Location.code).in_(new_shelves))
        ).scalars()
    )
    if missing:
        conn.execute(insert(Location), [new_shelves[c] for c in sorted(missing)])

    now = utcnow()
    rows = []
    for p in products:
        location = shelf.get(p.location) if p.location else None
        if p.location and location is None:
            unknown.append(p.location)
        rows.append(
            {
                "sku": p.sku,
                "gtin": p.gtin,
                "gtin14": p.gtin.zfill(14) if p.gtin else None,
                "name": p.name,
                "length_mm": p.length_mm,
                "width_mm": p.width_mm,
                "height_mm": p.height_mm,
                "weight_g": p.weight_g,
                "price_ore": p.price_ore,
                "location": location,
                "fragile": False,
                "keep_upright": False,
                "shop_product_id": p.shop_product_id,
                "updated_at": now,
            }
        )
    conn.execute(insert(Product), rows)

    # Lines that arrived before their product are linked by the caller (those of open orders
    # only), for the products such lines can name, found here in one look.
    named = conn.execute(
        select(col(OrderLine.shop_product_id), col(OrderLine.sku)).where(
            col(OrderLine.product_id).is_(None),
            or_(col(OrderLine.shop_product_id).in_(ids), col(OrderLine.sku).in_(skus)),
        )
    ).all()
    named_ids = {r.shop_product_id for r in named}
    named_skus = {r.sku for r in named}
    awaited = [p for p in products if p.shop_product_id in named_ids or p.sku in named_skus]
    return NewProducts(products, unknown, awaited)
