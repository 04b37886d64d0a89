"""``rlzoo report``: a sweep's results as rliable statistics, in Markdown with PNGs and CSVs (and HTML with ``html=True``).

This module orchestrates; the work is in :mod:`~rlzoo.experiments.cells` (the runs grouped
by (agent, env), and their statistics), :mod:`~rlzoo.experiments.tables` (Markdown and CSV
text), :mod:`~rlzoo.experiments.figures` (the PNGs) and :mod:`~rlzoo.experiments.html` (``report.html``).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from rlzoo import checks, display
from rlzoo.errors import ArgumentError, RLZooError
from rlzoo.experiments import cells, csv_files, figures, matrix, stats, tables
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
    left_out: the finished runs no statistic could use (a NaN, inf or text score...), ``"run_id: why"`` each.

    In a notebook it shows its tables and figures inline; :meth:`to_dataframe` gives the
    per-(agent, env) scores as a pandas DataFrame.
    """

    markdown: pathlib.Path
    table: str
    files: tuple[pathlib.Path, ...]
    html: pathlib.Path | None = None
    left_out: tuple[str, ...] = ()

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
    notes: str | os.PathLike[str] | None = None,
    readme: str | os.PathLike[str] | None = None,
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
        Bootstrap resamples per estimate, 1 to :data:`~rlzoo.experiments.stats.MAX_REPS`
        (seeded: the same results give the same report). On big sweeps each bootstrap is cut
        to :data:`~rlzoo.experiments.stats.MAX_RESAMPLED` resampled scores (at least
        :data:`~rlzoo.experiments.stats.MIN_REPS` resamples), which bounds time and memory.
    agents, envs:
        Report only these agents (their report names: the grid's ``label`` where it gave
        one) and envs; ``None`` for all. The aggregate across envs only covers envs every
        reported agent ran, so a grid whose agents ran different envs reads best as one
        report per group.
    html:
        Also write ``report.html``: the same report in one self-contained file, with sortable
        tables and interactive figures (:mod:`rlzoo.experiments.html`; the report extra).
    notes:
        A YAML file of footnotes for the zoo matrix's marked cells, ``{agent label: {env:
        text}}``: a cell under 90% of its env's threshold says its best attempt and why
        (:mod:`rlzoo.experiments.matrix`).
    readme:
        A Markdown file with the matrix's two marker lines: the zoo matrix is written
        between them.

    Returns
    -------
    Report
    """
    reps = stats.check_reps(reps)
    if not isinstance(results_dir, (str, os.PathLike)) or not os.fspath(results_dir):
        raise ArgumentError(f"results_dir must be the path of a directory written by rlzoo sweep, got {checks.shown(results_dir)}")
    footnotes = matrix.load_notes(notes) if notes is not None else {}
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
    per_cell_last = cells.per_cell_estimates(cells.last_weights_cells(grouped), labels, reps)

    table = tables.cell_table(grouped, per_cell, bounds, per_cell_last)
    zoo = matrix.matrix_table(grouped, per_cell, per_cell_last, bounds, footnotes)
    lines = [*tables.header(results, rows, done, reps), *tables.left_out_section(left_out)]
    lines += ["## The zoo matrix", "", *zoo, "", *tables.cell_section(table, grouped)]
    lines += [*tables.settings_section(done), *tables.bounds_section(bounds)]
    files = [
        _write_text(target / "scores.csv", csv_files.scores_csv(grouped, per_cell, bounds)),
        _write_text(target / "runs.csv", csv_files.runs_csv(done)),
    ]

    common = [env for env in env_ids if bounds[env][1] is not None and all((label, env) in grouped for label in labels)]
    normalised = cells.normalised(grouped, labels, common, bounds)
    drawn = report_html.Statistics(grouped, labels, env_ids)
    runs = next(iter(normalised.values())).shape[0] if normalised else 0
    if normalised and runs >= cells.MIN_SEEDS_FOR_CI and len(labels) <= cells.MAX_COMPARED:
        aggregate_reps = stats.bounded_reps(reps, len(labels) * runs * len(common))
        estimates = stats.aggregate_estimates(normalised, reps=aggregate_reps)
        lines += tables.aggregate_section(estimates, common, runs)
        files.append(figures.save(figures.aggregate(estimates), target / "aggregate.png"))
        profile_reps = stats.bounded_reps(aggregate_reps, len(labels) * runs * len(common) * len(TAUS) // 8)
        profiles = stats.performance_profiles(normalised, TAUS, reps=profile_reps)
        files.append(figures.save(figures.performance_profiles(profiles, TAUS), target / "performance_profile.png"))
        drawn = dataclasses.replace(drawn, estimates=estimates, profiles=profiles, taus=TAUS)
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
        drawn = dataclasses.replace(drawn, pairs=pairs)
    curves = cells.learning_curves(grouped, reps) if len(labels) <= cells.MAX_COMPARED else {}
    if curves:
        lines += tables.curves_section()
        files.append(figures.save(figures.sample_efficiency(curves, labels, env_ids), target / "sample_efficiency.png"))
        drawn = dataclasses.replace(drawn, curves=curves)

    markdown = _write_text(target / "report.md", "\n".join(lines) + "\n")
    if readme is not None:
        source = f"Written by `rlzoo report` from {len(done)} finished runs in `{results}` ({target / 'report.md'} has the rest)."
        files.append(matrix.write_readme(readme, zoo, source))
    page = report_html.write(target / "report.html", lines, drawn) if html else None
    left_out_notes = tuple(f"{row.get('run_id')}: {reason}" for row, reason in left_out)
    return Report(markdown, table, (markdown, *files, *([page] if page else [])), page, left_out_notes)


def _write_text(path: pathlib.Path, text: str) -> pathlib.Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_write(path) as handle:
        handle.write(text.encode())
    return path
