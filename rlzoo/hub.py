"""Sharing a model folder on the Hugging Face Hub: :func:`push` and :func:`pull` (``rlzoo push``/``rlzoo pull``).

Both go through ``huggingface_hub``'s public ``HfApi`` (the ``hub`` extra), which reads the
token from ``HF_TOKEN`` or ``hf auth login``. :func:`push` uploads only the files a model
folder holds (:data:`rlzoo.modelcard.FOLDER_FILES`), after checking that the folder loads
the way :func:`rlzoo.load` would read it (an ``agent.zip`` and a card that names it).
:func:`pull` downloads into a private folder beside ``out`` and renames it into place once
the download is complete and holds a model folder; nothing it downloads is executed.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
from typing import Any

from rlzoo.errors import MissingDependencyError, RLZooError
from rlzoo.files import temporary_folder
from rlzoo.modelcard import AGENT_ZIP, CARD, FOLDER_FILES, agent_zip, read_card

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _api() -> Any:
    try:
        from huggingface_hub import HfApi  # the hub extra
    except ImportError as exc:
        raise MissingDependencyError("rlzoo push and pull", "hub") from exc
    return HfApi()


def _check_repo_id(repo: str) -> None:
    if not _REPO_ID.match(repo) or ".." in repo:
        raise RLZooError(f"repository {repo!r}: expected USER/NAME (letters, digits, '-', '_', '.'), such as alice/ppo-CartPole-v1")


def push(folder: str | os.PathLike[str], repo: str, *, private: bool = False, message: str | None = None) -> str:
    """Upload a model folder to a Hub model repository (created if missing).

    Parameters
    ----------
    folder:
        A folder written by ``rlzoo package``.
    repo:
        ``USER/NAME`` on the Hub.
    private:
        Create the repository as private (an existing one keeps its visibility).
    message:
        The commit message (default: ``"rlzoo push: AGENT on ENV"``).

    Returns
    -------
    str
        The repository's URL.

    Raises
    ------
    RLZooError
        Not a model folder (no ``agent.zip``, no readable card), a malformed repository id,
        or the ``hub`` extra is missing. The Hub's own errors (no token, no permission)
        pass through from ``huggingface_hub``.
    """
    _check_repo_id(repo)
    path = pathlib.Path(folder)
    if not path.is_dir():
        raise RLZooError(f"{str(path)!r} is not a folder: push the folder rlzoo package wrote")
    agent_zip(path)
    card = read_card(path)
    if card is None:
        raise RLZooError(f"{str(path)!r} has no readable model card (README.md): write the folder with rlzoo package")
    api = _api()
    url = api.create_repo(repo_id=repo, repo_type="model", private=private, exist_ok=True)
    api.upload_folder(
        folder_path=str(path),
        repo_id=repo,
        repo_type="model",
        allow_patterns=[name for name in FOLDER_FILES if (path / name).is_file()],
        commit_message=message or f"rlzoo push: {card.get('agent')} on {card.get('env_id')}",
    )
    return str(url)


def pull(repo: str, out: str | os.PathLike[str], *, revision: str | None = None, force: bool = False) -> pathlib.Path:
    """Download a model repository written by ``rlzoo push`` into ``out``.

    Parameters
    ----------
    repo:
        ``USER/NAME`` on the Hub.
    out:
        The folder to create.
    revision:
        A branch, tag or commit (default: the main branch).
    force:
        Replace ``out`` if it exists (only once the download is complete).

    Returns
    -------
    pathlib.Path
        ``out``, loadable with :func:`rlzoo.load`.

    Raises
    ------
    RLZooError
        An existing ``out`` without ``force``, a repository that holds no ``agent.zip`` and
        card, or the ``hub`` extra is missing.
    """
    _check_repo_id(repo)
    target = pathlib.Path(out)
    if target.exists() and not force:
        raise RLZooError(f"--out {str(target)!r} already exists: pass --force to replace it, or choose another folder")
    api = _api()
    target.parent.mkdir(parents=True, exist_ok=True)
    with temporary_folder(target.parent, target.name) as staging:
        api.snapshot_download(repo_id=repo, repo_type="model", revision=revision, local_dir=str(staging), allow_patterns=list(FOLDER_FILES))
        shutil.rmtree(staging / ".cache", ignore_errors=True)  # huggingface_hub's download metadata
        if not (staging / AGENT_ZIP).is_file() or not (staging / CARD).is_file():
            raise RLZooError(f"Hub repository {repo!r} holds no {AGENT_ZIP} and {CARD}: it is not a model folder written by rlzoo package")
        if target.exists():
            shutil.rmtree(target)
        os.rename(staging, target)
    return target
