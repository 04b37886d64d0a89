"""The sweep driver: index the grid, skip finished runs, hand out the rest, record each outcome."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import logging
import os
import pathlib
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import gymnasium as gym

from rlzoo import checks
from rlzoo.errors import MissingDependencyError, RLZooError, UnknownEnvError
from rlzoo.experiments.executors import LocalPool, RayCluster, check_address, reachable
from rlzoo.experiments.grid import DEFAULT_SEEDS, GridError, RunSpec, load_grid, make_grid
from rlzoo.experiments.integrity import fingerprint, folder_problem
from rlzoo.experiments.run import RUNS_FOLDER, RunOutcome, write_files
from rlzoo.experiments.store import Store
from rlzoo.files import sweep_leftovers
from rlzoo.presets import find_preset
from rlzoo.registry import get_agent, list_envs

logger = logging.getLogger(__name__)


class Executor(Protocol):
    """Runs specs and yields their outcomes as they finish (:mod:`rlzoo.experiments.executors`)."""

    def run(self, specs: Sequence[RunSpec], results_dir: pathlib.Path) -> Iterator[RunOutcome]: ...


@dataclasses.dataclass(frozen=True)
class SweepSummary:
    """What a sweep did.

    Attributes
    ----------
    results_dir: where the index and run folders are.
    total: runs in the grid.
    skipped: runs already finished before this sweep started.
    done, failed: runs this sweep finished and that failed.
    wall_seconds: how long this sweep took.
    redone: finished runs whose folder had changed since they were recorded, run again.
    """

    results_dir: pathlib.Path
    total: int
    skipped: int
    done: int
    failed: int
    wall_seconds: float
    redone: int = 0


#: Called once per finished run whose folder changed since it was recorded: ``(spec, what changed)``; it is run again.
Redo = Callable[[RunSpec, str], None]


#: Called after each run is recorded: ``(spec, outcome, finished_so_far, to_run)``.
Progress = Callable[[RunSpec, RunOutcome, int, int], None]


def sweep(
    agents: Sequence[str] = (),
    envs: Sequence[str] = (),
    seeds: int | Sequence[int] | None = None,
    *,
    steps: int | None = None,
    eval_every: int | None = None,
    overrides: dict[str, Any] | None = None,
    preset: str | None = None,
    label: str = "",
    grid: str | os.PathLike[str] | Sequence[RunSpec] | None = None,
    out: str | os.PathLike[str] = "runs/sweep",
    workers: int | None = None,
    ray: str | None = None,
    shared_results: bool = False,
    progress: Progress | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_redo: Redo | None = None,
    batch_seeds: bool = True,
    keep_agents: bool = True,
) -> SweepSummary:
    """Train every (agent, env, seed) of a grid, in parallel, into one resumable results directory.

    Each run trains with its preset (or ``steps``), records periodic greedy evaluations,
    finishes with a 100-episode greedy evaluation and saves ``agent.zip`` and
    ``episodes.csv`` in ``OUT/runs/<run_id>/``; ``OUT/index.sqlite`` has one row per run.
    Rerunning skips finished runs whose files are as recorded (sizes and SHA-256 in the
    index) and redoes the rest: failed ones, and finished ones whose folder changed.

    Parameters
    ----------
    agents, envs, seeds, steps, eval_every, overrides, preset, label:
        The grid (see :func:`rlzoo.experiments.grid.make_grid`; ``seeds`` defaults to
        :data:`~rlzoo.experiments.grid.DEFAULT_SEEDS`), unless ``grid`` is given. With a grid
        file, ``seeds``, ``steps``, ``eval_every`` and ``preset`` replace every block's, and
        ``overrides`` add to each block's ``set`` (what ``rlzoo sweep FILE --seeds 2`` does).
        Training settings a run leaves open resolve as for :func:`rlzoo.train`
        (:mod:`rlzoo.settings`).
    grid:
        A YAML grid file (see :func:`rlzoo.experiments.grid.load_grid`) or :class:`RunSpec` records.
    out:
        The results directory.
    workers:
        Local worker processes (default: the CPU count).
    ray:
        A Ray cluster's address (``HOST:PORT``, or ``"auto"``): run there instead of
        locally. A run whose worker or node dies is retried (up to
        :data:`~rlzoo.experiments.executors.MAX_RETRIES` times); a run's own error is not.
    shared_results:
        With ``ray``: ``out`` is on a file system every Ray worker sees, and workers write
        run folders there themselves instead of sending them back.
    progress:
        Called after each run is recorded (the CLI's progress bar).
    on_start:
        Called once with ``(runs to do, runs already finished)`` before the first run starts.
    on_redo:
        Called for each finished run whose files changed since it was recorded (it is run again).
    batch_seeds:
        Train each cell's seeds side by side in one process where the agent can
        (:mod:`rlzoo.experiments.batch`); ``False``: every run on its own.
    keep_agents:
        Save each trained agent as ``agent.zip`` in its run folder. ``False``: the folders
        keep ``episodes.csv`` only, a few kilobytes a run, so a sweep whose scores are all
        that matters (``make bench``) stays small enough to commit and resume elsewhere.

    Returns
    -------
    SweepSummary

    Raises
    ------
    RLZooError
        A bad argument or grid, an unknown agent or env, an unusable results directory:
        before any run starts, and before ``out`` is created.
    """
    results_dir = _checked_out(out)
    if workers is not None and (not checks.is_int(workers) or not 1 <= workers <= MAX_WORKERS):
        raise GridError(f"workers must be a number of processes from 1 to {MAX_WORKERS}, got {checks.shown(workers)}")
    if ray is not None:
        check_address(ray)
    if not isinstance(shared_results, bool):
        raise GridError(f"shared_results must be true or false, got {checks.shown(shared_results)}")
    if shared_results and ray is None:
        raise GridError("shared_results only applies with ray (workers on other machines write into a shared out)")
    if grid is not None and (agents or envs):
        raise GridError("give a grid file or agents and envs, not both")
    if grid is None:
        if not agents or not envs:
            raise GridError(
                "give agents and envs (for example agents ['sb3-ppo', 'sb3-dqn'] and envs ['CartPole-v1']), or a YAML grid file"
            )
        specs = make_grid(
            agents,
            envs,
            DEFAULT_SEEDS if seeds is None else seeds,
            steps=steps,
            overrides=overrides,
            eval_every=eval_every,
            label=label,
            preset=preset,
        )
    elif isinstance(grid, (str, os.PathLike)):
        if seeds is not None and not checks.is_int(seeds):
            raise GridError(f"with a grid file, seeds replaces every block's seeds and must be a count, got {checks.shown(seeds)}")
        if label:
            raise GridError("label names the runs of agents and envs given as arguments; a grid file gives each block its label:")
        count = None if seeds is None else int(seeds)  # type: ignore[arg-type]  # an int: checked above
        specs = load_grid(pathlib.Path(grid), seeds=count, steps=steps, eval_every=eval_every, overrides=overrides, preset=preset)
    elif isinstance(grid, (list, tuple)) and grid and all(isinstance(spec, RunSpec) for spec in grid):
        specs = list(grid)
    else:
        raise GridError(f"grid must be a YAML grid file or a non-empty list of RunSpec records, got {checks.shown(grid)}")
    check_names(specs)
    check_presets(specs)
    if ray is not None:
        reachable(ray)  # before out is created: an address where nothing answers is refused within the timeout
    if not isinstance(keep_agents, bool):
        raise GridError(f"keep_agents must be true or false, got {checks.shown(keep_agents)}")
    executor: Executor = (
        RayCluster(ray, shared_results, batch_seeds=batch_seeds, keep_agents=keep_agents)
        if ray
        else LocalPool(workers, batch_seeds=batch_seeds, keep_agents=keep_agents)
    )
    return run_grid(specs, results_dir, executor, progress=progress, on_start=on_start, on_redo=on_redo)


#: The most local worker processes a sweep starts.
MAX_WORKERS = 1024


def _checked_out(out: Any) -> pathlib.Path:
    """The results directory, refused (before anything is created) when it cannot be one."""
    if not isinstance(out, (str, os.PathLike)) or not os.fspath(out).strip():
        raise GridError(f"out must be the results directory's path, got {checks.shown(out)}")
    path = pathlib.Path(out)
    if path.exists() and not path.is_dir():
        raise GridError(f"out {str(path)!r} is a file, not a folder: give a folder (it is created if missing)")
    runs = path / RUNS_FOLDER
    if (runs.exists() or runs.is_symlink()) and not (runs.is_dir() and not runs.is_symlink()):
        raise GridError(f"{str(path)!r} holds a file named {RUNS_FOLDER!r} where the run folders go: move it, or give another out")
    return path


def check_names(specs: Sequence[RunSpec]) -> None:
    """Refuse, before anything starts, an agent name or env id that no run could use.

    Parameters
    ----------
    specs:
        The grid's runs.

    Raises
    ------
    UnknownNameError
        Naming the closest valid names. An agent whose backend this machine lacks is left
        to the workers (a Ray cluster's may have it).
    """
    for agent in sorted({s.agent for s in specs}):
        try:
            get_agent(agent)
        except MissingDependencyError:
            continue
    known = {entry.id for entry in list_envs()}
    for env in sorted({s.env for s in specs}):
        if env in known:
            continue
        try:
            gym.spec(env)
        except gym.error.Error as exc:
            raise UnknownEnvError(env, [*gym.registry, *known], str(exc).rstrip(".")) from None


def check_presets(specs: Sequence[RunSpec]) -> None:
    """Refuse, before any run starts, a preset that names no file or lacks one of its runs' envs.

    Only runs that name a preset are checked (their backends are imported here to find the
    named files); a backend this machine lacks is left to the workers (a Ray cluster's may
    have it).

    Parameters
    ----------
    specs:
        The grid's runs.

    Raises
    ------
    RLZooError
        Naming the preset, and what would be right.
    """
    for agent, env, preset in sorted({(s.agent, s.env, s.preset) for s in specs if s.preset is not None}):
        try:
            factory = get_agent(agent)
        except MissingDependencyError:
            continue
        find_preset(factory, env, preset)


def run_grid(
    specs: Sequence[RunSpec],
    results_dir: pathlib.Path,
    executor: Executor,
    *,
    progress: Progress | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_redo: Redo | None = None,
) -> SweepSummary:
    """Run the unfinished specs with ``executor`` and record each outcome (see :func:`sweep`)."""
    start = time.perf_counter()
    _checked_out(results_dir)
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RLZooError(f"cannot create the results directory {str(results_dir)!r}: {exc.strerror or exc}") from None
    with _exclusive(results_dir), Store(results_dir) as store:
        sweep_leftovers(results_dir)  # staging folders of runs killed while writing
        store.add(specs)
        finished = {row["run_id"]: row for row in store.rows("done")}
        todo, redone = [], 0
        for spec in specs:
            row = finished.get(spec.run_id)
            if row is None:
                todo.append(spec)
                continue
            problem = folder_problem(_folder(results_dir, spec), row["files"])
            if problem is not None:  # a finished run whose files changed: never reused as if it were intact
                logger.info("%s: %s; running it again", spec.run_id, problem)
                if on_redo is not None:
                    on_redo(spec, problem)
                todo.append(spec)
                redone += 1
        for spec in todo:  # a folder whose row is not done is from an attempt killed before it was recorded
            shutil.rmtree(_folder(results_dir, spec), ignore_errors=True)
        skipped = len(specs) - len(todo)
        logger.info("%d runs in the grid: %d finished already, %d to run", len(specs), skipped, len(todo))
        if on_start is not None:
            on_start(len(todo), skipped)
        store.mark_running(s.run_id for s in todo)
        by_id = {s.run_id: s for s in todo}
        counts = {"done": 0, "failed": 0}
        for outcome in executor.run(todo, results_dir):
            known = by_id.get(outcome.run_id)
            if known is None:  # not one of this sweep's runs: never recorded
                logger.warning("an executor returned %r, which is not a run of this sweep", outcome.run_id)
                continue
            spec = known
            del by_id[outcome.run_id]  # a run is recorded once, however often its task ran
            files = None
            if outcome.status == "done":
                if outcome.files is not None:
                    write_files(outcome.files, results_dir, outcome.run_id)
                    outcome.files = None
                folder = _folder(results_dir, spec)
                files = fingerprint(folder) if folder.is_dir() else None
            store.record(outcome, files)  # after the folder is in place: a done row always has its folder
            counts[outcome.status] += 1
            if outcome.status == "done":
                logger.info("%s: greedy mean %.1f (%.0f s)", outcome.run_id, outcome.final_mean, outcome.finished - outcome.started)
            else:  # the caller (the CLI's progress line) shows failures; a log line here would show it twice
                logger.info("%s failed: %s", outcome.run_id, failure_line(outcome))
            if progress is not None:
                progress(spec, outcome, counts["done"] + counts["failed"], len(todo))
    return SweepSummary(results_dir, len(specs), skipped, counts["done"], counts["failed"], time.perf_counter() - start, redone)


def failure_line(outcome: RunOutcome) -> str:
    """A failed run's error in one line: the last line of its traceback (the exception)."""
    lines = (outcome.error or "").strip().splitlines()
    return " ".join(lines[-1].split()) if lines else "unknown error"


def _folder(results_dir: pathlib.Path, spec: RunSpec) -> pathlib.Path:
    return results_dir / RUNS_FOLDER / spec.run_id


@contextlib.contextmanager
def _exclusive(results_dir: pathlib.Path) -> Iterator[None]:
    """Hold the results directory's lock: two sweeps writing one directory would redo each other's runs."""
    with open(results_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RLZooError(f"another sweep is writing to {str(results_dir)!r}: wait for it, or give another --out") from None
        yield  # the lock goes with the file descriptor, also when the process is killed
