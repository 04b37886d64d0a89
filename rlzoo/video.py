"""Watching a trained agent: MP4 recordings (:func:`record`) and a live window (:func:`play`).

Recording uses Gymnasium's ``RecordVideo`` (moviepy, the ``video`` extra; moviepy encodes
with the ffmpeg binary that ``imageio-ffmpeg`` ships, so no download happens). A PettingZoo
env is filmed frame by frame and written with Gymnasium's ``save_video``, the same writer.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys
from typing import Any

from rlzoo.agent import Agent
from rlzoo.errors import MissingDependencyError, RLZooError
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
    if episodes <= 0:
        raise ValueError(f"episodes must be positive, got {episodes}")
    if importlib.util.find_spec("moviepy") is None:
        raise MissingDependencyError("recording videos", "video")
    directory = pathlib.Path(directory)
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
    if not has_display():
        raise RLZooError(NO_DISPLAY)
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
