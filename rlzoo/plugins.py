"""Entry-point plugins: how installed packages (rlzoo itself included) add agents and envs.

Two groups, declared in a package's metadata:

``rlzoo.agents``
    ``name = package.module:factory [extra]``. The entry point's name is the agent's name;
    it is imported only when the agent is first made. ``factory(env, *, seed=None,
    **hyperparams) -> Agent`` (an :class:`rlzoo.Agent` subclass qualifies).
``rlzoo.envs``
    ``anything = package.module:register``. Loaded on ``import rlzoo``: ``register()`` takes
    no arguments and calls :func:`rlzoo.register_env` with entry-point strings, so it must
    stay light (no heavy imports).

A plugin cannot break rlzoo: metadata that does not parse, an entry point without
``module:attribute``, or a plugin that raises anything while loading (``SystemExit``
included; only ``KeyboardInterrupt`` goes through) gives a :class:`PluginWarning` naming
its distribution, and rlzoo carries on with every other agent and env.

This module only reads metadata and calls ``register()`` functions: the registries
(:mod:`rlzoo.registry`) ask it for the declared agents, so it imports neither.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from importlib import metadata
from typing import NamedTuple

AGENTS_GROUP = "rlzoo.agents"
ENVS_GROUP = "rlzoo.envs"


class PluginWarning(UserWarning):
    """A plugin could not be loaded; rlzoo carries on without it."""


_warned: set[str] = set()
_registering_owner = "user code"


@contextlib.contextmanager
def registering_as(owner: str) -> Iterator[None]:
    """Attribute registrations made inside the block to ``owner`` (used while loading plugins)."""
    global _registering_owner
    previous, _registering_owner = _registering_owner, owner
    try:
        yield
    finally:
        _registering_owner = previous


def current_owner() -> str:
    """Who is registering right now: a plugin's distribution while it loads, else ``"user code"``."""
    return _registering_owner


class AgentDeclaration(NamedTuple):
    """One well-formed entry of the ``rlzoo.agents`` group (nothing imported yet)."""

    name: str
    owner: str
    extra: str | None
    entry_point: str
    distribution: str | None


def _warn(message: str) -> None:
    """Warn once per message: entry points are read once for envs and again for agents."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, PluginWarning, stacklevel=3)


def _distribution_name(dist: metadata.Distribution) -> str | None:
    try:
        name = dist.metadata["Name"]
    except Exception:  # unreadable METADATA: the warning says "an unknown distribution"
        return None
    return name if isinstance(name, str) and name else None


def _owner(distribution: str | None) -> str:
    return f"distribution {distribution!r}" if distribution else "an unknown distribution"


def _entry_points(group: str) -> Iterator[tuple[str | None, metadata.EntryPoint]]:
    """``(distribution name, entry point)`` of ``group``, one distribution at a time.

    ``importlib.metadata.entry_points()`` parses every distribution at once, so one bad
    ``entry_points.txt`` (a line without ``=``) breaks it for all; here it costs only its own.
    The first distribution of a name on ``sys.path`` wins, as with ``importlib.metadata``.
    """
    seen: set[str] = set()
    for dist in metadata.distributions():
        name = _distribution_name(dist)
        key = re.sub(r"[-_.]+", "-", name).lower() if name else None
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        try:
            entry_points = [ep for ep in dist.entry_points if ep.group == group]
        except Exception as exc:
            _warn(f"rlzoo skipped the plugins of {_owner(name)}: its entry points do not parse ({type(exc).__name__}: {exc})")
            continue
        for entry_point in entry_points:
            yield name, entry_point


def _parse(distribution: str | None, entry_point: metadata.EntryPoint) -> tuple[str, list[str]] | None:
    """``("module:attribute", extras)`` of an entry point, or ``None`` (with a warning) when it is malformed."""
    try:
        module, attribute, extras = entry_point.module, entry_point.attr, entry_point.extras
    except Exception:  # EntryPoint's properties raise when its value does not match "module:attr [extras]"
        module = attribute = ""
        extras = []
    if not module or not attribute or not entry_point.name:
        _warn(
            f"rlzoo skipped entry point {entry_point.name!r} = {entry_point.value!r} of {_owner(distribution)} in "
            f"group {entry_point.group!r}: expected 'name = package.module:attribute [extra]'"
        )
        return None
    return f"{module}:{attribute}", list(extras)


def agent_entry_points() -> list[AgentDeclaration]:
    """Every well-formed agent declared in the ``rlzoo.agents`` group, without importing any of them."""
    entries = []
    for distribution, entry_point in _entry_points(AGENTS_GROUP):
        parsed = _parse(distribution, entry_point)
        if parsed is None:
            continue
        target, extras = parsed
        extra = extras[0] if extras else None
        entries.append(AgentDeclaration(entry_point.name, _owner(distribution), extra, target, distribution))
    return entries


def load_env_plugins() -> None:
    """Call the ``register()`` function of every ``rlzoo.envs`` entry point, rlzoo's own first."""
    plugins = []
    for distribution, entry_point in _entry_points(ENVS_GROUP):
        parsed = _parse(distribution, entry_point)
        if parsed is not None:
            plugins.append((not parsed[0].startswith("rlzoo.envs:"), entry_point.name, distribution, entry_point))
    for _, name, distribution, entry_point in sorted(plugins, key=lambda plugin: plugin[:2]):
        owner = _owner(distribution)
        try:
            register = entry_point.load()
            with registering_as(owner):
                register()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: a broken plugin must not break rlzoo
            _warn(f"rlzoo env plugin {name!r} from {owner} failed to load and was skipped: {type(exc).__name__}: {exc}")
