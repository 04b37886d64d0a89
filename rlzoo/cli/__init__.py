"""The ``rlzoo`` command. The only package that prints.

Each subcommand is one module here with ``add_parser(commands)``, which registers its
parser and sets ``run(args) -> int`` as the parser's ``run`` default; :data:`COMMANDS`
lists them in the order ``rlzoo --help`` shows them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rlzoo.cli import evaluate, listing, report, sweep, train, tune
from rlzoo.errors import RLZooError

COMMANDS = (listing, train, evaluate, sweep, report, tune)


def build_parser() -> argparse.ArgumentParser:
    """The ``rlzoo`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="rlzoo", description="Train, evaluate and compare RL agents on Gymnasium envs.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log periodic evaluations and more")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rlzoo`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    try:
        return int(args.run(args))
    except (RLZooError, ValueError) as exc:
        print(f"rlzoo: error: {exc}", file=sys.stderr)
        return 2
