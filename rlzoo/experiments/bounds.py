"""Per-env bounds for normalised scores: a uniform random policy's return (0) and the env's ``reward_threshold`` (1)."""

from __future__ import annotations

import pathlib
import warnings
from typing import Any

import gymnasium as gym

from rlzoo.agent import Agent
from rlzoo.evaluation import evaluate
from rlzoo.registry import make_env

RANDOM_EPISODES = 100
RANDOM_SEED = 0


class UniformRandomPolicy(Agent):
    """An agent that acts uniformly at random; only :meth:`predict` does anything.

    It exists so that the random bound is measured by :func:`rlzoo.evaluate`, with the same
    episode and multi-agent return definitions as every trained agent's score.
    """

    def __init__(self, env: Any, *, seed: int | None = None) -> None:
        super().__init__(env, seed=seed)
        space = env.action_space(env.possible_agents[0]) if callable(getattr(env, "action_space", None)) else env.action_space
        self.space = space
        self.space.seed(seed)

    def learn(self, total_timesteps: int, callback: Any = None) -> None:
        raise NotImplementedError("a uniform random policy does not learn")

    def predict(self, observation: Any, deterministic: bool = True) -> Any:
        return self.space.sample()

    def get_weights(self) -> Any:
        return None

    def set_weights(self, weights: Any) -> None:
        pass

    def write_payload(self, directory: pathlib.Path) -> None:
        raise NotImplementedError("a uniform random policy is not saved")

    def read_payload(self, directory: pathlib.Path) -> None:
        raise NotImplementedError("a uniform random policy is not loaded")


def random_score(env_id: str, episodes: int = RANDOM_EPISODES, seed: int = RANDOM_SEED) -> float:
    """Mean return of a uniform random policy over ``episodes`` seeded episodes.

    Parameters
    ----------
    env_id:
        An id :func:`rlzoo.make_env` knows (Gymnasium or PettingZoo).
    episodes, seed:
        How many episodes, and the seed of the env and of the action sampling.

    Returns
    -------
    float
    """
    with warnings.catch_warnings():
        # Gymnasium warns that CartPole-v0 is out of date; the results being reported chose it.
        warnings.simplefilter("ignore", DeprecationWarning)
        env = make_env(env_id)
    try:
        return evaluate(UniformRandomPolicy(env, seed=seed), env, episodes, seed=seed).mean
    finally:
        env.close()


def solved_score(env_id: str) -> float | None:
    """The env's ``reward_threshold`` from its Gymnasium spec (``None`` without one, e.g. a PettingZoo env)."""
    try:
        return gym.spec(env_id).reward_threshold
    except gym.error.Error:
        return None
