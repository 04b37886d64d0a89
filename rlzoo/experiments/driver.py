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

from rlzoo.errors import RLZooError
from rlzoo.experiments.grid import DEFAULT_SEEDS, RunSpec, load_grid, make_grid
from rlzoo.experiments.run import RUNS_FOLDER, RunOutcome, write_files
from rlzoo.experiments.store import Store
from rlzoo.files import sweep_leftovers

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
    """

    results_dir: pathlib.Path
    total: int
    skipped: int
    done: int
    failed: int
    wall_seconds: float


#: Called after each run is recorded: ``(spec, outcome, finished_so_far, to_run)``.
Progress = Callable[[RunSpec, RunOutcome, int, int], None]


def sweep(
    agents: Sequence[str] = (),
    envs: Sequence[str] = (),
    seeds: int | Sequence[int] = DEFAULT_SEEDS,
    *,
    steps: int | None = None,
    overrides: dict[str, Any] | None = None,
    preset: str | None = None,
    grid: str | os.PathLike[str] | Sequence[RunSpec] | None = None,
    out: str | os.PathLike[str] = "runs/sweep",
    workers: int | None = None,
    ray: str | None = None,
    shared_results: bool = False,
    progress: Progress | None = None,
    on_start: Callable[[int, int], None] | None = None,
    batch_seeds: bool = True,
) -> SweepSummary:
    """Train every (agent, env, seed) of a grid, in parallel, into one resumable results directory.

    Each run trains with its preset (or ``steps``), records periodic greedy evaluations,
    finishes with a 100-episode greedy evaluation and saves ``agent.zip`` and
    ``episodes.csv`` in ``OUT/runs/<run_id>/``; ``OUT/index.sqlite`` has one row per run.
    Rerunning skips finished runs and redoes the rest (failed ones included).

    Parameters
    ----------
    agents, envs, seeds, steps, overrides, preset:
        The grid (see :func:`rlzoo.experiments.grid.make_grid`), unless ``grid`` is given.
    grid:
        A YAML grid file (see :func:`rlzoo.experiments.grid.load_grid`) or :class:`RunSpec` records.
    out:
        The results directory.
    workers:
        Local worker processes (default: the CPU count).
    ray:
        A Ray cluster's address (or ``"auto"``): run there instead of locally.
    shared_results:
        With ``ray``: ``out`` is on a file system every Ray worker sees, and workers write
        run folders there themselves instead of sending them back.
    progress:
        Called after each run is recorded (the CLI's progress bar).
    on_start:
        Called once with ``(runs to do, runs already finished)`` before the first run starts.
    batch_seeds:
        Train each cell's seeds side by side in one process where the agent can
        (:mod:`rlzoo.experiments.batch`); ``False``: every run on its own.

    Returns
    -------
    SweepSummary
    """
    if grid is None:
        specs = make_grid(agents, envs, seeds, steps=steps, overrides=overrides, preset=preset)
    elif isinstance(grid, (str, os.PathLike)):
        specs = load_grid(pathlib.Path(grid))
    else:
        specs = list(grid)
    check_presets(specs)
    executor: Executor
    if ray:
        from rlzoo.experiments.executors import RayCluster

        executor = RayCluster(ray, shared_results, batch_seeds=batch_seeds)
    else:
        from rlzoo.experiments.executors import LocalPool

        executor = LocalPool(workers, batch_seeds=batch_seeds)
    return run_grid(specs, pathlib.Path(out), executor, progress=progress, on_start=on_start)


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
    from rlzoo.errors import MissingDependencyError
    from rlzoo.presets import find_preset
    from rlzoo.registry import get_agent

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
) -> SweepSummary:
    """Run the unfinished specs with ``executor`` and record each outcome (see :func:`sweep`)."""
    start = time.perf_counter()
    results_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(results_dir), Store(results_dir) as store:
        sweep_leftovers(results_dir)  # staging folders of runs killed while writing
        store.add(specs)
        statuses = store.statuses()
        todo = [s for s in specs if not (statuses[s.run_id] == "done" and _folder(results_dir, s).is_dir())]
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
            if outcome.files is not None:
                write_files(outcome.files, results_dir, outcome.run_id)
                outcome.files = None
            store.record(outcome)  # after the folder is in place: a done row always has its folder
            counts[outcome.status] += 1
            spec = by_id[outcome.run_id]
            if outcome.status == "done":
                logger.info("%s: greedy mean %.1f (%.0f s)", outcome.run_id, outcome.final_mean, outcome.finished - outcome.started)
            else:
                logger.warning("%s failed: %s", outcome.run_id, (outcome.error or "").strip().splitlines()[-1:])
            if progress is not None:
                progress(spec, outcome, counts["done"] + counts["failed"], len(todo))
    return SweepSummary(results_dir, len(specs), skipped, counts["done"], counts["failed"], time.perf_counter() - start)


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
