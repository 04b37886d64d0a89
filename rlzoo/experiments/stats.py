"""Statistics of a sweep's scores, through rliable: IQM, mean, median and stratified bootstrap CIs.

Scores cross this boundary in rliable's shape, ``{name: array (runs x tasks)}``, so each
statistic is one rliable call, not a re-implementation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from rlzoo import checks
from rlzoo.errors import ArgumentError

#: The bootstrap's seed: the same results give the same intervals.
BOOTSTRAP_SEED = 0
#: Bootstrap resamples per estimate: keeps ``rlzoo report`` on 3 agents x 7 envs x 10 seeds under 30 s.
DEFAULT_REPS = 2000
#: Confidence level of every interval.
CONFIDENCE = 0.95
#: Statistics of :func:`per_task_estimates`, in order.
STATISTICS = ("IQM", "mean", "median")
#: The most bootstrap resamples one may ask for (``--reps``).
MAX_REPS = 100_000
#: The most scores one bootstrap resamples in all (resamples x scores): bounds the report's time
#: (and, as resamples are drawn one at a time, its memory) on big sweeps. A sweep of 3 agents x 7
#: envs x 10 seeds keeps its 2000 resamples; 100,000 runs get 50 (their intervals are narrow anyway).
MAX_RESAMPLED = 2_000_000
#: The fewest resamples a big sweep is cut to.
MIN_REPS = 50


def check_reps(reps: object) -> int:
    """``reps`` checked: an int from 1 to :data:`MAX_REPS` (not a bool).

    Parameters
    ----------
    reps:
        Bootstrap resamples per estimate.

    Returns
    -------
    int

    Raises
    ------
    ArgumentError
        Anything else, saying what is valid.
    """
    if not checks.is_int(reps) or not 1 <= reps <= MAX_REPS:  # type: ignore[operator]
        raise ArgumentError(f"reps must be an int from 1 to {MAX_REPS} (bootstrap resamples per estimate), got {checks.shown(reps)}")
    return int(reps)  # type: ignore[call-overload]


def bounded_reps(reps: int, scores: int) -> int:
    """The resamples a bootstrap over ``scores`` values gets: ``reps``, cut so that resamples x scores
    stays within :data:`MAX_RESAMPLED` (but never below :data:`MIN_REPS`, nor above ``reps``).

    Parameters
    ----------
    reps:
        The resamples asked for.
    scores:
        How many values each resample draws.

    Returns
    -------
    int
    """
    return min(reps, max(MIN_REPS, MAX_RESAMPLED // max(scores, 1)))


@dataclasses.dataclass(frozen=True)
class Estimate:
    """Point estimates with their confidence interval; arrays of one shape.

    Attributes
    ----------
    point, low, high:
        The estimate and its 95% interval.
    """

    point: np.ndarray
    low: np.ndarray
    high: np.ndarray


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[np.random.RandomState]:
    """A fixed bootstrap seed, leaving NumPy's global generator as it was.

    rliable 1.2.0's ``StratifiedBootstrap.update_indices`` draws its resampling indices
    from ``np.random``'s global generator whatever ``random_state`` says, so the global one
    is seeded too (and restored after).
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield np.random.RandomState(seed)
    finally:
        np.random.set_state(state)


def _interval_estimates(
    scores: Mapping[str, np.ndarray | tuple[np.ndarray, ...]], func: Callable[..., np.ndarray | float], reps: int, seed: int
) -> dict[str, Estimate]:
    import warnings

    from rliable import library

    with _seeded(seed) as random_state, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # arch: "random_state is deprecated", rliable passes it
        points, intervals = library.get_interval_estimates(
            dict(scores), func, reps=reps, confidence_interval_size=CONFIDENCE, random_state=random_state
        )
    return {name: Estimate(np.asarray(points[name]), np.asarray(intervals[name][0]), np.asarray(intervals[name][1])) for name in scores}


