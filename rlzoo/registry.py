"""The agent and env registries: plain dicts of small frozen records plus a few verbs.

Agents are found through the ``rlzoo.agents`` entry-point group (rlzoo's own too) and
:func:`register_agent`; envs through the ``rlzoo.envs`` group and :func:`register_env`.
Building an agent from a name, an env, a preset and a seed is :mod:`rlzoo.builder`'s job.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gymnasium as gym

from rlzoo import checks
from rlzoo.errors import (
    ArgumentError,
    DuplicateNameError,
    EnvConfigError,
    MissingDependencyError,
    PluginError,
    UnknownAgentError,
    UnknownEnvError,
    closest,
)
from rlzoo.plugins import agent_entry_points, current_owner
from rlzoo.quiet import quiet_backend_import, recipe_env_warning_hidden

if TYPE_CHECKING:
    from rlzoo.agent import Agent

#: ``factory(env, *, seed=None, **hyperparams) -> Agent``; an Agent subclass qualifies.
AgentFactory = Callable[..., "Agent"]

ENV_KINDS = ("gymnasium", "pettingzoo")


def load_object(entry_point: str) -> Any:
    """Import ``"package.module:attribute"`` and return the attribute."""
    module_name, _, attribute = entry_point.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split(".") if attribute else ():
        obj = getattr(obj, part)
    return obj


@dataclasses.dataclass(frozen=True)
class AgentEntry:
    """One registered agent.

    Attributes
    ----------
    name: the name users pass to :func:`make_agent`.
    owner: who registered it (a distribution's name, or ``"user code"``).
    extra: the extra of its distribution its dependencies come with, if any.
    entry_point: ``"module:attribute"`` loaded on first use, or ``None`` when ``factory`` is given.
    factory: the factory itself, for agents registered from code.
    distribution: the distribution that declares it (``"rlzoo"`` for rlzoo's own), or ``None``.
    """

    name: str
    owner: str
    extra: str | None = None
    entry_point: str | None = None
    factory: AgentFactory | None = None
    distribution: str | None = None

    def load(self) -> AgentFactory:
        """Import and return the factory.

        Raises
        ------
        MissingDependencyError: a module it imports is not installed; the message says
            which distribution and extra to install (``pip install 'plugin[extra]'``).
        PluginError: importing it raised anything else (``SystemExit`` included), or the
            attribute is missing; the message names its distribution.
        """
        if self.factory is not None:
            return self.factory
        assert self.entry_point is not None
        try:
            return load_object(self.entry_point)
        except ModuleNotFoundError as exc:
            raise MissingDependencyError(f"agent {self.name!r} ({exc})", self.extra, self.distribution or "rlzoo") from exc
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a broken plugin must fail alone, as an rlzoo error
            raise PluginError(
                f"agent {self.name!r} from {self.owner} failed to load ({self.entry_point}): {type(exc).__name__}: {exc}"
            ) from exc


@dataclasses.dataclass(frozen=True)
class EnvEntry:
    """One env rlzoo lists.

    Attributes
    ----------
    id: the id for :func:`make_env` (and, for kind ``"gymnasium"``, ``gymnasium.make``).
    kind: ``"gymnasium"`` (single agent) or ``"pettingzoo"`` (multi-agent, parallel API).
    owner: who registered it.
    extra: the extra its dependencies come with, if any.
    entry_point: ``"module:attribute"`` of the env class or constructor.
    description: one line for ``rlzoo list``.
    """

    id: str
    kind: str
    owner: str
    extra: str | None = None
    entry_point: str | None = None
    description: str = ""


_agents: dict[str, AgentEntry] = {}
_agent_conflicts: dict[str, list[AgentEntry]] = {}
_agents_discovered = False
_envs: dict[str, EnvEntry] = {}


# -- agents ------------------------------------------------------------------------------
def _discover_agents() -> None:
    global _agents_discovered
    if _agents_discovered:
        return
    declared = agent_entry_points()  # malformed entries are skipped there, with a PluginWarning
    _agents_discovered = True
    for name, owner, extra, entry_point, distribution in declared:
        _add_agent(AgentEntry(name, owner, extra, entry_point, distribution=distribution), from_plugin=True)


def _add_agent(entry: AgentEntry, from_plugin: bool) -> None:
    existing = _agents.get(entry.name)
    if existing is None:
        _agents[entry.name] = entry
    elif from_plugin:  # two installed packages claim one name: refuse to pick one silently
        _agent_conflicts.setdefault(entry.name, [existing]).append(entry)
    else:
        raise DuplicateNameError(
            f"agent {entry.name!r} is already registered by {existing.owner}; {entry.owner} tried to register it again: choose another name"
        )


def register_agent(name: str, factory: AgentFactory, *, extra: str | None = None) -> None:
    """Register an agent from code.

    Parameters
    ----------
    name:
        The agent's name (e.g. ``"my-dqn"``). A name already taken raises
        :class:`~rlzoo.errors.DuplicateNameError` naming both owners.
    factory:
        ``factory(env, *, seed=None, **hyperparams) -> Agent``; an Agent subclass qualifies.
    extra:
        The extra that installs its dependencies, shown by ``rlzoo list``.
    """
    _discover_agents()
    _add_agent(AgentEntry(name, current_owner(), extra, factory=factory), from_plugin=False)


def list_agents() -> list[AgentEntry]:
    """Every registered agent, sorted by name, without importing any backend.

    Returns
    -------
    list[AgentEntry]
    """
    _discover_agents()
    return sorted(_agents.values(), key=lambda e: e.name)


def get_agent(name: str) -> AgentFactory:
    """The factory registered as ``name``.

    Raises
    ------
    UnknownAgentError: no such agent (the message lists the closest names).
    DuplicateNameError: two installed packages both register ``name``.
    MissingDependencyError: its extra is not installed.
    """
    _discover_agents()
    if name in _agent_conflicts:
        owners = " and ".join(e.owner for e in _agent_conflicts[name])
        raise DuplicateNameError(f"agent {name!r} is registered by both {owners}: uninstall one of them")
    if name not in _agents:
        raise UnknownAgentError(name, _agents, "rlzoo list shows them all")
    with quiet_backend_import():  # the Python API as quiet as the CLI: no TensorFlow start-up lines
        return _agents[name].load()


# -- envs --------------------------------------------------------------------------------
def register_env(
    id: str,
    entry_point: str | None = None,
    *,
    kind: str = "gymnasium",
    extra: str | None = None,
    description: str = "",
    **gym_kwargs: Any,
) -> None:
    """Register an env with rlzoo (and, for kind ``"gymnasium"``, with Gymnasium).

    Parameters
    ----------
    id:
        The env id. One that rlzoo or Gymnasium already has raises
        :class:`~rlzoo.errors.DuplicateNameError` naming both owners.
    entry_point:
        ``"module:attribute"`` of the env class or constructor, imported only when the env
        is made. ``None`` lists an env Gymnasium already has (e.g. ``"CartPole-v1"``).
    kind:
        ``"gymnasium"`` or ``"pettingzoo"`` (a parallel-API constructor; not a
        ``gymnasium.make`` id, use :func:`make_env`).
    extra:
        The extra its dependencies come with, if any.
    description:
        One line for ``rlzoo list``.
    **gym_kwargs:
        Passed to ``gymnasium.register`` (``max_episode_steps``, ``reward_threshold``,
        ``kwargs``, ``vector_entry_point``...).
    """
    if kind not in ENV_KINDS:
        raise ValueError(f"unknown env kind {kind!r}: valid kinds are {', '.join(ENV_KINDS)}")
    if id in _envs:
        raise DuplicateNameError(
            f"env {id!r} is already registered by {_envs[id].owner}; {current_owner()} tried to register it again: choose another id"
        )
    owner = current_owner()
    if kind == "gymnasium" and entry_point is None:
        if id not in gym.registry:
            raise UnknownEnvError(id, gym.registry, "entry_point=None lists an env Gymnasium already has")
        owner = "gymnasium"
    elif kind == "gymnasium":
        if id in gym.registry:
            raise DuplicateNameError(
                f"env {id!r} is already in Gymnasium's registry ({gym.registry[id].entry_point}); "
                f"{owner} tried to register it again: choose another id"
            )
        gym.register(id=id, entry_point=entry_point, **gym_kwargs)
    _envs[id] = EnvEntry(id, kind, owner, extra, entry_point, description)


def list_envs() -> list[EnvEntry]:
    """Every env rlzoo lists (its own, plugins', and the Gymnasium ones it trains on), sorted by id.

    Returns
    -------
    list[EnvEntry]
    """
    return sorted(_envs.values(), key=lambda e: e.id)


def make_env(id: str, **kwargs: Any) -> Any:
    """Make an env by id: a Gymnasium env (any ``gymnasium.make`` id) or a PettingZoo one.

    Parameters
    ----------
    id:
        An id from :func:`list_envs`, or any id Gymnasium knows.
    **kwargs:
        Passed to the env's constructor (``gymnasium.make`` kwargs for Gymnasium envs).

    Returns
    -------
    gymnasium.Env or pettingzoo.ParallelEnv

    Raises
    ------
    UnknownEnvError: no such env (the message lists the closest ids).
    EnvConfigError: an unknown kwarg, or a value the env refuses (its constructor raises it).
    """
    if not isinstance(id, str):
        raise ArgumentError(f"an env id must be a string such as 'CartPole-v1' (rlzoo list shows them all), got {checks.shown(id)}")
    entry = _envs.get(id)
    if entry is not None and entry.kind == "pettingzoo":
        assert entry.entry_point is not None
        try:
            constructor = load_object(entry.entry_point)
        except ImportError as exc:
            raise MissingDependencyError(f"env {id!r} ({exc})", entry.extra or "multiagent") from exc
        check_env_kwargs(id, constructor, kwargs)
        return _with_env_id(id, constructor, kwargs)
    try:
        spec = gym.spec(id)
    except gym.error.Error as exc:  # unregistered, deprecated or malformed
        raise UnknownEnvError(id, [*gym.registry, *_envs], str(exc).rstrip(".")) from None
    try:
        entry_point = spec.entry_point
        creator = entry_point if callable(entry_point) or entry_point is None else load_object(entry_point)
    except (ImportError, AttributeError):  # gymnasium.make reports it in its own words
        creator = None
    if creator is not None:
        check_env_kwargs(id, creator, {k: v for k, v in kwargs.items() if k not in _GYM_MAKE_KWARGS})
    with recipe_env_warning_hidden():
        return _with_env_id(id, gym.make, {"id": id, **kwargs})


def _with_env_id(id: str, make: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """``make(**kwargs)``; an env's EnvConfigError comes out with the env id in front."""
    try:
        return make(**kwargs)
    except EnvConfigError as exc:
        raise EnvConfigError(f"env {id!r}: {exc}") from None


#: ``gymnasium.make``'s own keyword arguments (the rest go to the env's constructor).
_GYM_MAKE_KWARGS = ("max_episode_steps", "disable_env_checker")


def check_env_kwargs(id: str, constructor: Any, kwargs: dict[str, Any]) -> None:
    """Unknown constructor kwargs as an EnvConfigError naming the valid ones (Python's TypeError names only one).

    Parameters
    ----------
    id:
        The env id, for the message.
    constructor:
        The env's entry point (its signature says which kwargs it takes).
    kwargs:
        The kwargs given (``gymnasium.make``'s own already left out).
    """
    try:
        parameters = inspect.signature(constructor).parameters.values()
    except (TypeError, ValueError):  # no signature to check against: the constructor decides
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return
    valid = [p.name for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    for key in kwargs:
        if key not in valid:
            near = closest(key, valid, n=3)
            hint = f"did you mean {', '.join(repr(n) for n in near)}? " if near else ""
            raise EnvConfigError(f"unknown kwarg {key!r} for env {id!r}: {hint}valid kwargs: {', '.join(valid) or 'none'}")
