"""Hyperparameter tuning with Optuna: ``rlzoo.tune`` and ``rlzoo tune``.

- :mod:`rlzoo.tuning.spaces`: search spaces per backend (YAML overrides).
- :mod:`rlzoo.tuning.objective`: one trial (sample, train on K seeds, report evaluations).
- :mod:`rlzoo.tuning.study`: the named study in its storage, worker processes, cleanup of
  trials whose process died.
- :mod:`rlzoo.tuning.confirm`: the confirmation stage: the best candidates re-trained on
  fresh seeds through the sweep machinery, chosen by confirmed IQM.
- :mod:`rlzoo.tuning.stage`: a study's confirmation stage, resumable, and its winner's provenance.
- :mod:`rlzoo.tuning.outputs`: best preset YAML (with its provenance), summary, plots.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
from typing import Any

from rlzoo.errors import UnknownAgentError
from rlzoo.provenance import Provenance
from rlzoo.registry import list_agents, make_env
from rlzoo.tuning import checks, outputs
from rlzoo.tuning.confirm import Confirmation, describe
from rlzoo.tuning.objective import TrialSettings
from rlzoo.tuning.spaces import space_for
from rlzoo.tuning.stage import confirmed_provenance, confirming, run_confirmation
from rlzoo.tuning.study import PRUNERS, SAMPLERS, StudyConfig, import_optuna, make_storage, open_study, run_workers


@dataclasses.dataclass(frozen=True)
class TuneResult:
    """What :func:`tune` leaves behind.

    Attributes
    ----------
    study_name, storage: where the study lives (pass them to ``optuna.load_study``); the storage as an absolute URL.
    folder: the study's output folder.
    counts: trials by state (``COMPLETE``, ``PRUNED``, ``FAIL``, ...), all processes' together.
    best_value: the search's best objective (not what chose the preset when confirmation ran), or ``None``.
    best_hyperparams: the chosen hyperparameters: the confirmation's winner (the preset in
        force's when it wins), else the search's best trial's; ``None`` if no trial completed.
    preset: the best preset YAML written, or ``None`` (no trial completed, or the preset in force won).
    summary: the Markdown summary.
    plots: the PNG plots written.
    confirmation: the confirmation stage's result, or ``None`` (``confirm_top=0``, or no trial completed).
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
    confirmation: Confirmation | None = None


def study_folder(out: str | pathlib.Path, study_name: str) -> pathlib.Path:
    """``out/<study name>``, the name made safe as one folder name."""
    return pathlib.Path(out) / re.sub(r"[^A-Za-z0-9._-]+", "_", study_name)


