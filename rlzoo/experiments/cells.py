"""A sweep's finished runs grouped into cells, one per (agent label, env), and the statistics of the cells.

The grouping is the report's data model: each cell holds its runs' final greedy scores and
learning curves by seed. The functions here turn cells into rliable's shape
(``{name: array (runs x tasks)}``) and call :mod:`rlzoo.experiments.stats`; they draw
nothing and write nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from rlzoo.errors import RLZooError
from rlzoo.experiments import stats

#: Points of each resampled learning curve.
CURVE_POINTS = 11
#: The fewest seeds a cell needs for a confidence interval (one seed gives none: no spread to resample).
MIN_SEEDS_FOR_CI = 2
#: The most labels compared pair by pair (probability of improvement): pairs grow as the square.
MAX_COMPARED = 12

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
    lasts: each run's final greedy score of the weights training ended with (the same
        episodes as ``finals``); NaN where the index has none (runs from before it was recorded).
    """

    seeds: list[int] = dataclasses.field(default_factory=list)
    finals: list[float] = dataclasses.field(default_factory=list)
    curves: list[list[tuple[int, float, float]]] = dataclasses.field(default_factory=list)
    lasts: list[float] = dataclasses.field(default_factory=list)


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
    present = sorted({str(row[column]) for row in rows})
    unknown = [name for name in wanted if name not in present]
    if unknown or not wanted:
        raise RLZooError(f"{what} {unknown or list(wanted)}: not among the sweep's {what}; they are {', '.join(present)}")
    return [row for row in rows if row[column] in wanted]


