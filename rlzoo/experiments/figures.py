"""The report's figures: rliable's plots and matplotlib.

Every drawing function takes statistics already computed (:mod:`rlzoo.experiments.cells`,
:mod:`rlzoo.experiments.stats`) and returns one matplotlib ``Figure`` (which shows itself in a
notebook); :func:`save` writes it as a PNG atomically and closes it. Each agent label keeps
one colour across figures (seaborn's colour-blind palette, in label order).
"""

from __future__ import annotations

import io
import pathlib
from typing import Any

import numpy as np

from rlzoo.experiments.cells import Curve, Improvement
from rlzoo.experiments.stats import Estimate
from rlzoo.files import atomic_write


def aggregate(estimates: dict[str, Estimate]) -> Any:
    """IQM, mean and median of the normalised scores per label, with their intervals (rliable's interval plot).

    Parameters
    ----------
    estimates:
        ``{label: Estimate}`` of shape ``(3,)`` (:func:`rlzoo.experiments.stats.aggregate_estimates`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from rliable import plot_utils  # rliable comes with the experiments extra

    _pyplot()  # the Agg backend, before rliable draws
    figure, _ = plot_utils.plot_interval_estimates(
        {k: e.point for k, e in estimates.items()},
        {k: np.stack([e.low, e.high]) for k, e in estimates.items()},
        metric_names=["IQM", "Mean", "Median"],
        algorithms=list(estimates),
        xlabel="Normalised score",
    )
    return figure


def performance_profiles(profiles: dict[str, Estimate], taus: np.ndarray) -> Any:
    """The fraction of runs above each normalised score, per label, with CI bands.

    Parameters
    ----------
    profiles:
        ``{label: Estimate}`` of shape ``(len(taus),)`` (:func:`rlzoo.experiments.stats.performance_profiles`).
    taus:
        The thresholds.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from rliable import plot_utils  # rliable comes with the experiments extra

    plt = _pyplot()
    labels = list(profiles)
    figure, axes = plt.subplots(figsize=(7, 4.5))
    plot_utils.plot_performance_profiles(
        {k: e.point for k, e in profiles.items()},
        taus,
        performance_profile_cis={k: np.stack([e.low, e.high]) for k, e in profiles.items()},
        colors=_colors(labels),
        xlabel=r"Normalised score ($\tau$)",
        ax=axes,
    )
    axes.legend(labels, loc="upper right")
    return figure


def improvement(pairs: list[Improvement]) -> Any:
    """P(X > Y) per pair with its interval (rliable's probability-of-improvement plot).

    Parameters
    ----------
    pairs:
        At least one pair.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from rliable import plot_utils  # rliable comes with the experiments extra

    _pyplot()  # the Agg backend, before rliable draws
    points = {f"{p.x},{p.y}": p.point for p in pairs}
    intervals = {f"{p.x},{p.y}": np.array([p.low, p.high]) for p in pairs}
    figure = plot_utils.plot_probability_of_improvement(points, intervals, figsize=(5, 1 + 0.6 * len(points)))
    # rliable returns the axes in some versions and the figure in others.
    return figure.figure if hasattr(figure, "figure") and not hasattr(figure, "savefig") else figure


def sample_efficiency(curves: dict[tuple[str, str], Curve], labels: list[str], envs: list[str]) -> Any:
    """One panel per env: each label's IQM learning curve with its CI band, over timesteps.

    Parameters
    ----------
    curves:
        Per (label, env) (:func:`rlzoo.experiments.cells.learning_curves`), drawn in this order.
    labels:
        Every label, sorted (they fix the colours).
    envs:
        Every env, sorted: one panel each, a panel without curves stays empty.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    columns = min(3, len(envs))
    rows = -(-len(envs) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3.2 * rows), squeeze=False)
    colors = _colors(labels)
    for (label, env), curve in curves.items():
        ax = axes.flat[envs.index(env)]
        ax.plot(curve.grid, curve.point, color=colors[label], label=label)
        ax.fill_between(curve.grid, curve.low, curve.high, color=colors[label], alpha=0.2)
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
    return figure


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (files only, no display needed)."""
    import matplotlib  # matplotlib comes with the experiments extra

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colors(labels: list[str]) -> dict[str, Any]:
    """One colour per label, the same in every figure."""
    import seaborn as sns  # seaborn comes with the experiments extra

    return dict(zip(labels, sns.color_palette("colorblind", len(labels)), strict=True))


def save(figure: Any, path: pathlib.Path) -> pathlib.Path:
    """Write ``figure`` as a PNG atomically (100 dpi, cropped to its content) and close it.

    Parameters
    ----------
    figure:
        A matplotlib figure.
    path:
        The PNG to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    with atomic_write(path) as handle:
        handle.write(buffer.getvalue())
    _pyplot().close(figure)
    return path
