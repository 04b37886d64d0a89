"""The report's figures, drawn with matplotlib from rliable's statistics.

Every drawing function takes statistics already computed (:mod:`rlzoo.experiments.cells`,
:mod:`rlzoo.experiments.stats`) and returns one matplotlib ``Figure`` (which shows itself in a
notebook); :func:`save` writes it as a PNG atomically and closes it. Each agent label keeps
one colour in every figure of every report (:mod:`rlzoo.experiments.palette`), and every
figure has one legend that names each label with the artist drawing it.
"""

from __future__ import annotations

import io
import pathlib
from typing import Any

import numpy as np

from rlzoo.experiments.cells import Curve, Improvement
from rlzoo.experiments.palette import agent_colors
from rlzoo.experiments.stats import Estimate
from rlzoo.files import atomic_write


def aggregate(estimates: dict[str, Estimate]) -> Any:
    """IQM, mean and median of the normalised scores per label, with their 95% intervals: one panel each.

    Each label is one coloured interval (its point estimate marked) per panel, named in the
    figure's one legend and on the y axis.

    Parameters
    ----------
    estimates:
        ``{label: Estimate}`` of shape ``(3,)`` (:func:`rlzoo.experiments.stats.aggregate_estimates`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    labels = list(estimates)
    colors = agent_colors(labels)
    figure, axes = plt.subplots(1, 3, figsize=(10, 1.6 + 0.45 * len(labels)), sharey=True, layout="constrained")
    for column, (ax, name) in enumerate(zip(axes, ("IQM", "Mean", "Median"), strict=True)):
        for row, label in enumerate(labels):
            e = estimates[label]
            ax.barh(row, e.high[column] - e.low[column], left=e.low[column], height=0.6, color=colors[label], alpha=0.75, label=label)
            ax.plot([e.point[column]] * 2, [row - 0.3, row + 0.3], color="black", linewidth=1.5)
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("Normalised score")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(labels)), labels)  # shared: the other panels show no tick labels
    axes[0].invert_yaxis()  # the first label on top
    _legend(figure, axes[0], labels)
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
    plt = _pyplot()
    labels = list(profiles)
    colors = agent_colors(labels)
    figure, axes = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for label, e in profiles.items():
        axes.plot(taus, e.point, color=colors[label], linewidth=2, label=label)
        axes.fill_between(taus, e.low, e.high, color=colors[label], alpha=0.2, linewidth=0)
    axes.set_xlabel(r"Normalised score ($\tau$)")
    axes.set_ylabel(r"Fraction of runs with score > $\tau$")
    axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    _legend(figure, axes, labels)
    return figure


def improvement(pairs: list[Improvement]) -> Any:
    """P(X > Y) per pair with its 95% interval: one coloured interval per pair, in X's colour.

    Parameters
    ----------
    pairs:
        At least one pair.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    colors = agent_colors(sorted({p.x for p in pairs} | {p.y for p in pairs}))
    names = [pair_name(p) for p in pairs]
    figure, axes = plt.subplots(figsize=(6, 1.4 + 0.5 * len(pairs)), layout="constrained")
    for row, p in enumerate(pairs):
        axes.barh(row, p.high - p.low, left=p.low, height=0.6, color=colors[p.x], alpha=0.75, label=names[row])
        axes.plot([p.point] * 2, [row - 0.3, row + 0.3], color="black", linewidth=1.5)
    axes.axvline(0.5, color="grey", linestyle="--", linewidth=1)
    axes.set_yticks(range(len(pairs)), names)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("P(X > Y)")
    axes.grid(axis="x", alpha=0.3)
    _legend(figure, axes, names)
    return figure


def pair_name(pair: Improvement) -> str:
    """How a pair is named in the figures: ``P(X > Y)``."""
    return f"P({pair.x} > {pair.y})"


def sample_efficiency(curves: dict[tuple[str, str], Curve], labels: list[str], envs: list[str]) -> Any:
    """One panel per env: each label's IQM learning curve with its CI band, over timesteps.

    Parameters
    ----------
    curves:
        Per (label, env) (:func:`rlzoo.experiments.cells.learning_curves`), drawn in this order.
    labels:
        Every label, sorted: each is named in the figure's one legend.
    envs:
        Every env, sorted: one panel each, a panel without curves stays empty.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    columns = min(3, len(envs))
    rows = -(-len(envs) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3.2 * rows + 0.6), squeeze=False, layout="constrained")
    colors = agent_colors(labels)
    for (label, env), curve in curves.items():
        ax = axes.flat[envs.index(env)]
        ax.plot(curve.grid, curve.point, color=colors[label], label=label)
        ax.fill_between(curve.grid, curve.low, curve.high, color=colors[label], alpha=0.2, linewidth=0)
    for index, ax in enumerate(axes.flat):
        if index >= len(envs):
            ax.set_visible(False)
            continue
        ax.set_title(envs[index], fontsize=10)
        ax.set_xlabel("timestep")
        ax.set_ylabel("greedy return (IQM)")
        ax.grid(alpha=0.3)
    _legend(figure, axes.flat[0], [label for label in labels if any(key[0] == label for key in curves)], curves_axes=axes.flat)
    return figure


def _legend(figure: Any, axes: Any, labels: list[str], curves_axes: Any = None) -> None:
    """One legend for the whole figure, above the panels, naming every label with the artist that draws it.

    The handles are looked up by label (the first artist labelled so on any of
    ``curves_axes``, default ``axes``), never by drawing order, so a band can never borrow
    a line's name.
    """
    handles: dict[str, Any] = {}
    for ax in curves_axes if curves_axes is not None else [axes]:
        for artist in [*ax.get_lines(), *ax.containers]:
            if artist.get_label() in labels:
                handles.setdefault(artist.get_label(), artist)
    figure.legend(
        [handles[label] for label in labels], labels, loc="outside upper center", ncols=min(len(labels), 4), frameon=False, fontsize=9
    )


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (files only, no display needed)."""
    import matplotlib  # matplotlib comes with the experiments extra

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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
