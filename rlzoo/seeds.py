"""``rlzoo.train_seeds``: several seeds of one agent and env, side by side in one process.

A backend opts in with one classmethod on its agent class (see :class:`SeedBatching`)::

    @classmethod
    def learn_seeds_until(cls, agents, timestep, callbacks, rngs) -> dict[int, Exception]: ...

It trains ``agents`` (seeds of one recipe, all at one step count) until each reaches
``timestep``, calling ``callbacks[k]`` for ``agents[k]`` as :meth:`Agent.learn` would, and
drawing agent k's random numbers from ``rngs[k]`` (NumPy's global generator in a solo run).
Agents whose ``on_step`` returns ``False`` stop; the errors of those whose training failed
come back by position. ``kerasrl2-dqn`` (``fast=True``) implements it: one graph call per
step for all seeds. Other backends train their seeds one after another here, exactly as
:func:`rlzoo.train` would (each SB3 model owns its own training loop).

Everything else is as in :func:`rlzoo.train`, per seed: the periodic evaluations and
best-weights rule (:class:`~rlzoo.callbacks.EvalEvery`), the history
(:class:`~rlzoo.callbacks.EpisodeRecorder`), and checkpoints (one folder per seed,
``checkpoint_dir/seed-<s>``, each an ordinary checkpoint that :func:`rlzoo.training.resume`
reads). Each seed's NumPy generator is its own: written as "NumPy's global generator" in its
checkpoint, so a seed resumes alone or in a batch alike.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from rlzoo import checks
from rlzoo.agent import Agent, Callback, CallbackList
from rlzoo.builder import make_agent
from rlzoo.callbacks import EpisodeRecorder, EvalEvery, ProgressBar
from rlzoo.checkpoint import EvalState, RunSettings, latest_checkpoint, read_checkpoint, write_checkpoint
from rlzoo.checks import check_seed, shown
from rlzoo.errors import ArgumentError, RLZooError
from rlzoo.multiagent import as_single_agent_env  # an id, so a multi-agent env keeps its id and its preset
from rlzoo.registry import make_env
from rlzoo.settings import periodic_eval_seed, resolve_settings
from rlzoo.threads import set_threads
from rlzoo.training import resume, train


class SeedBatching(Protocol):
    """What an agent class offers to train seeds side by side (see the module's docstring)."""

    @classmethod
    def learn_seeds_until(
        cls, agents: Sequence[Agent], timestep: int, callbacks: Sequence[Callback], rngs: Sequence[np.random.RandomState]
    ) -> dict[int, Exception]: ...


def batches_seeds(agent_class: type) -> bool:
    """Whether ``agent_class`` trains seeds side by side (has ``learn_seeds_until``)."""
    return callable(getattr(agent_class, "learn_seeds_until", None))


def seed_folder(checkpoint_dir: str | os.PathLike[str], seed: int) -> pathlib.Path:
    """Seed ``seed``'s checkpoint folder inside ``checkpoint_dir``."""
    return pathlib.Path(checkpoint_dir) / f"seed-{seed}"


class _Seed:
    """One seed's run: its agent, settings, hooks and NumPy generator."""

    def __init__(
        self,
        seed: int,
        agent: Agent,
        settings: RunSettings,
        eval_state: EvalState | None,
        folder: pathlib.Path | None,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        self.seed, self.agent, self.settings, self.folder = seed, agent, settings, folder
        self.rng = np.random.RandomState()
        self.rng.set_state(np.random.get_state())  # what a solo run would draw from next
        self.evaluator: EvalEvery | None = None
        # The caller's callbacks where rlzoo.train puts them: before EvalEvery, which swaps in
        # the best weights at the end (rlzoo.experiments.run.LastWeights reads the last ones).
        self.hooks: list[Callback] = [EpisodeRecorder(), *callbacks]
        train = settings.train
        if train.eval_every:
            env_id, env_kwargs = agent.env_id, agent.env_kwargs
            if env_id is None:
                raise ArgumentError("eval_every needs a registered env (one made by id) to build a separate evaluation env")
            self.evaluator = EvalEvery(
                lambda: make_env(env_id, **env_kwargs), train.eval_every, train.eval_episodes, seed=periodic_eval_seed(train.seed)
            )
            self.hooks.append(self.evaluator)
        self.callback = CallbackList(self.hooks)
        self.eval_state = eval_state
        self.stopped = False
        self.error: Exception | None = None

    def start(self) -> None:
        self.callback.on_training_start(self.agent, max(self.settings.end_timestep - self.agent.num_timesteps, 0))
        if self.evaluator is not None and self.eval_state is not None:
            state, evaluator = self.eval_state, self.evaluator
            evaluator.next_eval, evaluator.last_eval = state.next_eval, state.last_eval
            evaluator.best_mean, evaluator.best_timestep, evaluator.best_weights = state.best_mean, state.best_timestep, state.best_weights

    def checkpoint(self) -> None:
        """Write this seed's checkpoint, its generator standing in for NumPy's global one."""
        assert self.folder is not None
        evaluator = self.evaluator
        state = (
            None
            if evaluator is None
            else EvalState(evaluator.next_eval, evaluator.last_eval, evaluator.best_mean, evaluator.best_timestep, evaluator.best_weights)
        )
        saved = np.random.get_state()
        np.random.set_state(self.rng.get_state())
        try:
            write_checkpoint(self.folder, self.agent, self.settings, state)
        finally:
            np.random.set_state(saved)

    def finish(self) -> None:
        """As :func:`rlzoo.train` ends a run: a final evaluation and the best weights, unless stopped."""
        for hook in self.hooks:
            if hook is self.evaluator and self.stopped:
                for env in self.evaluator.envs:
                    env.close()
            else:
                hook.on_training_end(self.agent)


class _Watch(Callback):
    """Calls a seed's hooks and remembers whether one asked to stop."""

    def __init__(self, seed: _Seed, extra: Sequence[Callback]) -> None:
        self.seed, self.extra = seed, list(extra)

    def on_step(self, agent: Agent) -> bool:
        keep_going = self.seed.callback.on_step(agent)
        for callback in self.extra:
            keep_going = callback.on_step(agent) and keep_going
        self.seed.stopped = self.seed.stopped or not keep_going
        return keep_going

    def on_episode_end(self, agent: Agent, episode_return: float, episode_length: int) -> None:
        self.seed.callback.on_episode_end(agent, episode_return, episode_length)
        for callback in self.extra:
            callback.on_episode_end(agent, episode_return, episode_length)


def train_seeds(
    agent: str,
    env: str,
    seeds: Sequence[int],
    total_timesteps: int | None = None,
    *,
    env_kwargs: dict[str, Any] | None = None,
    eval_every: int | None = None,
    eval_episodes: int | None = None,
    checkpoint_every: int | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    threads: int | None = 1,
    progress_bar: bool = False,
    batch: bool = True,
    **hyperparams: Any,
) -> list[Agent]:
    """Train one agent on one env with each of ``seeds``; side by side where the backend can.

    Parameters
    ----------
    agent:
        A registered agent name.
    env:
        A registered env id (each seed gets its own instance).
    env_kwargs:
        Keyword arguments of the env (:func:`rlzoo.make_env`).
    seeds:
        Distinct seeds, each as :func:`rlzoo.train`'s ``seed``.
    total_timesteps, eval_every, eval_episodes, threads, progress_bar:
        As for :func:`rlzoo.train`, for each seed (the progress bar follows the first).
    checkpoint_every, checkpoint_dir:
        As for :func:`rlzoo.train`, with one folder per seed (:func:`seed_folder`). A seed
        whose folder holds a checkpoint continues from it; a finished one is not trained again.
    batch:
        ``False``: train the seeds one after another, each exactly as :func:`rlzoo.train`.
    **hyperparams:
        Hyperparameters for building each agent.

    Returns
    -------
    list of Agent
        The trained agents, in the order of ``seeds``; seed s's is the agent
        ``rlzoo.train(agent, env, seed=s, ...)`` returns on this machine.

    Raises
    ------
    ArgumentError: seeds that are not distinct ints >= 0, or an argument as :func:`rlzoo.train` refuses it.
    RLZooError: a seed's training failed (after the other seeds finished; the message names the seed).
    """
    outcomes = train_seed_outcomes(
        agent,
        env,
        seeds,
        total_timesteps,
        env_kwargs=env_kwargs,
        eval_every=eval_every,
        eval_episodes=eval_episodes,
        checkpoint_every=checkpoint_every,
        checkpoint_dir=checkpoint_dir,
        threads=threads,
        progress_bar=progress_bar,
        batch=batch,
        **hyperparams,
    )
    for seed, outcome in zip(seeds, outcomes, strict=True):
        if isinstance(outcome, Exception):
            raise RLZooError(f"seed {seed}: {outcome}") from outcome
    return [outcome for outcome in outcomes if isinstance(outcome, Agent)]


def train_seed_outcomes(
    agent: str,
    env: str,
    seeds: Sequence[int],
    total_timesteps: int | None = None,
    *,
    env_kwargs: dict[str, Any] | None = None,
    eval_every: int | None = None,
    eval_episodes: int | None = None,
    checkpoint_every: int | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    threads: int | None = 1,
    progress_bar: bool = False,
    batch: bool = True,
    callbacks: Sequence[Callback] = (),
    **hyperparams: Any,
) -> list[Agent | Exception]:
    """:func:`train_seeds`, with each seed's failure returned in its place instead of raised.

    ``callbacks`` are called for every seed (one shared object: it sees each seed's agent).
    """
    _check_arguments(seeds, total_timesteps, eval_every, eval_episodes, checkpoint_every, checkpoint_dir)
    set_threads(threads)  # before building an agent: TensorFlow fixes its thread count then
    if not isinstance(agent, str):
        raise ArgumentError(f"train_seeds needs a registered agent name such as 'kerasrl2-dqn', got {shown(agent)}")
    if not isinstance(env, str):
        raise ArgumentError(f"train_seeds needs a registered env id (each seed gets its own instance), got {shown(env)}")
    env_kwargs = dict(env_kwargs or {})
    first = make_agent(agent, as_single_agent_env(env, **env_kwargs), seed=int(seeds[0]), **hyperparams)
    first_rng = np.random.get_state()  # where a solo run of the first seed starts drawing
    if not batch or not batches_seeds(type(first)) or not _batchable(first):
        return [
            _solo(
                agent,
                env,
                env_kwargs,
                int(seed),
                total_timesteps,
                eval_every,
                eval_episodes,
                checkpoint_every,
                checkpoint_dir,
                progress_bar,
                callbacks,
                hyperparams,
            )
            for seed in seeds
        ]
    runs: list[_Seed] = []
    for seed in seeds:
        folder = None if checkpoint_dir is None else seed_folder(checkpoint_dir, int(seed))
        if folder is not None and latest_checkpoint(folder) is not None:
            saved = read_checkpoint(folder)  # sets NumPy's global generator to the seed's
            runs.append(_Seed(int(seed), saved.agent, saved.settings, saved.eval_state, folder, callbacks))
            continue
        built = first if seed == seeds[0] else make_agent(agent, as_single_agent_env(env, **env_kwargs), seed=int(seed), **hyperparams)
        if seed == seeds[0]:
            np.random.set_state(first_rng)
        resolved = resolve_settings(  # the one order every run resolves its settings in (rlzoo.settings)
            built.train_defaults,
            agent=agent,
            env=built.env_id,
            total_timesteps=total_timesteps,
            eval_every=eval_every,
            eval_episodes=eval_episodes,
            checkpoint_every=checkpoint_every,
            seed=int(seed),
            threads=threads,
        )
        built.train_settings = resolved
        settings = RunSettings(resolved, built.num_timesteps + resolved.total_timesteps)
        runs.append(_Seed(int(seed), built, settings, None, folder, callbacks))
    extra = [ProgressBar()] if progress_bar else []
    for k, run in enumerate(runs):
        run.start()
        for callback in extra if k == 0 else []:
            callback.on_training_start(run.agent, max(run.settings.end_timestep - run.agent.num_timesteps, 0))
    batcher: SeedBatching = type(first)  # type: ignore[assignment]  # checked by batches_seeds
    groups: dict[tuple[int, int, int], list[_Seed]] = {}
    for run in runs:  # seeds at one step count (and end) train in lockstep
        groups.setdefault((run.agent.num_timesteps, run.settings.end_timestep, run.settings.train.checkpoint_every), []).append(run)
    for (_, end, every), group in groups.items():
        watches = {id(run): _Watch(run, extra if run is runs[0] else []) for run in group}
        active = [run for run in group if run.agent.num_timesteps < end]
        while active:
            part_end = min(end, (active[0].agent.num_timesteps // every + 1) * every) if every else end
            errors = batcher.learn_seeds_until(
                [run.agent for run in active], part_end, [watches[id(run)] for run in active], [run.rng for run in active]
            )
            for k, error in errors.items():
                active[k].error = error
            active = [run for run in active if run.error is None and not run.stopped]
            if every:
                for run in active:
                    run.checkpoint()
            active = [run for run in active if run.agent.num_timesteps < end]
    for run in runs:
        if run.error is None:
            run.finish()
            for callback in extra if run is runs[0] else []:
                callback.on_training_end(run.agent)
    return [run.error if run.error is not None else run.agent for run in runs]


def _batchable(agent: Agent) -> bool:
    """kerasrl2's stock path (``fast=False``) has no side-by-side loop; others ask the class only."""
    return getattr(agent, "fused", True) is not None


def _solo(
    agent: str,
    env: str,
    env_kwargs: dict[str, Any],
    seed: int,
    total_timesteps: int | None,
    eval_every: int | None,
    eval_episodes: int | None,
    checkpoint_every: int | None,
    checkpoint_dir: str | os.PathLike[str] | None,
    progress_bar: bool,
    callbacks: Sequence[Callback],
    hyperparams: dict[str, Any],
) -> Agent | Exception:
    """One seed as :func:`rlzoo.train` (or :func:`rlzoo.training.resume`) runs it."""
    folder = None if checkpoint_dir is None else seed_folder(checkpoint_dir, seed)
    try:
        if folder is not None and latest_checkpoint(folder) is not None:
            return resume(folder, callbacks=callbacks, progress_bar=progress_bar, threads=None)
        built = make_agent(agent, as_single_agent_env(env, **env_kwargs), seed=seed, **hyperparams)
        return train(
            built,
            None,
            total_timesteps,
            seed=seed,
            callbacks=callbacks,
            progress_bar=progress_bar,
            eval_every=eval_every,
            eval_episodes=eval_episodes,
            checkpoint_every=checkpoint_every,
            checkpoint_dir=folder,
            threads=None,
        )
    except RLZooError as error:
        return error


def _check_arguments(
    seeds: Sequence[int], total_timesteps: Any, eval_every: Any, eval_episodes: Any, checkpoint_every: Any, checkpoint_dir: Any
) -> None:
    """train's checks, and seeds that are a non-empty list of distinct valid seeds."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise ArgumentError(f"seeds must be a non-empty list of ints >= 0, got {shown(seeds)}")
    for seed in seeds:
        check_seed(seed)
    if len(set(seeds)) != len(seeds):
        raise ArgumentError(f"seeds must be distinct (each is one run), got {list(seeds)}")
    rules = {
        "total_timesteps": checks.integer(1),
        "eval_every": checks.integer(0),
        "eval_episodes": checks.integer(1),
        "checkpoint_every": checks.integer(0),
    }
    values = {
        "total_timesteps": total_timesteps,
        "eval_every": eval_every,
        "eval_episodes": eval_episodes,
        "checkpoint_every": checkpoint_every,
    }
    for name, value in values.items():
        problem = None if value is None else rules[name](value)
        if problem is not None:
            raise ArgumentError(f"{name}={shown(value)}: {problem}")
    if checkpoint_every and checkpoint_dir is None:
        raise ArgumentError("checkpoint_every needs checkpoint_dir: the folder to write checkpoint folders (one per seed) to")
