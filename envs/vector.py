"""NumPy-batched twin of :class:`~.cartpole.CartPoleVariantEnv` (Gymnasium's next-step autoreset)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rlzoo import checks
from rlzoo.errors import EnvConfigError

from .cartpole import NOMINAL, action_space, checked, checked_variant, observation_space
from .physics import ARRAYS, observation, variant_step


class CartPoleVariantVectorEnv(VectorEnv):
    """``num_envs`` cart-poles stepped together with NumPy, same parameters and rules as the single env.

    Episodes are truncated after ``max_episode_steps``. As in Gymnasium's ``CartPoleVectorEnv``,
    an env whose episode ended is reset on the next ``step`` call, which returns its first
    observation with reward 0 (``autoreset_mode`` ``NEXT_STEP``). With ``randomize``, ``info``
    holds each env's current parameters as arrays.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        max_episode_steps: int = 500,
        continuous: bool = False,
        swing_up: bool = False,
        wind_std: float = 0.0,
        randomize: dict[str, tuple[float, float]] | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None:
            raise EnvConfigError(f"render_mode={render_mode!r}: the batched cart-poles do not render: use the single env for rgb_array")
        checked("num_envs", num_envs, checks.integer(1))
        checked("max_episode_steps", max_episode_steps, checks.integer(1))
        self.randomize = checked_variant(continuous, swing_up, wind_std, randomize)
        self.num_envs, self.max_episode_steps = num_envs, max_episode_steps
        self.continuous, self.swing_up, self.wind_std = continuous, swing_up, float(wind_std)
        self.render_mode = None
        self.single_action_space = action_space(continuous)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.single_observation_space = observation_space(swing_up)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.params = {name: np.full(num_envs, value) for name, value in NOMINAL.items()}
        self.state = np.zeros((4, num_envs))
        self.gust = np.zeros(num_envs)
        self.steps = np.zeros(num_envs, dtype=np.int32)
        self.prev_done = np.zeros(num_envs, dtype=bool)

    def _reset_envs(self, mask: np.ndarray) -> None:
        count = int(mask.sum())
        state = self.np_random.uniform(-0.05, 0.05, size=(4, count))
        if self.swing_up:
            state[2] += math.pi
        self.state[:, mask] = state
        for name, (low, high) in self.randomize.items():
            self.params[name][mask] = self.np_random.uniform(low, high, size=count)
        self.gust[mask] = 0.0
        self.steps[mask] = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        everything = np.ones(self.num_envs, dtype=bool)
        self._reset_envs(everything)
        self.prev_done = np.zeros(self.num_envs, dtype=bool)
        return self._observations(), self._info()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        noise = self.np_random.standard_normal(self.num_envs) if self.wind_std else 0.0
        state, self.gust, terminated, reward = variant_step(
            self.state,
            np.asarray(actions, dtype=np.float64).reshape(self.num_envs) if self.continuous else np.asarray(actions),
            self.params,
            self.gust,
            noise,
            continuous=self.continuous,
            swing_up=self.swing_up,
            wind_std=self.wind_std,
            ops=ARRAYS,
        )
        self.state = np.stack(state)
        reward = np.broadcast_to(reward, (self.num_envs,)).astype(np.float32)  # 1.0 per step unless swinging up
        self.steps += 1
        truncated = self.steps >= self.max_episode_steps

        done = self.prev_done
        if done.any():  # next-step autoreset
            self._reset_envs(done)
            reward[done] = 0.0
            terminated[done] = False
            truncated[done] = False
        self.prev_done = terminated | truncated
        return self._observations(), reward, terminated, truncated, self._info()

    def _observations(self) -> np.ndarray:
        return np.stack(observation(self.state, self.swing_up), axis=1).astype(np.float32)

    def _info(self) -> dict[str, Any]:
        # Gymnasium's vector envs pair every info key with a "_key" mask of the envs that set
        # it (here: every env, every step), which wrappers and RecordEpisodeStatistics read.
        info: dict[str, Any] = {}
        for name in self.randomize:
            info[name] = self.params[name].copy()
            info["_" + name] = np.ones(self.num_envs, dtype=bool)
        return info