def interquartile_mean(scores: np.ndarray) -> np.ndarray:
    """The IQM along the first (runs) axis: SciPy's ``trim_mean(scores, 0.25, axis=0)``, which rliable's IQM is.

    The same arithmetic without SciPy's per-call argument handling, which cost 40% of
    ``rlzoo report``'s time (15 of 35 s of bootstrap under cProfile for 3 agents x 7 envs x
    10 seeds, 2000 resamples: it is called once per resample). A test checks it against SciPy.

    Parameters
    ----------
    scores:
        An array of at least one dimension.

    Returns
    -------
    np.ndarray
        The IQM of each column (the remaining axes).
    """
    runs = scores.shape[0]
    cut = int(0.25 * runs)  # as SciPy: the lowest and highest quarter of the runs, rounded down, are dropped
    return np.mean(np.sort(scores, axis=0)[cut : runs - cut], axis=0)


def _per_column(scores: np.ndarray) -> np.ndarray:
    """IQM, mean and median of each task (column), as rows of a ``(3, tasks)`` array, flattened."""
    # rliable's aggregate_iqm is trim_mean(.., 0.25) over everything; per task it is the same along the runs axis.
    return np.concatenate([interquartile_mean(scores), np.mean(scores, axis=0), np.median(scores, axis=0)]).ravel()


def per_task_estimates(scores: Mapping[str, np.ndarray], reps: int = DEFAULT_REPS, seed: int = BOOTSTRAP_SEED) -> dict[str, Estimate]:
    """IQM, mean and median of each task across runs, with bootstrap CIs over runs.

    Each task's runs are resampled on their own (the stratified bootstrap with one
    stratum per task), all of a name's tasks in one rliable call.

    Parameters
    ----------
    scores:
        ``{name: array (runs x tasks)}``.
    reps, seed:
        Bootstrap resamples and seed.

    Returns
    -------
    dict[str, Estimate]
        Arrays of shape ``(3, tasks)``: rows IQM, mean, median (:data:`STATISTICS`).
    """
    estimates = _interval_estimates(scores, _per_column, reps, seed)
    return {
        name: Estimate(*(np.reshape(a, (len(STATISTICS), scores[name].shape[1])) for a in (e.point, e.low, e.high)))
        for name, e in estimates.items()
    }


def aggregate_estimates(scores: Mapping[str, np.ndarray], reps: int = DEFAULT_REPS, seed: int = BOOTSTRAP_SEED) -> dict[str, Estimate]:
    """IQM, mean and median over all runs of all tasks, with stratified bootstrap CIs.

    The median is the median of every run's score on every task (not of the per-task means).

    Parameters
    ----------
    scores:
        ``{name: array (runs x tasks)}`` of normalised scores.
    reps, seed:
        Bootstrap resamples and seed.

    Returns
    -------
    dict[str, Estimate]
        Arrays of shape ``(3,)``: IQM, mean, median.
    """
    from rliable import metrics

    def func(x: np.ndarray) -> np.ndarray:
        # rliable's aggregate_iqm is SciPy's trim_mean over all runs of all tasks: the same, flattened.
        # The median is over all runs of all tasks too, as the per-env median is over runs: rliable's
        # aggregate_median (the median of the per-task means) would repeat the mean on one task.
        return np.array([interquartile_mean(np.ravel(x)), metrics.aggregate_mean(x), np.median(np.ravel(x))])

    return _interval_estimates(scores, func, reps, seed)


def improvement_probabilities(
    scores: Mapping[str, np.ndarray], pairs: Sequence[tuple[str, str]] | None = None, reps: int = DEFAULT_REPS, seed: int = BOOTSTRAP_SEED
) -> dict[tuple[str, str], Estimate]:
    """P(X > Y): the probability that a run of X scores above a run of Y on a task, averaged over tasks.

    Parameters
    ----------
    scores:
        ``{name: array (runs x tasks)}``; a pair's arrays must have the same shape.
    pairs:
        ``(X, Y)`` pairs; default: every pair of names.
    reps, seed:
        Bootstrap resamples and seed.

    Returns
    -------
    dict[tuple[str, str], Estimate]
        Scalar arrays per pair.
    """
    pairs = list(pairs) if pairs is not None else list(itertools.combinations(sorted(scores), 2))
    paired = {f"{x},{y}": (scores[x], scores[y]) for x, y in pairs}
    estimates = _interval_estimates(paired, probability_of_improvement, reps, seed)
    return {(x, y): estimates[f"{x},{y}"] for x, y in pairs}


