"""One cart-pole env class behind rlzoo's single-agent variants (see ``variants.py``)."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from rlzoo import checks
from rlzoo.errors import EnvConfigError

from .physics import FLOATS, FORCE_MAG, HALF_LENGTH, MASS_CART, MASS_POLE, THETA_THRESHOLD, X_THRESHOLD, observation, variant_step

#: Physical parameters a variant may randomise per episode, with their nominal values.
NOMINAL = {"masscart": MASS_CART, "masspole": MASS_POLE, "length": HALF_LENGTH, "force_mag": FORCE_MAG}


def observation_space(swing_up: bool) -> gym.spaces.Box:
    """Cart position, cart velocity, pole angle (wrapped to [-pi, pi] for swing-up), pole angular velocity."""
    angle = math.pi if swing_up else 2 * THETA_THRESHOLD
    high = np.array([2 * X_THRESHOLD, np.inf, angle, np.inf], dtype=np.float32)
    return gym.spaces.Box(-high, high, dtype=np.float32)


def action_space(continuous: bool) -> gym.spaces.Space:
    """A force in [-1, 1] (times ``force_mag``), or push left (0) / right (1)."""
    return gym.spaces.Box(-1.0, 1.0, (1,), dtype=np.float32) if continuous else gym.spaces.Discrete(2)


def checked(name: str, value: Any, rule: checks.Rule) -> Any:
    """``value`` if ``rule`` accepts it; else an EnvConfigError naming the kwarg, the value and what is valid."""
    problem = rule(value)
    if problem is not None:
        raise EnvConfigError(f"{name}={value!r}: {problem}")
    return value


def checked_ranges(randomize: dict[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]]:
    """``randomize`` as float ranges; an unknown parameter or a bad range raises EnvConfigError."""
    randomize = checked("randomize", randomize, checks.optional(lambda v: None if isinstance(v, dict) else "must be a dict"))
    unknown = set(randomize or {}) - set(NOMINAL)
    if unknown:
        raise EnvConfigError(f"cannot randomize {sorted(unknown)}: valid parameters are {', '.join(NOMINAL)}")
    positive_range = checks.ordered_pair(positive=True)
    return {k: tuple(float(v) for v in checked(f"randomize[{k!r}]", pair, positive_range)) for k, pair in (randomize or {}).items()}  # type: ignore[misc]


def checked_variant(continuous: Any, swing_up: Any, wind_std: Any, randomize: Any) -> dict[str, tuple[float, float]]:
    """The checks the single and batched variant envs share; returns ``randomize`` as float ranges."""
    checked("continuous", continuous, checks.boolean)
    checked("swing_up", swing_up, checks.boolean)
    checked("wind_std", wind_std, checks.number(low=0))
    return checked_ranges(randomize)


class CartPoleVariantEnv(gym.Env):
    """Gymnasium's cart-pole with the knobs rlzoo's variants turn.

    Parameters
    ----------
    continuous:
        Actions are a force in ``Box(-1, 1, (1,))`` times ``force_mag`` instead of ``Discrete(2)``.
    swing_up:
        The pole starts hanging down (angle pi +- 0.05), the angle never ends the episode, and
        the reward is ``(1 + cos(angle)) / 2`` per step (1 upright, 0 hanging).
    wind_std:
        Gusts: a horizontal force on the cart following ``g' = 0.95 g + wind_std * N(0, 1)``.
    randomize:
        ``{parameter: (low, high)}`` for ``masscart``, ``masspole``, ``length`` (half the pole),
        ``force_mag``: sampled uniformly at every reset and reported in ``info``.
    render_mode:
        ``"rgb_array"`` (drawn by Gymnasium's CartPoleEnv; needs pygame) or ``None``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(
        self,
        continuous: bool = False,
        swing_up: bool = False,
        wind_std: float = 0.0,
        randomize: dict[str, tuple[float, float]] | None = None,
        render_mode: str | None = None,
    ) -> None:
        checked("render_mode", render_mode, checks.optional(checks.one_of(self.metadata["render_modes"])))
        self.randomize = checked_variant(continuous, swing_up, wind_std, randomize)
        self.continuous, self.swing_up, self.wind_std = continuous, swing_up, float(wind_std)
        self.render_mode = render_mode
        self.action_space = action_space(continuous)
        self.observation_space = observation_space(swing_up)
        self.params = dict(NOMINAL)
        self.state = (0.0, 0.0, 0.0, 0.0)
        self.gust = 0.0
        self._painter: Any = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        rng = self.np_random
        x, x_dot, theta, theta_dot = (float(v) for v in rng.uniform(-0.05, 0.05, size=4))
        if self.swing_up:
            theta += math.pi
        self.state = (x, x_dot, theta, theta_dot)
        for name, (low, high) in self.randomize.items():
            self.params[name] = float(rng.uniform(low, high))
        self.gust = 0.0
        return self._observation(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        noise = float(self.np_random.standard_normal()) if self.wind_std else 0.0
        self.state, self.gust, terminated, reward = variant_step(
            self.state,
            float(action[0]) if self.continuous else action,
            self.params,
            self.gust,
            noise,
            continuous=self.continuous,
            swing_up=self.swing_up,
            wind_std=self.wind_std,
            ops=FLOATS,
        )
        return self._observation(), reward, terminated, False, self._info()

    def _observation(self) -> np.ndarray:
        return np.array(observation(self.state, self.swing_up), dtype=np.float32)

    def _info(self) -> dict[str, Any]:
        return {name: self.params[name] for name in self.randomize}

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; make the env with render_mode='rgb_array'")
            return None
        if self._painter is None:
            from gymnasium.envs.classic_control.cartpole import CartPoleEnv

            self._painter = CartPoleEnv(render_mode="rgb_array")
        self._painter.length = self.params["length"]
        self._painter.state = np.array(self.state)
        return self._painter.render()

    def close(self) -> None:
        if self._painter is not None:
            self._painter.close()
            self._painter = None
