"""One trial: sample hyperparameters, train on K seeds with periodic evaluation, score.

The score is the mean greedy return over every periodic evaluation of every seed (rlzoo's
own :class:`rlzoo.callbacks.EvalEvery`), so a trial that learns early and stays good beats
one that peaks once. After each evaluation the running mean is reported to Optuna at the
env steps trained so far, and the pruner may stop the trial there. A trial trains its
budget rounded up by at most one rollout; a sample whose rollout is larger is pruned. Each seed then ends with the same final evaluation as
``rlzoo train`` and a sweep run (:func:`rlzoo.evaluation.final_evaluation`), recorded on the
trial; a trial's training settings resolve as theirs do (:mod:`rlzoo.settings`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from typing import TYPE_CHECKING, Any

from rlzoo.agent import Agent, Callback
from rlzoo.builder import make_agent
from rlzoo.errors import RLZooError
from rlzoo.evaluation import final_evaluation
from rlzoo.presets import find_preset
from rlzoo.registry import get_agent
from rlzoo.settings import TrainSettings, resolve_settings
from rlzoo.training import train_resolved
from rlzoo.tuning.spaces import deep_merge, sample

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrialSettings:
    """What every trial of a study does besides sampling.

    Attributes
    ----------
    agent: registered agent name.
    env: env id.
    space: the search space (see :mod:`rlzoo.tuning.spaces`).
    steps: training steps per seed; ``None``: the preset's.
    seeds: the training seeds of every trial (the same for all trials, so they compare on
        equal terms); the objective is the mean over them.
    eval_every: steps between periodic evaluations; ``None``: as :func:`rlzoo.settings.resolve_settings` resolves it.
    eval_episodes: episodes per periodic evaluation; ``None``: likewise.
    train: the resolved settings every trial trains with (its seed set per training seed),
        filled in by :func:`resolve_budget`.
    preset: the preset in force: a name or YAML file (what ``make_agent(preset=)`` takes)
        whose hyperparameters every sample is merged over; ``None``: the agent's own.
    """

    agent: str
    env: str
    space: dict[str, Any]
    steps: int | None = None
    seeds: tuple[int, ...] = (0,)
    eval_every: int | None = None
    eval_episodes: int | None = None
    train: TrainSettings | None = None
    preset: str | None = None


class ReportEvaluations(Callback):
    """Reports each new row of ``agent.history.evaluations`` to an Optuna trial, at its
    timestep, and raises ``optuna.TrialPruned`` when the pruner says so.

    It only reads what :class:`rlzoo.callbacks.EvalEvery` appends, so the evaluation hook
    stays the one place that evaluates. The value reported is the running mean of the
    trial's evaluations so far; its step is the env steps trained so far over all of the
    trial's seeds (``offset`` plus the agent's step), so the pruner and optuna-dashboard
    compare trials at equal training.

    Parameters
    ----------
    trial:
        The running trial.
    scores:
        Every evaluation score of this trial so far (earlier seeds' too); appended to.
    """

    def __init__(self, trial: optuna.Trial, scores: list[float]) -> None:
        self.trial = trial
        self.scores = scores
        self.seen = 0
        #: Env steps the trial's earlier seeds trained.
        self.offset = 0

    def on_training_start(self, agent: Agent, total_timesteps: int) -> None:
        self.seen = len(agent.history.evaluations)

    def on_step(self, agent: Agent) -> bool:
        if len(agent.history.evaluations) > self.seen:
            self.report(agent)
        return True

    def report(self, agent: Agent) -> None:
        """Report every evaluation not reported yet; raise ``TrialPruned`` if the pruner says so."""
        import optuna

        for timestep, mean, _ in agent.history.evaluations[self.seen :]:
            self.scores.append(mean)
            self.trial.report(sum(self.scores) / len(self.scores), self.offset + int(timestep))
        self.seen = len(agent.history.evaluations)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after {len(self.scores)} evaluations")


class TrialFailed(Exception):
    """A trial's training broke (a diverging or crashing sample): the trial is FAIL and the
    study goes on. Errors in the user's settings (:class:`rlzoo.RLZooError`) stop it instead."""


def resolve_budget(settings: TrialSettings) -> TrialSettings:
    """``settings`` with :attr:`TrialSettings.train` resolved from the arguments and the preset
    for (agent, env), in :mod:`rlzoo.settings`' one order. Imports the agent's backend.

    Raises
    ------
    MissingBudgetError: no steps given and no preset to take them from.
    """
    preset = find_preset(get_agent(settings.agent), settings.env, settings.preset)
    resolved = resolve_settings(
        preset.train,
        agent=settings.agent,
        env=settings.env,
        total_timesteps=settings.steps,
        eval_every=settings.eval_every,
        eval_episodes=settings.eval_episodes,
    )
    return dataclasses.replace(settings, train=resolved)


def check_rollout(trial: optuna.Trial, agent: Agent, budget: int) -> None:
    """Prune a trial whose sampled rollout is larger than its step budget.

    A run trains its budget rounded up by at most one rollout
    (:meth:`rlzoo.agent.Agent.steps_per_rollout`); a rollout larger than the budget would
    train the trial far past it, on other terms than the rest of the study.

    Raises
    ------
    optuna.TrialPruned: with the reason, also recorded as the trial's ``pruned_because``.
    """
    import optuna

    rollout = agent.steps_per_rollout()
    if rollout > budget:
        reason = (
            f"a rollout of {rollout} steps (with {agent.hyperparams}) is larger than the budget of {budget} steps: "
            "narrow the space (n_steps, n_envs, train_freq) or give more --steps"
        )
        trial.set_user_attr("pruned_because", reason)
        raise optuna.TrialPruned(reason)


def run_trial(trial: optuna.Trial, settings: TrialSettings) -> float:
    """Sample hyperparameters, train and evaluate on every seed, return the score.

    Records on the trial (user attributes, JSON): ``hyperparams`` (the agent's full
    hyperparameters: preset merged with the sample), ``train`` (the resolved settings
    every seed trained with, its seed aside) and ``final_evaluations`` (per seed: the
    steps it actually trained, at most one rollout past the budget, and its final
    evaluation). A sample whose rollout exceeds the budget is pruned (:func:`check_rollout`).

    Parameters
    ----------
    trial:
        The Optuna trial.
    settings:
        The study's trial settings, budget resolved (:func:`resolve_budget`).

    Returns
    -------
    float
        The mean greedy return over every periodic evaluation of every seed.

    Raises
    ------
    optuna.TrialPruned: the pruner stopped the trial.
    TrialFailed: training broke for this sample.
    """
    import optuna  # the tune extra's dependency, loaded by the worker already

    resolved = settings.train
    if resolved is None:
        raise RLZooError("run_trial needs settings whose budget is resolved: pass them through resolve_budget first")
    preset = find_preset(get_agent(settings.agent), settings.env, settings.preset)
    hyperparams = deep_merge(preset.hyperparams, sample(trial, settings.space))
    recorded = {key: value for key, value in resolved.to_dict().items() if key != "seed"}
    trial.set_user_attr("hyperparams", json.loads(json.dumps(hyperparams)))
    trial.set_user_attr("train", recorded)
    scores: list[float] = []
    finals: list[dict[str, Any]] = []
    reporter = ReportEvaluations(trial, scores)
    try:
        for seed in settings.seeds:
            agent = make_agent(settings.agent, settings.env, seed=seed, preset=settings.preset, **hyperparams)
            try:
                check_rollout(trial, agent, resolved.total_timesteps)
                train_resolved(agent, dataclasses.replace(resolved, seed=seed), callbacks=[reporter])
                reporter.report(agent)  # the final periodic evaluation comes in on_training_end, after this hook's turn
                reporter.offset += agent.num_timesteps
                result = final_evaluation(agent)
                finals.append(
                    {
                        "seed": seed,
                        "num_timesteps": agent.num_timesteps,
                        "mean": result.mean,
                        "std": result.std,
                        "returns": list(result.returns),
                    }
                )
                trial.set_user_attr("final_evaluations", finals)
            finally:
                type(agent).discard_all()  # the worker goes on to other seeds and trials: nothing of this one stays
    except (optuna.TrialPruned, RLZooError):
        raise
    except Exception as exc:
        raise TrialFailed(f"trial {trial.number} failed with {hyperparams}: {exc!r}") from exc
    # Without periodic evaluations (eval_every 0) the final evaluations are the only scores.
    score = sum(scores) / len(scores) if scores else sum(final["mean"] for final in finals) / len(finals)
    if not math.isfinite(score):
        raise TrialFailed(f"trial {trial.number}: non-finite score {score} with {hyperparams}")
    logger.info("trial %d: %.1f with %s", trial.number, score, hyperparams)
    return score
