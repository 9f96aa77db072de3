"""Settings: one TOML file plus ``PACKBENCH_*`` environment overrides, validated at start.

Where things are looked for, first match wins:
- the config file: ``--config``, then ``PACKBENCH_CONFIG``, then the platform's config dir;
- the database: ``--db``, then ``PACKBENCH_DB``, then ``db`` in the file, then the platform's
  data dir.
Nested keys are overridden as ``PACKBENCH_SCANNER__LAYOUT=no``. Shop credentials come from the
environment only (``PACKBENCH_SHOP_KEY``, ``PACKBENCH_SHOP_SECRET``) and are never written out.
"""

from __future__ import annotations

import os
import socket
import tomllib
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from packbench.config_env import EnvError, deep_update, field_keys, read_environment
from packbench.core.codes import LAYOUT_SWAPS, CodeRules
from packbench.core.routing import Layout, LayoutError, load_layout
from packbench.redact import redact_url

APP_NAME = "packbench"
STATIONS = ("admin", "pick", "pack", "ship", "post", "dashboard")


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the key and the file."""


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    return config_dir() / "config.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BenchSettings(_Section):
    terminal: str = Field(default_factory=socket.gethostname, min_length=1, max_length=64)
    station: Literal["admin", "pick", "pack", "ship", "post", "dashboard"] = "admin"
    shop_name: str = "Fjordhandel AS"
    shop_address: list[str] = Field(
        default_factory=lambda: ["Industrivegen 14", "2816 Gjøvik", "Org.nr. 912 345 678"]
    )


class PrinterChoice(_Section):
    """Which CUPS queue prints which document; empty means "not set here"."""

    slip: str = ""
    label: str = ""
    manifest: str = ""
    label_format: Literal["pdf", "zpl", ""] = ""
    label_size: Literal["102x152", "100x190", ""] = ""


class PrinterSettings(PrinterChoice):
    """Defaults for every station, with per-station overrides under ``[printers.stations.X]``."""

    slip: str = "PACKBENCH-PDF"
    label: str = "PACKBENCH-PDF"
    manifest: str = "PACKBENCH-PDF"
    label_format: Literal["pdf", "zpl", ""] = "pdf"
    label_size: Literal["102x152", "100x190", ""] = "102x152"
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    server: str = ""  # another CUPS server (host[:port]); empty: the local one
    stations: dict[str, PrinterChoice] = Field(default_factory=dict)

    @field_validator("stations")
    @classmethod
    def _known_stations(cls, value: dict[str, PrinterChoice]) -> dict[str, PrinterChoice]:
        for name in value:
            if name not in STATIONS:
                raise ValueError(f"unknown station {name!r}; stations: {', '.join(STATIONS)}")
        return value

    def for_station(self, station: str) -> PrinterChoice:
        """The printers a station uses: its own settings over the defaults."""
        own = self.stations.get(station, PrinterChoice())
        return PrinterChoice(
            slip=own.slip or self.slip,
            label=own.label or self.label,
            manifest=own.manifest or self.manifest,
            label_format=own.label_format or self.label_format,
            label_size=own.label_size or self.label_size,
        )


class ScannerSettings(_Section):
    #: The keyboard layout of the terminal a US-configured scanner types into.
    layout: str = "us"
    #: Keys closer together than this (median) came from a scanner, not a person.
    max_key_gap_ms: float = Field(default=35.0, gt=0, le=1000)

    @field_validator("layout")
    @classmethod
    def _known_layout(cls, value: str) -> str:
        if value not in LAYOUT_SWAPS:
            raise ValueError(f"unknown layout {value!r}; known: {', '.join(sorted(LAYOUT_SWAPS))}")
        return value


class CodeSettings(_Section):
    badge_prefix: str = Field(default="BDG-", min_length=1, max_length=10)
    order_prefix: str = Field(default="ORD-", min_length=1, max_length=10)
    command_prefix: str = Field(default="CMD-", min_length=1, max_length=10)
    #: Whose rules read the weight or price printed into a variable-measure GTIN-13
    #: (prefix 20-29): "no", "se", "dk", "fi", "de", "gb", "ee", "lv", "lt"; "" reads them
    #: as plain GTINs.
    variable_measure_region: Literal["", "no", "se", "dk", "fi", "de", "gb", "ee", "lv", "lt"] = (
        "no"
    )


class ShopSettings(_Section):
    url: str = ""
    clearing_account: int = Field(default=1570, ge=1000, le=9999)
    sync_interval_s: float = Field(default=30.0, gt=0)
    #: The product meta key that holds the shelf location (AISLE-BAY-LEVEL) in the shop.
    location_meta_key: str = Field(default="_packbench_location", min_length=1, max_length=100)
    #: The shipping-line meta keys that hold the customer's pickup point, tried in order
    #: (the Bring plugin for WooCommerce writes ``pickup_point_id``).
    pickup_point_meta_keys: list[str] = Field(
        default_factory=lambda: ["pickup_point_id", "_fraktguiden_pickup_point_id"]
    )
    #: How long a terminal's sync lease lasts without renewal (a dead holder's runs out).
    lease_ttl_s: float = Field(default=60.0, gt=0)
    #: Ask for only the fields packbench maps (WordPress's ``_fields``); off for a shop whose
    #: plugins break it (the sync notices that too, and asks for whole objects).
    request_fields: bool = True
    #: Order pages fetched side by side when the shop has many (written in order all the same).
    concurrent_pages: int = Field(default=4, ge=1, le=16)
    #: The shop's rate limit in requests a second, 0 = none known: requests are spaced to it
    #: and no more pages are fetched at once than it allows.
    rate_limit_per_s: float = Field(default=0.0, ge=0)


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: Path | None = None

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class DaySettings(_Section):
    """The bench's working day: its time zone, the cut-off for same-day shipping, the shift."""

    timezone: str = "Europe/Oslo"
    #: Orders paid before this local time ship today.
    cutoff: time = time(14, 0)
    #: When the last parcel can leave; the dashboard's pace is measured against it.
    shift_end: time = time(16, 0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Oslo)") from None
        return value

    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# -- the warehouse and the pick station (#5) ----------------------------------------------------
