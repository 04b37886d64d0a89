"""The manifest of a saved agent, ``rlzoo.json``: what it records and how every field is checked.

A saved agent is a trust boundary (:mod:`rlzoo.artifact` reads the zip around it): every
field :func:`rlzoo.load` uses is checked here by type and range, and sizes that would
allocate absurd memory are refused before anything is built from them.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, TypeGuard

import gymnasium as gym

from rlzoo import checks
from rlzoo.errors import ArgumentError, ArtifactError
from rlzoo.registry import list_envs
from rlzoo.settings import TrainSettings

if TYPE_CHECKING:
    from rlzoo.agent import Agent

#: Version of the layout :func:`manifest_of` writes; readers refuse newer ones.
FORMAT_VERSION = 1
#: The manifest's name inside the zip.
MANIFEST = "rlzoo.json"
#: Replay buffers and rollouts a file may ask for: 10M transitions.
MAX_TRANSITIONS = 10_000_000
#: Caps on sizes a file may ask for, per hyperparameter name (any backend).
SIZE_LIMITS = {
    "buffer_size": MAX_TRANSITIONS,
    "memory_limit": MAX_TRANSITIONS,
    "n_steps": MAX_TRANSITIONS,
    "batch_size": MAX_TRANSITIONS,
    "n_envs": 256,
    "frame_stack": 1024,
}
#: Network sizes a file may ask for (``hidden_layers``, ``policy_kwargs.net_arch``).
MAX_LAYER_UNITS = 65536
MAX_NETWORK_WEIGHTS = 100_000_000


def manifest_of(agent: Agent) -> dict[str, Any]:
    """What ``rlzoo.json`` records for ``agent``."""
    return {
        "format_version": FORMAT_VERSION,
        "agent": agent.name,
        "env_id": agent.env_id,
        "env_kwargs": agent.env_kwargs,
        "hyperparams": agent.hyperparams,
        "seed": agent.seed,
        "num_timesteps": agent.num_timesteps,
        "versions": agent.package_versions(),
        "last_evaluation": agent.last_evaluation.to_dict() if agent.last_evaluation else None,
        "train_settings": agent.train_settings.to_dict() if agent.train_settings else None,
    }


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def registered_env_ids() -> set[str]:
    """Env ids a saved agent may name: rlzoo's registry and Gymnasium's, minus ``module:id`` forms."""
    return {id for id in [*gym.registry, *(entry.id for entry in list_envs())] if ":" not in id}


def _check_evaluation(path: object, value: Any) -> None:
    field = f"{MANIFEST} field 'last_evaluation'"
    if value is None:
        return
    if not isinstance(value, dict):
        raise ArtifactError(path, f"{field} is {_shown(value)}: expected null or an object with returns and lengths")
    returns, lengths = value.get("returns"), value.get("lengths")
    if not isinstance(returns, list) or not returns or not all(_is_number(r) for r in returns):
        raise ArtifactError(path, f"{field}.returns is {_shown(returns)}: expected a non-empty list of finite numbers")
    if not isinstance(lengths, list) or len(lengths) != len(returns) or not all(_is_int(n) and n >= 0 for n in lengths):
        raise ArtifactError(path, f"{field}.lengths is {_shown(lengths)}: expected a list of {len(returns)} integers >= 0, one per return")
    per_agent = value.get("per_agent")
    if per_agent is None:
        return
    if not isinstance(per_agent, dict) or not per_agent:
        raise ArtifactError(path, f"{field}.per_agent is {_shown(per_agent)}: expected null or an object of lists")
    for agent, agent_returns in per_agent.items():
        if not isinstance(agent_returns, list) or len(agent_returns) != len(returns) or not all(_is_number(r) for r in agent_returns):
            raise ArtifactError(
                path,
                f"{field}.per_agent[{agent!r}] is {_shown(agent_returns)}: expected a list of "
                f"{len(returns)} finite numbers, one per episode",
            )


def _check_sizes(path: object, hyperparams: dict[str, Any]) -> None:
    """Refuse sizes that would allocate absurd memory before anything is built from them."""
    for key, limit in SIZE_LIMITS.items():
        value = hyperparams.get(key)
        if _is_number(value) and value > limit or isinstance(value, float) and not math.isfinite(value):
            raise ArtifactError(
                path,
                f"hyperparameter {key}={_shown(value)} is above what rlzoo accepts from a file "
                f"(at most {limit}); build such an agent with rlzoo.make_agent instead",
            )
    n_steps, n_envs = hyperparams.get("n_steps", 1), hyperparams.get("n_envs", 1)
    if _is_number(n_steps) and _is_number(n_envs) and n_steps * n_envs > MAX_TRANSITIONS:
        raise ArtifactError(
            path, f"n_steps x n_envs = {n_steps * n_envs} transitions is above what rlzoo accepts from a file (at most {MAX_TRANSITIONS})"
        )
    policy_kwargs = hyperparams.get("policy_kwargs")
    net_arch = policy_kwargs.get("net_arch") if isinstance(policy_kwargs, dict) else None
    networks = [("hidden_layers", hyperparams.get("hidden_layers"))]
    if isinstance(net_arch, dict):
        networks += [(f"policy_kwargs.net_arch.{name}", layers) for name, layers in net_arch.items()]
    else:
        networks.append(("policy_kwargs.net_arch", net_arch))
    for key, layers in networks:
        if not isinstance(layers, list):
            continue
        units = [n for n in layers if _is_number(n)]
        weights = sum(a * b for a, b in zip(units, units[1:], strict=False))
        if any(n > MAX_LAYER_UNITS for n in units) or weights > MAX_NETWORK_WEIGHTS:
            raise ArtifactError(
                path,
                f"hyperparameter {key}={_shown(layers)} asks for a network larger than rlzoo "
                f"accepts from a file (at most {MAX_LAYER_UNITS} units a layer, "
                f"{MAX_NETWORK_WEIGHTS} weights)",
            )


def check_manifest(path: object, manifest: dict[str, Any], rebuild_env: bool) -> None:
    """Check every field ``load`` uses by type and range.

    Parameters
    ----------
    path:
        The file, for messages.
    manifest:
        The parsed ``rlzoo.json``.
    rebuild_env:
        Whether the env will be rebuilt from ``env_id`` (then it must be a registered id).

    Raises
    ------
    ArtifactError: naming the field, its value and what would be valid.
    """

    def bad(key: str, expected: str) -> ArtifactError:
        shown = _shown(manifest[key]) if key in manifest else "missing"
        return ArtifactError(path, f"{MANIFEST} field {key!r} is {shown}: expected {expected}")

    version = manifest.get("format_version")
    if not _is_int(version) or version < 1:
        raise bad("format_version", f"an integer from 1 to {FORMAT_VERSION}")
    if version > FORMAT_VERSION:
        raise ArtifactError(path, f"it has format version {version}, newer than this rlzoo reads ({FORMAT_VERSION}): upgrade rlzoo")
    if not isinstance(manifest.get("agent"), str) or not manifest["agent"]:
        raise bad("agent", "the name of a registered agent (rlzoo list shows them)")
    env_id = manifest.get("env_id")
    if env_id is not None and (not isinstance(env_id, str) or not env_id):
        raise bad("env_id", "null or a registered env id such as 'CartPole-v1'")
    if rebuild_env and env_id is None:
        raise ArtifactError(path, "its env was not registered, so it cannot be rebuilt: pass env=")
    if rebuild_env and env_id not in registered_env_ids():
        # Gymnasium would import "module" for an id "module:Env": a file must never name code to run.
        raise bad(
            "env_id",
            "an env id already registered with rlzoo or Gymnasium (rlzoo list shows them); rlzoo "
            "never imports a module a file names, so register the env first or pass env=",
        )
    for key in ("env_kwargs", "hyperparams"):
        if not isinstance(manifest.get(key), dict):
            raise bad(key, "an object of JSON values")
    if not _is_int(manifest.get("num_timesteps")) or not 0 <= manifest["num_timesteps"] < 2**63:
        raise bad("num_timesteps", "an integer >= 0")
    if checks.seed_problem(manifest.get("seed")) is not None:
        raise bad("seed", f"null or an integer from 0 to {checks.MAX_SEED}")
    versions = manifest.get("versions")
    if versions is not None and (not isinstance(versions, dict) or not all(isinstance(v, str) for v in versions.values())):
        raise bad("versions", "an object of package names to version strings")
    _check_evaluation(path, manifest.get("last_evaluation"))
    if manifest.get("train_settings") is not None:
        try:
            TrainSettings.from_dict(manifest["train_settings"])
        except ArgumentError as exc:
            raise bad("train_settings", f"null or the settings of the run ({exc})") from None
    _check_sizes(path, manifest["hyperparams"])
