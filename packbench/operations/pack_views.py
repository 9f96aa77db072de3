"""The pack station's plain results: its rules (``[pack]``), the view of one order being packed
(lines, parcels, the box suggestion), what a scan did (``PackOutcome``), ``Claimed`` and how a
weight is written; the suggestion as its pack plan stores it (JSON).

Nothing here reads the database: the screens and the CLI receive these.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from packbench.carriers.base import Product as CarrierProduct
from packbench.core.workflow import OrderStatus
from packbench.operations.common import Refused

if TYPE_CHECKING:
    from packbench.config import Settings


@dataclass(frozen=True)
class PackRules:
    """How the pack station behaves (``[pack]`` in the configuration)."""

    stale_claim_minutes: int = 30
    learn_after: int = 3
    weight_tolerance_pct: float = 10.0
    #: An item whose GS1 expiry date (AI 17) has passed: "refuse" it, or "warn" and pack it.
    expired_items: str = "refuse"
    #: Shipping method → the carrier product's limits (#14: a mailbox parcel takes 5 kg, 45 cm).
    products: tuple[tuple[str, CarrierProduct], ...] = ()
    #: Pick and pack in one pass (#16): a slip-printed order opens here, picked as it is packed.
    pick_at_pack: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> PackRules:
        from packbench.carriers.factory import products_by_method

        p = settings.pack
        expired = getattr(p, "expired_items", "refuse")
        limits = tuple(products_by_method(settings.ship).items())
        return cls(
            p.stale_claim_minutes,
            p.learn_after,
            p.weight_tolerance_pct,
            expired_items=expired,
            products=limits,
            pick_at_pack=getattr(p, "pick_at_pack", False),
        )

    def product_for(self, method_id: str | None) -> CarrierProduct | None:
        return dict(self.products).get(method_id or "")


@dataclass(frozen=True)
class SuggestedParcel:
    box: str
    kind: str  # box | bag
    name: str
    inner_mm: tuple[int, int, int]
    fill: float  # the items' volume over the space packed, 0..1
    weight_g: int  # items + tare: the parcel's expected weight
    units: tuple[tuple[str, int], ...]  # (sku, how many) in this parcel
    tare_g: int | None = None  # the box's own weight (None: a plan stored before it was kept)


@dataclass(frozen=True)
class SuggestionView:
    parcels: tuple[SuggestedParcel, ...]
    alternatives: tuple[str, ...]
    learned: bool  # the packers' choice (overrides), not the packing logic's
    note: str | None = None  # why there is no suggestion


@dataclass(frozen=True)
class PackLine:
    line_id: int
    line_no: int
    sku: str
    gtin: str | None
    name: str
    quantity: int  # what must be packed (ordered less any short pick)
    packed: int
    fragile: bool
    keep_upright: bool
    weight_g: int

    @property
    def done(self) -> bool:
        return self.packed >= self.quantity


@dataclass(frozen=True)
class PackParcel:
    seq: int
    box_code: str | None
    dims_mm: tuple[int, int, int]
    tare_g: int
    units: tuple[tuple[str, int], ...]
    expected_weight_g: int  # items + tare (tare of the chosen box, else the suggested one)
    weight_g: int  # 0: not weighed yet
    status: str

    @property
    def unit_count(self) -> int:
        return sum(n for _, n in self.units)


@dataclass(frozen=True)
class PackView:
    order_id: int
    number: str
    status: str
    customer: str
    city: str
    shipping_method: str
    customer_note: str
    claimed_by: str | None
    claimed_at: datetime | None
    claim_terminal: str | None
    mine: bool  # claimed by the viewer at the viewer's terminal
    lines: tuple[PackLine, ...]
    parcels: tuple[PackParcel, ...]
    suggestion: SuggestionView | None
    pending_weight_g: int | None
    pending_weight_seq: int | None
    tolerance_pct: float

    @property
    def units_total(self) -> int:
        return sum(ln.quantity for ln in self.lines)

    @property
    def units_packed(self) -> int:
        return sum(min(ln.packed, ln.quantity) for ln in self.lines)

    @property
    def current(self) -> PackParcel | None:
        open_ = [p for p in self.parcels if p.status == "open"]
        return open_[-1] if open_ else None

    @property
    def packable(self) -> bool:
        return self.status == OrderStatus.PACKING and self.mine


@dataclass(frozen=True)
class PackOutcome:
    """What a pack scan did. ``ok`` False: refused, or a warning waiting for confirmation."""

    ok: bool
    message: str
    code: str
    view: PackView | None = None
    warning: bool = False
    #: An order whose claim may be taken over once the person confirms.
    takeover: int | None = None
    finished: bool = False


class Claimed(Refused):
    """The order is someone else's; ``can_take_over`` says whether a confirmation may take it."""

    def __init__(self, message: str, *, order_id: int, can_take_over: bool) -> None:
        super().__init__(message, order_id=order_id)
        self.can_take_over = can_take_over


