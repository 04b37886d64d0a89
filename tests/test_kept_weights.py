"""Keeping the best periodic evaluation's weights must not turn noise into a score.

No weights are kept from before the backend's first update, and the periodic evaluations
that pick the weights never play the final evaluation's episodes (:mod:`rlzoo.settings`).
"""

from __future__ import annotations

import pytest

import rlzoo
from rlzoo.evaluation import MAX_SIDE_BY_SIDE, evaluate
from rlzoo.settings import periodic_eval_seed

# One rollout of 256 steps before PPO's first update; evaluations every 64 steps.
PPO = {"policy": "MlpPolicy", "n_envs": 1, "n_steps": 256, "batch_size": 64, "n_epochs": 1}


def test_no_weights_are_kept_from_before_the_first_update() -> None:
    agent = rlzoo.train("sb3-ppo", "CartPole-v1", total_timesteps=768, seed=0, eval_every=64, eval_episodes=2, **PPO)

    steps = [step for step, _, _ in agent.history.evaluations]
    assert steps[:4] == [64, 128, 192, 256]  # evaluated before the first update (after step 256's rollout)...
    assert agent.history.kept_timestep > 256  # ...but never kept from there


def test_without_an_update_the_final_weights_stay() -> None:
    # sb3-dqn's preset starts learning at step 1000: 600 steps make no update
    agent = rlzoo.train("sb3-dqn", "CartPole-v1", total_timesteps=600, seed=0, eval_every=200, eval_episodes=2)

    assert not agent.has_updated()
    assert agent.history.kept_timestep == agent.num_timesteps  # 768: train_freq 256 rounds 600 up by one rollout


def test_sb3_says_when_its_first_update_happened() -> None:
    agent = rlzoo.make_agent("sb3-ppo", "CartPole-v1", seed=0, **PPO)
    assert not agent.has_updated() and agent.steps_per_rollout() == 256
    rlzoo.train(agent, total_timesteps=256, eval_every=0)
    assert agent.has_updated()  # SB3 trains on the rollout once it is collected


def test_kerasrl2_says_when_its_first_update_happened() -> None:
    # keras-rl2 trains at step 11, the first past nb_steps_warmup 10 (train_interval 1)
    agent = rlzoo.make_agent("kerasrl2-dqn", "CartPole-v1", seed=0, nb_steps_warmup=10)
    rlzoo.train(agent, total_timesteps=11, eval_every=0)
    assert not agent.has_updated()
    rlzoo.train(agent, total_timesteps=1, eval_every=0)
    assert agent.has_updated()


@pytest.mark.parametrize("seed", [0, 7, 2**31 - 1, 2**31, 2**32 - 1])
def test_periodic_evaluations_never_reset_an_env_copy_with_a_final_evaluation_seed(seed: int) -> None:
    final = {(seed + k) % 2**32 for k in range(MAX_SIDE_BY_SIDE)}
    periodic = {(periodic_eval_seed(seed) + k) % 2**32 for k in range(MAX_SIDE_BY_SIDE)}
    assert not final & periodic


def test_train_evaluates_periodically_with_the_periodic_seed() -> None:
    agent = rlzoo.train("sb3-ppo", "CartPole-v1", total_timesteps=256, seed=3, eval_every=256, eval_episodes=3, **PPO)

    ((_, mean, _),) = agent.history.evaluations
    assert evaluate(agent, n_episodes=3, seed=periodic_eval_seed(3)).mean == mean  # same machine, same episodes
