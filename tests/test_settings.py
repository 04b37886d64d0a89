"""``rlzoo.settings``: one resolution order for every entry point, and one run three ways."""

from __future__ import annotations

import json
import pathlib
import sqlite3
import subprocess
import sys

import optuna
import pytest
import yaml

import rlzoo
from rlzoo.errors import ArgumentError
from rlzoo.settings import EVAL_EPISODES, MissingBudgetError, TrainSettings, resolve_settings
from rlzoo.tuning import spaces


def test_the_argument_wins_then_the_preset_then_rlzoos_default() -> None:
    preset = {"total_timesteps": 5000, "eval_every": 700}
    assert resolve_settings(preset) == TrainSettings(5000, 700, EVAL_EPISODES)
    assert resolve_settings(preset, total_timesteps=2000, eval_episodes=3) == TrainSettings(2000, 700, 3)
    assert resolve_settings({}, total_timesteps=2000).eval_every == 200  # a tenth of the budget


def test_zero_turns_periodic_evaluation_off_and_none_takes_the_next_source() -> None:
    assert resolve_settings({"total_timesteps": 1000, "eval_every": 0}).eval_every == 0
    assert resolve_settings({"total_timesteps": 1000, "eval_every": 300}, eval_every=0).eval_every == 0
    assert resolve_settings({"total_timesteps": 1000, "eval_every": 300}, eval_every=None).eval_every == 300


def test_a_missing_budget_is_one_error_with_one_message() -> None:
    with pytest.raises(MissingBudgetError, match="no preset with a step budget for env 'X-v0': pass total_timesteps"):
        resolve_settings({}, agent="sb3-ppo", env="X-v0")
    with pytest.raises(MissingBudgetError):
        rlzoo.train(rlzoo.make_agent("sb3-ppo", "Pendulum-v1", seed=0))  # no preset for sb3-ppo there


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"total_timesteps": 0}, "total_timesteps=int 0"),
        ({"eval_every": -1}, "eval_every=int -1"),
        ({"eval_episodes": 1.5}, "eval_episodes=float 1.5"),
        ({"seed": -1}, "seed=int -1"),
        ({"threads": 0}, "threads=int 0"),
    ],
)
def test_a_bad_value_names_the_setting_and_what_is_valid(arguments: dict, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        resolve_settings({"total_timesteps": 100}, **arguments)


def test_a_bad_preset_value_names_the_preset() -> None:
    with pytest.raises(ArgumentError, match="eval_every=str '5' in the preset of 'a' for 'e'"):
        resolve_settings({"total_timesteps": 100, "eval_every": "5"}, agent="a", env="e")


def test_settings_round_trip_through_json_and_refuse_foreign_fields() -> None:
    settings = TrainSettings(3000, 300, 10, 0, 7, 1)
    assert TrainSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings
    with pytest.raises(ArgumentError):
        TrainSettings.from_dict({**settings.to_dict(), "extra": 1})
    with pytest.raises(ArgumentError):
        TrainSettings.from_dict({**settings.to_dict(), "total_timesteps": -5})


def test_a_preset_files_train_section_overrides_the_agents_own(tmp_path: pathlib.Path) -> None:
    preset = tmp_path / "p.yml"
    preset.write_text(yaml.safe_dump({"CartPole-v1": {"train": {"eval_episodes": 3}, "hyperparams": {}}}))
    agent = rlzoo.make_agent("kerasrl2-dqn", "CartPole-v1", seed=0, preset=preset)
    assert agent.train_defaults == {"total_timesteps": 100000, "eval_every": 5000, "eval_episodes": 3}  # the rest from the agent's own preset


def test_every_backend_evaluates_periodically_by_default_and_saves_its_settings(tmp_path: pathlib.Path) -> None:
    agent = rlzoo.train("kerasrl2-dqn", "CartPole-v0", total_timesteps=300, seed=0)  # its preset sets no cadence
    assert [step for step, _, _ in agent.history.evaluations] == [30 * k for k in range(1, 11)]
    assert agent.train_settings == TrainSettings(300, 30, EVAL_EPISODES, 0, 0, 1)
    assert rlzoo.load(rlzoo.save(agent, tmp_path / "a.zip")).train_settings == agent.train_settings


# -- one cell, three ways ------------------------------------------------------------------------
AGENT, ENV, STEPS, SEED = "kerasrl2-dqn", "CartPole-v1", 3000, 0
RECIPE_LEARNING_RATE = 0.001


def test_train_sweep_and_an_enqueued_tuning_trial_give_the_identical_final_evaluation(tmp_path: pathlib.Path) -> None:
    """The issue's measurement: kerasrl2-dqn on CartPole-v1, seed 0, 3000 steps scored 254.5 through
    ``rlzoo train`` and 435.8 through ``rlzoo sweep``. With one resolution order, the CLI, a
    one-seed sweep and a tuning trial of the preset's own point run the same training and the
    same final evaluation, each in its own process."""
    out = tmp_path / "train"
    command = [sys.executable, "-m", "rlzoo.cli", "train", "--agent", AGENT, "--env", ENV, "--steps", str(STEPS),
               "--seed", str(SEED), "--out", str(out), "--no-progress"]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    trained = rlzoo.load(out / "agent.zip")

    rlzoo.sweep([AGENT], [ENV], seeds=[SEED], steps=STEPS, out=tmp_path / "sweep", workers=1)
    with sqlite3.connect(tmp_path / "sweep" / "index.sqlite") as db:
        returns, settings = db.execute("SELECT final_returns, settings FROM runs").fetchone()

    space = {name: None for name in spaces.KERASRL2_DQN if name != "learning_rate"}
    result = rlzoo.tune(AGENT, ENV, trials=1, steps=STEPS, out=tmp_path / "tune", space=space, pruner="none", seed=0,
                        enqueue=[{"learning_rate": RECIPE_LEARNING_RATE}], confirm_top=0)  # fmt: skip
    trial = optuna.load_study(study_name=result.study_name, storage=result.storage).trials[0]
    assert trial.params == {"learning_rate": RECIPE_LEARNING_RATE}

    assert trained.last_evaluation is not None
    assert list(trained.last_evaluation.returns) == json.loads(returns) == trial.user_attrs["final_evaluations"][0]["returns"]
    recorded = trained.train_settings.to_dict()
    assert recorded == json.loads(settings)
    assert {**trial.user_attrs["train"], "seed": SEED} == recorded
