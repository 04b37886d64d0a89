"""Writing files safely: atomically, following the umask, and leaving nothing behind.

Every temporary file or folder rlzoo makes is named ``.<label>.rlzoo-<pid>-<random>.tmp``
and lives beside its target (or, for extracting a saved agent, in the system temp folder).
A process killed with ``kill -9`` cannot clean up after itself, so each new temporary in a
folder first removes the leftovers there whose process is gone (:func:`sweep_leftovers`).
A crash or a full disk never leaves a half-written file in place of a good one.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import pathlib
import re
import secrets
import shutil
import stat
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

#: A temporary made by :func:`atomic_write` or :func:`temporary_folder`: group 1 is the owner's pid.
_LEFTOVER = re.compile(r"^\..*\.rlzoo-(\d+)-[0-9a-f]+\.tmp$")


def current_umask() -> int:
    """The process's umask, read without changing it where the OS allows (Linux's ``/proc``)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)  # no /proc: the only portable read is to set it and put it back
    os.umask(mask)
    return mask


def _temporary_name(label: str) -> str:
    return f".{label}.rlzoo-{os.getpid()}-{secrets.token_hex(4)}.tmp"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except PermissionError:  # it runs, as another user
        return True
    except (ProcessLookupError, OverflowError, ValueError):  # gone, or not a pid at all
        return False
    return True


def sweep_leftovers(folder: str | os.PathLike[str]) -> list[pathlib.Path]:
    """Remove the temporaries in ``folder`` left by rlzoo processes that no longer run.

    Parameters
    ----------
    folder:
        Where to look (not recursively). Only names of rlzoo's own temporaries whose pid is
        not a live process are touched; a missing or unreadable folder is no error.

    Returns
    -------
    list[pathlib.Path]
        What was removed.
    """
    removed: list[pathlib.Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _LEFTOVER.match(name)
        if match is None or _alive(int(match.group(1))):
            continue
        path = pathlib.Path(folder, name)
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


@contextlib.contextmanager
def temporary_folder(parent: str | os.PathLike[str], label: str) -> Iterator[pathlib.Path]:
    """A private folder (mode 0700) inside ``parent``, removed when the block ends.

    Parameters
    ----------
    parent:
        Where to make it; it must exist. Leftovers of killed rlzoo processes there are swept
        first.
    label:
        Part of the folder's name, to say what it is for.

    Yields
    ------
    pathlib.Path
        The folder.
    """
    sweep_leftovers(parent)
    path = pathlib.Path(parent, _temporary_name(label))
    path.mkdir(mode=0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; on success, fsync and rename it to ``path``.

    The file gets the mode a plain ``open()`` would give it (``0o666`` less the umask), not
    ``mkstemp``'s ``0600``.

    Parameters
    ----------
    path:
        The target. Its folder is created if needed. If the block raises (a full disk
        included), the target is untouched and the temporary file removed.

    Yields
    ------
    BinaryIO
        The temporary file.
    """
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(target.parent)
    tmp = target.parent / _temporary_name(target.name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), 0o666 & ~current_umask())
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- reading archives from untrusted files -------------------------------------------------
#: Default cap on the bytes a saved agent may unpack to (all members together).
MAX_UNPACKED_BYTES = 512 * 2**20
#: Members larger than this may not inflate more than :data:`MAX_COMPRESSION_RATIO` times.
RATIO_CHECKED_BYTES = 2**20
MAX_COMPRESSION_RATIO = 100
_unpack_limit: contextvars.ContextVar[int] = contextvars.ContextVar("rlzoo_unpack_limit", default=MAX_UNPACKED_BYTES)


def unpack_limit() -> int:
    """The cap on unpacked bytes in force (set by :func:`limiting_unpack`; :data:`MAX_UNPACKED_BYTES` by default).

    Backends whose payload is itself an archive check it against this before reading it.
    """
    return _unpack_limit.get()


@contextlib.contextmanager
def limiting_unpack(max_bytes: int) -> Iterator[None]:
    """Make :func:`unpack_limit` return ``max_bytes`` inside the block (this thread or task only)."""
    token = _unpack_limit.set(max_bytes)
    try:
        yield
    finally:
        _unpack_limit.reset(token)


def zip_size_problem(archive: zipfile.ZipFile, max_bytes: int) -> str | None:
    """What makes ``archive`` too costly to unpack, from its declared sizes, or ``None``.

    Declared sizes can lie, so whoever unpacks must also count the bytes it gets (Python's
    ``zipfile`` never returns more than a member's declared size, but other readers may).

    Parameters
    ----------
    archive:
        An open zip file.
    max_bytes:
        The cap on all members' uncompressed bytes together.

    Returns
    -------
    str or None
        The problem, in words.
    """
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if total > max_bytes:
            return f"it unpacks to more than {max_bytes} bytes (the limit; pass max_bytes= to raise it)"
        if info.file_size > RATIO_CHECKED_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            return (
                f"member {info.filename!r} inflates {info.file_size / max(info.compress_size, 1):.0f} times "
                f"({info.compress_size} to {info.file_size} bytes), more than the limit of {MAX_COMPRESSION_RATIO}: "
                "a zip bomb?"
            )
    return None


def read_regular_file(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``max_bytes``.

    Opened without blocking and checked once open, so a FIFO cannot hang the reader, a
    device (``/dev/zero``) cannot exhaust memory, and a symlink is judged by what it
    points to.

    Parameters
    ----------
    path:
        The file.
    max_bytes:
        The largest file read.

    Returns
    -------
    bytes

    Raises
    ------
    OSError
        It cannot be opened or read (``FileNotFoundError`` when missing).
    ValueError
        It is not a regular file, or it is larger than ``max_bytes`` (the message says which).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("it is not a regular file (a folder, pipe or device)")
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise ValueError(f"it is larger than {max_bytes} bytes")
    return data
