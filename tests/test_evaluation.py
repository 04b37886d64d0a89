"""Evaluation: episodes played side by side on copies of the env, one forward pass per step for all of them."""

import pathlib
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import rlzoo
from rlzoo.agent import Agent
from rlzoo.evaluation import MAX_SIDE_BY_SIDE, play_episodes
from rlzoo.registry import make_env


class PushTowardsTheLean(Agent):
    """A fixed CartPole controller (push the way the pole leans), counting the batches it is asked for."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.batches: list[int] = []

    def learn(self, total_timesteps: int, callback: Any = None) -> None:
        raise NotImplementedError

    def predict(self, observation: Any, deterministic: bool = True) -> int:
        return int(observation[2] > 0)

    def predict_batch(self, observations: np.ndarray, deterministic: bool = True) -> list[Any]:
        self.batches.append(len(observations))
        return super().predict_batch(observations, deterministic)

    def get_weights(self) -> Any:
        return None

    def set_weights(self, weights: Any) -> None:
        pass

    def write_payload(self, directory: pathlib.Path) -> None:
        raise NotImplementedError

    def read_payload(self, directory: pathlib.Path) -> None:
        raise NotImplementedError


def test_side_by_side_episodes_are_those_each_copy_would_play_alone() -> None:
    agent = PushTowardsTheLean(make_env("CartPole-v1"))
    n_episodes = MAX_SIDE_BY_SIDE + 8  # some copies play a second episode

    result = rlzoo.evaluate(agent, n_episodes=n_episodes, seed=7)

    assert result.n_episodes == n_episodes
    for copy in range(MAX_SIDE_BY_SIDE):  # the k-th copy's first episode is the one reset with seed + k
        alone = play_episodes(agent, [make_env("CartPole-v1")], 1, seed=7 + copy)
        assert (result.returns[copy], result.lengths[copy]) == (alone.returns[0], alone.lengths[0])
    assert rlzoo.evaluate(agent, n_episodes=n_episodes, seed=7) == result  # reproducible with a seed


def test_side_by_side_asks_for_one_batch_per_step_of_the_longest_chain() -> None:
    agent = PushTowardsTheLean(make_env("CartPole-v1"))

    result = rlzoo.evaluate(agent, n_episodes=10, seed=0)

    assert agent.batches[0] == 10  # every copy's first action in one call
    assert len(agent.batches) == max(result.lengths)  # 10 copies, one episode each
    assert sum(agent.batches) == sum(result.lengths)


def test_an_env_instance_plays_its_episodes_one_after_another() -> None:
    agent = PushTowardsTheLean(make_env("CartPole-v1"))
    env = make_env("CartPole-v1")

    result = rlzoo.evaluate(agent, env, n_episodes=3, seed=0)

    assert agent.batches == [1] * sum(result.lengths)
    env.close()


@pytest.mark.parametrize("name", ["kerasrl2-dqn", "sb3-dqn", "sb3-ppo"])
def test_a_backends_batch_gives_the_actions_predict_gives(name: str) -> None:
    agent = rlzoo.make_agent(name, "CartPole-v1", seed=0)
    observations = np.random.default_rng(0).uniform(-2, 2, size=(64, 4)).astype(np.float32)

    batch = agent.predict_batch(observations)

    assert batch == [agent.predict(observation) for observation in observations]
    assert all(type(action) is int for action in batch)


def test_kerasrl2_batch_q_values_match_one_at_a_time() -> None:
    agent = rlzoo.make_agent("kerasrl2-dqn", "CartPole-v1", seed=0)
    observations = np.random.default_rng(1).uniform(-2, 2, size=(16, 4)).astype(np.float32)

    batch = agent.batch_q_values(observations)

    np.testing.assert_allclose(batch, [agent.q_values(observation) for observation in observations], rtol=1e-5, atol=1e-6)