BUNDLED_LAYOUT = Path(__file__).parent / "data" / "demo_layout.toml"


class WarehouseSettings(_Section):
    #: The warehouse layout TOML (aisles, bays, depot); empty: the bundled demo warehouse.
    layout: Path | None = None

    def layout_path(self) -> Path:
        return self.layout.expanduser() if self.layout else BUNDLED_LAYOUT


class PickSettings(_Section):
    #: Orders picked together onto one cart, one tote each.
    batch_size: int = Field(default=6, ge=1, le=50)
    #: The location label must be scanned before the items of each stop.
    require_location_scan: bool = False
    #: A short pick puts the order on hold, or lets it ship what was found.
    short_pick: Literal["hold", "partial"] = "hold"


def load_warehouse_layout(path: Path) -> Layout:
    """The layout at ``path``, validated; a bad file is a ``ConfigError`` naming it."""
    try:
        return load_layout(path)
    except LayoutError as exc:
        raise ConfigError(f"warehouse.layout: {exc}") from None


# -- end of the warehouse block -------------------------------------------------------------------


# -- the pack station (#6) ------------------------------------------------------------------------
class PackSettings(_Section):
    #: A claim untouched this long (a crashed or abandoned terminal) may be taken over.
    stale_claim_minutes: int = Field(default=30, ge=1, le=24 * 60)
    #: Overrides of the same item set to the same box before that box is the suggestion.
    learn_after: int = Field(default=3, ge=1, le=100)
    #: A weighed parcel further off its expected weight than this must be confirmed.
    weight_tolerance_pct: float = Field(default=10.0, gt=0, le=100)
    #: An item whose GS1 expiry date (AI 17) has passed: refuse it, or warn and pack it.
    expired_items: Literal["refuse", "warn"] = "refuse"
    #: Pack and ship at one bench: the scan that packs an order also does the ship station's
    #: work (books, prints the labels here; with ``[ship] complete_on_label`` completes too).
    ship_when_packed: bool = False
    #: Pick and pack in one pass at one bench (#16): a slip-printed order's slip opens it here
    #: and each unit is scanned once, as it goes from the shelf into the box.
    pick_at_pack: bool = False
    #: A bench scale on a serial/USB port ("/dev/ttyUSB0"): a stable reading is the parcel's
    #: weight, no scan. Empty: weights are scanned or typed.
    scale: str = ""
    scale_baud: int = Field(default=9600, ge=50, le=4_000_000)
    scale_bytesize: Literal[5, 6, 7, 8] = 8
    scale_parity: Literal["N", "E", "O"] = "N"
    scale_stopbits: Literal[1, 2] = 1
    #: Sent to a scale that answers only when asked (MT-SICS "SI\r\n", A&D "Q\r\n").
    scale_poll: str = Field(default="", max_length=16)
    scale_poll_interval_s: float = Field(default=0.5, gt=0, le=10)
    #: Readings without a stable/unstable mark count as stable after this many alike in a row.
    scale_settle: int = Field(default=2, ge=1, le=20)


