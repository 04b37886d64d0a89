"""The report's CSV files: ``scores.csv`` (one row per (agent, env)) and ``runs.csv`` (one row per run)."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import numpy as np

from rlzoo.checks import is_number
from rlzoo.experiments import stats
from rlzoo.experiments.cells import Bounds, Cells


def scores_csv(cells: Cells, per_cell: dict[tuple[str, str], stats.Estimate], bounds: Bounds) -> str:
    """``scores.csv``: per (agent, env), each statistic with its interval, and the env's bounds.

    Parameters
    ----------
    cells, per_cell, bounds:
        As for :func:`cell_table`.

    Returns
    -------
    str
        The CSV text.
    """
    header = ["agent", "env", "seeds"]
    for name in stats.STATISTICS:
        header += [name.lower(), f"{name.lower()}_low", f"{name.lower()}_high"]
    rows: list[list[object]] = [[*header, "random", "solved"]]
    for (label, env), cell in sorted(cells.items()):
        estimate = per_cell[label, env]
        triples = [(estimate.point[i], estimate.low[i], estimate.high[i]) for i in range(len(stats.STATISTICS))]
        values = ["" if np.isnan(v) else f"{v:.6g}" for triple in triples for v in triple]
        low, high = bounds[env]
        rows.append([label, env, len(cell.finals), *values, f"{low:.6g}", "" if high is None else f"{high:.6g}"])
    return _csv(rows)


def runs_csv(done: list[dict[str, Any]]) -> str:
    """``runs.csv``: one row per finished run: its id, agent, label, preset, env, seed, steps, score, times and resolved settings.

    Parameters
    ----------
    done:
        Index rows of finished runs.

    Returns
    -------
    str
        The CSV text.
    """
    rows: list[list[object]] = [
        [
            "run_id",
            "agent",
            "label",
            "preset",
            "env",
            "seed",
            "num_timesteps",
            "final_mean",
            "final_std",
            "train_seconds",
            "eval_seconds",
            "settings",
        ]
    ]
    for row in done:
        rows.append(
            [
                row["run_id"],
                row["agent"],
                row["label"],
                row.get("preset") or "",
                row["env"],
                row["seed"],
                row["num_timesteps"],
                _number(row["final_mean"], ".6g"),
                _number(row["final_std"], ".6g"),
                _number(row["train_seconds"], ".3f"),
                _number(row["eval_seconds"], ".3f"),
                json.dumps(row["settings"], sort_keys=True) if row.get("settings") is not None else "",
            ]
        )
    return _csv(rows)


def _number(value: Any, spec: str) -> str:
    """A number formatted with ``spec``; empty when it is missing or not a finite number."""
    return f"{value:{spec}}" if is_number(value) and math.isfinite(value) else ""


def _csv(rows: list[list[object]]) -> str:
    """Rows as CSV text, ``\\n`` line ends."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue()
