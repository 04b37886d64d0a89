"""``rlzoo report``: a sweep's results as rliable statistics, in Markdown with PNGs and CSVs."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import itertools
import logging
import os
import pathlib
import platform
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from rlzoo.errors import RLZooError
from rlzoo.experiments import stats
from rlzoo.experiments.bounds import RANDOM_EPISODES, random_score, solved_score
from rlzoo.experiments.store import INDEX_FILE, Store
from rlzoo.files import atomic_write

logger = logging.getLogger(__name__)

#: Points of each resampled learning curve.
CURVE_POINTS = 11
#: Thresholds of the performance profiles, in normalised score.
TAUS = np.linspace(0.0, 1.2, 61)


@dataclasses.dataclass(frozen=True)
class Report:
    """What :func:`report` wrote.

    Attributes
    ----------
    markdown: the report (``report.md``).
    table: the per-(agent, env) table as Markdown, as printed by the CLI.
    files: every file written.
    """

    markdown: pathlib.Path
    table: str
    files: tuple[pathlib.Path, ...]


@dataclasses.dataclass
class _Cell:
    """The finished runs of one (label, env), by seed."""

    seeds: list[int] = dataclasses.field(default_factory=list)
    finals: list[float] = dataclasses.field(default_factory=list)
    curves: list[list[tuple[int, float, float]]] = dataclasses.field(default_factory=list)


def report(
    results_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    reps: int = stats.DEFAULT_REPS,
    agents: Sequence[str] | None = None,
    envs: Sequence[str] | None = None,
) -> Report:
    """Write the statistics of a sweep's finished runs: ``report.md``, PNGs and CSVs.

    - per (agent, env): IQM, mean and median of the final greedy scores across seeds, each
      with a 95% bootstrap CI over seeds;
    - across envs: the same over normalised scores (0 = a uniform random policy's mean
      return, measured here over 100 episodes; 1 = the env's ``reward_threshold``), for the
      envs every agent ran that have a threshold; performance profiles on them;
    - probability of improvement for each pair of agents, over the envs both ran;
    - sample-efficiency curves: IQM of the periodic greedy evaluations with CI bands.

    Parameters
    ----------
    results_dir:
        A directory written by :func:`rlzoo.sweep`.
    out:
        Where to write; default ``RESULTS_DIR/report``.
    reps:
        Bootstrap resamples per estimate (seeded: the same results give the same report).
    agents, envs:
        Report only these agents (their report names: the grid's ``label`` where it gave
        one) and envs; ``None`` for all. The aggregate across envs only covers envs every
        reported agent ran, so a grid whose agents ran different envs reads best as one
        report per group.

    Returns
    -------
    Report
    """
    results = pathlib.Path(results_dir)
    if not (results / INDEX_FILE).is_file():
        raise RLZooError(f"{str(results)!r} has no {INDEX_FILE}: give a directory written by `rlzoo sweep --out DIR`")
    with Store(results) as store:
        rows = store.rows()
    rows = _selected(_selected(rows, "agents", "label", agents), "envs", "env", envs)
    done = [row for row in rows if row["status"] == "done"]
    if not done:
        raise RLZooError(f"{str(results)!r} has no finished run yet ({len(rows)} in the index): run `rlzoo sweep` first")
    target = pathlib.Path(out) if out is not None else results / "report"
    target.mkdir(parents=True, exist_ok=True)

    cells: dict[tuple[str, str], _Cell] = defaultdict(_Cell)
    for row in sorted(done, key=lambda r: (r["label"], r["env"], r["seed"])):
        cell = cells[row["label"], row["env"]]
        cell.seeds.append(row["seed"])
        cell.finals.append(row["final_mean"])
        cell.curves.append([tuple(point) for point in row["curve"] or []])
    labels = sorted({label for label, _ in cells})
    envs = sorted({env for _, env in cells})
    bounds = {env: (random_score(env), solved_score(env)) for env in envs}

    per_cell = _per_cell_estimates(cells, labels, reps)
    files: list[pathlib.Path] = []
    lines = _header(results, rows, done)
    table = _cell_table(cells, per_cell, bounds)
    lines += ["## Final greedy score per (agent, env)", "", _cell_table_note(), "", table, ""]
    files.append(_write_cells_csv(target / "scores.csv", cells, per_cell, bounds))
    files.append(_write_runs_csv(target / "runs.csv", done))
    lines += _bounds_section(bounds)

    common = [env for env in envs if bounds[env][1] is not None and all((label, env) in cells for label in labels)]
    normalised = _normalised(cells, labels, common, bounds)
    if normalised:
        lines += _aggregate_section(normalised, common, reps, target, files)
    else:
        lines += ["## Across envs", "", "No env with a `reward_threshold` was run by every agent: no aggregate.", ""]
    if len(labels) > 1:
        lines += _improvement_section(cells, labels, reps, target, files)
    lines += _curves_section(cells, labels, envs, reps, target, files)

    markdown = target / "report.md"
    _write_text(markdown, "\n".join(lines) + "\n")
    files.insert(0, markdown)
    return Report(markdown, table, tuple(files))


# -- data ------------------------------------------------------------------------------------


def _selected(rows: list[dict[str, Any]], what: str, column: str, wanted: Sequence[str] | None) -> list[dict[str, Any]]:
    """The rows whose ``column`` is one of ``wanted`` (all rows for ``None``); names no row has are an error."""
    if wanted is None:
        return rows
    present = sorted({row[column] for row in rows})
    unknown = [name for name in wanted if name not in present]
    if unknown or not wanted:
        raise RLZooError(f"{what} {unknown or list(wanted)}: not among the sweep's {what}; they are {', '.join(present)}")
    return [row for row in rows if row[column] in wanted]


def _equal_runs(finals: Sequence[Sequence[float]]) -> int:
    """Runs per task for a (runs x tasks) array: the fewest any task has (failed runs leave gaps)."""
    return min(len(f) for f in finals)


def _per_cell_estimates(cells: dict[tuple[str, str], _Cell], labels: list[str], reps: int) -> dict[tuple[str, str], stats.Estimate]:
    """Per-(label, env) estimates: one rliable call for all, each env a task of its label's array.

    Envs with a different number of finished runs go in separate arrays (an array has one
    runs axis).
    """
    groups: dict[str, list[str]] = {}
    for label in labels:
        by_count: dict[int, list[str]] = defaultdict(list)
        for (cell_label, env), cell in cells.items():
            if cell_label == label:
                by_count[len(cell.finals)].append(env)
        for count, group in by_count.items():
            groups[f"{label}\x00{count}"] = sorted(group)
    scores = {key: np.array([cells[key.split("\x00")[0], env].finals for env in group], dtype=float).T for key, group in groups.items()}
    estimates = stats.per_task_estimates(scores, reps=reps)
    result = {}
    for key, group in groups.items():
        estimate = estimates[key]
        for index, env in enumerate(group):
            result[key.split("\x00")[0], env] = stats.Estimate(estimate.point[:, index], estimate.low[:, index], estimate.high[:, index])
    return result


def _normalised(
    cells: dict[tuple[str, str], _Cell], labels: list[str], envs: list[str], bounds: dict[str, tuple[float, float | None]]
) -> dict[str, np.ndarray]:
    """``{label: (runs x envs)}`` of normalised final scores (runs cut to the fewest any cell has)."""
    if not envs:
        return {}
    runs = _equal_runs([cells[label, env].finals for label in labels for env in envs])
    result = {}
    for label in labels:
        columns = []
        for env in envs:
            low, high = bounds[env]
            assert high is not None
            columns.append((np.array(cells[label, env].finals[:runs]) - low) / (high - low))
        result[label] = np.stack(columns, axis=1)
    return result


# -- sections --------------------------------------------------------------------------------


def _header(results: pathlib.Path, rows: list[dict[str, Any]], done: list[dict[str, Any]]) -> list[str]:
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


def _cpu_model() -> str:
    """``", <model name>"`` from ``/proc/cpuinfo`` where there is one, else ``""``."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return ", " + line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _cell_table_note() -> str:
    return "IQM, mean and median across seeds, each with its 95% CI; normalised IQM: 0 = uniform random policy, 1 = `reward_threshold`."


def _fmt(estimate: stats.Estimate, row: int) -> str:
    return f"{estimate.point[row]:.1f} [{estimate.low[row]:.1f}, {estimate.high[row]:.1f}]"


def _cell_table(
    cells: dict[tuple[str, str], _Cell], per_cell: dict[tuple[str, str], stats.Estimate], bounds: dict[str, tuple[float, float | None]]
) -> str:
    lines = [
        "| env | agent | seeds | IQM [95% CI] | mean [95% CI] | median [95% CI] | normalised IQM |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for label, env in sorted(cells, key=lambda key: (key[1], key[0])):
        estimate = per_cell[label, env]
        low, high = bounds[env]
        norm = f"{(estimate.point[0] - low) / (high - low):.2f}" if high is not None else "-"
        iqm, mean, median = (_fmt(estimate, row) for row in range(3))
        lines.append(f"| {env} | {label} | {len(cells[label, env].finals)} | {iqm} | {mean} | {median} | {norm} |")
    return "\n".join(lines)


def _bounds_section(bounds: dict[str, tuple[float, float | None]]) -> list[str]:
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


def _aggregate_section(
    normalised: dict[str, np.ndarray], envs: list[str], reps: int, target: pathlib.Path, files: list[pathlib.Path]
) -> list[str]:
    from rliable import plot_utils

    estimates = stats.aggregate_estimates(normalised, reps=reps)
    runs = next(iter(normalised.values())).shape[0]
    lines = [
        "## Across envs (normalised scores)",
        "",
        f"Over the envs every agent ran that have a threshold: {', '.join(envs)} ({runs} runs each).",
        "",
        "| agent | IQM [95% CI] | mean [95% CI] | median [95% CI] |",
        "|---|---:|---:|---:|",
    ]
    for label, estimate in estimates.items():
        cells = [f"{estimate.point[i]:.2f} [{estimate.low[i]:.2f}, {estimate.high[i]:.2f}]" for i in range(3)]
        lines.append(f"| {label} | {' | '.join(cells)} |")
    plt = _pyplot()
    labels = list(normalised)
    figure, _ = plot_utils.plot_interval_estimates(
        {k: e.point for k, e in estimates.items()},
        {k: np.stack([e.low, e.high]) for k, e in estimates.items()},
        metric_names=["IQM", "Mean", "Median"],
        algorithms=labels,
        xlabel="Normalised score",
    )
    files.append(_save_figure(figure, target / "aggregate.png"))
    plt.close(figure)

    profiles = stats.performance_profiles(normalised, TAUS, reps=reps)
    figure, axes = plt.subplots(figsize=(7, 4.5))
    plot_utils.plot_performance_profiles(
        {k: e.point for k, e in profiles.items()},
        TAUS,
        performance_profile_cis={k: np.stack([e.low, e.high]) for k, e in profiles.items()},
        colors=_colors(labels),
        xlabel=r"Normalised score ($\tau$)",
        ax=axes,
    )
    axes.legend(labels, loc="upper right")
    files.append(_save_figure(figure, target / "performance_profile.png"))
    plt.close(figure)
    lines += [
        "",
        "![aggregate](aggregate.png)",
        "",
        "Performance profiles: the fraction of runs scoring above each normalised score.",
        "",
        "![performance profiles](performance_profile.png)",
        "",
    ]
    return lines


def _improvement_section(
    cells: dict[tuple[str, str], _Cell], labels: list[str], reps: int, target: pathlib.Path, files: list[pathlib.Path]
) -> list[str]:
    """P(X > Y) per pair over the envs both ran (raw scores: it compares runs within each env)."""
    from rliable import plot_utils

    lines = [
        "## Probability of improvement",
        "",
        "P(X > Y): the chance that a run of X beats a run of Y on an env, averaged over the envs both ran.",
        "",
        "| X | Y | envs | P(X > Y) [95% CI] |",
        "|---|---|---|---:|",
    ]
    points, intervals = {}, {}
    for x, y in itertools.combinations(labels, 2):
        shared = sorted(env for (label, env) in cells if label == x and (y, env) in cells)
        if not shared:
            continue
        runs = _equal_runs([cells[name, env].finals for name in (x, y) for env in shared])
        pair_scores = {name: np.array([cells[name, env].finals[:runs] for env in shared], dtype=float).T for name in (x, y)}
        estimate = stats.improvement_probabilities(pair_scores, [(x, y)], reps=reps)[x, y]
        point, low, high = (float(np.ravel(a)[0]) for a in (estimate.point, estimate.low, estimate.high))
        points[f"{x},{y}"] = point
        intervals[f"{x},{y}"] = np.array([low, high])
        lines.append(f"| {x} | {y} | {len(shared)} | {point:.2f} [{low:.2f}, {high:.2f}] |")
    if points:
        plt = _pyplot()
        figure = plot_utils.plot_probability_of_improvement(points, intervals, figsize=(5, 1 + 0.6 * len(points)))
        figure = figure.figure if hasattr(figure, "figure") and not hasattr(figure, "savefig") else figure
        files.append(_save_figure(figure, target / "probability_of_improvement.png"))
        plt.close(figure)
        lines += ["", "![probability of improvement](probability_of_improvement.png)"]
    return [*lines, ""]


def _curves_section(
    cells: dict[tuple[str, str], _Cell], labels: list[str], envs: list[str], reps: int, target: pathlib.Path, files: list[pathlib.Path]
) -> list[str]:
    """Per env, each label's IQM learning curve with its CI band, over timesteps."""
    grids: dict[tuple[str, str], np.ndarray] = {}
    arrays: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for (label, env), cell in cells.items():
        curves = [c for c in cell.curves if c]
        if not curves:
            continue
        first = max(c[0][0] for c in curves)
        last = min(c[-1][0] for c in curves)
        grid = np.linspace(first, max(first, last), CURVE_POINTS)
        grids[label, env] = grid
        arrays[label][env] = np.array([np.interp(grid, [p[0] for p in c], [p[1] for p in c]) for c in curves])
    if not grids:
        return []
    # One rliable call per label and run count: each env is a task of the (runs x envs x points) array.
    batches: dict[str, tuple[str, list[str]]] = {}
    for label, by_env in arrays.items():
        by_count: dict[int, list[str]] = defaultdict(list)
        for env, array in by_env.items():
            by_count[array.shape[0]].append(env)
        for count, group in by_count.items():
            batches[f"{label}\x00{count}"] = (label, sorted(group))
    estimates = stats.curve_estimates(
        {key: np.stack([arrays[label][env] for env in group], axis=1) for key, (label, group) in batches.items()}, reps=reps
    )

    plt = _pyplot()
    columns = min(3, len(envs))
    rows = -(-len(envs) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3.2 * rows), squeeze=False)
    colors = _colors(labels)
    for key, (label, group) in batches.items():
        estimate = estimates[key]
        for index, env in enumerate(group):
            ax = axes.flat[envs.index(env)]
            grid = grids[label, env]
            ax.plot(grid, estimate.point[index], color=colors[label], label=label)
            ax.fill_between(grid, estimate.low[index], estimate.high[index], color=colors[label], alpha=0.2)
    for index, ax in enumerate(axes.flat):
        if index >= len(envs):
            ax.set_visible(False)
            continue
        ax.set_title(envs[index], fontsize=10)
        ax.set_xlabel("timestep")
        ax.set_ylabel("greedy return (IQM)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8, loc="best")
    figure.tight_layout()
    files.append(_save_figure(figure, target / "sample_efficiency.png"))
    plt.close(figure)
    return [
        "## Sample efficiency",
        "",
        f"The periodic greedy evaluations during training, resampled to {CURVE_POINTS} points per run; "
        "IQM across seeds with its 95% CI band.",
        "",
        "![sample efficiency](sample_efficiency.png)",
        "",
    ]


# -- files -----------------------------------------------------------------------------------


def _write_text(path: pathlib.Path, text: str) -> pathlib.Path:
    with atomic_write(path) as handle:
        handle.write(text.encode())
    return path


def _write_cells_csv(
    path: pathlib.Path,
    cells: dict[tuple[str, str], _Cell],
    per_cell: dict[tuple[str, str], stats.Estimate],
    bounds: dict[str, tuple[float, float | None]],
) -> pathlib.Path:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    header = ["agent", "env", "seeds"]
    for name in stats.STATISTICS:
        header += [name.lower(), f"{name.lower()}_low", f"{name.lower()}_high"]
    writer.writerow([*header, "random", "solved"])
    for (label, env), cell in sorted(cells.items()):
        estimate = per_cell[label, env]
        values = [f"{v:.6g}" for i in range(len(stats.STATISTICS)) for v in (estimate.point[i], estimate.low[i], estimate.high[i])]
        low, high = bounds[env]
        writer.writerow([label, env, len(cell.finals), *values, f"{low:.6g}", "" if high is None else f"{high:.6g}"])
    return _write_text(path, text.getvalue())


def _write_runs_csv(path: pathlib.Path, done: list[dict[str, Any]]) -> pathlib.Path:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(
        ["run_id", "agent", "label", "preset", "env", "seed", "num_timesteps", "final_mean", "final_std", "train_seconds", "eval_seconds"]
    )
    for row in done:
        writer.writerow(
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
            ]
        )
    return _write_text(path, text.getvalue())


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colors(labels: list[str]) -> dict[str, Any]:
    import seaborn as sns

    return dict(zip(labels, sns.color_palette("colorblind", len(labels)), strict=True))


def _save_figure(figure: Any, path: pathlib.Path) -> pathlib.Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    with atomic_write(path) as handle:
        handle.write(buffer.getvalue())
    return path
