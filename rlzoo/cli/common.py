"""Helpers shared by the ``rlzoo`` subcommands: reading ``--set`` values and printing tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rlzoo.errors import RLZooError


def parse_set(pairs: Sequence[str]) -> dict[str, Any]:
    """``["key=value", ...]`` as a dict, each value read as YAML.

    Parameters
    ----------
    pairs:
        The ``--set`` arguments.

    Returns
    -------
    dict[str, Any]
    """
    import yaml

    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise RLZooError(f"--set expects key=value (for example --set learning_rate=0.001), got {pair!r}")
        try:
            values[key] = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise RLZooError(f"--set {key}: cannot read the value {raw!r}: {exc}") from None
    return values


def table(rows: list[list[str]]) -> str:
    """Rows of cells as left-aligned columns (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows)
