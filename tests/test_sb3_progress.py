"""SB3Agent.learn_until's override of SB3's private progress hook, checked against SB3 itself.

SB3 has no public way to make a run trained in parts follow one schedule to the run's end:
``learn(n, reset_num_timesteps=False)`` ends its schedules where it stops; one ``learn()``
call to the end stopped by a callback drops the env step it has just taken (and PPO's cut
rollout); wrapping each schedule is not bit-identical. So ``learn_until`` overrides, per
instance, ``_update_current_progress_remaining(num_timesteps, total_timesteps)`` (the reasons
in full are in ``agents/sb3/agent.py``). These tests fail when an SB3 release renames that
method, changes its signature, or stops routing ``learn()``'s progress through it.
"""

from __future__ import annotations

import inspect

import pytest
import torch

import rlzoo
from rlzoo.agents.sb3 import SB3A2C, SB3DQN, SB3PPO, SB3SAC

PPO = {"seed": 1, "n_envs": 1, "n_steps": 128, "batch_size": 64, "n_epochs": 4, "learning_rate": "lin_0.001"}
# Exploration from 1 to 0 over the whole run: at half the run it is exactly 0.5.
DQN = {
    "seed": 1,
    "train_freq": 4,
    "gradient_steps": 1,
    "learning_starts": 100,
    "buffer_size": 5000,
    "exploration_fraction": 1.0,
    "exploration_initial_eps": 1.0,
    "exploration_final_eps": 0.0,
}


def assert_same_weights(a, b) -> None:
    first, second = a.get_weights(), b.get_weights()
    assert list(first) == list(second)
    for name in first:
        assert torch.equal(first[name], second[name]), name


@pytest.mark.parametrize("agent", [SB3PPO, SB3A2C, SB3DQN, SB3SAC], ids=lambda agent: agent.registered_name())
def test_the_progress_hook_learn_until_overrides_keeps_its_name_and_signature(agent) -> None:
    """learn_until calls the class's method as ``(model, num_timesteps, run_end)`` and SB3 calls the
    instance's as ``(num_timesteps, total_timesteps)``: a rename would leave the override unused."""
    method = getattr(agent.algorithm, "_update_current_progress_remaining", None)
    assert callable(method), f"{agent.algorithm.__name__} has no _update_current_progress_remaining: see SB3Agent.learn_until"
    assert list(inspect.signature(method).parameters) == ["self", "num_timesteps", "total_timesteps"]


def test_ppo_trained_in_two_parts_follows_one_learning_rate_schedule_to_run_end() -> None:
    """The on-policy loop: learn(..., reset_num_timesteps=False) routes its progress through the override."""
    whole = rlzoo.make_agent("sb3-ppo", "CartPole-v1", **PPO)
    whole.learn(512)
    parts = rlzoo.make_agent("sb3-ppo", "CartPole-v1", **PPO)  # after: building seeds torch's and NumPy's global generators

    parts.learn_until(256, run_end=512)
    # The update after the second rollout ran at half the run's schedule (the part's own end would give 0).
    assert parts.model.logger.name_to_value["train/learning_rate"] == 0.001 * 0.5
    assert parts.model.policy.optimizer.param_groups[0]["lr"] == 0.001 * 0.5
    assert parts.training_metrics()["learning_rate"] == 0.001 * 0.5

    parts.learn_until(512, run_end=512)
    assert "_update_current_progress_remaining" not in vars(parts.model)  # the override is gone after each part
    assert parts.model._current_progress_remaining == whole.model._current_progress_remaining == 0.0
    assert parts.model.logger.name_to_value["train/learning_rate"] == whole.model.logger.name_to_value["train/learning_rate"]
    assert_same_weights(parts, whole)


def test_dqn_trained_in_two_parts_follows_one_exploration_schedule_to_run_end() -> None:
    """The off-policy loop (which reads the end from _total_timesteps) routes its progress through the override too."""
    whole = rlzoo.make_agent("sb3-dqn", "CartPole-v1", **DQN)
    whole.learn(512)
    parts = rlzoo.make_agent("sb3-dqn", "CartPole-v1", **DQN)  # after: building seeds torch's and NumPy's global generators

    parts.learn_until(256, run_end=512)
    assert parts.model.exploration_rate == 0.5  # the part's own end would give 0
    assert parts.training_metrics()["exploration"] == 0.5

    parts.learn_until(512, run_end=512)
    assert parts.model.exploration_rate == whole.model.exploration_rate == 0.0
    assert_same_weights(parts, whole)
