"""A model folder, as ``rlzoo package`` writes it, and its model card.

The folder is laid out as a Hugging Face model repository::

    README.md            the model card: YAML metadata between '---' lines, then Markdown
    agent.zip            the agent (rlzoo.save's file, loaded by rlzoo.load)
    results.json         the evaluation measured when the folder was written
    replay.mp4           a greedy episode, where the env renders
    learning_curve.png   training returns, where the training history was beside the zip
    episodes.csv         that history

This module reads the folder for :func:`rlzoo.load`: it finds ``agent.zip`` and checks the
card's ``rlzoo:`` metadata (agent name and env id) against the agent the zip holds. It reads
only those two files, with a size cap on the card, parses the card with PyYAML's safe
loader (no tags, so no object is ever built from the text), and never imports or runs
anything the files name. It sits below :mod:`rlzoo.artifact` and does not import it.
"""

from __future__ import annotations

import os
import pathlib
import warnings
from typing import Any

from rlzoo.errors import ArtifactError

CARD = "README.md"
AGENT_ZIP = "agent.zip"
RESULTS = "results.json"
REPLAY = "replay.mp4"
CURVE = "learning_curve.png"
EPISODES = "episodes.csv"
#: Every file a model folder may hold (``rlzoo push`` uploads only these).
FOLDER_FILES = (CARD, AGENT_ZIP, RESULTS, REPLAY, CURVE, EPISODES)
#: A card may be at most this large.
MAX_CARD_BYTES = 2**20
#: The key of rlzoo's own block in the card's metadata.
METADATA_KEY = "rlzoo"


class ModelCardWarning(UserWarning):
    """A model folder whose card is missing or unreadable: the agent loads, unchecked against the card."""


def agent_zip(folder: str | os.PathLike[str]) -> pathlib.Path:
    """The ``agent.zip`` inside a model folder.

    Parameters
    ----------
    folder:
        A folder written by ``rlzoo package`` (or downloaded by ``rlzoo pull``).

    Returns
    -------
    pathlib.Path
        The zip's path (a regular file; :func:`rlzoo.load` opens it with its own checks).

    Raises
    ------
    ArtifactError
        There is no ``agent.zip`` in the folder, or it is not a regular file.
    """
    path = pathlib.Path(folder) / AGENT_ZIP
    if not path.is_file():
        kind = f"an {AGENT_ZIP} that is not a regular file" if path.exists() else f"no {AGENT_ZIP}"
        raise ArtifactError(
            folder,
            f"it is a directory, not a regular file, and holds {kind}: pass a file written by rlzoo.save, or a model "
            "folder written by rlzoo package (agent.zip beside README.md)",
        )
    return path


def parse_front_matter(text: str) -> dict[str, Any]:
    """The YAML metadata block at the top of a model card.

    Parameters
    ----------
    text:
        The card: ``---``, YAML, ``---``, then Markdown.

    Returns
    -------
    dict
        The metadata.

    Raises
    ------
    ValueError
        There is no metadata block, or it is not a YAML mapping (the message says which).
    ImportError
        PyYAML is not installed.
    """
    import yaml  # PyYAML is an optional dependency (every backend's extra brings it)

    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ValueError("it does not start with a '---' line opening its YAML metadata")
    try:
        end = next(index for index, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise ValueError("its YAML metadata has no closing '---' line") from None
    try:
        metadata = yaml.safe_load("\n".join(lines[1:end]))
    except (yaml.YAMLError, RecursionError) as exc:
        raise ValueError(f"its YAML metadata does not parse: {' '.join(str(exc).split())}") from None
    if not isinstance(metadata, dict):
        raise ValueError("its YAML metadata is not a mapping of keys to values")
    return metadata


def read_card(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``rlzoo:`` block of a folder's model card, or ``None`` with a :class:`ModelCardWarning`.

    Parameters
    ----------
    folder:
        A model folder.

    Returns
    -------
    dict or None
        The block (``agent``, ``env_id``...), or ``None`` when the card is missing, too
        large, unreadable or lacks the block (the warning says which).
    """
    path = pathlib.Path(folder) / CARD
    problem = None
    try:
        if not path.is_file():
            problem = "there is no README.md model card" if not path.exists() else "README.md is not a regular file"
        elif path.stat().st_size > MAX_CARD_BYTES:
            problem = f"its README.md is larger than {MAX_CARD_BYTES} bytes, too large for a model card"
        else:
            block = parse_front_matter(path.read_text(encoding="utf-8")).get(METADATA_KEY)
            if isinstance(block, dict) and isinstance(block.get("agent"), str) and isinstance(block.get("env_id"), str):
                return block
            problem = f"its README.md metadata has no '{METADATA_KEY}:' block naming the agent and env_id"
    except ImportError:
        problem = "PyYAML is not installed, so its README.md metadata cannot be read (pip install pyyaml)"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problem = f"its README.md model card is unreadable: {exc}"
    warnings.warn(
        f"model folder {str(folder)!r}: {problem}; loading agent.zip without checking it against the card",
        ModelCardWarning,
        stacklevel=3,
    )
    return None


def check_card(folder: str | os.PathLike[str], card: dict[str, Any] | None, agent: str, env_id: str | None) -> None:
    """Refuse a card that describes another agent than the zip holds.

    Parameters
    ----------
    folder:
        The model folder (named in the error).
    card:
        What :func:`read_card` returned (``None``: nothing to check).
    agent:
        The registered name of the agent loaded from the zip.
    env_id:
        Its env id, or ``None`` when the caller bound the agent to another env (then only
        the agent name is checked).

    Raises
    ------
    ArtifactError
        The card names another agent or env id than the zip.
    """
    if card is None:
        return
    said = (card.get("agent"), card.get("env_id"))
    held = (agent, env_id if env_id is not None else card.get("env_id"))
    if said != held:
        raise ArtifactError(
            folder,
            f"its model card (README.md) describes agent {said[0]!r} on env {said[1]!r}, but its agent.zip holds "
            f"{held[0]!r} on {held[1]!r}: the card does not describe this agent; write the folder again with "
            "rlzoo package AGENT.zip --out DIR --force",
        )
