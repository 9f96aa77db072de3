"""The demo shop's data, made up but believable: Fjordhandel AS, a Norwegian web shop.

Pure and deterministic: standard library only, and everything comes from ``random.Random``
seeded by the caller, never from the global generator or the clock. The same seed (and the
same ``now``) gives exactly the same data; the loader in ``packbench.operations.demo`` puts it
into the database.

What it makes:

* a catalogue of about 240 "normal size" products in nine categories, with variants (colour,
  size), SKUs like ``FJ-KJ-0012``, GTIN-13 under a made-up Norwegian GS1 company prefix, sizes
  in mm and weights in g, prices in øre, and fragile / keep-upright flags;
* a warehouse of 8 aisles (A–H) x 20 bays x 3 levels (``demo_layout.toml`` describes the
  floor), slotted the way a tidy warehouse is: best sellers near the depot at the front of
  aisle A on the handy levels 1–2, and items that sell together next to each other;
* boxes and bags, four packers (one supervisor), and orders from Norwegian customers in a mix
  of workflow states, the day's new work first and older orders further along.

The catalogue itself (SKUs, names, GTINs, sizes, prices, how popular each is) is fixed; the
seed decides where things stand in the warehouse and which orders come in.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

__all__ = [
    "AISLES",
    "BAYS",
    "BUNDLES",
    "GS1_COMPANY_PREFIX",
    "LEVELS",
    "ORDER_STATUSES",
    "REFERENCE_NOW",
    "DemoAddress",
    "DemoBox",
    "DemoData",
    "DemoLine",
    "DemoLocation",
    "DemoOrder",
    "DemoPacker",
    "DemoProduct",
    "generate",
    "generate_orders",
    "gtin13",
    "popularity_weights",
]

#: The bench's workflow states, in the order an order walks them (then the two side states).
ORDER_STATUSES: tuple[str, ...] = (
    "new",
    "slip_printed",
    "picking",
    "picked",
    "packing",
    "packed",
    "shipped",
    "handed_over",
    "on_hold",
    "cancelled",
)

#: ``now`` when the caller gives none, so that the output depends on the seed alone.
REFERENCE_NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

#: A made-up company prefix in Norway's GS1 range (70); the same one the demo loader uses.
GS1_COMPANY_PREFIX = "7071234"

#: The warehouse (``demo_layout.toml`` says the same for the walking-distance model).
AISLES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H")
BAYS = 20
LEVELS = 3
BAY_WIDTH_M = 1.0
AISLE_PITCH_M = 3.0

SHOP_NAME = "Fjordhandel AS"


# --------------------------------------------------------------------------- the records


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    gtin: str
    name: str
    length_mm: int
    width_mm: int
    height_mm: int  # the upright height for a keep-upright product
    weight_g: int
    location: str
    price_ore: int
    fragile: bool
    keep_upright: bool
    category: str
    shop_product_id: int


@dataclass(frozen=True)
class DemoLocation:
    code: str  # AISLE-BAY-LEVEL, e.g. C-07-2
    aisle: str
    bay: int
    level: int


@dataclass(frozen=True)
class DemoBox:
    code: str
    kind: str  # "box" | "bag"
    name: str
    # For a bag: flat length, flat width, and inner_h_mm = the maximum filled thickness.
    inner_l_mm: int
    inner_w_mm: int
    inner_h_mm: int
    max_weight_g: int
    tare_g: int
    cost_ore: int
    standard: bool


@dataclass(frozen=True)
class DemoPacker:
    name: str
    badge: str  # BDG-1001 …
    role: str  # "packer" | "supervisor"
    pin: str | None  # the supervisor's demo PIN; None for the others


@dataclass(frozen=True)
class DemoAddress:
    name: str
    company: str
    address1: str
    address2: str
    postcode: str
    city: str
    country: str
    email: str
    phone: str


@dataclass(frozen=True)
class DemoLine:
    sku: str
    quantity: int
    unit_price_ore: int


@dataclass(frozen=True)
class DemoOrder:
    shop_order_id: int
    number: str
    created_at: datetime  # aware, UTC
    paid_at: datetime | None
    status: str  # one of ORDER_STATUSES (the bench's state, not the shop's)
    shipping: DemoAddress
    billing: DemoAddress
    shipping_method_id: str
    shipping_method_title: str
    payment_method: str
    payment_method_title: str
    customer_note: str
    lines: tuple[DemoLine, ...]
    shipping_ore: int
    total_ore: int  # sum of the lines + shipping


@dataclass(frozen=True)
class DemoData:
    products: tuple[DemoProduct, ...]
    locations: tuple[DemoLocation, ...]
    boxes: tuple[DemoBox, ...]
    packers: tuple[DemoPacker, ...]
    orders: tuple[DemoOrder, ...]
    shop_name: str
    shop_address: DemoAddress


# --------------------------------------------------------------------------- GTIN


def gtin13(body12: str) -> str:
    """``body12`` with its GS1 mod-10 check digit appended (weights 3, 1, 3, … from the right)."""
    if not (isinstance(body12, str) and len(body12) == 12 and body12.isascii()):
        raise ValueError(f"a GTIN-13 body is 12 digits, got {body12!r}")
    if not body12.isdigit():
        raise ValueError(f"a GTIN-13 body is 12 digits, got {body12!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body12)))
    return body12 + str((10 - total % 10) % 10)


# --------------------------------------------------------------------------- the catalogue

_CATEGORY_CODES: dict[str, str] = {
    "kjøkken": "KJ",
    "mat": "MA",
    "tekstil": "TE",
    "friluft": "FR",
    "interiør": "IN",
    "kontor": "KO",
    "leker": "LE",
    "hobby": "HO",
    "hage": "HA",
}

# A variant is a colour/motif (same size and price as the base) or a size:
# (suffix, (length, width, height) mm, weight g, price øre).
_Variant = str | tuple[str, tuple[int, int, int], int, int]


@dataclass(frozen=True)
class _Template:
    category: str
    base: str
    dims: tuple[int, int, int]  # length, width, height (upright height) in mm, as packed
    weight_g: int
    price_ore: int
    variants: tuple[_Variant, ...] = ()
    fragile: bool = False
    upright: bool = False
    tier: int = 2  # 1 best seller, 2 normal, 3 slow


def _t(
    category: str,
    base: str,
    dims: tuple[int, int, int],
    weight_g: int,
    price_ore: int,
    *variants: _Variant,
    fragile: bool = False,
    upright: bool = False,
    tier: int = 2,
) -> _Template:
    return _Template(category, base, dims, weight_g, price_ore, variants, fragile, upright, tier)


_K, _M, _T, _F, _I, _O, _L, _H, _G = (
    "kjøkken",
    "mat",
    "tekstil",
    "friluft",
    "interiør",
    "kontor",
    "leker",
    "hobby",
    "hage",
)

# fmt: off
_TEMPLATES: tuple[_Template, ...] = (
    # kjøkken
    _t(_K, "Kaffekopp i steintøy", (120, 90, 95), 320, 14900,
       "hvit", "grå", "blå", "sand", fragile=True, tier=1),
    _t(_K, "Tekrus i porselen", (130, 100, 100), 280, 12900, "hvit", "lyseblå", fragile=True),
    _t(_K, "Skjærebrett eik", (300, 200, 20), 900, 34900,
       ("liten 30×20 cm", (300, 200, 20), 900, 34900),
       ("stor 45×30 cm", (450, 300, 25), 2100, 59900)),
    _t(_K, "Skjærebrett bambus", (380, 250, 18), 800, 19900),
    _t(_K, "Kokkekniv 20 cm", (330, 60, 30), 280, 69900),
    _t(_K, "Brødkniv 22 cm", (360, 50, 25), 180, 39900),
    _t(_K, "Knivsliper", (200, 60, 60), 250, 29900),
    _t(_K, "Kjevle i bøk", (450, 60, 60), 380, 14900),
    _t(_K, "Bakepapir 10 m", (340, 50, 50), 200, 3990, tier=1),
    _t(_K, "Pepperkakeformer 6 stk", (180, 150, 40), 150, 8900, tier=1),
    _t(_K, "Pepperkakeform", (120, 100, 25), 40, 3900, "hjerte", "stjerne", "gris", "elg"),
    _t(_K, "Bakebolle i rustfritt stål", (220, 220, 110), 400, 19900,
       ("2 l", (220, 220, 110), 400, 19900),
       ("4 l", (280, 280, 140), 620, 27900)),
    _t(_K, "Ballongvisp", (300, 70, 70), 120, 9900),
    _t(_K, "Stekepanne 28 cm", (500, 290, 60), 1400, 59900),
    _t(_K, "Støpejernsgryte 4 l", (340, 280, 180), 5400, 129900, tier=3),
    _t(_K, "Kaffefilter str. 4 (80 stk)", (160, 110, 60), 120, 3490, tier=1),
    _t(_K, "Filterholder i porselen", (150, 130, 110), 500, 24900, fragile=True),
    _t(_K, "Tesil i rustfritt stål", (150, 60, 40), 40, 7900),
    _t(_K, "Termokanne 1 l", (150, 150, 260), 700, 34900, "sort", "hvit"),
    _t(_K, "Vannglass 4-pk", (260, 180, 110), 1100, 19900, "klar", "røykgrå", fragile=True),
    _t(_K, "Vinglass 2-pk", (280, 200, 100), 600, 24900, fragile=True, tier=3),
    _t(_K, "Karaffel 1 l", (280, 120, 120), 700, 29900, fragile=True),
    _t(_K, "Oppvaskbørste", (250, 70, 50), 60, 5900, "bøk", "bambus", tier=1),
    _t(_K, "Matboks i stål", (180, 130, 65), 250, 19900,
       ("0,8 l", (180, 130, 65), 250, 19900),
       ("1,2 l", (200, 150, 75), 320, 24900)),
    _t(_K, "Drikkeflaske 0,75 l", (270, 75, 75), 330, 29900, "grønn", "sort", "hvit"),
    _t(_K, "Sleiv i oliventre", (310, 65, 25), 90, 12900),
    _t(_K, "Stekespade i tre", (320, 70, 20), 80, 8900),
    _t(_K, "Salt- og pepperkvern", (210, 60, 60), 300, 29900, "eik", "svart"),
    _t(_K, "Smørkniv i eik 4-pk", (200, 80, 20), 80, 14900),
    _t(_K, "Ostehøvel", (230, 70, 25), 95, 14900, tier=1),
    _t(_K, "Vaffeljern", (330, 270, 120), 2400, 69900, tier=3),
    # mat
    _t(_M, "Kaffe filtermalt 250 g", (190, 90, 60), 270, 8900, "lys brent", "mørk brent", tier=1),
    _t(_M, "Kaffe hele bønner 500 g", (240, 110, 70), 520, 15900, "Etiopia", "Colombia", "Brasil"),
    _t(_M, "Te i løs vekt 100 g", (120, 80, 80), 180, 8900, "Earl Grey", "grønn te", "julete"),
    _t(_M, "Honning fra Hardanger 350 g", (80, 80, 100), 480, 12900, fragile=True, upright=True),
    _t(_M, "Tyttebærsyltetøy 400 g", (80, 80, 110), 560, 7900, fragile=True, upright=True),
    _t(_M, "Sjokolade 100 g", (160, 80, 12), 110, 4900, "melk", "mørk 70 %", "med havsalt"),
    _t(_M, "Kakao 250 g", (150, 90, 60), 280, 6900),
    _t(_M, "Rapsolje kaldpresset 0,5 l", (65, 65, 280), 850, 11900, fragile=True, upright=True),
    _t(_M, "Eplesaft fra Sogn 0,75 l", (80, 80, 300), 1250, 7900, fragile=True, upright=True),
    # tekstil
    _t(_T, "Ullsokker 3-pk", (220, 120, 50), 260, 24900,
       "str. 36–40", "str. 41–45", "str. 46–48", tier=1),
    _t(_T, "Lue i ull", (250, 200, 30), 90, 29900, "marineblå", "rød", "grå", "sennep", tier=1),
    _t(_T, "Votter i ull", (240, 130, 30), 110, 24900, "str. S", "str. M", "str. L"),
    _t(_T, "Skjerf i merinoull", (300, 200, 50), 180, 49900, "grå", "rust", "flaskegrønn"),
    _t(_T, "Ullteppe 130×170 cm", (400, 300, 90), 1400, 119900,
       "naturhvit", "grå", "rødrutet", tier=3),
    _t(_T, "Pledd i bomull", (380, 280, 80), 900, 49900, "sand", "mosegrønn"),
    _t(_T, "Kjøkkenhåndkle 2-pk", (250, 180, 25), 180, 12900, "blå stripe", "rød rute", tier=1),
    _t(_T, "Sengesett i lin 140×200", (350, 280, 80), 1300, 99900, "hvit", "linfarget", tier=3),
    _t(_T, "Putetrekk 50×50 cm", (260, 200, 20), 150, 19900, "sennep", "grå", "hvit"),
    _t(_T, "Badehåndkle 70×140 cm", (300, 220, 70), 600, 24900, "hvit", "grå", "sjøgrønn"),
    _t(_T, "Forkle i lin", (280, 200, 30), 200, 29900),
    _t(_T, "Ullundertøy trøye", (290, 220, 40), 230, 59900,
       "str. S", "str. M", "str. L", "str. XL"),
    _t(_T, "Tøfler i filt", (300, 120, 90), 280, 39900,
       "str. 36–38", "str. 39–41", "str. 42–44"),
    # friluft
    _t(_F, "Termos 0,75 l", (90, 90, 300), 480, 39900, "sort", "grønn", "rød"),
    _t(_F, "Kåsa i bjørk", (130, 100, 70), 110, 34900, tier=1),
    _t(_F, "Sitteunderlag", (400, 300, 20), 90, 9900, "oransje", "grå"),
    _t(_F, "Hodelykt 300 lumen", (150, 100, 60), 120, 34900),
    _t(_F, "Tursekk 25 l", (450, 300, 120), 850, 89900, "svart", "grønn"),
    _t(_F, "Impregneringsspray 300 ml", (65, 65, 220), 320, 14900, upright=True),
    _t(_F, "Førstehjelpssett tur", (170, 120, 60), 250, 19900),
    _t(_F, "Kompass", (120, 70, 25), 60, 29900, tier=3),
    _t(_F, "Turkart 1:50 000", (240, 120, 8), 110, 24900,
       "Jotunheimen", "Rondane", "Hardangervidda", "Lofoten"),
    _t(_F, "Spritbrenner", (200, 120, 120), 450, 44900, tier=3),
    _t(_F, "Kokesett 2 personer", (190, 190, 120), 650, 49900),
    _t(_F, "Brodder", (180, 120, 60), 300, 29900, "str. S", "str. M", "str. L", tier=1),
    _t(_F, "Refleksvest", (240, 180, 20), 90, 9900, "barn", "voksen"),
    _t(_F, "Refleks", (100, 70, 5), 10, 2900, "hjerte", "elg", "rund", tier=1),
    _t(_F, "Turkopp med lokk", (130, 100, 110), 200, 19900, "grå", "oransje"),
    _t(_F, "Tennstål", (120, 60, 20), 60, 19900),
    _t(_F, "Pakkposer 3-pk", (250, 150, 40), 120, 19900),
    # interiør
    _t(_I, "Telys 30 stk", (220, 110, 45), 450, 4990, tier=1),
    _t(_I, "Duftlys i glass", (100, 100, 110), 420, 19900,
       "bjørk", "kanel", "gran", fragile=True, upright=True),
    _t(_I, "Stearinlys kronelys 8 stk", (270, 110, 25), 420, 7900, "hvit", "rød", "grønn", tier=1),
    _t(_I, "Lysestake i messing", (130, 130, 120), 400, 29900,
       ("lav", (130, 130, 120), 400, 29900),
       ("høy", (150, 150, 200), 650, 39900)),
    _t(_I, "Adventsstake i tre", (400, 100, 80), 700, 44900),
    _t(_I, "Vase i glass", (160, 160, 180), 600, 24900,
       ("15 cm", (160, 160, 180), 600, 24900),
       ("25 cm", (200, 200, 280), 1100, 34900), fragile=True),
    _t(_I, "Telysholder i glass 4-pk", (200, 200, 80), 500, 14900, fragile=True),
    _t(_I, "Blomsterpotte i keramikk", (150, 150, 130), 600, 14900,
       ("12 cm", (150, 150, 130), 600, 14900),
       ("17 cm", (200, 200, 170), 1100, 22900), fragile=True),
    _t(_I, "Speil rundt 35 cm", (380, 380, 40), 1600, 49900, fragile=True, tier=3),
    _t(_I, "Bilderamme 13×18 cm", (230, 180, 30), 300, 12900, "eik", "sort", fragile=True),
    _t(_I, "Bilderamme 30×40 cm", (440, 340, 30), 800, 24900, "eik", "sort", fragile=True),
    _t(_I, "Plakat 50×70 i rør", (540, 70, 70), 250, 29900, "Lofoten", "Nordlys", "Geiranger"),
    _t(_I, "Kurv i sjøgress", (250, 250, 200), 400, 24900,
       ("S", (250, 250, 200), 400, 24900),
       ("M", (350, 350, 280), 700, 39900)),
    _t(_I, "Dørmatte i kokos", (580, 380, 20), 1500, 39900, tier=3),
    _t(_I, "Lyslenke 20 lys", (200, 150, 80), 350, 24900),
    _t(_I, "Julestjerne i papir", (450, 300, 20), 150, 19900, "hvit", "rød"),
    _t(_I, "Nisse i ull", (120, 80, 80), 80, 12900,
       ("liten", (120, 80, 80), 80, 12900),
       ("stor", (180, 120, 120), 160, 19900)),
    # kontor
    _t(_O, "Notatbok A5 linjert", (215, 150, 15), 280, 14900,
       "sort", "blå", "rød", "grønn", tier=1),
    _t(_O, "Notatbok A4 rutet", (300, 215, 15), 450, 17900),
    _t(_O, "Kulepenn 10-pk", (160, 70, 15), 90, 5900, "blå", "sort"),
    _t(_O, "Blyant HB 12-pk", (190, 60, 15), 90, 3900),
    _t(_O, "Fyllepenn i stål", (160, 50, 30), 60, 29900, tier=3),
    _t(_O, "Skrivebordsorganiser i bjørk", (300, 120, 100), 650, 34900),
    _t(_O, "Ringperm A4", (320, 290, 50), 420, 4900, "blå", "rød", "sort"),
    _t(_O, "Hullemaskin", (150, 120, 80), 400, 14900),
    _t(_O, "Stiftemaskin", (160, 50, 60), 220, 12900),
    _t(_O, "Kalender 2027", (320, 240, 10), 250, 14900,
       ("veggkalender", (320, 240, 10), 250, 14900),
       ("lommekalender", (160, 100, 15), 120, 9900)),
    _t(_O, "Julekort 10-pk", (170, 120, 20), 160, 9900, "nisser", "vinterlandskap", tier=1),
    _t(_O, "Gavepapir 3 m", (360, 60, 60), 180, 4900, "rød", "gull", "kraft", tier=1),
    _t(_O, "Gavebånd", (100, 100, 30), 40, 2900),
    _t(_O, "Skrivebordslampe", (450, 200, 150), 1300, 59900, "sort", "hvit", fragile=True),
    # leker
    _t(_L, "Puslespill 1000 brikker", (350, 250, 60), 700, 24900,
       "Geirangerfjorden", "Lofoten", "Bryggen i Bergen"),
    _t(_L, "Kortstokk", (95, 65, 20), 90, 4900, tier=1),
    _t(_L, "Fia med knuff", (280, 280, 50), 700, 29900),
    _t(_L, "Tretog med vogner", (350, 100, 80), 650, 39900),
    _t(_L, "Kosebamse", (250, 180, 150), 250, 24900, "isbjørn", "elg"),
    _t(_L, "Byggeklosser i tre 50 stk", (300, 200, 150), 1600, 44900),
    _t(_L, "Yatzy", (200, 120, 60), 300, 14900),
    _t(_L, "Fotball", (220, 220, 220), 380, 24900,
       ("str. 4", (220, 220, 220), 380, 24900),
       ("str. 5", (225, 225, 225), 430, 29900)),
    _t(_L, "Akebrett", (450, 350, 30), 500, 9900),
    _t(_L, "Såpebobler", (60, 60, 150), 200, 3900, upright=True),
    _t(_L, "Dukke med klær", (350, 150, 100), 450, 29900),
    _t(_L, "Lekebil i tre", (150, 80, 80), 200, 14900, "rød", "blå"),
    # hobby
    _t(_H, "Ullgarn 50 g", (120, 70, 70), 55, 4900,
       "naturhvit", "marineblå", "rød", "sennep", "lyng", "grå melert", tier=1),
    _t(_H, "Rundpinne 80 cm", (200, 120, 15), 30, 7900, "3 mm", "3,5 mm", "4 mm", "5 mm"),
    _t(_H, "Strikkebok: Norske mønstre", (270, 210, 15), 650, 34900),
    _t(_H, "Heklenål", (160, 30, 10), 15, 4900, "3 mm", "4 mm"),
    _t(_H, "Fargeblyanter 24 stk", (200, 100, 15), 220, 9900),
    _t(_H, "Akvarellsett 12 farger", (200, 100, 20), 180, 19900),
    _t(_H, "Akvarellpapir A4 20 ark", (310, 220, 10), 600, 14900),
    _t(_H, "Pensler 5-pk", (250, 60, 15), 50, 8900),
    _t(_H, "Akrylmaling 6 farger", (200, 150, 40), 450, 14900, upright=True),
    _t(_H, "Tusjpenner 12 stk", (180, 120, 15), 120, 9900),
    _t(_H, "Limpistol", (220, 170, 50), 300, 19900),
    _t(_H, "Perler 2000 stk", (180, 120, 40), 500, 9900),
    _t(_H, "Tovull 100 g", (200, 150, 60), 110, 6900, "naturhvit", "rød"),
    _t(_H, "Korssting-sett julehjerte", (220, 160, 20), 120, 14900),
    _t(_H, "Sysett", (180, 120, 50), 220, 14900),
    _t(_H, "Stoffsaks 23 cm", (260, 90, 20), 160, 24900),
    # hage
    _t(_G, "Julestjerne i potte", (220, 220, 300), 500, 14900, fragile=True, upright=True),
    _t(_G, "Grønn plante i potte", (120, 120, 160), 400, 9900,
       "aloe vera", "pengetre", "kaktus", fragile=True, upright=True),
    _t(_G, "Amaryllisløk", (150, 150, 150), 300, 8900),
    _t(_G, "Plantenæring 0,5 l", (80, 60, 220), 580, 6900, upright=True),
    _t(_G, "Vannkanne 1,5 l", (350, 130, 220), 250, 14900),
    _t(_G, "Frø krydderurter 4-pk", (160, 110, 10), 40, 5900),
    _t(_G, "Meiseboller 6 stk", (200, 140, 70), 540, 4900, tier=1),
    _t(_G, "Fuglekasse i furu", (300, 180, 180), 1400, 29900, tier=3),
    _t(_G, "Hagesaks", (230, 80, 25), 250, 24900),
)
# fmt: on

#: Items that sell together (by product base name): slotted side by side and ordered together.
BUNDLES: tuple[tuple[str, ...], ...] = (
    (
        "Kaffe filtermalt 250 g",
        "Kaffefilter str. 4 (80 stk)",
        "Kaffekopp i steintøy",
        "Filterholder i porselen",
    ),
    (
        "Te i løs vekt 100 g",
        "Tekrus i porselen",
        "Honning fra Hardanger 350 g",
        "Tesil i rustfritt stål",
    ),
    ("Pepperkakeformer 6 stk", "Kjevle i bøk", "Bakepapir 10 m", "Bakebolle i rustfritt stål"),
    ("Ullsokker 3-pk", "Lue i ull", "Votter i ull", "Skjerf i merinoull"),
    ("Termos 0,75 l", "Kåsa i bjørk", "Sitteunderlag", "Hodelykt 300 lumen"),
    (
        "Telys 30 stk",
        "Telysholder i glass 4-pk",
        "Lysestake i messing",
        "Stearinlys kronelys 8 stk",
    ),
    ("Ullgarn 50 g", "Rundpinne 80 cm", "Strikkebok: Norske mønstre"),
    ("Gavepapir 3 m", "Gavebånd", "Julekort 10-pk"),
    ("Skjærebrett eik", "Kokkekniv 20 cm", "Knivsliper"),
    ("Akvarellsett 12 farger", "Akvarellpapir A4 20 ark", "Pensler 5-pk"),
)


@dataclass(frozen=True)
class _Item:
    """A catalogue entry before it has a place in the warehouse."""

    sku: str
    gtin: str
    name: str
    dims: tuple[int, int, int]
    weight_g: int
    price_ore: int
    fragile: bool
    upright: bool
    category: str
    shop_product_id: int
    base: str
    variant_index: int
    tier: int


def _build_catalogue() -> tuple[_Item, ...]:
    items: list[_Item] = []
    per_category: dict[str, int] = {}
    for t in _TEMPLATES:
        if ", " in t.base:  # ", " separates the base from the variant in a product's name
            raise ValueError(f"a product base name may not contain ', ': {t.base!r}")
        variants: tuple[_Variant, ...] = t.variants or ("",)
        for vi, v in enumerate(variants):
            if isinstance(v, str):
                suffix, dims, weight, price = v, t.dims, t.weight_g, t.price_ore
            else:
                suffix, dims, weight, price = v
            n = per_category.get(t.category, 0) + 1
            per_category[t.category] = n
            index = len(items)
            items.append(
                _Item(
                    sku=f"FJ-{_CATEGORY_CODES[t.category]}-{n:04d}",
                    gtin=gtin13(f"{GS1_COMPANY_PREFIX}{101 + 7 * index:05d}"),
                    name=f"{t.base}, {suffix}" if suffix else t.base,
                    dims=dims,
                    weight_g=weight,
                    price_ore=price,
                    fragile=t.fragile,
                    upright=t.upright,
                    category=t.category,
                    shop_product_id=1201 + index,
                    base=t.base,
                    variant_index=vi,
                    tier=t.tier,
                )
            )
    return tuple(items)


_CATALOGUE: tuple[_Item, ...] = _build_catalogue()
_BASE_OF_SKU: dict[str, str] = {it.sku: it.base for it in _CATALOGUE}
_BUNDLE_OF_BASE: dict[str, int] = {base: i for i, bundle in enumerate(BUNDLES) for base in bundle}

_TIER_FACTOR = {1: 5.0, 2: 1.0, 3: 0.3}


def _popularity_table() -> dict[str, float]:
    """Zipf-like sales weights, 1/(rank + 4), the ranking led by the staple items (tier 1)."""

    def score(it: _Item) -> float:
        u = zlib.crc32(it.sku.encode()) / 2**32  # a fixed, even spread in [0, 1)
        return _TIER_FACTOR[it.tier] * (0.3 + u) / (1.0 + 0.3 * it.variant_index)

    ranked = sorted(_CATALOGUE, key=lambda it: (-score(it), it.sku))
    return {it.sku: 4.0 / (rank + 4) for rank, it in enumerate(ranked)}


_POPULARITY: dict[str, float] = _popularity_table()
_UNKNOWN_POPULARITY = min(_POPULARITY.values())


def popularity_weights(products: Sequence[DemoProduct]) -> dict[str, float]:
    """How well each product sells (relative weights, Zipf-like), by SKU.

    Fixed per SKU, so the slotting and every batch of orders agree on the best sellers; a
    product that is not in the demo catalogue gets the smallest weight.
    """
    return {p.sku: _POPULARITY.get(p.sku, _UNKNOWN_POPULARITY) for p in products}


# --------------------------------------------------------------------------- the warehouse


def _slot_code(aisle: str, bay: int, level: int) -> str:
    return f"{aisle}-{bay:02d}-{level}"


def _all_locations() -> tuple[DemoLocation, ...]:
    return tuple(
        DemoLocation(_slot_code(a, b, lv), a, b, lv)
        for a in AISLES
        for b in range(1, BAYS + 1)
        for lv in range(1, LEVELS + 1)
    )


def _walk_m(aisle_index: int, bay: int) -> float:
    """Metres from the depot at the front of aisle A to a bay (across the front, then in)."""
    return aisle_index * AISLE_PITCH_M + (bay - 0.5) * BAY_WIDTH_M


#: Extra "metres" for reaching a level: 2 is waist height, 1 the floor, 3 above the head.
_LEVEL_PENALTY = {1: 0.6, 2: 0.0, 3: 8.0}

#: The best-selling share of the slot units gets the slots nearest the depot, in order; the
#: rest stand wherever there was room when they arrived.
_NEAR_SHARE = 0.45


def _slot(rng: random.Random, items: Sequence[_Item]) -> dict[str, str]:
    """SKU -> location code. One product per slot; bundles and variants side by side."""
    slots = [
        (ai, bay, lv) for ai in range(len(AISLES)) for bay in range(1, BAYS + 1) for lv in (1, 2, 3)
    ]
    if len(items) > len(slots):
        raise ValueError(f"{len(items)} products do not fit in {len(slots)} locations")
    cost = {s: _walk_m(s[0], s[1]) + _LEVEL_PENALTY[s[2]] + rng.uniform(0.0, 1.5) for s in slots}
    by_cost = sorted(slots, key=lambda s: (cost[s], s))

    # Slot units: a bundle (all variants of all its items), else one item with its variants.
    units: dict[str, list[_Item]] = {}
    for it in items:
        b = _BUNDLE_OF_BASE.get(it.base)
        units.setdefault(f"bundle:{b}" if b is not None else f"base:{it.base}", []).append(it)
    ordered = sorted(
        units.values(),
        key=lambda u: (-max(_POPULARITY.get(it.sku, 0.0) for it in u), u[0].sku),
    )

    free = set(slots)
    free_in_bay = {(ai, bay): LEVELS for ai in range(len(AISLES)) for bay in range(1, BAYS + 1)}

    def roomy(candidates: Sequence[tuple[int, int, int]], size: int) -> tuple[int, int, int]:
        """The first candidate with room for the whole unit a few bays either side of it."""
        reach = size // 2 + 1
        for s in candidates:
            bays = range(max(1, s[1] - reach), min(BAYS, s[1] + reach) + 1)
            if sum(free_in_bay[(s[0], b)] for b in bays) >= size:
                return s
        return candidates[0]

    placed: dict[str, str] = {}
    near_units = math.ceil(len(ordered) * _NEAR_SHARE)
    for n, unit in enumerate(ordered):
        if n < near_units:
            candidates = [s for s in by_cost if s in free]
        else:
            candidates = sorted(free)
            rng.shuffle(candidates)
        anchor = roomy(candidates, len(unit))
        for it in sorted(unit, key=lambda it: -_POPULARITY.get(it.sku, 0.0)):
            spot = min(
                free,
                key=lambda s, a=anchor: (  # type: ignore[misc]  # a default-bound lambda
                    s[0] != a[0],
                    abs(s[1] - a[1]) + _LEVEL_PENALTY[s[2]] / 2 + 0.1 * abs(s[2] - a[2]),
                    s,
                ),
            )
            free.discard(spot)
            free_in_bay[(spot[0], spot[1])] -= 1
            placed[it.sku] = _slot_code(AISLES[spot[0]], spot[1], spot[2])
    return placed


# --------------------------------------------------------------------------- boxes and people

_BOXES: tuple[DemoBox, ...] = (
    DemoBox("BOX-XS", "box", "Eske XS 20×15×8", 200, 150, 80, 5000, 90, 450, False),
    DemoBox("BOX-S", "box", "Eske S 25×20×10", 250, 200, 100, 10000, 140, 600, True),
    DemoBox("BOX-M", "box", "Eske M 35×25×15", 350, 250, 150, 15000, 260, 900, True),
    DemoBox("BOX-L", "box", "Eske L 45×35×25", 450, 350, 250, 20000, 480, 1400, True),
    DemoBox("BOX-XL", "box", "Eske XL 60×40×40", 600, 400, 400, 25000, 850, 2200, False),
    DemoBox("BOX-LONG", "box", "Langeske 80×15×15", 800, 150, 150, 15000, 520, 1600, False),
    DemoBox("BAG-S", "bag", "Plastpose S 25×35", 350, 250, 50, 2000, 15, 150, False),
    DemoBox("BAG-M", "bag", "Plastpose M 35×45", 450, 350, 80, 5000, 25, 250, False),
    DemoBox("BAG-BOBLE", "bag", "Boblekonvolutt 22×34", 340, 220, 40, 1000, 20, 300, False),
)

_PACKERS: tuple[DemoPacker, ...] = (
    DemoPacker("Ingrid Sæther", "BDG-1001", "supervisor", "2468"),
    DemoPacker("Jørgen Lie", "BDG-1002", "packer", None),
    DemoPacker("Åshild Nygård", "BDG-1003", "packer", None),
    DemoPacker("Mats Østby", "BDG-1004", "packer", None),
)

_SHOP_ADDRESS = DemoAddress(
    name=SHOP_NAME,
    company=SHOP_NAME,
    address1="Industrivegen 14",
    address2="",
    postcode="2816",
    city="Gjøvik",
    country="NO",
    email="post@fjordhandel.no",
    phone="+47 61 13 40 00",
)

# --------------------------------------------------------------------------- customers

# fmt: off
_FIRST_NAMES = (
    "Bjørn", "Åse", "Ola", "Kari", "Lars", "Ingrid", "Håkon", "Solveig", "Jørgen", "Siri",
    "Øyvind", "Marte", "Kjetil", "Tone", "Magnus", "Hilde", "Sindre", "Bodil", "Torbjørn",
    "Ragnhild", "Eirik", "Sølvi", "Anders", "Mette", "Trond", "Nora", "Ståle", "Ida", "Pål",
    "Åshild", "Geir", "Gro", "Even", "Liv", "Vegard", "Synnøve", "Henrik", "Frøydis", "Jon",
    "Astrid",
)
_LAST_NAMES = (
    "Ødegård", "Kværner", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen",
    "Nilsen", "Kristiansen", "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg",
    "Haugen", "Hagen", "Solberg", "Bakken", "Strøm", "Lie", "Dahl", "Lund", "Moen", "Sæther",
    "Bråten", "Nygård", "Aas", "Fjære", "Løvås", "Myhre", "Sørensen", "Røed", "Våge", "Kleppe",
    "Aasen", "Østby", "Grønli", "Tveit",
)
_STREETS = (
    "Storgata", "Kirkegata", "Kongens gate", "Dronningens gate", "Skolegata", "Parkveien",
    "Bjørkeveien", "Granveien", "Furuveien", "Sjøgata", "Strandveien", "Fjellveien",
    "Elvegata", "Løkkeveien", "Åsveien", "Haugeveien", "Solbakken", "Tollbugata",
    "Jernbanegata", "Øvre Slottsgate", "Kvernhusveien", "Markveien", "Bakkegata",
    "Møllergata", "Nedre Bekkelaget", "Rådhusgata", "Blåbærstien", "Tyttebærveien",
)
#: Postcodes with the city Posten gives them.
_POSTCODES = (
    ("0150", "Oslo"), ("0255", "Oslo"), ("0368", "Oslo"), ("0474", "Oslo"), ("0560", "Oslo"),
    ("0661", "Oslo"), ("1164", "Oslo"), ("5003", "Bergen"), ("5011", "Bergen"),
    ("5067", "Bergen"), ("7010", "Trondheim"), ("7030", "Trondheim"), ("9008", "Tromsø"),
    ("6002", "Ålesund"), ("8006", "Bodø"), ("4610", "Kristiansand S"), ("4006", "Stavanger"),
    ("2609", "Lillehammer"), ("1606", "Fredrikstad"), ("3015", "Drammen"), ("3111", "Tønsberg"),
    ("2317", "Hamar"), ("1337", "Sandvika"), ("3717", "Skien"), ("4836", "Arendal"),
    ("5527", "Haugesund"), ("6413", "Molde"), ("9510", "Alta"), ("2815", "Gjøvik"),
    ("2000", "Lillestrøm"), ("4306", "Sandnes"), ("8515", "Narvik"), ("9405", "Harstad"),
    ("3510", "Hønefoss"), ("1440", "Drøbak"), ("7600", "Levanger"), ("5700", "Voss"),
)
_COMPANIES = (
    "Fjellheim Regnskap AS", "Bakeriet på hjørnet", "Solstrand barnehage", "Nordvik Bygg AS",
    "Kafé Måken", "Brøholt Tannlegekontor", "Havgløtt Frisør", "Lysaker Arkitekter AS",
    "Tindefjell Turlag", "Østre Bokhandel",
)
# fmt: on
_ADDRESS2 = ("2. etasje", "Inngang fra bakgården", "Bygg B", "Hybel i sokkel")
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

_NOTES = (
    "Kan leveres i postkassen",
    "Gaveinnpakning, takk!",
    "Vennligst ikke bøy pakken",
    "Legg igjen pakken på trappa om jeg ikke er hjemme",
    "Det er en gave – ikke legg ved kvittering",
    "Kan dere sende før fredag? Skal på hytta.",
    "Porten har kode 1905",
    "Skriv «Gratulerer med dagen!» på et kort, takk",
    "Pakk glasset godt inn, takk",
    "Bruk gjerne minst mulig plast i pakken",
    "Samle gjerne med forrige bestilling min",
    "Ring meg på mobilen hvis noe er utsolgt",
)
_PICKUP_NOTES = ("Jeg henter etter kl. 16", "Min sønn henter for meg")
_CANCEL_NOTES = ("Bestilte feil størrelse – kan ordren kanselleres?",)

#: (id, title, price in øre, weight): what the shop offers at checkout.
_SHIPPING = (
    ("flat_rate:3", "Posten Norgespakke", 9900, 50),
    ("flat_rate:4", "PostNord MyPack Collect", 7900, 40),
    ("local_pickup:1", "Hent i butikk", 0, 10),
)
_PAYMENT = (("vipps", "Vipps", 55), ("klarna", "Klarna", 45))

#: Lines per order (about a third of the orders have more than one) and notes: exact shares.
_LINE_COUNTS: dict[int, float] = {1: 64, 2: 18, 3: 9, 4: 5, 5: 2.5, 6: 1.5}
_NOTE_SHARE: dict[bool, float] = {False: 75, True: 25}
_QUANTITIES = (1, 2, 3, 4)
_QUANTITY_WEIGHTS = (86, 10, 3, 1)
_BUNDLE_CHANCE = 0.6  # that a further line is a partner of something already in the basket

#: Shares of the states (per 200): most are the day's new work, several in each of the rest.
_STATUS_SHARES = {
    "new": 57,
    "slip_printed": 48,
    "picking": 14,
    "picked": 11,
    "packing": 9,
    "packed": 11,
    "shipped": 14,
    "handed_over": 20,
    "on_hold": 8,
    "cancelled": 8,
}
#: Oldest first: the order of the states down a line of orders sorted by age.
_STATUS_BY_AGE = (
    "handed_over",
    "shipped",
    "packed",
    "packing",
    "picked",
    "picking",
    "slip_printed",
    "new",
)

_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e", " ": "", "-": ""})


def _email_local(name: str) -> str:
    first, _, last = name.lower().partition(" ")
    return f"{first.translate(_ASCII)}.{last.translate(_ASCII)}"


def _phone(rng: random.Random) -> str:
    digits = f"{rng.choice('49')}{rng.randrange(10**7):07d}"
    return f"+47 {digits[:3]} {digits[3:5]} {digits[5:]}"


def _address(rng: random.Random, name: str, email: str, phone: str) -> DemoAddress:
    postcode, city = rng.choice(_POSTCODES)
    number = f"{rng.randint(1, 120)}{rng.choice('AB') if rng.random() < 0.12 else ''}"
    address2 = ""
    if rng.random() < 0.2:
        address2 = (
            f"Leilighet H0{rng.randint(1, 5)}0{rng.randint(1, 4)}"
            if rng.random() < 0.5
            else rng.choice(_ADDRESS2)
        )
    return DemoAddress(
        name=name,
        company="",
        address1=f"{rng.choice(_STREETS)} {number}",
        address2=address2,
        postcode=postcode,
        city=city,
        country="NO",
        email=email,
        phone=phone,
    )


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def _customer(rng: random.Random, company: bool) -> DemoAddress:
    name = _person(rng)
    suffix = str(rng.randint(1, 99)) if rng.random() < 0.3 else ""
    email = f"{_email_local(name)}{suffix}@{rng.choice(_EMAIL_DOMAINS)}"
    addr = _address(rng, name, email, _phone(rng))
    if company:
        addr = replace(addr, company=rng.choice(_COMPANIES))
    return addr


def _customers(rng: random.Random, count: int) -> list[DemoAddress]:
    """Who placed each of ``count`` orders: everyone in the pool once, and some came back."""
    size = max(1, min(count, math.ceil(count * 0.85)))
    companies = _shuffled(rng, {True: 12, False: 88}, size)
    pool = [_customer(rng, c) for c in companies]
    buyers = pool + [rng.choice(pool) for _ in range(count - size)]
    rng.shuffle(buyers)
    return buyers[:count]


# --------------------------------------------------------------------------- orders


_Key = TypeVar("_Key")


def _quota(shares: dict[_Key, float], count: int) -> dict[_Key, int]:
    """``count`` split by ``shares`` (largest remainder; ties go to the earlier key)."""
    total = sum(shares.values())
    raw = {k: count * w / total for k, w in shares.items()}
    quota = {k: math.floor(v) for k, v in raw.items()}
    by_fraction = sorted(shares, key=lambda k: -(raw[k] - quota[k]))
    for k in by_fraction[: count - sum(quota.values())]:
        quota[k] += 1
    return quota


def _shuffled(rng: random.Random, shares: dict[_Key, float], count: int) -> list[_Key]:
    """``count`` values in the proportions of ``shares``, exactly (not by chance), shuffled."""
    values = [k for k, n in _quota(shares, count).items() for _ in range(n)]
    rng.shuffle(values)
    return values


def _status_quota(count: int) -> dict[str, int]:
    """How many orders in each state: the shares by largest remainder, a few of each at least."""
    quota = _quota({s: _STATUS_SHARES[s] for s in ORDER_STATUSES}, count)
    minimum = 3 if count >= 40 else 1 if count >= 2 * len(ORDER_STATUSES) else 0
    for s in ORDER_STATUSES:
        while quota[s] < minimum:
            donor = max(ORDER_STATUSES, key=lambda d: quota[d])
            quota[donor] -= 1
            quota[s] += 1
    return quota


def _statuses(rng: random.Random, count: int) -> list[str]:
    """The state of each order, oldest first: handed over at the old end, new at the other;
    holds among the orders being worked, cancellations anywhere after the handed-over ones."""
    quota = _status_quota(count)
    line = [s for s in _STATUS_BY_AGE for _ in range(quota[s])]
    oldest = quota["handed_over"]  # handed over stay the oldest of all
    held_from = oldest + quota["shipped"] // 2
    for _ in range(quota["on_hold"]):
        line.insert(rng.randint(held_from, max(held_from, len(line) - quota["new"])), "on_hold")
    for _ in range(quota["cancelled"]):
        newest = len(line) - max(1, quota["new"] // 2)  # the newest order stays "new"
        line.insert(rng.randint(oldest, max(oldest, newest)), "cancelled")
    return line


def _local_hour_weight(t: datetime) -> float:
    hour = (t.hour + 1) % 24  # Norway in winter is UTC+1
    if hour < 6:
        return 0.12
    if hour < 18:
        return 0.7
    return 1.0


def _order_times(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    """``count`` order times before ``now``, ascending; denser towards ``now``, fewer at night."""
    span_h = min(max(count * 1.6, 0.75), 24.0 * 6)
    newest = now - timedelta(minutes=rng.randint(2, 15))
    times: list[datetime] = []
    while len(times) < count:
        age_h = span_h * rng.random() ** 2.2
        t = (newest - timedelta(hours=age_h)).replace(microsecond=0)
        if rng.random() < _local_hour_weight(t):
            times.append(t)
    times.sort()
    return times


def _weighted(rng: random.Random, choices: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    return rng.choices(choices, weights=[c[-1] for c in choices])[0]


def generate_orders(
    rng: random.Random,
    products: Sequence[DemoProduct],
    start_id: int,
    count: int,
    now: datetime,
) -> list[DemoOrder]:
    """``count`` orders with shop ids ``start_id``, ``start_id + 1``, … created before ``now``.

    Lines follow the products' popularity, and a further line is often a partner from the same
    bundle, so "often ordered together" shows in the history. The orders come oldest first;
    their ``status`` is the bench's state for a demo that starts mid-day, and the newest is
    always "new" (so a single fresh order to tick in is "new").
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more, got {count}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    if count and not products:
        raise ValueError("orders need products")
    now = now.astimezone(UTC)
    products = tuple(products)
    popularity = popularity_weights(products)
    weights = [popularity[p.sku] for p in products]
    cumulative = list(itertools.accumulate(weights))
    total_weight = cumulative[-1] if cumulative else 0.0

    partners: dict[str, list[DemoProduct]] = {}
    for p in products:
        b = _BUNDLE_OF_BASE.get(_BASE_OF_SKU.get(p.sku, ""))
        if b is None:
            continue
        partners[p.sku] = [
            q
            for q in products
            if _BUNDLE_OF_BASE.get(_BASE_OF_SKU.get(q.sku, "")) == b
            and _BASE_OF_SKU[q.sku] != _BASE_OF_SKU[p.sku]
        ]

    def by_popularity() -> DemoProduct:
        i = bisect.bisect_right(cumulative, rng.random() * total_weight)
        return products[min(i, len(products) - 1)]

    times = _order_times(rng, count, now)
    statuses = _statuses(rng, count)
    buyers = _customers(rng, count)
    line_counts = _shuffled(rng, _LINE_COUNTS, count)
    with_note = _shuffled(rng, _NOTE_SHARE, count)

    orders: list[DemoOrder] = []
    for n in range(count):
        billing = buyers[n]
        shipping = billing
        if rng.random() < 0.1:  # a present, sent to someone else
            shipping = _address(rng, _person(rng), billing.email, billing.phone)
        method_id, method_title, shipping_ore, _ = _weighted(rng, _SHIPPING)
        payment, payment_title, _ = _weighted(rng, _PAYMENT)

        wanted = line_counts[n]
        basket: list[DemoProduct] = []
        for _ in range(wanted * 4):
            if len(basket) >= wanted:
                break
            candidate = None
            if basket and rng.random() < _BUNDLE_CHANCE:
                mates = partners.get(rng.choice(basket).sku)
                if mates:
                    candidate = rng.choices(mates, weights=[popularity[q.sku] for q in mates])[0]
            if candidate is None:
                candidate = by_popularity()
            if all(candidate.sku != q.sku for q in basket):
                basket.append(candidate)
        lines = tuple(
            DemoLine(p.sku, rng.choices(_QUANTITIES, weights=_QUANTITY_WEIGHTS)[0], p.price_ore)
            for p in basket
        )

        status = statuses[n]
        note = ""
        if with_note[n]:
            if status == "cancelled" and rng.random() < 0.6:
                note = rng.choice(_CANCEL_NOTES)
            elif method_id.startswith("local_pickup") and rng.random() < 0.6:
                note = rng.choice(_PICKUP_NOTES)
            else:
                note = rng.choice(_NOTES)

        created = times[n]
        paid = min(created + timedelta(seconds=rng.randint(30, 480)), now)
        subtotal = sum(ln.quantity * ln.unit_price_ore for ln in lines)
        shop_id = start_id + n
        orders.append(
            DemoOrder(
                shop_order_id=shop_id,
                number=str(shop_id),
                created_at=created,
                paid_at=paid,
                status=status,
                shipping=shipping,
                billing=billing,
                shipping_method_id=method_id,
                shipping_method_title=method_title,
                payment_method=payment,
                payment_method_title=payment_title,
                customer_note=note,
                lines=lines,
                shipping_ore=shipping_ore,
                total_ore=subtotal + shipping_ore,
            )
        )
    return orders


