"""``rlzoo tune``'s confirmation stage and trial budgets: real Optuna/SQLite, real sb3-ppo, tiny budgets.

The confirmation study is built so that the search's best trial is luck: with a learning
rate of 1e-9 nothing is learned, and seed 0 happens to initialise a [26] network that
balances the pole for 500 steps on the search's evaluation episodes (found by scanning
widths 2-64: 26, 31 and 57 do). On fresh seeds the same choice is a random network (about
9-10 on seeds 2000-2003). The other trial learns (learning rate 3e-3). The preset in force
is the lucky network again (with another gamma, which an untrained network ignores), so it
is as bad on fresh seeds; the confirmation must pick the learning trial over the search's best.
"""

from __future__ import annotations

import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import time

import optuna
import pytest
import yaml

import rlzoo
from rlzoo.presets import load_presets
from rlzoo.tuning import spaces
from rlzoo.tuning.confirm import CONFIRM_SEED_OFFSET

BASE = {"policy": "MlpPolicy", "n_envs": 2, "n_steps": 64, "batch_size": 64, "n_epochs": 4, "gamma": 0.98, "gae_lambda": 0.8,
        "ent_coef": 0.0, "clip_range": 0.2}  # fmt: skip
ROLLOUT = 2 * 64
SPACE = {
    **{name: None for name in spaces.SB3_PPO},
    "learning_rate": {"type": "categorical", "choices": {"still": 1e-9, "learn": 3e-3}},
    "policy_kwargs.net_arch": {"type": "categorical", "choices": {"26": [26], "64-64": [64, 64]}},
    "gamma": 0.98,
}
LUCKY = {"learning_rate": "still", "policy_kwargs.net_arch": "26"}
LEARNS = {"learning_rate": "learn", "policy_kwargs.net_arch": "64-64"}
LEARNING_RATES = {"type": "float", "low": 1e-3, "high": 3e-3, "log": True}
BUDGET = {"steps": 1024, "eval_every": 128, "eval_episodes": 2}


def in_force_file(folder: pathlib.Path) -> pathlib.Path:
    """The preset in force: the lucky untrained [26] network, with gamma 0.99."""
    path = folder / "in_force.yml"
    hyperparams = {**BASE, "gamma": 0.99, "learning_rate": 1e-9, "policy_kwargs": {"net_arch": [26]}}
    path.write_text(yaml.safe_dump({"CartPole-v1": {"train": {}, "hyperparams": hyperparams}}))
    return path


@pytest.fixture(scope="module")
def confirmed(tmp_path_factory: pytest.TempPathFactory) -> rlzoo.tuning.TuneResult:
    out = tmp_path_factory.mktemp("confirm")
    return rlzoo.tune(
        "sb3-ppo", "CartPole-v1", trials=2, out=out, space=SPACE, pruner="none", seed=0, enqueue=[LUCKY, LEARNS],
        confirm_top=2, confirm_seeds=4, preset=in_force_file(out), **BUDGET,
    )  # fmt: skip


def trials(result: rlzoo.tuning.TuneResult) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=result.study_name, storage=result.storage).trials


def test_the_winner_is_chosen_by_its_confirmed_score_not_by_the_search(confirmed) -> None:
    lucky, learns = trials(confirmed)
    assert lucky.params == LUCKY and learns.params == LEARNS
    assert lucky.value > learns.value  # the search prefers the lucky initialisation
    ranked = confirmed.confirmation.ranked
    assert [entry.candidate.trial for entry in ranked][0] == learns.number
    assert ranked[0].iqm == max(entry.iqm for entry in ranked)
    by_trial = {entry.candidate.trial: entry for entry in ranked}
    # measured: the learning trial's IQM 60.4 on seeds 2000-2003 (46-331), the untrained [26] network's 9.0 (8.9-10.2)
    assert by_trial[learns.number].iqm > by_trial[lucky.number].iqm + 10
    assert by_trial[learns.number].iqm > by_trial[None].iqm + 10
    assert confirmed.best_hyperparams["learning_rate"] == 3e-3
    assert all(1024 <= entry.trained < 1024 + ROLLOUT for entry in ranked)  # every candidate on the study's budget