# -- end of the pack station block ----------------------------------------------------------------


# -- carriers' web APIs (#14) --------------------------------------------------------------------
class CarrierProductSettings(_Section):
    """A carrier product's limits and extras (``[ship.carriers.Bring.products."3584"]``); the
    Bring products 5800/5600/3584/3570/5000/4850 come with their limits already."""

    name: str | None = None
    max_weight_g: int | None = Field(default=None, gt=0)
    max_length_mm: int | None = Field(default=None, gt=0)
    max_sum_of_sides_mm: int | None = Field(default=None, gt=0)
    pickup_point: bool | None = None
    services: list[str] | None = None  # additional services, e.g. ["EVARSLING"]
    customer_number: str | None = None  # when this product is booked on another number
    label_format: str | None = None  # Shipmondo: this product's own ("10x19_zpl")


class SenderSettings(_Section):
    """``[ship.sender]``: the party carriers print as the sender."""

    name: str = Field(min_length=1, max_length=35)
    address: str = Field(min_length=1, max_length=35)
    address2: str = Field(default="", max_length=35)
    postcode: str = Field(min_length=1, max_length=10)
    city: str = Field(min_length=1, max_length=35)
    country: str = Field(default="NO", pattern=r"^[A-Z]{2}$")
    phone: str = Field(default="", max_length=20)
    email: str = Field(default="", max_length=60)
    contact: str = Field(default="", max_length=35)


# -- end of the carriers block --------------------------------------------------------------------


# -- the ship and post stations (#7) --------------------------------------------------------------
class CarrierSettings(_Section):
    """A carrier: the built-in kind ``s10`` (the bench prints its own labels, with UPU S10
    numbers — two letters, 8 digits, check digit, country — from ``s10_first``..``s10_last``,
    the range the carrier's agreement gives the shop), or a carrier's web API (``bring``:
    the keys of :class:`BringCarrierSettings`, #14)."""

    kind: Literal["s10", "bring", "cargonizer", "shipmondo"] = "s10"
    s10_prefix: str = Field(default="RR", pattern=r"^[A-Z]{2}$")
    s10_country: str = Field(default="NO", pattern=r"^[A-Z]{2}$")
    s10_first: int = Field(default=70_000_000, ge=0, le=99_999_999)
    s10_last: int = Field(default=79_999_999, ge=0, le=99_999_999)

    # -- kind = "bring" (#14); credentials only from PACKBENCH_BRING_UID/_KEY or the keyring
    api_url: str = "https://api.bring.com"
    booking_path: str = "/booking/api/create"
    pickup_path: str = "/pickuppoint/api/pickuppoint"
    tracking_path: str = "/tracking/api/v2/tracking.json"
    customer_number: str = Field(default="", max_length=40)
    client_url: str = Field(default="", max_length=200)
    test_mode: bool = True
    test_header: bool = True
    test_body_flag: bool = True
    label_url_template: str = ""
    label_headers: bool = True
    timeout_s: float = Field(default=30.0, gt=0, le=300)
    #: A tracking search that finds nothing means nothing was booked (see carriers.booking).
    trust_empty_lookup: bool = False
    #: A pickup-point product without the customer's choice: "choose" — the ship station
    #: offers the nearest points for the recipient's postcode and the packer chooses (a booking
    #: without a person to ask, packbench ship or pack-and-ship, takes the nearest); "nearest"
    #: books to the nearest point (its name is shown); "carrier" lets the carrier pick.
    pickup_point: Literal["choose", "carrier", "nearest"] = "choose"
    products: dict[str, CarrierProductSettings] = Field(default_factory=dict)
    # -- kind = "cargonizer"; credentials from PACKBENCH_CARGONIZER_KEY/_SENDER or the keyring
    transport_agreement: str = Field(default="", max_length=20)
    transfer_on_booking: bool = False
    # -- kind = "shipmondo"; credentials from PACKBENCH_SHIPMONDO_USER/_KEY or the keyring;
    # api_url defaults to Shipmondo's (https://app.shipmondo.com/api/public/v3)
    label_format: Literal["10x19_pdf", "a4_pdf", "compact_pdf", "10x19_zpl", "compact_zpl"] = (
        "10x19_pdf"
    )
    own_agreement: bool = True
    lookup_window_h: float = Field(default=72.0, gt=0, le=24 * 31)

    @model_validator(mode="after")
    def _range(self) -> CarrierSettings:
        if self.s10_last < self.s10_first:
            raise ValueError(f"s10_last {self.s10_last} is below s10_first {self.s10_first}")
        if self.kind == "bring" and not (self.customer_number and self.client_url):
            raise ValueError("a bring carrier needs customer_number and client_url")
        if self.kind == "cargonizer" and not self.transport_agreement:
            raise ValueError("a cargonizer carrier needs transport_agreement")
        if self.kind == "shipmondo" and "api_url" not in self.model_fields_set:
            self.api_url = "https://app.shipmondo.com/api/public/v3"
        return self


