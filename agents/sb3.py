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
import io
import json
import pickle
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
from stable_baselines3.common.logger import Logger  # noqa: E402

from rlzoo.agent import Agent  # noqa: E402
from rlzoo.callbacks import Callback  # noqa: E402
from rlzoo.errors import ArtifactError, HyperparameterError, IncompatibleEnvError  # noqa: E402
from rlzoo.files import unpack_limit, zip_size_problem  # noqa: E402

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
#: What an off-policy replay buffer holds, written to checkpoints as arrays (``next_observations``
#: is ``None`` with ``optimize_memory_usage``).
_BUFFER_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


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
        model = self.algorithm(policy, train_env, seed=self.seed, verbose=0, **kwargs)
        _quiet_logger(model)
        return model

    def set_env(self, env: gym.Env) -> None:
        super().set_env(env)
        self.model.set_env(env)

    # -- the contract ---------------------------------------------------------------------
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> None:
        self.model.tensorboard_log = self.tensorboard_log  # SB3's own tags go beside rlzoo's (rlzoo.tensorboard)
        if self.tensorboard_log is None:
            _quiet_logger(self.model)
        else:
            self.model._custom_logger = False  # SB3 then configures its own logger, with TensorBoard output
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
        """Load SB3's zip without unpickling anything, once it matches this agent.

        This agent was freshly built from ``rlzoo.json``, which is the authority: the
        payload must come from the same algorithm (SB3's ``data`` holds the same fields) and
        hold weights of the same names and shapes as this agent's policy. SB3 stores some
        attributes (spaces, policy class, schedules) as cloudpickle blobs; every one of them,
        and every constructor argument, is replaced through ``custom_objects`` by the same
        attribute of this agent, so ``cloudpickle.loads`` never runs and the architecture is
        the manifest's. A blob rlzoo cannot rebuild is refused. Tensors load with
        ``torch.load(weights_only=True)``.
        """
        path = directory / _PAYLOAD
        data = self._check_payload(path)
        custom_objects = {key: getattr(self.model, key) for key in self._pickled_keys(data)}
        for key in self.valid_hyperparams() & set(data):
            if hasattr(self.model, key):
                custom_objects[key] = getattr(self.model, key)
        self.model = self.algorithm.load(path, env=self.model.get_env(), custom_objects=custom_objects, device=self.model.device)
        _quiet_logger(self.model)

    def _saved_keys(self) -> set[str]:
        """The fields SB3's ``save`` writes to ``data`` for this agent's model."""
        excluded = set(self.model._excluded_save_params())
        state_dicts, tensors = self.model._get_torch_save_params()
        excluded |= {name.split(".")[0] for name in [*state_dicts, *tensors]}
        return set(self.model.__dict__) - excluded

    def _check_payload(self, path: pathlib.Path) -> dict[str, Any]:
        """SB3's ``data`` fields, once the payload is known to be this algorithm with this policy's shapes."""
        algorithm = self.algorithm.__name__
        try:
            with zipfile.ZipFile(path) as archive:
                problem = zip_size_problem(archive, unpack_limit())
                if problem:
                    raise ArtifactError(_PAYLOAD, problem)
                data = json.loads(archive.read("data"))
                with archive.open("policy.pth") as weights:
                    state = torch.load(io.BytesIO(weights.read()), map_location="cpu", weights_only=True)
        except ArtifactError:
            raise
        except (OSError, KeyError, ValueError, RecursionError, zipfile.BadZipFile, RuntimeError, pickle.UnpicklingError) as exc:
            raise ArtifactError(_PAYLOAD, f"it is not a readable SB3 model ({type(exc).__name__}: {exc})") from None
        if not isinstance(data, dict) or not isinstance(state, dict):
            raise ArtifactError(_PAYLOAD, "it is not a readable SB3 model (its data or policy weights are malformed)")
        self._pickled_keys(data)  # before anything else: the file must not even look as if we would unpickle
        expected = self._saved_keys()
        missing, extra = sorted(expected - set(data)), sorted(set(data) - expected)
        if missing or extra:
            raise ArtifactError(_PAYLOAD, (
                f"it is not an SB3 {algorithm} model as rlzoo.json says (it lacks {', '.join(missing) or 'nothing'}; "
                f"it has {', '.join(extra) or 'nothing'} more); was it saved by another algorithm or another "
                f"stable-baselines3 than {stable_baselines3.__version__}?"
            ))
        built = {name: tuple(tensor.shape) for name, tensor in self.model.policy.state_dict().items()}
        saved = {name: tuple(getattr(tensor, "shape", ())) for name, tensor in state.items()}
        if saved != built:
            differences = [
                f"{name}: {saved.get(name, 'absent')} in the file, {built.get(name, 'absent')} as built"
                for name in sorted(set(saved) | set(built)) if saved.get(name) != built.get(name)
            ]
            raise ArtifactError(_PAYLOAD, (
                f"its policy weights do not fit the {algorithm} policy built from rlzoo.json's hyperparameters "
                f"(policy_kwargs, net_arch...): {'; '.join(differences[:3])}{'; ...' if len(differences) > 3 else ''}"
            ))
        return data

    def _pickled_keys(self, data: dict[str, Any]) -> list[str]:
        keys = [key for key, value in data.items() if isinstance(value, dict) and ":serialized:" in value]
        unknown = [key for key in keys if not hasattr(self.model, key)]
        if unknown:
            raise ArtifactError(_PAYLOAD, f"the SB3 payload holds pickled objects rlzoo cannot rebuild ({', '.join(unknown)}): refusing to unpickle them")
        return keys

    # -- checkpoints ----------------------------------------------------------------------
    def learn_until(self, timestep: int, callback: Callback | None = None, *, run_end: int | None = None) -> None:
        """Train to ``timestep`` with SB3's schedules running over the whole run to ``run_end``.

        SB3 computes its progress (for ``lin_`` schedules and DQN's exploration) as
        ``1 - num_timesteps / end`` with ``end`` the end of the current ``learn()`` call;
        pointing it at ``run_end`` makes a run trained in parts follow one schedule.
        """
        model = self.model
        if run_end is not None:
            progress = type(model)._update_current_progress_remaining
            model._update_current_progress_remaining = lambda num_timesteps, _end: progress(model, num_timesteps, run_end)
        try:
            self.learn(timestep - self.num_timesteps, callback)
        finally:
            model.__dict__.pop("_update_current_progress_remaining", None)  # never saved with the model

    def write_training_state(self, directory: pathlib.Path) -> None:
        """The replay buffer's arrays (off-policy algorithms) and the action space's and envs'
        generators. The optimizer state is in the payload (SB3's zip holds it)."""
        import numpy as np

        model = self.model
        state: dict[str, Any] = {
            "action_space_rng": model.action_space.np_random.bit_generator.state,
            "env_rngs": [env_rng_state(env) for env in getattr(model.env, "envs", [])],
            "replay_buffer": None,
        }
        buffer = getattr(model, "replay_buffer", None)
        if buffer is not None:
            arrays = {name: getattr(buffer, name) for name in _BUFFER_ARRAYS if isinstance(getattr(buffer, name, None), np.ndarray)}
            if len(arrays) < len(_BUFFER_ARRAYS) - 1:  # a dict-observation buffer stores dicts of arrays
                raise CheckpointError(directory, f"{type(buffer).__name__} replay buffers cannot be checkpointed yet")
            rows = buffer.buffer_size if buffer.full else min(buffer.pos + 1, buffer.buffer_size)
            with open(directory / "replay_buffer.npz", "wb") as handle:
                np.savez(handle, **{name: array[:rows] for name, array in arrays.items()})
            state["replay_buffer"] = {"pos": int(buffer.pos), "full": bool(buffer.full), "rows": rows}
        (directory / "sb3_state.json").write_text(json.dumps(state))

    def read_training_state(self, directory: pathlib.Path) -> None:
        import numpy as np

        model = self.model
        state = json.loads((directory / "sb3_state.json").read_text())
        saved = state["replay_buffer"]
        if saved is not None:
            buffer = model.replay_buffer
            with np.load(directory / "replay_buffer.npz", allow_pickle=False) as arrays:
                for name in arrays.files:
                    target = getattr(buffer, name)
                    if name not in _BUFFER_ARRAYS or target is None or arrays[name].shape[1:] != target.shape[1:] or len(arrays[name]) > len(target):
                        raise CheckpointError(directory, f"replay buffer array {name!r} does not fit this agent's buffer")
                    target[: len(arrays[name])] = arrays[name]
            buffer.pos, buffer.full = int(saved["pos"]), bool(saved["full"])
        model.action_space.np_random.bit_generator.state = state["action_space_rng"]
        envs = getattr(model.env, "envs", [])
        if len(envs) != len(state["env_rngs"]):
            raise CheckpointError(directory, f"it was written with {len(state['env_rngs'])} envs, this agent has {len(envs)}")
        model.env.reset()  # uses up the seeds SB3 set while loading, so the next reset draws from the restored generators
        for env, rng_state in zip(envs, state["env_rngs"]):
            set_env_rng_state(env, rng_state)
        model._last_obs = model.env.reset()
        model._last_episode_starts = np.ones((model.env.num_envs,), dtype=bool)



def _quiet_logger(model: BaseAlgorithm) -> None:
    """Give ``model`` a logger that writes nowhere, unless it logs to TensorBoard.

    With ``verbose=0`` SB3's ``configure_logger`` still makes an empty ``SB3-<timestamp>``
    folder in the system temp folder on every ``learn()``; a custom logger skips that.
    """
    if model.tensorboard_log is None:
        model.set_logger(Logger(folder=None, output_formats=[]))


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
