"""Checkpoints: everything a training run needs to continue after a crash or ``kill -9``.

A checkpoint folder holds one complete checkpoint at a time::

    DIR/latest                      the name of the current checkpoint (written atomically)
    DIR/step-000012000-1a2b3c/
        checkpoint.json             run settings, counters, history, RNG states, eval state
        rng.npz                     NumPy's global generator and torch's, as arrays
        best_weights.npz            the best weights of the periodic evaluations (if any)
        payload/                    the agent's weights (Agent.write_payload)
        state/                      optimizer, replay buffer, backend RNGs (Agent.write_training_state)

A new checkpoint is written into a hidden folder beside the current one, renamed into
place, and only then named in ``latest``; the old one is deleted last. So a kill at any
moment leaves ``latest`` naming a complete checkpoint, and the next write removes what a
kill left half-written. Nothing in a checkpoint is unpickled on load: arrays are ``.npy``/
``.npz`` read with ``allow_pickle=False``, everything else is JSON.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pathlib
import random
import secrets
import shutil
import sys
import tempfile
import zipfile
from typing import Any

import numpy as np

from rlzoo.agent import Agent
from rlzoo.builder import make_agent
from rlzoo.checks import excerpt, is_int, is_number, json_depth, shown
from rlzoo.errors import CheckpointError, RLZooError
from rlzoo.files import atomic_write, read_regular_file
from rlzoo.multiagent import as_single_agent_env
from rlzoo.records import TrainingHistory
from rlzoo.settings import TrainSettings

#: 2: the settings are a resolved TrainSettings record (rlzoo.settings); 1 is no longer read.
FORMAT_VERSION = 2
LATEST = "latest"
MANIFEST = "checkpoint.json"
_PREFIX = "step-"
_MAX_LATEST_BYTES = 256
#: ``checkpoint.json`` may be at most this large (its history grows with the episodes) and this deeply nested.
MAX_MANIFEST_BYTES = 256 * 2**20
MAX_JSON_DEPTH = 64
#: A step count beyond any run (a float64 still counts it exactly).
MAX_TIMESTEPS = 2**53


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """What :func:`rlzoo.train` was asked to do: enough to continue the run with nothing else.

    Attributes
    ----------
    train: the run's resolved settings.
    end_timestep: the run trains until ``agent.num_timesteps`` reaches this (the step it
        started from plus ``train.total_timesteps``, fixed once when the run starts).
    notes: JSON values the caller stores with the run (the CLI keeps its output settings here).
    """

    train: TrainSettings
    end_timestep: int
    notes: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON values, as the checkpoint records them."""
        return {"train": self.train.to_dict(), "end_timestep": self.end_timestep, "notes": self.notes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        """Read back :meth:`to_dict`'s output, every field checked (an ``ArgumentError`` or ``TypeError`` if not)."""
        end, notes = data["end_timestep"], data["notes"]
        if not is_int(end) or end < 1 or not isinstance(notes, dict):
            raise TypeError(f"end_timestep must be an int >= 1 and notes a mapping, got {shown(end)} and {shown(notes)}")
        return cls(TrainSettings.from_dict(data["train"]), int(end), dict(notes))


@dataclasses.dataclass
class EvalState:
    """Where the periodic evaluations stood (see :class:`rlzoo.callbacks.EvalEvery`)."""

    next_eval: int
    last_eval: int
    best_mean: float
    best_timestep: int
    best_weights: Any = None


@dataclasses.dataclass
class Checkpoint:
    """A checkpoint read back: the agent ready to train on, and how to continue."""

    path: pathlib.Path
    agent: Agent
    settings: RunSettings
    eval_state: EvalState | None


def latest_checkpoint(directory: str | os.PathLike[str]) -> pathlib.Path | None:
    """The current checkpoint inside ``directory``, or ``None`` if it holds none."""
    directory = pathlib.Path(directory)
    try:
        raw = read_regular_file(directory / LATEST, _MAX_LATEST_BYTES)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:  # a FIFO, a device, a huge file: its contents are never shown
        raise CheckpointError(directory, f"cannot read {LATEST!r}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        name = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        name = ""
    path = directory / name
    if not name.startswith(_PREFIX) or "/" in name or not path.is_dir():
        # Quoted only when it looks like one of our names: a link to a private file is never echoed.
        what = excerpt(raw) if name.startswith(_PREFIX) else f"no step-... folder ({len(raw)} bytes of something else)"
        raise CheckpointError(directory, f"{LATEST!r} names {what}, which is not a checkpoint here")
    return path


def write_checkpoint(
    directory: str | os.PathLike[str], agent: Agent, settings: RunSettings, eval_state: EvalState | None = None
) -> pathlib.Path:
    """Write a checkpoint of ``agent`` into ``directory``, atomically, replacing the previous one.

    Parameters
    ----------
    directory:
        The checkpoint folder (created if missing).
    agent:
        A registered agent (built by :func:`rlzoo.make_agent`) on a registered env.
    settings:
        The run's settings.
    eval_state:
        The periodic evaluations' state, if they are on.

    Returns
    -------
    pathlib.Path
        The new checkpoint's folder.

    Raises
    ------
    CheckpointError
        The agent cannot be checkpointed (unregistered, or its backend does not support it).
    """
    directory = pathlib.Path(directory)
    if not agent.name or not agent.env_id:
        raise CheckpointError(directory, "only a registered agent (rlzoo.make_agent) on a registered env (made by id) can be checkpointed")
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{_PREFIX}{agent.num_timesteps:012d}-{secrets.token_hex(3)}"
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=directory))
    try:
        _write_contents(staging, agent, settings, eval_state)
        _fsync_tree(staging)
        staging.chmod(0o777 & ~_umask())
        os.rename(staging, directory / name)
        with atomic_write(directory / LATEST) as handle:
            handle.write(name.encode())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for entry in directory.iterdir():  # the previous checkpoint, and anything a kill left half-written
        if entry.name != name and entry.name.lstrip(".").startswith(_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)
    return directory / name


