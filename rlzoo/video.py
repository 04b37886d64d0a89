"""Watching a trained agent: MP4 recordings (:func:`record`) and a live window (:func:`play`).

Recording uses Gymnasium's ``RecordVideo`` (moviepy, the ``video`` extra; moviepy encodes
with the ffmpeg binary that ``imageio-ffmpeg`` ships, so no download happens). A PettingZoo
env is filmed frame by frame and written with Gymnasium's ``save_video``, the same writer.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import socket
import sys
from typing import Any

from rlzoo.agent import Agent
from rlzoo.checks import integer, shown
from rlzoo.errors import ArgumentError, MissingDependencyError, RLZooError
from rlzoo.evaluation import EvalResult, evaluate
from rlzoo.multiagent import is_parallel_env
from rlzoo.registry import make_env

NO_DISPLAY = (
    "there is no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set): record videos instead, with rlzoo record"
)


def record(agent: Agent, directory: str | os.PathLike[str], episodes: int = 3, *, seed: int | None = None) -> list[pathlib.Path]:
    """Record ``episodes`` greedy episodes of ``agent`` on a fresh instance of its env as MP4 files.

    Parameters
    ----------
    agent:
        A trained agent whose env was made by id (as every saved agent's was).
    directory:
        Where the videos go (created if missing): ``{agent.name}-episode-{i}.mp4``.
    episodes:
        How many episodes, one file each.
    seed:
        Seed of the first reset (the same episodes as ``rlzoo evaluate --seed``).

    Returns
    -------
    list[pathlib.Path]
        The video files, in episode order.
    """
    _check_agent(agent)
    _check_episodes(episodes)
    if not isinstance(directory, (str, os.PathLike)) or isinstance(os.fspath(directory), bytes) or not os.fspath(directory).strip():
        raise ArgumentError(f"directory must be a folder path (a non-empty str or pathlib.Path), got {shown(directory)}")
    directory = pathlib.Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ArgumentError(f"directory {str(directory)!r} is a file, not a folder: give a folder for the videos")
    if importlib.util.find_spec("moviepy") is None:
        raise MissingDependencyError("recording videos", "video")
    prefix = agent.name or "agent"
    if not has_display():  # off-screen frames need no window: SDL's dummy driver, without its "XDG_RUNTIME_DIR is invalid" line
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    env = _make_env(agent, "rgb_array")
    try:
        if _is_parallel(env):
            _film_parallel(agent, env, directory, episodes, seed, prefix)
        else:
            from gymnasium.wrappers import RecordVideo

            recorder = RecordVideo(env, str(directory), episode_trigger=lambda _: True, name_prefix=prefix)
            try:
                evaluate(agent, recorder, episodes, seed=seed)
            finally:
                recorder.close()
    finally:
        env.close()
    return [directory / f"{prefix}-episode-{index}.mp4" for index in range(episodes)]


def play(agent: Agent, episodes: int = 3, *, seed: int | None = None) -> EvalResult:
    """Play ``episodes`` greedy episodes in a window (``render_mode="human"``).

    Raises
    ------
    RLZooError: there is no display to open a window on (Linux without ``DISPLAY`` or ``WAYLAND_DISPLAY``).
    """
    _check_agent(agent)
    _check_episodes(episodes)
    problem = display_problem()
    if problem is not None:
        raise RLZooError(problem)
    env = _make_env(agent, "rgb_array")
    if "human" in env.metadata.get("render_modes", []):
        env.close()
        env = _make_env(agent, "human")
    else:  # an env that only draws frames (rlzoo's variants): Gymnasium shows them in a window
        from gymnasium.wrappers import HumanRendering

        env = HumanRendering(env)
    try:
        return evaluate(agent, env, episodes, seed=seed)
    finally:
        env.close()


def has_display() -> bool:
    """Whether a window can open: always on macOS and Windows, on Linux when an X or Wayland display is set."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def display_problem() -> str | None:
    """Why no window can open (no display set, or the one set cannot be reached), or ``None``.

    A display named in ``DISPLAY`` but not running would otherwise let SDL fall back to
    drawing nowhere: the episodes play unseen and the command ends as if all went well.
    """
    if not has_display():
        return NO_DISPLAY
    if not sys.platform.startswith("linux"):
        return None
    if os.environ.get("SDL_VIDEODRIVER", "x11").lower() not in ("x11", "wayland"):
        return None  # a driver the user chose (SDL's dummy or offscreen one, a framebuffer) needs no server
    wayland, x11 = os.environ.get("WAYLAND_DISPLAY"), os.environ.get("DISPLAY")
    if wayland:
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")
        path = wayland if os.path.isabs(wayland) else os.path.join(runtime, wayland)
        if _can_connect(socket.AF_UNIX, path):
            return None
    if x11 and _x11_reachable(x11):
        return None
    shown_display = f"WAYLAND_DISPLAY={wayland!r}" if wayland and not x11 else f"DISPLAY={x11!r}"
    return f"the display {shown_display} cannot be reached (no X or Wayland server answers there): start one, or use rlzoo record"


def _x11_reachable(display: str) -> bool:
    """Whether an X server answers at ``display`` (``[host]:N[.screen]``)."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    if host in ("", "unix") or host.startswith("/"):
        socket_path = host if host.startswith("/") else f"/tmp/.X11-unix/X{number}"
        return _can_connect(socket.AF_UNIX, socket_path) or _can_connect(socket.AF_UNIX, "\0" + socket_path)
    return _can_connect(socket.AF_INET, (host, 6000 + int(number)))


def _can_connect(family: int, address: Any) -> bool:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.settimeout(2.0)
            probe.connect(address)
        return True
    except (OSError, ValueError):
        return False


def _check_agent(agent: Any) -> None:
    if not isinstance(agent, Agent):
        raise ArgumentError(f"agent must be an rlzoo Agent (from rlzoo.load, rlzoo.train or rlzoo.make_agent), got {shown(agent)}")


def _check_episodes(episodes: Any) -> None:
    problem = integer(1)(episodes)
    if problem is not None:
        raise ArgumentError(f"episodes={shown(episodes)}: {problem}")


def _make_env(agent: Agent, render_mode: str) -> Any:
    if agent.env_id is None:
        raise RLZooError("this agent's env is not registered, so it cannot be rebuilt to render it")
    return make_env(agent.env_id, **{**agent.env_kwargs, "render_mode": render_mode})


def _is_parallel(env: Any) -> bool:
    return is_parallel_env(env)


def _film_parallel(agent: Agent, env: Any, directory: pathlib.Path, episodes: int, seed: int | None, prefix: str) -> None:
    """A PettingZoo parallel env's episodes, the agent acting for every agent, one file each."""
    from gymnasium.utils.save_video import save_video

    for index in range(episodes):
        observations, _ = env.reset(seed=seed if index == 0 else None)
        frames = [env.render()]
        while env.agents:
            observations, *_ = env.step({name: agent.predict(observations[name]) for name in env.agents})
            frames.append(env.render())
        fps = env.metadata.get("render_fps", 30)
        save_video(frames, str(directory), episode_trigger=lambda _: True, name_prefix=prefix, episode_index=index, fps=fps)
