"""Evaluating an agent: episode returns of its policy on an env."""

from __future__ import annotations

import dataclasses
import pathlib
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from rlzoo.seeding import seed_everything

if TYPE_CHECKING:
    from rlzoo.agent import Agent


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


def evaluate(
    agent: Agent | str | pathlib.Path,
    env: gym.Env | str | None = None,
    n_episodes: int = 100,
    *,
    seed: int | None = None,
    deterministic: bool = True,
) -> EvalResult:
    """Run ``n_episodes`` full episodes of the agent's policy and report their returns.

    Parameters
    ----------
    agent:
        An :class:`~rlzoo.agent.Agent`, or the path of a saved one.
    env:
        The env (instance or id) to evaluate on, as registered (the agent applies its own
        frame stacking); by default a fresh instance of the agent's own env (same id and
        kwargs), so training envs are never disturbed. A PettingZoo env is played with the
        agent acting for every agent.
    n_episodes:
        How many episodes.
    seed:
        With a seed the evaluation is reproducible: the first reset gets ``seed`` (later
        resets continue the env's generator) and, for ``deterministic=False``, the global
        generators that action sampling draws from are seeded too.
    deterministic:
        Greedy actions (``True``) or the policy's sampled ones.

    Returns
    -------
    EvalResult
        Per-episode returns and lengths, with ``mean`` and ``std``.
    """
    from rlzoo import checks
    from rlzoo.agent import Agent
    from rlzoo.errors import ArgumentError
    from rlzoo.multiagent import is_parallel_env
    from rlzoo.registry import check_seed, make_env

    problem = checks.integer(1)(n_episodes)
    if problem is not None:
        raise ArgumentError(f"n_episodes={checks.shown(n_episodes)}: {problem}")
    check_seed(seed)
    seed = None if seed is None else int(seed)
    if not isinstance(agent, Agent):
        from rlzoo.artifact import load

        agent = load(agent)
    own_env = env is None or isinstance(env, str)
    target: Any = env
    if target is None:
        if agent.env_id is None:
            raise ArgumentError("this agent's env is not registered, so it cannot be rebuilt: pass env=")
        target = make_env(agent.env_id, **agent.env_kwargs)
    elif isinstance(target, str):
        target = make_env(target)
    if seed is not None and not deterministic:
        seed_everything(seed)
    if is_parallel_env(target):
        try:
            return _evaluate_parallel(agent, target, n_episodes, seed, deterministic)
        finally:
            if own_env:
                target.close()
    env = agent.wrap_env(target)  # the observations the agent was trained on (frame stacking)
    _check_spaces(agent, env, own_env)
    returns: list[float] = []
    lengths: list[int] = []
    try:
        for episode in range(n_episodes):
            observation, _ = env.reset(seed=seed if episode == 0 else None)
            total, length, done = 0.0, 0, False
            while not done:
                action = agent.predict(observation, deterministic=deterministic)
                observation, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                length += 1
                done = terminated or truncated
            returns.append(total)
            lengths.append(length)
    finally:
        if own_env:
            env.close()
    return EvalResult(tuple(returns), tuple(lengths))


def _check_spaces(agent: Agent, env: gym.Env, own_env: bool) -> None:
    """Refuse an env whose spaces differ from those the agent was built on (closing it if it is ours)."""
    from rlzoo.errors import IncompatibleEnvError

    trained = agent.env
    if env.observation_space.shape == trained.observation_space.shape and env.action_space == trained.action_space:
        return
    if own_env:
        env.close()
    raise IncompatibleEnvError(
        f"{agent.name or 'this agent'} was trained on {agent.env_id or 'an env'} with observations "
        f"{trained.observation_space} and actions {trained.action_space}; this env has {env.observation_space} "
        f"and {env.action_space}: evaluate it on an env with the same spaces"
    )


def _evaluate_parallel(agent: Agent, env: Any, n_episodes: int, seed: int | None, deterministic: bool) -> EvalResult:
    """Episodes of a PettingZoo parallel env with the agent's policy acting for every agent."""
    per_agent: dict[str, list[float]] = {name: [] for name in env.possible_agents}
    lengths: list[int] = []
    for episode in range(n_episodes):
        observations, _ = env.reset(seed=seed if episode == 0 else None)
        totals = dict.fromkeys(env.possible_agents, 0.0)
        length = 0
        while env.agents:
            actions = {name: agent.predict(observations[name], deterministic=deterministic) for name in env.agents}
            observations, rewards, _, _, _ = env.step(actions)
            for name, reward in rewards.items():
                totals[name] += float(reward)
            length += 1
        for name, total in totals.items():
            per_agent[name].append(total)
        lengths.append(length)
    means = tuple(float(np.mean([per_agent[name][i] for name in per_agent])) for i in range(n_episodes))
    return EvalResult(means, tuple(lengths), {name: tuple(values) for name, values in per_agent.items()})
