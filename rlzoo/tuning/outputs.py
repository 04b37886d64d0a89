"""What a study leaves in its folder: the best preset, a summary, plots."""

from __future__ import annotations

import logging
import pathlib
from typing import TYPE_CHECKING, Any

from rlzoo.files import atomic_write
from rlzoo.provenance import Provenance
from rlzoo.settings import PRESET_KEYS

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

PLOTS = {
    "optimization_history.png": "plot_optimization_history",
    "param_importances.png": "plot_param_importances",
    "parallel_coordinate.png": "plot_parallel_coordinate",
}


def count_states(study: optuna.Study) -> dict[str, int]:
    """Trials by state name (``COMPLETE``, ``PRUNED``, ``FAIL``, ``RUNNING``, ``WAITING``)."""
    import optuna

    counts = {state.name: 0 for state in optuna.trial.TrialState}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name] += 1
    return counts


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The best COMPLETE trial, or ``None`` if none completed."""
    import optuna

    if not study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        return None
    return study.best_trial


def preset_of(trial: optuna.trial.FrozenTrial, env: str, provenance: Provenance | None = None) -> dict[str, Any]:
    """The trial's settings in the format of ``agents/presets/*.yml``:
    ``{env: {train: {...}, hyperparams: {...}, provenance: {...}}}``."""
    train = {key: value for key, value in trial.user_attrs["train"].items() if key in PRESET_KEYS}
    body: dict[str, Any] = {"train": train, "hyperparams": dict(trial.user_attrs["hyperparams"])}
    if provenance is not None:
        body["provenance"] = provenance.to_dict()
    return {env: body}


def write_preset(
    study: optuna.Study, env: str, path: pathlib.Path, provenance: Provenance, trial: optuna.trial.FrozenTrial | None = None
) -> pathlib.Path | None:
    """Write a trial as a preset YAML (usable by ``rlzoo train --preset`` and
    ``make_agent(..., preset=...)``); nothing if no trial completed.

    Parameters
    ----------
    study:
        The study.
    env:
        The env id (the preset's key).
    path:
        The file to write.
    provenance:
        Where the preset came from (:mod:`rlzoo.provenance`): its confirmation, or why it has none.
    trial:
        The trial to write (the confirmation's winner); default the search's best.

    Returns
    -------
    pathlib.Path or None
        The file written.
    """
    import yaml

    trial = trial or best_trial(study)
    if trial is None:
        return None
    if provenance.confirmed:
        ci = provenance.confirmed_ci or (float("nan"), float("nan"))
        how = (
            f"# Chosen by its confirmed IQM {provenance.confirmed_iqm:.2f} [{ci[0]:.2f}, {ci[1]:.2f}] over confirmation seeds "
            f"{provenance.confirmation_seeds[0]}-{provenance.confirmation_seeds[-1]} (see provenance).\n"
        )
    else:
        how = f"# Not confirmed on fresh seeds: {provenance.reason}\n"
    header = (
        f"# Trial {trial.number} of study {study.study_name!r} (search objective {trial.value:.2f}: mean greedy return over\n"
        f"# the periodic evaluations of its search seeds). Written by rlzoo tune.\n{how}"
    )
    text = header + yaml.safe_dump(preset_of(trial, env, provenance), sort_keys=False, default_flow_style=None)
    with atomic_write(path) as handle:
        handle.write(text.encode())
    return path


def importances(study: optuna.Study) -> dict[str, float]:
    """Parameter importances (Optuna's default evaluator), or ``{}`` with too few trials."""
    import optuna

    try:
        return dict(optuna.importance.get_param_importances(study))
    except (ValueError, RuntimeError) as exc:  # fewer than two complete trials, or one fixed parameter
        logger.info("no parameter importances: %s", exc)
        return {}


def summary(study: optuna.Study) -> str:
    """A Markdown summary: best value and parameters, trial counts, importances."""
    counts = count_states(study)
    lines = [f"# Study `{study.study_name}`", ""]
    lines += ["| trials | " + " | ".join(counts) + " |", "|---|" + "---:|" * len(counts)]
    lines += [f"| {sum(counts.values())} | " + " | ".join(str(n) for n in counts.values()) + " |", ""]
    trial = best_trial(study)
    if trial is None:
        lines.append("No trial has completed yet.")
        return "\n".join(lines) + "\n"
    lines += [f"Best: trial {trial.number}, objective {trial.value:.2f} (mean greedy return over its periodic evaluations).", ""]
    lines += ["| parameter | best value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in trial.params.items()]
    found = importances(study)
    if found:
        lines += ["", "| parameter | importance |", "|---|---:|"]
        lines += [f"| {name} | {value:.3f} |" for name, value in found.items()]
    return "\n".join(lines) + "\n"


def write_summary(study: optuna.Study, path: pathlib.Path, extra: str = "") -> pathlib.Path:
    """Write :func:`summary` to ``path``, followed by ``extra`` Markdown (the confirmation's table)."""
    with atomic_write(path) as handle:
        handle.write((summary(study) + ("\n" + extra if extra else "")).encode())
    return path


def write_plots(study: optuna.Study, folder: pathlib.Path) -> list[pathlib.Path]:
    """Optimisation history, importances and parallel coordinates as PNGs (matplotlib);
    a plot that needs more trials than the study has is skipped.

    Returns
    -------
    list[pathlib.Path]
        The files written.
    """
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna.visualization.matplotlib as plots

    written = []
    for name, function in PLOTS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
                axes = getattr(plots, function)(study)
        except (ValueError, RuntimeError) as exc:
            logger.info("skipped %s: %s", name, exc)
            continue
        figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
        path = folder / name
        with atomic_write(path) as handle:
            figure.savefig(handle, format="png", dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written
