"""What ``rlzoo train`` writes beside the artifact: a CSV of episode returns and a learning-curve PNG."""

from __future__ import annotations

import csv
import io
import os

import numpy as np

from rlzoo.agent import TrainingHistory
from rlzoo.files import atomic_write


def write_episodes_csv(history: TrainingHistory, path: str | os.PathLike[str]) -> None:
    """Write one row per training episode: ``episode, timestep, return, length``."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["episode", "timestep", "return", "length"])
    for index, (timestep, episode_return, length) in enumerate(history.episodes, start=1):
        writer.writerow([index, timestep, f"{episode_return:.6g}", length])
    with atomic_write(path) as handle:
        handle.write(text.getvalue().encode())


def plot_learning_curve(history: TrainingHistory, path: str | os.PathLike[str], title: str) -> None:
    """Plot episode returns (and their moving average, and periodic evaluations) against timesteps.

    Parameters
    ----------
    history:
        The agent's training history.
    path:
        The PNG to write.
    title:
        The figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    if history.episodes:
        steps, returns, _ = (np.asarray(column) for column in zip(*history.episodes))
        axes.plot(steps, returns, ".", color="tab:blue", alpha=0.4, markersize=4, label="training episode")
        window = max(1, min(50, len(returns) // 10))
        smooth = np.convolve(returns, np.ones(window) / window, mode="valid")
        axes.plot(steps[window - 1 :], smooth, color="tab:blue", label=f"moving mean ({window} episodes)")
    if history.evaluations:
        steps, means, stds = (np.asarray(column) for column in zip(*history.evaluations))
        axes.errorbar(steps, means, yerr=stds, fmt="o-", color="tab:orange", capsize=3, label="greedy evaluation")
    axes.set_xlabel("timestep")
    axes.set_ylabel("episode return")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    with atomic_write(path) as handle:
        handle.write(buffer.getvalue())