def read_checkpoint(directory: str | os.PathLike[str]) -> Checkpoint:
    """Read the current checkpoint in ``directory`` and rebuild the agent from it.

    Parameters
    ----------
    directory:
        A folder written by :func:`write_checkpoint`.

    Returns
    -------
    Checkpoint
        The agent (weights, optimizer, replay buffer, counters, history and RNG states
        restored), the run settings and the evaluation state.

    Raises
    ------
    CheckpointError
        No checkpoint there, or it is corrupted or foreign.
    """
    directory = pathlib.Path(directory)
    path = latest_checkpoint(directory)
    if path is None:
        raise CheckpointError(directory, f"no checkpoint here (no {LATEST!r} file): give the folder passed as checkpoint_dir")
    try:
        manifest = _read_manifest(path / MANIFEST)
        run = manifest["run"]
        settings = RunSettings.from_dict(manifest["settings"])
        named = path.name[len(_PREFIX) :].split("-")[0]  # write_checkpoint names the folder after the step
        if not is_int(run["num_timesteps"]) or not 0 <= run["num_timesteps"] <= MAX_TIMESTEPS or named != f"{run['num_timesteps']:012d}":
            raise CheckpointError(
                MANIFEST, f"num_timesteps must be the step in the folder's name ({named}), got {shown(run['num_timesteps'])}"
            )
        env = as_single_agent_env(run["env_id"], **run["env_kwargs"])
        agent = make_agent(run["agent"], env, seed=run["seed"], **run["hyperparams"])
        agent.read_payload(path / "payload")
        agent.read_training_state(path / "state")
        agent.num_timesteps = run["num_timesteps"]
        agent.train_settings = settings.train
        agent.history = TrainingHistory(
            episodes=[(int(t), float(r), int(n)) for t, r, n in manifest["history"]["episodes"]],
            evaluations=[(int(t), float(m), float(s)) for t, m, s in manifest["history"]["evaluations"]],
        )
        eval_state = None
        if manifest["eval_state"] is not None:
            eval_state = EvalState(**manifest["eval_state"])
            if not all(is_number(value) for value in dataclasses.astuple(eval_state)[:4]):
                raise CheckpointError(MANIFEST, f"eval_state must hold numbers, got {shown(manifest['eval_state'])}")
            if manifest["best_weights"] is not None:
                with np.load(path / "best_weights.npz", allow_pickle=False) as arrays:
                    eval_state.best_weights = _unflatten(manifest["best_weights"], arrays)
                if _shapes(eval_state.best_weights) != _shapes(agent.get_weights()):
                    raise CheckpointError(path / "best_weights.npz", "the best weights do not have this agent's shapes")
        _set_rng_states(manifest["rng"], path / "rng.npz")
    except CheckpointError:
        raise
    except (RLZooError, OSError, ValueError, KeyError, TypeError, IndexError, EOFError, zipfile.BadZipFile) as exc:
        # Quoted in part only: a message may carry what a tampered file holds.
        raise CheckpointError(path, f"cannot read it: {type(exc).__name__}: {excerpt(str(exc), 200)}") from None
    return Checkpoint(path, agent, settings, eval_state)


