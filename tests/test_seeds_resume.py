"""Seeds side by side, killed and resumed, and in a sweep: each seed as its solo run would be.

Apart from tests/test_seeds.py so that the two files run in two worker processes (each
keras-rl2 agent adds to its process's TensorFlow graph, and these tests build many).
"""

from __future__ import annotations

import shutil

import pytest
from test_seeds import BATCH, ENV, ENV_KWARGS, SETTINGS, assert_same_run

import rlzoo
from rlzoo.callbacks import Callback
from rlzoo.checkpoint import latest_checkpoint
from rlzoo.seeds import seed_folder, train_seed_outcomes, train_seeds
from rlzoo.training import resume


class _KillAt(Callback):
    """Stands in for a kill -9: the process's state is lost, only the checkpoints on disk remain."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step(self, agent) -> bool:
        if agent.num_timesteps >= self.step:
            raise KeyboardInterrupt
        return True


def test_a_killed_batch_resumes_each_seed_as_its_checkpoint_resumes_alone(tmp_path) -> None:
    folder, copy = tmp_path / "batch", tmp_path / "copy"
    settings = {**BATCH, "checkpoint_every": 300, "checkpoint_dir": folder}
    with pytest.raises(KeyboardInterrupt):
        train_seed_outcomes("kerasrl2-dqn", ENV, [0, 1], callbacks=[_KillAt(700)], **settings)
    shutil.copytree(folder, copy)
    resumed = train_seeds("kerasrl2-dqn", ENV, [0, 1], **settings)
    for seed, agent in zip([0, 1], resumed, strict=True):
        assert agent.num_timesteps == 900
        assert_same_run(agent, resume(seed_folder(copy, seed)))


def test_seeds_at_different_steps_resume_and_a_finished_seed_is_not_trained_again(tmp_path) -> None:
    folder, copy = tmp_path / "batch", tmp_path / "copy"
    settings = {**SETTINGS, "checkpoint_every": 300}
    env = rlzoo.make_env(ENV, **ENV_KWARGS)
    rlzoo.train(rlzoo.make_agent("kerasrl2-dqn", env, seed=2), seed=2, checkpoint_dir=seed_folder(folder, 2), **settings)
    for seed, kill in [(3, 400), (4, 700)]:
        with pytest.raises(KeyboardInterrupt):
            agent = rlzoo.make_agent("kerasrl2-dqn", rlzoo.make_env(ENV, **ENV_KWARGS), seed=seed)
            rlzoo.train(agent, seed=seed, checkpoint_dir=seed_folder(folder, seed), callbacks=[_KillAt(kill)], **settings)
    finished = latest_checkpoint(seed_folder(folder, 2))
    shutil.copytree(folder, copy)
    resumed = train_seeds("kerasrl2-dqn", ENV, [2, 3, 4], checkpoint_dir=folder, env_kwargs=ENV_KWARGS, **settings)
    assert latest_checkpoint(seed_folder(folder, 2)) == finished  # nothing trained, nothing written
    for seed, agent in zip([2, 3, 4], resumed, strict=True):
        assert_same_run(agent, resume(seed_folder(copy, seed)))


# -- the sweep ------------------------------------------------------------------------------------
def test_a_sweep_task_holds_a_cells_seeds_for_kerasrl2_only() -> None:
    from rlzoo.experiments.batch import group_runs
    from rlzoo.experiments.grid import make_grid

    specs = make_grid(["kerasrl2-dqn", "sb3-ppo"], ["CartPole-v0", "CartPole-v1"], 3, steps=100)
    tasks = group_runs(specs)
    assert sorted(len(task) for task in tasks) == [1] * 6 + [3, 3]
    for task in tasks:
        assert len({(spec.agent, spec.env) for spec in task}) == 1
    assert sorted(spec.run_id for task in tasks for spec in task) == sorted(spec.run_id for spec in specs)
    assert all(len(task) == 1 for task in group_runs(specs, batch_seeds=False))


def test_a_batched_sweep_task_records_each_seed_as_its_solo_run(tmp_path) -> None:
    from rlzoo.experiments.batch import perform_group
    from rlzoo.experiments.grid import make_grid
    from rlzoo.experiments.run import RUNS_FOLDER, perform

    specs = make_grid(["kerasrl2-dqn"], ["CartPole-v1"], 2, steps=1000, eval_every=100)  # seed 1 keeps step 800
    (tmp_path / "batched").mkdir(), (tmp_path / "solo").mkdir()  # the driver's results directories
    batched = perform_group(specs, str(tmp_path / "batched"), True)
    solo = [perform(spec, str(tmp_path / "solo")) for spec in specs]
    for spec, one, other in zip(specs, batched, solo, strict=True):
        assert one.status == other.status == "done", one.error
        assert (one.run_id, one.num_timesteps, one.final_returns, one.curve) == (
            other.run_id,
            other.num_timesteps,
            other.final_returns,
            other.curve,
        )
        # The weights training ended with are scored as a solo run's are, not replaced by the kept ones.
        assert (one.kept_timestep, one.last_weights_mean) == (other.kept_timestep, other.last_weights_mean)
        assert (tmp_path / "batched" / RUNS_FOLDER / spec.run_id / "agent.zip").is_file()
    assert any(one.kept_timestep != one.num_timesteps and one.last_weights_mean != one.final_mean for one in batched)
