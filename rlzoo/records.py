"""Plain records that training and evaluation produce: :class:`TrainingHistory` and :class:`EvalResult`.

They sit below the agent contract (an agent holds both), so every layer can use them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


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
