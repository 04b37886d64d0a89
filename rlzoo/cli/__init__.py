"""The ``rlzoo`` command. The only package that prints.

Each subcommand is one module here with ``add_parser(commands)``, which registers its
parser and sets ``run(args) -> int`` as the parser's ``run`` default; :data:`COMMANDS`
lists them in the order ``rlzoo --help`` shows them.

Exit statuses: 0 success; 2 a usage error or any :class:`rlzoo.errors.RLZooError` (one
line, ``rlzoo: error: ...``); 1 a file-system error or an internal error (one line, the
traceback only with ``-v``); 130/143 stopped by SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from rlzoo.cli import enjoy, evaluate, export, hub, listing, package, record, report, sweep, train, tune
from rlzoo.errors import RLZooError
from rlzoo.quiet import quiet_frameworks

COMMANDS = (listing, train, evaluate, sweep, report, tune, record, enjoy, package, export, hub)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, ``rlzoo: error: ...``, exit 2.

    argparse's own ``error`` prints the whole usage block first; the usage stays with
    ``--help``, and the line names the subcommand's ``--help`` to see it. Subcommand parsers
    are of this class too (``add_subparsers`` makes them of the parent's class).
    """

    def error(self, message: str) -> NoReturn:
        """Print ``message`` as one line and exit 2.

        Parameters
        ----------
        message:
            argparse's description of what was wrong.
        """
        _error(f"rlzoo: error: {_one_line_text(message)} (see {self.prog} --help)")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    """The ``rlzoo`` argument parser with every subcommand."""
    parser = OneLineParser(prog="rlzoo", description="Train, evaluate and compare RL agents on Gymnasium envs.")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log periodic evaluations and more; show tracebacks of internal errors"
    )
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
    except (RLZooError, ValueError) as exc:  # the library raises ValueError for bad arguments too
        _error(f"rlzoo: error: {_one_line(exc)}")
        return 2
    except BrokenPipeError:
        # `rlzoo list | head -1`: the reader left; say nothing more, and let no flush at exit fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a command killed by the signal reports
    except KeyboardInterrupt as exc:  # a second Ctrl-C/SIGTERM, or one outside the training loop
        _error("rlzoo: aborted")
        return int(getattr(exc, "exit_status", 130))
    except OSError as exc:
        _error(f"rlzoo: error: {_one_line(exc)}")
        return 1
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        _error(f"rlzoo: internal error: {type(exc).__name__}: {_one_line(exc)}")
        if not args.verbose:
            _error("run with -v for the traceback, and please report it")
        return 1


def _one_line(exc: BaseException) -> str:
    return _one_line_text(str(exc)) or type(exc).__name__


def _one_line_text(text: str) -> str:
    return " ".join(text.split())


def _error(message: str) -> None:
    try:
        print(message, file=sys.stderr, flush=True)
    except (BrokenPipeError, ValueError):
        pass
