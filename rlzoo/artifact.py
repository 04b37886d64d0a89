"""The saved agent: one zip holding ``rlzoo.json`` and the backend's payload.

``rlzoo.json`` records the format version, agent name, env id and kwargs,
hyperparameters, timesteps trained, package versions and the last evaluation. The
backend's files sit under ``payload/``.

A saved file is a trust boundary. Loading opens only regular files, caps what the zip may
unpack to (``max_bytes``, :data:`~rlzoo.files.MAX_UNPACKED_BYTES` by default) and how much
a member may inflate, refuses odd member names, checks every manifest field by type and
range, rebuilds the env and agent only from names already registered (never importing a
module the file names), refuses memory-hungry sizes, and hands the payload to the backend,
which checks it matches the agent built from the manifest and must not execute anything
from it. Every failure is an :class:`~rlzoo.errors.ArtifactError` naming the file.

Saving is atomic: the payload is written into a private folder beside the target, zipped
into a temporary file there, and renamed over the target; leftovers of a killed save are
swept by the next save into that folder.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable
from typing import Any, BinaryIO

import gymnasium as gym

from rlzoo.agent import Agent
from rlzoo.builder import make_agent
from rlzoo.checks import json_depth, shown
from rlzoo.errors import ArgumentError, ArtifactError, RLZooError, UnknownNameError
from rlzoo.files import MAX_UNPACKED_BYTES, atomic_write, limiting_unpack, temporary_folder, zip_size_problem
from rlzoo.manifest import MANIFEST, check_manifest, manifest_of
from rlzoo.modelcard import agent_zip, check_card, read_card
from rlzoo.multiagent import as_single_agent_env
from rlzoo.records import EvalResult
from rlzoo.settings import TrainSettings

PAYLOAD = "payload/"
#: At most this many members in a saved agent.
MAX_MEMBERS = 1000
#: ``rlzoo.json`` may be at most this large and this deeply nested.
MAX_MANIFEST_BYTES = 2**20
MAX_JSON_DEPTH = 32
_CHUNK = 2**20
_UNSAFE_NAME = re.compile(r"[\\:*?\"<>|\x00-\x1f\x7f]")


def save(agent: Agent, path: str | os.PathLike[str]) -> pathlib.Path:
    """Save an agent to one zip file, atomically.

    Parameters
    ----------
    agent:
        The agent.
    path:
        Target file; ``.zip`` is appended when it has no suffix. An existing file is only
        replaced once the new one is complete. The file's mode follows the umask.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ArtifactError: the file cannot be written (a full disk, no permission, a folder in the
        way); the file that was there before is unchanged and no temporary file is left.
    """
    if not isinstance(agent, Agent):
        raise ArgumentError(f"save needs an rlzoo Agent (from rlzoo.make_agent, rlzoo.train or rlzoo.load), got {shown(agent)}")
    if not isinstance(path, (str, os.PathLike)) or isinstance(os.fspath(path), bytes) or not os.fspath(path).strip():
        raise ArgumentError(f"save needs a file path (a non-empty str or pathlib.Path) such as 'agent.zip', got {shown(path)}")
    target = pathlib.Path(path)
    if not target.name:
        raise ArgumentError(f"save needs a file path, not a folder: got {str(path)!r}; give a file name such as 'agent.zip'")
    if not target.suffix:
        target = target.with_suffix(".zip")
    if not agent.name:
        raise RLZooError("only registered agents can be saved: build it with rlzoo.make_agent so it has a name")
    try:
        manifest = json.dumps(manifest_of(agent), indent=2)
    except TypeError as exc:
        raise RLZooError(f"cannot save {agent!r}: its env kwargs or hyperparameters are not JSON values ({exc})") from exc
    existed = target.exists()
    try:
        with atomic_write(target) as raw, temporary_folder(target.parent, target.name) as payload:
            agent.write_payload(payload)
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(MANIFEST, manifest)
                for file in sorted(p for p in payload.rglob("*") if p.is_file()):
                    archive.write(file, PAYLOAD + file.relative_to(payload).as_posix())
    except OSError as exc:
        kept = "the file already there is unchanged" if existed else "nothing was written"
        raise ArtifactError(target, f"{exc.strerror or exc} ({kept})", action="save") from exc
    return target


# -- reading: the container ----------------------------------------------------------------
def _open_regular_file(path: str | os.PathLike[str]) -> BinaryIO:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ArtifactError(path, "no such file") from None
    except (OSError, ValueError) as exc:
        raise ArtifactError(path, f"cannot open it: {getattr(exc, 'strerror', None) or exc}") from None
    except TypeError:
        raise ArtifactError(path, "expected the path of a file written by rlzoo.save") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = (
            "a directory"
            if stat.S_ISDIR(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a FIFO"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a plain file"
        )
        raise ArtifactError(path, f"it is {kind}, not a regular file: pass a file written by rlzoo.save")
    return os.fdopen(fd, "rb")


def _check_members(path: object, archive: zipfile.ZipFile, max_bytes: int) -> list[zipfile.ZipInfo]:
    """The payload's file members, once every member's name and size is known to be safe."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ArtifactError(path, f"it has {len(infos)} members, more than the {MAX_MEMBERS} an agent may have")
    if MANIFEST not in archive.NameToInfo:
        raise ArtifactError(path, f"no {MANIFEST} inside: not an agent saved by rlzoo")
    problem = zip_size_problem(archive, max_bytes)
    if problem:
        raise ArtifactError(path, problem)
    seen: set[str] = set()
    files: set[str] = set()
    for info in infos:
        name = info.filename
        parts = name.rstrip("/").split("/") if info.is_dir() else name.split("/")
        if name.startswith("/") or any(part in ("", ".", "..") for part in parts) or _UNSAFE_NAME.search(name):
            raise ArtifactError(
                path,
                f"member {name!r} has an unsafe name (absolute, '..', empty parts, backslashes "
                "or control characters): only relative names like 'payload/model.h5' are allowed",
            )
        if name != MANIFEST and not name.startswith(PAYLOAD) and name != PAYLOAD.rstrip("/"):
            raise ArtifactError(path, f"unexpected member {name!r}: an agent holds only {MANIFEST} and {PAYLOAD}...")
        folded = "/".join(parts).casefold()
        if folded in seen:
            raise ArtifactError(path, f"member {name!r} appears twice (names may differ only in case on some systems)")
        seen.add(folded)
        if info.flag_bits & 0x1:
            raise ArtifactError(path, f"member {name!r} is encrypted: rlzoo never writes encrypted members")
        if not info.is_dir():
            files.add(folded)
    for name in files:  # a file "payload/a" and a member "payload/a/b" cannot both be unpacked
        parts = name.split("/")
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in files:
                raise ArtifactError(path, f"member {name!r} lies inside {'/'.join(parts[:depth])!r}, which is a file")
    return [info for info in infos if info.filename.startswith(PAYLOAD) and not info.is_dir()]


