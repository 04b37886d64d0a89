"""Stable-Baselines3 backends: one generic adapter, registered as ``sb3-dqn``, ``sb3-ppo``,
``sb3-a2c`` and ``sb3-sac``.

Hyperparameters are the SB3 algorithm's own constructor arguments (validated against its
signature), plus ``policy`` (default ``"MlpPolicy"``) and ``n_envs`` (parallel copies of
the env, default 1). So that they stay JSON values in presets and artifacts, two spellings
are translated: ``"lin_<x>"`` for a schedule decaying linearly from ``x`` to 0 (as in RL
Baselines3 Zoo), and ``policy_kwargs.activation_fn`` as a name (``"relu"``, ``"tanh"``...).
"""

from __future__ import annotations

import collections.abc
import copy
import inspect
import io
import json
import math
import pathlib
import pickle
import types
import typing
import zipfile
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

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

from rlzoo import checks  # noqa: E402
from rlzoo.agent import Agent, env_identity, env_rng_state, set_env_rng_state  # noqa: E402
from rlzoo.callbacks import Callback  # noqa: E402
from rlzoo.errors import ArtifactError, CheckpointError, HyperparameterError, IncompatibleEnvError, TrainingDivergedError  # noqa: E402
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
    if key == "train_freq" and isinstance(value, list):
        return tuple(value)  # JSON has no tuples; SB3 takes (n, "step" or "episode") only as one
    if key == "policy_kwargs" and isinstance(value, dict) and isinstance(value.get("activation_fn"), str):
        return {**value, "activation_fn": _ACTIVATIONS[value["activation_fn"]]}  # a known name: checked when built
    return value


# -- value checks -------------------------------------------------------------------------
# SB3 checks few values itself, and those with asserts deep inside (batch_size=0 fails in the
# first update); rlzoo checks every value before building. Types come from the constructor's
# own annotations; ranges from the rules below, for the arguments the algorithms share.


def _is_schedule_string(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("lin_")


def _rate(value: Any) -> str | None:
    """A finite number > 0, or ``"lin_<x>"`` with x > 0."""
    wanted = "must be a finite number > 0, or 'lin_<x>' (decaying linearly from x > 0 to 0)"
    if _is_schedule_string(value):
        try:
            initial = float(value[len("lin_") :])
        except ValueError:
            return wanted
        return None if math.isfinite(initial) and initial > 0 else wanted
    return None if checks.number(above=0)(value) is None else wanted


def _train_freq(value: Any) -> str | None:
    if checks.is_int(value) and value >= 1:
        return None
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and checks.is_int(value[0])
        and value[0] >= 1
        and value[1] in ("step", "episode")
    ):
        return None
    return "must be an int >= 1, or [n, 'step' or 'episode'] with n an int >= 1"


def _gradient_steps(value: Any) -> str | None:
    return None if checks.is_int(value) and (value >= 1 or value == -1) else "must be an int >= 1, or -1 (as many as env steps collected)"


def _entropy(value: Any) -> str | None:
    """A number >= 0; SAC also takes ``"auto"`` or ``"auto_<initial>"`` (its annotation admits strings)."""
    wanted = "must be a finite number >= 0, or (SAC) 'auto' or 'auto_<x>' with x > 0"
    if isinstance(value, str):
        if value == "auto":
            return None
        if value.startswith("auto_"):
            try:
                initial = float(value[len("auto_") :])
            except ValueError:
                return wanted
            return None if math.isfinite(initial) and initial > 0 else wanted
        return wanted
    return None if checks.number(low=0)(value) is None else wanted


