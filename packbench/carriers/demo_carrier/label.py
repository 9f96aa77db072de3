"""The demo carrier's label: 10 × 19 cm, one page per package, the package number (an SSCC) as
a GS1-128 barcode (FNC1, AI 00) that decodes back, drawn with the bench's own barcode code
(whole printer dots, quiet zones; see ``shared/PRINTING.md``)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packbench.printing.common import (
    MM,
    clean,
    clip,
    code128_width,
    draw_code128,
    fonts,
    gs1_128,
    new_canvas,
    sscc_text,
)

__all__ = ["LABEL_MM", "render_label_pdf", "render_label_zpl"]

LABEL_MM = (100, 190)


def _party_lines(party: Mapping[str, Any]) -> list[str]:
    lines = [str(party.get("name") or "")]
    for key in ("addressLine", "addressLine2"):
        if party.get(key):
            lines.append(str(party[key]))
    lines.append(f"{party.get('postalCode') or ''} {party.get('city') or ''}".strip())
    return [line for line in lines if line]


def render_label_pdf(booking: Mapping[str, Any], packages: Sequence[Mapping[str, Any]]) -> bytes:
    """One PDF page of 100 × 190 mm per package of ``booking`` (the demo's stored record)."""
    f = fonts()
    width, height = LABEL_MM[0] * MM, LABEL_MM[1] * MM
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, (width, height), f"Bring demo {booking['consignmentNumber']}")
    margin = 4 * MM
    inner = width - 2 * margin
    count = len(booking["packages"])
    for pkg in packages:
        top = height - margin
        canvas.setFont(f.bold, 16)
        canvas.drawString(margin, top - 16, "Bring DEMO")
        canvas.setFont(f.regular, 9)
        canvas.drawRightString(
            width - margin, top - 12, clip(clean(booking["productName"]), f.regular, 9, inner / 2)
        )
        canvas.drawRightString(width - margin, top - 24, f"Produkt {booking['productId']}")
        y = top - 40
        canvas.setFont(f.regular, 7)
        canvas.drawString(margin, y, "Fra")
        y -= 10
        for line in _party_lines(booking["sender"])[:3]:
            canvas.setFont(f.regular, 8)
            canvas.drawString(margin, y, clip(clean(line, limit=100), f.regular, 8, inner))
            y -= 10
        y -= 6
        canvas.setFont(f.regular, 7)
        canvas.drawString(margin, y, "Til")
        y -= 16
        for i, line in enumerate(_party_lines(booking["recipient"])[:4]):
            font, size = (f.bold, 14) if i in (0,) else (f.regular, 12)
            canvas.setFont(font, size)
            canvas.drawString(margin, y, clip(clean(line, limit=100), font, size, inner))
            y -= size + 4
        if booking.get("pickupPoint"):
            canvas.setFont(f.regular, 9)
            canvas.drawString(margin, y, f"Hentested {booking['pickupPoint']}")
            y -= 14
        y -= 4
        canvas.setFont(f.regular, 9)
        canvas.drawString(margin, y, f"Sending {booking['consignmentNumber']}")
        canvas.drawRightString(width - margin, y, f"Kolli {pkg['index']} av {count}")
        y -= 12
        canvas.drawString(margin, y, f"Vekt {pkg['weightInKg']:g} kg")
        canvas.drawRightString(
            width - margin,
            y,
            f"Ref. {clip(clean(booking['reference'], limit=40), f.regular, 9, inner / 2)}",
        )
        number = pkg["packageNumber"]
        data = gs1_128("00" + number)
        symbol = code128_width(data)
        bar_h = 30 * MM
        bottom = margin + 8 * MM
        first, last = draw_code128(canvas, data, (width - symbol) / 2, bottom, bar_h)
        canvas.setFont(f.bold, 10)
        canvas.drawCentredString((first + last) / 2, margin + 2 * MM, sscc_text(number))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class _Party:
    name: str
    company: str = ""
    address1: str = ""
    address2: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "NO"


def _party(p: Mapping[str, Any]) -> _Party:
    return _Party(
        name=str(p.get("name") or ""),
        address1=str(p.get("addressLine") or ""),
        address2=str(p.get("addressLine2") or ""),
        postcode=str(p.get("postalCode") or ""),
        city=str(p.get("city") or ""),
        country=str(p.get("countryCode") or "NO"),
    )


def render_label_zpl(booking: Mapping[str, Any], packages: Sequence[Mapping[str, Any]]) -> bytes:
    """The same labels as ZPL II for a 203 dpi printer, 100 × 190 mm: one ``^XA … ^XZ`` per
    package, the package number as GS1-128 (``^BC`` in UCC/EAN mode, AI 00) — the bench's own
    ZPL renderer, so customer text cannot add a command."""
    from packbench.printing.labels import LabelInput
    from packbench.printing.zpl import render_zpl_labels

    count = len(booking["packages"])
    return render_zpl_labels(
        [
            LabelInput(
                sender=_party(booking["sender"]),
                recipient=_party(booking["recipient"]),
                carrier="Bring DEMO",
                service=str(booking["productName"]),
                weight_g=round(float(pkg["weightInKg"]) * 1000),
                parcel_no=int(pkg["index"]),
                parcel_count=count,
                tracking_number=str(pkg["packageNumber"]),
                sscc=str(pkg["packageNumber"]),
                tracking_url="https://sporing.bring.no/sporing/{tracking}",
                order_number=str(booking["reference"])[:20],
            )
            for pkg in packages
        ],
        "100x190",
    )
