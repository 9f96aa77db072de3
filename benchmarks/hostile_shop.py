"""What a hostile shop can make one adapter call cost, against a raw-socket shop on loopback
(tests/shop/hostile.py): a gzip-in-gzip bomb at the default 32 MB limit, a dripping answer,
and the depth-checked decoding of an ordinary 100-order page compared with ``json.loads``.

    .venv/bin/python benchmarks/hostile_shop.py
"""

from __future__ import annotations

import gzip
import json
import sys
import time
import tracemalloc
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from packbench.shop.base import PayloadError, TransientError
from packbench.shop.bounded import decode_items
from packbench.shop.woocommerce import WooCommerceAdapter
from tests.shop.hostile import Answer, hostile_shop

KEY, SECRET = "ck_bench", "cs_bench"
FIXTURE = Path(__file__).resolve().parents[1] / "tests/shop/fixtures"


def bomb(gib: int) -> bytes:
    member = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    inner = member.compress(bytes(8 << 20)) + member.flush()
    return gzip.compress(inner * (128 * gib), 9)


def main() -> None:
    body = bomb(2)
    with hostile_shop(
        lambda r: Answer(body=body, headers=[("Content-Encoding", "gzip, gzip")])
    ) as url:
        shop = WooCommerceAdapter(url, KEY, SECRET)
        tracemalloc.start()
        started = time.perf_counter()
        try:
            shop.fetch_orders(modified_after=None)
        except PayloadError as exc:
            outcome = str(exc)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        shop.close()
    print(f"gzip, gzip bomb: {len(body):,} bytes on the wire, 2 GiB inside")
    print(f"  refused in {elapsed:.2f} s, peak Python allocations {peak / 1e6:.1f} MB")
    print(f"  {outcome}")

    orders = json.loads((FIXTURE / "woocommerce_v3_orders_list_response.json").read_bytes())
    page = json.dumps([orders[i % 2] | {"id": i + 1} for i in range(100)]).encode()
    with hostile_shop(lambda r: Answer(body=page, drip_s=0.05, drip_body_only=True)) as url:
        shop = WooCommerceAdapter(url, KEY, SECRET, timeout=10, deadline=3)
        started = time.perf_counter()
        with contextlib.suppress(TransientError):
            shop.fetch_orders(modified_after=None)
        print(
            f"dripping shop (1 byte / 50 ms, deadline 3 s): call ended after "
            f"{time.perf_counter() - started:.2f} s"
        )
        shop.close()

    runs = 20
    started = time.perf_counter()
    for _ in range(runs):
        decode_items(page)
    per_item = (time.perf_counter() - started) / runs
    started = time.perf_counter()
    for _ in range(runs):
        json.loads(page)
    whole = (time.perf_counter() - started) / runs
    print(
        f"100-order page ({len(page) / 1e3:.0f} kB): decode_items (json.loads and the depth "
        f"check) {per_item * 1e3:.1f} ms, json.loads alone {whole * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
