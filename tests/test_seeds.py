"""rlzoo.train_seeds: seeds side by side give each seed's solo run, and resume as solo runs do."""

from __future__ import annotations

import numpy as np
import pytest

import rlzoo
from rlzoo.errors import ArgumentError
from rlzoo.seeds import batches_seeds, train_seeds

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


@pytest.mark.parametrize("batch", [True, False], ids=["batched", "solo"])
def test_a_multi_agent_envs_seeds_take_its_preset(tmp_path, batch) -> None:
    # A PettingZoo env made from its id keeps the id, so its preset is found (a preset file
    # naming it is what rlzoo tune's confirmation passes; the agent's own preset is the default).
    preset = tmp_path / "preset.yml"
    preset.write_text("rlzoo/SpringCarts-v0:\n  train: {total_timesteps: 64}\n  hyperparams: {nb_steps_warmup: 37}\n")
    agents = train_seeds("kerasrl2-dqn", "rlzoo/SpringCarts-v0", [0, 1], preset=preset, batch=batch, eval_every=0)
    assert [agent.hyperparams["nb_steps_warmup"] for agent in agents] == [37, 37]
    assert [agent.num_timesteps for agent in agents] == [64, 64]
    (a2c,) = train_seeds("sb3-a2c", "rlzoo/SpringCarts-v0", [0], total_timesteps=16, eval_every=0)
    assert a2c.hyperparams["n_envs"] == 8  # the agent's own SpringCarts preset, not the backend's default
