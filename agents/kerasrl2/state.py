"""What a ``kerasrl2-dqn`` agent writes: its payload (HDF5 weights) and its training state
(replay memory, Adam's state, the env's generator) for checkpoints."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import numpy as np

from rlzoo.agent import env_rng_state, set_env_rng_state
from rlzoo.errors import ArtifactError, CheckpointError

from .network import build_model

#: The kerasrl2-dqn agent (agent.py, which imports this module: named, not imported, so the graph stays one-way).
KerasRL2DQN = Any

_COLUMNS = ("observations", "next_observations", "actions", "rewards", "terminated")


#: Keras model pairs that write and read fast-path agents' payloads, one per network shape.
_PAYLOAD_MODELS: dict[str, tuple[Any, Any]] = {}


def _payload_models(agent: KerasRL2DQN) -> tuple[Any, Any]:
    """The online and target Keras models whose HDF5 files are the payload.

    The stock path's own; for the fast path, a pair shared by every agent of that network
    shape (building Keras models per agent would cost more than training seeds side by side).
    """
    if agent.fused is None:
        return agent.model, agent.dqn.target_model
    shape = agent.memory.observations.shape[1:]
    key = repr((agent.config.hidden_layers, agent.config.enable_dueling_network, agent.config.dueling_type, shape, agent.n_actions))
    if key not in _PAYLOAD_MODELS:
        _PAYLOAD_MODELS[key] = (build_model(agent.config, shape, agent.n_actions), build_model(agent.config, shape, agent.n_actions))
    return _PAYLOAD_MODELS[key]


def forget_payload_models() -> None:
    """Forget the shared payload models (their graph is about to be dropped: see ``KerasRL2DQN.discard_all``)."""
    _PAYLOAD_MODELS.clear()


def write_payload(agent: KerasRL2DQN, directory: pathlib.Path) -> None:
    """Both networks' weights as Keras HDF5 files (``model.h5``, ``target_model.h5``)."""
    model, target_model = _payload_models(agent)
    online, target = agent.get_weights()
    model.set_weights(online)
    target_model.set_weights(target)
    model.save_weights(str(directory / "model.h5"))
    target_model.save_weights(str(directory / "target_model.h5"))


def read_payload(agent: KerasRL2DQN, directory: pathlib.Path) -> None:
    """HDF5 weights only: the model itself is rebuilt from the hyperparameters, and the files'
    weight shapes must match it (Keras would load some layers, then fail)."""
    models = _payload_models(agent)
    for model, name in zip(models, ("model.h5", "target_model.h5"), strict=True):
        check_weight_shapes(model, directory / name)
        model.load_weights(str(directory / name))
    if agent.fused is not None:
        agent.fused.set_weights(models[0].get_weights(), models[1].get_weights())


def write_training_state(agent: KerasRL2DQN, adam: list[np.ndarray], directory: pathlib.Path) -> None:
    """The replay memory, Adam's state (``adam``) and the env's generator."""
    memory = agent.memory
    with open(directory / "memory.npz", "wb") as handle:
        np.savez(handle, **{name: getattr(memory, name)[: memory.nb_entries] for name in _COLUMNS})
    with open(directory / "optimizer.npz", "wb") as handle:
        np.savez(handle, *adam)
    state = {"memory_next": memory._next, "memory_entries": memory.nb_entries, "env_rng": env_rng_state(agent.env)}
    (directory / "kerasrl2_state.json").write_text(json.dumps(state))


def read_training_state(agent: KerasRL2DQN, directory: pathlib.Path) -> list[np.ndarray]:
    """Restore what :func:`write_training_state` wrote; returns Adam's state for the caller to set."""
    memory = agent.memory
    state = json.loads((directory / "kerasrl2_state.json").read_text())
    entries = int(state["memory_entries"])
    if not 0 <= entries <= memory.limit or not 0 <= int(state["memory_next"]) < memory.limit:
        raise CheckpointError(directory, f"its replay memory ({entries} entries) does not fit memory_limit={memory.limit}")
    with np.load(directory / "memory.npz", allow_pickle=False) as arrays:
        for name in _COLUMNS:
            target = getattr(memory, name)
            if arrays[name].shape != (entries, *target.shape[1:]):
                raise CheckpointError(
                    directory, f"replay memory array {name!r} has shape {arrays[name].shape}, expected {(entries, *target.shape[1:])}"
                )
            target[:entries] = arrays[name]
    memory.nb_entries, memory._next = entries, int(state["memory_next"])
    with np.load(directory / "optimizer.npz", allow_pickle=False) as arrays:
        adam = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
    set_env_rng_state(agent.env, state["env_rng"])
    return adam


def check_weight_shapes(model: Any, path: pathlib.Path) -> None:
    """Refuse an HDF5 weights file whose arrays differ in number or shape from ``model``'s."""
    import h5py

    try:
        with h5py.File(path, "r") as weights:
            group = weights["model_weights"] if "model_weights" in weights else weights
            saved = []
            for layer in group.attrs["layer_names"]:
                layer_group = group[layer.decode() if isinstance(layer, bytes) else layer]
                for name in layer_group.attrs["weight_names"]:
                    saved.append(tuple(layer_group[name.decode() if isinstance(name, bytes) else name].shape))
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ArtifactError(path.name, f"it is not a readable Keras HDF5 weights file ({type(exc).__name__}: {exc})") from None
    built = [tuple(array.shape) for array in model.get_weights()]
    if saved != built:
        raise ArtifactError(
            path.name,
            f"its weight shapes {saved} do not fit the network built from rlzoo.json's "
            f"hyperparameters (hidden_layers, dueling...): {built}",
        )
