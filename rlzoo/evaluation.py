"""Evaluating an agent: episode returns of its policy on an env."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from rlzoo import checks
from rlzoo.agent import Agent
from rlzoo.artifact import load
from rlzoo.errors import ArgumentError, IncompatibleEnvError
from rlzoo.multiagent import is_parallel_env
from rlzoo.records import EvalResult
from rlzoo.registry import make_env
from rlzoo.seeding import seed_everything
from rlzoo.settings import FINAL_EPISODES

__all__ = ["MAX_SIDE_BY_SIDE", "EvalResult", "env_copies", "evaluate", "final_evaluation", "play_episodes"]


#: How many copies of an env :func:`evaluate` steps side by side, at most.
MAX_SIDE_BY_SIDE = 32


def evaluate(
    agent: Agent | str | pathlib.Path,
    env: gym.Env | str | None = None,
    n_episodes: int = 100,
    *,
    seed: int | None = None,
    deterministic: bool = True,
) -> EvalResult:
    """Run ``n_episodes`` full episodes of the agent's policy and report their returns.

    When it builds the env itself (``env`` an id or ``None``), up to
    :data:`MAX_SIDE_BY_SIDE` copies play episodes side by side and the agent chooses all
    their actions in one forward pass (:meth:`~rlzoo.agent.Agent.predict_batch`): 100
    CartPole episodes cost a few hundred network calls instead of tens of thousands. An env
    instance plays its episodes one after another.

    Parameters
    ----------
    agent:
        An :class:`~rlzoo.agent.Agent`, or the path of a saved one.
    env:
        The env (instance or id) to evaluate on, as registered (the agent applies its own
        frame stacking); by default fresh instances of the agent's own env (same id and
        kwargs), so training envs are never disturbed. A PettingZoo env is played with the
        agent acting for every agent.
    n_episodes:
        How many episodes.
    seed:
        With a seed the evaluation is reproducible: the first reset of the k-th copy gets
        ``seed + k`` (later resets continue that copy's generator) and, for
        ``deterministic=False``, the global generators that action sampling draws from are
        seeded too.
    deterministic:
        Greedy actions (``True``) or the policy's sampled ones.

    Returns
    -------
    EvalResult
        Per-episode returns and lengths (in the order the episodes started), with ``mean``
        and ``std``.
    """
    problem = checks.integer(1)(n_episodes)
    if problem is not None:
        raise ArgumentError(f"n_episodes={checks.shown(n_episodes)}: {problem}")
    seed = checks.check_seed(seed)
    if not isinstance(agent, Agent):
        agent = load(agent)
    if env is not None and not isinstance(env, str):
        return play_episodes(agent, [env], n_episodes, seed=seed, deterministic=deterministic)
    env_id, kwargs = (agent.env_id, agent.env_kwargs) if env is None else (env, {})
    if env_id is None:
        raise ArgumentError("this agent's env is not registered, so it cannot be rebuilt: pass env=")
    envs = env_copies(lambda: make_env(env_id, **kwargs), n_episodes)
    try:
        return play_episodes(agent, envs, n_episodes, seed=seed, deterministic=deterministic)
    finally:
        for copy in envs:
            copy.close()


def final_evaluation(agent: Agent, n_episodes: int = FINAL_EPISODES) -> EvalResult:
    """The evaluation every run ends with, the same for ``rlzoo train``, a sweep run and a tuning trial.

    :data:`rlzoo.settings.FINAL_EPISODES` greedy episodes on fresh copies of the agent's
    env, seeded with the run's seed (``agent.train_settings.seed``, else the agent's own).

    Parameters
    ----------
    agent:
        A trained agent.
    n_episodes:
        Episodes (``rlzoo train --episodes`` may ask for another count).

    Returns
    -------
    EvalResult
        Also stored as ``agent.last_evaluation`` (saved with the agent).
    """
    seed = agent.train_settings.seed if agent.train_settings is not None else agent.seed
    result = evaluate(agent, n_episodes=n_episodes, seed=seed)
    agent.last_evaluation = result
    return result


def env_copies(make: Callable[[], Any], n_episodes: int) -> list[Any]:
    """The copies of an env that :func:`play_episodes` plays ``n_episodes`` on.

    Parameters
    ----------
    make:
        Builds one copy.
    n_episodes:
        Episodes to play: one copy each, up to :data:`MAX_SIDE_BY_SIDE`. A PettingZoo
        parallel env gets one copy (its agents already share each forward pass).

    Returns
    -------
    list
        The copies (all closed again if building one fails).
    """
    envs = [make()]
    try:
        if not is_parallel_env(envs[0]):
            envs += [make() for _ in range(min(n_episodes, MAX_SIDE_BY_SIDE) - 1)]
    except BaseException:
        for copy in envs:
            copy.close()
        raise
    return envs


def play_episodes(agent: Agent, envs: list[Any], n_episodes: int, *, seed: int | None = None, deterministic: bool = True) -> EvalResult:
    """Play ``n_episodes`` episodes on copies of one env, side by side, without closing them.

    What :func:`evaluate` does once its arguments are checked; :class:`rlzoo.callbacks.EvalEvery`
    calls it with copies it keeps for the whole of training.

    Parameters
    ----------
    agent:
        The agent whose policy acts.
    envs:
        Copies of one env, as registered (the agent applies its own frame stacking). A
        PettingZoo parallel env is played alone, with the agent acting for every agent.
    n_episodes:
        How many episodes in all; each copy starts a new one as soon as it is free.
    seed:
        The first reset of the k-th copy gets ``seed + k``; later resets continue its generator.
    deterministic:
        Greedy actions (``True``) or the policy's sampled ones.

    Returns
    -------
    EvalResult
        Returns and lengths in the order the episodes started.
    """
    if seed is not None and not deterministic:
        seed_everything(seed)
    if is_parallel_env(envs[0]):
        return _evaluate_parallel(agent, envs[0], n_episodes, seed, deterministic)
    wrapped = [agent.wrap_env(copy) for copy in envs]  # the observations the agent was trained on
    _check_spaces(agent, wrapped[0])
    stackable = isinstance(wrapped[0].observation_space, gym.spaces.Box)
    returns = [0.0] * n_episodes
    lengths = [0] * n_episodes
    playing: list[tuple[int, int]] = []  # (copy, episode) of every episode under way
    observations: dict[int, Any] = {}
    for copy in range(min(n_episodes, len(wrapped))):
        observations[copy], _ = wrapped[copy].reset(seed=None if seed is None else seed + copy)
        playing.append((copy, copy))
    started = len(playing)
    while playing:
        batch = [observations[copy] for copy, _ in playing]
        if stackable:
            actions = agent.predict_batch(np.stack(batch), deterministic=deterministic)
        else:
            actions = [agent.predict(observation, deterministic=deterministic) for observation in batch]
        still: list[tuple[int, int]] = []
        for (copy, episode), action in zip(playing, actions, strict=True):
            observation, reward, terminated, truncated, _ = wrapped[copy].step(action)
            returns[episode] += float(reward)
            lengths[episode] += 1
            if terminated or truncated:
                if started == n_episodes:
                    continue
                observation, _ = wrapped[copy].reset()
                episode, started = started, started + 1
            observations[copy] = observation
            still.append((copy, episode))
        playing = still
    return EvalResult(tuple(returns), tuple(lengths))


def _check_spaces(agent: Agent, env: gym.Env) -> None:
    """Refuse an env whose spaces differ from those the agent was built on."""
    trained = agent.env
    if env.observation_space.shape == trained.observation_space.shape and env.action_space == trained.action_space:
        return
    raise IncompatibleEnvError(
        f"{agent.name or 'this agent'} was trained on {agent.env_id or 'an env'} with observations "
        f"{trained.observation_space} and actions {trained.action_space}; this env has {env.observation_space} "
        f"and {env.action_space}: evaluate it on an env with the same spaces"
    )


def _evaluate_parallel(agent: Agent, env: Any, n_episodes: int, seed: int | None, deterministic: bool) -> EvalResult:
    """Episodes of a PettingZoo parallel env with the agent's policy acting for every agent (one batch per step)."""
    per_agent: dict[str, list[float]] = {name: [] for name in env.possible_agents}
    lengths: list[int] = []
    for episode in range(n_episodes):
        observations, _ = env.reset(seed=seed if episode == 0 else None)
        totals = dict.fromkeys(env.possible_agents, 0.0)
        length = 0
        while env.agents:
            names = list(env.agents)
            chosen = agent.predict_batch(np.stack([observations[name] for name in names]), deterministic=deterministic)
            observations, rewards, _, _, _ = env.step(dict(zip(names, chosen, strict=True)))
            for name, reward in rewards.items():
                totals[name] += float(reward)
            length += 1
        for name, total in totals.items():
            per_agent[name].append(total)
        lengths.append(length)
    means = tuple(float(np.mean([per_agent[name][i] for name in per_agent])) for i in range(n_episodes))
    return EvalResult(means, tuple(lengths), {name: tuple(values) for name, values in per_agent.items()})
