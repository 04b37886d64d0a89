"""Where runs execute: a local process pool, or tasks on a Ray cluster.

An executor only hands runs out and yields their :class:`RunOutcome` as they finish; the
driver (:mod:`rlzoo.experiments.driver`) owns every write to the index.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pathlib
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from rlzoo.errors import MissingDependencyError, RLZooError
from rlzoo.experiments.batch import group_runs, perform_group
from rlzoo.experiments.grid import RunSpec
from rlzoo.experiments.run import RunOutcome
from rlzoo.quiet import quiet_frameworks
from rlzoo.threads import one_thread_per_worker

logger = logging.getLogger(__name__)


def _init_worker(driver_pid: int) -> None:
    """Runs first in each pool worker: one thread per framework, and exit if the driver dies.

    A driver killed with SIGKILL cannot stop its workers; left alone they would finish
    their run and publish its folder under a rerun's feet.
    """
    quiet_frameworks()
    one_thread_per_worker()

    def watch() -> None:
        while os.getppid() == driver_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="rlzoo-driver-watch", daemon=True).start()


def preload(runs: Sequence[tuple[str, str]]) -> int:
    """A worker's start-up, done ahead of its first run: import each agent's backend and build one agent.

    Building one agent per backend also pays the imports a backend only makes on first use
    (torch loads some 800 modules, sympy among them, when its first network and optimiser
    are built: about 2 s).

    Parameters
    ----------
    runs:
        ``(agent, env)`` pairs; one agent is built per distinct agent name, on its first env.

    Returns
    -------
    int
        This process's id (which worker did it).
    """
    from rlzoo.registry import make_agent

    one_thread_per_worker()
    first_env: dict[str, str] = {}
    for agent, env in runs:
        first_env.setdefault(agent, env)
    for agent, env in first_env.items():
        try:
            make_agent(agent, env, seed=0)
        except Exception:  # best effort: the run itself will report what is wrong
            logger.debug("preloading %s on %s failed", agent, env, exc_info=True)
        one_thread_per_worker()  # the backend may just have imported torch
    return os.getpid()


class LocalPool:
    """Runs on this machine, one per worker process.

    Used as a context manager, the pool's workers stay up across :meth:`run` calls (and
    :meth:`warm_up` can start them ahead): a worker's start-up (spawn, importing torch or
    TensorFlow) is paid once per worker, not once per sweep. Without it, each :meth:`run`
    starts its own workers and stops them at the end.

    Parameters
    ----------
    workers:
        Worker processes; default: the CPU count.
    batch_seeds:
        Train a cell's seeds side by side in one task where the agent can (:mod:`.batch`).
    """

    def __init__(self, workers: int | None = None, batch_seeds: bool = True) -> None:
        if workers is not None and workers <= 0:
            raise RLZooError(f"workers must be a positive number of processes, got {workers}")
        self.workers = workers or os.cpu_count() or 1
        self.batch_seeds = batch_seeds
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalPool:
        self._pool = self._start(self.workers)
        return self

    def __exit__(self, *exc: object) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _start(self, workers: int) -> ProcessPoolExecutor:
        # spawn, not fork: keras-rl2 switches TensorFlow to graph mode process-wide, and a
        # forked child would inherit whatever frameworks the driver had loaded.
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),))

    def warm_up(self, runs: Sequence[tuple[str, str]]) -> set[int]:
        """Start the workers and import the agents' backends in them (inside ``with LocalPool(...)``).

        Parameters
        ----------
        runs:
            ``(agent, env)`` pairs the coming runs need (see :func:`preload`).

        Returns
        -------
        set[int]
            The process ids of the workers that did the imports (a worker started later
            imports on its first run).
        """
        if self._pool is None:
            raise RLZooError("warm_up needs a running pool: use it inside `with LocalPool(...) as pool:`")
        # The executor spawns a worker per task submitted while none is idle: one task each.
        futures = [self._pool.submit(preload, list(runs)) for _ in range(self.workers)]
        return {future.result() for future in futures}

    def run(self, specs: Sequence[RunSpec], results_dir: pathlib.Path) -> Iterator[RunOutcome]:
        """Run every spec; yield each outcome as it finishes.

        Parameters
        ----------
        specs:
            The runs.
        results_dir:
            The results directory; workers publish run folders into it.

        Yields
        ------
        RunOutcome
        """
        if not specs:
            return
        tasks = group_runs(specs, self.batch_seeds)  # seeds side by side: one task per cell (rlzoo.experiments.batch)
        pool = self._pool or self._start(min(self.workers, len(tasks)))
        futures: dict[Future[list[RunOutcome]], list[RunSpec]] = {}
        try:
            futures = {pool.submit(perform_group, task, str(results_dir)): task for task in tasks}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    try:
                        yield from future.result()
                    except Exception as exc:  # the worker process itself died (killed, out of memory)
                        for spec in futures[future]:
                            yield RunOutcome(spec.run_id, "failed", error=f"worker process died: {exc!r}", finished=time.time())
        finally:
            if pool is self._pool:
                for future in futures:  # a sweep stopped early leaves the held pool idle
                    future.cancel()
            else:
                pool.shutdown(wait=True, cancel_futures=True)


class RayCluster:
    """Runs as Ray tasks (one CPU each) on a running cluster.

    Parameters
    ----------
    address:
        The cluster's address (``HOST:PORT``), or ``"auto"`` for the one this machine belongs to.
    shared_results:
        The results directory is on a file system every worker sees: workers publish run
        folders there themselves. Otherwise each run's files come back to the driver.
    batch_seeds:
        Train a cell's seeds side by side in one task where the agent can (:mod:`.batch`).
    """

    def __init__(self, address: str, shared_results: bool = False, batch_seeds: bool = True) -> None:
        self.address = address
        self.shared_results = shared_results
        self.batch_seeds = batch_seeds

    def run(self, specs: Sequence[RunSpec], results_dir: pathlib.Path) -> Iterator[RunOutcome]:
        """Run every spec as a Ray task; yield each outcome as it finishes (see :meth:`LocalPool.run`)."""
        if not specs:
            return
        try:
            import ray
        except ImportError as exc:
            raise MissingDependencyError("--ray", "ray") from exc
        try:
            ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
        except ConnectionError as exc:
            raise RLZooError(f"cannot reach a Ray cluster at {self.address!r} ({exc}); start one with `ray start --head`") from None
        try:
            remote = ray.remote(num_cpus=1, max_retries=0)(perform_group)
            target = str(results_dir.resolve()) if self.shared_results else None
            refs = {remote.remote(task, target): task for task in group_runs(specs, self.batch_seeds)}
            pending = list(refs)
            while pending:
                finished, pending = ray.wait(pending, num_returns=1)
                for ref in finished:
                    try:
                        yield from ray.get(ref)
                    except ray.exceptions.RayError as exc:  # the task's worker or node died
                        for spec in refs[ref]:
                            yield RunOutcome(spec.run_id, "failed", error=f"Ray task failed: {exc}", finished=time.time())
        finally:
            ray.shutdown()
