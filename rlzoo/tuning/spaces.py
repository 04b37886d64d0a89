"""Search spaces: which hyperparameters a study samples, and from which ranges, per backend.

A space is a plain dict from a hyperparameter name to a spec (the same shape in code and in
the YAML file that ``rlzoo tune --space FILE`` reads)::

    learning_rate: {type: float, low: 1.0e-5, high: 1.0e-2, log: true}
    batch_size: {type: int, low: 16, high: 256, log: true}
    gamma: {type: categorical, choices: [0.98, 0.99, 0.995]}
    hidden_layers: {type: categorical, choices: {"64-64": [64, 64], "256-256": [256, 256]}}
    policy_params.eps: {type: float, low: 0.01, high: 0.3, when: {policy: eps_greedy}}
    memory_limit: 100000                     # not a spec: a fixed value

- ``choices`` as a mapping: Optuna samples the label (its categorical values must be
  scalars), the hyperparameter gets the value (a list, a dict...).
- A dotted name sets a key inside a dict hyperparameter (``policy_kwargs.net_arch``).
- ``when: {name: value}`` samples the entry only if ``name`` was sampled (earlier in the
  space) as ``value`` (or one of a list of values).

A user's file is merged over the built-in space: an entry replaces the built-in one of the
same name, ``null`` removes it (the preset's value is used), new names are added.
"""

from __future__ import annotations

import copy
import pathlib
from typing import TYPE_CHECKING, Any

from rlzoo import yamlfile
from rlzoo.errors import RLZooError

if TYPE_CHECKING:
    import optuna

SPEC_TYPES = ("float", "int", "categorical")

_GAMMAS = [0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999]
_SB3_MLP_SHARED = {"tiny": [64], "small": [64, 64], "medium": [256, 256]}
_SB3_MLP_SEPARATE = {
    "tiny": {"pi": [64], "vf": [64]},
    "small": {"pi": [64, 64], "vf": [64, 64]},
    "medium": {"pi": [256, 256], "vf": [256, 256]},
}


def _float(low: float, high: float, log: bool = False) -> dict[str, Any]:
    return {"type": "float", "low": low, "high": high, "log": log}


def _choice(choices: list[Any] | dict[str, Any]) -> dict[str, Any]:
    return {"type": "categorical", "choices": choices}


# The keras-rl2 recipe's knobs. target_model_update: keras-rl2 reads < 1 as a soft update
# rate and >= 1 as a hard copy every that many steps, so one categorical spans both kinds.
KERASRL2_DQN: dict[str, Any] = {
    "learning_rate": _float(1e-5, 1e-2, log=True),
    "hidden_layers": _choice(
        {"24-24": [24, 24], "64": [64], "64-64": [64, 64], "128-128": [128, 128], "256-256": [256, 256], "64-64-64": [64, 64, 64]}
    ),
    "batch_size": _choice([32, 64, 128, 256]),
    "target_model_update": _choice(
        {"soft-0.001": 0.001, "soft-0.01": 0.01, "soft-0.1": 0.1, "hard-100": 100, "hard-500": 500, "hard-1000": 1000, "hard-5000": 5000}
    ),
    "policy": _choice(["boltzmann", "eps_greedy"]),
    "policy_params.tau": {**_float(0.1, 10.0, log=True), "when": {"policy": "boltzmann"}},
    "policy_params.eps": {**_float(0.01, 0.3, log=True), "when": {"policy": "eps_greedy"}},
    "gamma": _choice(_GAMMAS[:-1]),
    "memory_limit": _choice([10000, 50000, 100000]),
    "enable_double_dqn": _choice([False, True]),
    "nb_steps_warmup": _choice([10, 100, 1000, 5000]),
    "train_interval": _choice([1, 2, 4, 8]),
}

