"""Where runs execute: a local process pool, or tasks on a Ray cluster.

An executor only hands runs out and yields their :class:`RunOutcome` as they finish; the
driver (:mod:`rlzoo.experiments.driver`) owns every write to the index.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pathlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from rlzoo import checks
from rlzoo.builder import make_agent
from rlzoo.errors import MissingDependencyError, RLZooError
from rlzoo.experiments.batch import group_runs, perform_group
from rlzoo.experiments.grid import RunSpec
from rlzoo.experiments.run import RunOutcome
from rlzoo.quiet import quiet_frameworks
from rlzoo.threads import one_thread_per_worker

logger = logging.getLogger(__name__)

#: Times a Ray task is retried when its worker process or node dies (a run's own error is never retried).
MAX_RETRIES = 3
#: Seconds to wait for a Ray cluster's address to answer before giving up.
CONNECT_TIMEOUT = 30.0


class ClusterError(RLZooError):
    """A Ray cluster that cannot be used: a bad or unreachable address."""


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
    keep_agents:
        Save each trained agent in its run folder (see :func:`rlzoo.experiments.run.perform`).
    """

    def __init__(self, workers: int | None = None, batch_seeds: bool = True, keep_agents: bool = True) -> None:
        if workers is not None and (not checks.is_int(workers) or workers <= 0):
            raise RLZooError(f"workers must be a positive number of processes, got {checks.shown(workers)}")
        self.workers = workers or os.cpu_count() or 1
        self.batch_seeds = batch_seeds
        self.keep_agents = keep_agents
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalPool:
        self._pool = self._start(self.workers)
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        pool, self._pool = self._pool, None
        if pool is not None and kind is not None:
            terminate(pool)  # interrupted: its runs are redone by a rerun, not waited for
        elif pool is not None:
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
            futures = {pool.submit(perform_group, task, str(results_dir), self.keep_agents): task for task in tasks}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    try:
                        yield from future.result()
                    except Exception as exc:  # the worker process itself died (killed, out of memory)
                        for spec in futures[future]:
                            yield RunOutcome(spec.run_id, "failed", error=f"worker process died: {exc!r}", finished=time.time())
        except BaseException:  # Ctrl-C, SIGTERM (rlzoo sweep raises KeyboardInterrupt), the driver closing early
            if pool is not self._pool:
                terminate(pool)  # now, not after the runs under way (minutes): a rerun redoes them
            raise
        finally:
            if pool is self._pool:
                for future in futures:  # a sweep stopped early leaves the held pool idle
                    future.cancel()
            else:
                pool.shutdown(wait=True, cancel_futures=True)


def terminate(pool: ProcessPoolExecutor, grace: float = 10.0) -> None:
    """Stop a pool's worker processes now, whatever they are running.

    ``ProcessPoolExecutor.shutdown`` waits for the tasks under way, and the public
    ``terminate_workers`` only comes with Python 3.14, so this reads the executor's own map
    of its processes (``_processes``, there since Python 3.2).

    Parameters
    ----------
    pool:
        The executor.
    grace:
        Seconds each worker gets to exit after SIGTERM before it is killed.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(grace)
        if process.is_alive():
            process.kill()
            process.join(grace)
    pool.shutdown(wait=True, cancel_futures=True)


def check_address(address: Any) -> str:
    """A Ray address as given to ``--ray``: ``"auto"`` or ``HOST:PORT``, checked without connecting.

    Parameters
    ----------
    address:
        The address.

    Returns
    -------
    str

    Raises
    ------
    ClusterError
        Anything else, saying what is valid.
    """
    wanted = "a Ray cluster's address is HOST:PORT (as `ray start --head` prints it) or auto"
    if not isinstance(address, str) or not address.strip():
        raise ClusterError(f"{wanted}, got {checks.shown(address)}")
    if address == "auto" or address.startswith("ray://"):
        return address
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ClusterError(f"{wanted}, got {address!r}")
    return address


def reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Refuse, within ``timeout`` seconds, an address where nothing answers (``ray.init`` would retry without end)."""
    if address == "auto" or address.startswith("ray://"):
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        raise ClusterError(
            f"cannot reach a Ray cluster at {address!r} ({reason} within {timeout:g} s): "
            "check the address, or start one with `ray start --head`"
        ) from None


