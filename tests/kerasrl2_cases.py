"""The keras-rl2 learning cases: what tests/test_kerasrl2.py trains and asserts on, and what
benchmarks/test_thresholds.py measures over seeds and CPU kernels to set those thresholds.

One definition of each case, so a threshold is always measured on the very run it guards.
TensorFlow and keras-rl2 are imported inside the functions: the benchmark's ``--help`` and
its driver process must not load them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

#: Training steps of the recipe case.
RECIPE_STEPS = 3000
#: Greedy evaluation episodes of the recipe case.
RECIPE_EPISODES = 10
#: Steps of the tutorial case.
TUTORIAL_STEPS = 1000
#: Steps and episode limit of the truncation case.
TRUNCATION_STEPS, TRUNCATION_LIMIT = 400, 15
#: How far the fused update may stray from keras-rl2's own: online weights (relative, absolute), target weights (absolute).
FUSED_RTOL, FUSED_ATOL, FUSED_TARGET_ATOL = 1e-4, 1e-6, 2e-5


def recipe(seed: int) -> Any:
    """The keras-rl2 recipe (a ``KerasRL2DQN``) trained :data:`RECIPE_STEPS` steps on CartPole-v0 with ``seed``."""
    import rlzoo

    return rlzoo.train("kerasrl2-dqn", "CartPole-v0", total_timesteps=RECIPE_STEPS, seed=seed)


def recipe_score(agent: Any, seed: int) -> float:
    """The recipe's greedy mean return over :data:`RECIPE_EPISODES` seeded episodes."""
    import rlzoo

    return rlzoo.evaluate(agent, n_episodes=RECIPE_EPISODES, seed=seed).mean


@dataclasses.dataclass
class Tutorial:
    """The tutorial's objects after :data:`TUTORIAL_STEPS` steps of ``dqn.fit``.

    Attributes
    ----------
    env: the Gymnasium CartPole-v0 it trained on.
    dqn: keras-rl2's ``DQNAgent``.
    history: what ``fit`` returned.
    target_before: the target model's first weight matrix before training.
    """

    env: Any
    dqn: Any
    history: Any
    target_before: Any


def tutorial(seed: int) -> Tutorial:
    """keras-rl2's CartPole example as published, with only ``import gymnasium as gym`` and seeds.

    Parameters
    ----------
    seed:
        Seeds NumPy (``123 + seed``, the example's 123 for seed 0) and TensorFlow.

    Returns
    -------
    Tutorial
    """
    import gymnasium as gym
    import numpy as np

    import rlzoo.agents.kerasrl2  # noqa: F401  (first: it sets TF_USE_LEGACY_KERAS and installs the compatibility fixes)

    # isort: split
    import tensorflow as tf
    from rl.agents.dqn import DQNAgent
    from rl.memory import SequentialMemory
    from rl.policy import BoltzmannQPolicy
    from tensorflow.keras.layers import Activation, Dense, Flatten
    from tensorflow.keras.models import Sequential
    from tensorflow.keras.optimizers import Adam

    env = gym.make("CartPole-v0")
    np.random.seed(123 + seed)
    tf.random.set_seed(seed)
    nb_actions = env.action_space.n
    model = Sequential()
    model.add(Flatten(input_shape=(1,) + env.observation_space.shape))
    model.add(Dense(24))
    model.add(Activation("relu"))
    model.add(Dense(24))
    model.add(Activation("relu"))
    model.add(Dense(nb_actions))
    model.add(Activation("linear"))
    memory = SequentialMemory(limit=50000, window_length=1)
    policy = BoltzmannQPolicy()
    dqn = DQNAgent(model=model, nb_actions=nb_actions, memory=memory, nb_steps_warmup=10, target_model_update=1e-2, policy=policy)
    dqn.compile(Adam(lr=1e-3), metrics=["mae"])  # defect 2: a new-style optimizer with a soft target update
    target_before = dqn.target_model.get_weights()[0].copy()
    history = dqn.fit(env, nb_steps=TUTORIAL_STEPS, visualize=False, verbose=0)  # defect 3: Gymnasium's API
    return Tutorial(env, dqn, history, target_before)


def truncation(seed: int) -> Any:
    """The recipe trained :data:`TRUNCATION_STEPS` steps with ``seed`` on CartPole-v1 cut at :data:`TRUNCATION_LIMIT` steps
    (frequent truncation); its replay memory holds every transition."""
    import gymnasium as gym

    import rlzoo

    env = gym.make("CartPole-v1", max_episode_steps=TRUNCATION_LIMIT)
    return rlzoo.train(rlzoo.make_agent("kerasrl2-dqn", env, seed=seed), total_timesteps=TRUNCATION_STEPS)


def truncated_episode_ends(agent: Any) -> list[int]:
    """The memory indexes of the last transitions of episodes that ended by the time limit, not by failure."""
    import numpy as np

    ends = np.cumsum([length for _, _, length in agent.history.episodes]) - 1
    return [int(end) for end in ends if not agent.memory.terminated[end]]


@dataclasses.dataclass
class Updates:
    """One update of the same batch by keras-rl2's ``DQNAgent.backward`` and by rlzoo's fused step.

    Attributes
    ----------
    start: the weights before, ``(online, target)``.
    stock, fused: the weights after each, ``(online, target)``.
    """

    start: Any
    stock: Any
    fused: Any


def fused_and_stock_updates(seed: int) -> Updates:
    """64 random transitions in memory, then one more transition and one update, done both ways from the same state.

    Parameters
    ----------
    seed:
        Seeds the agent and the transitions; the batch draw uses NumPy's global seed 7 both times.

    Returns
    -------
    Updates
    """
    import numpy as np

    import rlzoo

    agent = rlzoo.make_agent("kerasrl2-dqn", "CartPole-v0", seed=seed)
    memory, dqn = agent.memory, agent.dqn
    rng = np.random.default_rng(seed)
    for _ in range(64):
        memory.add(rng.normal(size=4), int(rng.integers(2)), 1.0, rng.normal(size=4), bool(rng.random() < 0.1))
    start_weights, start_fill = agent.get_weights(), (memory.nb_entries, memory._next)
    observation, next_observation = rng.normal(size=4).astype(np.float32), rng.normal(size=4).astype(np.float32)

    # keras-rl2's own DQNAgent.backward: stores the transition, samples, train_on_batch, soft update.
    dqn.training, dqn.step = True, 100
    dqn.recent_observation, dqn.recent_action, memory.next_observation = observation, 1, next_observation
    np.random.seed(7)
    dqn.backward(1.0, terminal=False)
    stock = (agent.model.get_weights(), dqn.target_model.get_weights())  # the fast path keeps its own weights

    agent.set_weights(start_weights)
    memory.nb_entries, memory._next = start_fill
    memory.add(observation, 1, 1.0, next_observation, False)
    np.random.seed(7)
    agent.fused.backward()
    return Updates(start_weights, stock, agent.get_weights())


def tolerance_used(updates: Updates) -> tuple[float, float]:
    """How much of the fused update's tolerance the largest difference uses, online and target (1.0 = at the limit)."""
    import numpy as np

    (stock_online, stock_target), (fused_online, fused_target) = updates.stock, updates.fused
    online = max(
        float(np.max(np.abs(f - s) / (FUSED_ATOL + FUSED_RTOL * np.abs(s)))) for s, f in zip(stock_online, fused_online, strict=True)
    )
    target = max(float(np.max(np.abs(f - s) / FUSED_TARGET_ATOL)) for s, f in zip(stock_target, fused_target, strict=True))
    return online, target