# The SB3 spaces follow the ranges of RL Baselines3 Zoo's hyperparams_opt.py (rl_zoo3 2.x).
# Where the zoo derives one value from another (PPO's gamma from a log-uniform 1 - gamma,
# SAC's gradient_steps = train_freq), these use a categorical or SB3's own -1 instead.
SB3_DQN: dict[str, Any] = {
    "gamma": _choice(_GAMMAS),
    "learning_rate": _float(1e-5, 1e-2, log=True),
    "batch_size": _choice([16, 32, 64, 100, 128, 256, 512]),
    "buffer_size": _choice([10000, 50000, 100000, 1000000]),
    "exploration_final_eps": _float(0.0, 0.2),
    "exploration_fraction": _float(0.0, 0.5),
    "target_update_interval": _choice([1, 1000, 5000, 10000, 15000, 20000]),
    "learning_starts": _choice([0, 1000, 5000, 10000, 20000]),
    "train_freq": _choice([1, 4, 8, 16, 128, 256, 1000]),
    "gradient_steps": _choice([1, 2, 4, 8, -1]),
    "policy_kwargs.net_arch": _choice(_SB3_MLP_SHARED),
}

SB3_PPO: dict[str, Any] = {
    "batch_size": _choice([32, 64, 128, 256, 512]),
    "n_steps": _choice([32, 64, 128, 256, 512, 1024, 2048]),
    "gamma": _choice([0.97, 0.98, 0.99, 0.995, 0.999, 0.9999]),
    "gae_lambda": _choice([0.9, 0.95, 0.98, 0.99, 0.999]),
    "learning_rate": _float(1e-5, 2e-3, log=True),
    "ent_coef": _float(1e-8, 0.1, log=True),
    "clip_range": _choice([0.1, 0.2, 0.3, 0.4]),
    "n_epochs": _choice([1, 5, 10, 20]),
    "max_grad_norm": _float(0.3, 2.0),
    "policy_kwargs.net_arch": _choice(_SB3_MLP_SEPARATE),
    "policy_kwargs.activation_fn": _choice(["tanh", "relu"]),
}

SB3_A2C: dict[str, Any] = {
    "n_steps": _choice([8, 16, 32, 64, 128, 256, 512, 1024, 2048]),
    "gamma": _choice([0.97, 0.98, 0.99, 0.995, 0.999, 0.9999]),
    "gae_lambda": _choice([0.9, 0.95, 0.98, 0.99, 0.999, 1.0]),
    "learning_rate": _float(1e-5, 2e-3, log=True),
    "ent_coef": _float(1e-8, 0.1, log=True),
    "max_grad_norm": _float(0.3, 2.0),
    "policy_kwargs.net_arch": _choice({"small": _SB3_MLP_SEPARATE["small"], "medium": _SB3_MLP_SEPARATE["medium"]}),
    "policy_kwargs.activation_fn": _choice(["tanh", "relu"]),
}

SB3_SAC: dict[str, Any] = {
    "gamma": _choice(_GAMMAS),
    "learning_rate": _float(1e-5, 1e-2, log=True),
    "batch_size": _choice([16, 32, 64, 128, 256, 512, 1024]),
    "buffer_size": _choice([10000, 100000, 1000000]),
    "learning_starts": _choice([0, 1000, 10000, 20000]),
    "train_freq": _choice([1, 4, 8, 16, 32, 64, 128, 256, 512]),
    "gradient_steps": -1,  # as many gradient steps as env steps collected: the zoo's gradient_steps = train_freq
    "tau": _choice([0.001, 0.005, 0.01, 0.02, 0.05, 0.08]),
    "policy_kwargs.log_std_init": _float(-4.0, 1.0),
    "policy_kwargs.net_arch": _choice({"small": [64, 64], "medium": [256, 256], "big": [400, 300]}),
}

SPACES: dict[str, dict[str, Any]] = {
    "kerasrl2-dqn": KERASRL2_DQN,
    "sb3-dqn": SB3_DQN,
    "sb3-ppo": SB3_PPO,
    "sb3-a2c": SB3_A2C,
    "sb3-sac": SB3_SAC,
}


def is_spec(value: Any) -> bool:
    """Whether a space entry is sampled (a dict with ``type``) rather than fixed."""
    return isinstance(value, dict) and "type" in value


