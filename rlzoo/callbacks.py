"""The callbacks rlzoo adds to a run: episode recording, the progress bar, periodic evaluation.

The hook contract itself (:class:`Callback`, :class:`CallbackList`) is part of the agent
contract in :mod:`rlzoo.agent`; it is importable from here too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rlzoo.agent import Agent, Callback, CallbackList
from rlzoo.errors import MissingDependencyError
from rlzoo.evaluation import env_copies, play_episodes

if TYPE_CHECKING:
    import gymnasium as gym

__all__ = ["Callback", "CallbackList", "EpisodeRecorder", "EvalEvery", "ProgressBar"]

logger = logging.getLogger(__name__)


class EpisodeRecorder(Callback):
    """Appends every finished episode to ``agent.history.episodes``."""

    def on_episode_end(self, agent: Agent, episode_return: float, episode_length: int) -> None:
        agent.history.episodes.append((agent.num_timesteps, float(episode_return), int(episode_length)))


class ProgressBar(Callback):
    """A tqdm progress bar over the training steps, showing the last episode return.

    It counts at most ``total_timesteps``: vectorised and rollout-based backends may step
    past the total (SB3 finishes its last rollout), and the bar then still reads 100%.
    """

    def __init__(self) -> None:
        self._bar: Any = None
        self._shown = 0

    def on_training_start(self, agent: Agent, total_timesteps: int) -> None:
        try:
            from tqdm.auto import tqdm  # an extra's dependency, imported when a bar is shown
        except ImportError as exc:
            raise MissingDependencyError("the progress bar", "sb3") from exc
        self._start = agent.num_timesteps
        self._shown = 0
        self._bar = tqdm(total=total_timesteps, unit="step", dynamic_ncols=True, desc=agent.name or "train")

    def on_step(self, agent: Agent) -> bool:
        done = min(agent.num_timesteps - self._start, self._bar.total)
        if done - self._shown >= 100 or (done == self._bar.total and done > self._shown):  # redrawing each step costs more than a DQN step
            self._bar.update(done - self._shown)
            self._shown = done
        return True

    def on_episode_end(self, agent: Agent, episode_return: float, episode_length: int) -> None:
        self._bar.set_postfix(last_return=f"{episode_return:.1f}", refresh=False)

    def on_training_end(self, agent: Agent) -> None:
        self._bar.close()


class EvalEvery(Callback):
    """Evaluates the greedy policy every ``every`` steps and keeps the best weights.

    Works like Stable-Baselines3's ``EvalCallback`` with a best-model path, for every
    backend: evaluation runs on separate env copies, their episodes side by side; the scores go to
    ``agent.history.evaluations`` and the log; at the end of training (after a final
    evaluation, if the last step was not one) the best-scoring weights are restored,
    the latest of equal scores winning, and ``agent.history.kept_timestep`` says whose.
    Only evaluations after the backend's first update (:meth:`~rlzoo.agent.Agent.has_updated`)
    may be kept; with none, the final weights stay.

    Each evaluation and the choice of weights are logged at INFO level on this module's
    logger, with ``record.rlzoo_event`` set to ``"eval"`` or ``"kept"`` (the CLI shows them
    as they happen).

    Parameters
    ----------
    make_eval_env:
        Builds the separate evaluation env.
    every:
        Evaluate after this many training steps.
    episodes:
        Episodes per evaluation.
    seed:
        Seed of each evaluation (the same episodes every time), or ``None``.
        :func:`rlzoo.train` passes :func:`rlzoo.settings.periodic_eval_seed` of the run's
        seed, so the final evaluation plays other episodes.
    """

    def __init__(self, make_eval_env: Callable[[], gym.Env], every: int, episodes: int = 10, seed: int | None = None) -> None:
        if every <= 0 or episodes <= 0:
            raise ValueError(f"eval_every and eval_episodes must be positive, got {every} and {episodes}")
        self.make_eval_env = make_eval_env
        self.every = every
        self.episodes = episodes
        self.seed = seed
        self.best_mean = float("-inf")
        self.best_weights: Any = None
        self.best_timestep = -1

    def on_training_start(self, agent: Agent, total_timesteps: int) -> None:
        self.envs = env_copies(self.make_eval_env, self.episodes)  # kept for all of training
        self.next_eval = agent.num_timesteps + self.every
        self.last_eval = -1

    def on_step(self, agent: Agent) -> bool:
        if agent.num_timesteps >= self.next_eval:
            self._evaluate(agent)
            while self.next_eval <= agent.num_timesteps:  # vectorised backends step several at once
                self.next_eval += self.every
        return True

    def _evaluate(self, agent: Agent) -> None:
        result = play_episodes(agent, self.envs, self.episodes, seed=self.seed, deterministic=True)
        agent.history.evaluations.append((agent.num_timesteps, result.mean, result.std))
        self.last_eval = agent.num_timesteps
        logger.info(
            "eval at step %d: %.1f ± %.1f (greedy, %d episodes)",
            agent.num_timesteps,
            result.mean,
            result.std,
            self.episodes,
            extra={"rlzoo_event": "eval"},
        )
        # Before the backend's first update the weights are the initial ones: a lucky score is noise.
        if result.mean >= self.best_mean and agent.has_updated():
            self.best_mean, self.best_timestep = result.mean, agent.num_timesteps
            self.best_weights = agent.get_weights()

    def on_training_end(self, agent: Agent) -> None:
        if self.last_eval != agent.num_timesteps:
            self._evaluate(agent)
        if self.best_weights is None:  # no evaluation after the first update: the final weights stay
            self.best_mean, self.best_timestep = agent.history.evaluations[-1][1], agent.num_timesteps
        elif self.best_timestep != agent.num_timesteps:
            agent.set_weights(self.best_weights)
        agent.history.kept_timestep = self.best_timestep
        logger.info("kept the weights from step %d (eval %.1f)", self.best_timestep, self.best_mean, extra={"rlzoo_event": "kept"})
        for env in self.envs:
            env.close()
