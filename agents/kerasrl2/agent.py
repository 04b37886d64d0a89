"""``kerasrl2-dqn``: keras-rl2's DQNAgent with the classic CartPole recipe as its defaults."""

from __future__ import annotations

import dataclasses
import math
import pathlib
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import rl
import tensorflow as tf
import tf_keras
from rl.agents.dqn import DQNAgent
from rl.policy import BoltzmannQPolicy, EpsGreedyQPolicy, GreedyQPolicy

from rlzoo.agent import Agent, Callback
from rlzoo.errors import HyperparameterError, IncompatibleEnvError, RLZooError, TrainingDivergedError

from .. import PRESETS_DIR
from . import state
from .fast import SeedState, StackedDQN
from .hyperparams import AGENT, RecipeHyperparams
from .lockstep import diverged_loss, learn_lockstep, non_finite_step, seat_side_by_side
from .memory import TransitionMemory
from .network import DuelingAggregation, build_model, initial_weights
from .seat import Seat

_POLICIES = {"boltzmann": BoltzmannQPolicy, "eps_greedy": EpsGreedyQPolicy, "greedy": GreedyQPolicy}


def _allocate_memory(limit: int, observation_shape: tuple[int, ...]) -> TransitionMemory:
    try:
        return TransitionMemory(limit, observation_shape)
    except (MemoryError, ValueError) as exc:  # NumPy: MemoryError, or ValueError "array is too big"
        size = 2 * limit * int(np.prod(observation_shape)) * 4
        raise HyperparameterError(
            AGENT, "memory_limit", problem=f"a replay memory this large ({size / 2**30:.1f} GiB) cannot be allocated: {exc}", value=limit
        ) from None


