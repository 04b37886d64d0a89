"""The CLI's promise: every mistake is one line ``rlzoo: error: ...`` with exit 2, and a
refused command leaves no folder behind; the API refuses wrong types as RLZooErrors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rlzoo
from rlzoo import video
from rlzoo.cli import main
from rlzoo.errors import ArgumentError, EnvConfigError, RLZooError, TrainingDivergedError


def one_line_error(capsys, argv: list[str]) -> str:
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rlzoo: error: "), err
    return lines[0]


@pytest.mark.parametrize("argv", [
    [], ["bogus"], ["train", "--steps", "0"], ["train", "--agent"], ["train", "--tensorboard", ""],
    ["tune", "--agent", "sb3-ppo"], ["tune", "--agent", "sb3-ppo", "--env", "CartPole-v1", "--trials", "x"],
    ["report"], ["sweep", "--nope"], ["evaluate"], ["record", "a.zip", "--episodes", "0"], ["enjoy", "a.zip", "--seed", "-1"],
    ["list", "extra"],
])  # fmt: skip
def test_every_usage_error_is_one_line_with_exit_2(capsys, argv) -> None:
    line = one_line_error(capsys, argv)
    assert "--help" in line  # the usage is one flag away, not printed


@pytest.mark.parametrize("mistake", [["--agent", "sb3-ppp"], ["--env", "CartPole-v9"], ["--set", "nope=1"]])
def test_a_mistyped_agent_env_or_setting_leaves_no_run_folder(capsys, tmp_path, monkeypatch, mistake) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["train", "--agent", "sb3-ppo", "--env", "CartPole-v1", "--steps", "64", *mistake]
    one_line_error(capsys, argv)
    assert not (tmp_path / "runs").exists()


def test_a_misspelled_variant_kwarg_through_gym_make_suggests_the_right_one() -> None:
    with pytest.raises(EnvConfigError, match="did you mean 'noise_std'"):
        gym.make("rlzoo/NoisyCartPole-v0", nosie_std=0.1)


@pytest.fixture(scope="module")
def agent() -> rlzoo.Agent:
    return rlzoo.make_agent("sb3-ppo", "CartPole-v1", n_steps=32, batch_size=32, n_envs=1)


@pytest.mark.parametrize("call", [
    lambda agent, tmp: rlzoo.make_agent("sb3-ppo", "CartPole-v1", preset=123),
    lambda agent, tmp: rlzoo.make_agent("sb3-ppo", "CartPole-v1", preset=b"recipe"),
    lambda agent, tmp: rlzoo.make_agent("sb3-ppo", "CartPole-v1", preset=["recipe"]),
    lambda agent, tmp: rlzoo.train(agent, total_timesteps=32, callbacks=5),
    lambda agent, tmp: rlzoo.train(agent, total_timesteps=32, tensorboard_log=""),
    lambda agent, tmp: rlzoo.save(agent, None),
    lambda agent, tmp: rlzoo.save(agent, 123),
    lambda agent, tmp: rlzoo.save(agent, ""),
    lambda agent, tmp: rlzoo.save(None, tmp / "a.zip"),
    lambda agent, tmp: rlzoo.save("sb3-ppo", tmp / "a.zip"),
    lambda agent, tmp: video.record(agent, tmp / "v", episodes="1"),
    lambda agent, tmp: video.record(agent, None),
    lambda agent, tmp: video.record(agent, tmp / "a-file"),
    lambda agent, tmp: video.record(None, tmp / "v"),
], ids=["preset-int", "preset-bytes", "preset-list", "callbacks-int", "tensorboard-empty", "save-None", "save-int",
        "save-empty", "save-agent-None", "save-agent-name", "record-episodes-str", "record-dir-None", "record-dir-file",
        "record-agent-None"])  # fmt: skip
def test_wrong_types_are_argument_errors(agent, tmp_path, call) -> None:
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ArgumentError):
        call(agent, tmp_path)


def test_a_preset_of_50_mb_is_refused_before_it_is_parsed(tmp_path) -> None:
    big = tmp_path / "big.yml"
    big.write_bytes(b"a: " + b"x" * 50_000_000)
    with pytest.raises(RLZooError, match="larger than"):
        rlzoo.make_agent("sb3-ppo", "CartPole-v1", preset=big)


def test_enjoy_on_a_display_nothing_answers_on_is_an_error(capsys, monkeypatch) -> None:
    monkeypatch.setenv("DISPLAY", ":97")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("SDL_VIDEODRIVER", raising=False)
    assert "cannot be reached" in one_line_error(capsys, ["enjoy", "missing.zip"])


class NanFromReset(gym.Env):
    observation_space = gym.spaces.Box(-1, 1, (2,))
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.full(2, np.nan, np.float32), {}

    def step(self, action):
        return np.zeros(2, np.float32), 1.0, False, False, {}


def test_sb3_ppo_on_nan_observations_stops_with_rlzoos_own_error() -> None:
    with pytest.raises(TrainingDivergedError, match="non-finite observation"):
        rlzoo.train("sb3-ppo", NanFromReset(), total_timesteps=64, eval_every=0, n_steps=32, batch_size=32, n_envs=1)


def test_sb3_acting_on_a_nan_observation_is_rlzoos_own_error(agent) -> None:
    with pytest.raises(ArgumentError, match="NaN or inf"):
        agent.predict(np.full(4, np.nan, np.float32))
    with pytest.raises(ArgumentError, match="NaN or inf"):
        agent.predict_batch(np.full((3, 4), np.inf, np.float32))
