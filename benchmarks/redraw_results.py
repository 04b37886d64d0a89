"""Redraw the committed results' figures and write their report.html, from the committed runs.csv files.

    python benchmarks/redraw_results.py            # every folder of benchmarks/results/

``make bench`` writes a results folder's report from the sweep's index (``runs/bench/index.sqlite``),
which is not committed; each report's ``runs.csv`` is, with every run's final greedy score. From
those scores this script recomputes what depends on them alone, with the same functions ``rlzoo
report`` uses (:mod:`rlzoo.experiments`): the "Across envs" section of ``report.md`` (whose median
is now the median of every run's normalised score), ``aggregate.png``, ``performance_profile.png``
and ``probability_of_improvement.png``, and writes ``report.html`` from the resulting report.md.
The per-(agent, env) tables and ``sample_efficiency.png`` need the runs' learning curves, which
only the index holds: they are kept as ``make bench`` wrote them (``sample_efficiency.png``
stays an image in report.html). The next ``make bench`` rewrites all of it from the index.
"""

from __future__ import annotations

import csv
import pathlib
import sys

from rlzoo.experiments import cells, figures, html, stats, tables
from rlzoo.experiments.bounds import random_score, solved_score
from rlzoo.experiments.report import TAUS

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def redraw(folder: pathlib.Path, reps: int = stats.DEFAULT_REPS) -> None:
    with open(folder / "runs.csv", newline="") as handle:
        done = [
            {"label": row["label"], "env": row["env"], "seed": int(row["seed"]), "final_mean": float(row["final_mean"]), "curve": []}
            for row in csv.DictReader(handle)
        ]
    grouped = cells.group(done)
    labels = sorted({label for label, _ in grouped})
    envs = sorted({env for _, env in grouped})
    bounds = {env: (random_score(env), solved_score(env)) for env in envs}
    common = [env for env in envs if bounds[env][1] is not None and all((label, env) in grouped for label in labels)]
    normalised = cells.normalised(grouped, labels, common, bounds)
    estimates = stats.aggregate_estimates(normalised, reps=reps)
    profiles = stats.performance_profiles(normalised, TAUS, reps=reps)
    pairs = cells.improvements(grouped, labels, reps)
    runs = next(iter(normalised.values())).shape[0]
    figures.save(figures.aggregate(estimates), folder / "aggregate.png")
    figures.save(figures.performance_profiles(profiles, TAUS), folder / "performance_profile.png")
    figures.save(figures.improvement(pairs), folder / "probability_of_improvement.png")

    lines = (folder / "report.md").read_text().split("\n")
    start = lines.index("## Across envs (normalised scores)")
    end = lines.index("## Probability of improvement")
    lines[start:end] = tables.aggregate_section(estimates, common, runs)
    (folder / "report.md").write_text("\n".join(lines))
    statistics = html.Statistics(grouped, labels, envs, estimates=estimates, profiles=profiles, taus=TAUS, pairs=pairs)
    html.write(folder / "report.html", lines, statistics)


def main() -> None:
    folders = [pathlib.Path(p) for p in sys.argv[1:]] or sorted(p for p in RESULTS.iterdir() if (p / "runs.csv").is_file())
    for folder in folders:
        redraw(folder)
        print(f"{folder}: report.md (across envs), aggregate.png, performance_profile.png, probability_of_improvement.png, report.html")


if __name__ == "__main__":
    main()
