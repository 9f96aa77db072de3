"""``python -m packbench.shop.demo_shop``: the same as ``packbench demo-shop``."""

from __future__ import annotations

from packbench.shop.demo_shop.server import main

if __name__ == "__main__":
    raise SystemExit(main())
