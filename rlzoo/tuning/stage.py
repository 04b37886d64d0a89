"""The confirmation stage of one study: what it confirms, kept in the study so a killed stage
resumes on the same candidates and seeds, and the provenance of its winner.

The candidates and seeds are recorded as the study's user attribute :data:`MARKER` before
the first confirmation run starts (``status: running``) and marked ``done`` after the last.
``rlzoo tune`` run again while a stage is ``running`` finishes that stage first, without
searching further: the sweep's index skips the runs that finished.
"""

from __future__ import annotations

import datetime
import json
import pathlib
import zipfile
from typing import TYPE_CHECKING, Any

from rlzoo.experiments.run import RUNS_FOLDER
from rlzoo.manifest import MANIFEST
from rlzoo.presets import find_preset
from rlzoo.provenance import Provenance
from rlzoo.registry import get_agent
from rlzoo.tuning.confirm import IN_FORCE, Candidate, Confirmation, candidates, confirm, confirmation_seeds
from rlzoo.tuning.objective import TrialSettings, resolve_budget

if TYPE_CHECKING:
    import optuna

#: The study's user attribute that records its confirmation stage.
MARKER = "confirmation"


def confirming(study: optuna.Study) -> dict[str, Any] | None:
    """The study's unfinished confirmation stage (``status: running``), or ``None``."""
    marker = study.user_attrs.get(MARKER)
    return marker if isinstance(marker, dict) and marker.get("status") == "running" else None


def run_confirmation(
    study: optuna.Study,
    settings: TrialSettings,
    top: int,
    n_seeds: int,
    folder: pathlib.Path,
    workers: int,
    ray: str | None,
) -> Confirmation:
    """Confirm the study's ``top`` best trials and the preset in force on ``n_seeds`` fresh seeds,
    or finish the stage a killed command left running (its candidates and seeds).

    Parameters
    ----------
    study:
        The study, its search done.
    settings:
        The study's trial settings (their budget is resolved here; every candidate trains with it).
    top, n_seeds:
        Trials to confirm, and seeds per candidate.
    folder:
        The study's folder; the stage's sweep goes to ``folder/confirm``.
    workers, ray:
        The sweep's local worker processes, or a Ray cluster's address.

    Returns
    -------
    Confirmation
    """
    resolved = resolve_budget(settings).train
    assert resolved is not None
    in_force = find_preset(get_agent(settings.agent), settings.env, settings.preset).hyperparams
    pending = confirming(study)
    if pending is not None:
        trials = {trial.number: trial for trial in study.get_trials(deepcopy=False)}
        chosen = [
            Candidate(f"trial {number}", number, dict(trials[number].user_attrs["hyperparams"]), trials[number].value)
            for number in pending["trials"]
        ]
        chosen.append(Candidate(IN_FORCE, None, dict(in_force)))
        seeds = tuple(pending["seeds"])
    else:
        chosen = candidates(study, top, in_force)
        seeds = confirmation_seeds(n_seeds, settings.seeds)
        study.set_user_attr(MARKER, {"status": "running", "trials": [c.trial for c in chosen if c.trial is not None], "seeds": list(seeds)})
    result = confirm(settings.agent, settings.env, chosen, resolved, seeds, folder / "confirm", workers=workers, ray=ray)
    if not any(result.failed for result in result.ranked):  # a rerun retries the failed runs of a stage still running
        study.set_user_attr(MARKER, {**study.user_attrs[MARKER], "status": "done", "winner": result.winner.candidate.label})
    return result


def confirmed_provenance(study: optuna.Study, storage: str, settings: TrialSettings, confirmation: Confirmation) -> Provenance:
    """The provenance block of the confirmation's winner (see :mod:`rlzoo.provenance`).

    Parameters
    ----------
    study:
        The study.
    storage:
        Its storage URL (absolute).
    settings:
        The study's trial settings.
    confirmation:
        The stage's result; its winner is a trial.

    Returns
    -------
    Provenance
        With the package versions the winner's first confirmation run saved in its artifact.
    """
    winner = confirmation.winner
    resolved = resolve_budget(settings).train
    assert resolved is not None
    train = {key: value for key, value in resolved.to_dict().items() if key != "seed"}
    with zipfile.ZipFile(confirmation.folder / RUNS_FOLDER / winner.run_ids[0] / "agent.zip") as archive:
        versions = json.loads(archive.read(MANIFEST)).get("versions") or {}
    return Provenance(
        confirmed=True,
        search_seeds=tuple(settings.seeds),
        confirmation_seeds=confirmation.seeds,
        confirmed_iqm=round(winner.iqm, 3),
        confirmed_ci=(round(winner.low, 3), round(winner.high, 3)),
        train=train,
        study={"name": study.study_name, "storage": storage, "trial": winner.candidate.trial},
        versions={str(name): str(version) for name, version in versions.items()},
        date=datetime.date.today().isoformat(),
    )