class ShipMethod(_Section):
    """Where a shop's shipping method (``flat_rate:3``) goes: a carrier and its service, and
    for a carrier's web API the carrier's product (Bring ``5800``)."""

    carrier: str = Field(min_length=1, max_length=50)
    service: str = Field(default="", max_length=100)
    # Cargonizer identifiers run longer than 20 ("bring2_parcel_pickup_point").
    product: str = Field(default="", max_length=60)  # #14


def _default_methods() -> dict[str, ShipMethod]:
    return {
        "flat_rate:3": ShipMethod(carrier="Posten", service="Norgespakke"),
        "flat_rate:4": ShipMethod(carrier="PostNord", service="MyPack Collect"),
    }


def _default_carriers() -> dict[str, CarrierSettings]:
    return {
        "Posten": CarrierSettings(s10_prefix="RR", s10_country="NO"),
        "PostNord": CarrierSettings(
            s10_prefix="CP", s10_country="NO", s10_first=80_000_000, s10_last=89_999_999
        ),
    }


class ShipSettings(_Section):
    #: The shop's GS1 company prefix (7-10 digits) and the SSCC extension digit.
    gs1_company_prefix: str = Field(default="7071234", pattern=r"^[0-9]{7,10}$")
    sscc_extension: int = Field(default=3, ge=0, le=9)
    #: The shop's shipping method id → carrier and service.
    methods: dict[str, ShipMethod] = Field(default_factory=_default_methods)
    carriers: dict[str, CarrierSettings] = Field(default_factory=_default_carriers)
    #: Shipping methods the customer collects in the shop (no carrier, no label): a method id
    #: (``local_pickup:1``) or the method without its instance (``local_pickup``).
    pickup_methods: list[str] = Field(default_factory=lambda: ["local_pickup"])
    sender: SenderSettings | None = None  # #14: who sends, for carriers' web APIs
    #: Scanning a packed order's slip books, prints the labels and — once every label has
    #: printed — completes the transaction too, with no key (F7 is then only for a retry).
    complete_on_label: bool = False

    def is_pickup(self, method_id: str | None) -> bool:
        """Collected in the shop: listed as pickup and not mapped to a carrier."""
        if not method_id or method_id in self.methods:
            return False
        return method_id in self.pickup_methods or method_id.split(":")[0] in self.pickup_methods

    @model_validator(mode="after")
    def _known_carriers(self) -> ShipSettings:
        for method, target in self.methods.items():
            if target.carrier not in self.carriers:
                known = ", ".join(sorted(self.carriers)) or "none"
                raise ValueError(
                    f"methods.{method}: carrier {target.carrier!r} is not under [ship.carriers] "
                    f"(known: {known})"
                )
        return self


