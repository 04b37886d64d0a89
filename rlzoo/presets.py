"""Presets: hyperparameters and training settings per (agent, env), read from YAML.

A backend points at its file with ``Agent.preset_file``. The file maps env ids to::

    CartPole-v1:
      train: {total_timesteps: 50000, eval_every: 5000, eval_episodes: 10}
      hyperparams: {learning_rate: 0.0023, ...}
      provenance: {confirmed: true, search_seeds: [0], confirmation_seeds: [2000, ...], ...}

``hyperparams`` are validated by the backend when the agent is built (an unknown key names
the valid ones); ``train`` keys and the optional ``provenance`` block
(:mod:`rlzoo.provenance`: the seeds it was chosen and confirmed on) are validated here.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pathlib
from typing import Any

from rlzoo import yamlfile
from rlzoo.checks import shown
from rlzoo.errors import ArgumentError, RLZooError
from rlzoo.provenance import Provenance, read_provenance
from rlzoo.settings import PRESET_KEYS, check_values


@dataclasses.dataclass(frozen=True)
class Preset:
    """The settings for one (agent, env) pair.

    Attributes
    ----------
    train: keyword defaults for :func:`rlzoo.train` (``total_timesteps``, ``eval_every``, ``eval_episodes``).
    hyperparams: the agent's hyperparameters.
    provenance: where the entry came from (:mod:`rlzoo.provenance`), if it says.
    """

    train: dict[str, Any]
    hyperparams: dict[str, Any]
    provenance: Provenance | None = None


def load_presets(path: pathlib.Path) -> dict[str, Preset]:
    """Read and check one preset file (read again only once it changes).

    A sweep's worker builds many agents from one file, so a file is parsed once; the cache is
    keyed by its size and modification time too, so a long-lived process (a sweep's worker, a
    notebook) sees a preset file edited while it runs.

    Parameters
    ----------
    path:
        A YAML file mapping env ids to ``{train: {...}, hyperparams: {...}}``.

    Returns
    -------
    dict[str, Preset]
        By env id.
    """
    try:
        info = os.stat(path)
    except OSError:
        return _parse(path, None, None)  # yamlfile.load says what is wrong with it
    return _parse(path, info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=64)
def _parse(path: pathlib.Path, mtime_ns: int | None, size: int | None) -> dict[str, Preset]:
    raw = yamlfile.load(path, "preset file", extra="sb3") or {}
    if not isinstance(raw, dict):
        raise RLZooError(f"{path}: a preset file maps env ids to {{train: {{...}}, hyperparams: {{...}}}}, not a {type(raw).__name__}")
    presets = {}
    for env_id, body in raw.items():
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("train") or {}, dict)
            or not isinstance(body.get("hyperparams") or {}, dict)
        ):
            raise RLZooError(f"{path}: preset {env_id!r} must be a mapping with the sections train and hyperparams, each a mapping")
        unknown = set(body) - {"train", "hyperparams", "provenance"}
        if unknown:
            raise RLZooError(f"{path}: preset {env_id!r} has unknown sections {sorted(unknown)}: valid are train, hyperparams, provenance")
        train = dict(body.get("train") or {})
        bad = set(train) - set(PRESET_KEYS)
        if bad:
            raise RLZooError(f"{path}: preset {env_id!r} has unknown train keys {sorted(bad)}: valid are {', '.join(PRESET_KEYS)}")
        # YAML 1.2 reads 1e5 as a float: a whole one is a count (RL Zoo's files write budgets so).
        train = {key: int(value) if isinstance(value, float) and value.is_integer() else value for key, value in train.items()}
        try:
            check_values(train, f"{path}: preset {env_id!r}")
        except ArgumentError as exc:
            raise RLZooError(str(exc)) from None
        provenance = None if body.get("provenance") is None else read_provenance(body["provenance"], f"{path}: preset {env_id!r}")
        presets[env_id] = Preset(train, dict(body.get("hyperparams") or {}), provenance)
    return presets


def find_preset(factory: Any, env_id: str | None, preset: str | os.PathLike[str] | None = None) -> Preset:
    """The preset of ``factory``'s agent for ``env_id``, or an empty one.

    Parameters
    ----------
    factory:
        An agent factory; its ``preset_file`` attribute (if any) names the YAML file.
    env_id:
        The env's registered id (``None`` for an unregistered env: no preset).
    preset:
        Another preset file to read instead (e.g. one written by ``rlzoo tune``), or a
        name: ``"recipe"`` reads ``<agent>.recipe.yml`` beside the agent's own file. A file
        given here must hold ``env_id``.

    Returns
    -------
    Preset
    """
    if preset is not None:
        if not isinstance(preset, (str, os.PathLike)) or isinstance(os.fspath(preset), bytes) or not os.fspath(preset).strip():
            raise ArgumentError(
                f"preset must be a preset name such as 'recipe' or the path of a preset YAML file (a str or pathlib.Path), "
                f"got {shown(preset)}"
            )
        return _preset_from(named_preset_file(factory, preset), env_id)
    path = getattr(factory, "preset_file", None)
    if path is None or env_id is None or not pathlib.Path(path).exists():
        return Preset({}, {})
    return load_presets(pathlib.Path(path)).get(env_id, Preset({}, {}))


def named_preset_file(factory: Any, preset: str | os.PathLike[str]) -> pathlib.Path:
    """The file ``preset`` names: a path to a YAML file, or a name ``N`` for the file
    ``<stem>.N.yml`` beside the agent's own preset file ``<stem>.yml``."""
    path = pathlib.Path(preset)
    if path.suffix in (".yml", ".yaml") or path.exists():
        if path.exists() and not path.is_file():
            raise RLZooError(f"preset file {path} is not a regular file (a folder, pipe or device): pass a YAML file")
        if not path.is_file():
            raise RLZooError(f"preset file {path} does not exist: pass a YAML file such as the best_preset.yml that rlzoo tune writes")
        return path
    own = getattr(factory, "preset_file", None)
    if own is None:
        raise RLZooError(f"no preset named {preset!r}: this agent has no preset files, pass a .yml path")
    own = pathlib.Path(own)
    named = own.with_suffix(f".{preset}.yml")
    if not named.is_file():
        names = sorted(p.name[len(own.stem) + 1 : -len(".yml")] for p in own.parent.glob(f"{own.stem}.*.yml"))
        raise RLZooError(f"no preset named {preset!r} and no such file: valid names are {', '.join(names) or 'none'}, or pass a .yml path")
    return named


def _preset_from(path: pathlib.Path, env_id: str | None) -> Preset:
    presets = load_presets(path.resolve())
    if env_id not in presets:
        raise RLZooError(f"preset file {path} has no entry for env {env_id!r}: it has {', '.join(map(str, presets)) or 'none'}")
    return presets[env_id]
