"""The report's text: its Markdown sections and the CSV files of scores and runs.

Every function takes statistics already computed (:mod:`rlzoo.experiments.cells`,
:mod:`rlzoo.experiments.stats`) and returns text: Markdown as a list of lines, a CSV as
one string. Nothing here computes a statistic or writes a file.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import pathlib
import platform
from typing import Any

import numpy as np

from rlzoo.experiments import stats
from rlzoo.experiments.bounds import RANDOM_EPISODES
from rlzoo.experiments.cells import CURVE_POINTS, MAX_COMPARED, MIN_SEEDS_FOR_CI, Bounds, Cells, Improvement
from rlzoo.settings import TrainSettings


def header(results: pathlib.Path, rows: list[dict[str, Any]], done: list[dict[str, Any]], reps: int = stats.DEFAULT_REPS) -> list[str]:
    """The title and what the report covers: runs, time, machine, and what a score is.

    Parameters
    ----------
    results:
        The results directory.
    rows:
        Every (selected) index row.
    done:
        The finished ones, at least one.
    reps:
        The bootstrap resamples asked for (the text says when big estimates got fewer).

    Returns
    -------
    list[str]
        Markdown lines.
    """
    failed = [row for row in rows if row["status"] == "failed"]
    unfinished = len(rows) - len(done) - len(failed)
    times = [(row["started"], row["finished"]) for row in done if _finite(row.get("started")) and _finite(row.get("finished"))]
    run_time = sum(finished - started for started, finished in times)
    span = max(f for _, f in times) - min(s for s, _ in times) if times else 0.0
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
        *_reps_note(reps, len(done)),
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


def _reps_note(reps: int, runs: int) -> list[str]:
    """Says when the bootstraps of a big sweep use fewer resamples than asked for (see :func:`stats.bounded_reps`)."""
    if stats.bounded_reps(reps, runs * CURVE_POINTS) >= reps:
        return []
    return [
        f"Bootstrap resamples: {reps} per estimate asked for; an estimate over more than {stats.MAX_RESAMPLED // reps} "
        f"scores uses fewer (at least {stats.MIN_REPS}: resamples x scores at most {stats.MAX_RESAMPLED}), so that a "
        f"report of {runs} runs stays bounded in time and memory.",
        "",
    ]


def _finite(value: Any) -> bool:
    """A finite int or float (an index row's value may be anything after an edit)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def _cpu_model() -> str:
    """``", <model name>"`` from ``/proc/cpuinfo`` where there is one, else ``""``."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return ", " + line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cell_table(
    cells: Cells,
    per_cell: dict[tuple[str, str], stats.Estimate],
    bounds: Bounds,
    last: dict[tuple[str, str], stats.Estimate] | None = None,
) -> str:
    """The per-(agent, env) table, one row per cell, by env then label.

    Parameters
    ----------
    cells:
        The cells.
    per_cell:
        Their estimates (:func:`rlzoo.experiments.cells.per_cell_estimates`): the kept weights' scores.
    bounds:
        The normalisation bounds of every env.
    last:
        The estimates of the last weights' scores, where every run of the cell recorded them
        ("-" elsewhere).

    Returns
    -------
    str
        A Markdown table (what ``rlzoo report`` prints).
    """
    lines = [
        "| env | agent | seeds | IQM [95% CI] | mean [95% CI] | median [95% CI] | normalised IQM | last weights: IQM [95% CI] |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    last = last or {}
    for label, env in sorted(cells, key=lambda key: (key[1], key[0])):
        estimate = per_cell[label, env]
        low, high = bounds[env]
        norm = f"{(estimate.point[0] - low) / (high - low):.2f}" if high is not None else "-"
        seeds = len(cells[label, env].finals)
        iqm, mean, median = (interval(estimate, row, ".1f", seeds) for row in range(3))
        last_iqm = interval(last[label, env], 0, ".1f", seeds) if (label, env) in last else "-"
        lines.append(f"| {env} | {label} | {seeds} | {iqm} | {mean} | {median} | {norm} | {last_iqm} |")
    return "\n".join(lines)


def cell_section(table: str, cells: Cells | None = None) -> list[str]:
    """The section around :func:`cell_table`'s table (with a note when a cell has a single seed)."""
    note = (
        "IQM, mean and median of the final scores across seeds (the median is the middle seed's score), each with its 95% CI; "
        "normalised IQM: 0 = uniform random policy, 1 = `reward_threshold`. The scores are those of the weights each run "
        "kept (its best periodic evaluation, never one before the first update); 'last weights' scores the weights "
        "training ended with on the same final episodes."
    )
    lines = ["## Final greedy score per (agent, env)", "", note, ""]
    single = sorted(key for key, cell in (cells or {}).items() if len(cell.finals) < MIN_SEEDS_FOR_CI)
    if single:
        names = ", ".join(f"{label} on {env}" for label, env in single[:10]) + (", ..." if len(single) > 10 else "")
        lines += [
            f'No CI for {len(single)} cell(s) with a single seed ({names}): "n/a, 1 seed". A confidence interval '
            "over seeds needs at least 2 seeds (one run has no spread to resample); sweep more seeds for one.",
            "",
        ]
    return [*lines, table, ""]


def left_out_section(left_out: list[tuple[dict[str, Any], str]]) -> list[str]:
    """The finished runs the statistics leave out (a NaN, inf or text score, a damaged curve), with why.

    Parameters
    ----------
    left_out:
        ``(index row, reason)`` pairs (:func:`rlzoo.experiments.cells.usable`).

    Returns
    -------
    list[str]
        Markdown lines; none when no run was left out.
    """
    if not left_out:
        return []
    lines = [
        "## Runs left out",
        "",
        f"{len(left_out)} finished run(s) are left out of every statistic above: their index row holds a value no "
        "statistic can use. Rerun `rlzoo sweep` on a fresh --out to redo them, or check the index for edits.",
        "",
        "| run | reason |",
        "|---|---|",
    ]
    for row, reason in left_out[:100]:
        lines.append(f"| {_cell_text(row.get('run_id'))} | {_cell_text(reason)} |")
    if len(left_out) > 100:
        lines.append(f"| ... | {len(left_out) - 100} more |")
    return [*lines, ""]


def _cell_text(value: Any) -> str:
    """An untrusted value as a short Markdown table cell."""
    text = ascii(value) if not isinstance(value, str) else value.encode("ascii", "backslashreplace").decode()
    return (text if len(text) <= 120 else text[:117] + "...").replace("|", "\\|")


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
        lines.append(f"| {label} | {' | '.join(interval(estimate, i, '.2f') for i in range(3))} |")
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


def no_aggregate_section(reason: str = "No env with a `reward_threshold` was run by every agent") -> list[str]:
    """Why there is no aggregate across envs."""
    return ["## Across envs", "", f"{reason}: no aggregate.", ""]


def improvement_section(pairs: list[Improvement], labels: int = 0) -> list[str]:
    """P(X > Y) per pair; with ``probability_of_improvement.png`` where there is a pair."""
    lines = [
        "## Probability of improvement",
        "",
        "P(X > Y): the chance that a run of X beats a run of Y on an env, averaged over the envs both ran "
        f"(pairs with at least {MIN_SEEDS_FOR_CI} runs a side).",
        "",
    ]
    if labels > MAX_COMPARED:
        lines += [f"Only the first {MAX_COMPARED} of {labels} agents are compared: give --agents to choose which.", ""]
    lines += [
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


def interval(estimate: stats.Estimate, row: int, spec: str, seeds: int | None = None) -> str:
    """``"point [low, high]"`` of one statistic, each formatted with ``spec``; ``"point [n/a, 1 seed]"`` without an interval."""
    point, low, high = (float(np.ravel(a)[row]) for a in (estimate.point, estimate.low, estimate.high))
    if np.isnan(low) or np.isnan(high):
        return f"{point:{spec}} [n/a, {seeds} seed{'' if seeds == 1 else 's'}]" if seeds is not None else f"{point:{spec}} [n/a]"
    return f"{point:{spec}} [{low:{spec}}, {high:{spec}}]"
