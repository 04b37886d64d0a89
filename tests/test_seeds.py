"""rlzoo.train_seeds: seeds side by side give each seed's solo run, and resume as solo runs do."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import rlzoo
from rlzoo.callbacks import Callback
from rlzoo.checkpoint import latest_checkpoint
from rlzoo.errors import ArgumentError
from rlzoo.seeds import batches_seeds, seed_folder, train_seed_outcomes, train_seeds
from rlzoo.training import resume

# CartPole-v1 cut at 40 steps: early episodes fail (terminated) after 9-40 steps, later ones
# reach the limit (truncated), so seeds' episodes end at different steps and both ways.
ENV, ENV_KWARGS = "CartPole-v1", {"max_episode_steps": 40}
SETTINGS = {"total_timesteps": 900, "eval_every": 300, "eval_episodes": 2}
BATCH = {**SETTINGS, "env_kwargs": ENV_KWARGS}
SEEDS = [0, 1, 2, 3, 4]


def weights_of(agent) -> list[np.ndarray]:
    online, target = agent.get_weights()
    return [*online, *target]


def assert_same_run(batched, solo) -> None:
    """Bit-identical weights, episodes and evaluations (same machine, same process)."""
    assert batched.num_timesteps == solo.num_timesteps
    assert batched.history.episodes == solo.history.episodes
    assert batched.history.evaluations == solo.history.evaluations
    assert batched.history.kept_timestep == solo.history.kept_timestep
    for x, y in zip(weights_of(batched), weights_of(solo), strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def solo_runs() -> dict[int, rlzoo.Agent]:
    runs = {}
    for seed in SEEDS:
        agent = rlzoo.make_agent("kerasrl2-dqn", rlzoo.make_env(ENV, **ENV_KWARGS), seed=seed)
        runs[seed] = rlzoo.train(agent, seed=seed, **SETTINGS)
    return runs


def test_the_solo_runs_end_episodes_both_ways_at_different_steps(solo_runs) -> None:
    for agent in solo_runs.values():
        memory = agent.memory
        lengths = [length for _, _, length in agent.history.episodes]
        assert memory.terminated[: memory.nb_entries].any() and 40 in lengths  # terminations and truncations
    assert len({tuple(agent.history.episodes) for agent in solo_runs.values()}) == len(SEEDS)


@pytest.mark.parametrize("seeds", [[2], [4, 2], SEEDS], ids=["K=1", "K=2", "K=5"])
def test_a_seed_beside_others_trains_exactly_as_alone(solo_runs, seeds) -> None:
    batched = train_seeds("kerasrl2-dqn", ENV, seeds, **BATCH)
    for seed, agent in zip(seeds, batched, strict=True):
        assert agent.seed == seed
        assert_same_run(agent, solo_runs[seed])


def test_a_seed_from_a_batch_saves_and_loads_as_an_ordinary_agent(solo_runs, tmp_path) -> None:
    (agent,) = train_seeds("kerasrl2-dqn", ENV, [3], **BATCH)
    loaded = rlzoo.load(rlzoo.save(agent, tmp_path / "agent.zip"))
    for x, y in zip(weights_of(loaded), weights_of(solo_runs[3]), strict=True):
        np.testing.assert_array_equal(x, y)


def test_kerasrl2_batches_seeds_and_sb3_does_not() -> None:
    assert batches_seeds(type(rlzoo.make_agent("kerasrl2-dqn", "CartPole-v1", seed=0)))
    assert not batches_seeds(type(rlzoo.make_agent("sb3-ppo", "CartPole-v1", seed=0)))


def test_unbatched_seeds_are_solo_runs(solo_runs) -> None:
    for seed, agent in zip([1, 0], train_seeds("kerasrl2-dqn", ENV, [1, 0], batch=False, **BATCH), strict=True):
        assert_same_run(agent, solo_runs[seed])


def test_seeds_must_be_distinct() -> None:
    with pytest.raises(ArgumentError, match=r"seeds must be distinct.*\[1, 1\]"):
        train_seeds("kerasrl2-dqn", ENV, [1, 1], total_timesteps=10)


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

    specs = make_grid(["kerasrl2-dqn"], ["CartPole-v1"], 2, steps=200)
    (tmp_path / "batched").mkdir(), (tmp_path / "solo").mkdir()  # the driver's results directories
    batched = perform_group(specs, str(tmp_path / "batched"))
    solo = [perform(spec, str(tmp_path / "solo")) for spec in specs]
    for spec, one, other in zip(specs, batched, solo, strict=True):
        assert one.status == other.status == "done", one.error
        assert (one.run_id, one.num_timesteps, one.final_returns, one.curve) == (other.run_id, other.num_timesteps, other.final_returns, other.curve)
        assert (tmp_path / "batched" / RUNS_FOLDER / spec.run_id / "agent.zip").is_file()
