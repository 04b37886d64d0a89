"""Watching agents: ``rlzoo record`` writes MP4s, ``rlzoo enjoy`` plays in a window or says why it cannot."""

import os
import subprocess
import sys

import pytest

import rlzoo
from rlzoo.video import record


@pytest.fixture(scope="module")
def saved_agent(tmp_path_factory) -> str:
    agent = rlzoo.make_agent("sb3-dqn", "CartPole-v1", seed=0)  # untrained: short episodes, quick videos
    return str(rlzoo.save(agent, tmp_path_factory.mktemp("agent") / "agent.zip"))


def rlzoo_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, "-m", "rlzoo.cli", *args], capture_output=True, text=True, timeout=300, env={**environment, **env})


def is_mp4(path) -> bool:
    return path.stat().st_size > 1000 and path.read_bytes()[4:8] == b"ftyp"


def test_record_writes_one_mp4_per_episode(saved_agent, tmp_path) -> None:
    result = rlzoo_cli("record", saved_agent, "--episodes", "2", "--out", str(tmp_path))

    assert result.returncode == 0, result.stderr
    videos = sorted(tmp_path.glob("*.mp4"))
    assert [v.name for v in videos] == ["sb3-dqn-episode-0.mp4", "sb3-dqn-episode-1.mp4"]
    assert all(is_mp4(v) for v in videos) and result.stdout.count("wrote ") == 2


def test_spring_carts_records_too(tmp_path) -> None:
    agent = rlzoo.make_agent("sb3-ppo", "rlzoo/SpringCarts-v0", seed=0)

    (video,) = record(agent, tmp_path, episodes=1, seed=0)

    assert is_mp4(video)


def test_enjoy_without_a_display_says_so_in_one_line(saved_agent) -> None:
    result = rlzoo_cli("enjoy", saved_agent)

    assert result.returncode == 2
    assert result.stderr.startswith("rlzoo: error: there is no display") and result.stderr.count("\n") == 1


def test_enjoy_plays_in_a_window_where_there_is_a_display(saved_agent) -> None:
    # SDL's dummy driver stands in for a real display: the window opens off-screen.
    result = rlzoo_cli("enjoy", saved_agent, "--episodes", "1", DISPLAY=":0", SDL_VIDEODRIVER="dummy")

    assert result.returncode == 0, result.stderr
    assert "sb3-dqn on CartPole-v1: mean return" in result.stdout
