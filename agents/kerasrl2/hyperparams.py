"""The hyperparameters of ``kerasrl2-dqn``: one typed record whose defaults are the recipe, and its checks."""

from __future__ import annotations

import dataclasses
from typing import Any

from rlzoo import checks
from rlzoo.errors import HyperparameterError

AGENT = "kerasrl2-dqn"
#: keras-rl2's policy classes by name (``BoltzmannQPolicy``, ``EpsGreedyQPolicy``, ``GreedyQPolicy``).
POLICY_NAMES = ("boltzmann", "eps_greedy", "greedy")
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
    "policy": checks.one_of(POLICY_NAMES),
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
