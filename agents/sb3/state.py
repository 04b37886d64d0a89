"""The SB3 backends' training state in a checkpoint: what continuing training needs besides
the payload (SB3's zip, which holds the weights and the optimizer state).

That is the off-policy replay buffer's arrays (``replay_buffer.npz``) and, as JSON
(``sb3_state.json``), the buffer's position and the action space's and envs' generators.
Nothing is pickled.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm

from rlzoo.agent import env_rng_state, set_env_rng_state
from rlzoo.checks import is_int, shown
from rlzoo.errors import CheckpointError

#: What an off-policy replay buffer holds, written to checkpoints as arrays (``next_observations``
#: is ``None`` with ``optimize_memory_usage``).
_BUFFER_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def write(model: BaseAlgorithm, directory: pathlib.Path) -> None:
    """Write ``model``'s replay buffer (off-policy algorithms) and generators into ``directory``.

    Parameters
    ----------
    model:
        The agent's SB3 algorithm.
    directory:
        The checkpoint folder being written (its writer makes the result atomic).

    Raises
    ------
    CheckpointError
        The replay buffer is of a kind rlzoo cannot write yet (dict observations).
    """
    state: dict[str, Any] = {
        "action_space_rng": model.action_space.np_random.bit_generator.state,
        "env_rngs": [env_rng_state(env) for env in getattr(model.env, "envs", [])],
        "replay_buffer": None,
    }
    buffer = getattr(model, "replay_buffer", None)
    if buffer is not None:
        arrays = {name: getattr(buffer, name) for name in _BUFFER_ARRAYS if isinstance(getattr(buffer, name, None), np.ndarray)}
        if len(arrays) < len(_BUFFER_ARRAYS) - 1:  # a dict-observation buffer stores dicts of arrays
            raise CheckpointError(directory, f"{type(buffer).__name__} replay buffers cannot be checkpointed yet")
        rows = buffer.buffer_size if buffer.full else min(buffer.pos + 1, buffer.buffer_size)
        with open(directory / "replay_buffer.npz", "wb") as handle:
            np.savez(handle, **{name: array[:rows] for name, array in arrays.items()})
        state["replay_buffer"] = {"pos": int(buffer.pos), "full": bool(buffer.full), "rows": rows}
    (directory / "sb3_state.json").write_text(json.dumps(state))


def read(model: BaseAlgorithm, directory: pathlib.Path) -> None:
    """Restore what :func:`write` wrote into ``model``, and reset its envs.

    The envs are reset so that the next ``learn`` starts a new episode drawn from the
    restored generators.

    Parameters
    ----------
    model:
        The agent's SB3 algorithm, its payload already read.
    directory:
        The checkpoint folder.

    Raises
    ------
    CheckpointError
        The state does not fit ``model``: a replay buffer it has none for or of other
        shapes, another number of envs, or no env at all.
    """
    state = json.loads((directory / "sb3_state.json").read_text())
    saved = state["replay_buffer"]
    if saved is not None:
        buffer = getattr(model, "replay_buffer", None)  # off-policy algorithms only
        if buffer is None:
            raise CheckpointError(directory, f"it holds a replay buffer, and this agent's {type(model).__name__} has none")
        with np.load(directory / "replay_buffer.npz", allow_pickle=False) as arrays:
            for name in arrays.files:
                target = getattr(buffer, name)
                if (
                    name not in _BUFFER_ARRAYS
                    or target is None
                    or arrays[name].shape[1:] != target.shape[1:]
                    or len(arrays[name]) > len(target)
                ):
                    raise CheckpointError(directory, f"replay buffer array {name!r} does not fit this agent's buffer")
                target[: len(arrays[name])] = arrays[name]
        position, full = saved["pos"], saved["full"]
        if not is_int(position) or not 0 <= position < buffer.buffer_size or not isinstance(full, bool):
            raise CheckpointError(
                directory, f"replay buffer position {shown(position)} is not in [0, {buffer.buffer_size}) of this agent's buffer"
            )
        buffer.pos, buffer.full = int(position), full
    model.action_space.np_random.bit_generator.state = state["action_space_rng"]
    vec_env = model.env
    if vec_env is None:
        raise CheckpointError(directory, "this agent has no env to restore the envs' generators into")
    envs = getattr(vec_env, "envs", [])
    if len(envs) != len(state["env_rngs"]):
        raise CheckpointError(directory, f"it was written with {len(state['env_rngs'])} envs, this agent has {len(envs)}")
    vec_env.reset()  # uses up the seeds SB3 set while loading, so the next reset draws from the restored generators
    for env, rng_state in zip(envs, state["env_rngs"], strict=True):
        set_env_rng_state(env, rng_state)
    model._last_obs = vec_env.reset()  # type: ignore[assignment]  # SB3 assigns it so too: its VecEnvObs includes a tuple
    model._last_episode_starts = np.ones((vec_env.num_envs,), dtype=bool)
