"""The confirmation stage of ``rlzoo tune``: re-train the best candidates on fresh seeds and choose.

The best trial of a search is often one lucky seed. After the search, the top K trials and
the preset in force are each trained and evaluated on N seeds disjoint from every seed the
search used (:func:`confirmation_seeds`), through the sweep machinery
(:func:`rlzoo.experiments.driver.sweep`: its SQLite index, its local pool or Ray), so a
killed confirmation resumes without redoing finished runs. Each candidate is a preset file
in the study's folder; its score is rliable's IQM of its seeds' final evaluations (100
greedy episodes of the kept weights), with a 95% stratified bootstrap CI. The choice is
by that IQM, ties broken by the CI's lower bound; the search's scores play no part.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from rlzoo.errors import RLZooError
from rlzoo.experiments.driver import SweepSummary, sweep
from rlzoo.experiments.grid import RunSpec
from rlzoo.experiments.stats import per_task_estimates
from rlzoo.experiments.store import Store
from rlzoo.files import atomic_write
from rlzoo.settings import PRESET_KEYS, TrainSettings

#: Confirmation seeds start here: above the search's seeds (0..K-1) and apart from the
#: README table's (benchmarks/grid.yml: 1000-1009).
CONFIRM_SEED_OFFSET = 2000
#: The label of the preset in force among the candidates.
IN_FORCE = "preset in force"


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One set of hyperparameters to confirm.

    Attributes
    ----------
    label: ``"trial N"`` or :data:`IN_FORCE`.
    trial: the trial's number; ``None`` for the preset in force.
    hyperparams: the agent's full hyperparameters.
    search_value: the trial's search score (shown, never used to choose); ``None`` for the preset in force.
    """

    label: str
    trial: int | None
    hyperparams: dict[str, Any]
    search_value: float | None = None


@dataclasses.dataclass(frozen=True)
class Confirmed:
    """A candidate's confirmation.

    Attributes
    ----------
    candidate: the candidate.
    preset: the preset file its runs trained with.
    scores: each confirmation seed's final score (the kept weights' 100-episode greedy mean), in seed order.
    iqm, low, high: rliable's IQM of ``scores`` and its 95% CI; NaN if a run failed.
    failed: seeds whose run failed (the candidate then cannot win).
    run_ids: its runs' ids in the sweep's index, in seed order.
    trained: the most env steps one of its runs trained (a rollout larger than the budget shows here).
    """

    candidate: Candidate
    preset: pathlib.Path
    scores: tuple[float, ...]
    iqm: float
    low: float
    high: float
    failed: tuple[int, ...] = ()
    run_ids: tuple[str, ...] = ()
    trained: int = 0


@dataclasses.dataclass(frozen=True)
class Confirmation:
    """What the confirmation stage found.

    Attributes
    ----------
    seeds: the confirmation seeds.
    ranked: every candidate's confirmation, best first (failed candidates last).
    folder: the sweep's results directory (index and run folders).
    sweep: the sweep's summary (runs done now, skipped as finished before).
    """

    seeds: tuple[int, ...]
    ranked: list[Confirmed]
    folder: pathlib.Path
    sweep: SweepSummary

    @property
    def winner(self) -> Confirmed:
        """The best candidate by confirmed IQM, then by the CI's lower bound."""
        return self.ranked[0]

    @property
    def in_force_won(self) -> bool:
        """Whether the preset in force is the winner (then no new preset is written)."""
        return self.winner.candidate.trial is None


def confirmation_seeds(count: int, search_seeds: Sequence[int]) -> tuple[int, ...]:
    """``count`` seeds from :data:`CONFIRM_SEED_OFFSET` (or above every search seed), disjoint from ``search_seeds``.

    Parameters
    ----------
    count:
        How many seeds.
    search_seeds:
        Every seed the search trained on.

    Returns
    -------
    tuple[int, ...]
    """
    start = max(CONFIRM_SEED_OFFSET, max(search_seeds, default=-1) + 1)
    return tuple(range(start, start + count))


def candidates(study: Any, top: int, in_force: dict[str, Any]) -> list[Candidate]:
    """The ``top`` best complete trials with distinct hyperparameters, then the preset in force.

    Parameters
    ----------
    study:
        The Optuna study.
    top:
        How many trials.
    in_force:
        The hyperparameters of the preset in force (a trial with the same ones is that preset).

    Returns
    -------
    list[Candidate]
    """
    import optuna  # the tune extra's dependency, loaded by the caller already

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    chosen: list[Candidate] = []
    seen = [_key(in_force)]
    for trial in sorted(complete, key=lambda t: (-t.value, t.number)):
        if len(chosen) == top:
            break
        hyperparams = dict(trial.user_attrs["hyperparams"])
        if _key(hyperparams) in seen:
            continue
        seen.append(_key(hyperparams))
        chosen.append(Candidate(f"trial {trial.number}", trial.number, hyperparams, float(trial.value)))
    return [*chosen, Candidate(IN_FORCE, None, dict(in_force))]


def _key(hyperparams: dict[str, Any]) -> str:
    return json.dumps(hyperparams, sort_keys=True)


