"""What a finished run's folder held when it was recorded, and whether it still does.

The driver records each file's size and SHA-256 in the index when a run finishes
(:func:`fingerprint`); a rerun reuses a finished run only if its folder still matches
(:func:`folder_problem`), and redoes it otherwise, saying why.
"""

from __future__ import annotations

import hashlib
import pathlib
import stat
import zipfile
from typing import Any

#: Bytes read at a time when hashing.
_CHUNK = 1 << 20


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(folder: pathlib.Path) -> dict[str, dict[str, Any]]:
    """Each regular file of a run folder: its size in bytes and SHA-256.

    Parameters
    ----------
    folder:
        A finished run's folder.

    Returns
    -------
    dict[str, dict[str, Any]]
        ``{name: {"bytes": int, "sha256": str}}``.
    """
    return {
        path.name: {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(folder.iterdir())
        if stat.S_ISREG(path.lstat().st_mode)
    }


def folder_problem(folder: pathlib.Path, recorded: Any) -> str | None:
    """What changed in a finished run's folder since it was recorded, or ``None`` when nothing did.

    Parameters
    ----------
    folder:
        The run's folder.
    recorded:
        Its :func:`fingerprint` from the index; ``None`` for a run recorded before
        fingerprints were (then ``agent.zip`` must be a zip archive).

    Returns
    -------
    str or None
        One line, such as ``"agent.zip was changed (its SHA-256 differs from the one recorded)"``.
    """
    if not folder.is_dir() or folder.is_symlink():
        return "its folder is missing"
    if not isinstance(recorded, dict) or not recorded:
        agent = folder / "agent.zip"
        if not agent.is_file() or not zipfile.is_zipfile(agent):
            return "agent.zip is missing or not a zip archive"
        return None
    for name, expected in sorted(recorded.items()):
        path = folder / name
        try:
            info = path.lstat()
        except OSError:
            return f"{name} is missing"
        if not stat.S_ISREG(info.st_mode):
            return f"{name} is no longer a regular file"
        if not isinstance(expected, dict) or info.st_size != expected.get("bytes"):
            return f"{name} has {info.st_size} bytes, {expected.get('bytes') if isinstance(expected, dict) else '?'} were recorded"
        if _sha256(path) != expected.get("sha256"):
            return f"{name} was changed (its SHA-256 differs from the one recorded)"
    return None
