"""``rlzoo/SpringCarts-v0``: several cart-poles on one track, neighbours joined by springs (PettingZoo).

Description
    ``n_carts`` carts, each balancing its own pole, stand on one track at 1 m spacing.
    Neighbouring carts are joined by springs (rest length 1 m), so every push moves the
    neighbours too: agents must balance their own pole while not upsetting the others'.
Action Space (per agent)
    ``Discrete(2)``: push the own cart left (0) or right (1) with 10 N.
Observation Space (per agent)
    ``Box((6,))``: own cart position relative to its rest position, cart velocity, pole
    angle, pole angular velocity, and the extensions of the springs to the left and right
    neighbours (0 where there is none).
Rewards
    +1 per step to every agent while all poles are up (a cooperative task).
Starting State
    Every state variable of every cart offset by ``U(-0.05, 0.05)``.
Episode End
    Terminated for all when any pole tilts past 12 degrees or any cart moves more than
    2.4 m from its rest position; truncated after ``max_cycles`` steps.
Arguments
    ``n_carts=3`` (an int >= 2), ``spring_k=2.0`` (N/m, finite and >= 0), ``max_cycles=500`` (an int >= 1).

The parallel API is native; ``aec_env`` gives the AEC form through PettingZoo's converter.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils import parallel_to_aec

from rlzoo import checks

from .cartpole import checked
from .physics import FORCE_MAG, THETA_THRESHOLD, X_THRESHOLD, cartpole_step

SPACING = 1.0


class SpringCarts(ParallelEnv):
    """See the module docstring."""

    metadata = {"name": "spring_carts_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, n_carts: int = 3, spring_k: float = 2.0, max_cycles: int = 500, render_mode: str | None = None) -> None:
        checked("n_carts", n_carts, checks.integer(2))  # springs join neighbours: one cart has none
        checked("spring_k", spring_k, checks.number(low=0))
        checked("max_cycles", max_cycles, checks.integer(1))
        checked("render_mode", render_mode, checks.optional(checks.one_of(self.metadata["render_modes"])))
        self.n_carts, self.spring_k, self.max_cycles = n_carts, float(spring_k), max_cycles
        self.render_mode = render_mode
        self.possible_agents = [f"cart_{i}" for i in range(n_carts)]
        self.agents: list[str] = []
        self.rest = (np.arange(n_carts) - (n_carts - 1) / 2) * SPACING
        self.state = np.zeros((4, n_carts))
        self.cycles = 0
        self.np_random, _ = seeding.np_random(None)

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent: str) -> gym.spaces.Box:
        high = np.array([2 * X_THRESHOLD, np.inf, 2 * THETA_THRESHOLD, np.inf, np.inf, np.inf], dtype=np.float32)
        return gym.spaces.Box(-high, high, dtype=np.float32)

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent: str) -> gym.spaces.Discrete:
        return gym.spaces.Discrete(2)

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
        self.agents = list(self.possible_agents)
        self.state = self.np_random.uniform(-0.05, 0.05, size=(4, self.n_carts))
        self.state[0] += self.rest
        self.cycles = 0
        return self._observations(), {agent: {} for agent in self.agents}

    def _extensions(self) -> np.ndarray:
        gaps = np.diff(self.state[0]) - SPACING  # spring i joins carts i and i+1
        left = np.concatenate(([0.0], gaps))
        right = np.concatenate((gaps, [0.0]))
        return np.stack((left, right))

    def _observations(self) -> dict[str, np.ndarray]:
        left, right = self._extensions()
        x, x_dot, theta, theta_dot = self.state
        table = np.stack((x - self.rest, x_dot, theta, theta_dot, left, right), axis=1).astype(np.float32)
        return {agent: table[i] for i, agent in enumerate(self.possible_agents)}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        push = np.array([FORCE_MAG if actions[agent] == 1 else -FORCE_MAG for agent in self.possible_agents])
        left, right = self._extensions()
        force = push - self.spring_k * left + self.spring_k * right  # a stretched spring pulls both ends together
        x, x_dot, theta, theta_dot = cartpole_step(*self.state, force, cos=np.cos, sin=np.sin)
        self.state = np.stack((x, x_dot, theta, theta_dot))
        self.cycles += 1
        fallen = bool((np.abs(theta) > THETA_THRESHOLD).any() or (np.abs(x - self.rest) > X_THRESHOLD).any())
        truncated = self.cycles >= self.max_cycles and not fallen
        observations = self._observations()
        rewards = {agent: 1.0 for agent in self.agents}
        terminations = {agent: fallen for agent in self.agents}
        truncations = {agent: truncated for agent in self.agents}
        infos: dict[str, dict] = {agent: {} for agent in self.agents}
        if fallen or truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self) -> None:
        return None

    def close(self) -> None:
        pass


def parallel_env(n_carts: int = 3, spring_k: float = 2.0, max_cycles: int = 500, render_mode: str | None = None) -> SpringCarts:
    """The parallel-API env (what ``rlzoo.make_env("rlzoo/SpringCarts-v0")`` returns)."""
    return SpringCarts(n_carts, spring_k, max_cycles, render_mode)


def aec_env(n_carts: int = 3, spring_k: float = 2.0, max_cycles: int = 500, render_mode: str | None = None) -> Any:
    """The AEC form, from PettingZoo's own converter."""
    return parallel_to_aec(SpringCarts(n_carts, spring_k, max_cycles, render_mode))