def check_space(space: dict[str, Any], source: str) -> None:
    """Raise :class:`RLZooError` naming the entry and the fix if a spec is malformed.

    Parameters
    ----------
    space:
        The space to check.
    source:
        Where it came from, for the message (a file name or ``"built-in"``).
    """
    seen: set[str] = set()
    for name, spec in space.items():
        if is_spec(spec):
            kind = spec["type"]
            if kind not in SPEC_TYPES:
                raise RLZooError(f"{source}: {name}: unknown type {kind!r}: valid types are {', '.join(SPEC_TYPES)}")
            if kind == "categorical":
                if not isinstance(spec.get("choices"), (list, dict)) or not spec["choices"]:
                    raise RLZooError(f"{source}: {name}: a categorical needs a non-empty list or mapping of choices")
            elif "low" not in spec or "high" not in spec or not spec["low"] <= spec["high"]:
                raise RLZooError(f"{source}: {name}: a {kind} needs low <= high (e.g. {{type: {kind}, low: 1, high: 10}})")
            for other in spec.get("when", {}):
                if other not in seen:
                    raise RLZooError(f"{source}: {name}: 'when' names {other!r}, which must be an entry listed before it")
        seen.add(name)


def space_for(agent: str, override: str | pathlib.Path | dict[str, Any] | None = None) -> dict[str, Any]:
    """The search space for ``agent``: the built-in one with ``override`` merged over it.

    Parameters
    ----------
    agent:
        A registered agent name.
    override:
        A YAML file or a dict of entries: each replaces the built-in entry of that name,
        ``None`` as a value removes it, new names are added. Without a built-in space
        (a plugin's agent), the override is the whole space.

    Returns
    -------
    dict[str, Any]
    """
    space = copy.deepcopy(SPACES.get(agent, {}))
    source = "override"
    if isinstance(override, (str, pathlib.Path)):
        source = str(override)
        override = yamlfile.load(override, "search space file", extra="tune") or {}
        if not isinstance(override, dict):
            raise RLZooError(f"{source}: a search space is a mapping of hyperparameter names to specs")
    for name, spec in (override or {}).items():
        if spec is None:
            space.pop(name, None)
        else:
            space[name] = spec
    if not any(is_spec(spec) for spec in space.values()):
        known = ", ".join(SPACES)
        raise RLZooError(f"agent {agent!r} has no built-in search space (those are: {known}): pass one with --space FILE")
    check_space(space, source)
    return space


def sample(trial: optuna.Trial, space: dict[str, Any]) -> dict[str, Any]:
    """Draw one set of hyperparameters from ``space`` through ``trial``.

    Parameters
    ----------
    trial:
        The Optuna trial (its parameters are the sampled labels and numbers).
    space:
        A checked space (see :func:`space_for`).

    Returns
    -------
    dict[str, Any]
        Hyperparameters, dotted names nested (``{"policy_kwargs": {"net_arch": [...]}}``).
    """
    drawn: dict[str, Any] = {}
    for name, spec in space.items():
        if not is_spec(spec):
            drawn[name] = spec
            continue
        if not _applies(spec.get("when", {}), drawn):
            continue
        kind = spec["type"]
        if kind == "float":
            drawn[name] = trial.suggest_float(name, spec["low"], spec["high"], log=spec.get("log", False), step=spec.get("step"))
        elif kind == "int":
            drawn[name] = trial.suggest_int(name, spec["low"], spec["high"], log=spec.get("log", False), step=spec.get("step", 1))
        else:
            choices = spec["choices"]
            if isinstance(choices, dict):
                drawn[name] = copy.deepcopy(choices[trial.suggest_categorical(name, list(choices))])
            else:
                drawn[name] = trial.suggest_categorical(name, choices)
    return nest(drawn)


def _applies(when: dict[str, Any], drawn: dict[str, Any]) -> bool:
    for name, wanted in when.items():
        allowed = wanted if isinstance(wanted, list) else [wanted]
        if name not in drawn or drawn[name] not in allowed:
            return False
    return True


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1, "c": 2}`` as ``{"a": {"b": 1}, "c": 2}``."""
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        *parents, leaf = name.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``update`` merged in, dicts merged key by key (neither is changed)."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
