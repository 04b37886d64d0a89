"""Helpers shared by the ``rlzoo`` subcommands: argument types, ``--set`` values, ``--out``
checks and tables."""

from __future__ import annotations

import argparse
import os
import pathlib
import tempfile
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from rlzoo import yamlfile
from rlzoo.checks import MAX_SEED
from rlzoo.errors import MissingDependencyError, RLZooError


class UsageError(RLZooError):
    """A command line that cannot work (printed as one line, exit status 2)."""


# -- argparse types: a bad value becomes argparse's own one-line usage error ------------------
def int_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type=`` for integers in ``[minimum, maximum]``.

    Parameters
    ----------
    minimum:
        The smallest valid value.
    maximum:
        The largest valid value, or ``None`` for no bound.

    Returns
    -------
    Callable[[str], int]
        Raises ``argparse.ArgumentTypeError`` (a usage error naming the valid range).
    """

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            valid = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
            raise argparse.ArgumentTypeError(f"must be {valid}, got {value}")
        return value

    parse.__name__ = "int"  # argparse names the type in some messages
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)
seed_int = int_at_least(0, MAX_SEED)


def add_saved_agent_arguments(parser: argparse.ArgumentParser, episodes: int, episodes_help: str, seed_help: str) -> None:
    """The arguments every command on a saved agent takes: the file, ``--episodes`` and ``--seed``.

    Parameters
    ----------
    parser:
        The subcommand's parser.
    episodes:
        The default episode count.
    episodes_help, seed_help:
        What the two options mean for this command (the defaults are appended).
    """
    parser.add_argument("artifact", help="a file written by rlzoo train or rlzoo.save")
    parser.add_argument("--episodes", type=positive_int, default=episodes, help=f"{episodes_help} (default {episodes})")
    parser.add_argument("--seed", type=seed_int, default=0, help=f"{seed_help}, 0 to 2**32-1 (default 0)")


def one_line_errors(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Make ``parser``'s own errors one line, ``rlzoo: error: ...``, exit status 2 (usage stays with ``--help``).

    Parameters
    ----------
    parser:
        A subcommand's parser.

    Returns
    -------
    argparse.ArgumentParser
        The same parser.
    """

    def error(message: str) -> NoReturn:
        parser.exit(2, f"rlzoo: error: {' '.join(message.split())} (rlzoo {parser.prog.split()[-1]} --help for usage)\n")

    parser.error = error  # type: ignore[method-assign]
    return parser


def non_empty(text: str) -> str:
    """An argparse ``type=`` for strings that must not be empty or blank."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


# -- --set values ------------------------------------------------------------------------------
def parse_set(pairs: Sequence[str]) -> dict[str, Any]:
    """``["key=value", ...]`` as a dict, each value read as YAML with the 1.2 core schema
    (:func:`rlzoo.yamlfile.parse`: numbers read as numbers, in lists and mappings too:
    ``{net_arch: [64, 64]}``).

    Parameters
    ----------
    pairs:
        The ``--set`` arguments.

    Returns
    -------
    dict[str, Any]
    """
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set expects key=value (for example --set learning_rate=0.001), got {pair!r}")
        try:
            values[key] = yamlfile.parse(raw, f"the --set {key} value {raw!r}", extra="sb3")
        except MissingDependencyError:
            raise
        except RLZooError as exc:
            raise UsageError(str(exc)) from None
    return values


# -- --out ------------------------------------------------------------------------------------
def check_output_folder(out: pathlib.Path, files: Sequence[str]) -> None:
    """Make sure ``out`` can take ``files`` before a long run starts; create it if missing.

    Parameters
    ----------
    out:
        The output folder.
    files:
        Names that will be written inside it.

    Raises
    ------
    UsageError
        ``out`` is a file, one of ``files`` is a folder, or nothing can be written there.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file, not a folder: give a folder (it is created if missing)")
    for name in files:
        if (out / name).is_dir():
            raise UsageError(
                f"--out {str(out)!r} holds a folder named {name!r} where the {name} file goes: move it or choose another --out"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out, prefix=".rlzoo-write-test."):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"--out {str(out)!r} is not writable ({reason}): choose a folder you can write to") from None


def is_regular_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` exists and is a regular file (not a folder, device or pipe)."""
    return pathlib.Path(path).is_file()


def table(rows: list[list[str]]) -> str:
    """Rows of cells as left-aligned columns (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows)
