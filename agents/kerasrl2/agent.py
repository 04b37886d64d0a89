"""``kerasrl2-dqn``: keras-rl2's DQNAgent with the classic CartPole recipe as its defaults."""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import rl
import tensorflow as tf
import tf_keras
from rl.agents.dqn import DQNAgent
from rl.policy import BoltzmannQPolicy, EpsGreedyQPolicy, GreedyQPolicy
from tf_keras.layers import Dense, Flatten
from tf_keras.models import Sequential

from rlzoo import checks
from rlzoo.agent import Agent, Callback, env_rng_state, set_env_rng_state
from rlzoo.errors import ArtifactError, CheckpointError, HyperparameterError, IncompatibleEnvError, TrainingDivergedError

from .. import PRESETS_DIR
from .fast import FusedDQNStep
from .memory import TransitionMemory

AGENT = "kerasrl2-dqn"
_POLICIES = {"boltzmann": BoltzmannQPolicy, "eps_greedy": EpsGreedyQPolicy, "greedy": GreedyQPolicy}
DUELING_TYPES = ("avg", "max", "naive")


@dataclasses.dataclass(frozen=True)
class RecipeHyperparams:
    """Hyperparameters of ``kerasrl2-dqn``; the defaults are the classic keras-rl2 CartPole recipe.

    Attributes
    ----------
    hidden_layers: units of the ReLU Dense layers between Flatten and the linear output.
    memory_limit: replay capacity (the recipe's ``SequentialMemory(limit=50000)``).
    policy: ``"boltzmann"`` (``BoltzmannQPolicy``), ``"eps_greedy"`` or ``"greedy"``.
    policy_params: keyword arguments of the policy (``tau``, ``clip``; ``eps``).
    nb_steps_warmup: steps before training starts.
    target_model_update: < 1: soft update rate; >= 1: hard update every that many steps.
    learning_rate: Adam's learning rate.
    gamma: discount.
    batch_size: replay batch size.
    train_interval: train every this many steps.
    enable_double_dqn: double DQN targets.
    enable_dueling_network: dueling head; ``dueling_type`` ``"avg"``, ``"max"`` or ``"naive"``.
    delta_clip: Huber loss threshold; ``None`` is keras-rl2's default, infinity (squared error).
    fast: use rlzoo's fused graph step (same update, 15x+ faster) instead of keras-rl2's
        per-step ``forward``/``backward`` calls.
    """

    hidden_layers: tuple[int, ...] = (24, 24)
    memory_limit: int = 50000
    policy: str = "boltzmann"
    policy_params: dict[str, Any] = dataclasses.field(default_factory=dict)
    nb_steps_warmup: int = 10
    target_model_update: float = 1e-2
    learning_rate: float = 1e-3
    gamma: float = 0.99
    batch_size: int = 32
    train_interval: int = 1
    enable_double_dqn: bool = False
    enable_dueling_network: bool = False
    dueling_type: str = "avg"
    delta_clip: float | None = None
    fast: bool = True

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> RecipeHyperparams:
        """Check every value (type and range) and build the record.

        Raises
        ------
        HyperparameterError: an unknown key, or a value outside its rule (the message names
            the key, the value and what is valid).
        """
        valid = [field.name for field in dataclasses.fields(cls)]
        for key, value in kwargs.items():
            if key not in valid:
                raise HyperparameterError(AGENT, key, valid)
            problem = _RULES[key](value)
            if problem is not None:
                raise HyperparameterError(AGENT, key, problem=problem, value=value)
        _check_policy_params(kwargs.get("policy", cls.policy), kwargs.get("policy_params", {}))
        if "hidden_layers" in kwargs:
            kwargs["hidden_layers"] = tuple(int(units) for units in kwargs["hidden_layers"])
        return cls(**kwargs)


def _target_model_update(value: Any) -> str | None:
    wanted = "must be a finite number > 0: < 1 is a soft update rate, >= 1 a whole number of steps between hard updates"
    if checks.number(above=0)(value) is not None or (value >= 1 and value != int(value)):
        return wanted
    return None


