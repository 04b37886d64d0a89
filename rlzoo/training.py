"""``rlzoo.train``: one training entry point for every backend."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from rlzoo.agent import Agent
from rlzoo.callbacks import Callback, CallbackList, EpisodeRecorder, EvalEvery, ProgressBar
from rlzoo.registry import make_agent, make_env
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
        Env steps to train for; defaults to the preset's for (agent, env).
    seed:
        Seed for building the agent (only when ``agent`` is a name) and for the periodic
        evaluations.
    callbacks:
        :class:`rlzoo.callbacks.Callback` objects called during training.
    progress_bar:
        Show a tqdm progress bar.
    eval_every:
        Evaluate the greedy policy every this many steps on a separate env instance, log
        the scores (``agent.history.evaluations``), and at the end keep the best-scoring
        weights (the latest on ties). ``None`` takes the preset's (off without one); ``0``
        turns it off.
    eval_episodes:
        Episodes per periodic evaluation (the preset's, else 10).
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
        The trained agent; ``agent.history`` has every training episode.
    """
    set_threads(threads)  # before building an agent: TensorFlow fixes its thread count then
    if isinstance(agent, str):
        if env is None:
            raise ValueError(f"train({agent!r}) needs env=: an env id or instance to build the agent on")
        agent = make_agent(agent, env, seed=seed, **hyperparams)
    else:
        if hyperparams:
            raise ValueError(f"hyperparameters {sorted(hyperparams)} only apply when agent is a name: this agent is built already")
        if env is not None:
            agent.set_env(agent.wrap_env(make_env(env) if isinstance(env, str) else env))
    preset = agent.train_defaults  # looked up once, by make_agent, from the same factory as the hyperparameters
    if total_timesteps is None:
        total_timesteps = preset.get("total_timesteps")
        if total_timesteps is None:
            raise ValueError(f"agent {agent.name!r} has no preset for env {agent.env_id!r}: pass total_timesteps")
    total_timesteps = int(total_timesteps)
    if total_timesteps <= 0:
        raise ValueError(f"total_timesteps must be positive, got {total_timesteps}")
    if eval_every is None:
        eval_every = preset.get("eval_every", 0)
    if eval_episodes is None:
        eval_episodes = preset.get("eval_episodes", 10)

    hooks: list[Callback] = [EpisodeRecorder(), *callbacks]
    if eval_every:
        hooks.append(EvalEvery(lambda: _eval_env(agent), int(eval_every), int(eval_episodes), seed=seed))
    if tensorboard_log is not None:  # after EvalEvery, so the final evaluation is logged too
        hooks.append(TensorBoardLogger(tensorboard_log))
    if progress_bar:
        hooks.append(ProgressBar())
    callback = CallbackList(hooks)
    callback.on_training_start(agent, total_timesteps)
    agent.learn(total_timesteps, callback)
    callback.on_training_end(agent)
    return agent


def _eval_env(agent: Agent) -> Any:
    if agent.env_id is None:
        raise ValueError("eval_every needs a registered env (one made by id) to build a separate evaluation env")
    return make_env(agent.env_id, **agent.env_kwargs)