def write_candidate_preset(folder: pathlib.Path, env: str, candidate: Candidate, train: TrainSettings) -> pathlib.Path:
    """The candidate's preset file in ``folder``, named by its content (so a changed candidate is a new file and new runs).

    Parameters
    ----------
    folder:
        Where the preset files go.
    env:
        The env id.
    candidate:
        The candidate.
    train:
        The study's resolved training settings (the budget every candidate trains with).

    Returns
    -------
    pathlib.Path
        The file (written only if it does not exist yet).
    """
    import yaml

    settings = {key: value for key, value in train.to_dict().items() if key in PRESET_KEYS}
    body = {env: {"train": settings, "hyperparams": json.loads(json.dumps(candidate.hyperparams))}}
    text = yaml.safe_dump(body, sort_keys=False, default_flow_style=None)
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    path = folder / f"{re.sub(r'[^A-Za-z0-9]+', '-', candidate.label)}-{digest}.yml"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as handle:
            handle.write(f"# Candidate {candidate.label!r} of rlzoo tune's confirmation stage.\n{text}".encode())
    return path


def confirm(
    agent: str,
    env: str,
    chosen: Sequence[Candidate],
    train: TrainSettings,
    seeds: Sequence[int],
    folder: pathlib.Path,
    *,
    workers: int | None = None,
    ray: str | None = None,
) -> Confirmation:
    """Train every candidate on every confirmation seed (a resumable sweep) and rank them.

    Parameters
    ----------
    agent, env:
        The agent name and env id.
    chosen:
        The candidates (:func:`candidates`).
    train:
        The study's resolved training settings: every run trains with them.
    seeds:
        The confirmation seeds (:func:`confirmation_seeds`).
    folder:
        The confirmation's folder: preset files in ``presets/``, the sweep's index and runs beside them.
    workers, ray:
        The sweep's local worker processes, or a Ray cluster's address.

    Returns
    -------
    Confirmation

    Raises
    ------
    RLZooError: every candidate had a failed run.
    """
    files = [write_candidate_preset(folder / "presets", env, candidate, train) for candidate in chosen]
    specs = {
        (index, seed): RunSpec(agent, env, seed, label=f"{agent} ({candidate.label})", preset=str(path.resolve()))
        for index, (candidate, path) in enumerate(zip(chosen, files, strict=True))
        for seed in seeds
    }
    summary = sweep(grid=list(specs.values()), out=folder, workers=workers, ray=ray)
    with Store(folder) as store:
        done = {row["run_id"]: row for row in store.rows("done")}
    results = []
    for index, (candidate, path) in enumerate(zip(chosen, files, strict=True)):
        run_ids = tuple(specs[index, seed].run_id for seed in seeds)
        rows = [done.get(run_id) for run_id in run_ids]
        failed = tuple(seed for seed, row in zip(seeds, rows, strict=True) if row is None)
        scores = tuple(float(row["final_mean"]) for row in rows if row is not None)
        trained = max((int(row["num_timesteps"]) for row in rows if row is not None), default=0)
        if failed or not scores:
            results.append(Confirmed(candidate, path, scores, float("nan"), float("nan"), float("nan"), failed, run_ids, trained))
            continue
        estimate = per_task_estimates({candidate.label: np.asarray(scores)[:, None]})[candidate.label]
        iqm, low, high = (float(array[0, 0]) for array in (estimate.point, estimate.low, estimate.high))
        results.append(Confirmed(candidate, path, scores, iqm, low, high, (), run_ids, trained))
    # Best IQM first, then the best CI's lower bound; on a full tie the preset in force stays.
    ranked = sorted(results, key=lambda c: (1, 0.0, 0.0, 0) if c.failed else (0, -c.iqm, -c.low, c.candidate.trial is not None))
    if ranked[0].failed:
        raise RLZooError(f"every confirmation candidate had a failed run: see the index in {folder}, then rerun to retry them")
    return Confirmation(tuple(seeds), ranked, folder, summary)


def describe(confirmation: Confirmation) -> str:
    """The confirmation as Markdown: seeds, then one row per candidate, best first."""
    seeds = confirmation.seeds
    lines = [
        "## Confirmation",
        "",
        f"Every candidate trained and evaluated on confirmation seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} seeds, "
        "disjoint from the search's); chosen by the IQM of the seeds' final scores (100 greedy episodes each), "
        "ties by the 95% CI's lower bound. The search score is shown, not used.",
        "",
        "| candidate | confirmed IQM [95% CI] | search score | steps trained (most) | seeds' final scores |",
        "|---|---|---:|---:|---|",
    ]
    for result in confirmation.ranked:
        search = "" if result.candidate.search_value is None else f"{result.candidate.search_value:.1f}"
        scored = (
            "failed on seeds " + ", ".join(map(str, result.failed))
            if result.failed
            else f"{result.iqm:.1f} [{result.low:.1f}, {result.high:.1f}]"
        )
        finals = ", ".join(f"{x:.1f}" for x in result.scores)
        lines.append(f"| {result.candidate.label} | {scored} | {search} | {result.trained} | {finals} |")
    winner = confirmation.winner.candidate.label
    verdict = "the preset in force won: no new preset written" if confirmation.in_force_won else f"{winner} won: best_preset.yml"
    return "\n".join([*lines, "", f"Chosen: {verdict}.", ""])