#: What each field accepts (``policy_params`` is checked against the policy, below).
_RULES: dict[str, checks.Rule] = {
    "hidden_layers": checks.list_of(checks.integer(1), "ints >= 1 (units per hidden layer)"),
    "memory_limit": checks.integer(1),
    "policy": checks.one_of(_POLICIES),
    "policy_params": lambda value: None if isinstance(value, dict) else "must be a dict of the policy's arguments",
    "nb_steps_warmup": checks.integer(0),
    "target_model_update": _target_model_update,
    "learning_rate": checks.number(above=0),
    "gamma": checks.number(0, 1),
    "batch_size": checks.integer(1),
    "train_interval": checks.integer(1),
    "enable_double_dqn": checks.boolean,
    "enable_dueling_network": checks.boolean,
    "dueling_type": checks.one_of(DUELING_TYPES),
    "delta_clip": checks.optional(checks.number(above=0, finite=False)),
    "fast": checks.boolean,
}

#: The arguments of each policy's constructor (keras-rl2's defaults apply to those left out).
_POLICY_PARAM_RULES: dict[str, dict[str, checks.Rule]] = {
    "boltzmann": {"tau": checks.number(above=0), "clip": checks.ordered_pair(strict=True)},  # BoltzmannQPolicy(tau, clip)
    "eps_greedy": {"eps": checks.number(0, 1)},  # EpsGreedyQPolicy(eps)
    "greedy": {},  # GreedyQPolicy()
}


def _check_policy_params(policy: str, params: dict[str, Any]) -> None:
    rules = _POLICY_PARAM_RULES[policy]
    unknown = sorted(set(params) - set(rules))
    if unknown:
        takes = f"takes only {', '.join(rules)}" if rules else "takes no parameters"
        raise HyperparameterError(
            AGENT, "policy_params", problem=f"policy {policy!r} {takes} (unknown: {', '.join(unknown)})", value=params
        )
    for name, value in params.items():
        problem = rules[name](value)
        if problem is not None:
            raise HyperparameterError(AGENT, f"policy_params.{name}", problem=f"{problem} (policy {policy!r})", value=value)


def glorot_uniform_weights(model: Any, rng: np.random.Generator) -> list[np.ndarray]:
    """Keras's default initialisation (Glorot-uniform kernels, zero biases), drawn from ``rng``.

    TensorFlow's graph-mode initialisers depend on how many ops the process's graph already
    holds, so two agents built with one seed in one process would differ; drawing from a
    seeded NumPy generator makes initial weights a function of the seed alone.
    """
    weights = []
    for array in model.get_weights():
        if array.ndim == 2:
            limit = math.sqrt(6.0 / (array.shape[0] + array.shape[1]))
            weights.append(rng.uniform(-limit, limit, size=array.shape).astype(array.dtype))
        else:
            weights.append(np.zeros_like(array))
    return weights


