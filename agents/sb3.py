"""Stable-Baselines3 backends: one generic adapter, registered as ``sb3-dqn``, ``sb3-ppo``,
``sb3-a2c`` and ``sb3-sac``.

Hyperparameters are the SB3 algorithm's own constructor arguments (validated against its
signature), plus ``policy`` (default ``"MlpPolicy"``) and ``n_envs`` (parallel copies of
the env, default 1). So that they stay JSON values in presets and artifacts, two spellings
are translated: ``"lin_<x>"`` for a schedule decaying linearly from ``x`` to 0 (as in RL
Baselines3 Zoo), and ``policy_kwargs.activation_fn`` as a name (``"relu"``, ``"tanh"``...).
"""

from __future__ import annotations

import copy
import inspect
import json
import pathlib
import zipfile
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym

from rlzoo.tensorboard import keep_tensorflow_out

# stable_baselines3.common.logger imports torch.utils.tensorboard, which imports TensorFlow
# through tensorboard.compat whenever both are installed (seconds, log lines, and Keras 3
# selected, which keras-rl2 cannot use): TensorBoard's stub does instead.
keep_tensorflow_out()

import stable_baselines3  # noqa: E402
import torch  # noqa: E402
from stable_baselines3.common.base_class import BaseAlgorithm  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402

from rlzoo.agent import Agent  # noqa: E402
from rlzoo.callbacks import Callback  # noqa: E402
from rlzoo.errors import ArtifactError, HyperparameterError, IncompatibleEnvError  # noqa: E402

from . import PRESETS_DIR  # noqa: E402

#: Constructor arguments that rlzoo sets itself (``seed``) or that make no sense here.
_RESERVED = {"self", "env", "seed", "_init_setup_model", "tensorboard_log", "verbose", "replay_buffer_class", "rollout_buffer_class"}
_ACTIVATIONS: dict[str, type[torch.nn.Module]] = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "elu": torch.nn.ELU,
    "leaky_relu": torch.nn.LeakyReLU,
    "silu": torch.nn.SiLU,
}
_PAYLOAD = "sb3_model.zip"


def linear_schedule(initial: float) -> Callable[[float], float]:
    """``progress_remaining -> initial * progress_remaining`` (1 at the start, 0 at the end)."""

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * initial

    return schedule