def test_best_preset_carries_its_provenance(confirmed) -> None:
    winner = confirmed.confirmation.winner
    entry = load_presets(confirmed.preset.resolve())["CartPole-v1"]  # the loader validates the block
    assert entry.hyperparams["learning_rate"] == 3e-3
    provenance = entry.provenance
    assert provenance.confirmed and provenance.search_seeds == (0,)
    assert provenance.confirmation_seeds == tuple(range(CONFIRM_SEED_OFFSET, CONFIRM_SEED_OFFSET + 4))
    assert provenance.confirmed_iqm == pytest.approx(winner.iqm, abs=1e-3)
    assert provenance.confirmed_ci == pytest.approx((winner.low, winner.high), abs=1e-3)
    assert provenance.train == {"total_timesteps": 1024, "eval_every": 128, "eval_episodes": 2, "checkpoint_every": 0, "threads": 1}
    assert provenance.study == {"name": confirmed.study_name, "storage": confirmed.storage, "trial": winner.candidate.trial}
    assert {"rlzoo", "stable-baselines3", "torch"} <= set(provenance.versions)
    assert provenance.date == time.strftime("%Y-%m-%d", time.gmtime()) or provenance.date == time.strftime("%Y-%m-%d")
    assert "## Confirmation" in confirmed.summary.read_text()


def test_the_storage_url_is_absolute(confirmed) -> None:
    assert confirmed.storage.startswith("sqlite:////")


def test_intermediate_values_are_reported_at_timesteps_and_trials_train_their_budget(confirmed) -> None:
    for trial in trials(confirmed):
        assert sorted(trial.intermediate_values) == list(range(128, 1024 + 1, 128))
        for final in trial.user_attrs["final_evaluations"]:
            assert 1024 <= final["num_timesteps"] < 1024 + ROLLOUT


def test_the_sweep_index_records_the_final_weights_score_beside_the_kept_weights_score(confirmed) -> None:
    with sqlite3.connect(confirmed.confirmation.folder / "index.sqlite") as db:
        rows = db.execute("SELECT final_mean, last_weights_mean, kept_timestep, num_timesteps FROM runs").fetchall()
    assert len(rows) == 3 * 4
    for kept_score, last_score, kept, trained in rows:
        assert last_score is not None and kept is not None
        if kept == trained:
            assert kept_score == last_score


def test_a_rollout_larger_than_the_budget_prunes_the_trial_with_a_reason(tmp_path) -> None:
    space = {**SPACE, "learning_rate": LEARNING_RATES, "policy_kwargs.net_arch": None, "n_steps": 1024}  # 2 envs x 1024 > 512
    result = rlzoo.tune("sb3-ppo", "CartPole-v1", trials=1, out=tmp_path, space=space, pruner="none", steps=512, confirm_top=0,
                        preset=in_force_file(tmp_path))  # fmt: skip
    assert result.counts["PRUNED"] == 1 and result.preset is None
    (trial,) = trials(result)
    assert "rollout of 2048 steps" in trial.user_attrs["pruned_because"] and "budget of 512" in trial.user_attrs["pruned_because"]
    assert trial.intermediate_values == {}


def test_a_confirmation_killed_mid_way_resumes_without_redoing_finished_runs(tmp_path) -> None:
    space = tmp_path / "space.yml"
    space.write_text(yaml.safe_dump({**SPACE, "learning_rate": LEARNING_RATES, "policy_kwargs.net_arch": None}))
    args = [sys.executable, "-m", "rlzoo.cli", "tune", "--agent", "sb3-ppo", "--env", "CartPole-v1", "--out", str(tmp_path),
            "--space", str(space), "--preset", str(in_force_file(tmp_path)), "--trials", "1", "--steps", "512",
            "--eval-every", "256", "--eval-episodes", "2", "--pruner", "none", "--confirm-top", "1", "--confirm-seeds", "2"]  # fmt: skip
    index = tmp_path / "sb3-ppo__CartPole-v1" / "confirm" / "index.sqlite"
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    first = None
    while time.monotonic() < deadline and first is None and run.poll() is None:
        time.sleep(0.1)
        if index.exists():
            try:
                with sqlite3.connect(index) as db:
                    first = db.execute("SELECT run_id, finished FROM runs WHERE status='done'").fetchone()
            except sqlite3.OperationalError:  # the driver is creating the table
                continue
    if first is None:
        run.kill()
        pytest.fail(f"no confirmation run finished in time: {run.communicate()[1][-2000:]}")
    os.kill(run.pid, signal.SIGKILL)
    run.communicate()

    rerun = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "confirmation on seeds 2000-2001" in rerun.stdout and "finished before" in rerun.stdout
    assert "sqlite:////" in rerun.stdout  # the storage, absolute
    with sqlite3.connect(index) as db:
        rows = dict(db.execute("SELECT run_id, finished FROM runs WHERE status='done'").fetchall())
    assert len(rows) == 2 * 2  # the trial and the preset in force, 2 seeds each
    assert rows[first[0]] == first[1]  # the run finished before the kill was not redone
    study = optuna.load_study(study_name="sb3-ppo__CartPole-v1", storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert len(study.trials) == 1  # the rerun finished the confirmation instead of searching further
    assert study.user_attrs["confirmation"]["status"] == "done"
