"""A named study in its storage: open or join it, run worker processes, clean up after
killed ones.

Any number of processes, on any number of machines, join one study by passing the same
storage and study name (``create_study(load_if_exists=True)``). Each worker is a separate
process (spawned: keras-rl2 puts TensorFlow in graph mode for its whole process) with one
intra-op thread per framework.

A process killed mid-trial leaves its trial RUNNING in the storage. Two things turn such
trials into FAIL, so they never count as complete: on start, a worker fails every RUNNING
trial that a process of this host started and that is no longer alive (each trial records
its host and pid); with a database storage, Optuna's heartbeat also fails trials whose
process stopped beating, on any machine, after a grace period.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pathlib
import socket
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any

from rlzoo.errors import MissingDependencyError, RLZooError
from rlzoo.threads import one_thread_per_worker
from rlzoo.tuning.objective import TrialFailed, TrialSettings, resolve_budget, run_trial

if TYPE_CHECKING:
    import optuna
    from optuna.trial import Trial  # _optimize's local `optuna` (the module, typed Any) shadows the module name

logger = logging.getLogger(__name__)

SAMPLERS = ("tpe", "random")
PRUNERS = ("median", "halving", "hyperband", "none")

# Database storages beat every HEARTBEAT_S; a RUNNING trial silent for GRACE_S is failed.
HEARTBEAT_S = 30
GRACE_S = 120


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Where a study lives and how its workers search.

    Attributes
    ----------
    storage: an SQLAlchemy URL (``sqlite:///runs/tune/study.db``, ``postgresql://...``), or an
        Optuna journal file: ``journal:PATH`` or a path ending in ``.log``.
    study_name: the study's name in the storage.
    sampler: a name from :data:`SAMPLERS`, or an ``optuna.samplers.BaseSampler``.
    pruner: a name from :data:`PRUNERS`, or an ``optuna.pruners.BasePruner``.
    seed: seeds the sampler (each worker adds its own offset); ``None``: random.
    """

    storage: str
    study_name: str
    sampler: Any = "tpe"
    pruner: Any = "median"
    seed: int | None = None


def import_optuna() -> Any:
    """``optuna``, or a :class:`MissingDependencyError` naming the ``tune`` extra."""
    try:
        import optuna
    except ImportError as exc:
        raise MissingDependencyError("rlzoo tune", "tune") from exc
    return optuna


def make_storage(url: str) -> Any:
    """The Optuna storage ``url`` names.

    Parameters
    ----------
    url:
        ``journal:PATH`` or a path ending in ``.log``: a journal file (any shared file
        system; no database needed). Anything else: an SQLAlchemy URL, with Optuna's
        heartbeat on.

    Returns
    -------
    optuna.storages.BaseStorage
    """
    optuna = import_optuna()
    if url.startswith("journal:") or url.endswith(".log"):
        from optuna.storages.journal import JournalFileBackend

        path = pathlib.Path(url.removeprefix("journal:"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    if "://" not in url:
        raise RLZooError(
            f"storage {url!r} is neither an SQLAlchemy URL (sqlite:///runs/tune/study.db) nor a journal file (journal:PATH or PATH.log)"
        )
    if url.startswith("sqlite:///"):
        pathlib.Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # SQLite serialises writers: several workers wait for the lock instead of failing at once.
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    import sqlalchemy.exc

    for attempt in range(5):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeat's flag, stable since Optuna 2.9
                return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError):
            # Processes that open a new database at the same moment all try to create its
            # tables; the losers fail on alembic_version's unique key. The tables exist now.
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def make_sampler(sampler: Any, seed: int | None) -> Any:
    """The sampler ``sampler`` names (an instance passes through)."""
    optuna = import_optuna()
    if not isinstance(sampler, str):
        return sampler
    if sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise RLZooError(f"unknown sampler {sampler!r}: valid samplers are {', '.join(SAMPLERS)}")


def make_pruner(pruner: Any, warmup_steps: int) -> Any:
    """The pruner ``pruner`` names (an instance passes through). None prunes before
    ``warmup_steps``, the steps being env steps trained (see :class:`~rlzoo.tuning.objective.ReportEvaluations`)."""
    optuna = import_optuna()
    if not isinstance(pruner, str):
        return pruner
    warmup = max(warmup_steps, 1)
    if pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=warmup)
    if pruner == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=warmup)
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=warmup)
    if pruner == "none":
        return optuna.pruners.NopPruner()
    raise RLZooError(f"unknown pruner {pruner!r}: valid pruners are {', '.join(PRUNERS)}")