def _layers(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(checks.is_int(units) and units >= 1 for units in value)


def _net_arch(value: Any) -> str | None:
    """SB3's forms: ``[64, 64]``, ``{"pi": [...], "vf": [...]}`` (``"qf"`` for SAC), or that dict in a list."""
    if isinstance(value, (list, tuple)) and len(value) == 1 and isinstance(value[0], dict):
        value = value[0]  # SB3 < 1.8's form, which SB3 still takes
    if _layers(value) or (isinstance(value, dict) and set(value) <= {"pi", "vf", "qf"} and all(_layers(v) for v in value.values())):
        return None
    return "must be a list of ints >= 1 (units per layer), or a dict with 'pi' and 'vf' (SAC: 'qf') lists of such ints"


#: Ranges (and so types) of the arguments the algorithms share; the others' types come from the annotations.
_RANGES: dict[str, checks.Rule] = {
    "learning_rate": _rate,
    "clip_range": _rate,
    "clip_range_vf": checks.optional(_rate),
    "n_steps": checks.integer(1),
    "batch_size": checks.integer(1),
    "n_epochs": checks.integer(1),
    "buffer_size": checks.integer(1),
    "learning_starts": checks.integer(0),
    "gamma": checks.number(0, 1),
    "gae_lambda": checks.number(0, 1),
    "tau": checks.number(high=1, above=0),
    "train_freq": _train_freq,
    "gradient_steps": _gradient_steps,
    "target_update_interval": checks.integer(1),
    "exploration_fraction": checks.number(0, 1),
    "exploration_initial_eps": checks.number(0, 1),
    "exploration_final_eps": checks.number(0, 1),
    "ent_coef": _entropy,
    "vf_coef": checks.number(low=0),
    "max_grad_norm": checks.number(above=0),
    "target_kl": checks.optional(checks.number(above=0)),
    "sde_sample_freq": checks.integer(-1),
    "stats_window_size": checks.integer(1),
    "n_envs": checks.integer(1),
    "policy_kwargs": lambda value: None if isinstance(value, dict) else "must be a dict of the policy's arguments",
}
_POLICY_RANGES: dict[str, checks.Rule] = {"net_arch": _net_arch, "activation_fn": checks.one_of(_ACTIVATIONS)}
#: Policy constructor arguments that rlzoo or SB3 set.
_POLICY_RESERVED = {"self", "observation_space", "action_space", "lr_schedule"}


def _matches(value: Any, annotation: Any) -> bool:
    """Whether a JSON value fits a constructor annotation; ``True`` for what JSON cannot hold (the library checks those)."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(annotation))
    simple = {
        type(None): lambda v: v is None,
        bool: lambda v: isinstance(v, bool),
        int: checks.is_int,
        float: checks.is_number,
        str: lambda v: isinstance(v, str),
    }
    if annotation in simple:
        return simple[annotation](value)
    if annotation is dict or origin is dict:
        return isinstance(value, dict)
    if annotation in (list, tuple) or origin in (list, tuple):
        return isinstance(value, (list, tuple))
    if origin is collections.abc.Callable:
        return callable(value) or _is_schedule_string(value)
    return True


def _describe(annotation: Any) -> str:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return " or ".join(dict.fromkeys(_describe(option) for option in typing.get_args(annotation)))
    names = {
        type(None): "None",
        bool: "a bool",
        int: "an int",
        float: "a number",
        str: "a string",
        dict: "a dict",
        list: "a list",
        tuple: "a list",
    }
    origin = typing.get_origin(annotation)
    if origin is collections.abc.Callable:
        return "a schedule 'lin_<x>'"
    return names.get(annotation, names.get(origin, getattr(annotation, "__name__", str(annotation))))


def _check_values(agent: str, values: dict[str, Any], parameters: Any, ranges: dict[str, checks.Rule], prefix: str = "") -> None:
    """Each value against its range rule, then its parameter's annotation; raises HyperparameterError."""
    for key, value in values.items():
        parameter = parameters.get(key)
        annotation = parameter.annotation if parameter is not None else inspect.Parameter.empty
        problem = ranges[key](value) if key in ranges else None  # first: its message says more
        if problem is None and not _matches(value, annotation):
            problem = f"must be {_describe(annotation)}"
        if problem is not None:
            raise HyperparameterError(agent, prefix + key, problem=problem, value=value)


class _Bridge(BaseCallback):
    """Forwards SB3's per-step callback to rlzoo's hooks, and stops training on non-finite values.

    Every step's observations and rewards are checked (two vectorised ``isfinite`` calls);
    the policy's parameters after each training phase, at most once per
    ``PARAMETER_CHECK_EVERY`` steps (a pass over every tensor).
    """

    PARAMETER_CHECK_EVERY = 1000

    def __init__(self, agent: SB3Agent, callback: Callback) -> None:
        super().__init__()
        self.agent = agent
        self.callback = callback
        self._next_parameter_check = 0

    def _on_step(self) -> bool:
        self.agent.num_timesteps = self.num_timesteps
        observations, rewards = self.locals.get("new_obs"), self.locals.get("rewards")
        if rewards is not None and not (np.isfinite(rewards).all() and _finite(observations)):
            found = "reward" if not np.isfinite(rewards).all() else "observation"
            raise TrainingDivergedError(
                f"{self.agent.registered_name()}: training stopped at step {self.num_timesteps}: the env returned a "
                f"non-finite {found}; check the env's observations and rewards (and its kwargs, e.g. a noise_std of nan)"
            )
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
        if self.num_timesteps >= self._next_parameter_check:
            self._check_parameters()
            self._next_parameter_check = self.num_timesteps + self.PARAMETER_CHECK_EVERY

    def _on_training_end(self) -> None:
        self._check_parameters()

    def _check_parameters(self) -> None:
        with torch.no_grad():
            if all(bool(torch.isfinite(parameter).all()) for parameter in self.agent.model.policy.parameters()):
                return
        raise TrainingDivergedError(
            f"{self.agent.registered_name()}: training stopped at step {self.agent.model.num_timesteps}: the policy's parameters "
            "became non-finite (training diverged): try a smaller learning_rate, or check the env's observations and "
            "rewards for huge values"
        )


def _finite(observations: Any) -> bool:
    if isinstance(observations, dict):  # Dict observation spaces
        return all(_finite(value) for value in observations.values())
    return observations is None or bool(np.isfinite(observations).all())


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
        self._check_hyperparams()
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

    def _check_hyperparams(self) -> None:
        """Types (from SB3's annotations) and ranges of every value, before anything is built."""
        name, settings = self.registered_name(), self.hyperparams
        policy = settings.get("policy", "MlpPolicy")
        if not isinstance(policy, str) or policy not in self.algorithm.policy_aliases:
            raise HyperparameterError(
                name, "policy", problem=f"must be one of {', '.join(map(repr, self.algorithm.policy_aliases))}", value=policy
            )
        parameters = inspect.signature(self.algorithm.__init__).parameters
        _check_values(name, {k: v for k, v in settings.items() if k != "policy"}, parameters, _RANGES)
        policy_kwargs = settings.get("policy_kwargs") or {}
        policy_parameters = inspect.signature(self.algorithm.policy_aliases[policy].__init__).parameters
        valid = set(policy_parameters) - _POLICY_RESERVED
        for key in policy_kwargs:
            if key not in valid:
                raise HyperparameterError(
                    name, f"policy_kwargs.{key}", sorted(f"policy_kwargs.{v}" for v in valid), f"unknown {policy} argument"
                )
        _check_values(name, policy_kwargs, policy_parameters, _POLICY_RANGES, prefix="policy_kwargs.")
        if issubclass(self.algorithm, stable_baselines3.PPO):  # PPO splits each rollout into minibatches
            defaults = {key: parameter.default for key, parameter in parameters.items()}
            n_steps, batch_size = settings.get("n_steps", defaults["n_steps"]), settings.get("batch_size", defaults["batch_size"])
            rollout = n_steps * settings.get("n_envs", 1)
            if rollout < 2:
                raise HyperparameterError(
                    name, "n_steps", problem=f"must be such that n_steps * n_envs > 1 for PPO (here {rollout})", value=n_steps
                )
            if not 2 <= batch_size <= rollout:
                raise HyperparameterError(
                    name,
                    "batch_size",
                    problem=f"must be an int from 2 to n_steps * n_envs for PPO (the rollout, here {rollout})",
                    value=batch_size,
                )

    def _build(self, env: gym.Env) -> BaseAlgorithm:
        # Copies: SB3 writes into policy_kwargs (SAC adds use_sde), which must stay as the user gave them.
        kwargs = {key: _translate(key, copy.deepcopy(value)) for key, value in self.hyperparams.items()}
        policy = kwargs.pop("policy", "MlpPolicy")
        kwargs.pop("n_envs", None)
        training_env = self._training_env(env)
        try:
            model = self.algorithm(policy, training_env, seed=self.seed, verbose=0, **kwargs)
        except (AssertionError, ValueError, TypeError, KeyError, MemoryError, RuntimeError) as exc:  # SB3's and torch's on bad settings
            raise HyperparameterError(
                self.registered_name(),
                "hyperparameters",
                problem=f"Stable-Baselines3's {self.algorithm.__name__} refused them: {type(exc).__name__}: {exc}",
            ) from exc
        _quiet_logger(model)
        return model

    def _training_env(self, env: gym.Env) -> Any:
        """``env`` as SB3 trains on it: ``n_envs`` copies of it when ``n_envs`` > 1."""
        n_envs = int(self.hyperparams.get("n_envs", 1))
        if n_envs == 1:
            return env  # SB3 wraps a single env in Monitor and DummyVecEnv itself
        spec = env.spec
        if spec is None:
            raise IncompatibleEnvError("n_envs > 1 needs a registered env (made by id) to make the copies")
        # gym.make(spec) rebuilds the env with its kwargs and wrappers (frame stacking too).
        try:
            return make_vec_env(lambda: gym.make(spec), n_envs=n_envs, seed=self.seed)
        except ValueError as exc:  # a wrapper Gymnasium cannot recreate from the spec
            raise IncompatibleEnvError(
                f"n_envs={n_envs} needs copies of the env, and Gymnasium cannot rebuild it from its spec: {exc}"
            ) from None

    def set_env(self, env: gym.Env) -> None:
        """Continue on ``env``, as ``n_envs`` copies like the env the agent was built on (SB3 requires the same count)."""
        training_env = self._training_env(env)
        try:
            self.model.set_env(training_env)
        except ValueError as exc:  # SB3's check_for_correct_spaces
            raise IncompatibleEnvError(f"{self.registered_name()} cannot continue on {env_identity(env)[0] or 'this env'}: {exc}") from None
        super().set_env(env)

    # -- the contract ---------------------------------------------------------------------
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> None:
        self.model.tensorboard_log = self.tensorboard_log  # SB3's own tags go beside rlzoo's (rlzoo.tensorboard)
        if self.tensorboard_log is None:
            _quiet_logger(self.model)
        else:
            self.model._custom_logger = False  # SB3 then configures its own logger, with TensorBoard output
        bridge = _Bridge(self, callback or Callback())
        try:
            self.model.learn(
                total_timesteps,
                callback=bridge,
                reset_num_timesteps=False,  # learn() twice continues, as with every backend
            )
        except ValueError:  # torch's distributions refuse NaN logits before the bridge's next check
            bridge._check_parameters()
            raise
        finally:
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

    def predict_batch(self, observations: np.ndarray, deterministic: bool = True) -> list[Any]:
        """One forward pass of the policy for every row (SB3's ``predict`` on a batch)."""
        actions, _ = self.model.predict(np.asarray(observations), deterministic=deterministic)
        if isinstance(self.model.action_space, gym.spaces.Discrete):
            return [int(action) for action in actions]
        return list(actions)

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
            raise ArtifactError(
                _PAYLOAD,
                (
                    f"it is not an SB3 {algorithm} model as rlzoo.json says (it lacks {', '.join(missing) or 'nothing'}; "
                    f"it has {', '.join(extra) or 'nothing'} more); was it saved by another algorithm or another "
                    f"stable-baselines3 than {stable_baselines3.__version__}?"
                ),
            )
        built = {name: tuple(tensor.shape) for name, tensor in self.model.policy.state_dict().items()}
        saved = {name: tuple(getattr(tensor, "shape", ())) for name, tensor in state.items()}
        if saved != built:
            differences = [
                f"{name}: {saved.get(name, 'absent')} in the file, {built.get(name, 'absent')} as built"
                for name in sorted(set(saved) | set(built))
                if saved.get(name) != built.get(name)
            ]
            raise ArtifactError(
                _PAYLOAD,
                (
                    f"its policy weights do not fit the {algorithm} policy built from rlzoo.json's hyperparameters "
                    f"(policy_kwargs, net_arch...): {'; '.join(differences[:3])}{'; ...' if len(differences) > 3 else ''}"
                ),
            )
        return data

    def _pickled_keys(self, data: dict[str, Any]) -> list[str]:
        keys = [key for key, value in data.items() if isinstance(value, dict) and ":serialized:" in value]
        unknown = [key for key in keys if not hasattr(self.model, key)]
        if unknown:
            raise ArtifactError(
                _PAYLOAD, f"the SB3 payload holds pickled objects rlzoo cannot rebuild ({', '.join(unknown)}): refusing to unpickle them"
            )
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
            # A per-instance override (popped below), since SB3 has no hook for the schedule's end; the
            # instance attribute shadows the method, which mypy reads as assigning to the method itself.
            model._update_current_progress_remaining = (  # type: ignore[method-assign]
                lambda num_timesteps, total_timesteps: progress(model, num_timesteps, run_end)
            )
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
            buffer = getattr(model, "replay_buffer", None)  # off-policy algorithms only
            if buffer is None:
                raise CheckpointError(directory, f"it holds a replay buffer, and this agent's {type(model).__name__} has none")
            with np.load(directory / "replay_buffer.npz", allow_pickle=False) as arrays:
                for name in arrays.files:
                    target = getattr(buffer, name)
                    if (
                        name not in _BUFFER_ARRAYS
                        or target is None
                        or arrays[name].shape[1:] != target.shape[1:]
                        or len(arrays[name]) > len(target)
                    ):
                        raise CheckpointError(directory, f"replay buffer array {name!r} does not fit this agent's buffer")
                    target[: len(arrays[name])] = arrays[name]
            buffer.pos, buffer.full = int(saved["pos"]), bool(saved["full"])
        model.action_space.np_random.bit_generator.state = state["action_space_rng"]
        vec_env = model.env
        if vec_env is None:
            raise CheckpointError(directory, "this agent has no env to restore the envs' generators into")
        envs = getattr(vec_env, "envs", [])
        if len(envs) != len(state["env_rngs"]):
            raise CheckpointError(directory, f"it was written with {len(state['env_rngs'])} envs, this agent has {len(envs)}")
        vec_env.reset()  # uses up the seeds SB3 set while loading, so the next reset draws from the restored generators
        for env, rng_state in zip(envs, state["env_rngs"], strict=True):
            set_env_rng_state(env, rng_state)
        model._last_obs = vec_env.reset()  # type: ignore[assignment]  # SB3 assigns it so too: its VecEnvObs includes a tuple
        model._last_episode_starts = np.ones((vec_env.num_envs,), dtype=bool)


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
