"""Cart-pole dynamics shared by rlzoo's single and batched envs.

The same function serves both: with Python floats and ``math.cos``/``math.sin`` for one env
(fast per step), with NumPy arrays and ``np.cos``/``np.sin`` for a batch. The constants and
the equations are those of Gymnasium's ``CartPoleEnv`` (Florian, "Correct equations for the
dynamics of the cart-pole system", 2007), with Euler integration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

GRAVITY = 9.8
TAU = 0.02  # seconds between state updates
X_THRESHOLD = 2.4
THETA_THRESHOLD = 12 * 2 * math.pi / 360
MASS_CART = 1.0
MASS_POLE = 0.1
HALF_LENGTH = 0.5  # half the pole's length
FORCE_MAG = 10.0


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
