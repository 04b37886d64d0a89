"""Turning a saved agent into a shareable model folder: :func:`package` (``rlzoo package``).

The folder (:mod:`rlzoo.modelcard` describes its layout) is a Hugging Face model repository
ready for ``hf upload`` or ``rlzoo push``. The card's numbers are measured here, never copied:
the agent is loaded from its zip and evaluated greedily over ``episodes`` episodes with a
stated seed. With a sweep's results folder, the card adds the IQM of the agent's sweep cell
over its seeds, with a 95% bootstrap interval.

Everything is written into a private folder beside ``out`` and renamed into place at the
end, so a failure (a missing agent, an env that does not render, a full disk) leaves no
half-written folder; ``force`` replaces an existing one only once the new one is complete.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import importlib.util
import json
import os
import pathlib
import shutil
import zipfile
from typing import Any

import numpy as np

from rlzoo.agent import Agent
from rlzoo.artifact import load
from rlzoo.card_text import render_card
from rlzoo.checks import check_seed
from rlzoo.errors import ArgumentError, MissingDependencyError, RLZooError
from rlzoo.evaluation import evaluate
from rlzoo.experiments import stats
from rlzoo.experiments.store import Store
from rlzoo.files import atomic_write, current_umask, temporary_folder
from rlzoo.learning_curve import plot_learning_curve, return_range
from rlzoo.modelcard import AGENT_ZIP, CARD, CURVE, EPISODES, REPLAY, RESULTS
from rlzoo.records import TrainingHistory
from rlzoo.registry import make_env
from rlzoo.video import record

#: ``episodes.csv`` beside the zip is read up to this size.
MAX_HISTORY_BYTES = 64 * 2**20


def package(
    agent_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    episodes: int = 10,
    seed: int = 0,
    sweep: str | os.PathLike[str] | None = None,
    sweep_label: str | None = None,
    video: bool = True,
    force: bool = False,
) -> pathlib.Path:
    """Write a model folder for a saved agent: card, agent, evaluation, replay and learning curve.

    Parameters
    ----------
    agent_path:
        An ``agent.zip`` written by ``rlzoo train`` or :func:`rlzoo.save`. Its training
        history, ``episodes.csv`` beside it (as ``rlzoo train`` writes it), becomes the
        learning curve when present.
    out:
        The folder to write (its parent is created if missing).
    episodes:
        Greedy evaluation episodes whose mean ± std the card reports.
    seed:
        The evaluation's seed (episode k's first reset gets ``seed + k``); the replay is
        episode 0.
    sweep:
        A results folder of ``rlzoo sweep``: the card adds the IQM [95% CI] over the seeds
        of the cell with this agent and env.
    sweep_label:
        Which of the sweep's labels (runs of one agent with one preset or override set) is
        the agent's cell, when several ran this agent on this env.
    video:
        Record ``replay.mp4`` (the env must render ``rgb_array``; needs the ``video`` extra).
    force:
        Replace ``out`` if it exists.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    RLZooError
        A missing or corrupt agent (:class:`~rlzoo.errors.ArtifactError`), an existing
        ``out`` without ``force``, an ``out`` that cannot be written, an env that does not
        render (pass ``video=False``), a sweep without this agent's cell, a missing extra.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ArgumentError(f"episodes must be an int >= 1, got {episodes!r}")
    check_seed(seed)
    target = pathlib.Path(out)
    _check_out(target, force)
    agent = load(agent_path)
    if video:
        _check_renders(agent)
    sweep_result = _sweep_cell(pathlib.Path(sweep), agent, sweep_label) if sweep is not None else None
    result = evaluate(agent, n_episodes=episodes, seed=seed)
    manifest = _manifest(pathlib.Path(agent_path))
    results: dict[str, Any] = {
        "agent": agent.name,
        "env_id": agent.env_id,
        "env_kwargs": agent.env_kwargs,
        "num_timesteps": agent.num_timesteps,
        "seed": agent.seed,
        "hyperparams": agent.hyperparams,
        "evaluation": {"seed": seed, "deterministic": True, **result.to_dict()},
        "sweep": sweep_result,
        "training_evaluation": manifest.get("last_evaluation"),
        "trained_with": manifest.get("versions") or {},
        "packaged_with": agent.package_versions(),
        "packaged_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with temporary_folder(target.parent, target.name) as staging:
            _write_folder(staging, agent, pathlib.Path(agent_path), results, video)
            os.chmod(staging, 0o777 & ~current_umask())  # a folder like mkdir's, not the private staging mode
            _publish(staging, target, force)
    except OSError as exc:
        raise RLZooError(
            f"cannot write the model folder {str(target)!r}: {exc.strerror or exc} (nothing was written there); "
            "choose an --out you can write to"
        ) from None
    return target


def _check_out(target: pathlib.Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise RLZooError(f"--out {str(target)!r} is a file: give a folder to write the model into")
    if target.exists() and not force:
        raise RLZooError(f"--out {str(target)!r} already exists: pass --force (force=True) to replace it, or choose another folder")
    parent = next((folder for folder in [target.parent, *target.parent.parents] if folder.exists()), pathlib.Path("."))
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise RLZooError(f"--out {str(target)!r} cannot be written ({str(parent)!r} is not a writable folder): choose another folder")


def _check_renders(agent: Agent) -> None:
    """Refuse an env that cannot draw frames, before the evaluation's time is spent."""
    if importlib.util.find_spec("moviepy") is None:
        raise MissingDependencyError("the replay video of rlzoo package (or pass --no-video)", "video")
    if agent.env_id is None:
        raise RLZooError("this agent's env is not registered, so it cannot be rebuilt to film it: pass --no-video")
    env = make_env(agent.env_id, **agent.env_kwargs)
    try:
        modes = list(env.metadata.get("render_modes", []))
    finally:
        env.close()
    if "rgb_array" not in modes:
        raise RLZooError(
            f"env {agent.env_id} does not render frames (its render modes: {', '.join(modes) or 'none'}; a video needs "
            "'rgb_array'): package it without the replay, with --no-video (video=False)"
        )


def _manifest(path: pathlib.Path) -> dict[str, Any]:
    """``rlzoo.json`` of a zip that :func:`rlzoo.load` has just read and checked."""
    zip_path = path / AGENT_ZIP if path.is_dir() else path
    with zipfile.ZipFile(zip_path) as archive:
        manifest = json.loads(archive.read("rlzoo.json"))
    return manifest if isinstance(manifest, dict) else {}


def _write_folder(staging: pathlib.Path, agent: Agent, agent_path: pathlib.Path, results: dict[str, Any], video: bool) -> None:
    source = agent_path / AGENT_ZIP if agent_path.is_dir() else agent_path
    shutil.copyfile(source, staging / AGENT_ZIP)
    files = [AGENT_ZIP, RESULTS]
    if video:
        _record_replay(agent, staging, results["evaluation"]["seed"])
        files.append(REPLAY)
    history_file = source.parent / EPISODES
    if history_file.is_file() and history_file.stat().st_size <= MAX_HISTORY_BYTES:
        history = _read_history(history_file)
        if history.episodes:
            shutil.copyfile(history_file, staging / EPISODES)
            _plot(agent, history, staging / CURVE, results["evaluation"])
            files += [EPISODES, CURVE]
    _write_text(staging / RESULTS, json.dumps(results, indent=2) + "\n")
    _write_text(staging / CARD, render_card(results, files))


def _record_replay(agent: Agent, staging: pathlib.Path, seed: int) -> None:
    (video,) = record(agent, staging / ".replay", 1, seed=seed)
    os.replace(video, staging / REPLAY)
    shutil.rmtree(staging / ".replay")


def _read_history(path: pathlib.Path) -> TrainingHistory:
    """``episodes.csv`` (``episode, timestep, return, length``) as a history; rows that do not parse are skipped."""
    history = TrainingHistory()
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        for row in csv.DictReader(handle):
            with contextlib.suppress(KeyError, TypeError, ValueError):
                history.episodes.append((int(row["timestep"]), float(row["return"]), int(row["length"])))
    return history


def _plot(agent: Agent, history: TrainingHistory, path: pathlib.Path, evaluation: dict[str, Any]) -> None:
    spec = getattr(agent.env, "spec", None)
    try:
        plot_learning_curve(
            history,
            path,
            f"{agent.name} on {agent.env_id}",
            final_evaluation=(agent.num_timesteps, evaluation["mean"], evaluation["std"]),
            reward_threshold=getattr(spec, "reward_threshold", None),
            return_range=return_range(agent.env_id, getattr(spec, "max_episode_steps", None)),
        )
    except ImportError as exc:  # matplotlib
        raise MissingDependencyError("the learning curve of rlzoo package", "sb3") from exc


def _write_text(path: pathlib.Path, text: str) -> None:
    with atomic_write(path) as handle:
        handle.write(text.encode("utf-8"))


def _publish(staging: pathlib.Path, target: pathlib.Path, force: bool) -> None:
    """Rename the finished folder to ``target``; an old ``target`` (``force``) goes only once the new one is in place."""
    if not target.exists():
        os.rename(staging, target)
        return
    if not force:  # it appeared while packaging
        raise RLZooError(f"--out {str(target)!r} appeared while packaging: pass --force to replace it")
    with temporary_folder(target.parent, target.name + ".old") as old:
        os.rmdir(old)
        os.rename(target, old)
        try:
            os.rename(staging, target)
        except OSError:
            os.rename(old, target)
            raise


def _sweep_cell(results_dir: pathlib.Path, agent: Agent, label: str | None) -> dict[str, Any]:
    """The IQM [95% CI] of the final scores of the sweep's runs of this agent on this env."""
    if not (results_dir / "index.sqlite").is_file():
        raise RLZooError(f"--sweep {str(results_dir)!r} holds no index.sqlite: give the results folder of an rlzoo sweep")
    with Store(results_dir) as store:
        rows = [row for row in store.rows("done") if row["agent"] == agent.name and row["env"] == agent.env_id]
    labels = sorted({row["label"] for row in rows})
    if not labels:
        raise RLZooError(f"--sweep {str(results_dir)!r} has no finished run of {agent.name} on {agent.env_id}")
    if label is None and len(labels) > 1:
        ran = f"{agent.name} on {agent.env_id} as {', '.join(labels)}"
        raise RLZooError(f"--sweep {str(results_dir)!r} ran {ran}: pick one with --sweep-label (sweep_label=)")
    label = label if label is not None else labels[0]
    if label not in labels:
        raise RLZooError(f"--sweep-label {label!r}: the sweep's runs of {agent.name} on {agent.env_id} are labelled {', '.join(labels)}")
    cell = sorted((row for row in rows if row["label"] == label), key=lambda row: row["seed"])
    finals = np.array([[row["final_mean"]] for row in cell], dtype=float)
    estimate = stats.per_task_estimates({label: finals})[label]  # rows IQM, mean, median; one task
    return {
        "results_dir": str(results_dir),
        "label": label,
        "seeds": [int(row["seed"]) for row in cell],
        "final_scores": [float(row["final_mean"]) for row in cell],
        "iqm": float(estimate.point[0, 0]),
        "ci_low": float(estimate.low[0, 0]),
        "ci_high": float(estimate.high[0, 0]),
    }
