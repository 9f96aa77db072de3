"""ZPL labels, checked the way a thermal printer and a scanner see them.

zplkit (an offline ZPL renderer and parser) renders each label at 203 dpi; zxing-cpp decodes
its barcodes. Injection is checked by parsing the produced ZPL into commands: hostile customer
text must give exactly the command sequence a benign name gives.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import zplkit
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlmodel import select
from zplkit.parse import parse

from packbench.core.codes import make_s10, make_sscc
from packbench.data.models import Parcel
from packbench.operations.common import Actor
from packbench.operations.printing import label_job, print_history, print_job
from packbench.operations.views import Address
from packbench.printing.cups import CupsPrinter
from packbench.printing.documents import LabelInput, ShopInfo
from packbench.printing.zpl import escape_field, render_zpl, render_zpl_labels
from tests.printing.conftest import RAW_QUEUE

SHOP = ShopInfo("Fjordhandel AS", ("Strandgata 12", "5013 Bergen"), "987 654 321")
BENIGN = Address("Kari Nordmann", "", "Storgata 1", "", "0155", "Oslo", "NO")
SSCC = "370712340000000016"
TRACKING = "RR123456785NO"
SIZES = {"102x152": (812, 1218), "100x190": (799, 1518)}


def label(**changes: object) -> LabelInput:
    base = LabelInput(
        sender=SHOP,
        recipient=BENIGN,
        carrier="Posten",
        service="Pakke i postkassen",
        weight_g=1250,
        parcel_no=1,
        parcel_count=2,
        tracking_number=TRACKING,
        sscc=SSCC,
        tracking_url="https://sporing.posten.no/sporing/{tracking}",
        order_number="10234",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def render(zpl: bytes | str) -> list[Image.Image]:
    doc = zplkit.render(zpl, zplkit.Options(profile="specification", dpi=203))
    out = []
    for scene in doc.labels:
        raster = scene.rasterize()
        out.append(Image.frombytes("L", (raster.width, raster.height), raster.pixels))
    return out


def commands(zpl: bytes | str) -> list[tuple[str, bytes]]:
    """(kind, command) for every element: the mnemonic (``^FO``, ``^A0``…) and its data."""
    data = zpl.encode() if isinstance(zpl, str) else zpl
    return [(e.kind, bytes(e.data)) for e in parse(data).elements]


def mnemonics(zpl: bytes | str) -> list[str]:
    return [f"{kind}:{data[:3].decode('latin-1')}" for kind, data in commands(zpl)]


def field_texts(zpl: str) -> list[str]:
    """The text of every ^FH^FD field, unescaped as the printer does it, decoded as UTF-8."""
    out = []
    for kind, data in commands(zpl):
        if kind == "format_command" and data.startswith(b"^FD"):
            raw = re.sub(rb"_([0-9A-F]{2})", lambda m: bytes([int(m[1], 16)]), data[3:])
            out.append(raw.decode("utf-8"))
    return out


# --------------------------------------------------------------------------- barcodes


@pytest.mark.parametrize("size", list(SIZES))
def test_both_sizes_render_with_their_numbers(size: str) -> None:
    lab = label(tracking_url="https://t.example/{tracking}?x={y}&z=_^~")
    zpl = render_zpl(lab, size)
    (image,) = render(zpl)
    assert image.size == SIZES[size]
    found = {(c.text, c.symbology_identifier) for c in zxingcpp.read_barcodes(image)}
    assert found == {
        (TRACKING, "]C0"),
        (f"(00){SSCC}", "]C1"),  # GS1-128: FNC1 first, AI (00)
        ("https://t.example/RR123456785NO?x={y}&z=_^~", "]Q1"),
    }
    assert zpl.startswith("^XA^CI28^PW") and zpl.count("^XA") == zpl.count("^XZ") == 1
    # the human-readable lines are there as text fields
    assert TRACKING in field_texts(zpl) and "(00) 3 7071234 000000001 6" in field_texts(zpl)


def _runs(row: list[int]) -> list[int]:
    runs, current, length = [], row[0] < 128, 0
    for value in row:
        if (value < 128) == current:
            length += 1
        else:
            runs.append(length)
            current, length = value < 128, 1
    runs.append(length)
    return runs


@pytest.mark.parametrize("size", list(SIZES))
def test_bars_are_whole_dots_at_least_three_with_quiet_zones(size: str) -> None:
    zpl = render_zpl(label(), size)
    bys = [d for k, d in commands(zpl) if d.startswith(b"^BY")]
    assert bys and all(d == b"^BY3" for d in bys)
    (image,) = render(zpl)
    linear = [c for c in zxingcpp.read_barcodes(image) if c.format != zxingcpp.BarcodeFormat.QRCode]
    assert len(linear) == 2
    for code in linear:
        pos = code.position
        y = (pos.top_left.y + pos.bottom_left.y) // 2
        row = [int(image.getpixel((x, y))) for x in range(image.width)]
        black = [x for x, v in enumerate(row) if v < 128]
        left = min(x for x in black if x >= min(pos.top_left.x, pos.bottom_left.x) - 3)
        right = max(x for x in black if x <= max(pos.top_right.x, pos.bottom_right.x) + 3)
        runs = _runs(row[left : right + 1])
        assert min(runs) == 3 and all(r % 3 == 0 for r in runs), runs
        assert left >= 30 and all(v > 128 for v in row[left - 30 : left]), "left quiet zone"
        assert all(v > 128 for v in row[right + 1 : right + 31]), "right quiet zone"


@pytest.mark.parametrize("tracking", ["70712345678901234567", "1234567", "00370712340000000016"])
def test_numeric_tracking_numbers_use_the_symbol_that_fits(tracking: str) -> None:
    zpl = render_zpl(label(tracking_number=tracking))
    (image,) = render(zpl)
    assert (tracking, "]C0") in {
        (c.text, c.symbology_identifier) for c in zxingcpp.read_barcodes(image)
    }


def test_several_parcels_are_one_job_with_one_label_each() -> None:
    labels = [
        label(parcel_no=n, parcel_count=3, tracking_number=make_s10("RR", n, "NO"),
              sscc=make_sscc(3, "7071234", n))
        for n in (1, 2, 3)
    ]  # fmt: skip
    data = render_zpl_labels(labels)
    assert data.count(b"^XA") == data.count(b"^XZ") == 3
    images = render(data)
    assert len(images) == 3
    for lab, image in zip(labels, images, strict=True):
        texts = {c.text for c in zxingcpp.read_barcodes(image)}
        assert {lab.tracking_number, f"(00){lab.sscc}"} <= texts
        assert f"{lab.parcel_no} av 3" in field_texts(render_zpl(lab))


def test_wrong_numbers_are_refused_not_printed() -> None:
    with pytest.raises(ValueError, match="SSCC"):
        render_zpl(label(sscc="370712340000000017"))
    for bad in ("RR12345678ØNO", "RR^XZ", "RR>;12", "A" * 36, ""):
        with pytest.raises(ValueError, match="tracking number"):
            render_zpl(label(tracking_number=bad))
    with pytest.raises(ValueError, match="too long"):
        render_zpl(label(tracking_number="A" * 22))  # 3-dot bars would not fit 812 dots
    with pytest.raises(ValueError, match="does not exist"):
        render_zpl(label(parcel_no=3, parcel_count=2))
    with pytest.raises(ValueError, match="unknown label size"):
        render_zpl(label(), "4x6")


# --------------------------------------------------------------------------- text


NORWEGIAN = Address("Bjørn Ødegård Æsøy", "Blåbær & Co", "Øvre Åsvei 3", "", "9008", "Tromsø", "NO")


def test_norwegian_letters_are_utf8_hex_and_print_as_themselves() -> None:
    zpl = render_zpl(label(recipient=NORWEGIAN))
    assert zpl.isascii() and "^CI28" in zpl
    texts = field_texts(zpl)
    assert {"Bjørn Ødegård Æsøy", "Blåbær & Co", "Øvre Åsvei 3", "9008 Tromsø"} <= set(texts)
    assert "_C3_B8" in zpl  # ø as its UTF-8 bytes
    # zplkit's font 0 lacks Æ/Ø/Å, its bitmap font E has them: the escaped field must render
    # exactly as the same text written literally in UTF-8, and unlike the letters without marks.
    (field,) = [d for k, d in commands(zpl) if d.startswith(b"^FD") and b"Bj" in d]

    def one(data: bytes, hex_escaped: bool) -> bytes:
        fh = b"^FH" if hex_escaped else b""
        (img,) = render(b"^XA^CI28^PW600^LL100^FO10,10^AEN,28,15" + fh + data + b"^FS^XZ")
        return img.tobytes()

    escaped = one(field, True)
    assert escaped == one("^FDBjørn Ødegård Æsøy".encode(), False)
    assert escaped != one(b"^FDBjorn Odegard AEsoy", False)


def test_escape_field_leaves_only_safe_ascii() -> None:
    assert escape_field("Ola ^FS~JA_\\ø\x10") == "Ola _5EFS_7EJA_5F_5C_C3_B8_10"
    assert escape_field("Storgata 1, 0155 Oslo") == "Storgata 1, 0155 Oslo"


HOSTILE = [
    "^XZ^XA^FO0,0^FDPWNED^FS",
    "Ola ^FS^FO0,0^GB812,1218,812^FS",
    "~JA",
    "~DGR:X.GRF,4,1,FFFFFFFF",
    "~JR~SD30~PS",
    "Kari\x10Nordmann\x03\x02",
    "snake_case_ _5E_7E name",
    "line one\nline two\r\n^XZ",
    "\\&^FS\\\\",
    "x" * 2000,
    "Ø" * 2000,
    "<b>&amp;</b> {tracking} %s ${x}",
    "\u202eevil\u200b bidi\ufeff",
    "😀 emoji 🇳🇴",
]


def _hostile(text: str) -> LabelInput:
    return label(
        sender=ShopInfo(text, (text, text)),
        recipient=Address(text, text, text, text, text[:10], text, text),
        carrier=text,
        service=text,
        order_number=text,
    )


BENIGN_COMMANDS = mnemonics(
    render_zpl(label(recipient=Address("A", "B", "C", "D", "0155", "Oslo", "SE")))
)


def _assert_no_added_command(zpl: str, benign: list[str]) -> None:
    assert mnemonics(zpl) == benign
    assert zpl.isascii()
    kinds = {k for k, _ in commands(zpl)}
    assert kinds <= {"format_command"}, kinds  # no ~ command, no control character
    assert zpl.count("^XA") == zpl.count("^XZ") == 1
    for _kind, data in commands(zpl):
        if data.startswith(b"^FD"):
            assert len(data) <= 1500
    for text in field_texts(zpl):
        assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text), text


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("size", list(SIZES))
def test_hostile_text_adds_no_command(text: str, size: str) -> None:
    benign = mnemonics(
        render_zpl(label(recipient=Address("A", "B", "C", "D", "0155", "Oslo", "SE")), size)
    )
    zpl = render_zpl(_hostile(text), size)
    _assert_no_added_command(zpl, benign)


def test_a_hostile_label_still_scans() -> None:
    zpl = render_zpl(_hostile("^XZ^XA^FO0,0^FDPWNED^FS ~JA _41"))
    (image,) = render(zpl)
    texts = {c.text for c in zxingcpp.read_barcodes(image)}
    assert {TRACKING, f"(00){SSCC}"} <= texts
    assert "^XZ^XA^FO0,0^FDPWNED^FS ~JA _41" in field_texts(zpl)  # printed literally


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(max_size=300), street=st.text(max_size=300), city=st.text(max_size=80))
def test_any_text_adds_no_command(name: str, street: str, city: str) -> None:
    lab = label(
        sender=ShopInfo(city, (street, name)),
        recipient=Address(name, street, street, name, city[:10], city, city),
        carrier=city,
        service=name,
        order_number=street,
    )
    _assert_no_added_command(render_zpl(lab), BENIGN_COMMANDS)


# --------------------------------------------------------------------------- through CUPS


def test_label_job_zpl_reaches_the_thermal_printer_byte_identical(demo_db, thermal) -> None:  # type: ignore[no-untyped-def]
    from packbench.config import Settings

    with demo_db.read() as s:
        parcels = s.exec(
            select(Parcel).where(Parcel.sscc.is_not(None), Parcel.status != "void")  # type: ignore[union-attr]
        ).all()[:2]
        codes = [p.sscc or "" for p in parcels]
    started = datetime.now(UTC)
    doc = label_job(demo_db, codes, Settings(), fmt="zpl", size="100x190")
    assert doc.raw and doc.data.count(b"^XA") == 2 and b"^PW799^LL1518" in doc.data
    result = print_job(demo_db, Actor("ship", "t1"), CupsPrinter(), doc, queue=RAW_QUEUE)
    assert result.ok, result.message
    assert thermal.wait_for(1) == [doc.data]
    with demo_db.read() as s:
        printed = {p.sscc: p.label_printed_at for p in s.exec(select(Parcel)).all()}
    assert all((printed[c] or started) > started for c in codes)
    assert print_history(demo_db)[0].status == "completed"
    # The demo's customers have æ/ø/å, which zplkit's font 0 lacks: render the text in its
    # bitmap font E instead (only the font commands change; the barcodes are as received).
    received = thermal.jobs[0].replace(b"^A0N,", b"^AEN,")
    for image, code in zip(render(received), codes, strict=True):
        assert f"(00){code}" in {c.text for c in zxingcpp.read_barcodes(image)}


def test_cli_writes_and_prints_zpl(thermal, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import subprocess

    from tests.packbench_process import run_packbench

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_packbench(*args, "--db", str(tmp_path / "d.db"), timeout=120)

    assert run("init", "--demo").returncode == 0
    shipped = json.loads(run("orders", "--status", "shipped", "--json").stdout)
    tracking = shipped[0]["parcels"][0]["tracking_number"]
    out = tmp_path / "label.zpl"
    wrote = run(
        "print", "label", tracking, "--format", "zpl", "--size", "102x152", "--out", str(out)
    )
    assert wrote.returncode == 0, wrote.stderr
    data = out.read_bytes()
    assert data.startswith(b"^XA^CI28^PW812^LL1218") and data.count(b"^XZ") == 1
    printed = run("print", "label", tracking, "--format", "zpl", "--printer", RAW_QUEUE)
    assert printed.returncode == 0, printed.stderr
    assert f"Label printed on {RAW_QUEUE}" in printed.stdout
    assert thermal.wait_for(1) == [data]
