"""The pack station's plain results: its rules (``[pack]``), the view of one order being packed
(lines, parcels, the box suggestion), what a scan did (``PackOutcome``), ``Claimed`` and how a
weight is written; the suggestion as its pack plan stores it (JSON).

Nothing here reads the database: the screens and the CLI receive these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

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
