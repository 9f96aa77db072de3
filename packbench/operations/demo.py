"""Fill an empty database with the demo shop: catalogue, warehouse, boxes, team and orders.

The data itself comes from the pure generator ``packbench.data.demo_catalogue`` (deterministic
by seed). Orders arrive through the same intake as the shop sync, then walk the same state
machine the stations use, so the demo's audit trail looks like a real day's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from packbench.core import packing
from packbench.core.codes import make_s10, make_sscc
from packbench.core.workflow import Action, OrderStatus
from packbench.data.demo_catalogue import DemoData, DemoOrder, generate, moved_to
from packbench.data.engine import Database
from packbench.data.models import (
    BoxType,
    Location,
    Order,
    OrderLine,
    Packer,
    Parcel,
    Product,
    SyncState,
)
from packbench.operations.common import Actor, Refused, change_status
from packbench.operations.intake import LineIn, OrderIn, receive_order
from packbench.operations.packers import hash_pin

DEMO_GS1_PREFIX = "7071234"  # a made-up company prefix in Norway's GS1 range (70)
DEMO_SSCC_EXTENSION = 3
SSCC_COUNTER = "counter.sscc"

_PATHS: dict[str, tuple[Action, ...]] = {
    "new": (),
    "slip_printed": (Action.PRINT_SLIP,),
    "picking": (Action.PRINT_SLIP, Action.START_PICK),
    "picked": (Action.PRINT_SLIP, Action.START_PICK, Action.FINISH_PICK),
    "packing": (Action.PRINT_SLIP, Action.START_PICK, Action.FINISH_PICK, Action.START_PACK),
}
_PATHS["packed"] = (*_PATHS["packing"], Action.FINISH_PACK)
_PATHS["shipped"] = (*_PATHS["packed"], Action.SHIP)
_PATHS["handed_over"] = (*_PATHS["shipped"], Action.HAND_OVER)
_PATHS["on_hold"] = (Action.PRINT_SLIP, Action.START_PICK, Action.HOLD)
_PATHS["cancelled"] = (Action.CANCEL,)

_STEP = timedelta(minutes=20)
_CARRIER_ONLY = ("shipped", "handed_over")
_CARRIERS = {"flat_rate:3": "Posten", "flat_rate:4": "PostNord"}


class DemoError(Exception):
    pass


@dataclass(frozen=True)
class DemoSummary:
    products: int
    orders: int
    packers: int
    boxes: int


def _order_in(o: DemoOrder) -> OrderIn:
    s, b = o.shipping, o.billing
    return OrderIn(
        shop_order_id=o.shop_order_id,
        number=o.number,
        created_at=o.created_at,
        paid_at=o.paid_at,
        modified_at=o.paid_at or o.created_at,
        lines=tuple(
            LineIn(sku=ln.sku, name="", quantity=ln.quantity, unit_price_ore=ln.unit_price_ore)
            for ln in o.lines
        ),
        ship_name=s.name,
        ship_company=s.company,
        ship_address1=s.address1,
        ship_address2=s.address2,
        ship_postcode=s.postcode,
        ship_city=s.city,
        ship_country=s.country,
        bill_name=b.name,
        customer_email=b.email,
        customer_phone=b.phone,
        shipping_method_id=o.shipping_method_id,
        shipping_method_title=o.shipping_method_title,
        payment_method=o.payment_method,
        payment_method_title=o.payment_method_title,
        shipping_ore=o.shipping_ore,
        total_ore=o.total_ore,
        customer_note=o.customer_note,
    )


def _next_counter(session: Session, key: str) -> int:
    state = session.get(SyncState, key)
    value = int(state.value) + 1 if state else 1
    session.merge(SyncState(key=key, value=str(value)))
    return value


def _demo_tracking_number(session: Session, carrier: str) -> str:
    """The next S10 number from the carrier's configured range and number series — the one
    the ship station takes from next — so PostNord's parcels carry PostNord's ``CP…`` numbers
    and no demo number is ever issued again at the station."""
    from packbench.config import ShipSettings
    from packbench.operations.ship_numbers import SessionNumbers

    c = ShipSettings().carriers[carrier]
    return SessionNumbers(session).take(
        f"s10:{c.s10_prefix}{c.s10_country}",
        c.s10_first,
        c.s10_last,
        lambda serial: make_s10(c.s10_prefix, serial, c.s10_country),
    )


def _walk(session: Session, order: Order, target: str, actors: list[Actor]) -> None:
    """Walk the order to ``target`` the way the stations would, along its own timeline."""
    actor = actors[(order.id or 0) % len(actors)]
    at = order.paid_at or order.created_at
    for action in _PATHS[target]:
        at += _STEP
        reason = "short pick: the shelf had fewer than ordered" if action is Action.HOLD else None
        change_status(
            session, order, action, actor, message=f"demo: {action.value}", reason=reason, at=at
        )
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    status = OrderStatus(order.status)
    done_picking = status not in (
        OrderStatus.NEW,
        OrderStatus.SLIP_PRINTED,
        OrderStatus.PICKING,
        OrderStatus.ON_HOLD,
        OrderStatus.CANCELLED,
    )
    for n, line in enumerate(lines):
        if done_picking:
            line.picked_qty = line.quantity
        elif status in (OrderStatus.PICKING, OrderStatus.ON_HOLD) and n == 0:
            line.picked_qty = max(0, line.quantity - 1)
            if status is OrderStatus.ON_HOLD:  # #5: the short pick its hold reason names
                line.short_qty = line.quantity - line.picked_qty
        if status in (OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.HANDED_OVER) or (
            status is OrderStatus.PACKING and n == 0
        ):
            line.packed_qty = line.quantity
        session.add(line)
    if status in (OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.HANDED_OVER):
        _demo_parcels(session, order, list(lines), status)


def _demo_parcels(
    session: Session, order: Order, lines: list[OrderLine], status: OrderStatus
) -> list[Parcel]:
    """The parcels a packer would have made: the box the packing logic suggests."""
    from packbench.operations.pack_plan import to_packing_box

    boxes = session.exec(select(BoxType).where(BoxType.active)).all()
    catalogue = [to_packing_box(b) for b in boxes]
    items = []
    for line in lines:
        product = session.get(Product, line.product_id) if line.product_id else None
        if product is None:
            continue
        items.append(
            packing.Item(
                product.sku,
                (product.length_mm, product.width_mm, product.height_mm),
                product.weight_g,
                line.quantity,
                product.keep_upright,
            )
        )
    suggestion = packing.suggest(catalogue, items, time_budget_s=0.05)
    parcels = []
    for seq, suggested in enumerate(suggestion.parcels, start=1):
        assert order.id is not None  # flushed above
        parcel = Parcel(
            order_id=order.id,
            seq=seq,
            box_code=suggested.box,
            length_mm=suggested.inner_mm[0],
            width_mm=suggested.inner_mm[1],
            height_mm=suggested.inner_mm[2],
            weight_g=suggested.weight_g,
            status="packed",
        )
        _ship_demo_parcel(session, order, parcel, status)
        session.add(parcel)
        parcels.append(parcel)
    return parcels


def _ship_demo_parcel(session: Session, order: Order, parcel: Parcel, status: OrderStatus) -> None:
    if status in (OrderStatus.SHIPPED, OrderStatus.HANDED_OVER):
        parcel.carrier = _CARRIERS.get(order.shipping_method_id, "Posten")
        parcel.sscc = make_sscc(
            DEMO_SSCC_EXTENSION, DEMO_GS1_PREFIX, _next_counter(session, SSCC_COUNTER)
        )
        parcel.tracking_number = _demo_tracking_number(session, parcel.carrier)
        parcel.status = "labelled"
        parcel.label_printed_at = order.updated_at
        if status is OrderStatus.HANDED_OVER:
            parcel.status = "handed_over"
            parcel.handed_over_at = order.updated_at
            order.completed_at = order.updated_at
            order.payment_status = "captured"
            order.invoice_number = f"F-{order.number}"
            session.add(order)


def load_demo(
    db: Database,
    *,
    seed: int = 1,
    orders: int = 72,
    terminal: str = "demo",
    now: datetime | None = None,
) -> DemoSummary:
    """Fill an empty, migrated database. Refuses a database that already holds orders.

    ``now`` moves the demo's day to that day (``demo_catalogue.moved_to``); without it the data
    stay on the catalogue's reference day, the same on every run (tests).
    """
    data: DemoData = generate(seed=seed, n_orders=orders)
    if now is not None:
        data = moved_to(data, now)

    def run(session: Session) -> DemoSummary:
        existing = session.exec(select(func.count()).select_from(Order)).one()
        if existing:
            raise Refused(
                f"the database already holds {existing} orders; demo data needs an empty one"
            )
        for loc in data.locations:
            session.add(Location(code=loc.code, aisle=loc.aisle, bay=loc.bay, level=loc.level))
        session.flush()
        for p in data.products:
            session.add(
                Product(
                    sku=p.sku,
                    gtin=p.gtin,
                    gtin14=p.gtin.zfill(14),
                    name=p.name,
                    length_mm=p.length_mm,
                    width_mm=p.width_mm,
                    height_mm=p.height_mm,
                    weight_g=p.weight_g,
                    price_ore=p.price_ore,
                    location=p.location,
                    fragile=p.fragile,
                    keep_upright=p.keep_upright,
                    shop_product_id=p.shop_product_id,
                )
            )
        for b in data.boxes:
            session.add(
                BoxType(
                    code=b.code,
                    kind=b.kind,
                    name=b.name,
                    inner_l_mm=b.inner_l_mm,
                    inner_w_mm=b.inner_w_mm,
                    inner_h_mm=b.inner_h_mm,
                    max_weight_g=b.max_weight_g,
                    tare_g=b.tare_g,
                    cost_ore=b.cost_ore,
                    standard=b.standard,
                )
            )
        packers = []
        for pk in data.packers:
            row = Packer(
                name=pk.name,
                badge=pk.badge,
                role=pk.role,
                pin_hash=hash_pin(pk.pin) if pk.pin else None,
            )
            session.add(row)
            packers.append(row)
        session.flush()
        system = Actor(station="admin", terminal=terminal)
        actors = [
            Actor("admin", terminal, p.id, p.name, p.role) for p in packers if p.role == "packer"
        ] or [system]
        for o in data.orders:
            result = receive_order(session, system, _order_in(o))
            order = session.get(Order, result.order_id)
            assert order is not None
            target = o.status
            if o.shipping_method_id.startswith("local_pickup") and target in _CARRIER_ONLY:
                target = "packed"  # collected in the shop: no carrier, no label
            _walk(session, order, target, actors)
        return DemoSummary(len(data.products), len(data.orders), len(packers), len(data.boxes))

    try:
        return db.transact(run)
    except Refused as exc:
        raise DemoError(exc.message) from None


# -- the demo's bench scale ---------------------------------------------------------------------
#: What the demo scale has on it: (order, parcel, weight warning waiting) and its grams.
Placement = tuple[tuple[int, int, int | None], int]


def on_the_demo_scale(db: Database, terminal: str) -> Placement | None:
    """What a packer at ``terminal`` has put on the bench scale now, for ``packbench demo``'s
    scale to weigh (there is no parcel to put on it): the parcel being packed there, once it has
    items and its box, weighing what the pack station expects give or take a few grams (within
    any tolerance); put on again when a weight warning asks for it. None: an empty scale."""
    from packbench.operations.pack_state import pack_view
    from packbench.operations.pack_views import PackRules

    with db.read() as session:
        row = session.exec(
            select(Order.id, Order.claimed_by)
            .where(Order.status == OrderStatus.PACKING.value, Order.claim_terminal == terminal)
            .order_by(col(Order.claimed_at).desc())
        ).first()
    if row is None or row[0] is None:
        return None
    order_id, packer_id = row
    view = pack_view(db, Actor("pack", terminal, packer_id), PackRules(), order_id)
    current = view.current if view is not None else None
    if view is None or current is None or current.box_code is None or not current.unit_count:
        return None
    if current.weight_g and view.pending_weight_g is None:
        return None  # weighed: lifted off
    expected = current.expected_weight_g
    grams = expected + expected * (order_id % 5 - 2) // 500  # ±0.4 %: a real scale's parcel
    return (order_id, current.seq, view.pending_weight_g), grams
