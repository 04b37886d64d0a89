"""``rlzoo tune``: real Optuna storages, real agents, tiny budgets.

Trials tune sb3-ppo on CartPole-v1 over one learning rate, with everything else fixed small
(2 envs x 32 steps per rollout, one epoch), so a trial takes a second or two after the
worker has imported torch.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time
import types

import optuna
import pytest
import sqlalchemy.exc
import yaml

import rlzoo
from rlzoo.errors import RLZooError
from rlzoo.tuning import spaces

TINY_SPACE = {
    "learning_rate": {"type": "float", "low": 1e-4, "high": 3e-3, "log": True},
    "n_envs": 2,
    "n_steps": 32,
    "batch_size": 64,
    "n_epochs": 1,
    # the rest of the built-in sb3-ppo space is left out: the preset's values
    **{name: None for name in spaces.SB3_PPO if name not in ("learning_rate", "n_steps", "batch_size")},
}
BUDGET = {"steps": 512, "eval_every": 256, "eval_episodes": 2}


def rlzoo_cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rlzoo.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def tune_args(out: pathlib.Path, space_file: pathlib.Path, *extra: str) -> list[str]:
    return ["tune", "--agent", "sb3-ppo", "--env", "CartPole-v1", "--out", str(out), "--space", str(space_file),
            "--eval-episodes", "2", "--pruner", "none", "--confirm-top", "0", *extra]  # fmt: skip


def load(out: pathlib.Path) -> optuna.Study:
    return optuna.load_study(study_name="sb3-ppo__CartPole-v1", storage=f"sqlite:///{out / 'study.db'}")


def states(study: optuna.Study) -> list[str]:
    return [trial.state.name for trial in study.get_trials()]


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory: pytest.TempPathFactory) -> rlzoo.tuning.TuneResult:
    """A finished 3-trial study (one worker process, sampler seed 0), without confirmation (tests/test_tune_confirm.py has it)."""
    out = tmp_path_factory.mktemp("tune")
    return rlzoo.tune("sb3-ppo", "CartPole-v1", trials=3, out=out, space=TINY_SPACE, pruner="none", seed=0, confirm_top=0, **BUDGET)


@pytest.fixture()
def space_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "space.yml"
    path.write_text(yaml.safe_dump(TINY_SPACE))
    return path


def test_import_rlzoo_does_not_import_optuna_but_rlzoo_tune_is_there() -> None:
    code = "import sys, rlzoo\nprint('optuna' in sys.modules, callable(rlzoo.tune))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False True"


def test_a_tiny_study_completes_its_trials_and_writes_preset_summary_and_plots(tiny_study) -> None:
    assert tiny_study.counts["COMPLETE"] == 3 and sum(tiny_study.counts.values()) == 3
    preset = yaml.safe_load(tiny_study.preset.read_text())
    assert list(preset) == ["CartPole-v1"]
    assert preset["CartPole-v1"]["provenance"]["confirmed"] is False  # confirm_top=0: the search's best, marked so
    assert preset["CartPole-v1"]["train"] == {"total_timesteps": 512, "eval_every": 256, "eval_episodes": 2}
    assert preset["CartPole-v1"]["hyperparams"] == tiny_study.best_hyperparams
    assert 1e-4 <= preset["CartPole-v1"]["hyperparams"]["learning_rate"] <= 3e-3
    text = tiny_study.summary.read_text()
    assert "COMPLETE" in text and "Best: trial" in text and "importance" in text
    assert sorted(p.name for p in tiny_study.plots) == ["optimization_history.png", "parallel_coordinate.png", "param_importances.png"]
    assert all(p.stat().st_size > 1000 for p in tiny_study.plots)


def test_the_objective_is_the_mean_of_the_reported_evaluations(tiny_study) -> None:
    study = optuna.load_study(study_name=tiny_study.study_name, storage=tiny_study.storage)
    for trial in study.trials:
        # 512 steps, an evaluation every 256 (the last one at the end): 2 reports, running means, at their timesteps
        assert sorted(trial.intermediate_values) == [256, 512]
        assert trial.value == pytest.approx(trial.intermediate_values[512])


def test_preset_written_by_tune_is_used_by_make_agent(tiny_study) -> None:
    agent = rlzoo.make_agent("sb3-ppo", "CartPole-v1", seed=0, preset=tiny_study.preset)
    assert agent.hyperparams["learning_rate"] == tiny_study.best_hyperparams["learning_rate"]
    assert agent.train_defaults == {"total_timesteps": 512, "eval_every": 256, "eval_episodes": 2}


def test_preset_written_by_tune_is_used_by_rlzoo_train_preset(tiny_study, tmp_path) -> None:
    run = rlzoo_cli("train", "--agent", "sb3-ppo", "--env", "CartPole-v1", "--preset", str(tiny_study.preset),
                    "--episodes", "2", "--no-progress", "--out", str(tmp_path))  # fmt: skip
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr
    assert "for 512 steps" in stdout  # the preset's total_timesteps
    loaded = rlzoo.load(tmp_path / "agent.zip")
    assert loaded.hyperparams["learning_rate"] == tiny_study.best_hyperparams["learning_rate"]


def test_a_trial_the_pruner_stops_is_pruned(tmp_path) -> None:
    impossible = optuna.pruners.ThresholdPruner(lower=1e9)  # prunes at the first report
    result = rlzoo.tune(
        "sb3-ppo", "CartPole-v1", trials=1, out=tmp_path, space=TINY_SPACE, pruner=impossible, seed=0, confirm_top=0, **BUDGET
    )
    assert result.counts["PRUNED"] == 1 and result.counts["COMPLETE"] == 0
    assert result.preset is None
    trial = optuna.load_study(study_name=result.study_name, storage=result.storage).trials[0]
    assert list(trial.intermediate_values) == [256]  # stopped after its first evaluation, at step 256


def test_two_processes_on_one_sqlite_storage_share_the_study(tmp_path, space_file) -> None:
    runs = [rlzoo_cli(*tune_args(tmp_path, space_file, "--trials", "2", "--steps", "512", "--seed", str(i))) for i in range(2)]
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
    study = load(tmp_path)
    assert states(study) == ["COMPLETE"] * 4
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]
    assert len({t.user_attrs["worker"]["pid"] for t in study.trials}) == 2


def test_rerunning_after_a_kill_continues_the_study_and_fails_the_killed_trial(tmp_path, space_file) -> None:
    run = rlzoo_cli(*tune_args(tmp_path, space_file, "--trials", "50", "--steps", "4096", "--eval-every", "1024"))
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # wait for one complete trial and the next one under way
        time.sleep(0.5)
        if not (tmp_path / "study.db").exists():
            continue
        try:
            trials = load(tmp_path).trials
        except (KeyError, sqlalchemy.exc.OperationalError):  # the command is still creating the study
            continue
        if any(t.state.name == "COMPLETE" for t in trials) and any(t.state.name == "RUNNING" and "worker" in t.user_attrs for t in trials):
            break
    else:
        run.kill()
        pytest.fail(f"no trial completed in time: {run.communicate()[1][-2000:]}")
    os.kill(run.pid, signal.SIGKILL)  # the command only: its worker must not live on
    run.communicate()
    killed = [t for t in load(tmp_path).trials if t.state.name == "RUNNING"]
    assert len(killed) == 1

    rerun = rlzoo_cli(*tune_args(tmp_path, space_file, "--trials", "1", "--steps", "512"))
    _, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr
    trials = load(tmp_path).trials
    assert trials[killed[0].number].state.name == "FAIL"
    assert "RUNNING" not in states(load(tmp_path))
    assert trials[-1].number == killed[0].number + 1 and trials[-1].state.name == "COMPLETE"


def test_conditional_entries_are_sampled_only_when_their_condition_holds() -> None:
    space = spaces.space_for("kerasrl2-dqn")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        drawn = spaces.sample(trial, space)
        expected = {"boltzmann": {"tau"}, "eps_greedy": {"eps"}}[drawn["policy"]]
        assert set(drawn["policy_params"]) == expected
        assert isinstance(drawn["hidden_layers"], list)  # the label is the parameter, the list the value
        study.tell(trial, 0.0)


def test_a_space_file_replaces_removes_and_adds_entries(tmp_path) -> None:
    path = tmp_path / "space.yml"
    path.write_text("learning_rate: 0.0005\ngamma: null\nnb_steps_warmup: {type: int, low: 10, high: 1000, log: true}\n")
    space = spaces.space_for("kerasrl2-dqn", path)
    assert space["learning_rate"] == 0.0005 and "gamma" not in space
    assert space["nb_steps_warmup"]["type"] == "int"


def test_a_malformed_space_names_the_entry_and_the_fix(tmp_path) -> None:
    with pytest.raises(RLZooError, match="learning_rate: unknown type 'logfloat': valid types are float, int, categorical"):
        spaces.space_for("kerasrl2-dqn", {"learning_rate": {"type": "logfloat", "low": 1, "high": 2}})


def test_the_recipe_is_reachable_by_name_and_an_unknown_name_lists_the_valid_ones() -> None:
    from rlzoo.agents import PRESETS_DIR
    from rlzoo.presets import find_preset

    factory = types.SimpleNamespace(preset_file=PRESETS_DIR / "kerasrl2-dqn.yml")  # KerasRL2DQN's, without importing TensorFlow
    assert find_preset(factory, "rlzoo/WindyCartPole-v0", "recipe").hyperparams == {}
    with pytest.raises(RLZooError, match="no preset named 'recipes'.*valid names are recipe"):
        find_preset(factory, "rlzoo/WindyCartPole-v0", "recipes")
