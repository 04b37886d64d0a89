"""The zoo matrix: one table of a sweep's cells, envs as rows and agents as columns, and its place in a README.

Each cell is the IQM [95% CI] of the final greedy scores of the weights the runs kept (the
best periodic evaluation's), with the last weights' IQM beside it. A cell whose IQM is
below :data:`SOLVED_FRACTION` of the env's ``reward_threshold`` (of the best IQM in its row,
for an env without a threshold) is marked and gets a footnote: the text a notes file gives
for it (its best attempt and why it falls short), or a line saying none was given.
``rlzoo report --notes FILE --readme README.md`` writes the table between two marker lines
of the README, so no number in it is copied by hand.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping

import numpy as np

from rlzoo import yamlfile
from rlzoo.errors import RLZooError
from rlzoo.experiments import stats
from rlzoo.experiments.cells import Bounds, Cells
from rlzoo.experiments.tables import interval
from rlzoo.files import atomic_write

#: A cell under this fraction of its env's ``reward_threshold`` is marked.
SOLVED_FRACTION = 0.9
#: The README's lines around the matrix; everything between them is replaced.
BEGIN_MARKER = "<!-- rlzoo report: zoo matrix (generated, do not edit by hand) -->"
END_MARKER = "<!-- rlzoo report: end of zoo matrix -->"
#: The largest README the report rewrites.
MAX_README_BYTES = 4 * 1024 * 1024

#: ``{agent label: {env id: note}}``.
Notes = dict[str, dict[str, str]]


def load_notes(path: str | os.PathLike[str]) -> Notes:
    """Read a notes file: ``{agent label: {env id: one paragraph}}`` for the marked cells.

    Parameters
    ----------
    path:
        A YAML file (read by :mod:`rlzoo.yamlfile`: regular file, size-capped, plain data).

    Returns
    -------
    Notes
        The notes, every key and text a string.
    """
    data = yamlfile.load(path, what="notes file")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RLZooError(f"{os.fspath(path)}: a notes file maps agent labels to {{env id: note}}, got a {type(data).__name__}")
    notes: Notes = {}
    for label, per_env in data.items():
        if not isinstance(per_env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in per_env.items()):
            raise RLZooError(
                f"{os.fspath(path)}: {label!r}: give {{env id: note text}}, e.g. CartPole-v1: 'best attempt ...; limited by ...'"
            )
        notes[str(label)] = {env: " ".join(text.split()) for env, text in per_env.items()}
    return notes


def below_solved(iqm: float, bounds: tuple[float, float | None]) -> bool:
    """Whether a cell's IQM is under :data:`SOLVED_FRACTION` of its env's threshold (``False`` without one)."""
    solved = bounds[1]
    return solved is not None and iqm < SOLVED_FRACTION * solved


def below_best(iqm: float, row: list[float]) -> bool:
    """Whether a cell's IQM is under :data:`SOLVED_FRACTION` of the best IQM in its row.

    How a cell of an env without a ``reward_threshold`` (SpringCarts) is judged: against the
    best agent on that env, as issue 16 judges kerasrl2-dqn there against sb3-ppo.

    Parameters
    ----------
    iqm:
        The cell's IQM.
    row:
        The IQMs of every cell of its env.

    Returns
    -------
    bool
        ``False`` for a row of one cell, or where the best IQM is not positive.
    """
    best = max(row)
    return len(row) > 1 and best > 0 and iqm < SOLVED_FRACTION * best


def matrix_table(
    cells: Cells,
    kept: Mapping[tuple[str, str], stats.Estimate],
    last: Mapping[tuple[str, str], stats.Estimate],
    bounds: Bounds,
    notes: Notes | None = None,
) -> list[str]:
    """The matrix as Markdown lines: a note on what it shows, the table, the footnotes.

    Parameters
    ----------
    cells:
        The cells (their labels are the columns, their envs the rows).
    kept:
        Each cell's estimates of the kept weights' final scores (IQM first).
    last:
        The same for the weights training ended with, where every run recorded them.
    bounds:
        ``{env: (random score, reward_threshold or None)}``.
    notes:
        Footnote texts for marked cells (:func:`load_notes`).

    Returns
    -------
    list[str]
        Markdown lines.
    """
    notes = notes or {}
    labels = sorted({label for label, _ in cells})
    envs = sorted({env for _, env in cells}, key=_env_order)
    lines = [
        "| env (threshold) | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    footnotes: list[str] = []
    for env in envs:
        solved = bounds[env][1]
        row_iqms = [_iqm(kept[label, env]) for label in labels if (label, env) in cells]
        row = [f"{env} ({solved:g})" if solved is not None else f"{env} (none)"]
        for label in labels:
            if (label, env) not in cells:
                row.append("-")
                continue
            text = interval(kept[label, env], 0, ".1f", len(cells[label, env].finals))
            if (label, env) in last:
                text += f"; last {_iqm(last[label, env]):.1f}"
            iqm = _iqm(kept[label, env])
            if below_solved(iqm, bounds[env]) if solved is not None else below_best(iqm, row_iqms):
                footnotes.append(_footnote(len(footnotes) + 1, label, env, notes))
                text = f"{text} **[{len(footnotes)}]**"
            row.append(text)
        lines.append("| " + " | ".join(row) + " |")
    what = (
        f"IQM [95% CI] over seeds of the final greedy score (100 episodes) of the weights each run kept "
        f"(its best periodic evaluation, never before the first update); 'last': the IQM of the weights training "
        f"ended with, on the same episodes. **[n]**: under {SOLVED_FRACTION:.0%} of the env's threshold (of the best IQM "
        f"in its row, for an env without one), see the note."
    )
    return [what, "", *lines, "", *footnotes]


def write_readme(readme: str | os.PathLike[str], lines: list[str], source: str) -> pathlib.Path:
    """Replace what lies between :data:`BEGIN_MARKER` and :data:`END_MARKER` in ``readme`` with ``lines``.

    Parameters
    ----------
    readme:
        The Markdown file holding the two marker lines, once each, in that order.
    lines:
        The new text (from :func:`matrix_table`).
    source:
        A line naming the command and results it came from, written first.

    Returns
    -------
    pathlib.Path
        The file, rewritten atomically.
    """
    path = pathlib.Path(readme)
    try:
        if path.stat().st_size > MAX_README_BYTES:
            raise RLZooError(f"{str(path)!r} is over {MAX_README_BYTES // 1024 // 1024} MiB: give --readme the project's README")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RLZooError(
            f"cannot read {str(path)!r} ({getattr(exc, 'strerror', None) or exc}): give --readme a readable Markdown file"
        ) from None
    if text.count(BEGIN_MARKER) != 1 or text.count(END_MARKER) != 1 or text.index(BEGIN_MARKER) > text.index(END_MARKER):
        raise RLZooError(
            f"{str(path)!r} needs the two lines {BEGIN_MARKER!r} and {END_MARKER!r}, once each and in that order: "
            "the table goes between them"
        )
    head, rest = text.split(BEGIN_MARKER)
    _, tail = rest.split(END_MARKER)
    body = "\n".join([BEGIN_MARKER, "", source, "", *lines, END_MARKER])
    with atomic_write(path) as handle:
        handle.write((head + body + tail).encode("utf-8"))
    return path


def _iqm(estimate: stats.Estimate) -> float:
    return float(np.ravel(estimate.point)[0])


def _footnote(number: int, label: str, env: str, notes: Notes) -> str:
    note = notes.get(label, {}).get(env)
    if note is None:
        note = "no note given: the preset's own values, no attempt beyond them recorded."
    return f"**[{number}]** {label} on {env}: {note}" + "  "


def _env_order(env: str) -> tuple[int, str]:
    """Gymnasium's own envs first, then rlzoo's single-agent variants, then multi-agent ones."""
    return (0 if "/" not in env else 2 if "SpringCarts" in env else 1, env)