def open_study(config: StudyConfig, *, seed_offset: int = 0, warmup_steps: int = 1) -> optuna.Study:
    """Create the study, or load it if it exists (a study to join or to resume).

    Parameters
    ----------
    config:
        Storage, name, sampler, pruner.
    seed_offset:
        Added to ``config.seed`` (workers must not all draw the same samples).
    warmup_steps:
        Env steps a trial trains before a pruner may stop it.

    Returns
    -------
    optuna.Study
    """
    optuna = import_optuna()
    seed = None if config.seed is None else config.seed + seed_offset
    return optuna.create_study(
        storage=make_storage(config.storage),
        study_name=config.study_name,
        direction="maximize",
        load_if_exists=True,
        sampler=make_sampler(config.sampler, seed),
        pruner=make_pruner(config.pruner, warmup_steps),
    )


def fail_dead_trials(study: optuna.Study) -> list[int]:
    """Mark FAIL every RUNNING trial whose process, on this host, is gone.

    Parameters
    ----------
    study:
        The study.

    Returns
    -------
    list[int]
        The numbers of the trials marked FAIL.
    """
    optuna = import_optuna()
    host = socket.gethostname()
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker") or {}
        if worker.get("host") == host and not _alive(int(worker["pid"])):
            # Optuna has no public verb to fail another process's trial: storages are keyed by
            # trial id, which FrozenTrial keeps as _trial_id, and Study keeps its storage as _storage.
            study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
            failed.append(trial.number)
    if failed:
        logger.warning("marked trials %s FAIL: their processes on %s died while running them", failed, host)
    return failed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _die_with_parent() -> None:
    # A worker whose `rlzoo tune` was killed would otherwise finish its trial as an orphan.
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def work(config: StudyConfig, settings: TrialSettings, n_trials: int | None, timeout: float | None, index: int) -> None:
    """One worker process: run up to ``n_trials`` trials of the study (or until ``timeout``).

    Parameters
    ----------
    config:
        The study.
    settings:
        What every trial does.
    n_trials:
        Trials this worker runs (``None``: until ``timeout``).
    timeout:
        Seconds after which the worker starts no new trial.
    index:
        The worker's index (offsets the sampler's seed).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    one_thread_per_worker()
    _die_with_parent()
    try:
        _optimize(config, settings, n_trials, timeout, index)
    except RLZooError as exc:
        # Subclasses take several constructor arguments and would not unpickle in the parent.
        raise RLZooError(str(exc)) from None


def _optimize(config: StudyConfig, settings: TrialSettings, n_trials: int | None, timeout: float | None, index: int) -> None:
    optuna = import_optuna()
    # Optuna logs a failed trial's traceback; the storage keeps each failure and the summary counts them.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    settings = resolve_budget(settings)  # imports the agent's backend
    one_thread_per_worker()  # told through the frameworks' own APIs now that they are loaded
    assert settings.train is not None
    warmup = settings.train.total_timesteps // 3  # a third of the first seed's training
    study = open_study(config, seed_offset=index + 1000 * len(study_trials(config)), warmup_steps=warmup)
    fail_dead_trials(study)
    worker = {"host": socket.gethostname(), "pid": os.getpid()}

    def objective(trial: Trial) -> float:
        trial.set_user_attr("worker", worker)
        return run_trial(trial, settings)

    study.optimize(objective, n_trials=n_trials, timeout=timeout, catch=(TrialFailed,))


def study_trials(config: StudyConfig) -> list[Any]:
    """The trials of the study so far (none if it does not exist yet)."""
    optuna = import_optuna()
    try:
        return optuna.load_study(study_name=config.study_name, storage=make_storage(config.storage)).get_trials(deepcopy=False)
    except KeyError:
        return []


def run_workers(config: StudyConfig, settings: TrialSettings, n_trials: int | None, timeout: float | None, n_jobs: int) -> None:
    """Run ``n_jobs`` worker processes, each for ``n_trials`` trials, and wait for them all.

    Raises
    ------
    RLZooError: a worker stopped on an error (the first one is raised).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if n_jobs < 1:
        raise RLZooError(f"n_jobs must be at least 1, got {n_jobs}")
    # The study must exist before workers race to create it.
    open_study(config)
    with ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(work, config, settings, n_trials, timeout, index) for index in range(n_jobs)]
        for future in futures:
            future.result()
