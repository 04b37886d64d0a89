"""The SB3 backends' hyperparameters: their names, their checks, and their translation into
the SB3 algorithm's constructor arguments.

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
import math
import types
import typing
from collections.abc import Callable
from typing import Any

import stable_baselines3
import torch
from stable_baselines3.common.base_class import BaseAlgorithm

from rlzoo import checks
from rlzoo.errors import HyperparameterError

#: Constructor arguments that rlzoo sets itself (``seed``) or that make no sense here.
_RESERVED = {"self", "env", "seed", "_init_setup_model", "tensorboard_log", "verbose", "replay_buffer_class", "rollout_buffer_class"}
_ACTIVATIONS: dict[str, type[torch.nn.Module]] = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "elu": torch.nn.ELU,
    "leaky_relu": torch.nn.LeakyReLU,
    "silu": torch.nn.SiLU,
}


def hyperparam_names(algorithm: type[BaseAlgorithm]) -> set[str]:
    """The hyperparameter names an SB3 backend takes.

    Parameters
    ----------
    algorithm:
        The SB3 algorithm class (``stable_baselines3.PPO``...).

    Returns
    -------
    set[str]
        The algorithm's constructor arguments that rlzoo does not set itself, plus ``policy``
        and ``n_envs``.
    """
    names = set(inspect.signature(algorithm.__init__).parameters) - _RESERVED
    return names | {"policy", "n_envs"}


def linear_schedule(initial: float) -> Callable[[float], float]:
    """A schedule decaying linearly to 0, as SB3 calls schedules.

    Parameters
    ----------
    initial:
        The value at the start of training.

    Returns
    -------
    Callable[[float], float]
        ``progress_remaining -> initial * progress_remaining`` (1 at the start, 0 at the end).
    """

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


def constructor_arguments(hyperparams: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The SB3 algorithm's constructor arguments for checked hyperparameters.

    Parameters
    ----------
    hyperparams:
        Hyperparameters that passed :func:`check_hyperparams`; left as they are.

    Returns
    -------
    tuple[str, dict[str, Any]]
        The policy name, and the other arguments with ``lin_`` schedules and activation
        names translated (``n_envs`` is not the algorithm's: it is left out).
    """
    # Copies: SB3 writes into policy_kwargs (SAC adds use_sde), which must stay as the user gave them.
    kwargs = {key: _translate(key, copy.deepcopy(value)) for key, value in hyperparams.items()}
    policy = kwargs.pop("policy", "MlpPolicy")
    kwargs.pop("n_envs", None)
    return policy, kwargs


# -- value checks -------------------------------------------------------------------------
# SB3 checks few values itself, and those with asserts deep inside (batch_size=0 fails in the
# first update); rlzoo checks every value before building. Types come from the constructor's
# own annotations; ranges from the rules below, for the arguments the algorithms share.


def _is_schedule_string(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("lin_")


def _positive_after(value: str, prefix: str) -> bool:
    """Whether ``value`` is ``prefix`` followed by a finite number > 0 (``"lin_0.001"``)."""
    try:
        number = float(value[len(prefix) :])
    except ValueError:
        return False
    return math.isfinite(number) and number > 0


def _rate(value: Any) -> str | None:
    """A finite number > 0, or ``"lin_<x>"`` with x > 0."""
    wanted = "must be a finite number > 0, or 'lin_<x>' (decaying linearly from x > 0 to 0)"
    if _is_schedule_string(value):
        return None if _positive_after(value, "lin_") else wanted
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
        return None if value.startswith("auto_") and _positive_after(value, "auto_") else wanted
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


def check_hyperparams(name: str, algorithm: type[BaseAlgorithm], settings: dict[str, Any]) -> None:
    """Check the types (from SB3's annotations) and ranges of every value, before anything is built.

    Parameters
    ----------
    name:
        The agent's registered name (``"sb3-ppo"``), for the error messages.
    algorithm:
        The SB3 algorithm class the values are for.
    settings:
        The hyperparameters, whose names are already known to be :func:`hyperparam_names`.

    Raises
    ------
    HyperparameterError
        A value of the wrong type or out of range, or an unknown ``policy_kwargs`` key.
    """
    policy = settings.get("policy", "MlpPolicy")
    if not isinstance(policy, str) or policy not in algorithm.policy_aliases:
        raise HyperparameterError(name, "policy", problem=f"must be one of {', '.join(map(repr, algorithm.policy_aliases))}", value=policy)
    parameters = inspect.signature(algorithm.__init__).parameters
    _check_values(name, {k: v for k, v in settings.items() if k != "policy"}, parameters, _RANGES)
    policy_kwargs = settings.get("policy_kwargs") or {}
    policy_parameters = inspect.signature(algorithm.policy_aliases[policy].__init__).parameters
    valid = set(policy_parameters) - _POLICY_RESERVED
    for key in policy_kwargs:
        if key not in valid:
            raise HyperparameterError(
                name, f"policy_kwargs.{key}", sorted(f"policy_kwargs.{v}" for v in valid), f"unknown {policy} argument"
            )
    _check_values(name, policy_kwargs, policy_parameters, _POLICY_RANGES, prefix="policy_kwargs.")
    if issubclass(algorithm, stable_baselines3.PPO):  # PPO splits each rollout into minibatches
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
