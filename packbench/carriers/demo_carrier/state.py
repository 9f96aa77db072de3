"""The demo carrier's books: bookings with valid numbers, kept in a JSON file, checked the way
Bring checks a booking (its error codes and shapes, from the examples' README and Bring's
error catalogue).

One lock for the whole carrier; the file is written (temp file + ``os.replace``) before a
booking is answered, so a booking whose answer is lost is still on the books — which is the
point of the demo's nastiest fault.
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from packbench.core.codes import gs1_check_digit, make_sscc

__all__ = [
    "COMPANY_PREFIX",
    "PRODUCTS",
    "BookingRefused",
    "DemoCarrierState",
    "StateFileError",
    "pickup_points_near",
]

STATE_FORMAT = 1
COMPANY_PREFIX = "7090001"  # invented; the demo's numbers must never look like Bring's own
#: product id → (name, max kg, max length cm, max sum of sides cm)
PRODUCTS: dict[str, tuple[str, float, float | None, float | None]] = {
    "5800": ("Pakke til hentested", 35, None, None),
    "5600": ("Pakke levert hjem", 35, None, None),
    "3584": ("Pakke i postkassen", 5, 45, 90),
    "3570": ("Pakke i postkassen med RFID", 5, 45, 90),
    "5000": ("Pakke til bedrift", 35, None, None),
    "4850": ("Ekspress neste dag", 35, None, None),
}
_NO_SENDER_PHONE = {"3584", "3570"}
_POSTCODE = re.compile(r"^\d{4}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class StateFileError(Exception):
    """The state file exists but cannot be used."""


class BookingRefused(Exception):
    """Bring-shaped errors for one consignment: ``[{"code", "message"}]``."""

    def __init__(self, errors: list[tuple[str, str]], correlation_id: str | None) -> None:
        super().__init__("; ".join(f"{c}: {m}" for c, m in errors))
        self.errors = errors
        self.correlation_id = correlation_id

    def body(self) -> dict[str, Any]:
        return {
            "consignments": [
                {
                    "correlationId": self.correlation_id,
                    "confirmation": None,
                    "errors": [
                        {
                            "uniqueId": str(uuid.uuid4()),
                            "code": code,
                            "messages": [{"lang": "en", "message": message}],
                        }
                        for code, message in self.errors
                    ],
                }
            ]
        }


def _consignment_number(serial: int) -> str:
    body = f"{COMPANY_PREFIX}{serial:09d}"
    return body + str(gs1_check_digit(body))


def _map(value: object) -> Mapping[str, Any]:
    """``value`` if it is an object, else an empty one: a request's parts may be anything."""
    return value if isinstance(value, Mapping) else {}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _check(body: Any, test_header: bool) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The consignment and every error Bring would give for it (never raises on bad input)."""
    errors: list[tuple[str, str]] = []
    if not isinstance(body, Mapping):
        return {}, [("BOOK_INPUT-059", "Invalid input provided. Not able to parse the input "
                     "successfully.")]  # fmt: skip
    if body.get("schemaVersion") is None:
        errors.append(("BOOK-INPUT-003", "Schema version must be present"))
    if not test_header and not isinstance(body.get("testIndicator"), bool):
        errors.append(("BOOK-INPUT-030", "Please set the testIndicator attribute on the request "
                       "(true = test booking, false = production booking)"))  # fmt: skip
    consignments = body.get("consignments")
    if not isinstance(consignments, list) or not consignments:
        return {}, [*errors, ("BOOK-INPUT-004", "At least one consignment must be specified")]
    if len(consignments) > 1:
        errors.append(("BOOK-INPUT-005", "Multiple consignments in one booking is not supported"))
    c = consignments[0] if isinstance(consignments[0], Mapping) else {}
    if not c.get("shippingDateTime"):
        errors.append(("BOOK-INPUT-012", "Shipping date and time must be provided"))
    product = _map(c.get("product"))
    pid = str(product.get("id") or "")
    if not pid:
        errors.append(("BOOK-INPUT-018", "Product ID must be provided"))
    elif pid not in PRODUCTS:
        errors.append(("BOOK-INPUT-020", "Invalid product ID"))
    if not str(product.get("customerNumber") or ""):
        errors.append(("BOOK-INPUT-019", "Customer number must be provided"))
    parties = _map(c.get("parties"))
    for party, suffix in (("sender", "-SENDER"), ("recipient", "-RECIPIENT")):
        p = parties.get(party)
        if not isinstance(p, Mapping):
            errors.append((f"BOOK-INPUT-00{6 if party == 'sender' else 7}",
                           f"{party.title()} must be specified"))  # fmt: skip
            continue
        if not str(p.get("name") or "").strip():
            errors.append(("BOOK-INPUT-014" + suffix, "Name must be provided"))
        if not str(p.get("addressLine") or "").strip():
            errors.append(("BOOK-INPUT-015" + suffix, "Address must be provided"))
        if not str(p.get("city") or "").strip():
            errors.append(("BOOK-INPUT-016" + suffix, "City must be provided"))
        cc = str(p.get("countryCode") or "")
        if not cc:
            errors.append(("BOOK-INPUT-017" + suffix, "ISO Country code must be provided"))
        elif not _COUNTRY.match(cc):
            errors.append(("BOOK-INPUT-028" + suffix, "Invalid country code"))
        pc = str(p.get("postalCode") or "")
        if cc == "NO" and (not _POSTCODE.match(pc) or pc == "0000"):
            errors.append(("BOOK_INPUT-057" + suffix, "Invalid postal Code"))
    sender = _map(parties.get("sender"))
    contact = _map(sender.get("contact"))
    if pid and pid not in _NO_SENDER_PHONE and not contact.get("phoneNumber"):
        errors.append(("BOOK-VALIDATION-001", "Sender phone number is required for this product"))
    recipient = _map(parties.get("recipient"))
    rc = _map(recipient.get("contact"))
    services = product.get("additionalServices") or []
    evarsling = [s for s in services if isinstance(s, Mapping) and s.get("id") == "EVARSLING"]
    if parties.get("pickupPoint") or evarsling:
        reachable = rc.get("email") or rc.get("phoneNumber")
        reachable = reachable or any(s.get("email") or s.get("mobile") for s in evarsling)
        if not reachable:
            errors.append(("BOOK_VALIDATION-011", "A valid recipient mobile number or email "
                           "address is required for notification"))  # fmt: skip
    packages = c.get("packages")
    if not isinstance(packages, list) or not packages:
        errors.append(("BOOK-INPUT-009", "Package or Package Group must be specified"))
        packages = []
    if len(packages) > 50:
        errors.append(("BOOK-INPUT-001", "Bad request"))
    limits = PRODUCTS.get(pid)
    for pkg in packages:
        if not isinstance(pkg, Mapping) or (_num(pkg.get("weightInKg")) or 0) <= 0:
            errors.append(("BOOK-INPUT-002", "Weight is required"))
            continue
        if limits is None:
            continue
        _, max_kg, max_len, max_sum = limits
        dims = pkg.get("dimensions") if isinstance(pkg.get("dimensions"), Mapping) else None
        sides = (
            [_num(dims.get(k)) for k in ("lengthInCm", "widthInCm", "heightInCm")] if dims else []
        )
        if dims is not None and any(s is None or s <= 0 or s != int(s) for s in sides):
            errors.append(("BOOK-INPUT-001", "Bad request: dimensions must be whole centimetres"))
            continue
        too_big = (_num(pkg["weightInKg"]) or 0) > max_kg
        if sides and max_len is not None:
            too_big = too_big or max(s or 0 for s in sides) > max_len
        if sides and max_sum is not None:
            too_big = too_big or sum(sides) > max_sum  # type: ignore[arg-type]  # the sides were checked to be numbers above
        if too_big:
            errors.append(("BOOK-INPUT-023", "The shipment is too big to send with the given "
                           "product"))  # fmt: skip
    return dict(c), errors


_CITIES = {"0": "OSLO", "1": "FREDRIKSTAD", "2": "HAMAR", "3": "DRAMMEN", "4": "STAVANGER",
           "5": "BERGEN", "6": "ÅLESUND", "7": "TRONDHEIM", "8": "BODØ", "9": "TROMSØ"}  # fmt: skip
_POINTS = (
    ("Kiwi {c} sentrum", "4", None),
    ("Pakkeboks {c} stasjon", "37", (44.5, 50.5, 60.0)),
    ("Posten {c}", "21", None),
    ("Coop Extra {c}", "4", None),
    ("Rema 1000 {c} nord", "32", None),
)


_HOURS_NO = ("Man - Fre: 0700-2300, Lør: 0800-2200", "Man - Søn: 0000-2400")
_HOURS_EN = ("Mon - Fri: 0700-2300, Sat: 0800-2200", "Mon - Sun: 0000-2400")


def pickup_points_near(country: str, postcode: str, count: int = 5) -> list[dict[str, Any]]:
    """Pickup points in the Pickup Point API's shape, made up from the postcode (the same
    postcode always gives the same points, nearest first)."""
    city = _CITIES.get(postcode[:1], "DEMOBY") if postcode[:1].isdigit() else "DEMOBY"
    out = []
    for i, (name, kind, dims) in enumerate(_POINTS[: max(0, count)]):
        pid = f"{int(postcode) % 10000:04d}{i + 1:02d}" if postcode.isdigit() else f"9999{i:02d}"
        place = city.title()
        point: dict[str, Any] = {
            "id": pid,
            "unitId": pid,
            "name": name.format(c=place),
            "address": f"Postboks {100 + i} {place}" if kind != "37" else f"Stasjonsveien {i + 1}",
            "postalCode": postcode,
            "city": city,
            "countryCode": country,
            "municipality": city,
            "visitingAddress": f"Storgata {i * 7 + 2}",
            "visitingPostalCode": postcode,
            "visitingCity": city,
            "openingHoursNorwegian": _HOURS_NO[kind == "37"],
            "openingHoursEnglish": _HOURS_EN[kind == "37"],
            "latitude": 59.7 + i / 100,
            "longitude": 10.2 + i / 100,
            "distanceInKm": f"{0.4 + i * 0.7:.1f}",
            "distanceType": "DRIVING_DISTANCE",
            "durationInMinutes": str(1 + i * 2),
            "durationType": "DRIVING_TIME",
            "type": kind,
            "additionalServiceCode": "1036",
        }  # fmt: skip
        if dims:
            point["maxParcelDimensions"] = {"length": dims[0], "width": dims[1], "height": dims[2]}
        out.append(point)
    return out


class DemoCarrierState:
    """Bookings, their numbers and the label ids, on disk. Thread-safe."""

    def __init__(self, path: Path | None, data: dict[str, Any], clock: Callable[[], datetime]):
        self.path = path
        self._data = data
        self._lock = threading.Lock()
        self._clock = clock
        self.received: list[dict[str, Any]] = []  # every API request, in memory (tests read it)

    @classmethod
    def open(
        cls, path: str | os.PathLike[str] | None, *, clock: Callable[[], datetime] | None = None
    ) -> DemoCarrierState:
        clock = clock or (lambda: datetime.now(UTC))
        data: dict[str, Any] = {"format": STATE_FORMAT, "next_serial": 1, "bookings": []}
        p = Path(path) if path is not None else None
        if p is not None and p.exists():
            try:
                loaded = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise StateFileError(f"{p}: cannot read the demo carrier's state: {exc}") from None
            if not isinstance(loaded, dict) or loaded.get("format") != STATE_FORMAT:
                raise StateFileError(f"{p}: not a demo carrier state file (format {STATE_FORMAT})")
            data = loaded
        state = cls(p, data, clock)
        if p is not None and not p.exists():
            state._save()
        return state

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self._data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)

    # ------------------------------------------------------------------ bookings

    def book(
        self, body: Any, *, test_header: bool, extra: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Check and book → the stored record (with ``extra`` kept on it);
        :class:`BookingRefused` with Bring's codes."""
        consignment, errors = _check(body, test_header)
        corr = consignment.get("correlationId") if consignment else None
        if errors:
            raise BookingRefused(errors, corr if isinstance(corr, str) else None)
        with self._lock:
            serial = int(self._data["next_serial"])
            packages = []
            for i, pkg in enumerate(consignment["packages"], start=1):
                packages.append(
                    {
                        "index": i,
                        "packageNumber": make_sscc(3, COMPANY_PREFIX, serial * 100 + i),
                        "correlationId": pkg.get("correlationId"),
                        "weightInKg": pkg["weightInKg"],
                        "dimensions": pkg.get("dimensions"),
                    }
                )
            pid = consignment["product"]["id"]
            parties = consignment["parties"]
            now = self._clock()
            record = {
                "consignmentNumber": _consignment_number(serial),
                "labelId": str(uuid.uuid4()),
                "correlationId": corr,
                "reference": str(parties["sender"].get("reference") or ""),
                "productId": pid,
                "productName": PRODUCTS[pid][0],
                "customerNumber": consignment["product"]["customerNumber"],
                "test": bool(body.get("testIndicator", test_header)),
                "sender": parties["sender"],
                "recipient": parties["recipient"],
                "pickupPoint": (parties.get("pickupPoint") or {}).get("id"),
                "packages": packages,
                "createdAt": now.isoformat(),
                "expectedDelivery": int((now + timedelta(days=2)).timestamp() * 1000),
                "cancelled": False,
                **(extra or {}),
            }
            self._data["next_serial"] = serial + 1
            self._data["bookings"].append(record)
            self._save()
            return copy.deepcopy(record)

    def bookings(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._data["bookings"])

    def by_label(self, label_id: str) -> dict[str, Any] | None:
        with self._lock:
            for b in self._data["bookings"]:
                if b["labelId"] == label_id:
                    found: dict[str, Any] = copy.deepcopy(b)
                    return found
        return None

    def by_consignment(self, number: str) -> dict[str, Any] | None:
        with self._lock:
            for b in self._data["bookings"]:
                if b["consignmentNumber"] == number:
                    booking: dict[str, Any] = copy.deepcopy(b)
                    return booking
        return None

    def search(self, q: str) -> list[dict[str, Any]]:
        """What the tracking search finds: the reference, a consignment or a package number."""
        q = q.strip()
        with self._lock:
            return [
                copy.deepcopy(b)
                for b in self._data["bookings"]
                if q
                and (
                    b["reference"] == q
                    or b["consignmentNumber"] == q
                    or any(p["packageNumber"] == q for p in b["packages"])
                )
            ]

    def mark(self, which: Callable[[dict[str, Any]], bool], **changes: Any) -> int:
        """Change the bookings ``which`` picks; how many changed."""
        with self._lock:
            hits = [b for b in self._data["bookings"] if which(b)]
            for b in hits:
                b.update(changes)
            if hits:
                self._save()
            return len(hits)

    def apply(
        self, which: Callable[[dict[str, Any]], bool], change: Callable[[dict[str, Any]], None]
    ) -> list[dict[str, Any]]:
        """Run ``change`` on the bookings ``which`` picks (kept on disk) → copies of them."""
        with self._lock:
            hits = [b for b in self._data["bookings"] if which(b)]
            for b in hits:
                change(b)
            if hits:
                self._save()
            return copy.deepcopy(hits)

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.received.append(entry)
