"""``rlzoo report``: a sweep's results as rliable statistics, in Markdown with PNGs and CSVs (and HTML with ``html=True``).

This module orchestrates; the work is in :mod:`~rlzoo.experiments.cells` (the runs grouped
by (agent, env), and their statistics), :mod:`~rlzoo.experiments.tables` (Markdown and CSV
text), :mod:`~rlzoo.experiments.figures` (the PNGs) and :mod:`~rlzoo.experiments.html` (``report.html``).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from rlzoo import display
from rlzoo.errors import RLZooError
from rlzoo.experiments import cells, figures, stats, tables
from rlzoo.experiments import html as report_html
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
    html: ``report.html``, where it was asked for.

    In a notebook it shows its tables and figures inline; :meth:`to_dataframe` gives the
    per-(agent, env) scores as a pandas DataFrame.
    """

    markdown: pathlib.Path
    table: str
    files: tuple[pathlib.Path, ...]
    html: pathlib.Path | None = None

    def to_dataframe(self) -> Any:
        """The per-(agent, env) scores (``scores.csv``) as a pandas DataFrame, one row per (agent, env)."""
        import pandas as pd  # pandas comes with the experiments extra

        return pd.read_csv(self.markdown.parent / "scores.csv")

    def __repr__(self) -> str:
        return f"<Report {str(self.markdown.parent)!r}: {len(self.files)} files>\n{self.table}"

    def _repr_html_(self) -> str:
        """The scores table and every figure, inline (the PNGs embedded), with links to the files."""
        return display.report_html(self.to_dataframe(), [f for f in self.files if f.suffix == ".png"], self.markdown, self.html)


def report(
    results_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    reps: int = stats.DEFAULT_REPS,
    agents: Sequence[str] | None = None,
    envs: Sequence[str] | None = None,
    html: bool = False,
) -> Report:
    """Write the statistics of a sweep's finished runs: ``report.md``, PNGs and CSVs (and ``report.html``).

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
    html:
        Also write ``report.html``: the same report in one self-contained file, with sortable
        tables and interactive figures (:mod:`rlzoo.experiments.html`; the report extra).

    Returns
    -------
    Report
    """
    results = pathlib.Path(results_dir)
    if not (results / INDEX_FILE).is_file():
        raise RLZooError(f"{str(results)!r} has no {INDEX_FILE}: give a directory written by `rlzoo sweep --out DIR`")
    with Store(results) as store:
        rows = store.rows()
    rows = cells.select(cells.select(rows, "agents", "label", agents), "envs", "env", envs)
    done = [row for row in rows if row["status"] == "done"]
    if not done:
        raise RLZooError(f"{str(results)!r} has no finished run yet ({len(rows)} in the index): run `rlzoo sweep` first")
    target = pathlib.Path(out) if out is not None else results / "report"
    target.mkdir(parents=True, exist_ok=True)

    grouped = cells.group(done)
    labels = sorted({label for label, _ in grouped})
    env_ids = sorted({env for _, env in grouped})
    bounds = {env: (random_score(env), solved_score(env)) for env in env_ids}
    per_cell = cells.per_cell_estimates(grouped, labels, reps)

    table = tables.cell_table(grouped, per_cell, bounds)
    lines = [
        *tables.header(results, rows, done),
        *tables.cell_section(table),
        *tables.settings_section(done),
        *tables.bounds_section(bounds),
    ]
    files = [
        _write_text(target / "scores.csv", tables.scores_csv(grouped, per_cell, bounds)),
        _write_text(target / "runs.csv", tables.runs_csv(done)),
    ]

    common = [env for env in env_ids if bounds[env][1] is not None and all((label, env) in grouped for label in labels)]
    normalised = cells.normalised(grouped, labels, common, bounds)
    drawn = report_html.Statistics(grouped, labels, env_ids)
    if normalised:
        estimates = stats.aggregate_estimates(normalised, reps=reps)
        runs = next(iter(normalised.values())).shape[0]
        lines += tables.aggregate_section(estimates, common, runs)
        files.append(figures.save(figures.aggregate(estimates), target / "aggregate.png"))
        profiles = stats.performance_profiles(normalised, TAUS, reps=reps)
        files.append(figures.save(figures.performance_profiles(profiles, TAUS), target / "performance_profile.png"))
        drawn = dataclasses.replace(drawn, estimates=estimates, profiles=profiles, taus=TAUS)
    else:
        lines += tables.no_aggregate_section()
    if len(labels) > 1:
        pairs = cells.improvements(grouped, labels, reps)
        lines += tables.improvement_section(pairs)
        if pairs:
            files.append(figures.save(figures.improvement(pairs), target / "probability_of_improvement.png"))
        drawn = dataclasses.replace(drawn, pairs=pairs)
    curves = cells.learning_curves(grouped, reps)
    if curves:
        lines += tables.curves_section()
        files.append(figures.save(figures.sample_efficiency(curves, labels, env_ids), target / "sample_efficiency.png"))
        drawn = dataclasses.replace(drawn, curves=curves)

    markdown = _write_text(target / "report.md", "\n".join(lines) + "\n")
    page = report_html.write(target / "report.html", lines, drawn) if html else None
    return Report(markdown, table, (markdown, *files, *([page] if page else [])), page)


def _write_text(path: pathlib.Path, text: str) -> pathlib.Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_write(path) as handle:
        handle.write(text.encode())
    return path
