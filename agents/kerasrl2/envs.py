"""The K env steps of seeds side by side: one NumPy step for Gymnasium's cart-poles, else each env's own.

Each seed owns its env and that env's generator; the batch must give every seed exactly
the observations its own env would. Gymnasium's ``CartPoleVectorEnv`` (and rlzoo's
``CartPoleVariantVectorEnv``) draw every reset from one shared generator, so they cannot
stand in for K seeded envs. :class:`CartPoleTwin` steps K ``CartPoleEnv`` states with the
same float64 expressions, in the same order, as ``CartPoleEnv.step`` (elementwise NumPy
arithmetic rounds as the scalar arithmetic does), resets each from its own env's generator
as ``CartPoleEnv.reset`` does, and keeps ``TimeLimit``'s count; :meth:`CartPoleTwin.sync`
writes the states back into the envs. ``tests/test_seeds.py`` checks whole runs against solo ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleEnv
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker, TimeLimit

#: Wrappers that change nothing the twin computes (TimeLimit's count is the twin's own).
_TRANSPARENT = (OrderEnforcing, PassiveEnvChecker, TimeLimit)
_PHYSICS = ("gravity", "masscart", "masspole", "total_mass", "length", "polemass_length", "force_mag", "tau", "kinematics_integrator")


def _chain(env: gym.Env) -> list[gym.Env]:
    chain = [env]
    while isinstance(chain[-1], gym.Wrapper):
        chain.append(chain[-1].env)
    return chain


def twin_fits(envs: Sequence[gym.Env]) -> bool:
    """Whether :class:`CartPoleTwin` gives exactly what ``envs`` would: plain Gymnasium cart-poles
    with one physics, behind the wrappers ``gymnasium.make`` adds, mid-episode (reset)."""
    first = envs[0].unwrapped
    for env in envs:
        chain = _chain(env)
        inner = chain[-1]
        if type(inner) is not CartPoleEnv or inner.render_mode is not None or inner._sutton_barto_reward or inner.state is None:
            return False
        if any(type(wrapper) not in _TRANSPARENT for wrapper in chain[:-1]) or sum(type(w) is TimeLimit for w in chain) != 1:
            return False
        if any(getattr(inner, name) != getattr(first, name) for name in _PHYSICS) or inner.steps_beyond_terminated is not None:
            return False
    return True


class CartPoleTwin:
    """K Gymnasium cart-poles stepped together (see the module's docstring).

    Parameters
    ----------
    envs:
        Envs for which :func:`twin_fits` holds.
    """

    def __init__(self, envs: Sequence[gym.Env]) -> None:
        self.envs = list(envs)
        self.inner: list[CartPoleEnv] = [env.unwrapped for env in envs]  # type: ignore[misc]
        self.limits = [next(w for w in _chain(env) if isinstance(w, TimeLimit)) for env in envs]
        self.state = np.stack([np.asarray(inner.state, dtype=np.float64) for inner in self.inner])
        self.elapsed = np.array([limit._elapsed_steps for limit in self.limits])
        self.max_steps = np.array([limit._max_episode_steps for limit in self.limits])
        self.physics = {name: getattr(self.inner[0], name) for name in _PHYSICS}
        p = self.inner[0]
        self.thresholds = (p.x_threshold, p.theta_threshold_radians)

    def step(self, seats: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Step the envs at ``seats``: observations (float32), rewards, terminated, truncated."""
        p = self.physics
        x, x_dot, theta, theta_dot = self.state[seats].T
        force = np.where(actions == 1, p["force_mag"], -p["force_mag"])
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        temp = (force + p["polemass_length"] * np.square(theta_dot) * sintheta) / p["total_mass"]
        thetaacc = (p["gravity"] * sintheta - costheta * temp) / (
            p["length"] * (4.0 / 3.0 - p["masspole"] * np.square(costheta) / p["total_mass"])
        )
        xacc = temp - p["polemass_length"] * thetaacc * costheta / p["total_mass"]
        tau = p["tau"]
        if p["kinematics_integrator"] == "euler":
            x, x_dot, theta, theta_dot = x + tau * x_dot, x_dot + tau * xacc, theta + tau * theta_dot, theta_dot + tau * thetaacc
        else:  # semi-implicit euler
            x_dot = x_dot + tau * xacc
            x = x + tau * x_dot
            theta_dot = theta_dot + tau * thetaacc
            theta = theta + tau * theta_dot
        state = np.stack((x, x_dot, theta, theta_dot), axis=1)
        self.state[seats] = state
        x_limit, theta_limit = self.thresholds
        terminated = (x < -x_limit) | (x > x_limit) | (theta < -theta_limit) | (theta > theta_limit)
        self.elapsed[seats] += 1
        truncated = self.elapsed[seats] >= self.max_steps[seats]
        return state.astype(np.float32), np.ones(len(seats)), terminated, truncated

    def reset(self, seat: int) -> np.ndarray:
        """A new episode for ``seat``, drawn from its env's generator as ``CartPoleEnv.reset`` draws it."""
        self.state[seat] = self.inner[seat].np_random.uniform(low=-0.05, high=0.05, size=(4,))
        self.elapsed[seat] = 0
        return self.state[seat].astype(np.float32)

    def sync(self) -> None:
        """Write the states back into the envs (each mid-episode, as its own steps would leave it)."""
        for seat, (inner, limit) in enumerate(zip(self.inner, self.limits, strict=True)):
            inner.state = self.state[seat].copy()
            inner.steps_beyond_terminated = None
            limit._elapsed_steps = int(self.elapsed[seat])  # type: ignore[assignment]  # None only before the first reset


def step_each(envs: Sequence[gym.Env], seats: Sequence[int], actions: np.ndarray) -> list[tuple[Any, float, bool, bool]]:
    """Each env's own step, for envs without a twin."""
    steps = []
    for seat, action in zip(seats, actions.tolist(), strict=True):
        observation, reward, terminated, truncated, _ = envs[seat].step(action)
        steps.append((observation, float(reward), bool(terminated), bool(truncated)))
    return steps
