"""The adapter against a hostile shop on loopback (tests/shop/hostile.py): an answer dripped a
byte at a time, a gzip bomb in two layers, one order nested deeper than any parser should go,
and a shop that echoes the credentials back in its bodies, headers and error messages.

Each test proves the call ends within its deadline, memory stays bounded, the good orders still
arrive, and no form of the key or secret reaches an exception, a log line, the terminal or a
database row.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import re
import sqlite3
import time
import tracemalloc
import zlib
from functools import cache
from pathlib import Path

import pytest

from packbench import cli
from packbench.logs import RedactSecrets
from packbench.redact import clear_secrets
from packbench.shop.base import AuthError, PayloadError, TransientError
from packbench.shop.woocommerce import WooCommerceAdapter
from tests.shop.hostile import Answer, Request, hostile_shop

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "ck_9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
SECRET = "cs_1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
BASIC = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
LEAKS = (KEY, SECRET, BASIC, BASIC.rstrip("="))


@pytest.fixture(autouse=True)
def _forget_secrets():
    clear_secrets()
    yield
    clear_secrets()


def assert_clean(*texts: object) -> None:
    for text in texts:
        rendered = text if isinstance(text, str) else f"{text}\n{text!r}"
        for leak in LEAKS:
            assert leak not in rendered
        # No telling prefix either (a secret cut before it was masked).
        assert SECRET[:12] not in rendered and BASIC[:16] not in rendered


def orders_list() -> list[dict]:
    return json.loads((FIXTURES / "woocommerce_v3_orders_list_response.json").read_bytes())


# --------------------------------------------------------------------------- time


@pytest.mark.parametrize("body_only", [True, False], ids=["body", "status-and-headers"])
def test_a_dripping_shop_is_cut_off_at_the_deadline(body_only: bool) -> None:
    """One byte every 50 ms never trips a 1 s read timeout; the 1.5 s deadline ends the call."""
    body = json.dumps(orders_list()).encode()

    def respond(request: Request) -> Answer:
        return Answer(body=body, drip_s=0.05, drip_body_only=body_only)

    with (
        hostile_shop(respond) as url,
        WooCommerceAdapter(url, KEY, SECRET, timeout=1.0, deadline=1.5) as shop,
    ):
        started = time.monotonic()
        with pytest.raises(TransientError, match="did not answer in time") as info:
            shop.fetch_orders(modified_after=None)
        elapsed = time.monotonic() - started
    assert 1.4 <= elapsed < 2.0, elapsed
    assert info.value.retryable and "1.5 s for the whole answer" in str(info.value)


def test_a_fast_shop_is_untouched_by_the_deadline() -> None:
    body = json.dumps(orders_list()).encode()
    with (
        hostile_shop(lambda r: Answer(body=body)) as url,
        WooCommerceAdapter(url, KEY, SECRET, timeout=1.0, deadline=1.5) as shop,
    ):
        for _ in range(3):  # a kept-alive connection gets a fresh deadline per request
            assert [o.shop_order_id for o in shop.fetch_orders(modified_after=None).orders] == [
                727,
                723,
            ]


# --------------------------------------------------------------------------- memory


@cache
def gzip_bomb() -> bytes:
    """``Content-Encoding: gzip, gzip``: a few KB that unpack to 2 GiB of zeros (256 gzip
    members of 8 MiB each, valid gzip, compressed again as a whole)."""
    member = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    inner = member.compress(bytes(8 << 20)) + member.flush()
    return gzip.compress(inner * 256, 9)


def test_a_gzip_chain_bomb_is_refused_with_bounded_memory() -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 20_000
    limit = 4 << 20

    def respond(request: Request) -> Answer:
        return Answer(body=bomb, headers=[("Content-Encoding", "gzip, gzip")])

    with (
        hostile_shop(respond) as url,
        WooCommerceAdapter(url, KEY, SECRET, max_response_bytes=limit) as shop,
    ):
        tracemalloc.start()
        try:
            with pytest.raises(PayloadError, match="larger than 4,194,304 bytes once decompressed"):
                shop.fetch_orders(modified_after=None)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # The limit plus a slice per stage and the join, not 2 GiB.
    assert peak < 3 * limit, f"peak {peak:,} bytes"


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("identity", lambda data: data),
    ],
)
def test_compressed_pages_within_the_limit_arrive(encoding: str, compress) -> None:  # type: ignore[no-untyped-def]
    body = compress(json.dumps(orders_list()).encode())
    seen: list[str] = []

    def respond(request: Request) -> Answer:
        seen.append(request.headers.get("accept-encoding", ""))
        return Answer(body=body, headers=[("Content-Encoding", encoding)])

    with hostile_shop(respond) as url, WooCommerceAdapter(url, KEY, SECRET) as shop:
        assert len(shop.fetch_orders(modified_after=None).orders) == 2
    assert seen == ["gzip, deflate"]


@pytest.mark.parametrize(
    ("encoding", "body", "match"),
    [
        ("br", b"\x1b\x00", "content encoding 'br' is not one we asked for"),
        ("gzip, gzip, gzip, gzip", b"x", "4 content encodings in a row"),
        ("gzip", gzip.compress(b"[1, 2, 3]", mtime=0)[:-6], "gzip data ends early"),
        ("gzip", b"not gzip at all", "gzip data is broken"),
    ],
)
def test_unusable_encodings_are_refused(encoding: str, body: bytes, match: str) -> None:
    def respond(request: Request) -> Answer:
        return Answer(body=body, headers=[("Content-Encoding", encoding)])

    with (
        hostile_shop(respond) as url,
        WooCommerceAdapter(url, KEY, SECRET) as shop,
        pytest.raises(PayloadError, match=match),
    ):
        shop.fetch_products()


# --------------------------------------------------------------------------- depth


def deep_order(order_id: int, depth: int) -> bytes:
    order = orders_list()[0] | {"id": order_id, "number": str(order_id)}
    order["meta_data"] = [{"id": 1, "key": "_plugin", "value": "@DEEP@"}]
    return json.dumps(order).encode().replace(b'"@DEEP@"', b"[" * depth + b"]" * depth)


@pytest.mark.parametrize("depth", [33, 100_000])
def test_one_deeply_nested_order_is_refused_alone(
    depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    good = [json.dumps(o).encode() for o in orders_list()]
    body = b"[" + good[0] + b"," + deep_order(5052, depth) + b"," + good[1] + b"]"

    with (
        hostile_shop(lambda r: Answer(body=body)) as url,
        WooCommerceAdapter(url, KEY, SECRET) as shop,
    ):
        page = shop.fetch_orders(modified_after=None)
    assert [o.shop_order_id for o in page.orders] == [727, 723]
    assert [str(r) for r in page.rejected] == ["order 5052: nested more than 32 levels deep"]
    assert "rejected order 5052: nested more than 32 levels deep" in caplog.text


def test_an_order_at_the_depth_limit_is_taken() -> None:
    # The order object is level 1, meta_data 2, its entry 3, so the value may open 29 more.
    body = b"[" + deep_order(5053, 29) + b"]"
    with (
        hostile_shop(lambda r: Answer(body=body)) as url,
        WooCommerceAdapter(url, KEY, SECRET) as shop,
    ):
        page = shop.fetch_orders(modified_after=None)
    assert [o.shop_order_id for o in page.orders] == [5053] and not page.rejected


def test_a_single_object_nested_too_deeply_is_refused() -> None:
    body = b'{"id": 727, "meta_data": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    with (
        hostile_shop(lambda r: Answer(body=body)) as url,
        WooCommerceAdapter(url, KEY, SECRET) as shop,
        pytest.raises(PayloadError, match="nested 50001 levels deep"),
    ):
        shop.get_order(727)


# --------------------------------------------------------------------------- credentials


def echo(request: Request, status: int) -> Answer:
    """What a careless or malicious shop does with the bench's Authorization header."""
    auth = request.headers.get("authorization", "")
    message = f"Bad auth {auth} for {KEY}; the secret {SECRET} is wrong"
    body = json.dumps({"code": f"echo_{auth}", "message": message, "data": {"status": status}})
    headers = [
        ("Content-Type", "application/json"),
        ("X-Echo-Authorization", auth),
        ("WWW-Authenticate", f'Basic realm="{auth}"'),
    ]
    return Answer(status=status, body=body.encode(), headers=headers)


