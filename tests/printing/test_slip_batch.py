"""An order number no barcode can carry: refused from the shop, and never a stopped slip batch.

A slip's barcode is ``ORD-<number>`` in Code 128, which carries printable ASCII only. The shop
adapter refuses an order whose number has anything else (full-width digits, ``Æ``). An order
that got in anyway (from an older version, another adapter, an import) is left out of F7's
batch by name while every other slip prints, at the operation and at the admin screen.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import select

from packbench.core.code128 import code128_problem, order_code_problem
from packbench.data.engine import Database
from packbench.data.models import Order, PrintJob
from packbench.operations.common import Actor
from packbench.operations.intake import receive_order
from packbench.operations.orders import status_counts
from packbench.operations.printing import print_new_slips, slip_document, slip_job
from packbench.operations.views import OrderDetail
from packbench.shop.base import PayloadError
from packbench.shop.woocommerce import map_order, orders_page
from tests.operations.seed import order_in, seed
from tests.printing.conftest import PDF_QUEUE
from tests.printing.test_cups import tiny_pdf
from tests.printing.test_documents import pages
from tests.screens.helpers import scan, settle
from tests.screens.test_app import SIZE, last_feedback, make_app
from tests.shop.test_woocommerce import load, order_727

FULL_WIDTH = "５０５２"  # what an IME or a copy from a Japanese page types for 5052
NORDIC = "Æ-1001"
ACTOR = Actor("admin", "t1", 1, "Kari Nordmann", "packer")


def add_order(db: Database, shop_id: int, number: str) -> None:
    """An order with ``number`` as if it had been received before numbers were checked."""
    incoming = replace(order_in(shop_id, ("FJ-TX-0002", 1), minutes=30), number=number)
    with db.write() as s:
        receive_order(s, Actor("admin", "seed"), incoming)


def statuses(db: Database) -> dict[str, str]:
    with db.read() as s:
        return {o.number: o.status for o in s.exec(select(Order)).all()}


# --------------------------------------------------------------------------- what a barcode takes


@pytest.mark.parametrize(
    ("number", "named"),
    [(FULL_WIDTH, "“５”"), (NORDIC, "“Æ”"), ("1001ø", "“ø”"), ("10\u00a001", "U+00A0")],
)
def test_a_number_a_barcode_cannot_carry_is_named_with_its_characters(
    number: str, named: str
) -> None:
    problem = order_code_problem(number)
    assert problem is not None and named in problem and "Code 128" in problem


@pytest.mark.parametrize("number", ["5052", "WC-5052", "2026/11 #7", "A" * 44])
def test_printable_ascii_numbers_are_barcodes(number: str) -> None:
    assert order_code_problem(number) is None


def test_a_code_too_long_for_one_symbol() -> None:
    assert "longer than the 48" in (code128_problem("9" * 49) or "")
    assert order_code_problem("") == "is empty"


# --------------------------------------------------------------------------- at import


@pytest.mark.parametrize("number", [FULL_WIDTH, NORDIC])
def test_the_shop_adapter_refuses_an_order_whose_number_is_no_barcode(number: str) -> None:
    with pytest.raises(PayloadError) as info:
        map_order(order_727() | {"number": number})
    assert info.value.field == "number"
    assert str(info.value).startswith(f"number {number!r} cannot be the slip's barcode: it has “")


def test_the_other_orders_of_the_page_still_arrive() -> None:
    good_727, good_723 = load("woocommerce_v3_orders_list_response.json")
    bad = good_727 | {"id": 999, "number": FULL_WIDTH}
    page = orders_page([good_727, bad, good_723], {}, 1)
    assert [o.shop_order_id for o in page.orders] == [727, 723]
    assert [r.ref for r in page.rejected] == ["order 999"]
    assert FULL_WIDTH in page.rejected[0].reason


def test_an_ascii_number_with_letters_is_still_taken() -> None:
    assert map_order(order_727() | {"number": "WC-727"}).number == "WC-727"


# --------------------------------------------------------------------------- the batch


def test_the_batch_leaves_the_order_out_by_name_and_draws_the_others(db, settings) -> None:  # type: ignore[no-untyped-def]
    seed(db)
    add_order(db, 5090, FULL_WIDTH)
    numbers = ["5001", FULL_WIDTH, "5002", "5003"]
    doc = slip_job(db, numbers, settings)
    assert doc.order_numbers == ("5001", "5002", "5003")
    assert doc.spec["orders"] == ["5001", "5002", "5003"]  # a reprint makes the same slips
    assert len(doc.left_out) == 1
    assert doc.left_out[0].startswith(
        f"order {FULL_WIDTH}: its number cannot be printed as a barcode: it has “"
    )
    # The PDF is real: each printed order's page carries its own barcode, and scans.
    decoded = [c.text for page in pages(doc.data) for c in page.codes()]
    assert decoded == ["ORD-5001", "ORD-5002", "ORD-5003"]


def test_a_slip_that_fails_to_draw_is_left_out_and_the_rest_printed(db) -> None:  # type: ignore[no-untyped-def]
    seed(db)

    def render(details: list[OrderDetail]) -> bytes:
        if any(d.summary.number == "5002" for d in details):
            raise ValueError("font has no glyph for U+E000")
        return tiny_pdf(" ".join(d.summary.number for d in details))

    doc = slip_document(db, ["5001", "5002", "5003"], render)
    assert doc.order_numbers == ("5001", "5003")
    assert doc.left_out == (
        "order 5002: its slip could not be drawn (font has no glyph for U+E000)",
    )


def test_f7_prints_the_others_and_names_the_order_left_out(cups_ready, db, settings) -> None:  # type: ignore[no-untyped-def]
    seed(db)
    add_order(db, 5090, FULL_WIDTH)
    add_order(db, 5091, NORDIC)
    result = print_new_slips(db, ACTOR, settings)
    assert result.ok, result.message
    assert result.orders == ("5001", "5002", "5003")
    assert result.message.startswith(f"Slip printed on {PDF_QUEUE} (3 orders), CUPS job ")
    assert f"No slip for order {FULL_WIDTH}: " in result.message
    assert f"; order {NORDIC}: " in result.message
    assert statuses(db) == {
        "5001": "slip_printed",
        "5002": "slip_printed",
        "5003": "slip_printed",
        FULL_WIDTH: "new",
        NORDIC: "new",
    }
    # Still new, so the next F7 names them again — and prints nothing, changes nothing.
    again = print_new_slips(db, ACTOR, settings)
    assert not again.ok and again.print_job_id is None
    assert again.message.startswith(f"No slip for order {FULL_WIDTH}: ")
    assert NORDIC in again.message
    with db.read() as s:
        assert len(s.exec(select(PrintJob)).all()) == 1


async def test_f7_at_the_admin_screen_says_which_order_was_left_out(cups_ready, db) -> None:  # type: ignore[no-untyped-def]
    seed(db)
    add_order(db, 5090, FULL_WIDTH)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await pilot.press("f7")
        for _ in range(100):  # the print runs in a worker; CUPS takes a moment
            await settle(pilot)
            if last_feedback(app)[1].startswith(("Slip printed", "Not printed", "No slip")):
                break
        kind, message = last_feedback(app)
        # Printed, but one order needs the admin: an error (red, bell), naming the order.
        assert kind == "error", message
        assert message.startswith(f"Slip printed on {PDF_QUEUE} (3 orders)"), message
        assert (
            f"No slip for order {FULL_WIDTH}: its number cannot be printed as a barcode: it has “"
            in message
        )
        bells = app.bells
        await pilot.press("f7")  # only the bad order is left: said again, not stuck
        for _ in range(100):
            await settle(pilot)
            if app.bells > bells:
                break
        kind, message = last_feedback(app)
        assert kind == "error" and message.startswith(f"No slip for order {FULL_WIDTH}: ")
    counts = status_counts(db)
    assert counts["new"] == 1 and counts["slip_printed"] == 3


# --------------------------------------------------------------------------- the command line


def test_print_slip_writes_the_others_and_names_the_order_left_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from packbench.cli import main
    from packbench.data.engine import create_database
    from packbench.data.migrate import upgrade

    path = tmp_path / "bench.db"
    db = create_database(path)
    upgrade(db)
    seed(db)
    add_order(db, 5090, FULL_WIDTH)
    db.dispose()
    out_pdf = tmp_path / "slips.pdf"
    code = main(["print", "slip", "--db", str(path), "5001", FULL_WIDTH, "--out", str(out_pdf)])
    out, err = capsys.readouterr()
    assert code == 1  # written, but not every slip asked for
    assert out.startswith(f"wrote {out_pdf}")
    assert err.startswith(f"packbench: No slip for order {FULL_WIDTH}: ") and err.count("\n") == 1
    assert [c.text for page in pages(out_pdf.read_bytes()) for c in page.codes()] == ["ORD-5001"]
    code = main(["print", "slip", "--db", str(path), FULL_WIDTH, "--out", str(tmp_path / "x.pdf")])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and not (tmp_path / "x.pdf").exists()
    assert err.startswith(f"packbench: No slip for order {FULL_WIDTH}: ")
