"""The ``rlzoo`` command. The only package that prints.

Each subcommand is one module here with ``add_parser(commands)``, which registers its
parser and sets ``run(args) -> int`` as the parser's ``run`` default; :data:`COMMANDS`
lists them in the order ``rlzoo --help`` shows them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Sequence

from rlzoo.cli import enjoy, evaluate, listing, record, report, sweep, train, tune
from rlzoo.errors import RLZooError

COMMANDS = (listing, train, evaluate, sweep, report, tune, record, enjoy)


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
    if not args.verbose:
        quiet_frameworks()
    try:
        return int(args.run(args))
    except (RLZooError, ValueError) as exc:
        print(f"rlzoo: error: {exc}", file=sys.stderr)
        return 2


def quiet_frameworks() -> None:
    """Hide the frameworks' start-up chatter that says nothing about the user's run.

    TensorFlow's C++ lines (CPU features, oneDNN, and an error-level ``failed call to
    cuInit ... (303)`` on every CPU-only machine) obey ``TF_CPP_MIN_LOG_LEVEL``, read when
    TensorFlow is imported: the backends import it later, so setting it here is in time.
    Gymnasium's "out of date" warning for CartPole-v0 comes twice with colour codes; the
    train command says it once in plain words instead. ``-v`` shows everything.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r".*The environment .* is out of date")