def kg(grams: int) -> str:
    return f"{grams / 1000:.2f} kg"


def _suggestion_from_json(raw: str, learned: bool) -> SuggestionView:
    doc = json.loads(raw)
    return SuggestionView(
        parcels=tuple(
            SuggestedParcel(
                box=p["box"],
                kind=p["kind"],
                name=p.get("name", ""),
                inner_mm=tuple(p["inner_mm"]),
                fill=p["fill"],
                weight_g=p["weight_g"],
                units=tuple((sku, n) for sku, n in p["units"]),
                tare_g=p.get("tare_g"),
            )
            for p in doc["parcels"]
        ),
        alternatives=tuple(doc["alternatives"]),
        learned=learned,
        note=doc.get("note"),
    )


def _suggestion_json(s: SuggestionView) -> str:
    return json.dumps(
        {
            "parcels": [
                {
                    "box": p.box,
                    "kind": p.kind,
                    "name": p.name,
                    "inner_mm": list(p.inner_mm),
                    "fill": round(p.fill, 4),
                    "weight_g": p.weight_g,
                    "units": [list(u) for u in p.units],
                    "tare_g": p.tare_g,
                }
                for p in s.parcels
            ],
            "alternatives": list(s.alternatives),
            "note": s.note,
        },
        ensure_ascii=False,
    )


# -- the view of an order as one scan's transaction leaves it ------------------------------------
# Made of rows, whichever way they were read: the ORM's objects (``pack_state``) or the plain
# records of the unit scan's SQLAlchemy Core path (``pack_rows``). Both have these attributes.