def not_json_with_the_secret(request: Request) -> Answer:
    # The secret starts within the first 40 characters, where the error message quotes the body.
    body = f"<b>Notice</b>: key {SECRET} {request.headers.get('authorization')}".encode()
    return Answer(body=body, headers=[("Content-Type", "text/html")])


@pytest.mark.parametrize(
    ("respond", "error", "match"),
    [
        (lambda r: echo(r, 401), AuthError, "refused the consumer key and secret"),
        (lambda r: echo(r, 500), TransientError, "temporary problem"),
        (not_json_with_the_secret, PayloadError, "not JSON"),
    ],
    ids=["401-echo", "500-echo", "not-json"],
)
def test_echoed_credentials_never_surface(respond, error, match, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)  # httpcore logs response headers at DEBUG
    caplog.handler.addFilter(RedactSecrets())  # what the bench's log file handler does
    with (
        hostile_shop(respond) as url,
        WooCommerceAdapter(url, KEY, SECRET) as shop,
        pytest.raises(error, match=match) as info,
    ):
        shop.fetch_orders(modified_after=None)
    assert "receive_response_headers" in caplog.text  # the echoed headers were logged …
    assert_clean(info.value, info.value.code or "", caplog.text)  # … and masked


def test_a_non_json_answer_is_masked_before_it_is_cut() -> None:
    with (
        hostile_shop(not_json_with_the_secret) as url,
        WooCommerceAdapter(url, KEY, SECRET) as shop,
        pytest.raises(PayloadError) as info,
    ):
        shop.fetch_products()
    assert "it starts '<b>Notice</b>: key *** Basic ***'" in str(info.value)
    for n in range(4, len(SECRET)):
        assert SECRET[:n] not in str(info.value)