def _translate(key: str, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("lin_"):
        return linear_schedule(float(value[len("lin_") :]))
    if key == "policy_kwargs" and isinstance(value, dict) and isinstance(value.get("activation_fn"), str):
        name = value["activation_fn"]
        if name not in _ACTIVATIONS:
            raise HyperparameterError("sb3", f"policy_kwargs.activation_fn={name}", _ACTIVATIONS, "unknown activation")
        return {**value, "activation_fn": _ACTIVATIONS[name]}
    return value


class _Bridge(BaseCallback):
    """Forwards SB3's per-step callback to rlzoo's hooks."""

    def __init__(self, agent: SB3Agent, callback: Callback) -> None:
        super().__init__()
        self.agent = agent
        self.callback = callback

    def _on_step(self) -> bool:
        self.agent.num_timesteps = self.num_timesteps
        for info in self.locals["infos"]:
            episode = info.get("episode")  # set by SB3's Monitor wrapper when an episode ends
            if episode is not None:
                self.callback.on_episode_end(self.agent, float(episode["r"]), int(episode["l"]))
        return self.callback.on_step(self.agent)

    def _on_rollout_start(self) -> None:
        # SB3 records train/loss while training between rollouts and clears it at its next log dump.
        loss = self.logger.name_to_value.get("train/loss")
        if loss is not None:
            self.agent.last_loss = float(loss)


class SB3Agent(Agent):
    """A Stable-Baselines3 algorithm behind rlzoo's :class:`~rlzoo.agent.Agent` contract.

    Parameters
    ----------
    env:
        The env to train on.
    seed:
        Passed to the SB3 algorithm (seeds torch, NumPy, Python and the env).
    **hyperparams:
        The algorithm's constructor arguments, plus ``policy`` and ``n_envs``.
    """

    algorithm: ClassVar[type[BaseAlgorithm]]
    action_spaces: ClassVar[tuple[type[gym.Space], ...]]

    def __init__(self, env: gym.Env, *, seed: int | None = None, **hyperparams: Any) -> None:
        super().__init__(env, seed=seed, **hyperparams)
        valid = self.valid_hyperparams()
        for key in hyperparams:
            if key not in valid:
                raise HyperparameterError(self.registered_name(), key, valid)
        if not isinstance(env.action_space, self.action_spaces):
            kinds = " or ".join(space.__name__ for space in self.action_spaces)
            raise IncompatibleEnvError(
                f"{self.registered_name()} needs {kinds} actions, but {self.env_id or 'this env'} has {env.action_space}"
            )
        self.model = self._build(env)
        #: The loss of SB3's latest update, for :meth:`training_metrics` (A2C and SAC log theirs per part under train/).
        self.last_loss: float | None = None

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def registered_name(cls) -> str:
        return "sb3-" + cls.algorithm.__name__.lower()

    @classmethod
    def valid_hyperparams(cls) -> set[str]:
        """The algorithm's constructor arguments, plus ``policy`` and ``n_envs``."""
        names = set(inspect.signature(cls.algorithm.__init__).parameters) - _RESERVED
        return names | {"policy", "n_envs"}

    def _build(self, env: gym.Env) -> BaseAlgorithm:
        kwargs = {key: _translate(key, value) for key, value in self.hyperparams.items()}
        policy = kwargs.pop("policy", "MlpPolicy")
        n_envs = int(kwargs.pop("n_envs", 1))
        train_env: Any = env  # SB3 wraps a single env in Monitor and DummyVecEnv itself
        if n_envs > 1:
            spec = env.spec
            if spec is None:
                raise IncompatibleEnvError("n_envs > 1 needs a registered env (made by id) to make the copies")
            # gym.make(spec) rebuilds the env with its kwargs and wrappers (frame stacking too).
            train_env = make_vec_env(lambda: gym.make(spec), n_envs=n_envs, seed=self.seed)
        return self.algorithm(policy, train_env, seed=self.seed, verbose=0, **kwargs)

    def set_env(self, env: gym.Env) -> None:
        super().set_env(env)
        self.model.set_env(env)

    # -- the contract ---------------------------------------------------------------------
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> None:
        self.model.tensorboard_log = self.tensorboard_log  # SB3's own tags go beside rlzoo's (rlzoo.tensorboard)
        self.model.learn(
            total_timesteps,
            callback=_Bridge(self, callback or Callback()),
            reset_num_timesteps=False,  # learn() twice continues, as with every backend
        )
        self.num_timesteps = self.model.num_timesteps

    def training_metrics(self) -> dict[str, float]:
        metrics = {"learning_rate": float(self.model.lr_schedule(self.model._current_progress_remaining))}
        if self.last_loss is not None:
            metrics["loss"] = self.last_loss
        if hasattr(self.model, "exploration_rate"):
            metrics["exploration"] = float(self.model.exploration_rate)
        return metrics

    def predict(self, observation: Any, deterministic: bool = True) -> Any:
        action, _ = self.model.predict(observation, deterministic=deterministic)
        if isinstance(self.model.action_space, gym.spaces.Discrete):
            return int(action)
        return action

    def get_weights(self) -> dict[str, torch.Tensor]:
        return copy.deepcopy(self.model.policy.state_dict())

    def set_weights(self, weights: dict[str, torch.Tensor]) -> None:
        self.model.policy.load_state_dict(weights)

    def package_versions(self) -> dict[str, str]:
        return {**super().package_versions(), "stable-baselines3": stable_baselines3.__version__, "torch": torch.__version__}

    def write_payload(self, directory: pathlib.Path) -> None:
        self.model.save(directory / _PAYLOAD)

    def read_payload(self, directory: pathlib.Path) -> None:
        """Load SB3's zip without unpickling anything.

        SB3 stores some attributes (spaces, policy class, schedules) as cloudpickle blobs.
        Every one of them is replaced through ``custom_objects`` by the same attribute of
        this freshly built agent (built from ``rlzoo.json``'s hyperparameters), so
        ``cloudpickle.loads`` never runs; a blob rlzoo cannot rebuild is refused. Tensors
        load with ``torch.load(weights_only=True)`` inside SB3.
        """
        path = directory / _PAYLOAD
        custom_objects = {key: getattr(self.model, key) for key in self._pickled_keys(path)}
        self.model = self.algorithm.load(path, env=self.model.get_env(), custom_objects=custom_objects, device=self.model.device)

    def _pickled_keys(self, path: pathlib.Path) -> list[str]:
        try:
            with zipfile.ZipFile(path) as archive:
                data = json.loads(archive.read("data"))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise ArtifactError(path.name, f"the SB3 payload has no readable 'data' entry: {exc}") from None
        keys = [key for key, value in data.items() if isinstance(value, dict) and ":serialized:" in value]
        unknown = [key for key in keys if not hasattr(self.model, key)]
        if unknown:
            raise ArtifactError(path.name, f"the SB3 payload holds pickled objects rlzoo cannot rebuild ({', '.join(unknown)}): refusing to unpickle them")
        return keys


class SB3DQN(SB3Agent):
    """``sb3-dqn``: Stable-Baselines3's DQN (discrete actions). The comparison baseline."""

    algorithm = stable_baselines3.DQN
    action_spaces = (gym.spaces.Discrete,)
    preset_file = PRESETS_DIR / "sb3-dqn.yml"


class SB3PPO(SB3Agent):
    """``sb3-ppo``: Stable-Baselines3's PPO."""

    algorithm = stable_baselines3.PPO
    action_spaces = (gym.spaces.Discrete, gym.spaces.Box, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)
    preset_file = PRESETS_DIR / "sb3-ppo.yml"


class SB3A2C(SB3Agent):
    """``sb3-a2c``: Stable-Baselines3's A2C."""

    algorithm = stable_baselines3.A2C
    action_spaces = (gym.spaces.Discrete, gym.spaces.Box, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)
    preset_file = PRESETS_DIR / "sb3-a2c.yml"


class SB3SAC(SB3Agent):
    """``sb3-sac``: Stable-Baselines3's SAC (continuous actions)."""

    algorithm = stable_baselines3.SAC
    action_spaces = (gym.spaces.Box,)
    preset_file = PRESETS_DIR / "sb3-sac.yml"
