"""The ``packbench`` command's first step (and ``python -m packbench``'s): a command that
starts the app re-runs itself once with its objects on huge pages (:mod:`packbench.heap`),
before anything else is imported; then the command line (:mod:`packbench.cli`) takes over.

Told from the command's words, without the parser: importing it would cost the first run
what the re-run imports again. Every command but ``demo`` is named here; an option's value
that reads like one of them only means the app starts without the re-run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

#: The commands that do not start the app (``packbench.cli``'s, ``demo`` aside; a test
#: compares the two lists).
NOT_THE_APP = frozenset(
    {
        "route", "slotting", "box", "boxes", "handovers", "settlements", "ledger", "ship",
        "init", "orders", "config", "sync", "printers", "print", "serve", "packers",
        "history", "report", "demo-shop", "demo-carrier", "demo-scale",
    }
)  # fmt: skip


def runs_the_app(args: Sequence[str]) -> bool:
    return not any(a in NOT_THE_APP for a in args if not a.startswith("-"))


def main() -> int:
    if runs_the_app(sys.argv[1:]):
        from packbench.heap import rerun_on_huge_pages

        rerun_on_huge_pages()
    from packbench.cli import main as cli_main

    return cli_main()
