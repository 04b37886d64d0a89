"""``rlzoo.train``: one training entry point for every backend."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rlzoo import checks
from rlzoo.agent import Agent
from rlzoo.callbacks import Callback, CallbackList, EpisodeRecorder, EvalEvery, ProgressBar
from rlzoo.errors import ArgumentError
from rlzoo.checks import shown
from rlzoo.registry import as_single_agent_env, check_seed, make_agent, make_env


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
    **hyperparams:
        Hyperparameters for building the agent (only when ``agent`` is a name).

    Returns
    -------
    Agent
        The trained agent; ``agent.history`` has every training episode.

    Raises
    ------
    ArgumentError: an argument of the wrong kind (``total_timesteps`` must be an int >= 1,
        ``eval_every`` an int >= 0, ``eval_episodes`` an int >= 1, ``seed`` None or an int >= 0).
    HyperparameterError: a bad hyperparameter (when ``agent`` is a name).
    TrainingDivergedError: training met a non-finite observation, reward, loss or weight.
    """
    check_seed(seed)  # every argument is checked before the agent is built or changed
    seed = None if seed is None else int(seed)
    _check_numbers(total_timesteps=total_timesteps, eval_every=eval_every, eval_episodes=eval_episodes)
    callbacks = list(callbacks)
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise ArgumentError(f"callbacks must be rlzoo.Callback instances, got {shown(callback)}")
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
    preset = agent.train_defaults  # looked up once, by make_agent, from the same factory as the hyperparameters
    if total_timesteps is None:
        total_timesteps = preset.get("total_timesteps")
        if total_timesteps is None:
            raise ArgumentError(f"agent {agent.name!r} has no preset for env {agent.env_id!r}: pass total_timesteps")
    if eval_every is None:
        eval_every = preset.get("eval_every", 0)
    if eval_episodes is None:
        eval_episodes = preset.get("eval_episodes", 10)
    _check_numbers(total_timesteps=total_timesteps, eval_every=eval_every, eval_episodes=eval_episodes)  # the preset's too
    total_timesteps = int(total_timesteps)

    hooks: list[Callback] = [EpisodeRecorder(), *callbacks]
    if eval_every:
        hooks.append(EvalEvery(lambda: _eval_env(agent), int(eval_every), int(eval_episodes), seed=seed))
    if progress_bar:
        hooks.append(ProgressBar())
    callback = CallbackList(hooks)
    callback.on_training_start(agent, total_timesteps)
    agent.learn(total_timesteps, callback)
    callback.on_training_end(agent)
    return agent


#: train's numeric arguments and what each accepts.
_RULES: dict[str, checks.Rule] = {
    "total_timesteps": checks.integer(1),
    "eval_every": checks.integer(0),
    "eval_episodes": checks.integer(1),
}


def _check_numbers(**arguments: Any) -> None:
    """Each argument that is not ``None`` against its rule."""
    for name, value in arguments.items():
        problem = None if value is None else _RULES[name](value)
        if problem is not None:
            raise ArgumentError(f"{name}={shown(value)}: {problem}")


def _eval_env(agent: Agent) -> Any:
    if agent.env_id is None:
        raise ArgumentError("eval_every needs a registered env (one made by id) to build a separate evaluation env")
    return make_env(agent.env_id, **agent.env_kwargs)
