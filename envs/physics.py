"""Cart-pole dynamics and the variants' rules, shared by rlzoo's single and batched envs.

The same functions serve both: with Python floats and ``math`` for one env (fast per step),
with NumPy arrays for a batch; :data:`FLOATS` and :data:`ARRAYS` hold the few operations that
differ. The constants and the equations are those of Gymnasium's ``CartPoleEnv`` (Florian,
"Correct equations for the dynamics of the cart-pole system", 2007), with Euler integration.
Because :class:`~.cartpole.CartPoleVariantEnv` and its batched twin
:class:`~.vector.CartPoleVariantVectorEnv` both step through :func:`variant_step` and observe
through :func:`observation`, they cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

GRAVITY = 9.8
TAU = 0.02  # seconds between state updates
X_THRESHOLD = 2.4
THETA_THRESHOLD = 12 * 2 * math.pi / 360
MASS_CART = 1.0
MASS_POLE = 0.1
HALF_LENGTH = 0.5  # half the pole's length
FORCE_MAG = 10.0
GUST_DECAY = 0.95  # wind: g' = GUST_DECAY * g + wind_std * N(0, 1)


@dataclasses.dataclass(frozen=True)
class Arithmetic:
    """The operations that differ between one env's Python floats and a batch's NumPy arrays.

    Attributes
    ----------
    cos, sin: ``math``'s or NumPy's.
    clip: ``clip(value, low, high)``.
    where: ``where(condition, if_true, if_false)``.
    """

    cos: Callable[[Any], Any]
    sin: Callable[[Any], Any]
    clip: Callable[[Any, float, float], Any]
    where: Callable[[Any, Any, Any], Any]


#: For one env: Python floats (math is several times faster than NumPy on scalars).
FLOATS = Arithmetic(math.cos, math.sin, lambda value, low, high: min(max(value, low), high), lambda c, a, b: a if c else b)
#: For a batch: NumPy arrays, one element per env.
ARRAYS = Arithmetic(np.cos, np.sin, np.clip, np.where)


def cartpole_step(
    x: Any,
    x_dot: Any,
    theta: Any,
    theta_dot: Any,
    force: Any,
    masscart: Any = MASS_CART,
    masspole: Any = MASS_POLE,
    length: Any = HALF_LENGTH,
    cos: Callable[[Any], Any] = math.cos,
    sin: Callable[[Any], Any] = math.sin,
) -> tuple[Any, Any, Any, Any]:
    """One Euler step of the cart-pole; every argument may be a float or an array (then pass np.cos/np.sin)."""
    total_mass = masspole + masscart
    polemass_length = masspole * length
    costheta, sintheta = cos(theta), sin(theta)
    temp = (force + polemass_length * theta_dot * theta_dot * sintheta) / total_mass
    thetaacc = (GRAVITY * sintheta - costheta * temp) / (length * (4.0 / 3.0 - masspole * costheta * costheta / total_mass))
    xacc = temp - polemass_length * thetaacc * costheta / total_mass
    return x + TAU * x_dot, x_dot + TAU * xacc, theta + TAU * theta_dot, theta_dot + TAU * thetaacc


def variant_step(
    state: Any,
    action: Any,
    params: Mapping[str, Any],
    gust: Any,
    gust_noise: Any,
    *,
    continuous: bool,
    swing_up: bool,
    wind_std: float,
    ops: Arithmetic,
) -> tuple[tuple[Any, Any, Any, Any], Any, Any, Any]:
    """One step of a cart-pole variant: the force, the wind, the dynamics, the end of the episode and the reward.

    Parameters
    ----------
    state:
        ``(x, x_dot, theta, theta_dot)``: four floats, or a ``(4, num_envs)`` array.
    action:
        A throttle (clipped to [-1, 1], times ``force_mag``) when ``continuous``, else 1 (push
        right) or anything else (push left).
    params:
        ``masscart``, ``masspole``, ``length`` (half the pole) and ``force_mag``.
    gust:
        The current gust (a force on the cart).
    gust_noise:
        A standard normal draw for the next gust (unused without wind).
    continuous, swing_up, wind_std:
        The variant (see :class:`~.cartpole.CartPoleVariantEnv`).
    ops:
        :data:`FLOATS` for one env, :data:`ARRAYS` for a batch (then every value is an array).

    Returns
    -------
    tuple
        ``(state, gust, terminated, reward)``: the cart leaves the track (or, unless swinging
        up, the pole tilts past 12 degrees); reward 1 per step, or ``(1 + cos(theta)) / 2``
        when swinging up.
    """
    force_mag = params["force_mag"]
    force = ops.clip(action, -1.0, 1.0) * force_mag if continuous else ops.where(action == 1, force_mag, -force_mag)
    if wind_std:
        force = force + gust
        gust = GUST_DECAY * gust + wind_std * gust_noise
    x, x_dot, theta, theta_dot = state
    state = x, x_dot, theta, theta_dot = cartpole_step(
        x, x_dot, theta, theta_dot, force, params["masscart"], params["masspole"], params["length"], ops.cos, ops.sin
    )
    terminated = (x < -X_THRESHOLD) | (x > X_THRESHOLD)
    if swing_up:
        reward = (1.0 + ops.cos(theta)) / 2.0
    else:
        terminated = terminated | (theta < -THETA_THRESHOLD) | (theta > THETA_THRESHOLD)
        reward = 1.0
    return state, gust, terminated, reward


def wrap_angle(theta: Any) -> Any:
    """An angle in [-pi, pi)."""
    return (theta + math.pi) % (2 * math.pi) - math.pi


def observation(state: Any, swing_up: bool) -> tuple[Any, Any, Any, Any]:
    """What the agent sees of ``state`` (four floats, or a ``(4, num_envs)`` array): all of it, the angle wrapped
    to [-pi, pi) when swinging up."""
    x, x_dot, theta, theta_dot = state
    return x, x_dot, wrap_angle(theta) if swing_up else theta, theta_dot
