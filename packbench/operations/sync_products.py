"""The catalogue side of the sync: a page of the shop's products created or updated (a page all
new to the bench in bulk, ``catalogue_batch``; else each on its own, as SKU swaps and case
clashes need), then the lines of open orders that name them linked, in one SELECT and one
UPDATE a page; which of a page of orders' products the bench does not know yet.

Like the rest of ``operations.syncing`` (whose problems and log it shares), every call is one
transaction; the sync engine never writes SQL itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, or_, update
from sqlmodel import Session, col, select

from packbench.core.routing import Layout, LocationError, parse_location
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Location, Order, OrderLine, Product, SyncState, table_of
from packbench.data.types import utcnow
from packbench.operations.catalogue_batch import NewProducts, write_new_products
from packbench.operations.common import Actor
from packbench.operations.intake import ProductIn, _check_lengths
from packbench.operations.syncing import (
    PROBLEM,
    _note_problem,
    _open_problems,
    _reason,
    _retry_whole,
    log,
)


def unknown_products(db: Database, shop_ids: Iterable[int]) -> set[int]:
    """Which of these shop product (or variation) ids the bench has no product for: what a
    page of orders needs fetched before its lines are written. One statement."""
    wanted = set(shop_ids)
    if not wanted:
        return set()
    with db.read() as session:
        known = session.exec(
            select(Product.shop_product_id).where(col(Product.shop_product_id).in_(wanted))
        ).all()
    return wanted - set(known)


@dataclass(frozen=True)
class ProductResult:
    taken: int
    refused: int
    #: Products whose SKU another shop product still holds here: tried again at the end of
    #: the round, when that one may have moved to its new SKU (a swap across two pages).
    deferred: tuple[ProductIn, ...]


def upsert_products(db: Database, products: Iterable[ProductIn]) -> int:
    """Create or update products from the shop (matched by shop id, then SKU)."""
    return apply_product_page(db, Actor(station="sync", terminal=""), products, final=True).taken


def _new_products(
    session: Session, products: list[ProductIn], layout: Layout | None
) -> NewProducts | None:
    """A page of products all new to the bench, written in bulk inside a savepoint; None when
    it needs the careful way (or the database refused it: then nothing of it is left)."""
    try:
        with session.begin_nested():
            return write_new_products(session, products, layout)
    except Exception as exc:
        if _retry_whole(exc):
            raise
        log.info("product page written one by one: %s", _reason(exc))
        return None


def _log_unknown_shelves(unknown: list[str]) -> None:
    """One log line a page, not one a product."""
    log.warning(
        "%d products name shelves the warehouse layout does not have (%s): "
        "their location is left as it was",
        len(unknown),
        ", ".join(sorted(set(unknown))[:5]) + (", …" if len(set(unknown)) > 5 else ""),
    )


def apply_product_page(
    db: Database,
    actor: Actor,
    products: Iterable[ProductIn],
    *,
    final: bool = False,
    layout: Layout | None = None,
) -> ProductResult:
    """Create or update one page of the shop's products, each on its own (a savepoint each).

    The shop's id is the key. Two products trading SKUs (a normal edit in a shop) update
    both: a row whose SKU another product of the page takes is moved aside first. SKUs are
    compared without case at the bench (scanners and people type them either way), so a shop
    product whose SKU differs from another's only in case is refused — shown on the
    dashboard, never written over the other. A SKU still held by a product not on this page
    is deferred (``final=False``) or refused (``final=True``).

    A product's shelf is taken when the warehouse ``layout`` has it (its location row is made
    on first use: a new bench knows no shelves until its products name them) or the bench
    knows it already; any other shelf leaves the product where it was.
    """
    products = list(products)

    def run(session: Session) -> ProductResult:
        open_problems = _open_problems(session, f"{PROBLEM}product.")
        fast = _new_products(session, products, layout)
        if fast is not None:
            done = {f"{PROBLEM}product.{p.shop_product_id}" for p in fast.taken} & open_problems
            for key in done:
                session.delete(session.get(SyncState, key))
            if fast.unknown_shelves:
                _log_unknown_shelves(fast.unknown_shelves)
            _link_open_lines(session, fast.awaited)
            return ProductResult(len(fast.taken), 0, ())
        pending = {p.shop_product_id: p for p in products}  # the last of a repeated id wins
        taken = refused = 0
        deferred: list[ProductIn] = []
        parked: dict[int, str] = {}  # row id → the SKU it had before it was moved aside
        taken_rows: list[ProductIn] = []
        unknown: list[str] = []  # shelves the layout does not have: one log line a page
        while pending:
            progress = False
            for shop_id, p in list(pending.items()):
                key = f"{PROBLEM}product.{shop_id}"
                try:
                    with session.begin_nested():
                        verdict = _upsert_one(session, p, pending, parked, layout, unknown)
                except Exception as exc:
                    if _retry_whole(exc):
                        raise
                    verdict = f"refused: {_reason(exc)}"
                if verdict == "blocked":
                    continue
                del pending[shop_id]
                progress = True
                if verdict == "ok":
                    taken += 1
                    taken_rows.append(p)
                    if key in open_problems:
                        session.delete(session.get(SyncState, key))
                elif verdict.startswith("deferred"):
                    if final:
                        refused += 1
                        text = f"product {shop_id} ({p.sku}) from the shop could not be taken: "
                        _note_problem(session, actor, key, text + verdict[10:], known=False)
                    else:
                        deferred.append(p)
                else:
                    refused += 1
                    text = f"product {shop_id} ({p.sku}) from the shop could not be taken: "
                    _note_problem(session, actor, key, text + verdict[9:], known=False)
            if not progress:
                for p in pending.values():  # blocked in a ring: cannot happen (see _upsert_one)
                    deferred.append(p)
                break
        if unknown:
            _log_unknown_shelves(unknown)
        _link_open_lines(session, taken_rows)
        # A row moved aside whose own product did not come through gets its SKU back.
        for row_id, sku in parked.items():
            row = session.get(Product, row_id)
            in_use = session.exec(select(Product.id).where(Product.sku == sku)).first()
            if row is not None and row.sku.startswith("~") and in_use is None:
                row.sku = sku
                session.add(row)
        return ProductResult(taken, refused, tuple(deferred))

    return db.transact(run)


#: Orders whose lines follow the catalogue: not packed yet (a packed order's lines are what
#: went into the parcel and stay as they were), or on hold from such a status.
LINKED_STATUSES = tuple(
    s.value
    for s in (
        OrderStatus.NEW,
        OrderStatus.SLIP_PRINTED,
        OrderStatus.PICKING,
        OrderStatus.PICKED,
        OrderStatus.PACKING,
    )
)


def _columns(model: Any) -> Any:
    """A table model's columns for Core statements (SQLModel declares no ``__table__``)."""
    return model.__table__.c