class OrderRow(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def number(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def ship_name(self) -> str: ...
    @property
    def bill_name(self) -> str: ...
    @property
    def ship_city(self) -> str: ...
    @property
    def shipping_method_title(self) -> str: ...
    @property
    def customer_note(self) -> str: ...
    @property
    def claimed_by(self) -> int | None: ...
    @property
    def claimed_at(self) -> datetime | None: ...
    @property
    def claim_terminal(self) -> str | None: ...


class LineRow(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def line_no(self) -> int: ...
    @property
    def sku(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def short_qty(self) -> int: ...
    @property
    def packed_qty(self) -> int: ...
    @property
    def product_id(self) -> int | None: ...


class ProductRow(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def sku(self) -> str: ...
    @property
    def gtin(self) -> str | None: ...
    @property
    def gtin14(self) -> str | None: ...
    @property
    def name(self) -> str: ...
    @property
    def weight_g(self) -> int: ...
    @property
    def fragile(self) -> bool: ...
    @property
    def keep_upright(self) -> bool: ...


class PlanRow(Protocol):
    @property
    def suggestion(self) -> str: ...
    @property
    def learned(self) -> bool: ...
    @property
    def pending_weight_g(self) -> int | None: ...
    @property
    def pending_weight_seq(self) -> int | None: ...


class ParcelRow(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def seq(self) -> int: ...
    @property
    def box_code(self) -> str | None: ...
    @property
    def length_mm(self) -> int: ...
    @property
    def width_mm(self) -> int: ...
    @property
    def height_mm(self) -> int: ...
    @property
    def weight_g(self) -> int: ...
    @property
    def status(self) -> str: ...


class ItemRow(Protocol):
    @property
    def parcel_id(self) -> int: ...
    @property
    def order_line_id(self) -> int: ...
    @property
    def quantity(self) -> int: ...


class ClaimRow(Protocol):
    @property
    def claimed_by(self) -> int | None: ...
    @property
    def claim_terminal(self) -> str | None: ...


class Viewer(Protocol):
    @property
    def packer_id(self) -> int | None: ...
    @property
    def terminal(self) -> str: ...


def needed(line: LineRow) -> int:
    """The units of a line to pack: ordered, less any short pick."""
    return max(0, line.quantity - line.short_qty)


def is_mine(order: ClaimRow, actor: Viewer) -> bool:
    """Claimed by ``actor`` at ``actor``'s terminal."""
    return (
        actor.packer_id is not None
        and order.claimed_by == actor.packer_id
        and order.claim_terminal == actor.terminal
    )


def pack_line(ln: LineRow, p: ProductRow | None) -> PackLine:
    return PackLine(
        line_id=ln.id or 0,
        line_no=ln.line_no,
        sku=ln.sku,
        gtin=p.gtin if p else None,
        name=ln.name or (p.name if p else ln.sku),
        quantity=needed(ln),
        packed=ln.packed_qty,
        fragile=bool(p and p.fragile),
        keep_upright=bool(p and p.keep_upright),
        weight_g=p.weight_g if p else 0,
    )


def view_of(
    order: OrderRow,
    lines: Sequence[LineRow],
    products: Mapping[int | None, ProductRow],
    plan: PlanRow | None,
    parcels: Iterable[ParcelRow],
    items: Iterable[ItemRow],
    *,
    tare: Callable[[str | None], int | None],
    claimer_name: str | None,
    mine: bool,
    tolerance_pct: float,
) -> PackView:
    """The view of an order being packed, made of its rows (void parcels left out).

    ``tare`` gives a box's tare by code (None: unknown); a parcel without a chosen box counts
    the tare of the box suggested for it.
    """
    assert order.id is not None
    suggestion = _suggestion_from_json(plan.suggestion, plan.learned) if plan else None
    line_by_id = {ln.id: ln for ln in lines}
    by_parcel: dict[int, list[ItemRow]] = {}
    for pi in items:
        by_parcel.setdefault(pi.parcel_id, []).append(pi)
    shown = []
    for parcel in parcels:
        if parcel.status == "void":
            continue
        units: Counter[str] = Counter()
        weight = 0
        for pi in by_parcel.get(parcel.id or 0, []):
            line = line_by_id.get(pi.order_line_id)
            if line is None:
                continue
            units[line.sku] += pi.quantity
            product = products.get(line.product_id)
            weight += (product.weight_g if product else 0) * pi.quantity
        tare_g = tare(parcel.box_code)
        if tare_g is None and suggestion and parcel.seq <= len(suggestion.parcels):
            tare_g = tare(suggestion.parcels[parcel.seq - 1].box)
        tare_g = tare_g or 0
        shown.append(
            PackParcel(
                seq=parcel.seq,
                box_code=parcel.box_code,
                dims_mm=(parcel.length_mm, parcel.width_mm, parcel.height_mm),
                tare_g=tare_g,
                units=tuple(sorted(units.items())),
                expected_weight_g=weight + tare_g,
                weight_g=parcel.weight_g,
                status=parcel.status,
            )
        )
    return PackView(
        order_id=order.id,
        number=order.number,
        status=order.status,
        customer=order.ship_name or order.bill_name,
        city=order.ship_city,
        shipping_method=order.shipping_method_title,
        customer_note=order.customer_note,
        claimed_by=claimer_name,
        claimed_at=order.claimed_at,
        claim_terminal=order.claim_terminal,
        mine=mine,
        lines=tuple(pack_line(ln, products.get(ln.product_id)) for ln in lines),
        parcels=tuple(shown),
        suggestion=suggestion,
        pending_weight_g=plan.pending_weight_g if plan else None,
        pending_weight_seq=plan.pending_weight_seq if plan else None,
        tolerance_pct=tolerance_pct,
    )
