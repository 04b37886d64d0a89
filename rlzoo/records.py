"""Plain records that training and evaluation produce: :class:`TrainingHistory` and :class:`EvalResult`.

They sit below the agent contract (an agent holds both), so every layer can use them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from rlzoo import display


@dataclasses.dataclass
class TrainingHistory:
    """What training recorded: one row per finished episode and one per periodic evaluation.

    ``episodes`` rows are ``(timestep, return, length)``; ``evaluations`` rows are
    ``(timestep, mean_return, std_return)``. ``kept_timestep`` is the step whose weights
    periodic evaluation kept (``None`` without periodic evaluation).
    """

    episodes: list[tuple[int, float, int]] = dataclasses.field(default_factory=list)
    evaluations: list[tuple[int, float, float]] = dataclasses.field(default_factory=list)
    kept_timestep: int | None = None

    def plot(self, title: str = "") -> Any:
        """The learning curve: episode returns, their moving mean and the greedy evaluations.

        Parameters
        ----------
        title:
            The figure's title.

        Returns
        -------
        matplotlib.figure.Figure
            It shows itself in a notebook; ``figure.savefig(path)`` writes it.
        """
        return display.history_figure(self.episodes, self.evaluations, title)

    def __repr__(self) -> str:
        summary = display.history_summary(self.episodes, self.evaluations)
        return "TrainingHistory(" + ", ".join(f"{k}: {v}" for k, v in summary.items()) + ")"

    def _repr_html_(self) -> str:
        return display.table_html("TrainingHistory", display.history_summary(self.episodes, self.evaluations))


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """Returns and lengths of evaluation episodes.

    Attributes
    ----------
    returns, lengths:
        One entry per episode, in order. For a multi-agent env, an episode's return is the
        mean of its agents' returns.
    per_agent:
        For a multi-agent env, each agent's return per episode; else ``None``.
    """

    returns: tuple[float, ...]
    lengths: tuple[int, ...]
    per_agent: dict[str, tuple[float, ...]] | None = None

    @property
    def mean(self) -> float:
        """Mean episode return."""
        return float(np.mean(self.returns))

    @property
    def std(self) -> float:
        """Standard deviation of the episode returns."""
        return float(np.std(self.returns))

    @property
    def n_episodes(self) -> int:
        return len(self.returns)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (what the artifact records as the last evaluation)."""
        return {
            "n_episodes": self.n_episodes,
            "mean": self.mean,
            "std": self.std,
            "min": float(np.min(self.returns)),
            "max": float(np.max(self.returns)),
            "returns": list(self.returns),
            "lengths": list(self.lengths),
            **({"per_agent": {agent: list(r) for agent, r in self.per_agent.items()}} if self.per_agent else {}),
        }

    def __str__(self) -> str:
        return f"mean return {self.mean:.2f} +/- {self.std:.2f} over {self.n_episodes} episodes"

    def __repr__(self) -> str:
        return f"EvalResult({display.eval_text(self.returns, self.lengths)})"

    def _repr_html_(self) -> str:
        return display.eval_html(self.returns, self.lengths)
