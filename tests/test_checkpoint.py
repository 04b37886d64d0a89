"""Checkpoints (rlzoo.checkpoint) and resuming (rlzoo.training.resume), in process, with real agents."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rlzoo
from rlzoo.callbacks import Callback
from rlzoo.checkpoint import latest_checkpoint, read_checkpoint
from rlzoo.errors import CheckpointError
from rlzoo.training import resume

SMALL = {
    "kerasrl2-dqn": {},
    "sb3-dqn": {"train_freq": 4, "gradient_steps": 1, "learning_starts": 100, "buffer_size": 5000},
    "sb3-ppo": {"n_envs": 1, "n_steps": 128, "batch_size": 64, "learning_rate": "lin_0.001"},
}


def weights_of(agent) -> list[np.ndarray]:
    weights = agent.get_weights()
    if isinstance(weights, dict):  # SB3: a torch state dict
        return [tensor.detach().numpy().copy() for tensor in weights.values()]
    online, target = weights
    return [*online, *target]


def assert_same_weights(a, b) -> None:
    for x, y in zip(weights_of(a), weights_of(b), strict=True):
        np.testing.assert_array_equal(x, y)


def test_only_the_latest_complete_checkpoint_is_kept(tmp_path) -> None:
    (tmp_path / ".step-000000000001-abcdef.x.tmp").mkdir()  # what a kill -9 during a write leaves
    rlzoo.train("kerasrl2-dqn", "CartPole-v1", total_timesteps=300, seed=0, checkpoint_every=100, checkpoint_dir=tmp_path)
    current = latest_checkpoint(tmp_path)
    assert current is not None and current.name.startswith("step-000000000300-")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["latest", current.name])


def test_a_folder_without_checkpoint_is_a_checkpoint_error(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint here"):
        read_checkpoint(tmp_path)


def test_checkpoint_every_needs_a_folder() -> None:
    with pytest.raises(ValueError, match="checkpoint_dir"):
        rlzoo.train("kerasrl2-dqn", "CartPole-v1", total_timesteps=10, checkpoint_every=5)


@pytest.mark.parametrize("name", ["kerasrl2-dqn", "sb3-ppo"])
def test_training_in_parts_between_checkpoints_trains_exactly_as_one_part(tmp_path, name) -> None:
    # sb3-ppo's lin_ learning rate shows that SB3's schedule runs over the whole run, not each part.
    whole = rlzoo.train(name, "CartPole-v1", total_timesteps=512, seed=1, eval_every=0, **SMALL[name])
    parts = rlzoo.train(name, "CartPole-v1", total_timesteps=512, seed=1, eval_every=0, checkpoint_every=128, checkpoint_dir=tmp_path, **SMALL[name])
    assert parts.num_timesteps == whole.num_timesteps and parts.history.episodes == whole.history.episodes
    assert_same_weights(parts, whole)


@pytest.mark.parametrize("name", ["kerasrl2-dqn", "sb3-dqn", "sb3-ppo"])
def test_a_resumed_agent_has_the_state_of_the_agent_that_wrote_the_checkpoint(tmp_path, name) -> None:
    # No periodic evaluation: its best-weights swap at the end would change the weights after the checkpoint.
    trained = rlzoo.train(name, "CartPole-v1", total_timesteps=384, seed=2, eval_every=0, checkpoint_every=384, checkpoint_dir=tmp_path, **SMALL[name])
    checkpoint = read_checkpoint(tmp_path)
    resumed = checkpoint.agent
    assert resumed.num_timesteps == trained.num_timesteps and resumed.history == trained.history
    assert_same_weights(resumed, trained)

    # The same random draws (NumPy, torch, the action space) give the same stochastic actions...
    observations = [np.array([0.01 * i, -0.02, 0.03, 0.01 * i], dtype=np.float32) for i in range(20)]
    rng = (np.random.get_state(), torch.get_rng_state())
    actions = [resumed.predict(o, deterministic=False) for o in observations]
    np.random.set_state(rng[0]), torch.set_rng_state(rng[1])
    assert [trained.predict(o, deterministic=False) for o in observations] == actions

    # ...and the same updates (replay buffer, optimizer state and sampling restored).
    for agent in (resumed, trained):
        np.random.set_state(rng[0]), torch.set_rng_state(rng[1])
        if name == "kerasrl2-dqn":
            for _ in range(3):
                agent.fused.update(agent.memory.sample_indexes(32))
        elif name == "sb3-dqn":
            from stable_baselines3.common.logger import Logger

            agent.model.set_logger(Logger(None, []))  # train() outside learn() needs one; this writes nothing
            agent.model.train(gradient_steps=3, batch_size=32)
    if name == "kerasrl2-dqn":
        for x, y in zip(resumed.fused.optimizer_weights(), trained.fused.optimizer_weights(), strict=True):
            np.testing.assert_array_equal(x, y)
    if name == "sb3-ppo":
        torch.testing.assert_close(resumed.model.policy.optimizer.state_dict()["state"], trained.model.policy.optimizer.state_dict()["state"], rtol=0, atol=0)
    assert_same_weights(resumed, trained)


def test_resume_continues_to_the_original_total_and_keeps_one_history(tmp_path) -> None:
    class StopAt(Callback):
        def on_step(self, agent) -> bool:
            return agent.num_timesteps < 250

    first = rlzoo.train("kerasrl2-dqn", "CartPole-v1", total_timesteps=600, seed=0, callbacks=[StopAt()],
                        eval_every=100, eval_episodes=2, checkpoint_every=200, checkpoint_dir=tmp_path)
    assert first.num_timesteps == 250  # stopped: a callback returned False
    checkpoint = read_checkpoint(tmp_path)
    assert checkpoint.agent.num_timesteps == 200 and checkpoint.eval_state.next_eval == 300
    agent = resume(checkpoint)
    assert agent.num_timesteps == 600
    assert [t for t, _, _ in agent.history.evaluations] == [100, 200, 300, 400, 500, 600]
    assert agent.history.episodes[: len(first.history.episodes)] != [] and [t for t, _, _ in agent.history.episodes] == sorted(t for t, _, _ in agent.history.episodes)
    assert latest_checkpoint(tmp_path).name.startswith("step-000000000600-")


class InterruptAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step
        self.steps_seen = 0

    def on_step(self, agent) -> bool:
        self.steps_seen = agent.num_timesteps
        if agent.num_timesteps >= self.step:
            raise KeyboardInterrupt
        return True


@pytest.mark.parametrize("name", ["kerasrl2-dqn", "sb3-dqn", "sb3-ppo"])
def test_keyboard_interrupt_reaches_the_caller_and_leaves_the_agent_consistent(tmp_path, name) -> None:
    agent = rlzoo.make_agent(name, "CartPole-v1", seed=0, **SMALL[name])
    interrupt = InterruptAt(300)
    with pytest.raises(KeyboardInterrupt):
        rlzoo.train(agent, total_timesteps=1000, callbacks=[interrupt], eval_every=0)
    assert agent.num_timesteps == interrupt.steps_seen == 300
    assert agent.history.episodes and agent.history.episodes[-1][0] <= 300
    loaded = rlzoo.load(rlzoo.save(agent, tmp_path / "agent.zip"))
    assert loaded.num_timesteps == 300
    assert_same_weights(loaded, agent)
    rlzoo.train(agent, total_timesteps=100, eval_every=0)  # trains on from where it stopped
    assert agent.num_timesteps >= 400


class _KillAt(Callback):
    """Stands in for a kill -9: the process's state is lost, only the checkpoint on disk remains."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step(self, agent) -> bool:
        if agent.num_timesteps >= self.step:
            raise KeyboardInterrupt
        return True


def test_a_run_killed_after_a_checkpoint_resumes_into_the_normal_learning_band(tmp_path) -> None:
    # The kerasrl2 recipe on CartPole-v0 for 3000 steps, greedy mean over 10 episodes:
    #   uninterrupted (tests/test_kerasrl2.py), seeds 0-4: 120.1-200 (threshold 60 there);
    #   killed at step 2000, resumed from the checkpoint at 1500, seeds 0-4: 182.8, 200.0, 152.1, 200.0, 166.6.
    # The bar is half the worst of either and well above random play (about 22).
    agent = rlzoo.make_agent("kerasrl2-dqn", "CartPole-v0", seed=0)
    with pytest.raises(KeyboardInterrupt):
        rlzoo.train(agent, total_timesteps=3000, seed=0, eval_every=0, checkpoint_every=1500, checkpoint_dir=tmp_path, callbacks=[_KillAt(2000)])
    resumed = resume(tmp_path)
    assert resumed.num_timesteps == 3000
    assert rlzoo.evaluate(resumed, n_episodes=10, seed=0).mean >= 60.0
