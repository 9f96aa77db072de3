"""``python -m packbench.carriers.demo_carrier``: the same as ``packbench demo-carrier``."""

from __future__ import annotations

from packbench.carriers.demo_carrier.server import main

if __name__ == "__main__":
    raise SystemExit(main())
