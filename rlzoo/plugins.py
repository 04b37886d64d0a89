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

A plugin that fails to load is reported with a warning naming its distribution, and rlzoo
keeps working without it.
"""

from __future__ import annotations

import warnings
from importlib import metadata

from rlzoo.registry import AgentEntry, registering_as

AGENTS_GROUP = "rlzoo.agents"
ENVS_GROUP = "rlzoo.envs"


class PluginWarning(UserWarning):
    """A plugin could not be loaded; rlzoo carries on without it."""


def _owner(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    return f"distribution {dist.name!r}" if dist is not None else "an unknown distribution"


def agent_entry_points() -> list[AgentEntry]:
    """Every agent declared in the ``rlzoo.agents`` group, without importing any of them."""
    entries = []
    for entry_point in metadata.entry_points(group=AGENTS_GROUP):
        extras = entry_point.extras
        entries.append(AgentEntry(entry_point.name, _owner(entry_point), extras[0] if extras else None, f"{entry_point.module}:{entry_point.attr}"))
    return entries


def load_env_plugins() -> None:
    """Call the ``register()`` function of every ``rlzoo.envs`` entry point, rlzoo's own first."""
    entry_points = sorted(metadata.entry_points(group=ENVS_GROUP), key=lambda ep: (ep.module != "rlzoo.envs", ep.name))
    for entry_point in entry_points:
        owner = _owner(entry_point)
        try:
            register = entry_point.load()
            with registering_as(owner):
                register()
        except Exception as exc:  # a broken plugin must not break rlzoo
            warnings.warn(
                f"rlzoo env plugin {entry_point.name!r} from {owner} failed to load and was skipped: "
                f"{type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=2,
            )
