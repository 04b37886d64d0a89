"""One trial: sample hyperparameters, train on K seeds with periodic evaluation, score.

The score is the mean greedy return over every periodic evaluation of every seed (rlzoo's
own :class:`rlzoo.callbacks.EvalEvery`), so a trial that learns early and stays good beats
one that peaks once. After each evaluation the running mean is reported to Optuna and the
pruner may stop the trial there.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from typing import TYPE_CHECKING, Any

from rlzoo.callbacks import Callback
from rlzoo.tuning.spaces import deep_merge, sample

if TYPE_CHECKING:
    import optuna

    from rlzoo.agent import Agent

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
    eval_every: steps between periodic evaluations; ``None``: the preset's, else steps // 10.
    eval_episodes: episodes per periodic evaluation; ``None``: the preset's, else 5.
    """

    agent: str
    env: str
    space: dict[str, Any]
    steps: int | None = None
    seeds: tuple[int, ...] = (0,)
    eval_every: int | None = None
    eval_episodes: int | None = None


class ReportEvaluations(Callback):
    """Reports each new row of ``agent.history.evaluations`` to an Optuna trial and raises
    ``optuna.TrialPruned`` when the pruner says so.

    It only reads what :class:`rlzoo.callbacks.EvalEvery` appends, so the evaluation hook
    stays the one place that evaluates.

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

    def on_training_start(self, agent: Agent, total_timesteps: int) -> None:
        self.seen = len(agent.history.evaluations)

    def on_step(self, agent: Agent) -> bool:
        if len(agent.history.evaluations) > self.seen:
            self.report(agent)
        return True

    def report(self, agent: Agent) -> None:
        """Report every evaluation not reported yet; raise ``TrialPruned`` if the pruner says so."""
        import optuna

        for _, mean, _ in agent.history.evaluations[self.seen :]:
            self.scores.append(mean)
            # The step is the evaluation's index across all seeds, so trials with the same
            # settings report at the same steps and the pruner compares like with like.
            self.trial.report(sum(self.scores) / len(self.scores), len(self.scores))
        self.seen = len(agent.history.evaluations)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after {len(self.scores)} evaluations")


class TrialFailed(Exception):
    """A trial's training broke (a diverging or crashing sample): the trial is FAIL and the
    study goes on. Errors in the user's settings (:class:`rlzoo.RLZooError`) stop it instead."""


def resolve_budget(settings: TrialSettings) -> TrialSettings:
    """``settings`` with ``steps``, ``eval_every`` and ``eval_episodes`` filled in from the
    preset for (agent, env) where they are ``None``. Imports the agent's backend.

    Raises
    ------
    RLZooError: no steps given and no preset to take them from.
    """
    from rlzoo.errors import RLZooError
    from rlzoo.presets import find_preset
    from rlzoo.registry import get_agent

    preset = find_preset(get_agent(settings.agent), settings.env)
    steps = int(settings.steps or preset.train.get("total_timesteps") or 0)
    if steps <= 0:
        raise RLZooError(f"agent {settings.agent!r} has no preset for env {settings.env!r}: pass steps (--steps N)")
    eval_every = int(settings.eval_every or preset.train.get("eval_every") or max(steps // 10, 1))
    eval_episodes = int(settings.eval_episodes or preset.train.get("eval_episodes") or 5)
    return dataclasses.replace(settings, steps=steps, eval_every=eval_every, eval_episodes=eval_episodes)


def run_trial(trial: optuna.Trial, settings: TrialSettings) -> float:
    """Sample hyperparameters, train and evaluate on every seed, return the score.

    Records on the trial (user attributes, JSON): ``hyperparams`` (the agent's full
    hyperparameters: preset merged with the sample) and ``train`` (``total_timesteps``,
    ``eval_every``, ``eval_episodes``), what a preset needs.

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
    import optuna

    from rlzoo.errors import RLZooError
    from rlzoo.presets import find_preset
    from rlzoo.registry import get_agent, make_agent
    from rlzoo.training import train

    preset = find_preset(get_agent(settings.agent), settings.env)
    hyperparams = deep_merge(preset.hyperparams, sample(trial, settings.space))
    budget = {"total_timesteps": settings.steps, "eval_every": settings.eval_every, "eval_episodes": settings.eval_episodes}
    trial.set_user_attr("hyperparams", json.loads(json.dumps(hyperparams)))
    trial.set_user_attr("train", budget)
    scores: list[float] = []
    reporter = ReportEvaluations(trial, scores)
    try:
        for seed in settings.seeds:
            agent = make_agent(settings.agent, settings.env, seed=seed, **hyperparams)
            train(
                agent,
                total_timesteps=settings.steps,
                seed=seed,
                callbacks=[reporter],
                eval_every=settings.eval_every,
                eval_episodes=settings.eval_episodes,
            )
            reporter.report(agent)  # the final evaluation comes in on_training_end, after this hook's turn
    except (optuna.TrialPruned, RLZooError):
        raise
    except Exception as exc:
        raise TrialFailed(f"trial {trial.number} failed with {hyperparams}: {exc!r}") from exc
    score = sum(scores) / len(scores)
    if not math.isfinite(score):
        raise TrialFailed(f"trial {trial.number}: non-finite score {score} with {hyperparams}")
    logger.info("trial %d: %.1f with %s", trial.number, score, hyperparams)
    return score