# -- end of the ship and post stations block ------------------------------------------------------


# -- settlement (#15) -----------------------------------------------------------------------------
def _default_payment_methods() -> dict[str, list[str]]:
    return {
        "vipps": ["vipps", "vipps_checkout"],
        "klarna": ["klarna", "klarna_payments", "kco"],
        "stripe": ["stripe", "stripe_cc"],
    }


_PROVIDER_CREDENTIALS = frozenset(
    {"vipps_client_id", "vipps_client_secret", "vipps_subscription_key", "klarna_username",
     "klarna_password", "stripe_secret_key"}
)  # fmt: skip


class SettlementSettings(_Section):
    """The payment providers' payouts and the clearing account they settle (``[shop]
    clearing_account``, 1570)."""

    currency: str = Field(default="NOK", pattern=r"^[A-Z]{3}$")
    #: How the Vipps plugin's reference carries the WooCommerce order id: a regular expression
    #: with a group named ``id`` (default: ``woo-`` + the site's short name + ``-`` + the id,
    #: zero-padded, + ``-N`` on a payment retry).
    vipps_reference_pattern: str = Field(
        default=r"^woo-[A-Za-z0-9]*-0*(?P<id>[1-9]\d*)(?:-(?P<retry>\d+))?$", min_length=1
    )
    #: A completed order with no payout after this many days is listed as late.
    unsettled_after_days: int = Field(default=7, ge=1, le=365)
    #: The shop's payment method ids (WooCommerce ``payment_method``) each provider settles.
    payment_methods: dict[str, list[str]] = Field(default_factory=_default_payment_methods)
    bank_account: int = Field(default=1920, ge=1000, le=9999)
    fee_account: int = Field(default=7770, ge=1000, le=9999)
    #: The company in the SAF-T file (``ledger --saft``): its name and organisation number.
    company_name: str = Field(default="", max_length=200)
    organisation_number: str = Field(default="", pattern=r"^([0-9]{9})?$")
    #: The providers' API addresses (``settlements import --api``); credentials come only from
    #: the environment (PACKBENCH_VIPPS_CLIENT_ID/_CLIENT_SECRET/_SUBSCRIPTION_KEY,
    #: PACKBENCH_KLARNA_USERNAME/_PASSWORD, PACKBENCH_STRIPE_SECRET_KEY) or the OS keyring
    #: (service packbench, the same names in lower case without PACKBENCH_), never this file.
    vipps_url: str = "https://api.vipps.no"
    vipps_msn: str = Field(default="", pattern=r"^[0-9]{0,10}$")  # the merchant serial number
    klarna_url: str = "https://api.klarna.com/settlements/v1"  # Kustom: api.kustom.co/…
    stripe_url: str = "https://api.stripe.com"

    @model_validator(mode="before")
    @classmethod
    def _no_credentials(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key in _PROVIDER_CREDENTIALS:
                    raise ValueError(
                        f"{key}: credentials are not kept in files; set "
                        f"PACKBENCH_{key.upper()} in the environment or store it in the OS "
                        f"keyring (keyring set packbench {key})"
                    )
        return data

    @field_validator("vipps_reference_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        import re

        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if "id" not in compiled.groupindex:
            raise ValueError("needs a group named id, like (?P<id>\\d+)")
        return value

    @field_validator("payment_methods")
    @classmethod
    def _providers(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name in value:
            if name not in ("vipps", "klarna", "stripe"):
                raise ValueError(f"unknown provider {name!r} (vipps, klarna, stripe)")
        return value

    def provider_of(self, payment_method: str) -> str | None:
        for provider, methods in self.payment_methods.items():
            if payment_method in methods:
                return provider
        return None


# -- end of the settlement block ------------------------------------------------------------------


class Settings(BaseModel):
    """Every setting. Made from keyword values (the file's contents), the ``PACKBENCH_*``
    environment applied over them (``packbench.config_env``: what pydantic-settings did, without
    its import cost at start, #20)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    db: str | None = None
    bench: BenchSettings = Field(default_factory=BenchSettings)
    scanner: ScannerSettings = Field(default_factory=ScannerSettings)
    codes: CodeSettings = Field(default_factory=CodeSettings)
    shop: ShopSettings = Field(default_factory=ShopSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    printers: PrinterSettings = Field(default_factory=PrinterSettings)
    day: DaySettings = Field(default_factory=DaySettings)
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings)  # #5
    pick: PickSettings = Field(default_factory=PickSettings)  # #5
    pack: PackSettings = Field(default_factory=PackSettings)  # #6
    ship: ShipSettings = Field(default_factory=ShipSettings)  # #7
    settlement: SettlementSettings = Field(default_factory=SettlementSettings)  # #15
    shop_key: SecretStr | None = None
    shop_secret: SecretStr | None = None

    def __init__(self, **values: Any) -> None:
        # Explicit values (the file's contents) lose to the environment, table by table.
        super().__init__(**deep_update(field_keys(Settings, values), read_environment(Settings)))

    def code_rules(self) -> CodeRules:
        return CodeRules(
            badge_prefix=self.codes.badge_prefix,
            order_prefix=self.codes.order_prefix,
            command_prefix=self.codes.command_prefix,
            layout=self.scanner.layout,
            rcn_region=self.codes.variable_measure_region or None,
        )

    def database_path(self) -> str:
        return self.db or str(data_dir() / "packbench.db")


def _format_error(exc: ValidationError, source: str) -> str:
    problems = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        problems.append(f"{key}: {msg}")
    return f"{source}: " + "; ".join(problems)


def load_settings(config: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Read the file (if any), apply the environment, then ``overrides`` (e.g. ``db`` from --db).

    A file named explicitly must exist; the default one may be absent.
    """
    explicit = config or os.environ.get("PACKBENCH_CONFIG")
    path = Path(explicit).expanduser() if explicit else default_config_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
        for secret in ("shop_key", "shop_secret"):
            if secret in {key.lower() for key in data}:  # names are case-insensitive
                raise ConfigError(
                    f"{path}: {secret}: credentials are not kept in files; "
                    f"set PACKBENCH_{secret.upper()} in the environment"
                )
    elif explicit:
        raise ConfigError(f"{path}: no such configuration file")
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        source = f"{path} (or its PACKBENCH_* environment overrides)"
        raise ConfigError(_format_error(exc, source)) from None
    except EnvError as exc:
        raise ConfigError(f"environment: {exc}") from None
    try:
        settings = _apply_overrides(settings, **overrides)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, "command line")) from None
    object.__setattr__(settings, "_source", str(path) if path.exists() else None)
    return settings


def _apply_overrides(
    settings: Settings,
    *,
    db: str | None = None,
    station: str | None = None,
    log_level: str | None = None,
    terminal: str | None = None,
) -> Settings:
    """Command-line values beat the environment and the file (unlike the file's own values)."""
    update: dict[str, Any] = {}
    if db is not None:
        update["db"] = db
    bench = {}
    if station is not None:
        bench["station"] = station
    if terminal is not None:
        bench["terminal"] = terminal
    if bench:
        update["bench"] = BenchSettings(**{**settings.bench.model_dump(), **bench})
    if log_level is not None:
        update["log"] = LogSettings(**{**settings.log.model_dump(), "level": log_level})
    return settings.model_copy(update=update) if update else settings


def settings_source(settings: Settings) -> str | None:
    return getattr(settings, "_source", None)


def render_toml(settings: Settings) -> str:
    """The effective configuration as TOML, secrets masked."""
    data = settings.model_dump(mode="json", exclude_none=True)
    for secret in ("shop_key", "shop_secret"):
        if getattr(settings, secret) is not None:
            data[secret] = "********"
    data.setdefault("db", settings.database_path())
    # A PostgreSQL URL's password, or credentials pasted into the shop URL, are not printed.
    data["db"] = redact_url(data["db"])
    if data.get("shop", {}).get("url"):
        data["shop"]["url"] = redact_url(data["shop"]["url"])
    return tomli_w.dumps(data)
