"""Building an agent: a registered name, an env, a preset and a seed turned into an :class:`~rlzoo.agent.Agent`."""

from __future__ import annotations

import os
from typing import Any

from rlzoo import checks
from rlzoo.agent import Agent, env_identity, stack_frames
from rlzoo.errors import ArgumentError, HyperparameterError
from rlzoo.multiagent import as_single_agent_env
from rlzoo.presets import find_preset
from rlzoo.registry import get_agent
from rlzoo.seeding import seed_everything

#: The most frames ``frame_stack`` may stack.
MAX_FRAME_STACK = 1024


def make_agent(name: str, env: Any, *, seed: int | None = None, preset: str | os.PathLike[str] | None = None, **hyperparams: Any) -> Agent:
    """Build a registered agent on an env.

    Parameters
    ----------
    name:
        A name from :func:`list_agents` (e.g. ``"sb3-dqn"``).
    env:
        An env id (made with :func:`make_env`) or an env instance.
    seed:
        Seeds Python, NumPy and the backend before the agent is built, so weights and
        training are reproducible.
    preset:
        A preset YAML file to take the hyperparameters and training settings from instead
        of the agent's own (such as ``best_preset.yml`` from ``rlzoo tune``), or a preset
        name (``"recipe"``: the agent's ``<agent>.recipe.yml``).
    **hyperparams:
        Override the preset for (agent, env) where one exists, else the backend's defaults.
        ``frame_stack=k`` (any backend) makes observations the last k frames.

    Returns
    -------
    Agent

    Raises
    ------
    ArgumentError: ``name``, ``env`` or ``seed`` of the wrong kind (``seed``: ``None`` or an int >= 0).
    HyperparameterError: an unknown hyperparameter or a bad value (checked before anything trains).
    """
    if not isinstance(name, str):
        raise ArgumentError(f"an agent name must be a string such as 'sb3-dqn' (rlzoo list shows them all), got {checks.shown(name)}")
    seed = checks.check_seed(seed)
    factory = get_agent(name)
    env = as_single_agent_env(env)
    env_id = env_identity(env)[0]
    found = find_preset(factory, env_id, preset)
    settings = {**found.hyperparams, **hyperparams}
    frame_stack = settings.pop("frame_stack", 1)  # every backend: an env wrapper, not the backend's job
    problem = checks.integer(1)(frame_stack)
    if problem is None and frame_stack > MAX_FRAME_STACK:  # each frame is a copy of the observation: 10**9 would exhaust memory
        problem = f"must be an int from 1 to {MAX_FRAME_STACK}"
    if problem is not None:
        raise HyperparameterError(name, "frame_stack", problem=f"{problem} (the number of stacked frames)", value=frame_stack)
    frame_stack = int(frame_stack)
    try:
        env = stack_frames(env, frame_stack)
        if seed is not None:
            seed_everything(seed)
        agent = factory(env, seed=seed, **settings)
    except MemoryError as exc:
        raise ArgumentError(
            f"agent {name!r} with these settings needs more memory than this machine has ({exc}): "
            "lower frame_stack, buffer_size, memory_limit or the network's size"
        ) from None
    agent.frame_stack = frame_stack
    # Training settings fall through: the preset file's, then the agent's own preset's (rlzoo.settings).
    agent.train_defaults = {**find_preset(factory, env_id).train, **found.train} if preset is not None else dict(found.train)
    if frame_stack > 1:
        agent.hyperparams["frame_stack"] = frame_stack  # recorded, so load stacks frames again
    agent.name = name
    return agent
