"""Everything that reads outside input, fed garbage: a clear refusal or error, no change, never a
traceback. Scanner codes (control characters, 10,000-character bursts, keyboard-layout
garbage), configuration files, command-line arguments, layout and box files."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from packbench.cli import main
from packbench.config import ConfigError, load_settings, load_warehouse_layout
from packbench.core.codes import DEFAULT_RULES
from packbench.core.packing import PackingError, parse_request
from packbench.core.routing import LayoutError, parse_layout
from packbench.data.engine import Database
from packbench.data.models import Order, OrderLine, Packer, Parcel
from packbench.operations.common import Actor, Refused
from packbench.operations.pack_views import PackRules
from packbench.operations.packstation import open_slip, pack_scan
from packbench.operations.pick_start import next_batch
from packbench.operations.pick_views import PickRules
from packbench.operations.picking import pick_scan
from packbench.operations.scans import handle_scan

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Scanner garbage: any text, control characters and GS included, and long bursts.
codes = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40),
    st.text(alphabet="0123456789()]C1\x1d-ORDBGCMXZÆØÅæøå+\"'^~<>&", max_size=50),
    st.integers(min_value=1000, max_value=12000).map(lambda n: "7" * n),
)


def fingerprint(db: Database) -> tuple:
    """Everything a scan could change except the event log (which records the refusal)."""
    with db.read() as s:
        statuses = tuple(s.exec(select(Order.status, func.count()).group_by(Order.status)).all())
        lines = s.exec(select(func.sum(OrderLine.picked_qty), func.sum(OrderLine.packed_qty))).one()
        parcels = s.exec(select(func.count(), func.sum(Parcel.weight_g))).one()
        claims = s.exec(select(func.count()).where(Order.claimed_by.is_not(None))).one()
    return statuses, tuple(lines), tuple(parcels), claims


@pytest.fixture
def bench(demo_db: Database) -> Iterator[tuple[Database, Actor]]:
    with demo_db.read() as s:
        packer = s.exec(select(Packer).where(Packer.role == "packer")).first()
    assert packer is not None and packer.id is not None
    yield demo_db, Actor("pack", "fuzz", packer.id, packer.name, "packer")


@FUZZ
@given(raw=codes)
def test_any_scan_at_the_common_handler(bench, raw: str) -> None:  # type: ignore[no-untyped-def]
    db, actor = bench
    before = fingerprint(db)
    outcome = handle_scan(db, actor, raw, DEFAULT_RULES)
    assert isinstance(outcome.message, str) and outcome.message
    if not outcome.ok:
        assert fingerprint(db) == before, raw


@FUZZ
@given(raw=codes)
def test_any_scan_at_the_pack_station_with_an_order_open(bench, raw: str) -> None:  # type: ignore[no-untyped-def]
    db, actor = bench
    with db.read() as s:
        order = s.exec(select(Order).where(Order.status.in_(["picked", "packing"]))).first()
    assert order is not None
    opened = open_slip(db, actor, PackRules(), order.number, f"ORD-{order.number}")
    before = fingerprint(db)
    outcome = pack_scan(db, actor, raw, DEFAULT_RULES, PackRules(), order_id=order.id)
    if outcome is not None and not outcome.ok:
        assert outcome.message
        assert fingerprint(db) == before, raw
    assert opened.message


@FUZZ
@given(raw=codes)
def test_any_scan_at_the_pick_station_mid_batch(bench, raw: str) -> None:  # type: ignore[no-untyped-def]
    db, packer = bench
    actor = packer.at_station("pick")
    from packbench.config import Settings

    layout = load_warehouse_layout(Settings().warehouse.layout_path())
    with contextlib.suppress(Refused):  # the batch from the example before is still open
        next_batch(db, actor, layout, PickRules())
    before = fingerprint(db)
    outcome = pick_scan(db, actor, raw, DEFAULT_RULES, layout, PickRules())
    if outcome is not None and not outcome.ok:
        assert outcome.message
        assert fingerprint(db) == before, raw


toml_values = st.recursive(
    st.one_of(st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text()),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
sections = st.sampled_from(
    ["bench", "scanner", "codes", "shop", "log", "printers", "day", "pick", "pack", "warehouse"]
)


@settings(max_examples=200, deadline=None)
@given(
    doc=st.dictionaries(
        st.one_of(sections, st.text(max_size=10)),
        st.one_of(st.dictionaries(st.text(max_size=16), toml_values, max_size=5), toml_values),
        max_size=4,
    )
)
def test_any_configuration_file_loads_or_says_why(doc: dict, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    import tomli_w

    path = tmp_path_factory.mktemp("cfg") / "packbench.toml"
    try:
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    except (TypeError, ValueError):
        return  # not representable as TOML at all
    try:
        load_settings(str(path))
    except ConfigError as exc:
        assert str(exc)


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=200))
def test_a_configuration_file_of_garbage_bytes(raw: bytes, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("cfg") / "packbench.toml"
    path.write_bytes(raw)
    try:
        load_settings(str(path))
    except ConfigError as exc:
        assert str(exc)


COMMANDS = [
    ["orders"],
    ["route", "--layout"],
    ["box", "--boxes"],
    ["print", "slip"],
    ["print", "label"],
    ["history"],
    ["report", "--date"],
    ["packers", "set-pin"],
    ["init"],
    ["config", "show"],
    ["slotting", "--days"],
    ["boxes", "advise", "--count"],
]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    command=st.sampled_from(COMMANDS),
    extra=st.lists(
        st.one_of(
            st.text(max_size=20).filter(lambda t: "\x00" not in t),
            st.sampled_from(["--json", "--db", "-", "--out", "--printer", "--count", "-1", "0"]),
        ),
        max_size=4,
    ),
)
def test_any_command_line_is_an_answer_or_a_one_line_error(  # type: ignore[no-untyped-def]
    command: list[str], extra: list[str], tmp_path_factory, capsys
) -> None:
    home = tmp_path_factory.mktemp("cli")
    db = home / "bench.db"
    argv = [*command, *extra]
    if "--db" not in argv:
        argv += ["--db", str(db)]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: usage error, exit 2 (or 0 for --help)
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err and "Traceback" not in out, argv


@settings(max_examples=300, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=12), toml_values, max_size=8))
def test_any_layout_is_a_layout_or_a_layout_error(doc: dict) -> None:
    for data in (doc, {"warehouse": doc}):
        try:
            parse_layout(data)
        except LayoutError as exc:
            assert str(exc)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    doc=st.one_of(
        json_values,
        st.fixed_dictionaries({"boxes": json_values, "items": json_values}),
        st.fixed_dictionaries(
            {
                "boxes": st.lists(
                    st.dictionaries(
                        st.sampled_from(
                            [
                                "code",
                                "kind",
                                "inner_mm",
                                "flat_mm",
                                "max_thickness_mm",
                                "max_weight_g",
                                "tare_g",
                                "cost_ore",
                                "x",
                            ]
                        ),
                        json_values,
                        max_size=8,
                    ),
                    max_size=3,
                ),
                "items": st.lists(
                    st.dictionaries(
                        st.sampled_from(
                            ["sku", "dims_mm", "weight_g", "quantity", "keep_upright", "y"]
                        ),
                        json_values,
                        max_size=6,
                    ),
                    max_size=3,
                ),
            }
        ),
    )
)
def test_any_box_request_is_parsed_or_refused(doc: object) -> None:
    try:
        parse_request(doc)  # type: ignore[arg-type]
    except PackingError as exc:
        assert str(exc)


async def test_a_huge_garbage_burst_does_not_take_the_station_down(bench) -> None:  # type: ignore[no-untyped-def]
    from packbench.app import PackbenchApp
    from tests.screens.helpers import burst, scan, settle

    db, _actor = bench
    app = PackbenchApp(settings=load_settings(None, db="unused.db", station="pack"), db=db)
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "BDG-1002")
        before = fingerprint(db)
        burst(app, "\x07\x1b[2J" + "ÆØÅ^XA~JA" * 150)  # 1,355 keys through the real pipeline
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "error" and message
        assert fingerprint(db) == before
        await scan(pilot, "CMD-TESTSCAN")  # the station still answers
        assert app.is_running
