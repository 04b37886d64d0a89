"""One adapter that lets every single-agent backend train on a PettingZoo parallel env.

Parameter sharing: one policy acts for every agent. :class:`SharedPolicyEnv` presents the
parallel env as a Gymnasium env that asks for one agent's action per step, in the
parallel env's agent order; when every live agent has chosen, it steps the parallel env
and returns the agents' mean reward (the steps in between return 0). An episode's return
is therefore the mean of the agents' returns. The agents must share observation and action
spaces. PettingZoo is only imported by the env modules themselves.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np

from rlzoo import checks
from rlzoo.errors import ArgumentError, IncompatibleEnvError
from rlzoo.registry import make_env


def is_parallel_env(env: Any) -> bool:
    """Whether ``env`` looks like a PettingZoo parallel env (duck-typed: no PettingZoo import)."""
    return hasattr(env, "possible_agents") and hasattr(env, "observation_space") and callable(env.observation_space)


class SharedPolicyEnv(gym.Env):
    """A PettingZoo parallel env seen by one shared policy, one agent's turn per step.

    Parameters
    ----------
    parallel_env:
        The multi-agent env (agents with identical spaces).
    env_id, env_kwargs:
        Its rlzoo id and kwargs, recorded as this env's ``spec`` so saved agents can rebuild it.
    """

    metadata = {"render_modes": []}

    def __init__(self, parallel_env: Any, env_id: str | None = None, env_kwargs: dict[str, Any] | None = None) -> None:
        self.parallel_env = parallel_env
        agents = list(parallel_env.possible_agents)
        self.observation_space = parallel_env.observation_space(agents[0])
        self.action_space = parallel_env.action_space(agents[0])
        for agent in agents[1:]:
            if parallel_env.observation_space(agent) != self.observation_space or parallel_env.action_space(agent) != self.action_space:
                raise IncompatibleEnvError(
                    f"one shared policy needs every agent to have the same spaces, but {agent} differs from {agents[0]}"
                )
        if env_id is not None:
            entry_point = functools.partial(shared_policy_env, env_id)
            self.spec = gym.envs.registration.EnvSpec(id=env_id, entry_point=entry_point, kwargs=dict(env_kwargs or {}))
        self._observations: dict[str, Any] = {}
        self._order: list[str] = []
        self._turn = 0
        self._actions: dict[str, Any] = {}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        self._observations, _ = self.parallel_env.reset(seed=seed, options=options)
        self._order, self._turn, self._actions = list(self.parallel_env.agents), 0, {}
        return self._observations[self._order[0]], {"agent": self._order[0]}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self._actions[self._order[self._turn]] = action
        self._turn += 1
        if self._turn < len(self._order):
            agent = self._order[self._turn]
            return self._observations[agent], 0.0, False, False, {"agent": agent}
        observations, rewards, _, truncations, _ = self.parallel_env.step(self._actions)
        reward = float(np.mean([rewards[agent] for agent in self._order]))
        over = not self.parallel_env.agents
        truncated = over and any(truncations.values())
        self._observations = observations
        self._order = list(self.parallel_env.agents) or self._order
        self._turn, self._actions = 0, {}
        agent = self._order[0]
        return observations[agent], reward, over and not truncated, truncated, {"agent": agent}

    def close(self) -> None:
        self.parallel_env.close()


def shared_policy_env(env_id: str, **kwargs: Any) -> SharedPolicyEnv:
    """Make the multi-agent env ``env_id`` and wrap it for one shared policy."""
    return SharedPolicyEnv(make_env(env_id, **kwargs), env_id, kwargs)


def as_single_agent_env(env: Any, **kwargs: Any) -> Any:
    """``env`` (an id or instance) as a Gymnasium env: a PettingZoo env comes wrapped in
    :class:`rlzoo.multiagent.SharedPolicyEnv` (one policy acting for every agent)."""
    env_id = env if isinstance(env, str) else None
    if isinstance(env, str):
        env = make_env(env, **kwargs)
    elif not (isinstance(env, gym.Env) or is_parallel_env(env)):
        raise ArgumentError(
            "env must be an env id (a string such as 'CartPole-v1') or an env instance (a gymnasium.Env or a "
            f"PettingZoo parallel env), got {checks.shown(env)}"
        )
    if is_parallel_env(env):
        env = SharedPolicyEnv(env, env_id, kwargs)
    return env
