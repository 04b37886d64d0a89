"""Playing an exported policy (``policy.onnx``) with onnxruntime and NumPy alone: :class:`OnnxPolicy`.

``rlzoo export`` writes the greedy policy as an ONNX graph from observations (``float32``,
first axis the batch) to actions (output ``action``), plus ``q_values`` or ``logits`` where
the agent has them. The file's metadata (``rlzoo.*`` keys, :data:`METADATA`) names the agent
and env it was exported from and the observation wrappers that are not part of the graph:
frame stacking keeps the last k observations between steps, which a stateless graph cannot,
so ``rlzoo.frame_stack`` says how many frames the graph expects and :class:`OnnxPolicy`
stacks them, as the agent did.

:class:`OnnxPolicy` honours the acting half of the :class:`~rlzoo.agent.Agent` contract
(``predict``, ``predict_batch``, ``wrap_env``), so :func:`rlzoo.evaluate` plays it. Neither
TensorFlow nor torch is imported; onnxruntime is imported when a file is opened.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any, NoReturn

import gymnasium as gym
import numpy as np

from rlzoo.agent import Agent, stack_frames
from rlzoo.errors import ArtifactError, MissingDependencyError, RLZooError
from rlzoo.multiagent import as_single_agent_env

#: The version of the metadata rlzoo writes into ``policy.onnx``.
ONNX_FORMAT_VERSION = 1
#: Metadata keys: what each records.
METADATA = {
    "rlzoo.format_version": "the version of these keys (1)",
    "rlzoo.agent": "the registered agent the policy was exported from",
    "rlzoo.env_id": "its env id",
    "rlzoo.env_kwargs": "its env kwargs, as JSON",
    "rlzoo.frame_stack": "observations are the last k frames, stacked by the player (1: none)",
    "rlzoo.action": "'discrete' (an int64 index per row) or 'continuous' (float32 rows, already in the action space's bounds)",
    "rlzoo.versions": "the package versions at export, as JSON",
}
#: The largest ``policy.onnx`` opened.
MAX_ONNX_BYTES = 512 * 2**20


class OnnxPolicy(Agent):
    """A greedy policy exported to ONNX, bound to an env, playable by :func:`rlzoo.evaluate`.

    Build it with :func:`load_onnx`. It acts only: training, weights and saving raise
    :class:`~rlzoo.errors.RLZooError`.

    Parameters
    ----------
    session:
        An ``onnxruntime.InferenceSession`` of the file.
    metadata:
        The file's ``rlzoo.*`` metadata.
    env:
        The env it acts on, with the frames already stacked as the graph expects.
    frame_stack:
        Frames per observation (``rlzoo.frame_stack``).
    """

    def __init__(self, session: Any, metadata: dict[str, str], env: gym.Env, frame_stack: int) -> None:
        super().__init__(env)
        self.session = session
        self.metadata = metadata
        self.frame_stack = frame_stack
        self.name = f"{metadata['rlzoo.agent']} (ONNX)"
        self.discrete = metadata["rlzoo.action"] == "discrete"
        self._input = session.get_inputs()[0].name

    def predict(self, observation: Any, deterministic: bool = True) -> Any:
        """The greedy action for one observation."""
        return self.predict_batch(np.asarray(observation)[None], deterministic)[0]

    def predict_batch(self, observations: np.ndarray, deterministic: bool = True) -> list[Any]:
        """The greedy actions of a batch of observations, one graph run for all rows.

        Raises
        ------
        RLZooError
            ``deterministic=False``: the file holds the greedy policy only.
        """
        if not deterministic:
            raise RLZooError("an exported ONNX policy is greedy only: evaluate it without --stochastic (deterministic=True)")
        (actions, *_) = self.session.run(None, {self._input: np.asarray(observations, dtype=np.float32)})
        if self.discrete:
            return [int(action) for action in actions]
        return list(actions)

    def _acts_only(self, what: str) -> NoReturn:
        raise RLZooError(f"an exported ONNX policy only acts; {what} needs the agent.zip it was exported from (rlzoo.load)")

    def learn(self, total_timesteps: int, callback: Any = None) -> None:
        self._acts_only("training")

    def get_weights(self) -> Any:
        self._acts_only("get_weights")

    def set_weights(self, weights: Any) -> None:
        self._acts_only("set_weights")

    def write_payload(self, directory: pathlib.Path) -> None:
        self._acts_only("saving")

    def read_payload(self, directory: pathlib.Path) -> None:
        self._acts_only("read_payload")

    def package_versions(self) -> dict[str, str]:
        return dict(json.loads(self.metadata.get("rlzoo.versions", "{}")))


def read_metadata(path: str | os.PathLike[str], session: Any) -> dict[str, str]:
    """The ``rlzoo.*`` metadata of an open session, checked.

    Raises
    ------
    ArtifactError
        A key is missing or has a value of the wrong form, or the format is newer.
    """
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    missing = [key for key in METADATA if key not in metadata and key != "rlzoo.versions"]
    if missing:
        raise ArtifactError(path, f"it has no {', '.join(missing)} metadata: export the agent with rlzoo export AGENT.zip --onnx FILE")
    if metadata["rlzoo.format_version"] != str(ONNX_FORMAT_VERSION):
        version = metadata["rlzoo.format_version"]
        raise ArtifactError(path, f"its rlzoo.format_version is {version!r}; this rlzoo reads {ONNX_FORMAT_VERSION}: upgrade rlzoo")
    if metadata["rlzoo.action"] not in ("discrete", "continuous"):
        raise ArtifactError(path, f"its rlzoo.action is {metadata['rlzoo.action']!r}: expected 'discrete' or 'continuous'")
    if not metadata["rlzoo.frame_stack"].isdigit() or not 1 <= int(metadata["rlzoo.frame_stack"]) <= 1024:
        raise ArtifactError(path, f"its rlzoo.frame_stack is {metadata['rlzoo.frame_stack']!r}: expected an int from 1 to 1024")
    try:
        kwargs = json.loads(metadata["rlzoo.env_kwargs"])
    except ValueError:
        kwargs = None
    if not isinstance(kwargs, dict):
        raise ArtifactError(path, "its rlzoo.env_kwargs is not a JSON object")
    return metadata


def load_onnx(path: str | os.PathLike[str], env: gym.Env | str | None = None, *, threads: int = 1) -> OnnxPolicy:
    """Open an exported ``policy.onnx`` as a player of its env.

    Parameters
    ----------
    path:
        A file written by ``rlzoo export`` (or :func:`rlzoo.export_onnx`).
    env:
        The env to act on (an id or instance, as registered: frames are stacked here); by
        default the one the file names, with its kwargs.
    threads:
        onnxruntime's intra-op threads (1 is fastest for small networks).

    Returns
    -------
    OnnxPolicy

    Raises
    ------
    ArtifactError
        Not a readable ONNX file, foreign metadata, or observations of another shape than the env's.
    MissingDependencyError
        onnxruntime is not installed (the ``onnx`` extra).
    """
    try:
        import onnxruntime  # the onnx extra; the only inference library a player needs
    except ImportError as exc:
        raise MissingDependencyError("playing an ONNX policy", "onnx") from exc
    file = pathlib.Path(path)
    if not file.is_file():
        problem = "no such file" if not file.exists() else "it is not a regular file"
        raise ArtifactError(path, f"{problem}: give the policy.onnx that rlzoo export wrote")
    if file.stat().st_size > MAX_ONNX_BYTES:
        raise ArtifactError(path, f"it is larger than {MAX_ONNX_BYTES} bytes")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(file.read_bytes(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for every kind of bad file
        raise ArtifactError(path, f"not a readable ONNX model: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from None
    metadata = read_metadata(path, session)
    if env is None or env == metadata["rlzoo.env_id"]:
        made = as_single_agent_env(metadata["rlzoo.env_id"], **json.loads(metadata["rlzoo.env_kwargs"]))
    else:
        made = as_single_agent_env(env)
    frame_stack = int(metadata["rlzoo.frame_stack"])
    stacked = stack_frames(made, frame_stack)
    expected = tuple(session.get_inputs()[0].shape[1:])
    shape = stacked.observation_space.shape
    if shape is None or tuple(shape) != expected:
        raise ArtifactError(
            path,
            f"its graph takes observations of shape {expected} ({frame_stack} frame(s) of the env's), and "
            f"{made.spec.id if made.spec else 'this env'} gives {shape} after stacking: play it on the env it was exported from "
            f"({metadata['rlzoo.env_id']})",
        )
    return OnnxPolicy(session, metadata, stacked, frame_stack)
