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
    ``n_carts=3`` (an int >= 2), ``spring_k=2.0`` (N/m, finite and >= 0), ``max_cycles=500`` (an int >= 1),
    ``render_mode`` (``"human"`` opens a window, ``"rgb_array"`` returns frames; both need pygame, the ``render`` extra).

The parallel API is native. Like PettingZoo's own env modules, this one exposes
``parallel_env`` (the parallel env), ``raw_env`` (the AEC form, from PettingZoo's
converter) and ``env`` (``raw_env`` with PettingZoo's usual checking wrappers), so
PettingZoo's module-level tests (``max_cycles_test``, ``render_test``) run on it unchanged.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils import parallel_to_aec, wrappers

from rlzoo import checks
from rlzoo.errors import MissingDependencyError

from .cartpole import checked
from .physics import FORCE_MAG, HALF_LENGTH, THETA_THRESHOLD, X_THRESHOLD, cartpole_step

SPACING = 1.0


class SpringCarts(ParallelEnv):
    """See the module docstring."""

    metadata: dict[str, Any] = {
        "name": "spring_carts_v0",
        "render_modes": ["human", "rgb_array"],
        "render_fps": 50,
        "is_parallelizable": True,
    }

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
        high = np.array([2 * X_THRESHOLD, np.inf, 2 * THETA_THRESHOLD, np.inf, np.inf, np.inf], dtype=np.float32)
        # One space object per env, the same for every agent (PettingZoo asks for them per agent).
        self._observation_space = gym.spaces.Box(-high, high, dtype=np.float32)
        self._action_space = gym.spaces.Discrete(2)
        self._painter: _Painter | None = None

    def observation_space(self, agent: str) -> gym.spaces.Box:
        return self._observation_space

    def action_space(self, agent: str) -> gym.spaces.Discrete:
        return self._action_space

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
        self.agents = list(self.possible_agents)
        self.state = self.np_random.uniform(-0.05, 0.05, size=(4, self.n_carts))
        self.state[0] += self.rest
        self.cycles = 0
        if self.render_mode == "human":  # PettingZoo's convention: "human" draws every step by itself
            self.render()
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
        x, x_dot, theta, theta_dot = self.state
        x, x_dot, theta, theta_dot = cartpole_step(x, x_dot, theta, theta_dot, force, cos=np.cos, sin=np.sin)
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
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def render(self) -> np.ndarray | None:
        """Draw the track, the springs, the carts and the poles (``render_mode`` decides where)."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; make the env with render_mode='rgb_array' or 'human'")
            return None
        if self._painter is None:
            self._painter = _Painter(self.rest, human=self.render_mode == "human", fps=self.metadata["render_fps"])
        return self._painter.draw(self.state)

    def close(self) -> None:
        if self._painter is not None:
            self._painter.close()
            self._painter = None


class _Painter:
    """Draws SpringCarts with pygame, in the style and scale of Gymnasium's CartPole."""

    WIDTH, HEIGHT = 800, 300
    TRACK_Y = 100  # pixels from the bottom

    def __init__(self, rest: np.ndarray, human: bool, fps: int) -> None:
        try:
            import pygame
        except ImportError as exc:
            raise MissingDependencyError("rendering SpringCarts", "render") from exc
        self.pygame, self.human, self.fps = pygame, human, fps
        world_width = float(rest[-1] - rest[0]) + 2 * X_THRESHOLD
        self.scale = self.WIDTH / world_width
        self.origin = self.WIDTH / 2 - self.scale * float(rest[0] + rest[-1]) / 2
        self.screen = None
        if human:  # rgb_array needs no pygame.init(), which would also start audio
            pygame.display.init()
            self.screen = pygame.display.set_mode((self.WIDTH, self.HEIGHT))
        self.clock = pygame.time.Clock()

    def draw(self, state: np.ndarray) -> np.ndarray | None:
        pygame, scale = self.pygame, self.scale
        surface = pygame.Surface((self.WIDTH, self.HEIGHT))
        surface.fill((255, 255, 255))
        cart_w, cart_h, pole_w, pole_len = 50.0, 30.0, 10.0, scale * 2 * HALF_LENGTH
        xs = [self.origin + scale * float(x) for x in state[0]]
        y = self.TRACK_Y
        pygame.draw.line(surface, (0, 0, 0), (0, y), (self.WIDTH, y))
        for left, right in zip(xs, xs[1:], strict=False):  # springs: zigzags between neighbouring carts
            start, end = left + cart_w / 2, right - cart_w / 2
            zig = np.linspace(start, end, 14)
            points = [(float(px), y + (6 if i % 2 else -6) * (0 < i < len(zig) - 1)) for i, px in enumerate(zig)]
            pygame.draw.lines(surface, (40, 90, 200), False, points, 2)
        for x, theta in zip(xs, state[2], strict=True):
            corners = [
                (x - cart_w / 2, y - cart_h / 2),
                (x - cart_w / 2, y + cart_h / 2),
                (x + cart_w / 2, y + cart_h / 2),
                (x + cart_w / 2, y - cart_h / 2),
            ]
            pygame.draw.polygon(surface, (0, 0, 0), corners)
            axle_y = y + cart_h / 4
            pole = [(-pole_w / 2, 0.0), (-pole_w / 2, pole_len), (pole_w / 2, pole_len), (pole_w / 2, 0.0)]
            c, s = np.cos(-float(theta)), np.sin(-float(theta))
            pygame.draw.polygon(surface, (202, 152, 101), [(x + px * c - py * s, axle_y + px * s + py * c) for px, py in pole])
            pygame.draw.circle(surface, (129, 132, 203), (int(x), int(axle_y)), int(pole_w / 2))
        surface = pygame.transform.flip(surface, False, True)  # pygame's y grows downwards
        if self.screen is not None:
            self.screen.blit(surface, (0, 0))
            pygame.event.pump()
            self.clock.tick(self.fps)
            pygame.display.flip()
            return None
        return np.transpose(np.array(pygame.surfarray.pixels3d(surface)), axes=(1, 0, 2)).copy()

    def close(self) -> None:
        # Only the display: pygame.quit() would pull pygame from under other envs' painters in this process.
        if self.screen is not None:
            self.pygame.display.quit()
            self.screen = None


def parallel_env(n_carts: int = 3, spring_k: float = 2.0, max_cycles: int = 500, render_mode: str | None = None) -> SpringCarts:
    """The parallel-API env (what ``rlzoo.make_env("rlzoo/SpringCarts-v0")`` returns)."""
    return SpringCarts(n_carts, spring_k, max_cycles, render_mode)


def raw_env(n_carts: int = 3, spring_k: float = 2.0, max_cycles: int = 500, render_mode: str | None = None) -> Any:
    """The AEC form, from PettingZoo's own converter (which enforces the call order)."""
    return parallel_to_aec(SpringCarts(n_carts, spring_k, max_cycles, render_mode))


def env(**kwargs: Any) -> Any:
    """The AEC form with PettingZoo's usual checks: actions in bounds, calls in order."""
    return wrappers.OrderEnforcingWrapper(wrappers.AssertOutOfBoundsWrapper(raw_env(**kwargs)))


def aec_env(**kwargs: Any) -> Any:
    """The AEC form (kept for existing callers; the same as :func:`raw_env`)."""
    return raw_env(**kwargs)
