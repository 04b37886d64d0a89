"""One run of a sweep: build, train (recording the learning curve), evaluate 100 greedy episodes, save.

This module runs inside workers (a local process or a Ray task). It writes nothing but the
run's own folder, and that only through a staging folder renamed into place, so a run
killed at any moment leaves either a complete folder or none. The index is the driver's.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import tempfile
import time
import traceback
from typing import Any

from rlzoo.agent import Agent, Callback
from rlzoo.artifact import save
from rlzoo.builder import make_agent
from rlzoo.evaluation import final_evaluation
from rlzoo.experiments.grid import RunSpec
from rlzoo.files import current_umask, temporary_folder
from rlzoo.learning_curve import write_episodes_csv
from rlzoo.quiet import quiet_frameworks
from rlzoo.threads import one_thread_per_worker
from rlzoo.training import train

#: Where finished runs' folders live inside a results directory.
RUNS_FOLDER = "runs"
#: Label of staging folders (:func:`rlzoo.files.temporary_folder`): ``.staging-<run_id>.rlzoo-<pid>-<hex>.tmp``.
STAGING_LABEL = "staging-{run_id}"


@dataclasses.dataclass
class RunOutcome:
    """What a run reports back to the driver, which records it in the index.

    Attributes
    ----------
    run_id:
        The :attr:`RunSpec.run_id` of the run.
    status:
        ``"done"`` or ``"failed"``.
    error:
        For a failed run, the exception and its traceback.
    started, finished:
        Wall-clock times (seconds since the epoch).
    train_seconds, eval_seconds, save_seconds:
        Time spent training (periodic evaluations included), in the final evaluation, and saving.
    num_timesteps:
        Env steps trained.
    final_mean, final_std, final_returns:
        The final greedy evaluation over :data:`rlzoo.settings.FINAL_EPISODES` episodes, of
        the weights the run keeps (the best periodic evaluation's, see :class:`rlzoo.callbacks.EvalEvery`).
    last_weights_mean, last_weights_std:
        The same evaluation (same seed, same episodes) of the weights training ended with;
        equal to ``final_mean`` and ``final_std`` when those are the weights kept.
    kept_timestep:
        The step whose weights were kept.
    curve:
        The periodic greedy evaluations, ``(timestep, mean, std)`` rows.
    settings:
        The run's resolved :class:`~rlzoo.settings.TrainSettings`, as JSON values.
    files:
        The run folder's files (name to bytes) when the worker could not write into the
        results directory itself (a Ray worker on another machine); else ``None``.
    """

    run_id: str
    status: str
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    save_seconds: float = 0.0
    num_timesteps: int = 0
    final_mean: float | None = None
    final_std: float | None = None
    final_returns: list[float] = dataclasses.field(default_factory=list)
    last_weights_mean: float | None = None
    last_weights_std: float | None = None
    kept_timestep: int | None = None
    curve: list[tuple[int, float, float]] = dataclasses.field(default_factory=list)
    settings: dict[str, Any] | None = None
    files: dict[str, bytes] | None = None


def perform(spec: RunSpec, results_dir: str | None, keep_agents: bool = True) -> RunOutcome:
    """Carry out one run; never raises for a failing run (it comes back as ``status="failed"``).

    Parameters
    ----------
    spec:
        The run.
    results_dir:
        The results directory, when this process can write into it: the run folder is
        staged there and renamed to ``runs/<run_id>``. ``None``: the folder's files come
        back in :attr:`RunOutcome.files` for the driver to write.
    keep_agents:
        Save the trained agent (``agent.zip``) in the run folder; ``False``: the folder
        keeps ``episodes.csv`` only (the index has every score).

    Returns
    -------
    RunOutcome
    """
    quiet_frameworks()
    one_thread_per_worker()
    outcome = RunOutcome(spec.run_id, "failed", started=time.time())
    agent = None
    try:
        agent = make_agent(spec.agent, spec.env, seed=spec.seed, preset=spec.preset, **spec.hyperparams)
        one_thread_per_worker()  # the backend may just have imported torch
        clock = time.perf_counter()
        last = LastWeights()
        train(
            agent, total_timesteps=spec.steps, seed=spec.seed, eval_every=spec.eval_every, callbacks=[last]
        )  # rlzoo.settings resolves the rest
        outcome.train_seconds = time.perf_counter() - clock
        conclude(spec, agent, outcome, results_dir, last.of(agent), keep_agent=keep_agents)
    except Exception:  # a crashing run is recorded as failed; the sweep goes on
        outcome.error = traceback.format_exc(limit=-8)
    finally:
        if agent is not None:
            type(agent).discard_all()  # the worker goes on to other runs: nothing of this one stays
    outcome.finished = time.time()
    return outcome


class LastWeights(Callback):
    """Remembers the weights each agent's training ended with, before :class:`rlzoo.callbacks.EvalEvery`
    (called after this, in a solo run and for each seed side by side) swaps in the best periodic evaluation's."""

    def __init__(self) -> None:
        self._weights: dict[int, Any] = {}

    def on_training_end(self, agent: Agent) -> None:
        if agent.train_settings is not None and agent.train_settings.eval_every:
            self._weights[id(agent)] = agent.get_weights()

    def of(self, agent: Agent) -> Any:
        """The last weights of ``agent``; ``None`` without periodic evaluation (they were kept)."""
        return self._weights.get(id(agent))


def conclude(
    spec: RunSpec, agent: Any, outcome: RunOutcome, results_dir: str | None, last_weights: Any = None, *, keep_agent: bool = True
) -> None:
    """A trained run's end: the final greedy evaluation, its folder staged and published, ``outcome`` filled in.

    Shared by a run trained alone (:func:`perform`) and one trained with its cell's other
    seeds side by side (:mod:`rlzoo.experiments.batch`).

    Parameters
    ----------
    spec, agent:
        The run and its trained agent.
    outcome:
        Filled in (status ``"done"`` at the end); raises if a step fails.
    results_dir:
        As for :func:`perform`.
    last_weights:
        The weights training ended with, when periodic evaluation swapped in others
        (:class:`LastWeights`): they are scored on the same episodes as the kept ones.
        ``None``: unknown, or the same as the kept weights.
    keep_agent:
        Save ``agent.zip`` beside ``episodes.csv`` (see :func:`perform`).
    """
    staging_parent = results_dir if results_dir is not None else tempfile.gettempdir()
    clock = time.perf_counter()
    result = final_evaluation(agent)
    last_result = result
    if last_weights is not None and agent.history.kept_timestep not in (None, agent.num_timesteps):
        kept = agent.get_weights()
        agent.set_weights(last_weights)
        last_result = final_evaluation(agent)  # the same seed: the same episodes as the kept weights'
        agent.set_weights(kept)
        agent.last_evaluation = result
    outcome.eval_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    # Staged where it will be published (one rename), or in the temp dir when the files go back as bytes.
    with temporary_folder(staging_parent, STAGING_LABEL.format(run_id=spec.run_id)) as staging:
        if keep_agent:
            save(agent, staging / "agent.zip")
        write_episodes_csv(agent.history, staging / "episodes.csv")
        if results_dir is None:
            outcome.files = {path.name: path.read_bytes() for path in staging.iterdir()}
        else:
            publish(staging, pathlib.Path(results_dir) / RUNS_FOLDER / spec.run_id)
    outcome.save_seconds = time.perf_counter() - clock
    outcome.status = "done"
    outcome.num_timesteps = int(agent.num_timesteps)
    outcome.final_mean, outcome.final_std = result.mean, result.std
    outcome.final_returns = [float(r) for r in result.returns]
    outcome.last_weights_mean, outcome.last_weights_std = last_result.mean, last_result.std
    outcome.kept_timestep = agent.history.kept_timestep
    outcome.curve = [(int(t), float(m), float(s)) for t, m, s in agent.history.evaluations]
    outcome.settings = agent.train_settings.to_dict() if agent.train_settings is not None else None


def publish(staging: pathlib.Path, target: pathlib.Path) -> None:
    """Move a complete staging folder to ``target`` (replacing a stale one), in one rename.

    Parameters
    ----------
    staging:
        The finished folder, inside the same results directory.
    target:
        Its final place, ``runs/<run_id>``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(staging, 0o777 & ~current_umask())  # staging folders are private (0700); the result follows the umask
    if target.exists():  # left by an unfinished earlier attempt: the index never marked it done
        shutil.rmtree(target)
    os.rename(staging, target)


def write_files(files: dict[str, bytes], results_dir: pathlib.Path, run_id: str) -> None:
    """Write a run folder that came back as bytes: staged in the results directory, then renamed.

    Parameters
    ----------
    files:
        File name to content.
    results_dir:
        The results directory.
    run_id:
        The run's id (its folder's name).
    """
    with temporary_folder(results_dir, STAGING_LABEL.format(run_id=run_id)) as staging:
        for name, content in files.items():
            (staging / name).write_bytes(content)
        publish(staging, results_dir / RUNS_FOLDER / run_id)
