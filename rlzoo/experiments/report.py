"""``rlzoo report``: a sweep's results as rliable statistics, in Markdown with PNGs and CSVs.

This module orchestrates; the work is in :mod:`~rlzoo.experiments.cells` (the runs grouped
by (agent, env), and their statistics), :mod:`~rlzoo.experiments.tables` (Markdown and CSV
text) and :mod:`~rlzoo.experiments.figures` (the PNGs).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import tempfile
from collections.abc import Sequence

import numpy as np

from rlzoo import checks
from rlzoo.errors import ArgumentError, RLZooError
from rlzoo.experiments import cells, figures, stats, tables
from rlzoo.experiments.bounds import random_score, solved_score
from rlzoo.experiments.store import INDEX_FILE, Store
from rlzoo.files import atomic_write

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
    left_out: the finished runs no statistic could use (a NaN, inf or text score...), ``"run_id: why"`` each.
    """

    markdown: pathlib.Path
    table: str
    files: tuple[pathlib.Path, ...]
    left_out: tuple[str, ...] = ()


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
        Bootstrap resamples per estimate, 1 to :data:`~rlzoo.experiments.stats.MAX_REPS`
        (seeded: the same results give the same report). On big sweeps each bootstrap is cut
        to :data:`~rlzoo.experiments.stats.MAX_RESAMPLED` resampled scores (at least
        :data:`~rlzoo.experiments.stats.MIN_REPS` resamples), which bounds time and memory.
    agents, envs:
        Report only these agents (their report names: the grid's ``label`` where it gave
        one) and envs; ``None`` for all. The aggregate across envs only covers envs every
        reported agent ran, so a grid whose agents ran different envs reads best as one
        report per group.

    Returns
    -------
    Report
    """
    reps = stats.check_reps(reps)
    if not isinstance(results_dir, (str, os.PathLike)) or not os.fspath(results_dir):
        raise ArgumentError(f"results_dir must be the path of a directory written by rlzoo sweep, got {checks.shown(results_dir)}")
    results = pathlib.Path(results_dir)
    if not (results / INDEX_FILE).exists():
        raise RLZooError(f"{str(results)!r} has no {INDEX_FILE}: give a directory written by `rlzoo sweep --out DIR`")
    with Store(results, read_only=True) as store:
        rows = store.rows(returns=False)
    rows = cells.select(cells.select(rows, "agents", "label", agents), "envs", "env", envs)
    finished = [row for row in rows if row["status"] == "done"]
    done, left_out = cells.usable(finished)
    if not done:
        why = f", and {len(left_out)} finished ones hold no usable score" if left_out else ""
        raise RLZooError(f"{str(results)!r} has no finished run to report ({len(rows)} in the index{why}): run `rlzoo sweep` first")
    target = pathlib.Path(out) if out is not None else results / "report"
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target, prefix=".rlzoo-write-test."):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise RLZooError(f"cannot write the report to {str(target)!r} ({reason}): give --out a folder you can write to") from None

    grouped = cells.group(done)
    labels = sorted({label for label, _ in grouped})
    env_ids = sorted({env for _, env in grouped})
    bounds = {env: (random_score(env), solved_score(env)) for env in env_ids}
    per_cell = cells.per_cell_estimates(grouped, labels, reps)

    table = tables.cell_table(grouped, per_cell, bounds)
    lines = [*tables.header(results, rows, done, reps), *tables.left_out_section(left_out), *tables.cell_section(table, grouped)]
    lines += tables.bounds_section(bounds)
    files = [
        _write_text(target / "scores.csv", tables.scores_csv(grouped, per_cell, bounds)),
        _write_text(target / "runs.csv", tables.runs_csv(done)),
    ]

    common = [env for env in env_ids if bounds[env][1] is not None and all((label, env) in grouped for label in labels)]
    normalised = cells.normalised(grouped, labels, common, bounds)
    runs = next(iter(normalised.values())).shape[0] if normalised else 0
    if normalised and runs >= cells.MIN_SEEDS_FOR_CI and len(labels) <= cells.MAX_COMPARED:
        aggregate_reps = stats.bounded_reps(reps, len(labels) * runs * len(common))
        estimates = stats.aggregate_estimates(normalised, reps=aggregate_reps)
        lines += tables.aggregate_section(estimates, common, runs)
        files.append(figures.save(figures.aggregate(estimates), target / "aggregate.png"))
        profile_reps = stats.bounded_reps(aggregate_reps, len(labels) * runs * len(common) * len(TAUS) // 8)
        profiles = stats.performance_profiles(normalised, TAUS, reps=profile_reps)
        files.append(figures.save(figures.performance_profiles(profiles, TAUS), target / "performance_profile.png"))
    elif normalised and len(labels) > cells.MAX_COMPARED:
        many = f"{len(labels)} agents are more than the {cells.MAX_COMPARED} one figure compares; give --agents"
        lines += tables.no_aggregate_section(many)
    elif normalised:
        few = f"The envs every agent ran have {runs} run each; an interval needs at least {cells.MIN_SEEDS_FOR_CI}"
        lines += tables.no_aggregate_section(few)
    else:
        lines += tables.no_aggregate_section()
    if len(labels) > 1:
        pairs = cells.improvements(grouped, labels, reps)
        lines += tables.improvement_section(pairs, len(labels))
        if pairs:
            files.append(figures.save(figures.improvement(pairs), target / "probability_of_improvement.png"))
    curves = cells.learning_curves(grouped, reps) if len(labels) <= cells.MAX_COMPARED else {}
    if curves:
        lines += tables.curves_section()
        files.append(figures.save(figures.sample_efficiency(curves, labels, env_ids), target / "sample_efficiency.png"))

    markdown = _write_text(target / "report.md", "\n".join(lines) + "\n")
    notes = tuple(f"{row.get('run_id')}: {reason}" for row, reason in left_out)
    return Report(markdown, table, (markdown, *files), notes)


def _write_text(path: pathlib.Path, text: str) -> pathlib.Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_write(path) as handle:
        handle.write(text.encode())
    return path