class KerasRL2DQN(Agent):
    """keras-rl2's ``DQNAgent`` behind rlzoo's Agent contract, in rlzoo's training loop.

    The loop speaks Gymnasium: time-limit truncation ends the episode but is not a terminal
    state (the transition bootstraps), and transitions keep their own s' so none crosses an
    episode boundary (:class:`.memory.TransitionMemory`). With ``fast=False`` each step calls
    keras-rl2's own ``DQNAgent.forward`` and ``DQNAgent.backward``; with ``fast=True`` (the
    default) a training step is one graph call: the whole update (targets, Adam step, soft
    target update) plus the updated Q-values the next action is drawn from, which tests check
    against ``DQNAgent.backward`` on the same batch and against the model's own Q-values.

    Parameters
    ----------
    env:
        An env with Discrete actions and Box observations.
    seed:
        Seeds initial weights, NumPy's global generator (keras-rl2's policies and replay
        sampling draw from it), TensorFlow, and the env's first reset.
    **hyperparams:
        Fields of :class:`RecipeHyperparams`.
    """

    preset_file: ClassVar[pathlib.Path] = PRESETS_DIR / "kerasrl2-dqn.yml"

    def __init__(self, env: gym.Env, *, seed: int | None = None, **hyperparams: Any) -> None:
        self.config = RecipeHyperparams.from_kwargs(**hyperparams)
        if "hidden_layers" in hyperparams:
            hyperparams["hidden_layers"] = list(hyperparams["hidden_layers"])  # a JSON list in the artifact
        super().__init__(env, seed=seed, **hyperparams)
        # The artifact records every effective value, so the file says which recipe it holds.
        self.hyperparams = {**dataclasses.asdict(self.config), "hidden_layers": list(self.config.hidden_layers)}
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise IncompatibleEnvError(f"kerasrl2-dqn needs Discrete actions, but {self.env_id or 'this env'} has {env.action_space}")
        if not isinstance(env.observation_space, gym.spaces.Box):
            raise IncompatibleEnvError(f"kerasrl2-dqn needs Box observations, but {self.env_id or 'this env'} has {env.observation_space}")
        if seed is not None:
            np.random.seed(seed)
            tf.compat.v1.set_random_seed(seed)
        self.n_actions = int(env.action_space.n)
        self.memory = _allocate_memory(self.config.memory_limit, env.observation_space.shape)
        #: keras-rl2's training policy (predict(deterministic=False) draws from it).
        self.policy = _POLICIES[self.config.policy](**self.config.policy_params)
        initial = initial_weights(self.config, int(np.prod(env.observation_space.shape)), self.n_actions, seed)
        #: The fast path's networks and Adam (its own graph is built on first use); None: stock keras-rl2.
        self.fused = Seat(SeedState.fresh(initial), self._stacked_graph, self.memory, lambda: self.dqn) if self.config.fast else None
        self._dqn: Any = None
        self._initial = initial
        if not self.config.fast:
            self._build_dqn()
        self._observation: Any = None
        self._done = False

    @property
    def dqn(self) -> Any:
        """keras-rl2's ``DQNAgent`` on this agent's models and memory.

        The fast path builds it only when first asked (saving, loading and training need no
        Keras model there: building K of them would cost more than training K seeds side by
        side), with the fast path's weights of that moment; :meth:`get_weights` gives the
        current ones.
        """
        if self._dqn is None:
            dqn = self._build_dqn()
            if self.fused is not None:
                online, target = self.get_weights()
                dqn.model.set_weights(online)
                dqn.target_model.set_weights(target)
        return self._dqn

    @property
    def model(self) -> Any:
        """The online Keras model (see :attr:`dqn`)."""
        return self.dqn.model

    def _build_dqn(self) -> Any:
        c = self.config
        self._dqn = DQNAgent(
            model=build_model(c, self.memory.observations.shape[1:], self.n_actions),
            nb_actions=self.n_actions,
            memory=self.memory,
            policy=self.policy,
            test_policy=GreedyQPolicy(),
            nb_steps_warmup=c.nb_steps_warmup,
            target_model_update=c.target_model_update,
            gamma=c.gamma,
            batch_size=c.batch_size,
            train_interval=c.train_interval,
            enable_double_dqn=c.enable_double_dqn,
            enable_dueling_network=False,  # the dueling head is rlzoo's, built into the model (see DuelingAggregation)
            custom_model_objects={"DuelingAggregation": DuelingAggregation},  # for cloning the target model
            delta_clip=np.inf if c.delta_clip is None else c.delta_clip,
        )
        self._dqn.model.set_weights(self._initial)
        self._dqn.compile(tf_keras.optimizers.legacy.Adam(learning_rate=c.learning_rate), metrics=["mae"])
        self._dqn.update_target_model_hard()
        return self._dqn

    def _stacked_graph(self, size: int) -> StackedDQN:
        """A graph for ``size`` seeds of this agent's recipe and spaces."""
        return StackedDQN(size, self.config, int(np.prod(self.memory.observations.shape[1:])), self.n_actions)

    # -- the contract ---------------------------------------------------------------------
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> None:
        try:
            self._learn(total_timesteps, callback)
        except ValueError:  # keras-rl2's Boltzmann policy refuses NaN Q-values before the next loss is seen
            if not all(np.isfinite(weights).all() for weights in self.get_weights()[0]):
                raise TrainingDivergedError(
                    f"kerasrl2-dqn: training stopped at step {self.num_timesteps + 1}: the weights became non-finite "
                    "(diverged: try a smaller learning_rate, or check the env's observations and rewards for huge values)"
                ) from None
            raise

    def _learn(self, total_timesteps: int, callback: Callback | None = None) -> None:
        callback = callback or Callback()
        if self.fused is not None:  # the fast path: the side-by-side loop with this one seed
            graph = self.fused.own_graph()
            self.fused.forget()  # weights may have been set since the last call
            errors = learn_lockstep([self], graph, self.num_timesteps + total_timesteps, [callback], [np.random.mtrand._rand])
            if errors:
                raise errors[0]
            return
        self._learn_stock(total_timesteps, callback)

    def _learn_stock(self, total_timesteps: int, callback: Callback) -> None:
        """keras-rl2's own ``DQNAgent.forward`` and ``DQNAgent.backward`` at every step."""
        dqn, memory, env = self.dqn, self.memory, self.env
        dqn.training = True
        if self._observation is None:
            self._observation, _ = env.reset(seed=self.seed)
            self._episode_return, self._episode_length = 0.0, 0
        observation = self._observation
        for _ in range(total_timesteps):
            dqn.step = self.num_timesteps  # keras-rl2 reads it for warm-up, train interval and hard updates
            action = dqn.forward(observation)
            next_observation, reward, terminated, truncated, _ = env.step(action)
            if not (math.isfinite(reward) and np.isfinite(next_observation).all()):  # a NaN must not reach the weights
                raise non_finite_step(self.num_timesteps + 1, next_observation, float(reward))
            done = terminated or truncated
            following = env.reset()[0] if done else next_observation
            if done and not np.isfinite(following).all():
                raise non_finite_step(self.num_timesteps + 1, following, 0.0, "reset")
            memory.next_observation = next_observation
            updates = dqn.step > dqn.nb_steps_warmup and dqn.step % dqn.train_interval == 0
            metrics = dqn.backward(reward, terminal=terminated)  # terminal means "no bootstrap" only
            loss = float(metrics[0]) if updates else None  # keras-rl2 reports NaN for "no update"
            if loss is not None and not math.isfinite(loss):
                raise diverged_loss(self.num_timesteps + 1, loss)
            self.num_timesteps += 1
            self._episode_return += float(reward)
            self._episode_length += 1
            if done:
                callback.on_episode_end(self, self._episode_return, self._episode_length)
                self._episode_return, self._episode_length = 0.0, 0
            observation = following
            self._observation = observation  # consistent if a callback raises (KeyboardInterrupt)
            if not callback.on_step(self):
                break
        self._observation = observation

    @classmethod
    def learn_seeds_until(
        cls, agents: Sequence[Agent], timestep: int, callbacks: Sequence[Callback], rngs: Sequence[np.random.RandomState]
    ) -> dict[int, RLZooError]:
        """Train ``agents`` (seeds of one recipe, at one step count) side by side until ``timestep``
        (see :mod:`rlzoo.seeds`): one graph call per step for all of them.

        Returns
        -------
        dict
            The error of each agent (by position) whose training diverged; the others trained on.
        """
        seeds = [agent for agent in agents if isinstance(agent, KerasRL2DQN)]
        if len(seeds) != len(agents) or any(agent.fused is None for agent in seeds):
            raise ValueError("only kerasrl2-dqn agents with fast=True train side by side")
        errors = learn_lockstep(seeds, seat_side_by_side(seeds), timestep, callbacks, rngs)
        return dict(errors)

    @classmethod
    def discard_all(cls) -> None:
        """Drop TensorFlow's default graph, with every kerasrl2 agent built in it, and the payload models built there."""
        state.forget_payload_models()
        tf_keras.backend.clear_session()

    def has_updated(self) -> bool:
        """keras-rl2's backward() first trains at the first step past nb_steps_warmup that is a multiple of train_interval."""
        first = (self.config.nb_steps_warmup // self.config.train_interval + 1) * self.config.train_interval
        return self.num_timesteps > first

    def training_metrics(self) -> dict[str, float]:
        """The latest update's loss (fused path), the learning rate, and Boltzmann's tau or epsilon."""
        metrics = {"learning_rate": float(self.config.learning_rate)}
        if self.fused is not None and not math.isnan(self.fused.last_loss):
            metrics["loss"] = self.fused.last_loss
        policy = self.policy
        for name in ("tau", "eps"):
            if hasattr(policy, name):
                metrics["exploration"] = float(getattr(policy, name))
        return metrics

    def predict(self, observation: Any, deterministic: bool = True) -> int:
        q_values = self.q_values(observation)
        if deterministic:
            return int(np.argmax(q_values))
        return int(self.policy.select_action(q_values=q_values))

    def predict_batch(self, observations: np.ndarray, deterministic: bool = True) -> list[int]:
        """The actions of every row from one forward pass of the Q-network."""
        q_values = self.batch_q_values(observations)
        if deterministic:
            return [int(action) for action in np.argmax(q_values, axis=1)]
        return [int(self.policy.select_action(q_values=row)) for row in q_values]

    def q_values(self, observation: Any) -> np.ndarray:
        """Q-values of one observation."""
        if self.fused is not None:
            return self.fused.q_values(observation)
        return self.dqn.compute_q_values([observation])

    def batch_q_values(self, observations: np.ndarray) -> np.ndarray:
        """Q-values of a batch of observations, one row each (keras-rl2's window of one frame)."""
        if self.fused is not None:
            return self.fused.batch_q_values(observations)
        batch = np.asarray(observations, dtype=np.float32)[:, None]
        return np.asarray(self.dqn.compute_batch_q_values(batch))

    def set_env(self, env: gym.Env) -> None:
        super().set_env(env)
        self._observation = None

    def get_weights(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        if self.fused is not None:
            seed_state = self.fused.state()
            return seed_state.online, seed_state.target
        return self.model.get_weights(), self.dqn.target_model.get_weights()

    def set_weights(self, weights: tuple[list[np.ndarray], list[np.ndarray]]) -> None:
        online, target = weights
        if self.fused is not None:
            self.fused.set_weights(online, target)  # also drops the Q-values prefetched with the old weights
        else:
            self.model.set_weights(online)
            self.dqn.target_model.set_weights(target)

    def package_versions(self) -> dict[str, str]:
        return {
            **super().package_versions(),
            "tensorflow": tf.__version__,
            "tf-keras": tf_keras.__version__,
            "keras-rl2": getattr(rl, "__version__", "1.0.5"),
        }

    def write_payload(self, directory: pathlib.Path) -> None:
        state.write_payload(self, directory)

    def read_payload(self, directory: pathlib.Path) -> None:
        state.read_payload(self, directory)

    # -- checkpoints ----------------------------------------------------------------------
    def _stock_optimizer(self) -> Any:
        """keras-rl2's compiled Adam that trains the online model on the stock path."""
        trainable = self.dqn.trainable_model
        if not trainable.optimizer.optimizer.weights:  # keras-rl2 creates Adam's slots on its first update
            trainable._make_train_function()
        return trainable.optimizer.optimizer

    def write_training_state(self, directory: pathlib.Path) -> None:
        """The replay memory, Adam's slots and step counter, and the env's generator."""
        adam = self.fused.optimizer_weights() if self.fused is not None else self._stock_optimizer().get_weights()
        state.write_training_state(self, adam, directory)

    def read_training_state(self, directory: pathlib.Path) -> None:
        adam = state.read_training_state(self, directory)
        if self.fused is not None:
            seed_state = self.fused.state()
            self.fused.load(SeedState(seed_state.online, seed_state.target, adam))
        else:
            self._stock_optimizer().set_weights(adam)
        self._observation, _ = self.env.reset()  # a new episode, drawn from the restored generator
        self._episode_return, self._episode_length = 0.0, 0