# --------------------------------------------------------------------------- end to end


def test_sync_from_an_echoing_shop_leaks_nothing_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``packbench sync`` against a shop that echoes the credentials every way it can, at DEBUG:
    the terminal, the log file and every row of the database are searched for the key, the
    secret and their Basic form."""
    db = tmp_path / "bench.db"
    log_file = tmp_path / "packbench.log"
    monkeypatch.setenv("PACKBENCH_SHOP_KEY", KEY)
    monkeypatch.setenv("PACKBENCH_SHOP_SECRET", SECRET)
    monkeypatch.setenv("PACKBENCH_LOG__LEVEL", "DEBUG")
    monkeypatch.setenv("PACKBENCH_LOG__FILE", str(log_file))
    monkeypatch.setenv("PACKBENCH_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    good = [json.dumps(o).encode() for o in orders_list()]
    mode = {"now": "page"}

    def respond(request: Request) -> Answer:
        if mode["now"] == "page" and re.search(r"[?&]page=1(&|$)", request.target):
            body = b"[" + good[0] + b"," + deep_order(5052, 1000) + b"]"
            return Answer(body=body, headers=[("X-WP-TotalPages", "2")])
        if mode["now"] == "not-json":
            return not_json_with_the_secret(request)
        return echo(request, 401 if mode["now"] == "401" else 500)

    outputs: list[str] = []
    dumps: list[str] = []
    with hostile_shop(respond) as url:
        assert cli.main(["init", "--db", str(db)]) == 0
        for now, code in (("page", 1), ("not-json", 1), ("401", 1)):
            mode["now"] = now
            assert cli.main(["sync", "--once", "--db", str(db), "--shop-url", url]) == code
            out = capsys.readouterr()
            outputs += [out.out, out.err]
            with sqlite3.connect(db) as conn:  # after each run: each run stores its own error
                dumps.append("\n".join(conn.iterdump()))
    for handler in logging.getLogger().handlers:
        handler.flush()

    text = "\n".join(outputs)
    assert "rejected: order 5052: nested more than 32 levels deep" in text
    # A round asks for the orders first (then the products): the first request meets the 401.
    assert re.search(
        r"sync stopped: (products|orders) page 1: the shop refused the consumer key and secret",
        text,
    )
    logged = log_file.read_text()
    assert "X-Echo-Authorization" in logged  # the DEBUG header lines are there, masked
    rows = "\n".join(dumps)
    assert "'727'" in rows  # the good order of the first page was taken
    for stored in ("temporary problem (HTTP 500", "not JSON", "refused the consumer key"):
        assert stored in rows  # each run's error is in the sync state, masked
    assert_clean(text, logged, rows)