_O, _L, _P = (_columns(m) for m in (Order, OrderLine, Product))
_OPEN_LINES = (
    select(_L.id, _L.product_id, _L.sku, _L.shop_product_id)
    .join(table_of(Order), _O.id == _L.order_id)
    .where(
        or_(
            _O.status.in_(LINKED_STATUSES),
            and_(
                _O.status == OrderStatus.ON_HOLD.value,
                or_(_O.held_from.is_(None), _O.held_from.in_(LINKED_STATUSES)),
            ),
        ),
        or_(
            _L.product_id.is_(None),
            _L.shop_product_id.in_(bindparam("shop_ids", expanding=True)),
            _L.product_id.in_(bindparam("ids", expanding=True)),
        ),
    )
)
_RELINK = (
    update(table_of(OrderLine))
    .where(_L.id == bindparam("b_id"))
    .values(product_id=bindparam("b_product_id"), sku=bindparam("b_sku"))
)


def _link_open_lines(session: Session, products: list[ProductIn]) -> None:
    """The lines of open orders that name these products are linked to them, and take what
    changed: every such order becomes packable (GTIN to scan, shelf to walk to, sizes for
    the box) without waiting for a re-pull. A line naming the shop's product (or variation)
    id — one the shop sent without a SKU too — follows that product; a line without it is
    linked by SKU while it has no product. A packed order's lines (on hold after packing
    too) are left as they went into the parcel. One SELECT and one UPDATE a page."""
    if not products:
        return
    conn = session.connection()
    found = conn.execute(
        select(_P.id, _P.sku, _P.shop_product_id).where(
            _P.shop_product_id.in_([p.shop_product_id for p in products])
        )
    ).all()
    if not found:
        return
    by_shop_id = {r.shop_product_id: (r.id, r.sku) for r in found}
    by_sku = {r.sku: (r.id, r.sku) for r in found}
    by_row = {r.id: r.sku for r in found}
    changes = []
    for line in conn.execute(_OPEN_LINES, {"shop_ids": list(by_shop_id), "ids": list(by_row)}):
        if line.shop_product_id is not None:
            target = by_shop_id.get(line.shop_product_id)
        elif line.product_id is None:
            target = by_sku.get(line.sku)
        else:
            target = (
                (line.product_id, by_row[line.product_id]) if line.product_id in by_row else None
            )
        if target is not None and (line.product_id, line.sku) != target:
            changes.append({"b_id": line.id, "b_product_id": target[0], "b_sku": target[1]})
    if changes:
        conn.execute(_RELINK, changes)