def _copy_member(path: object, archive: zipfile.ZipFile, info: zipfile.ZipInfo, sink: Callable[[bytes], Any], budget: int) -> int:
    """Stream one member into ``sink`` in chunks; returns its size. Counts bytes, as declared sizes can lie."""
    size = 0
    with archive.open(info) as source:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > info.file_size or size > budget:
                raise ArtifactError(
                    path,
                    f"member {info.filename!r} unpacks to more bytes than it declares or than the "
                    "limit allows (pass max_bytes= to raise the limit)",
                )
            sink(chunk)
    return size


def _extract_payload(
    path: object, archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], directory: pathlib.Path, max_bytes: int
) -> None:
    budget = max_bytes
    for info in members:
        target = directory.joinpath(*info.filename[len(PAYLOAD) :].split("/"))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as handle:
                budget -= _copy_member(path, archive, info, handle.write, budget)
        except OSError as exc:
            raise ArtifactError(
                path, f"cannot unpack {info.filename!r} into the temp folder {directory.parent}: {exc.strerror or exc}"
            ) from None


# -- reading: the manifest -----------------------------------------------------------------
def _read_manifest(path: object, archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise ArtifactError(path, f"no {MANIFEST} inside: not an agent saved by rlzoo") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise ArtifactError(path, f"{MANIFEST} is implausibly large ({info.file_size} bytes; at most {MAX_MANIFEST_BYTES})")
    chunks: list[bytes] = []
    _copy_member(path, archive, info, chunks.append, MAX_MANIFEST_BYTES)
    try:
        manifest = json.loads(b"".join(chunks).decode("utf-8"))
    except RecursionError:
        raise ArtifactError(path, f"{MANIFEST} is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(path, f"{MANIFEST} is corrupted: {exc}") from None
    if json_depth(manifest) > MAX_JSON_DEPTH:
        raise ArtifactError(path, f"{MANIFEST} is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    if not isinstance(manifest, dict):
        raise ArtifactError(path, f"{MANIFEST} is not a JSON object")
    return manifest


# -- reading: the agent --------------------------------------------------------------------
def _rebuild(path: object, manifest: dict[str, Any], env: gym.Env | None) -> Agent:
    name = manifest["agent"]
    try:
        if env is None:
            env = as_single_agent_env(manifest["env_id"], **manifest["env_kwargs"])
        return make_agent(name, env, seed=manifest.get("seed"), **manifest["hyperparams"])
    except UnknownNameError as exc:
        raise ArtifactError(path, f"{exc}; is the package that provides it installed?") from None
    except RLZooError as exc:
        raise ArtifactError(path, f"cannot rebuild agent {name!r} from its recorded settings: {exc}") from None
    except Exception as exc:  # whatever a backend raises on bad settings (KeyboardInterrupt goes through)
        raise ArtifactError(path, f"cannot rebuild agent {name!r} from its recorded settings: {type(exc).__name__}: {exc}") from None


def _read_payload(path: object, agent: Agent, folder: pathlib.Path) -> None:
    try:
        agent.read_payload(folder)
    except ArtifactError as exc:  # the backend names its own file; the user knows only theirs
        raise ArtifactError(path, f"its {agent.name!r} payload is refused: {exc.problem}") from None
    except Exception as exc:
        raise ArtifactError(path, f"the {agent.name!r} payload does not load: {type(exc).__name__}: {exc}") from None


def load(path: str | os.PathLike[str], env: gym.Env | None = None, *, max_bytes: int = MAX_UNPACKED_BYTES) -> Agent:
    """Load a saved agent; safe on files from anywhere.

    Parameters
    ----------
    path:
        A file written by :func:`save`, or a folder written by ``rlzoo package`` (its
        ``agent.zip``, checked against its model card).
    env:
        The env to bind the agent to; by default it is rebuilt from the recorded id (which
        must be registered with rlzoo or Gymnasium) and kwargs.
    max_bytes:
        The most bytes the file may unpack to, all members together (default
        :data:`rlzoo.files.MAX_UNPACKED_BYTES`, 512 MiB). A member larger than 1 MiB may
        also inflate at most :data:`rlzoo.files.MAX_COMPRESSION_RATIO` (100) times.

    Returns
    -------
    Agent
        Ready to predict, evaluate or train further.

    Raises
    ------
    ArtifactError: for every problem, naming the file: not a regular file, truncated,
        corrupted, foreign, too large, of a newer format, a manifest field of the wrong type
        or range, an env or agent that is not registered, settings the agent cannot be built
        from, or a payload that does not match them.
    """
    # -- a model folder (what rlzoo package writes): load its agent.zip, then check the card --
    if isinstance(path, (str, os.PathLike)) and os.path.isdir(path):
        card = read_card(path)
        agent = load(agent_zip(path), env, max_bytes=max_bytes)
        check_card(path, card, agent.name, agent.env_id if env is None else None)
        return agent
    # -- end of model folder --
    with _open_regular_file(path) as handle:
        try:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise ArtifactError(path, f"it is {size} bytes, more than the limit of {max_bytes} (pass max_bytes= to raise it)")
            with zipfile.ZipFile(handle) as archive:
                members = _check_members(path, archive, max_bytes)
                manifest = _read_manifest(path, archive)
                check_manifest(path, manifest, rebuild_env=env is None)
                agent = _rebuild(path, manifest, env)
                with temporary_folder(tempfile.gettempdir(), "rlzoo-load") as folder, limiting_unpack(max_bytes):
                    _extract_payload(path, archive, members, folder, max_bytes)
                    _read_payload(path, agent, folder)
        except ArtifactError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            raise ArtifactError(path, f"not a readable zip file (truncated or corrupted?): {exc}") from None
        except Exception as exc:  # zlib errors, unsupported compression, a backend's own errors
            raise ArtifactError(path, f"it does not load: {type(exc).__name__}: {exc}") from None
    agent.num_timesteps = manifest["num_timesteps"]
    if manifest.get("train_settings") is not None:
        agent.train_settings = TrainSettings.from_dict(manifest["train_settings"])
    last = manifest.get("last_evaluation")
    if last is not None:
        per_agent = last.get("per_agent")
        agent.last_evaluation = EvalResult(
            tuple(last["returns"]),
            tuple(last["lengths"]),
            {name: tuple(values) for name, values in per_agent.items()} if per_agent else None,
        )
    return agent
