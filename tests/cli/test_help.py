"""--help says what every option does, and the demo servers' --help their defaults."""

from __future__ import annotations

import argparse

from packbench.carriers.demo_carrier.server import build_parser as carrier_parser
from packbench.cli.parser import build_parser
from packbench.shop.demo_shop.server import build_parser as shop_parser


def options(parser: argparse.ArgumentParser, path: str) -> list[tuple[str, argparse.Action]]:
    """Every option and argument of ``parser`` and its commands, named as typed."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += options(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            found.append((f"{path} {'/'.join(action.option_strings) or action.dest}", action))
    return found


#: Options left out of --help on purpose: a secret belongs in the environment or the keyring.
HIDDEN = {"packbench sync --key", "packbench sync --secret"}


def test_every_option_says_what_it_does() -> None:
    everything = [
        *options(build_parser(), "packbench"),
        *options(shop_parser(), "packbench demo-shop"),
        *options(carrier_parser(), "packbench demo-carrier"),
    ]
    assert len(everything) > 100
    silent = [name for name, action in everything if not (action.help or "").strip()]
    assert silent == [], silent  # settlements import --provider said nothing, among others
    hidden = {name for name, action in everything if action.help == argparse.SUPPRESS}
    assert hidden == HIDDEN


def test_the_demo_servers_help_names_their_defaults() -> None:
    for parser, port in ((shop_parser(), 8787), (carrier_parser(), 8788)):
        text = " ".join(parser.format_help().split())
        assert f"0 = any free port (default: {port})" in text, text
        assert "share of requests that fail (default: 0.0)" in text