def _shelf(session: Session, code: str, layout: Layout | None) -> str | None:
    """The location code to store for a shop's shelf, or None when the bench cannot use it."""
    if session.get(Location, code) is not None:
        return code
    if layout is None:
        return None
    try:
        parsed = parse_location(code, layout)
    except LocationError:
        return None
    if len(parsed.code) > 16 or len(parsed.aisle) > 4:
        return None
    if session.get(Location, parsed.code) is None:
        session.add(
            Location(code=parsed.code, aisle=parsed.aisle, bay=parsed.bay, level=parsed.level)
        )
        session.flush()
    return parsed.code


def _upsert_one(
    session: Session,
    p: ProductIn,
    pending: dict[int, ProductIn],
    parked: dict[int, str],
    layout: Layout | None = None,
    unknown_shelves: list[str] | None = None,
) -> str:
    """``ok``, ``blocked`` (try again after the page's others), ``deferred: why`` or
    ``refused: why``."""
    _check_lengths(Product, {"sku": p.sku, "name": p.name, "gtin": p.gtin}, "")
    row = session.exec(select(Product).where(Product.shop_product_id == p.shop_product_id)).first()
    holder = session.exec(select(Product).where(Product.sku == p.sku)).first()
    if holder is not None and holder is not row:
        if row is None and holder.shop_product_id is None:
            row = holder  # a product the bench knew before the shop: now it has its id
        elif holder.shop_product_id in pending and pending[holder.shop_product_id].sku != p.sku:
            # The holder takes another SKU on this page: move it aside, it gets its new one
            # when its turn comes (or its old one back, see apply_product_page).
            assert holder.id is not None
            parked.setdefault(holder.id, holder.sku)
            holder.sku = f"~{holder.id}"
            session.add(holder)
            session.flush()
        elif holder.shop_product_id in pending:
            return "blocked"  # the same SKU twice on one page: the first one decides
        else:
            other = (
                f"product {holder.shop_product_id}'s"
                if holder.shop_product_id is not None
                else "a bench product's"
            )
            return (
                f"deferred: its SKU {p.sku} is also {other} (SKUs that differ only in case "
                "are one SKU at the bench): give one of them another SKU in the shop"
            )
    row = row or Product(sku=p.sku, name=p.name)
    row.sku, row.name, row.gtin = p.sku, p.name, p.gtin
    row.gtin14 = p.gtin.zfill(14) if p.gtin else None
    row.length_mm, row.width_mm, row.height_mm = p.length_mm, p.width_mm, p.height_mm
    row.weight_g, row.price_ore = p.weight_g, p.price_ore
    row.shop_product_id = p.shop_product_id
    # A shelf the layout does not know leaves the product where it was.
    shelf = _shelf(session, p.location, layout) if p.location else None
    unknown_shelves = unknown_shelves if unknown_shelves is not None else []
    if shelf is not None:
        row.location = shelf
    elif p.location:
        unknown_shelves.append(p.location)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return "ok"
