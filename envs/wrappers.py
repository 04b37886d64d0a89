"""Observation wrappers for rlzoo's variants, each with a single-env and a batched form."""

from __future__ import annotations

from typing import Any, cast

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv, VectorObservationWrapper
from gymnasium.vector.utils import batch_space

from rlzoo import checks

from .cartpole import checked

VISIBLE = [0, 2]  # cart position and pole angle


def _unbounded(space: gym.Space) -> gym.spaces.Box:
    space = cast(gym.spaces.Box, space)  # the cart-pole variants' observations are Boxes
    return gym.spaces.Box(-np.inf, np.inf, space.shape, dtype=space.dtype)


def _visible(space: gym.Space) -> gym.spaces.Box:
    space = cast(gym.spaces.Box, space)  # the cart-pole variants' observations are Boxes
    return gym.spaces.Box(space.low[VISIBLE], space.high[VISIBLE], dtype=space.dtype)


class NoisyObservation(gym.ObservationWrapper):
    """Adds Gaussian noise ``N(0, noise_std^2)`` to every observation component (drawn from the env's generator)."""

    def __init__(self, env: gym.Env, noise_std: float) -> None:
        super().__init__(env)
        self.noise_std = float(checked("noise_std", noise_std, checks.number(low=0)))
        self.observation_space = _unbounded(env.observation_space)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        noise = self.np_random.normal(0.0, self.noise_std, observation.shape)
        return (observation + noise).astype(np.float32)


class NoisyObservationVector(VectorObservationWrapper):
    """Batched :class:`NoisyObservation`."""

    def __init__(self, env: VectorEnv, noise_std: float) -> None:
        super().__init__(env)
        self.noise_std = float(checked("noise_std", noise_std, checks.number(low=0)))
        self.single_observation_space = _unbounded(env.single_observation_space)
        self.observation_space = batch_space(self.single_observation_space, env.num_envs)

    def observations(self, observations: np.ndarray) -> np.ndarray:
        noise = self.np_random.normal(0.0, self.noise_std, observations.shape)
        return (observations + noise).astype(np.float32)


class HideVelocities(gym.ObservationWrapper):
    """Keeps only cart position and pole angle: a POMDP whose velocities must be inferred over time."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.observation_space = _visible(env.observation_space)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return observation[VISIBLE]


class HideVelocitiesVector(VectorObservationWrapper):
    """Batched :class:`HideVelocities`."""

    def __init__(self, env: VectorEnv) -> None:
        super().__init__(env)
        self.single_observation_space = _visible(env.single_observation_space)
        self.observation_space = batch_space(self.single_observation_space, env.num_envs)

    def observations(self, observations: np.ndarray) -> np.ndarray:
        return observations[:, VISIBLE]


def unwrapped_vector(env: Any) -> Any:
    """The innermost vector env below vector wrappers."""
    while hasattr(env, "env"):
        env = env.env
    return env
