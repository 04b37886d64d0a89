"""The report's text: its Markdown sections and the CSV files of scores and runs.

Every function takes statistics already computed (:mod:`rlzoo.experiments.cells`,
:mod:`rlzoo.experiments.stats`) and returns text: Markdown as a list of lines, a CSV as
one string. Nothing here computes a statistic or writes a file.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import os
import pathlib
import platform
from typing import Any

import numpy as np

from rlzoo.experiments import stats
from rlzoo.experiments.bounds import RANDOM_EPISODES
from rlzoo.experiments.cells import CURVE_POINTS, Bounds, Cells, Improvement
from rlzoo.settings import TrainSettings


def header(results: pathlib.Path, rows: list[dict[str, Any]], done: list[dict[str, Any]]) -> list[str]:
    """The title and what the report covers: runs, time, machine, and what a score is.

    Parameters
    ----------
    results:
        The results directory.
    rows:
        Every (selected) index row.
    done:
        The finished ones, at least one.

    Returns
    -------
    list[str]
        Markdown lines.
    """
    failed = [row for row in rows if row["status"] == "failed"]
    unfinished = len(rows) - len(done) - len(failed)
    run_time = sum(row["finished"] - row["started"] for row in done)
    span = max(row["finished"] for row in done) - min(row["started"] for row in done)
    return [
        "# Sweep report",
        "",
        f"Results: `{results}`; {len(done)} finished runs, {len(failed)} failed, {unfinished} not run yet. "
        f"Run time {run_time / 3600:.2f} h in all, {span / 3600:.2f} h from the first start to the last finish "
        f"(wall time of an uninterrupted sweep). Report written {datetime.datetime.now():%Y-%m-%d %H:%M} by `rlzoo report` "
        f"on {platform.node() or 'a machine'} ({os.cpu_count()} CPUs{_cpu_model()}, {platform.platform(terse=True)}).",
        "",
        "Every score is a run's final greedy evaluation: the mean return over 100 episodes. Intervals are 95% "
        "stratified bootstrap confidence intervals over seeds (rliable, fixed bootstrap seed).",
        "",
    ]


def settings_section(done: list[dict[str, Any]]) -> list[str]:
    """How each cell's runs trained: their resolved training settings (:mod:`rlzoo.settings`), seeds aside.

    Parameters
    ----------
    done:
        Index rows of finished runs; rows from an index written before runs recorded their
        settings show "not recorded".

    Returns
    -------
    list[str]
        Markdown lines: one row per (label, env, settings).
    """
    counts: dict[tuple[str, str, str], int] = {}
    for row in done:
        recorded = row.get("settings")
        text = "not recorded"
        if isinstance(recorded, dict):
            names = [field.name for field in dataclasses.fields(TrainSettings) if field.name != "seed"]
            text = ", ".join(f"{name} {recorded[name]}" for name in names if name in recorded)
        key = (row["label"], row["env"], text)
        counts[key] = counts.get(key, 0) + 1
    lines = [
        "## Training settings",
        "",
        "What each run trained with, resolved in one order (argument, preset file, preset, rlzoo's default).",
        "",
    ]
    lines += ["| agent | env | settings | runs |", "|---|---|---|---:|"]
    lines += [f"| {label} | {env} | {text} | {n} |" for (label, env, text), n in sorted(counts.items())]
    return [*lines, ""]


def _cpu_model() -> str:
    """``", <model name>"`` from ``/proc/cpuinfo`` where there is one, else ``""``."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return ", " + line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cell_table(cells: Cells, per_cell: dict[tuple[str, str], stats.Estimate], bounds: Bounds) -> str:
    """The per-(agent, env) table, one row per cell, by env then label.

    Parameters
    ----------
    cells:
        The cells.
    per_cell:
        Their estimates (:func:`rlzoo.experiments.cells.per_cell_estimates`).
    bounds:
        The normalisation bounds of every env.

    Returns
    -------
    str
        A Markdown table (what ``rlzoo report`` prints).
    """
    lines = [
        "| env | agent | seeds | IQM [95% CI] | mean [95% CI] | median [95% CI] | normalised IQM |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for label, env in sorted(cells, key=lambda key: (key[1], key[0])):
        estimate = per_cell[label, env]
        low, high = bounds[env]
        norm = f"{(estimate.point[0] - low) / (high - low):.2f}" if high is not None else "-"
        iqm, mean, median = (_interval(estimate, row, ".1f") for row in range(3))
        lines.append(f"| {env} | {label} | {len(cells[label, env].finals)} | {iqm} | {mean} | {median} | {norm} |")
    return "\n".join(lines)


def cell_section(table: str) -> list[str]:
    """The section around :func:`cell_table`'s table."""
    note = (
        "IQM, mean and median of the final scores across seeds (the median is the middle seed's score), each with its 95% CI; "
        "normalised IQM: 0 = uniform random policy, 1 = `reward_threshold`."
    )
    return ["## Final greedy score per (agent, env)", "", note, "", table, ""]


def bounds_section(bounds: Bounds) -> list[str]:
    """What a normalised score is, and each env's bounds."""
    lines = [
        "## Normalisation",
        "",
        f"Normalised score = (score - random) / (solved - random). random: the mean return of a uniform random "
        f"policy over {RANDOM_EPISODES} seeded episodes, measured by this report; solved: the env's Gymnasium "
        "`reward_threshold`. Envs without a threshold (PettingZoo envs) are left out of the normalised aggregates.",
        "",
        "| env | random | solved |",
        "|---|---:|---:|",
    ]
    for env, (low, high) in sorted(bounds.items()):
        lines.append(f"| {env} | {low:.1f} | {high if high is not None else '-'} |")
    return [*lines, ""]


def aggregate_section(estimates: dict[str, stats.Estimate], envs: list[str], runs: int) -> list[str]:
    """The normalised aggregates per label across ``envs``, with the aggregate and profile figures.

    Parameters
    ----------
    estimates:
        ``{label: Estimate}`` of shape ``(3,)``.
    envs:
        The envs aggregated over.
    runs:
        Runs per env in the aggregate.

    Returns
    -------
    list[str]
        Markdown lines; they show ``aggregate.png`` and ``performance_profile.png``.
    """
    lines = [
        "## Across envs (normalised scores)",
        "",
        f"Over the envs every agent ran that have a threshold: {', '.join(envs)} ({runs} runs each). "
        "IQM, mean and median are over every run's normalised score on every env (the median is not of the per-env means).",
        "",
        "| agent | IQM [95% CI] | mean [95% CI] | median [95% CI] |",
        "|---|---:|---:|---:|",
    ]
    for label, estimate in estimates.items():
        lines.append(f"| {label} | {' | '.join(_interval(estimate, i, '.2f') for i in range(3))} |")
    return [
        *lines,
        "",
        "![aggregate](aggregate.png)",
        "",
        "Performance profiles: the fraction of runs scoring above each normalised score.",
        "",
        "![performance profiles](performance_profile.png)",
        "",
    ]


def no_aggregate_section() -> list[str]:
    """Why there is no aggregate across envs."""
    return ["## Across envs", "", "No env with a `reward_threshold` was run by every agent: no aggregate.", ""]


def improvement_section(pairs: list[Improvement]) -> list[str]:
    """P(X > Y) per pair; with ``probability_of_improvement.png`` where there is a pair."""
    lines = [
        "## Probability of improvement",
        "",
        "P(X > Y): the chance that a run of X beats a run of Y on an env, averaged over the envs both ran.",
        "",
        "| X | Y | envs | P(X > Y) [95% CI] |",
        "|---|---|---|---:|",
    ]
    for p in pairs:
        lines.append(f"| {p.x} | {p.y} | {p.envs} | {p.point:.2f} [{p.low:.2f}, {p.high:.2f}] |")
    if pairs:
        lines += ["", "![probability of improvement](probability_of_improvement.png)"]
    return [*lines, ""]


def curves_section() -> list[str]:
    """What ``sample_efficiency.png`` shows."""
    return [
        "## Sample efficiency",
        "",
        f"The periodic greedy evaluations during training, resampled to {CURVE_POINTS} points per run; "
        "IQM across seeds with its 95% CI band.",
        "",
        "![sample efficiency](sample_efficiency.png)",
        "",
    ]


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
        values = [f"{v:.6g}" for i in range(len(stats.STATISTICS)) for v in (estimate.point[i], estimate.low[i], estimate.high[i])]
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
                f"{row['final_mean']:.6g}",
                f"{row['final_std']:.6g}",
                f"{row['train_seconds']:.3f}",
                f"{row['eval_seconds']:.3f}",
                json.dumps(row["settings"], sort_keys=True) if row.get("settings") is not None else "",
            ]
        )
    return _csv(rows)


def _csv(rows: list[list[object]]) -> str:
    """Rows as CSV text, ``\\n`` line ends."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue()


def _interval(estimate: stats.Estimate, row: int, spec: str) -> str:
    """``"point [low, high]"`` of one statistic, each formatted with ``spec``."""
    point, low, high = (float(np.ravel(a)[row]) for a in (estimate.point, estimate.low, estimate.high))
    return f"{point:{spec}} [{low:{spec}}, {high:{spec}}]"