def usable(done: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
    """Split finished runs into those the statistics can use and those they leave out, with why.

    A run is left out when its score is not a finite number (NaN, inf, text), its seed is
    not an int, or its curve is not a list of ``(timestep, mean, std)`` numbers (a damaged
    or edited index).

    Parameters
    ----------
    done:
        Index rows of finished runs.

    Returns
    -------
    tuple
        ``(usable rows, [(row, reason), ...])``.
    """
    kept, left_out = [], []
    for row in done:
        reason = _problem(row)
        if reason is None:
            kept.append(row)
        else:
            left_out.append((row, reason))
    return kept, left_out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _problem(row: dict[str, Any]) -> str | None:
    """Why a finished run cannot be used, or ``None``."""
    if row.get("problem"):
        return str(row["problem"])
    for key in ("label", "env"):
        if not isinstance(row.get(key), str) or not row[key]:
            return f"its {key} is {_excerpt(row.get(key))}, not a name"
    score = row.get("final_mean")
    if not _is_number(score):
        return f"its score is {_excerpt(score)}, not a finite number"
    if not isinstance(row.get("seed"), int) or isinstance(row.get("seed"), bool):
        return f"its seed is {_excerpt(row.get('seed'))}, not an int"
    curve = row.get("curve") or []
    try:
        points = np.asarray(curve, dtype=float)
    except (TypeError, ValueError):
        points = np.empty((1, 0))
    if not isinstance(curve, list) or (curve and (points.ndim != 2 or points.shape[1] != 3 or not np.isfinite(points).all())):
        return "its learning curve is not a list of [timestep, mean, std] finite numbers"
    if np.any(np.diff(points[:, 0]) <= 0) if curve else False:
        return "its learning curve's timesteps do not increase"
    return None


def _excerpt(value: Any) -> str:
    """A short, escaped excerpt of an untrusted value for a message."""
    text = ascii(value)
    return text if len(text) <= 40 else text[:37] + "..."


def group(done: list[dict[str, Any]]) -> Cells:
    """The finished runs as cells, each cell's runs in seed order.

    Parameters
    ----------
    done:
        Usable index rows of finished runs (see :func:`usable`).

    Returns
    -------
    Cells
        In (label, env) order.
    """
    cells: Cells = defaultdict(Cell)
    for row in sorted(done, key=lambda r: (r["label"], r["env"], r["seed"])):
        cell = cells[row["label"], row["env"]]
        cell.seeds.append(row["seed"])
        cell.finals.append(float(row["final_mean"]))
        cell.curves.append([tuple(point) for point in row["curve"] or []])
        last = row.get("last_weights_mean")
        cell.lasts.append(float(last) if isinstance(last, (int, float)) and _is_number(last) else math.nan)
    return cells


def last_weights_cells(cells: Cells) -> Cells:
    """The cells whose every run recorded its last weights' score, with those scores as ``finals``."""
    return {
        key: Cell(seeds=list(cell.seeds), finals=list(cell.lasts))
        for key, cell in cells.items()
        if cell.lasts and all(math.isfinite(value) for value in cell.lasts)
    }


def equal_runs(finals: Sequence[Sequence[float]]) -> int:
    """Runs per task for a (runs x tasks) array: the fewest any task has (failed runs leave gaps)."""
    return min(len(f) for f in finals)


def per_cell_estimates(cells: Cells, labels: list[str], reps: int) -> dict[tuple[str, str], stats.Estimate]:
    """IQM, mean and median of each cell's final scores, with CIs: one rliable call per run count.

    Every cell with the same number of runs is a task (a column) of one ``(runs x cells)``
    array, so the cost is one bootstrap per distinct run count, however many agents there
    are; the resamples are cut by :func:`stats.bounded_reps` on big sweeps. A cell with
    fewer than :data:`MIN_SEEDS_FOR_CI` runs gets its point estimates and NaN intervals.

    Parameters
    ----------
    cells:
        The cells.
    labels:
        Every label of ``cells`` (kept for callers; the grouping no longer needs it).
    reps:
        Bootstrap resamples asked for.

    Returns
    -------
    dict[tuple[str, str], stats.Estimate]
        Per (label, env), arrays of shape ``(3,)`` in :data:`stats.STATISTICS` order.
    """
    by_count: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for key in sorted(cells):
        by_count[len(cells[key].finals)].append(key)
    result = {}
    for count, keys in by_count.items():
        scores = np.array([cells[key].finals for key in keys], dtype=float).T
        if count < MIN_SEEDS_FOR_CI:
            point = np.stack([stats.interquartile_mean(scores), np.mean(scores, axis=0), np.median(scores, axis=0)])
            nan = np.full_like(point, np.nan)
            for index, key in enumerate(keys):
                result[key] = stats.Estimate(point[:, index], nan[:, index], nan[:, index])
            continue
        estimate = stats.per_task_estimates({"cells": scores}, reps=stats.bounded_reps(reps, scores.size))["cells"]
        for index, key in enumerate(keys):
            result[key] = stats.Estimate(estimate.point[:, index], estimate.low[:, index], estimate.high[:, index])
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
        One per pair that shares an env and has at least :data:`MIN_SEEDS_FOR_CI` runs on each,
        among the first :data:`MAX_COMPARED` labels.
    """
    result = []
    pairs = list(itertools.combinations(labels[:MAX_COMPARED], 2))
    # One bootstrap per pair, each resample a Python call: the pairs share one budget, each counted as at least 1000 scores.
    scores = sum(max(1000, sum(len(cell.finals) for (label, _), cell in cells.items() if label in pair)) for pair in pairs)
    pair_reps = stats.bounded_reps(reps, scores)
    for x, y in pairs:
        shared = sorted(env for (label, env) in cells if label == x and (y, env) in cells)
        if not shared:
            continue
        runs = equal_runs([cells[name, env].finals for name in (x, y) for env in shared])
        if runs < MIN_SEEDS_FOR_CI:  # no interval from one run a side
            continue
        pair_scores = {name: np.array([cells[name, env].finals[:runs] for env in shared], dtype=float).T for name in (x, y)}
        estimate = stats.improvement_probabilities(pair_scores, [(x, y)], reps=pair_reps)[x, y]
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
        Per (label, env), in the order they are computed (grouped by run count).
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
    # One rliable call per run count: each cell is a task of the (runs x cells x points) array.
    batches: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for label, by_env in arrays.items():
        for env, array in by_env.items():
            batches[array.shape[0]].append((label, env))
    result = {}
    for count, keys in sorted(batches.items()):
        keys.sort()
        stacked = np.stack([arrays[label][env] for label, env in keys], axis=1)
        if count < MIN_SEEDS_FOR_CI:  # one run: its curve, and no band
            point = stats.interquartile_mean(stacked)
            for index, key in enumerate(keys):
                nan = np.full_like(point[index], np.nan)
                result[key] = Curve(grids[key], point[index], nan, nan)
            continue
        estimate = stats.curve_estimates({"cells": stacked}, reps=stats.bounded_reps(reps, stacked.size))["cells"]
        for index, key in enumerate(keys):
            result[key] = Curve(grids[key], estimate.point[index], estimate.low[index], estimate.high[index])
    return result
