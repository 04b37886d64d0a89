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


def plot_learning_curve(
    history: TrainingHistory,
    path: str | os.PathLike[str],
    title: str,
    *,
    final_evaluation: tuple[int, float, float] | None = None,
    reward_threshold: float | None = None,
    return_range: tuple[float, float] | None = None,
) -> None:
    """Plot episode returns (and their moving average, and periodic evaluations) against timesteps.

    Marks the evaluation whose weights were kept (``history.kept_timestep``), the final
    evaluation and the env's reward threshold; the legend sits outside the axes, so it never
    covers data.

    Parameters
    ----------
    history:
        The agent's training history.
    path:
        The PNG to write.
    title:
        The figure title.
    final_evaluation:
        ``(timestep, mean, std)`` of the evaluation after training, or ``None``.
    reward_threshold:
        The env's "solved" return (``env.spec.reward_threshold``), drawn as a line, or ``None``.
    return_range:
        The lowest and highest return an episode can have: error bars (mean +- std) are cut
        there, or ``None`` to leave them whole.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(10, 4.5), dpi=100)
    if history.episodes:
        steps, returns, _ = (np.asarray(column) for column in zip(*history.episodes, strict=True))
        axes.plot(steps, returns, ".", color="tab:blue", alpha=0.4, markersize=4, label="training episode")
        window = max(1, min(50, len(returns) // 10))
        smooth = np.convolve(returns, np.ones(window) / window, mode="valid")
        axes.plot(steps[window - 1 :], smooth, color="tab:blue", label=f"moving mean ({window} episodes)")
    if history.evaluations:
        steps, means, stds = (np.asarray(column) for column in zip(*history.evaluations, strict=True))
        axes.errorbar(
            steps,
            means,
            yerr=clipped_error_bars(means, stds, return_range),
            fmt="o-",
            color="tab:orange",
            capsize=3,
            label="greedy evaluation (mean ± std)",
        )
        kept = [i for i, step in enumerate(steps) if step == history.kept_timestep]
        if kept:
            axes.plot(
                steps[kept],
                means[kept],
                "*",
                color="tab:red",
                markersize=16,
                zorder=5,
                label=f"kept weights (step {history.kept_timestep})",
            )
    if final_evaluation is not None:
        step, mean, std = final_evaluation
        bars = clipped_error_bars(np.array([mean]), np.array([std]), return_range)
        axes.errorbar(
            [step], [mean], yerr=bars, fmt="D", color="tab:green", capsize=4, markersize=8, zorder=6, label=f"final evaluation ({mean:.1f})"
        )
    if reward_threshold is not None:
        axes.axhline(reward_threshold, color="tab:gray", linestyle="--", linewidth=1, label=f"reward threshold ({reward_threshold:g})")
    axes.set_xlabel("timestep")
    axes.set_ylabel("episode return")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    with atomic_write(path) as handle:
        handle.write(buffer.getvalue())


def clipped_error_bars(means: np.ndarray, stds: np.ndarray, return_range: tuple[float, float] | None) -> np.ndarray:
    """Lower and upper bar lengths (shape ``(2, n)``) of mean +- std, cut at ``return_range``."""
    low, high = means - stds, means + stds
    if return_range is not None:
        low, high = np.clip(low, *return_range), np.clip(high, *return_range)
    return np.stack((means - low, high - means))


def return_range(env_id: str | None, max_episode_steps: int | None) -> tuple[float, float] | None:
    """The possible episode returns of a cart-pole env, else ``None`` (unknown).

    Every cart-pole here (Gymnasium's and rlzoo's variants) pays a reward in [0, 1] per
    step, so a return lies in ``[0, max_episode_steps]``.
    """
    if env_id is None or max_episode_steps is None or "CartPole" not in env_id:
        return None
    return 0.0, float(max_episode_steps)