def _quiet_ray(ray: Any) -> None:
    """Keep Ray's own messages (connection warnings, a lost raylet's state dump) out of rlzoo's output.

    Ray 2.x prints every error the cluster publishes to the driver's stdout from a background
    thread (``ray._private.worker.listen_error_messages``, started by ``ray.init`` with no
    switch to turn it off): a raylet killed mid-sweep printed its "Raylet is terminated" block
    and some 30 ``[state-dump]`` lines, and "Task perform failed ... will be retried" besides.
    Its printer is swapped for one that logs at DEBUG (``rlzoo -v`` shows nothing more either:
    the failure that matters reaches the driver as the run's own outcome).
    """
    for name in ("ray", "ray._private", "ray.worker"):
        logging.getLogger(name).setLevel(logging.ERROR)
    worker = getattr(getattr(ray, "_private", None), "worker", None)
    if worker is not None and hasattr(worker, "print_to_stdstream"):

        def to_debug_log(data: dict[str, Any], ignore_prefix: bool = False) -> None:
            logger.debug("ray: %s", " ".join(" ".join(str(line) for line in data.get("lines", [])).split())[:2000])

        worker.print_to_stdstream = to_debug_log


class RayCluster:
    """Runs as Ray tasks (one CPU each) on a running cluster.

    The driver stays the only writer of the index: a task that is retried after its node
    died still returns one outcome, which the driver records once.

    Parameters
    ----------
    address:
        The cluster's address (``HOST:PORT``), or ``"auto"`` for the one this machine belongs to.
    shared_results:
        The results directory is on a file system every worker sees: workers publish run
        folders there themselves. Otherwise each run's files come back to the driver.
    batch_seeds:
        Train a cell's seeds side by side in one task where the agent can (:mod:`.batch`).
    keep_agents:
        Save each trained agent in its run folder (see :func:`rlzoo.experiments.run.perform`).
    max_retries:
        Times a run is retried when its worker or node dies (system failures only: a run
        that fails on its own comes back as failed, once).
    connect_timeout:
        Seconds to wait for the address to answer.
    """

    def __init__(
        self,
        address: str,
        shared_results: bool = False,
        batch_seeds: bool = True,
        keep_agents: bool = True,
        max_retries: int = MAX_RETRIES,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self.address = check_address(address)
        if not checks.is_int(max_retries) or not 0 <= max_retries <= 100:
            raise ClusterError(f"max_retries must be an int from 0 to 100, got {checks.shown(max_retries)}")
        if checks.number(above=0)(connect_timeout) is not None:
            raise ClusterError(f"connect_timeout must be a positive number of seconds, got {checks.shown(connect_timeout)}")
        self.shared_results = shared_results
        self.batch_seeds = batch_seeds
        self.keep_agents = keep_agents
        self.max_retries = int(max_retries)
        self.connect_timeout = float(connect_timeout)

    def run(self, specs: Sequence[RunSpec], results_dir: pathlib.Path) -> Iterator[RunOutcome]:
        """Run every spec as a Ray task; yield each outcome as it finishes (see :meth:`LocalPool.run`)."""
        if not specs:
            return
        try:
            import ray  # heavy optional dependency (the ray extra)
        except ImportError as exc:
            raise MissingDependencyError("--ray", "ray") from exc
        reachable(self.address, self.connect_timeout)
        _quiet_ray(ray)
        try:
            ray.init(address=self.address, logging_level=logging.ERROR, log_to_driver=False)
        except (ConnectionError, TimeoutError, ValueError, RuntimeError) as exc:
            raise ClusterError(f"cannot join the Ray cluster at {self.address!r}: {' '.join(str(exc).split())[:300]}") from None
        try:
            remote = ray.remote(num_cpus=1, max_retries=self.max_retries, retry_exceptions=False)(perform_group)
            target = str(results_dir.resolve()) if self.shared_results else None
            refs = {remote.remote(task, target, self.keep_agents): task for task in group_runs(specs, self.batch_seeds)}
            pending = list(refs)
            while pending:
                finished, pending = ray.wait(pending, num_returns=1)
                for ref in finished:
                    try:
                        yield from ray.get(ref)
                    except ray.exceptions.RayError as exc:  # its worker or node died more often than it is retried
                        reason = " ".join(str(exc).split())[:300]
                        error = f"Ray task failed after {self.max_retries} retries: {type(exc).__name__}: {reason}"
                        for spec in refs[ref]:
                            yield RunOutcome(spec.run_id, "failed", error=error, finished=time.time())
        finally:
            ray.shutdown()