def absolute_storage(url: str) -> str:
    """``url`` with a relative SQLite or journal path made absolute (optuna-dashboard then opens it from any folder)."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return "sqlite:///" + str(pathlib.Path(url.removeprefix("sqlite:///")).resolve())
    if url.startswith("journal:"):
        return "journal:" + str(pathlib.Path(url.removeprefix("journal:")).resolve())
    if "://" not in url and url.endswith(".log"):
        return str(pathlib.Path(url).resolve())
    return url


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
    confirm_top: int = 3,
    confirm_seeds: int = 10,
    ray: str | None = None,
    preset: str | pathlib.Path | None = None,
    force: bool = False,
) -> TuneResult:
    """Tune an agent's hyperparameters on an env with Optuna, confirm the best on fresh seeds,
    then write the chosen preset, a summary and plots into ``out/<study name>/``.

    Running it again with the same storage and study name continues the study; running it
    from several processes or machines at once makes them share it. A confirmation killed
    mid-way resumes first when the command runs again (its finished runs are kept), without
    searching further.

    Parameters
    ----------
    agent, env:
        A registered agent name and an env id.
    trials:
        Trials *each worker process* runs in this call (``n_jobs * trials`` in all), on top
        of those the study already has. ``None``: until ``timeout``.
    steps:
        Training steps per seed of a trial (default: the preset's). A trial trains them
        rounded up by at most one rollout; a sampled rollout larger than this is pruned.
    timeout:
        Seconds after which workers start no new trial.
    out:
        The output root; the study's folder is ``out/<study name>``.
    storage:
        An SQLAlchemy URL or a journal file (``journal:PATH``, ``PATH.log``); default
        ``sqlite:///<out>/study.db``. Relative paths are made absolute.
    study_name:
        Default ``"<agent>__<env>"``.
    sampler, pruner:
        Names (``"tpe"``, ``"random"``; ``"median"``, ``"halving"``, ``"hyperband"``,
        ``"none"``) or Optuna objects.
    seeds_per_trial:
        Each trial trains on seeds 0..K-1 (the same for every trial) and scores the mean.
    n_jobs:
        Worker processes, each with one intra-op thread (the search's, and the confirmation's local pool).
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
    confirm_top:
        After the search, re-train the best ``confirm_top`` trials and the preset in force
        (the agent's own preset for ``env``) on ``confirm_seeds`` fresh seeds and choose by
        confirmed IQM (:mod:`rlzoo.tuning.confirm`). ``0``: no confirmation; the search's
        best trial is written, marked not confirmed.
    confirm_seeds:
        Confirmation seeds per candidate, from :data:`~rlzoo.tuning.confirm.CONFIRM_SEED_OFFSET`.
    ray:
        A Ray cluster's address (or ``"auto"``): run the confirmation there instead of locally.
    preset:
        The preset in force: a name (``recipe``) or YAML file whose hyperparameters and
        training settings every trial starts from and the confirmation compares against;
        default the agent's own preset for ``env``.
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
              "eval_every": eval_every, "eval_episodes": eval_episodes, "seed": seed, "force": force, "enqueue": enqueue,
              "confirm_top": confirm_top, "confirm_seeds": confirm_seeds}  # fmt: skip
    checks.check_arguments(values, sampler, pruner, SAMPLERS, PRUNERS)
    if trials is None and timeout is None:
        raise ValueError("give trials, timeout or both: without either the study never ends")
    out = checks.check_out(out)
    space = checks.checked_space(space)
    study_name = study_name if study_name is not None else f"{agent}__{env}"
    folder = study_folder(out, checks.check_study_name(study_name, out, study_folder(out, str(study_name))))
    storage = absolute_storage(checks.check_storage(storage if storage is not None else f"sqlite:///{out / 'study.db'}"))
    config = StudyConfig(storage, study_name, sampler, pruner, seed)
    checks.check_study(checks.open_storage(storage, make_storage), study_name, agent, env, force)
    if enqueue:
        opened = open_study(config)
        for params in enqueue:
            opened.enqueue_trial(dict(params), skip_if_exists=True)
    search_seeds = tuple(range(seeds_per_trial))
    in_force = (
        None if preset is None else str(pathlib.Path(preset).resolve()) if pathlib.Path(preset).suffix in (".yml", ".yaml") else str(preset)
    )
    settings = TrialSettings(agent, env, space_for(agent, space), steps, search_seeds, eval_every, eval_episodes, preset=in_force)
    pending = confirm_top > 0 and confirming(open_study(config)) is not None
    if not pending:  # a killed confirmation is finished first, on the candidates it chose
        run_workers(config, settings, trials, timeout, n_jobs)

    study = open_study(config)
    folder.mkdir(parents=True, exist_ok=True)
    best = outputs.best_trial(study)
    confirmation = None
    written: pathlib.Path | None = None
    chosen = None if best is None else best.user_attrs["hyperparams"]
    if best is not None and confirm_top > 0:
        confirmation = run_confirmation(study, settings, confirm_top, confirm_seeds, folder, n_jobs, ray)
        chosen = confirmation.winner.candidate.hyperparams
        if not confirmation.in_force_won:
            number = confirmation.winner.candidate.trial
            assert number is not None  # a trial, since the preset in force did not win
            written = outputs.write_preset(
                study,
                env,
                folder / "best_preset.yml",
                confirmed_provenance(study, storage, settings, confirmation),
                trial=study.trials[number],
            )
    elif best is not None:
        reason = "rlzoo tune ran with confirm_top=0: the search's best trial, on its search seeds only"
        unconfirmed = Provenance(
            False, settings.seeds, (), reason=reason, study={"name": study_name, "storage": storage, "trial": best.number}
        )
        written = outputs.write_preset(study, env, folder / "best_preset.yml", unconfirmed)
    summary = outputs.write_summary(study, folder / "summary.md", "" if confirmation is None else describe(confirmation))
    return TuneResult(
        study_name=study_name,
        storage=storage,
        folder=folder,
        counts=outputs.count_states(study),
        best_value=None if best is None else best.value,
        best_hyperparams=chosen,
        preset=written,
        summary=summary,
        plots=outputs.write_plots(study, folder),
        confirmation=confirmation,
    )


__all__ = ["TuneResult", "tune"]