class DuelingAggregation(tf_keras.layers.Layer):
    """Q-values from ``[V, A_1..A_n]``, as keras-rl2's dueling head computes them.

    ``"avg"``: ``Q = V + A - mean(A)``; ``"max"``: ``Q = V + A - max(A)``; ``"naive"``: ``Q = V + A``.
    keras-rl2 1.0.5 builds this step as a ``Lambda`` layer and then clones the model for its
    target network, which tf-keras refuses in safe mode ("Requested the deserialization of a
    Lambda layer"): ``enable_dueling_network=True`` never worked. A Layer subclass clones
    from its config.
    """

    def __init__(self, dueling_type: str = "avg", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dueling_type = dueling_type

    def call(self, inputs: Any) -> Any:
        value, advantage = inputs[:, :1], inputs[:, 1:]
        if self.dueling_type == "avg":
            return value + advantage - tf.reduce_mean(advantage, axis=1, keepdims=True)
        if self.dueling_type == "max":
            return value + advantage - tf.reduce_max(advantage, axis=1, keepdims=True)
        return value + advantage

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tf.TensorShape(input_shape).as_list()[:-1] + [input_shape[-1] - 1]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dueling_type": self.dueling_type}


def _allocate_memory(limit: int, observation_shape: tuple[int, ...]) -> TransitionMemory:
    try:
        return TransitionMemory(limit, observation_shape)
    except (MemoryError, ValueError) as exc:  # NumPy: MemoryError, or ValueError "array is too big"
        size = 2 * limit * int(np.prod(observation_shape)) * 4
        raise HyperparameterError(
            AGENT, "memory_limit", problem=f"a replay memory this large ({size / 2**30:.1f} GiB) cannot be allocated: {exc}", value=limit
        ) from None


def _non_finite_step(step: int, observation: Any, reward: float, what: str = "step") -> TrainingDivergedError:
    found = f"reward {reward}" if not math.isfinite(reward) else f"observation {np.asarray(observation).tolist()}"
    return TrainingDivergedError(
        f"kerasrl2-dqn: training stopped at step {step}: env.{what}() returned a non-finite {found}; "
        "check the env's observations and rewards (and its kwargs, e.g. a noise_std of nan)"
    )


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
        c = self.config
        self.dqn = DQNAgent(
            model=self._build_model(env.observation_space.shape),
            nb_actions=self.n_actions,
            memory=self.memory,
            policy=_POLICIES[c.policy](**c.policy_params),
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
        self.model = self.dqn.model
        self.model.set_weights(glorot_uniform_weights(self.model, np.random.default_rng(seed)))
        self.dqn.compile(tf_keras.optimizers.legacy.Adam(learning_rate=c.learning_rate), metrics=["mae"])
        self.dqn.update_target_model_hard()
        self.fused = FusedDQNStep(self.dqn, c.learning_rate) if c.fast else None
        self._observation: Any = None

    def _build_model(self, observation_shape: tuple[int, ...]) -> Any:
        layers: list[Any] = [Flatten(input_shape=(1, *observation_shape))]
        layers += [Dense(units, activation="relu") for units in self.config.hidden_layers]
        if self.config.enable_dueling_network:  # keras-rl2's head: Dense(n + 1) as [V, A_1..A_n], then aggregated
            layers += [Dense(self.n_actions + 1, activation="linear"), DuelingAggregation(self.config.dueling_type)]
        else:
            layers.append(Dense(self.n_actions, activation="linear"))
        return Sequential(layers)

    # -- the contract ---------------------------------------------------------------------
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> None:
        try:
            self._learn(total_timesteps, callback)
        except ValueError:  # keras-rl2's Boltzmann policy refuses NaN Q-values before the next loss is seen
            if not all(np.isfinite(weights).all() for weights in self.model.get_weights()):
                raise TrainingDivergedError(
                    f"kerasrl2-dqn: training stopped at step {self.num_timesteps + 1}: the weights became non-finite "
                    "(diverged: try a smaller learning_rate, or check the env's observations and rewards for huge values)"
                ) from None
            raise

    def _learn(self, total_timesteps: int, callback: Callback | None = None) -> None:
        callback = callback or Callback()
        dqn, memory, env = self.dqn, self.memory, self.env
        dqn.training = True
        if self._observation is None:
            self._observation, _ = env.reset(seed=self.seed)
            self._episode_return, self._episode_length = 0.0, 0
        observation = self._observation
        fused = self.fused
        if fused is not None:
            fused.forget()  # weights may have been set since the last call
        for _ in range(total_timesteps):
            dqn.step = self.num_timesteps  # keras-rl2 reads it for warm-up, train interval and hard updates
            if fused is not None:
                action = fused.select_action(observation)
            else:
                action = dqn.forward(observation)
            next_observation, reward, terminated, truncated, _ = env.step(action)
            if not (math.isfinite(reward) and np.isfinite(next_observation).all()):  # ~1 us: a NaN must not reach the weights
                raise _non_finite_step(self.num_timesteps + 1, next_observation, float(reward))
            done = terminated or truncated
            # Reset before the update, so the fused update can also return the Q-values of the
            # observation the next action is chosen on (the env's own generator: no change in draws).
            following = env.reset()[0] if done else next_observation
            if done and not np.isfinite(following).all():
                raise _non_finite_step(self.num_timesteps + 1, following, 0.0, "reset")
            if fused is not None:
                memory.add(observation, action, float(reward), next_observation, terminated)
                loss = fused.backward(following)
            else:
                memory.next_observation = next_observation
                updates = dqn.step > dqn.nb_steps_warmup and dqn.step % dqn.train_interval == 0
                metrics = dqn.backward(reward, terminal=terminated)  # terminal means "no bootstrap" only
                loss = float(metrics[0]) if updates else None  # keras-rl2 reports NaN for "no update"
            if loss is not None and not math.isfinite(loss):
                raise TrainingDivergedError(
                    f"kerasrl2-dqn: training stopped at step {self.num_timesteps + 1}: the loss became {loss} "
                    "(diverged: try a smaller learning_rate, or check the env's observations and rewards for huge values)"
                )
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

    def has_updated(self) -> bool:
        """keras-rl2's backward() first trains at the first step past nb_steps_warmup that is a multiple of train_interval."""
        first = (self.config.nb_steps_warmup // self.config.train_interval + 1) * self.config.train_interval
        return self.num_timesteps > first

    def training_metrics(self) -> dict[str, float]:
        """The latest update's loss (fused path), the learning rate, and Boltzmann's tau or epsilon."""
        metrics = {"learning_rate": float(self.config.learning_rate)}
        if self.fused is not None and self.fused.last_loss is not None:
            metrics["loss"] = self.fused.last_loss
        policy = self.dqn.policy
        for name in ("tau", "eps"):
            if hasattr(policy, name):
                metrics["exploration"] = float(getattr(policy, name))
        return metrics

    def predict(self, observation: Any, deterministic: bool = True) -> int:
        q_values = self.q_values(observation)
        if deterministic:
            return int(np.argmax(q_values))
        return int(self.dqn.policy.select_action(q_values=q_values))

    def predict_batch(self, observations: np.ndarray, deterministic: bool = True) -> list[int]:
        """The actions of every row from one forward pass of the Q-network."""
        q_values = self.batch_q_values(observations)
        if deterministic:
            return [int(action) for action in np.argmax(q_values, axis=1)]
        return [int(self.dqn.policy.select_action(q_values=row)) for row in q_values]

    def q_values(self, observation: Any) -> np.ndarray:
        """Q-values of one observation."""
        if self.fused is not None:
            return self.fused.q_values(observation)
        return self.dqn.compute_q_values([observation])

    def batch_q_values(self, observations: np.ndarray) -> np.ndarray:
        """Q-values of a batch of observations, one row each (keras-rl2's window of one frame)."""
        batch = np.asarray(observations, dtype=np.float32)[:, None]
        if self.fused is not None:
            return self.fused.batch_q_values(batch)
        return np.asarray(self.dqn.compute_batch_q_values(batch))

    def set_env(self, env: gym.Env) -> None:
        super().set_env(env)
        self._observation = None

    def get_weights(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return self.model.get_weights(), self.dqn.target_model.get_weights()

    def set_weights(self, weights: tuple[list[np.ndarray], list[np.ndarray]]) -> None:
        online, target = weights
        self.model.set_weights(online)
        self.dqn.target_model.set_weights(target)
        if self.fused is not None:
            self.fused.forget()  # Q-values prefetched with the old weights

    def package_versions(self) -> dict[str, str]:
        return {
            **super().package_versions(),
            "tensorflow": tf.__version__,
            "tf-keras": tf_keras.__version__,
            "keras-rl2": getattr(rl, "__version__", "1.0.5"),
        }

    def write_payload(self, directory: pathlib.Path) -> None:
        self.model.save_weights(str(directory / "model.h5"))
        self.dqn.target_model.save_weights(str(directory / "target_model.h5"))

    def read_payload(self, directory: pathlib.Path) -> None:
        """HDF5 weights only: the model itself is rebuilt from the hyperparameters, and the
        files' weight shapes must match it (Keras would load some layers, then fail)."""
        for model, name in ((self.model, "model.h5"), (self.dqn.target_model, "target_model.h5")):
            _check_weight_shapes(model, directory / name)
            model.load_weights(str(directory / name))
        if self.fused is not None:
            self.fused.forget()  # Q-values prefetched with the old weights

    # -- checkpoints ----------------------------------------------------------------------
    def _optimizer(self) -> Any:
        """The Adam that trains the online model: the fused step's, else keras-rl2's compiled one."""
        if self.fused is not None:
            return self.fused.optimizer
        trainable = self.dqn.trainable_model
        if not trainable.optimizer.optimizer.weights:  # keras-rl2 creates Adam's slots on its first update
            trainable._make_train_function()
        return trainable.optimizer.optimizer

    def write_training_state(self, directory: pathlib.Path) -> None:
        """The replay memory, Adam's slots and step counter, and the env's generator."""
        memory = self.memory
        with open(directory / "memory.npz", "wb") as handle:
            np.savez(
                handle,
                observations=memory.observations[: memory.nb_entries],
                next_observations=memory.next_observations[: memory.nb_entries],
                actions=memory.actions[: memory.nb_entries],
                rewards=memory.rewards[: memory.nb_entries],
                terminated=memory.terminated[: memory.nb_entries],
            )
        with open(directory / "optimizer.npz", "wb") as handle:
            np.savez(handle, *self._optimizer().get_weights())
        state = {"memory_next": memory._next, "memory_entries": memory.nb_entries, "env_rng": env_rng_state(self.env)}
        (directory / "kerasrl2_state.json").write_text(json.dumps(state))

    def read_training_state(self, directory: pathlib.Path) -> None:
        memory = self.memory
        state = json.loads((directory / "kerasrl2_state.json").read_text())
        entries = int(state["memory_entries"])
        if not 0 <= entries <= memory.limit or not 0 <= int(state["memory_next"]) < memory.limit:
            raise CheckpointError(directory, f"its replay memory ({entries} entries) does not fit memory_limit={memory.limit}")
        with np.load(directory / "memory.npz", allow_pickle=False) as arrays:
            for name in ("observations", "next_observations", "actions", "rewards", "terminated"):
                target = getattr(memory, name)
                if arrays[name].shape != (entries, *target.shape[1:]):
                    raise CheckpointError(
                        directory, f"replay memory array {name!r} has shape {arrays[name].shape}, expected {(entries, *target.shape[1:])}"
                    )
                target[:entries] = arrays[name]
        memory.nb_entries, memory._next = entries, int(state["memory_next"])
        optimizer = self._optimizer()
        with np.load(directory / "optimizer.npz", allow_pickle=False) as arrays:
            optimizer.set_weights([arrays[f"arr_{i}"] for i in range(len(arrays.files))])
        set_env_rng_state(self.env, state["env_rng"])
        self._observation, _ = self.env.reset()  # a new episode, drawn from the restored generator
        self._episode_return, self._episode_length = 0.0, 0
        if self.fused is not None:
            self.fused.forget()  # a new episode's observation: nothing prefetched applies


def _check_weight_shapes(model: Any, path: pathlib.Path) -> None:
    """Refuse an HDF5 weights file whose arrays differ in number or shape from ``model``'s."""
    import h5py

    try:
        with h5py.File(path, "r") as weights:
            group = weights["model_weights"] if "model_weights" in weights else weights
            saved = []
            for layer in group.attrs["layer_names"]:
                layer_group = group[layer.decode() if isinstance(layer, bytes) else layer]
                for name in layer_group.attrs["weight_names"]:
                    saved.append(tuple(layer_group[name.decode() if isinstance(name, bytes) else name].shape))
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ArtifactError(path.name, f"it is not a readable Keras HDF5 weights file ({type(exc).__name__}: {exc})") from None
    built = [tuple(array.shape) for array in model.get_weights()]
    if saved != built:
        raise ArtifactError(
            path.name,
            f"its weight shapes {saved} do not fit the network built from rlzoo.json's "
            f"hyperparameters (hidden_layers, dueling...): {built}",
        )
