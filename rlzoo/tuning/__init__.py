"""Hyperparameter tuning with Optuna: ``rlzoo.tune`` and ``rlzoo tune``.

- :mod:`rlzoo.tuning.spaces`: search spaces per backend (YAML overrides).
- :mod:`rlzoo.tuning.objective`: one trial (sample, train on K seeds, report evaluations).
- :mod:`rlzoo.tuning.study`: the named study in its storage, worker processes, cleanup of
  trials whose process died.
- :mod:`rlzoo.tuning.outputs`: best preset YAML, summary, plots.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
from typing import Any

from rlzoo.errors import UnknownAgentError
from rlzoo.registry import list_agents, make_env
from rlzoo.tuning import checks, outputs
from rlzoo.tuning.objective import TrialSettings
from rlzoo.tuning.spaces import space_for
from rlzoo.tuning.study import PRUNERS, SAMPLERS, StudyConfig, import_optuna, make_storage, open_study, run_workers


@dataclasses.dataclass(frozen=True)
class TuneResult:
    """What :func:`tune` leaves behind.

    Attributes
    ----------
    study_name, storage: where the study lives (pass them to ``optuna.load_study``).
    folder: the study's output folder.
    counts: trials by state (``COMPLETE``, ``PRUNED``, ``FAIL``, ...), all processes' together.
    best_value: the best complete trial's objective, or ``None``.
    best_hyperparams: its hyperparameters (preset merged with the sample), or ``None``.
    preset: the best preset YAML, or ``None`` if no trial completed.
    summary: the Markdown summary.
    plots: the PNG plots written.
    """

    study_name: str
    storage: str
    folder: pathlib.Path
    counts: dict[str, int]
    best_value: float | None
    best_hyperparams: dict[str, Any] | None
    preset: pathlib.Path | None
    summary: pathlib.Path
    plots: list[pathlib.Path]


def study_folder(out: str | pathlib.Path, study_name: str) -> pathlib.Path:
    """``out/<study name>``, the name made safe as one folder name."""
    return pathlib.Path(out) / re.sub(r"[^A-Za-z0-9._-]+", "_", study_name)


def tune(
    agent: str,
    env: str,
    *,
    trials: int | None = 20,
    steps: int | None = None,
    timeout: float | None = None,
    out: str | pathlib.Path = "runs/tune",
    storage: str | None = None,
    study_name: str | None = None,
    sampler: Any = "tpe",
    pruner: Any = "median",
    seeds_per_trial: int = 1,
    n_jobs: int = 1,
    space: str | pathlib.Path | dict[str, Any] | None = None,
    eval_every: int | None = None,
    eval_episodes: int | None = None,
    seed: int | None = None,
    enqueue: list[dict[str, Any]] | None = None,
    force: bool = False,
) -> TuneResult:
    """Tune an agent's hyperparameters on an env with Optuna, then write the best preset,
    a summary and plots into ``out/<study name>/``.

    Running it again with the same storage and study name continues the study; running it
    from several processes or machines at once makes them share it.

    Parameters
    ----------
    agent, env:
        A registered agent name and an env id.
    trials:
        Trials *each worker process* runs in this call (``n_jobs * trials`` in all), on top
        of those the study already has. ``None``: until ``timeout``.
    steps:
        Training steps per seed of a trial (default: the preset's).
    timeout:
        Seconds after which workers start no new trial.
    out:
        The output root; the study's folder is ``out/<study name>``.
    storage:
        An SQLAlchemy URL or a journal file (``journal:PATH``, ``PATH.log``); default
        ``sqlite:///<out>/study.db``.
    study_name:
        Default ``"<agent>__<env>"``.
    sampler, pruner:
        Names (``"tpe"``, ``"random"``; ``"median"``, ``"halving"``, ``"hyperband"``,
        ``"none"``) or Optuna objects.
    seeds_per_trial:
        Each trial trains on seeds 0..K-1 (the same for every trial) and scores the mean.
    n_jobs:
        Worker processes, each with one intra-op thread.
    space:
        A YAML file or dict merged over the backend's search space
        (:mod:`rlzoo.tuning.spaces`).
    eval_every, eval_episodes:
        Periodic evaluation of each trial. These and ``steps`` resolve as for
        :func:`rlzoo.train` (:mod:`rlzoo.settings`: the argument, then the preset, then
        every tenth of the steps over 10 episodes), and the resolved settings are recorded
        on each trial and in ``best_preset.yml``.
    seed:
        Seeds the sampler (offset per worker); ``None``: random.
    enqueue:
        Points to try first, each a mapping of the search space's parameter names to
        values (Optuna's ``enqueue_trial``), e.g. the preset in force.
    force:
        Join an existing study of this name even if it tunes another agent or env, or
        minimises, or has several objectives (refused otherwise: the trials would mix).

    Returns
    -------
    TuneResult
    """
    import_optuna()
    known = [entry.name for entry in list_agents()]
    if agent not in known:
        raise UnknownAgentError(agent, known, "rlzoo list shows them all")
    make_env(env).close()  # an unknown id fails here, with the closest ids, not in every worker
    values = {"trials": trials, "steps": steps, "timeout": timeout, "seeds_per_trial": seeds_per_trial, "n_jobs": n_jobs,
              "eval_every": eval_every, "eval_episodes": eval_episodes, "seed": seed, "force": force, "enqueue": enqueue}  # fmt: skip
    checks.check_arguments(values, sampler, pruner, SAMPLERS, PRUNERS)
    if trials is None and timeout is None:
        raise ValueError("give trials, timeout or both: without either the study never ends")
    out = checks.check_out(out)
    space = checks.checked_space(space)
    study_name = study_name if study_name is not None else f"{agent}__{env}"
    folder = study_folder(out, checks.check_study_name(study_name, out, study_folder(out, str(study_name))))
    storage = checks.check_storage(storage if storage is not None else f"sqlite:///{out / 'study.db'}")
    config = StudyConfig(storage, study_name, sampler, pruner, seed)
    checks.check_study(checks.open_storage(storage, make_storage), study_name, agent, env, force)
    if enqueue:
        opened = open_study(config)
        for params in enqueue:
            opened.enqueue_trial(dict(params), skip_if_exists=True)
    settings = TrialSettings(agent, env, space_for(agent, space), steps, tuple(range(seeds_per_trial)), eval_every, eval_episodes)
    run_workers(config, settings, trials, timeout, n_jobs)

    study = open_study(config)
    best = outputs.best_trial(study)
    folder.mkdir(parents=True, exist_ok=True)
    return TuneResult(
        study_name=study_name,
        storage=storage,
        folder=folder,
        counts=outputs.count_states(study),
        best_value=None if best is None else best.value,
        best_hyperparams=None if best is None else best.user_attrs["hyperparams"],
        preset=outputs.write_preset(study, env, folder / "best_preset.yml"),
        summary=outputs.write_summary(study, folder / "summary.md"),
        plots=outputs.write_plots(study, folder),
    )


__all__ = ["TuneResult", "tune"]
