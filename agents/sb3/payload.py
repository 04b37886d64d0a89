"""The SB3 backends' payload in an rlzoo artifact: SB3's own zip, read back without unpickling.

SB3's ``save`` writes a zip with ``data`` (JSON, in which some attributes are cloudpickle
blobs), ``policy.pth`` and the optimizer's state. :func:`read` loads it only once it matches
the agent that ``rlzoo.json`` describes, and replaces every pickled attribute by the
agent's own, so ``cloudpickle.loads`` never runs.
"""

from __future__ import annotations

import io
import json
import pathlib
import pickle
import zipfile
from typing import Any

import stable_baselines3
import torch
from stable_baselines3.common.base_class import BaseAlgorithm

from rlzoo.errors import ArtifactError
from rlzoo.files import unpack_limit, zip_size_problem

#: The payload's file name inside the artifact.
PAYLOAD = "sb3_model.zip"


def write(model: BaseAlgorithm, directory: pathlib.Path) -> None:
    """Write ``model`` as SB3's zip into ``directory``.

    Parameters
    ----------
    model:
        The agent's SB3 algorithm.
    directory:
        The folder the artifact is assembled in (its writer makes the result atomic).
    """
    model.save(directory / PAYLOAD)


def read(model: BaseAlgorithm, algorithm: type[BaseAlgorithm], directory: pathlib.Path, hyperparams: set[str]) -> BaseAlgorithm:
    """Load SB3's zip without unpickling anything, once it matches ``model``.

    ``model`` was freshly built from ``rlzoo.json``, which is the authority: the payload
    must come from the same algorithm (SB3's ``data`` holds the same fields) and hold weights
    of the same names and shapes as its policy. SB3 stores some attributes (spaces, policy
    class, schedules) as cloudpickle blobs; every one of them, and every constructor argument,
    is replaced through ``custom_objects`` by the same attribute of ``model``, so
    ``cloudpickle.loads`` never runs and the architecture is the manifest's. A blob rlzoo
    cannot rebuild is refused. Tensors load with ``torch.load(weights_only=True)``.

    Parameters
    ----------
    model:
        The SB3 algorithm built from the artifact's manifest, with its env.
    algorithm:
        The SB3 algorithm class the manifest names (the class ``model`` was built as).
    directory:
        The unpacked artifact.
    hyperparams:
        The names of the backend's hyperparameters (the algorithm's constructor arguments).

    Returns
    -------
    BaseAlgorithm
        A new ``algorithm``, on ``model``'s env and device, with the saved weights.

    Raises
    ------
    ArtifactError
        The payload is unreadable, too large unpacked, from another algorithm, holds weights
        of other shapes, or pickled objects rlzoo cannot rebuild.
    """
    path = directory / PAYLOAD
    data = _check(model, algorithm.__name__, path)
    custom_objects = {key: getattr(model, key) for key in _pickled_keys(model, data)}
    for key in hyperparams & set(data):
        if hasattr(model, key):
            custom_objects[key] = getattr(model, key)
    return algorithm.load(path, env=model.get_env(), custom_objects=custom_objects, device=model.device)


def _saved_keys(model: BaseAlgorithm) -> set[str]:
    """The fields SB3's ``save`` writes to ``data`` for ``model``."""
    excluded = set(model._excluded_save_params())
    state_dicts, tensors = model._get_torch_save_params()
    excluded |= {name.split(".")[0] for name in [*state_dicts, *tensors]}
    return set(model.__dict__) - excluded


def _check(model: BaseAlgorithm, algorithm: str, path: pathlib.Path) -> dict[str, Any]:
    """SB3's ``data`` fields, once the payload is known to be the algorithm named ``algorithm`` with ``model``'s policy's shapes."""
    try:
        with zipfile.ZipFile(path) as archive:
            problem = zip_size_problem(archive, unpack_limit())
            if problem:
                raise ArtifactError(PAYLOAD, problem)
            data = json.loads(archive.read("data"))
            with archive.open("policy.pth") as weights:
                state = torch.load(io.BytesIO(weights.read()), map_location="cpu", weights_only=True)
    except ArtifactError:
        raise
    except pickle.UnpicklingError:
        # torch's own message suggests weights_only=False: the one thing never to do with a file one did not write.
        raise ArtifactError(PAYLOAD, "its policy.pth holds pickled objects, not only tensors: rlzoo never unpickles them") from None
    except (OSError, KeyError, ValueError, RecursionError, zipfile.BadZipFile, RuntimeError) as exc:
        raise ArtifactError(PAYLOAD, f"it is not a readable SB3 model ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or not isinstance(state, dict):
        raise ArtifactError(PAYLOAD, "it is not a readable SB3 model (its data or policy weights are malformed)")
    _pickled_keys(model, data)  # before anything else: the file must not even look as if we would unpickle
    expected = _saved_keys(model)
    missing, extra = sorted(expected - set(data)), sorted(set(data) - expected)
    if missing or extra:
        raise ArtifactError(
            PAYLOAD,
            (
                f"it is not an SB3 {algorithm} model as rlzoo.json says (it lacks {', '.join(missing) or 'nothing'}; "
                f"it has {', '.join(extra) or 'nothing'} more); was it saved by another algorithm or another "
                f"stable-baselines3 than {stable_baselines3.__version__}?"
            ),
        )
    built = {name: tuple(tensor.shape) for name, tensor in model.policy.state_dict().items()}
    saved = {name: tuple(getattr(tensor, "shape", ())) for name, tensor in state.items()}
    if saved != built:
        differences = [
            f"{name}: {saved.get(name, 'absent')} in the file, {built.get(name, 'absent')} as built"
            for name in sorted(set(saved) | set(built))
            if saved.get(name) != built.get(name)
        ]
        raise ArtifactError(
            PAYLOAD,
            (
                f"its policy weights do not fit the {algorithm} policy built from rlzoo.json's hyperparameters "
                f"(policy_kwargs, net_arch...): {'; '.join(differences[:3])}{'; ...' if len(differences) > 3 else ''}"
            ),
        )
    return data


def _pickled_keys(model: BaseAlgorithm, data: dict[str, Any]) -> list[str]:
    """The ``data`` fields that are cloudpickle blobs, each one an attribute ``model`` can stand in for."""
    keys = [key for key, value in data.items() if isinstance(value, dict) and ":serialized:" in value]
    unknown = [key for key in keys if not hasattr(model, key)]
    if unknown:
        raise ArtifactError(
            PAYLOAD, f"the SB3 payload holds pickled objects rlzoo cannot rebuild ({', '.join(unknown)}): refusing to unpickle them"
        )
    return keys
