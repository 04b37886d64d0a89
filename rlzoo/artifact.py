"""The saved agent: one zip holding ``rlzoo.json`` and the backend's payload.

``rlzoo.json`` records the format version, agent name, env id and kwargs,
hyperparameters, timesteps trained, package versions and the last evaluation. The
backend's files sit under ``payload/``. Loading rebuilds the agent from ``rlzoo.json``
through the registry, then hands the payload to the backend, which must not execute
anything from it. Saving is atomic: a temporary file beside the target, then a rename.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
import zipfile
import zlib
from typing import TYPE_CHECKING, Any

from rlzoo.errors import ArtifactError, RLZooError, UnknownNameError
from rlzoo.files import atomic_write

if TYPE_CHECKING:
    import gymnasium as gym

    from rlzoo.agent import Agent

FORMAT_VERSION = 1
MANIFEST = "rlzoo.json"
PAYLOAD = "payload/"
_MAX_MANIFEST_BYTES = 16 * 1024 * 1024


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
    }


def save(agent: Agent, path: str | os.PathLike[str]) -> pathlib.Path:
    """Save an agent to one zip file, atomically.

    Parameters
    ----------
    agent:
        The agent.
    path:
        Target file; ``.zip`` is appended when it has no suffix. An existing file is only
        replaced once the new one is complete.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = pathlib.Path(path)
    if not target.suffix:
        target = target.with_suffix(".zip")
    if not agent.name:
        raise RLZooError("only registered agents can be saved: build it with rlzoo.make_agent so it has a name")
    try:
        manifest = json.dumps(manifest_of(agent), indent=2)
    except TypeError as exc:
        raise RLZooError(f"cannot save {agent!r}: its env kwargs or hyperparameters are not JSON values ({exc})") from exc
    with atomic_write(target) as raw, tempfile.TemporaryDirectory() as payload_dir:
        payload = pathlib.Path(payload_dir)
        agent.write_payload(payload)
        with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, manifest)
            for file in sorted(p for p in payload.rglob("*") if p.is_file()):
                archive.write(file, PAYLOAD + file.relative_to(payload).as_posix())
    return target


def _check_manifest(path: object, archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise ArtifactError(path, f"no {MANIFEST} inside: not an agent saved by rlzoo") from None
    if info.file_size > _MAX_MANIFEST_BYTES:
        raise ArtifactError(path, f"{MANIFEST} is implausibly large ({info.file_size} bytes)")
    try:
        manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except (zipfile.BadZipFile, UnicodeDecodeError, ValueError, EOFError, OSError) as exc:
        raise ArtifactError(path, f"{MANIFEST} is corrupted: {exc}") from None
    if not isinstance(manifest, dict):
        raise ArtifactError(path, f"{MANIFEST} is not a JSON object")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise ArtifactError(path, f"{MANIFEST} has no integer format_version")
    if version > FORMAT_VERSION:
        raise ArtifactError(
            path, f"it has format version {version}, newer than this rlzoo reads ({FORMAT_VERSION}): upgrade rlzoo"
        )
    for key, kind in (("agent", str), ("hyperparams", dict), ("env_kwargs", dict), ("num_timesteps", int)):
        if not isinstance(manifest.get(key), kind):
            raise ArtifactError(path, f"{MANIFEST} field {key!r} is missing or not a {kind.__name__}")
    return manifest


def _extract_payload(path: object, archive: zipfile.ZipFile, directory: pathlib.Path) -> None:
    for info in archive.infolist():
        if not info.filename.startswith(PAYLOAD) or info.is_dir():
            continue
        relative = pathlib.PurePosixPath(info.filename[len(PAYLOAD) :])
        if relative.is_absolute() or ".." in relative.parts:
            raise ArtifactError(path, f"payload member {info.filename!r} points outside the payload")
        target = directory.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(info))


def load(path: str | os.PathLike[str], env: gym.Env | None = None) -> Agent:
    """Load a saved agent.

    Parameters
    ----------
    path:
        A file written by :func:`save`.
    env:
        The env to bind the agent to; by default it is rebuilt from the recorded id and
        kwargs.

    Returns
    -------
    Agent
        Ready to predict, evaluate or train further.

    Raises
    ------
    ArtifactError: the file is truncated, corrupted, foreign, of a newer format, names an
        agent that is not installed, or its payload does not load.
    """
    from rlzoo.evaluation import EvalResult
    from rlzoo.registry import as_single_agent_env, make_agent

    try:
        with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as payload_dir:
            manifest = _check_manifest(path, archive)
            name = manifest["agent"]
            try:
                if env is None:
                    if not manifest.get("env_id"):
                        raise ArtifactError(path, "its env was not registered, so it cannot be rebuilt: pass env=")
                    env = as_single_agent_env(manifest["env_id"], **manifest["env_kwargs"])
                agent = make_agent(name, env, seed=manifest.get("seed"), **manifest["hyperparams"])
            except ArtifactError:
                raise
            except UnknownNameError as exc:
                raise ArtifactError(path, f"{exc}; is the package that provides it installed?") from None
            except (RLZooError, ImportError) as exc:
                raise ArtifactError(path, f"cannot rebuild agent {name!r}: {exc}") from None
            _extract_payload(path, archive, pathlib.Path(payload_dir))
            try:
                agent.read_payload(pathlib.Path(payload_dir))
            except ArtifactError:
                raise
            except Exception as exc:
                raise ArtifactError(path, f"the {name!r} payload does not load: {type(exc).__name__}: {exc}") from None
    except FileNotFoundError:
        raise ArtifactError(path, "no such file") from None
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise ArtifactError(path, f"not a readable zip file (truncated or corrupted?): {exc}") from None
    agent.num_timesteps = manifest["num_timesteps"]
    last = manifest.get("last_evaluation")
    if isinstance(last, dict) and "returns" in last and "lengths" in last:
        agent.last_evaluation = EvalResult(tuple(last["returns"]), tuple(last["lengths"]))
    return agent