def probability_of_improvement(scores_x: np.ndarray, scores_y: np.ndarray) -> float:
    """rliable's ``metrics.probability_of_improvement``, vectorised over tasks, from ranks.

    rliable calls SciPy's Mann-Whitney U test once per task, which made this statistic
    90% of ``rlzoo report``'s time (243 of 306 s under cProfile for 3 agents x 7 envs x 10
    seeds, 2000 resamples); comparing every pair of runs instead costs runs x runs per
    resample (625 million comparisons for 25,000 seeds). The Mann-Whitney U statistic from
    the runs' joint ranks (ties averaged) is the same count in ``(n + m) log(n + m)``; a
    test checks it against rliable's function.

    Parameters
    ----------
    scores_x, scores_y:
        ``(runs x tasks)`` arrays (the runs may differ in number).

    Returns
    -------
    float
        P(X > Y), ties counting a half, averaged over tasks.
    """
    n, m = scores_x.shape[0], scores_y.shape[0]
    if n * m <= 10_000:  # few runs: comparing every pair is quicker than ranking
        x, y = scores_x[:, None, :], scores_y[None, :, :]
        return float(np.mean(np.mean(x > y, axis=(0, 1)) + 0.5 * np.mean(x == y, axis=(0, 1))))
    from scipy.stats import rankdata  # SciPy comes with rliable

    ranks = rankdata(np.concatenate([scores_x, scores_y], axis=0), method="average", axis=0)
    u_statistic = np.sum(ranks[:n], axis=0) - n * (n + 1) / 2  # pairs with x > y, ties a half, per task
    return float(np.mean(u_statistic / (n * m)))


def curve_estimates(curves: Mapping[str, np.ndarray], reps: int = DEFAULT_REPS, seed: int = BOOTSTRAP_SEED) -> dict[str, Estimate]:
    """IQM across runs at each point of each task's learning curve, with bootstrap CIs.

    Parameters
    ----------
    curves:
        ``{name: array (runs x tasks x points)}``.
    reps, seed:
        Bootstrap resamples and seed.

    Returns
    -------
    dict[str, Estimate]
        Arrays of shape ``(tasks, points)``.
    """
    estimates = _interval_estimates(curves, lambda x: interquartile_mean(x).ravel(), reps, seed)
    return {name: Estimate(*(np.reshape(a, curves[name].shape[1:]) for a in (e.point, e.low, e.high))) for name, e in estimates.items()}


def score_distribution(scores: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """rliable's ``score_distributions``: the fraction of all runs' scores above each tau, vectorised over taus.

    rliable maps a Python function over the taus with ``np.vectorize``, one call per tau per
    resample (9 of 50 s of ``rlzoo report`` under cProfile); a test checks this against it.

    Parameters
    ----------
    scores:
        ``(runs x tasks)``.
    taus:
        The thresholds.

    Returns
    -------
    np.ndarray
        Shape ``(len(taus),)``.
    """
    flat = np.ravel(scores)
    return np.mean(flat[:, None] > np.asarray(taus)[None, :], axis=0)


def performance_profiles(
    scores: Mapping[str, np.ndarray], taus: np.ndarray, reps: int = DEFAULT_REPS, seed: int = BOOTSTRAP_SEED
) -> dict[str, Estimate]:
    """The fraction of runs scoring above each threshold tau, with bootstrap CIs (rliable's score distributions).

    Parameters
    ----------
    scores:
        ``{name: array (runs x tasks)}`` of normalised scores.
    taus:
        The thresholds.
    reps, seed:
        Bootstrap resamples and seed.

    Returns
    -------
    dict[str, Estimate]
        Arrays of shape ``(len(taus),)``.
    """
    import warnings

    from rliable import library

    with _seeded(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        points, intervals = library.create_performance_profile(
            dict(scores), taus, custom_profile_func=score_distribution, reps=reps, confidence_interval_size=CONFIDENCE
        )
    return {name: Estimate(np.asarray(points[name]), np.asarray(intervals[name][0]), np.asarray(intervals[name][1])) for name in scores}
