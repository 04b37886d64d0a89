"""``rlzoo.train``: one training entry point for every backend."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterable
from typing import Any

from rlzoo.agent import Agent, Callback, CallbackList
from rlzoo.builder import make_agent
from rlzoo.callbacks import EpisodeRecorder, EvalEvery, ProgressBar
from rlzoo.checkpoint import Checkpoint, EvalState, RunSettings, read_checkpoint, write_checkpoint
from rlzoo.checks import check_seed, shown
from rlzoo.errors import ArgumentError
from rlzoo.multiagent import as_single_agent_env
from rlzoo.registry import make_env
from rlzoo.settings import TrainSettings, check_values, periodic_eval_seed, resolve_settings
from rlzoo.tensorboard import TensorBoardLogger
from rlzoo.threads import set_threads


def train(
    agent: Agent | str,
    env: Any = None,
    total_timesteps: int | None = None,
    *,
    seed: int | None = None,
    callbacks: Iterable[Callback] = (),
    progress_bar: bool = False,
    eval_every: int | None = None,
    eval_episodes: int | None = None,
    checkpoint_every: int | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    checkpoint_notes: dict[str, Any] | None = None,
    tensorboard_log: str | os.PathLike[str] | None = None,
    threads: int | None = 1,
    **hyperparams: Any,
) -> Agent:
    """Train an agent; the same loop contract, logging and best-weights rule for every backend.

    Parameters
    ----------
    agent:
        An :class:`Agent`, or a registered agent name (then ``env`` is required and the
        agent is built with :func:`rlzoo.make_agent`, ``seed`` and ``hyperparams``).
    env:
        An env id or instance. With an :class:`Agent`, training continues on this env.
    total_timesteps:
        Env steps to train for. This and every other training setting below resolve in one
        order (:func:`rlzoo.settings.resolve_settings`): this argument, then the preset
        file's ``train:``, then the agent's own preset, then rlzoo's default; ``None`` takes
        the next source. The budget has no default.
    seed:
        The run's seed: for building the agent (only when ``agent`` is a name) and for the
        periodic evaluations; ``None``: the agent's own seed.
    callbacks:
        :class:`rlzoo.callbacks.Callback` objects called during training.
    progress_bar:
        Show a tqdm progress bar.
    eval_every:
        Evaluate the greedy policy every this many steps on a separate env instance, log
        the scores (``agent.history.evaluations``), and at the end keep the best-scoring
        weights (the latest on ties). ``None`` takes the preset's, else a tenth of the
        budget; ``0`` turns it off.
    eval_episodes:
        Episodes per periodic evaluation (the preset's, else 10).
    checkpoint_every:
        Write a checkpoint to ``checkpoint_dir`` whenever ``agent.num_timesteps`` passes a
        multiple of this (``None`` or 0: none); :func:`resume` continues the run from it.
        Training then runs in parts between checkpoints, which trains exactly as one part
        would.
    checkpoint_dir:
        The checkpoint folder (required with ``checkpoint_every``); only the latest
        checkpoint is kept.
    checkpoint_notes:
        JSON values stored with each checkpoint (``RunSettings.notes``), for the caller.
    tensorboard_log:
        Write TensorBoard events to a new run folder ``tensorboard_log/AGENT_N``: the same
        tags for every backend (:mod:`rlzoo.tensorboard`), plus the backend's own (SB3's).
        Needs the ``tensorboard`` extra.
    threads:
        Intra-op threads for torch and TensorFlow (:func:`rlzoo.threads.set_threads`); one by
        default, which is fastest for small networks on a shared CPU. ``None`` leaves them as
        they are. TensorFlow fixes its count when the first keras-rl2 agent is built.
    **hyperparams:
        Hyperparameters for building the agent (only when ``agent`` is a name).

    Returns
    -------
    Agent
        The trained agent; ``agent.history`` has every training episode and
        ``agent.train_settings`` the resolved :class:`~rlzoo.settings.TrainSettings`.

    A callback's ``on_step`` returning ``False`` stops training there: the agent keeps the
    weights trained so far (no final evaluation, no best-weights swap) and no checkpoint
    is written at that step. An exception raised inside training (``KeyboardInterrupt``
    too) reaches the caller; the agent's ``num_timesteps`` and history then count the
    steps done, and it can be saved or trained further.

    Raises
    ------
    ArgumentError: an argument of the wrong kind (``total_timesteps`` must be an int >= 1,
        ``eval_every`` and ``checkpoint_every`` ints >= 0, ``eval_episodes`` an int >= 1,
        ``seed`` None or an int >= 0).
    MissingBudgetError: no ``total_timesteps`` and no preset that has one.
    HyperparameterError: a bad hyperparameter (when ``agent`` is a name).
    TrainingDivergedError: training met a non-finite observation, reward, loss or weight.
    """
    seed = check_seed(seed)  # every argument is checked before the agent is built or changed
    counts = {"total_timesteps": total_timesteps, "eval_every": eval_every, "eval_episodes": eval_episodes}
    check_values({**counts, "checkpoint_every": checkpoint_every, "threads": threads})
    _usable_folder("tensorboard_log", tensorboard_log)
    _usable_folder("checkpoint_dir", checkpoint_dir)
    if checkpoint_every and checkpoint_dir is None:
        raise ArgumentError("checkpoint_every needs checkpoint_dir: the folder to write checkpoints to")
    if isinstance(callbacks, (Callback, str, bytes, dict)) or not isinstance(callbacks, Iterable):
        raise ArgumentError(f"callbacks must be a list of rlzoo.Callback instances, got {shown(callbacks)}")
    callbacks = list(callbacks)
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise ArgumentError(f"callbacks must be rlzoo.Callback instances, got {shown(callback)}")
    set_threads(threads)  # before building an agent: TensorFlow fixes its thread count then
    if isinstance(agent, str):
        if env is None:
            raise ArgumentError(f"train({agent!r}) needs env=: an env id or instance to build the agent on")
        agent = make_agent(agent, env, seed=seed, **hyperparams)
    elif isinstance(agent, Agent):
        if hyperparams:
            raise ArgumentError(f"hyperparameters {sorted(hyperparams)} only apply when agent is a name: this agent is built already")
        if env is not None:
            agent.set_env(agent.wrap_env(as_single_agent_env(env)))
    else:
        raise ArgumentError(f"agent must be an rlzoo Agent or a registered agent name such as 'sb3-dqn', got {shown(agent)}")
    resolved = resolve_settings(
        agent.train_defaults,  # looked up once, by make_agent, from the same preset as the hyperparameters
        agent=agent.name,
        env=agent.env_id,
        total_timesteps=total_timesteps,
        eval_every=eval_every,
        eval_episodes=eval_episodes,
        checkpoint_every=checkpoint_every,
        seed=agent.seed if seed is None else seed,
        threads=threads,
    )
    return train_resolved(
        agent,
        resolved,
        callbacks=callbacks,
        progress_bar=progress_bar,
        checkpoint_dir=checkpoint_dir,
        checkpoint_notes=checkpoint_notes,
        tensorboard_log=tensorboard_log,
    )


def train_resolved(
    agent: Agent,
    settings: TrainSettings,
    *,
    callbacks: Iterable[Callback] = (),
    progress_bar: bool = False,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    checkpoint_notes: dict[str, Any] | None = None,
    tensorboard_log: str | os.PathLike[str] | None = None,
) -> Agent:
    """Train ``agent`` with settings already resolved (what :func:`train` does once it has them).

    Parameters
    ----------
    agent:
        A built agent.
    settings:
        The run's :class:`~rlzoo.settings.TrainSettings` (from :func:`~rlzoo.settings.resolve_settings`).
    callbacks, progress_bar, checkpoint_dir, checkpoint_notes, tensorboard_log:
        As for :func:`train`.

    Returns
    -------
    Agent
        The trained agent, with ``agent.train_settings`` set to ``settings``.
    """
    if settings.checkpoint_every and checkpoint_dir is None:
        raise ArgumentError("checkpoint_every needs checkpoint_dir: the folder to write checkpoints to")
    set_threads(settings.threads)
    agent.train_settings = settings
    run = RunSettings(settings, end_timestep=agent.num_timesteps + settings.total_timesteps, notes=dict(checkpoint_notes or {}))
    return _run(agent, run, callbacks, progress_bar, checkpoint_dir, None, tensorboard_log)


def resume(
    checkpoint: str | os.PathLike[str] | Checkpoint,
    *,
    callbacks: Iterable[Callback] = (),
    progress_bar: bool = False,
    tensorboard_log: str | os.PathLike[str] | None = None,
    threads: int | None = 1,
) -> Agent:
    """Continue a run from its latest checkpoint to the ``total_timesteps`` it was started with.

    Parameters
    ----------
    checkpoint:
        The ``checkpoint_dir`` of a :func:`train` call, or a checkpoint already read by
        :func:`rlzoo.checkpoint.read_checkpoint`.
    callbacks:
        :class:`rlzoo.callbacks.Callback` objects called during training.
    progress_bar:
        Show a tqdm progress bar.
    tensorboard_log, threads:
        As for :func:`train`.

    Returns
    -------
    Agent
        The trained agent, as :func:`train` returns it; new checkpoints keep going to the
        same folder.
    """
    _usable_folder("tensorboard_log", tensorboard_log)
    set_threads(threads)  # before the checkpoint's agent is built
    if not isinstance(checkpoint, Checkpoint):
        checkpoint = read_checkpoint(checkpoint)
    return _run(
        checkpoint.agent, checkpoint.settings, callbacks, progress_bar, checkpoint.path.parent, checkpoint.eval_state, tensorboard_log
    )


class _StopWatch(CallbackList):
    """Calls its callbacks and remembers whether one asked to stop."""

    stopped = False

    def on_step(self, agent: Agent) -> bool:
        keep_going = super().on_step(agent)
        self.stopped = self.stopped or not keep_going
        return keep_going


def _run(
    agent: Agent,
    settings: RunSettings,
    callbacks: Iterable[Callback],
    progress_bar: bool,
    checkpoint_dir: str | os.PathLike[str] | None,
    eval_state: EvalState | None,
    tensorboard_log: str | os.PathLike[str] | None = None,
) -> Agent:
    """Train ``agent`` to ``settings.end_timestep``, in parts between checkpoints."""
    evaluator = None
    hooks: list[Callback] = [EpisodeRecorder(), *callbacks]
    train = settings.train
    if train.eval_every:
        evaluator = EvalEvery(lambda: _eval_env(agent), train.eval_every, train.eval_episodes, seed=periodic_eval_seed(train.seed))
        hooks.append(evaluator)
    if tensorboard_log is not None:  # after EvalEvery, so the final evaluation is logged too
        hooks.append(TensorBoardLogger(tensorboard_log))
    if progress_bar:
        hooks.append(ProgressBar())
    callback = _StopWatch(hooks)
    end, every = settings.end_timestep, train.checkpoint_every
    callback.on_training_start(agent, max(end - agent.num_timesteps, 0))
    if evaluator is not None and eval_state is not None:
        evaluator.next_eval, evaluator.last_eval = eval_state.next_eval, eval_state.last_eval
        evaluator.best_mean, evaluator.best_timestep = eval_state.best_mean, eval_state.best_timestep
        evaluator.best_weights = eval_state.best_weights
    while agent.num_timesteps < end and not callback.stopped:
        before = agent.num_timesteps
        part_end = min(end, (before // every + 1) * every) if every else end
        agent.learn_until(part_end, callback, run_end=end)
        if every and not callback.stopped:
            assert checkpoint_dir is not None
            write_checkpoint(checkpoint_dir, agent, settings, _eval_state(evaluator))
        if agent.num_timesteps == before:  # a backend that made no progress would loop forever
            break
    for hook in hooks:
        if hook is evaluator and callback.stopped:
            for env in evaluator.envs:  # stopped early: keep the weights trained so far, no final evaluation
                env.close()
        else:
            hook.on_training_end(agent)
    return agent


def _usable_folder(name: str, folder: str | os.PathLike[str] | None) -> None:
    """Create ``folder`` now, so a folder that cannot be written fails before training, not after it."""
    if folder is None:
        return
    if not isinstance(folder, (str, os.PathLike)) or not os.fspath(folder).strip():
        raise ArgumentError(f"{name}={shown(folder)} must be a folder path (a non-empty str or pathlib.Path), or None")
    try:
        pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
    except (OSError, TypeError) as exc:
        raise ArgumentError(f"{name}={shown(folder)} cannot be used as a folder: {getattr(exc, 'strerror', None) or exc}") from None


def _eval_state(evaluator: EvalEvery | None) -> EvalState | None:
    if evaluator is None:
        return None
    return EvalState(evaluator.next_eval, evaluator.last_eval, evaluator.best_mean, evaluator.best_timestep, evaluator.best_weights)


def _eval_env(agent: Agent) -> Any:
    if agent.env_id is None:
        raise ArgumentError("eval_every needs a registered env (one made by id) to build a separate evaluation env")
    return make_env(agent.env_id, **agent.env_kwargs)