# --------------------------------------------------------------------------- the demo's day


def demo_shift(now: datetime) -> timedelta:
    """How far to move the demo (made for ``REFERENCE_NOW``) so that its day is ``now``'s.

    Whole days, so the hours people order at stay as generated; never so far that an order lies
    after ``now`` (before 08:00 UTC the demo's newest orders are yesterday's).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return timedelta(days=(now - REFERENCE_NOW) // timedelta(days=1))


def moved_to(data: DemoData, now: datetime) -> DemoData:
    """The same demo with every order's times moved by :func:`demo_shift` (``now``): a demo
    started a week after it was written still shows today's orders, not week-old ones."""
    delta = demo_shift(now)
    if not delta:
        return data
    orders = tuple(
        replace(
            o,
            created_at=o.created_at + delta,
            paid_at=o.paid_at + delta if o.paid_at is not None else None,
        )
        for o in data.orders
    )
    return replace(data, orders=orders)


# --------------------------------------------------------------------------- everything


def generate(seed: int = 1, n_orders: int = 72, now: datetime | None = None) -> DemoData:
    """The whole demo shop for ``seed``: the same seed and ``now`` give exactly the same data.

    ``now`` (aware) is when the demo day is; without it, ``REFERENCE_NOW``.
    """
    if now is None:
        now = REFERENCE_NOW
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    master = random.Random(seed)
    slot_rng = random.Random(master.getrandbits(64))
    order_rng = random.Random(master.getrandbits(64))

    where = _slot(slot_rng, _CATALOGUE)
    products = tuple(
        DemoProduct(
            sku=it.sku,
            gtin=it.gtin,
            name=it.name,
            length_mm=it.dims[0],
            width_mm=it.dims[1],
            height_mm=it.dims[2],
            weight_g=it.weight_g,
            location=where[it.sku],
            price_ore=it.price_ore,
            fragile=it.fragile,
            keep_upright=it.upright,
            category=it.category,
            shop_product_id=it.shop_product_id,
        )
        for it in _CATALOGUE
    )
    orders = generate_orders(order_rng, products, 5001, n_orders, now)
    return DemoData(
        products=products,
        locations=_all_locations(),
        boxes=_BOXES,
        packers=_PACKERS,
        orders=tuple(orders),
        shop_name=SHOP_NAME,
        shop_address=_SHOP_ADDRESS,
    )
