"""rlzoo's single-agent cart-pole variants: what practitioners probe, as ``gymnasium.make`` ids.

Every variant shares Gymnasium's CartPole physics (``physics.py``) and rules: the cart is
pushed left or right (``Discrete(2)``: 0 left, 1 right, 10 N) and the episode terminates
when the cart leaves [-2.4, 2.4] or the pole tilts past 12 degrees; it is truncated at 500
steps. Reward is +1 per step. The table of each variant says only what differs.

Each function here is a ``gymnasium.make`` entry point (single env); each ``*_vector``
one is the matching ``vector_entry_point`` for ``gymnasium.make_vec(...,
vectorization_mode="vector_entry_point")``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from rlzoo import checks
from rlzoo.registry import check_env_kwargs

from .cartpole import CartPoleVariantEnv, checked
from .vector import CartPoleVariantVectorEnv
from .wrappers import HideVelocities, HideVelocitiesVector, NoisyObservation, NoisyObservationVector


def _named_kwargs(id: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An entry point that refuses unknown kwargs naming the closest valid ones, as
    :func:`rlzoo.make_env` does, also when called by ``gymnasium.make`` directly."""

    def wrap(factory: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(factory)
        def make(**kwargs: Any) -> Any:
            check_env_kwargs(id, factory, kwargs)
            return factory(**kwargs)

        return make

    return wrap


@_named_kwargs("rlzoo/NoisyCartPole-v0")
def noisy(noise_std: float = 0.1, render_mode: str | None = None) -> gym.Env:
    """``rlzoo/NoisyCartPole-v0``: sensor noise.

    | | |
    |---|---|
    | Observation Space | ``Box(-inf, inf, (4,))``: cart position, cart velocity, pole angle, pole angular velocity, |
    | | each plus ``N(0, noise_std^2)`` |
    | Arguments | ``noise_std=0.1`` |
    """
    return NoisyObservation(CartPoleVariantEnv(render_mode=render_mode), noise_std)


def noisy_vector(num_envs: int = 1, noise_std: float = 0.1, max_episode_steps: int = 500, **kwargs: Any) -> Any:
    return NoisyObservationVector(CartPoleVariantVectorEnv(num_envs, max_episode_steps, **kwargs), noise_std)


@_named_kwargs("rlzoo/HiddenVelocityCartPole-v0")
def hidden_velocity(render_mode: str | None = None) -> gym.Env:
    """``rlzoo/HiddenVelocityCartPole-v0``: a POMDP.

    | | |
    |---|---|
    | Observation Space | ``Box((2,))``: cart position and pole angle only; velocities must be inferred from history (stack frames) |
    """
    return HideVelocities(CartPoleVariantEnv(render_mode=render_mode))


def hidden_velocity_vector(num_envs: int = 1, max_episode_steps: int = 500, **kwargs: Any) -> Any:
    return HideVelocitiesVector(CartPoleVariantVectorEnv(num_envs, max_episode_steps, **kwargs))


@_named_kwargs("rlzoo/RandomPhysicsCartPole-v0")
def random_physics(
    cart_mass: tuple[float, float] = (0.5, 1.5),
    pole_mass: tuple[float, float] = (0.05, 0.2),
    pole_length: tuple[float, float] = (0.25, 0.75),
    force: tuple[float, float] = (7.5, 12.5),
    render_mode: str | None = None,
) -> gym.Env:
    """``rlzoo/RandomPhysicsCartPole-v0``: domain randomisation.

    | | |
    |---|---|
    | Starting State | as CartPole, plus parameters drawn uniformly per episode from the ranges below |
    | Info | ``masscart``, ``masspole``, ``length`` (half the pole), ``force_mag``: this episode's values |
    | Arguments | ``cart_mass=(0.5, 1.5)`` kg, ``pole_mass=(0.05, 0.2)`` kg, |
    | | ``pole_length=(0.25, 0.75)`` m (half length), ``force=(7.5, 12.5)`` N |
    """
    return CartPoleVariantEnv(randomize=_ranges(cart_mass, pole_mass, pole_length, force), render_mode=render_mode)


def random_physics_vector(
    num_envs: int = 1,
    cart_mass: tuple[float, float] = (0.5, 1.5),
    pole_mass: tuple[float, float] = (0.05, 0.2),
    pole_length: tuple[float, float] = (0.25, 0.75),
    force: tuple[float, float] = (7.5, 12.5),
    max_episode_steps: int = 500,
    **kwargs: Any,
) -> Any:
    return CartPoleVariantVectorEnv(num_envs, max_episode_steps, randomize=_ranges(cart_mass, pole_mass, pole_length, force), **kwargs)


def _ranges(cart_mass: Any, pole_mass: Any, pole_length: Any, force: Any) -> dict[str, tuple[float, float]]:
    pair = checks.ordered_pair(positive=True)
    kwargs = {"cart_mass": cart_mass, "pole_mass": pole_mass, "pole_length": pole_length, "force": force}
    for name, value in kwargs.items():
        checked(name, value, pair)
    return {"masscart": tuple(cart_mass), "masspole": tuple(pole_mass), "length": tuple(pole_length), "force_mag": tuple(force)}


@_named_kwargs("rlzoo/ContinuousCartPole-v0")
def continuous(render_mode: str | None = None) -> gym.Env:
    """``rlzoo/ContinuousCartPole-v0``: a continuous force.

    | | |
    |---|---|
    | Action Space | ``Box(-1, 1, (1,))``: force ``10 N * a`` (clipped to [-1, 1]) |
    """
    return CartPoleVariantEnv(continuous=True, render_mode=render_mode)


def continuous_vector(num_envs: int = 1, max_episode_steps: int = 500, **kwargs: Any) -> Any:
    return CartPoleVariantVectorEnv(num_envs, max_episode_steps, continuous=True, **kwargs)


@_named_kwargs("rlzoo/SwingUpCartPole-v0")
def swing_up(render_mode: str | None = None) -> gym.Env:
    """``rlzoo/SwingUpCartPole-v0``: swing the pole up, then balance it.

    | | |
    |---|---|
    | Observation Space | as CartPole, but the pole angle is wrapped to [-pi, pi) |
    | Starting State | pole hanging down: angle ``pi + U(-0.05, 0.05)`` |
    | Rewards | ``(1 + cos(angle)) / 2`` per step: 1 upright, 0 hanging |
    | Episode End | terminated only when the cart leaves [-2.4, 2.4]; truncated at 500 steps |
    """
    return CartPoleVariantEnv(swing_up=True, render_mode=render_mode)


def swing_up_vector(num_envs: int = 1, max_episode_steps: int = 500, **kwargs: Any) -> Any:
    return CartPoleVariantVectorEnv(num_envs, max_episode_steps, swing_up=True, **kwargs)


@_named_kwargs("rlzoo/WindyCartPole-v0")
def windy(wind_std: float = 1.0, render_mode: str | None = None) -> gym.Env:
    """``rlzoo/WindyCartPole-v0``: gusts push the cart, so a policy must reject disturbances
    it cannot see (a test of robustness that noise-free CartPole never asks for).

    | | |
    |---|---|
    | Dynamics | an extra force ``g`` on the cart, ``g' = 0.95 g + wind_std * N(0, 1)`` (stationary std about ``3.2 * wind_std`` N) |
    | Arguments | ``wind_std=1.0`` |
    """
    return CartPoleVariantEnv(wind_std=wind_std, render_mode=render_mode)


def windy_vector(num_envs: int = 1, wind_std: float = 1.0, max_episode_steps: int = 500, **kwargs: Any) -> Any:
    return CartPoleVariantVectorEnv(num_envs, max_episode_steps, wind_std=wind_std, **kwargs)


#: id -> (factory name, reward_threshold, one-line description)
VARIANTS: dict[str, tuple[str, float, str]] = {
    "rlzoo/NoisyCartPole-v0": ("noisy", 475.0, "CartPole with Gaussian observation noise"),
    "rlzoo/HiddenVelocityCartPole-v0": ("hidden_velocity", 475.0, "CartPole POMDP: only cart position and pole angle"),
    "rlzoo/RandomPhysicsCartPole-v0": ("random_physics", 475.0, "CartPole with masses, pole length and force drawn per episode"),
    "rlzoo/ContinuousCartPole-v0": ("continuous", 475.0, "CartPole with a continuous force (Box action)"),
    "rlzoo/SwingUpCartPole-v0": ("swing_up", 350.0, "CartPole starting with the pole down: swing up and balance"),
    "rlzoo/WindyCartPole-v0": ("windy", 475.0, "CartPole with random gusts on the cart"),
}