# -- writing ----------------------------------------------------------------------------------
def _write_contents(folder: pathlib.Path, agent: Agent, settings: RunSettings, eval_state: EvalState | None) -> None:
    (folder / "payload").mkdir()
    (folder / "state").mkdir()
    agent.write_payload(folder / "payload")
    agent.write_training_state(folder / "state")
    best = None
    if eval_state is not None and eval_state.best_weights is not None:
        arrays: dict[str, np.ndarray] = {}
        best = _flatten(eval_state.best_weights, arrays)
        with open(folder / "best_weights.npz", "wb") as handle:
            # NumPy's stubs type savez's **kwds as if a key could be allow_pickle (a bool); these keys are array names.
            np.savez(handle, **arrays)  # type: ignore[arg-type]
    rng, rng_arrays = _rng_states()
    with open(folder / "rng.npz", "wb") as handle:
        np.savez(handle, **rng_arrays)  # type: ignore[arg-type]  # the same stub limitation as above
    manifest = {
        "format_version": FORMAT_VERSION,
        "run": {
            "agent": agent.name,
            "env_id": agent.env_id,
            "env_kwargs": agent.env_kwargs,
            "seed": agent.seed,
            "hyperparams": agent.hyperparams,
            "num_timesteps": agent.num_timesteps,
        },
        "settings": settings.to_dict(),
        "history": {"episodes": agent.history.episodes, "evaluations": agent.history.evaluations},
        "eval_state": None if eval_state is None else {k: v for k, v in dataclasses.asdict(eval_state).items() if k != "best_weights"},
        "best_weights": best,
        "rng": rng,
        "versions": agent.package_versions(),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, allow_nan=True))


def _read_manifest(path: pathlib.Path) -> dict[str, Any]:
    """``checkpoint.json``: a regular file, bounded in size and depth, of the current format."""
    try:
        manifest = json.loads(read_regular_file(path, MAX_MANIFEST_BYTES))
    except RecursionError:
        raise CheckpointError(MANIFEST, f"nested deeper than {MAX_JSON_DEPTH} levels: not a checkpoint written by rlzoo") from None
    if json_depth(manifest) > MAX_JSON_DEPTH:
        raise CheckpointError(MANIFEST, f"nested deeper than {MAX_JSON_DEPTH} levels: not a checkpoint written by rlzoo")
    _check_manifest(manifest)
    return manifest


def _shapes(weights: Any) -> tuple[Any, list[tuple[int, ...]]]:
    """The nesting of ``weights`` and the shape of each array in it, to compare two sets of weights."""
    arrays: dict[str, np.ndarray] = {}
    structure = _flatten(weights, arrays)
    return structure, [arrays[key].shape for key in sorted(arrays, key=lambda k: int(k[1:]))]


def _check_manifest(manifest: Any) -> None:
    if (
        not isinstance(manifest, dict)
        or not isinstance(manifest.get("format_version"), int)
        or isinstance(manifest.get("format_version"), bool)
    ):
        raise CheckpointError(MANIFEST, "not a checkpoint written by rlzoo")
    if manifest["format_version"] != FORMAT_VERSION:
        raise CheckpointError(MANIFEST, f"format version {manifest['format_version']} is not the one this rlzoo reads ({FORMAT_VERSION})")
    for key, kind in (("run", dict), ("settings", dict), ("history", dict), ("rng", dict)):
        if not isinstance(manifest.get(key), kind):
            raise CheckpointError(MANIFEST, f"field {key!r} is missing or not a {kind.__name__}")


def _fsync_tree(folder: pathlib.Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- RNG states -------------------------------------------------------------------------------
def _rng_states() -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Python's, NumPy's global and (if loaded) torch's generator states, as JSON and arrays."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": {"kind": kind, "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": "torch" in sys.modules,
    }
    arrays = {"numpy_keys": np.asarray(keys)}
    if state["torch"]:
        arrays["torch"] = sys.modules["torch"].get_rng_state().numpy()
    return state, arrays


def _set_rng_states(state: dict[str, Any], arrays_path: pathlib.Path) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    with np.load(arrays_path, allow_pickle=False) as arrays:
        numpy_state = state["numpy"]
        np.random.set_state(
            (numpy_state["kind"], arrays["numpy_keys"], numpy_state["pos"], numpy_state["has_gauss"], numpy_state["cached_gaussian"])
        )
        if state["torch"]:
            import torch

            torch.set_rng_state(torch.from_numpy(arrays["torch"].copy()))


# -- in-memory weights (Agent.get_weights) as arrays ----------------------------------------------
def _flatten(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """``value`` (nested dicts, lists and tuples of arrays or torch tensors) as a JSON
    structure whose leaves name entries of ``arrays``."""
    if isinstance(value, dict):
        return {"dict": [[str(key), _flatten(item, arrays)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [_flatten(item, arrays) for item in value]}
    key = f"a{len(arrays)}"
    if type(value).__module__.startswith("torch"):
        arrays[key] = value.detach().cpu().numpy()
        return {"tensor": key}
    arrays[key] = np.asarray(value)
    return {"array": key}


def _unflatten(structure: dict[str, Any], arrays: Any) -> Any:
    ((kind, content),) = structure.items()
    if kind == "dict":
        return {key: _unflatten(item, arrays) for key, item in content}
    if kind in ("list", "tuple"):
        items = [_unflatten(item, arrays) for item in content]
        return items if kind == "list" else tuple(items)
    if kind == "tensor":
        import torch

        return torch.from_numpy(arrays[content].copy())
    if kind == "array":
        return arrays[content].copy()
    raise CheckpointError(MANIFEST, f"unknown weights entry {kind!r}")
