"""One resolved record of what shapes a training run besides the hyperparameters: :class:`TrainSettings`.

Every entry point (``rlzoo.train``, ``rlzoo train``, a sweep run, a tuning trial, a resumed
run) resolves its settings with :func:`resolve_settings`, in one order, each setting on its own:

1. the explicit argument (a Python argument or a command-line flag);
2. the preset file the run names (``preset=FILE``, ``--preset FILE``), its ``train:`` section;
3. the agent's own preset for the env (``agents/presets/<agent>.yml``);
4. rlzoo's defaults: periodic evaluation every tenth of the budget
   (:data:`EVAL_FRACTION`), :data:`EVAL_EPISODES` episodes each, no checkpoints.
   The step budget has no default: a run without one raises :class:`MissingBudgetError`.

``None`` always means "not given here, take the next source"; ``0`` means "off" for
``eval_every`` and ``checkpoint_every``. The final evaluation of every run is
:data:`FINAL_EPISODES` greedy episodes (:func:`rlzoo.evaluation.final_evaluation`).

Which episodes score what
-------------------------
The periodic evaluations pick the weights a run keeps; the final evaluation scores them.
They never play the same episodes: the final evaluation seeds its env copies with the run's
seed (copy ``k`` gets ``seed + k``), the periodic ones with :func:`periodic_eval_seed`
(``seed + 2**31`` modulo ``2**32``, so the two ranges of at most
:data:`rlzoo.evaluation.MAX_SIDE_BY_SIDE` copies never meet). Weights are kept only from
evaluations after the backend's first update (:meth:`rlzoo.agent.Agent.has_updated`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from rlzoo import checks
from rlzoo.errors import ArgumentError

#: Periodic evaluation runs every ``total_timesteps // EVAL_FRACTION`` steps unless told otherwise.
EVAL_FRACTION = 10
#: Episodes per periodic evaluation unless told otherwise.
EVAL_EPISODES = 10
#: Greedy episodes of the final evaluation of a run (``rlzoo train``, a sweep run, a tuning trial).
FINAL_EPISODES = 100
#: The offset between a run's seed and its periodic evaluations' seed (see :func:`periodic_eval_seed`).
PERIODIC_EVAL_OFFSET = 2**31
#: The settings a preset's ``train:`` section may hold.
PRESET_KEYS = ("total_timesteps", "eval_every", "eval_episodes")

#: Every numeric setting and what it accepts: the one place these are checked.
RULES: dict[str, checks.Rule] = {
    "total_timesteps": checks.integer(1),
    "eval_every": checks.integer(0),
    "eval_episodes": checks.integer(1),
    "checkpoint_every": checks.integer(0),
    "threads": checks.optional(checks.integer(1)),
}


class MissingBudgetError(ArgumentError):
    """A run with no step budget: none given and no preset that has one."""

    def __init__(self, agent: str | None, env: str | None) -> None:
        super().__init__(
            f"agent {agent or 'this agent'!r} has no preset with a step budget for env {env!r}: "
            "pass total_timesteps (on the command line: --steps N)"
        )


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """What shapes one training run besides the hyperparameters, fully resolved.

    Attributes
    ----------
    total_timesteps:
        Env steps this run trains for (a count, from where the agent stands).
    eval_every:
        Steps between periodic greedy evaluations (0: off). With evaluations on, the
        best-scoring weights are kept at the end.
    eval_episodes:
        Episodes per periodic evaluation.
    checkpoint_every:
        Steps between checkpoints (0: none).
    seed:
        The run's seed: the agent's, and the periodic and final evaluations'.
    threads:
        Intra-op threads for torch and TensorFlow (``None``: left as they are).
    """

    total_timesteps: int
    eval_every: int
    eval_episodes: int
    checkpoint_every: int = 0
    seed: int | None = None
    threads: int | None = 1

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON values (what the artifact, the sweep index, a trial and a preset record)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> TrainSettings:
        """Read back what :meth:`to_dict` wrote, every field checked.

        Raises
        ------
        ArgumentError: not a mapping of exactly these fields, or a value out of range.
        """
        names = [field.name for field in dataclasses.fields(cls)]
        if not isinstance(data, Mapping) or set(data) != set(names):
            raise ArgumentError(f"training settings must be a mapping with exactly the keys {', '.join(names)}, got {checks.shown(data)}")
        check_values(data, "training settings")
        return cls(**{name: data[name] for name in names})

    def describe(self) -> str:
        """One line for people: ``50000 steps, eval every 5000 (10 episodes), seed 0``."""
        evaluation = f"eval every {self.eval_every} ({self.eval_episodes} episodes)" if self.eval_every else "no periodic eval"
        checkpoints = f", checkpoint every {self.checkpoint_every}" if self.checkpoint_every else ""
        return f"{self.total_timesteps} steps, {evaluation}{checkpoints}, seed {self.seed}"


def periodic_eval_seed(seed: int | None) -> int | None:
    """The seed of a run's periodic evaluations: never the final evaluation's episodes.

    Parameters
    ----------
    seed:
        The run's seed (the final evaluation's), or ``None``.

    Returns
    -------
    int or None
        ``(seed + PERIODIC_EVAL_OFFSET) % 2**32``; ``None`` for ``None``.
    """
    return None if seed is None else (seed + PERIODIC_EVAL_OFFSET) % (checks.MAX_SEED + 1)


def check_values(values: Mapping[str, Any], source: str | None = None) -> None:
    """Check each known setting in ``values`` that is not ``None`` against :data:`RULES`.

    Parameters
    ----------
    values:
        Setting name to value; names outside :data:`RULES` (``seed``) are checked by their own rule.
    source:
        Where the values come from, for the message (``"preset file x.yml"``); ``None`` for
        the caller's own arguments.

    Raises
    ------
    ArgumentError: naming the setting, its value, the source and what is valid.
    """
    for name, value in values.items():
        if name == "seed":
            problem = checks.seed_problem(value)
        else:
            problem = None if value is None or name not in RULES else RULES[name](value)
        if problem is not None:
            where = f" in {source}" if source else ""
            raise ArgumentError(f"{name}={checks.shown(value)}{where}: {problem}")


def resolve_settings(
    preset: Mapping[str, Any],
    *,
    agent: str | None = None,
    env: str | None = None,
    total_timesteps: int | None = None,
    eval_every: int | None = None,
    eval_episodes: int | None = None,
    checkpoint_every: int | None = None,
    seed: int | None = None,
    threads: int | None = 1,
) -> TrainSettings:
    """The settings of one run, each from the first source that gives it (see the module's docstring).

    Parameters
    ----------
    preset:
        The preset's ``train:`` values for (agent, env): the named preset file's over the
        agent's own (``Agent.train_defaults``, which :func:`rlzoo.make_agent` fills in).
    agent, env:
        Names for the messages.
    total_timesteps, eval_every, eval_episodes, checkpoint_every, seed, threads:
        The explicit arguments; ``None`` takes the next source (for ``threads``: leaves the
        frameworks' counts alone).

    Returns
    -------
    TrainSettings

    Raises
    ------
    ArgumentError: a value of the wrong kind, explicit or from the preset.
    MissingBudgetError: no step budget anywhere.
    """
    explicit = {
        "total_timesteps": total_timesteps,
        "eval_every": eval_every,
        "eval_episodes": eval_episodes,
        "checkpoint_every": checkpoint_every,
        "seed": seed,
        "threads": threads,
    }
    check_values(explicit)
    check_values({key: preset.get(key) for key in PRESET_KEYS}, f"the preset of {agent!r} for {env!r}")
    total = total_timesteps if total_timesteps is not None else preset.get("total_timesteps")
    if total is None:
        raise MissingBudgetError(agent, env)
    every = _first(eval_every, preset.get("eval_every"), max(1, int(total) // EVAL_FRACTION))
    episodes = _first(eval_episodes, preset.get("eval_episodes"), EVAL_EPISODES)
    return TrainSettings(
        total_timesteps=int(total),
        eval_every=int(every),
        eval_episodes=int(episodes),
        checkpoint_every=int(checkpoint_every or 0),
        seed=checks.check_seed(seed),
        threads=None if threads is None else int(threads),
    )


def _first(*values: Any) -> Any:
    """The first value that is not ``None`` (so an explicit 0 stays 0)."""
    return next(value for value in values if value is not None)
