"""Exceptions raised by rlzoo. Every message says what was wrong and what would be right."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class _NoValue:
    """The type of :data:`_NO_VALUE`: pickles as a reference to it, so an error keeps it across processes."""

    def __repr__(self) -> str:
        return "<no value>"

    def __reduce__(self) -> str:
        return "_NO_VALUE"


#: Marks "no value given" where ``None`` is a value someone can pass.
_NO_VALUE: Any = _NoValue()


class RLZooError(Exception):
    """Base class of every error rlzoo raises on purpose.

    Every subclass pickles (a run's error crosses process and Ray boundaries): it is
    rebuilt from its message and attributes, not by calling its ``__init__`` again, whose
    parameters differ from class to class.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[RLZooError], args: tuple[Any, ...], state: dict[str, Any]) -> RLZooError:
    """An :class:`RLZooError` of class ``cls`` with ``args`` and attributes ``state``, without its ``__init__``."""
    error = Exception.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


def closest(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """The candidates closest to ``name``, best first (case-insensitive)."""
    by_lower = {c.lower(): c for c in candidates}
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.5)
    return [by_lower[m] for m in matches]


def _suggestion(name: str, candidates: Iterable[str]) -> str:
    candidates = sorted(set(candidates))
    near = closest(name, candidates)
    if near:
        return f"did you mean {', '.join(repr(n) for n in near)}?"
    shown = ", ".join(candidates[:20]) + (", ..." if len(candidates) > 20 else "")
    return f"valid names: {shown}" if candidates else "none are registered"


class UnknownNameError(RLZooError, LookupError):
    """A name that is not in a registry; the message lists the closest valid names."""

    kind = "name"

    def __init__(self, name: str, candidates: Iterable[str], hint: str = "") -> None:
        candidates = list(candidates)
        self.name = name
        self.suggestions = closest(name, candidates)
        message = f"unknown {self.kind} {name!r}: {_suggestion(name, candidates)}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)

    def __str__(self) -> str:  # LookupError would quote the message
        return str(self.args[0])


class UnknownAgentError(UnknownNameError):
    kind = "agent"


class UnknownEnvError(UnknownNameError):
    kind = "env"


class DuplicateNameError(RLZooError, ValueError):
    """A name registered twice; the message names both owners."""


class HyperparameterError(RLZooError, ValueError):
    """An unknown hyperparameter, or a bad value for a known one; the message says what is valid.

    Parameters
    ----------
    agent:
        The agent's registered name.
    key:
        The hyperparameter (``"policy_kwargs.net_arch"`` for a nested one).
    valid:
        For an unknown key: the valid hyperparameters (the closest are suggested). Without
        ``valid`` and ``value``, ``key`` names what is wrong and ``problem`` says why.
    problem:
        For an unknown key, what is wrong (``"unknown hyperparameter"``); with ``value``,
        what a valid value is (``"must be an int >= 1"``).
    value:
        The rejected value, when the key is known and its value is the problem.
    """

    def __init__(
        self, agent: str, key: str, valid: Iterable[str] = (), problem: str = "unknown hyperparameter", *, value: Any = _NO_VALUE
    ) -> None:
        if value is not _NO_VALUE:
            message = f"{key}={value!r} for agent {agent!r}: {problem}"
        elif not valid:  # a problem with several keys at once
            message = f"{key} for agent {agent!r}: {problem}"
        else:
            valid = sorted(valid)
            near = closest(key, valid, n=3)
            hint = f"did you mean {', '.join(repr(n) for n in near)}? " if near else ""
            message = f"{problem} {key!r} for agent {agent!r}: {hint}valid hyperparameters: {', '.join(valid)}"
        super().__init__(message)
        self.agent, self.key, self.value = agent, key, value


class ArgumentError(RLZooError, ValueError):
    """A bad argument to an rlzoo function (``train``, ``make_agent``, ``make_env``...)."""


class EnvConfigError(ArgumentError):
    """A bad env constructor argument (unknown, wrong type or out of range); the message names the valid ones."""


class SearchSpaceError(RLZooError, ValueError):
    """A malformed tuning search space (a file or a dict): the message names the entry and the fix."""


class StudyError(RLZooError, ValueError):
    """A tuning storage that cannot hold the study, or a study that is not this tuning's."""


class TrainingDivergedError(RLZooError, ArithmeticError):
    """Training met a non-finite value (an observation, reward, loss or weight) and stopped."""


class IncompatibleEnvError(RLZooError, ValueError):
    """An env whose spaces an agent cannot handle."""


class MissingDependencyError(RLZooError, ImportError):
    """An optional dependency (an extra) is not installed."""

    def __init__(self, what: str, extra: str | None, distribution: str = "rlzoo") -> None:
        requirement = f"{distribution}[{extra}]" if extra else distribution
        needs = f"the {extra!r} extra of {distribution}" if extra else f"a complete install of {distribution}"
        super().__init__(f"{what} needs {needs}: pip install '{requirement}'")
        self.distribution = distribution
        self.extra = extra


class PluginError(RLZooError, ImportError):
    """An installed plugin that fails to load; the message names its distribution."""


class ArtifactError(RLZooError, ValueError):
    """A saved agent that cannot be read (or written, ``action="save"``): the message names the file and the problem."""

    def __init__(self, path: object, problem: str, action: str = "load") -> None:
        super().__init__(f"cannot {action} {str(path)!r}: {problem}")
        self.path = path
        self.problem = problem


class CheckpointError(RLZooError, ValueError):
    """A checkpoint that cannot be written or read: the message names the folder and the problem."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"checkpoint {str(path)!r}: {problem}")
        self.path = path
