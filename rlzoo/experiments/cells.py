"""A sweep's finished runs grouped into cells, one per (agent label, env), and the statistics of the cells.

The grouping is the report's data model: each cell holds its runs' final greedy scores and
learning curves by seed. The functions here turn cells into rliable's shape
(``{name: array (runs x tasks)}``) and call :mod:`rlzoo.experiments.stats`; they draw
nothing and write nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from rlzoo.errors import RLZooError
from rlzoo.experiments import stats

#: Points of each resampled learning curve.
CURVE_POINTS = 11

#: ``{env: (random score, solved score or None)}``: the normalisation bounds.
Bounds = dict[str, tuple[float, float | None]]


@dataclasses.dataclass
class Cell:
    """The finished runs of one (label, env), by seed.

    Attributes
    ----------
    seeds: the runs' seeds, ascending.
    finals: each run's final greedy score (the mean return over the final evaluation).
    curves: each run's periodic greedy evaluations, ``(timestep, mean, std)``; empty where it had none.
    """

    seeds: list[int] = dataclasses.field(default_factory=list)
    finals: list[float] = dataclasses.field(default_factory=list)
    curves: list[list[tuple[int, float, float]]] = dataclasses.field(default_factory=list)


#: ``{(label, env): Cell}``.
Cells = dict[tuple[str, str], Cell]


@dataclasses.dataclass(frozen=True)
class Improvement:
    """P(X > Y) over the envs both agents ran, with its 95% interval.

    Attributes
    ----------
    x, y: the two labels.
    envs: how many envs both ran.
    point, low, high: the estimate and its interval.
    """

    x: str
    y: str
    envs: int
    point: float
    low: float
    high: float


@dataclasses.dataclass(frozen=True)
class Curve:
    """One cell's IQM learning curve across seeds, with its 95% band.

    Attributes
    ----------
    grid: the timesteps (:data:`CURVE_POINTS` of them).
    point, low, high: the IQM greedy return at each timestep and its interval.
    """

    grid: np.ndarray
    point: np.ndarray
    low: np.ndarray
    high: np.ndarray


def select(rows: list[dict[str, Any]], what: str, column: str, wanted: Sequence[str] | None) -> list[dict[str, Any]]:
    """The index rows whose ``column`` is one of ``wanted``.

    Parameters
    ----------
    rows:
        Rows of the sweep's index.
    what:
        What the names are, for the error (``"agents"``, ``"envs"``).
    column:
        The column the names are matched against.
    wanted:
        The names to keep; ``None`` keeps every row.

    Returns
    -------
    list[dict[str, Any]]

    Raises
    ------
    RLZooError
        A name no row has, or an empty ``wanted``; the message lists the names there are.
    """
    if wanted is None:
        return rows
    present = sorted({row[column] for row in rows})
    unknown = [name for name in wanted if name not in present]
    if unknown or not wanted:
        raise RLZooError(f"{what} {unknown or list(wanted)}: not among the sweep's {what}; they are {', '.join(present)}")
    return [row for row in rows if row[column] in wanted]


def group(done: list[dict[str, Any]]) -> Cells:
    """The finished runs as cells, each cell's runs in seed order.

    Parameters
    ----------
    done:
        Index rows of finished runs.

    Returns
    -------
    Cells
        In (label, env) order.
    """
    cells: Cells = defaultdict(Cell)
    for row in sorted(done, key=lambda r: (r["label"], r["env"], r["seed"])):
        cell = cells[row["label"], row["env"]]
        cell.seeds.append(row["seed"])
        cell.finals.append(row["final_mean"])
        cell.curves.append([tuple(point) for point in row["curve"] or []])
    return cells


def equal_runs(finals: Sequence[Sequence[float]]) -> int:
    """Runs per task for a (runs x tasks) array: the fewest any task has (failed runs leave gaps)."""
    return min(len(f) for f in finals)


def per_cell_estimates(cells: Cells, labels: list[str], reps: int) -> dict[tuple[str, str], stats.Estimate]:
    """IQM, mean and median of each cell's final scores: one rliable call for all, each env a task of its label's array.

    Envs with a different number of finished runs go in separate arrays (an array has one
    runs axis).

    Parameters
    ----------
    cells:
        The cells.
    labels:
        Every label of ``cells``, sorted.
    reps:
        Bootstrap resamples.

    Returns
    -------
    dict[tuple[str, str], stats.Estimate]
        Per (label, env), arrays of shape ``(3,)`` in :data:`stats.STATISTICS` order.
    """
    groups: dict[str, list[str]] = {}
    for label in labels:
        by_count: dict[int, list[str]] = defaultdict(list)
        for (cell_label, env), cell in cells.items():
            if cell_label == label:
                by_count[len(cell.finals)].append(env)
        for count, envs in by_count.items():
            groups[f"{label}\x00{count}"] = sorted(envs)
    scores = {key: np.array([cells[key.split("\x00")[0], env].finals for env in envs], dtype=float).T for key, envs in groups.items()}
    estimates = stats.per_task_estimates(scores, reps=reps)
    result = {}
    for key, envs in groups.items():
        estimate = estimates[key]
        for index, env in enumerate(envs):
            result[key.split("\x00")[0], env] = stats.Estimate(estimate.point[:, index], estimate.low[:, index], estimate.high[:, index])
    return result


def normalised(cells: Cells, labels: list[str], envs: list[str], bounds: Bounds) -> dict[str, np.ndarray]:
    """Normalised final scores: 0 = the random policy, 1 = the env's threshold.

    Parameters
    ----------
    cells:
        The cells.
    labels:
        The labels to include; each must have a cell on every env of ``envs``.
    envs:
        Envs with a solved score in ``bounds``.
    bounds:
        The normalisation bounds.

    Returns
    -------
    dict[str, np.ndarray]
        ``{label: (runs x envs)}``, runs cut to the fewest any cell has; empty without envs.
    """
    if not envs:
        return {}
    runs = equal_runs([cells[label, env].finals for label in labels for env in envs])
    result = {}
    for label in labels:
        columns = []
        for env in envs:
            low, high = bounds[env]
            assert high is not None
            columns.append((np.array(cells[label, env].finals[:runs]) - low) / (high - low))
        result[label] = np.stack(columns, axis=1)
    return result


def improvements(cells: Cells, labels: list[str], reps: int) -> list[Improvement]:
    """P(X > Y) for each pair of labels, over the envs both ran (raw scores: it compares runs within each env).

    Parameters
    ----------
    cells:
        The cells.
    labels:
        The labels, sorted; pairs follow their order.
    reps:
        Bootstrap resamples.

    Returns
    -------
    list[Improvement]
        One per pair that shares an env.
    """
    result = []
    for x, y in itertools.combinations(labels, 2):
        shared = sorted(env for (label, env) in cells if label == x and (y, env) in cells)
        if not shared:
            continue
        runs = equal_runs([cells[name, env].finals for name in (x, y) for env in shared])
        pair_scores = {name: np.array([cells[name, env].finals[:runs] for env in shared], dtype=float).T for name in (x, y)}
        estimate = stats.improvement_probabilities(pair_scores, [(x, y)], reps=reps)[x, y]
        point, low, high = (float(np.ravel(a)[0]) for a in (estimate.point, estimate.low, estimate.high))
        result.append(Improvement(x, y, len(shared), point, low, high))
    return result


def learning_curves(cells: Cells, reps: int) -> dict[tuple[str, str], Curve]:
    """Each cell's IQM learning curve with its CI band, the runs resampled to :data:`CURVE_POINTS` timesteps.

    The grid spans the timesteps every run of the cell evaluated at; runs without
    evaluations are left out, and so are cells without any.

    Parameters
    ----------
    cells:
        The cells.
    reps:
        Bootstrap resamples.

    Returns
    -------
    dict[tuple[str, str], Curve]
        Per (label, env), in the order they are computed (each label's envs grouped by run count).
    """
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
    # One rliable call per label and run count: each env is a task of the (runs x envs x points) array.
    batches: dict[str, tuple[str, list[str]]] = {}
    for label, by_env in arrays.items():
        by_count: dict[int, list[str]] = defaultdict(list)
        for env, array in by_env.items():
            by_count[array.shape[0]].append(env)
        for count, envs in by_count.items():
            batches[f"{label}\x00{count}"] = (label, sorted(envs))
    if not batches:
        return {}
    estimates = stats.curve_estimates(
        {key: np.stack([arrays[label][env] for env in envs], axis=1) for key, (label, envs) in batches.items()}, reps=reps
    )
    result = {}
    for key, (label, envs) in batches.items():
        estimate = estimates[key]
        for index, env in enumerate(envs):
            result[label, env] = Curve(grids[label, env], estimate.point[index], estimate.low[index], estimate.high[index])
    return result
