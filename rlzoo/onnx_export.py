"""Exporting an agent's greedy policy to ONNX: :func:`export_onnx` (``rlzoo export``).

Each backend's network goes through its framework's own converter: ``torch.onnx.export``
(the TorchScript exporter, ``dynamo=False``) for Stable-Baselines3, tf2onnx for the Keras
Q-network of keras-rl2. The graph maps a batch of observations (``float32``, input
``observation``) to the greedy action (output ``action``) and, where the agent has them,
its Q-values (``q_values``) or action logits (``logits``):

==============  ==========================================================================
kerasrl2-dqn    Q-network, argmax                                     ``action, q_values``
sb3-dqn         ``q_net``, argmax                                     ``action, q_values``
sb3-ppo/a2c     actor: argmax of the logits (Discrete), or the mean   ``action, logits``
                clipped to the action space's bounds (Box)            ``action``
sb3-sac         actor: tanh of the mean, scaled to the bounds         ``action``
==============  ==========================================================================

Frame stacking cannot live in a stateless graph; the file's metadata says how many frames
the graph expects (:mod:`rlzoo.onnx_policy`), and the player stacks them. Before the file is
written, onnxruntime's actions are checked against ``agent.predict`` on the observations of
a real episode. Framework imports happen inside the functions: this module is imported by
``rlzoo export`` only.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import pathlib
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from rlzoo.agent import Agent
from rlzoo.artifact import load
from rlzoo.errors import MissingDependencyError, RLZooError
from rlzoo.files import atomic_write
from rlzoo.multiagent import as_single_agent_env
from rlzoo.onnx_policy import ONNX_FORMAT_VERSION

#: The ONNX opset written (onnxruntime 1.16 and later run it).
OPSET = 17
#: Observations of real episodes the export checks its graph on.
CHECK_STEPS = 256
#: Continuous actions may differ from ``agent.predict``'s by this much.
CONTINUOUS_TOLERANCE = 1e-5


def export_onnx(agent: Agent | str | os.PathLike[str], path: str | os.PathLike[str]) -> pathlib.Path:
    """Write the greedy policy of an agent as an ONNX file, checked against the agent.

    Parameters
    ----------
    agent:
        An agent, or the path of a saved one (a zip or a model folder).
    path:
        The ``.onnx`` file to write (atomically: a failed export leaves nothing).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    RLZooError
        An agent or observation space with no exporter, a torch or tf2onnx whose exporter
        rlzoo does not support, or a graph whose actions differ from the agent's.
    MissingDependencyError
        onnx, onnxruntime (or, for keras-rl2, tf2onnx) is not installed: the ``onnx`` extra.
    """
    if not isinstance(agent, Agent):
        agent = load(agent)
    try:
        import onnx  # the onnx extra: to attach the metadata
    except ImportError as exc:
        raise MissingDependencyError("ONNX export", "onnx") from exc
    exporter = _EXPORTERS.get(agent.name)
    if exporter is None:
        raise RLZooError(f"no ONNX exporter for agent {agent.name!r}: rlzoo exports {', '.join(sorted(_EXPORTERS))}")
    space = agent.env.observation_space
    if not isinstance(space, gym.spaces.Box) or space.shape is None:
        raise RLZooError(f"ONNX export needs Box observations; {agent.env_id} has {space}")
    model = onnx.load_from_string(exporter(agent, tuple(space.shape)))
    onnx.helper.set_model_props(model, _metadata(agent))
    data = model.SerializeToString()
    _check_against_agent(agent, data)
    target = pathlib.Path(path)
    with atomic_write(target) as handle:
        handle.write(data)
    return target


def _metadata(agent: Agent) -> dict[str, str]:
    return {
        "rlzoo.format_version": str(ONNX_FORMAT_VERSION),
        "rlzoo.agent": agent.name,
        "rlzoo.env_id": agent.env_id or "",
        "rlzoo.env_kwargs": json.dumps(agent.env_kwargs),
        "rlzoo.frame_stack": str(agent.frame_stack),
        "rlzoo.action": "discrete" if isinstance(agent.env.action_space, gym.spaces.Discrete) else "continuous",
        "rlzoo.versions": json.dumps(agent.package_versions()),
    }


def _check_against_agent(agent: Agent, data: bytes) -> None:
    """onnxruntime's actions against ``agent.predict`` on one real greedy episode (up to :data:`CHECK_STEPS` steps)."""
    import onnxruntime  # the onnx extra

    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    env = agent.wrap_env(_fresh_env(agent))
    try:
        observation, _ = env.reset(seed=0)
        for _ in range(CHECK_STEPS):
            expected = agent.predict(observation, deterministic=True)
            (actions, *_) = session.run(None, {"observation": np.asarray(observation, dtype=np.float32)[None]})
            if not _agrees(expected, actions[0]):
                raise RLZooError(
                    f"the exported graph of {agent.name} chose {actions[0]!r} where the agent chooses {expected!r}: "
                    "the export is wrong; nothing was written (please report it)"
                )
            observation, _, terminated, truncated, _ = env.step(expected)
            if terminated or truncated:
                break
    finally:
        env.close()


def _fresh_env(agent: Agent) -> Any:
    if agent.env_id is None:
        raise RLZooError("ONNX export checks the graph on the agent's env, and this agent's env is not registered")
    return as_single_agent_env(agent.env_id, **agent.env_kwargs)


def _agrees(expected: Any, action: np.ndarray) -> bool:
    if np.ndim(action) == 0:
        return int(action) == int(expected)
    return bool(np.allclose(action, expected, rtol=0, atol=CONTINUOUS_TOLERANCE))


# -- Stable-Baselines3: torch.onnx ---------------------------------------------------------
def _torch_export(module: Any, shape: tuple[int, ...], outputs: list[str]) -> bytes:
    import torch  # the sb3 extra

    parameters = set(inspect.signature(torch.onnx.export).parameters)
    if "dynamo" not in parameters and "opset_version" not in parameters:
        raise RLZooError(f"torch {torch.__version__}'s ONNX exporter is not supported: rlzoo exports with torch 2.3 to 2.13")
    buffer = io.BytesIO()
    axes = {name: {0: "batch"} for name in ["observation", *outputs]}
    kwargs: dict[str, Any] = {"dynamo": False} if "dynamo" in parameters else {}
    with warnings.catch_warnings(), torch.no_grad():
        # torch >= 2.9 warns that the TorchScript exporter is deprecated; the torch.export-based one
        # needs onnxscript and gives the same Gemm/Relu graph for these MLPs.
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                module.eval(),
                (torch.zeros((1, *shape)),),
                buffer,  # type: ignore[arg-type]  # the TorchScript exporter writes to file objects too
                input_names=["observation"],
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=OPSET,
                **kwargs,
            )
        except (TypeError, RuntimeError, ImportError) as exc:
            raise RLZooError(
                f"torch {torch.__version__}'s ONNX exporter failed ({type(exc).__name__}: {exc}): rlzoo exports with "
                "torch's TorchScript exporter (torch 2.3 to 2.13)"
            ) from None
    return buffer.getvalue()


def _sb3_dqn(agent: Any, shape: tuple[int, ...]) -> bytes:
    import torch  # the sb3 extra

    class Greedy(torch.nn.Module):
        def __init__(self, q_net: torch.nn.Module) -> None:
            super().__init__()
            self.q_net = q_net

        def forward(self, observation: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            q_values = self.q_net(observation)
            return torch.argmax(q_values, dim=1), q_values

    return _torch_export(Greedy(agent.model.policy.q_net), shape, ["action", "q_values"])


def _sb3_actor_critic(agent: Any, shape: tuple[int, ...]) -> bytes:
    import torch  # the sb3 extra
    from stable_baselines3.common.policies import BasePolicy

    policy = agent.model.policy
    space = agent.env.action_space
    if not isinstance(space, (gym.spaces.Discrete, gym.spaces.Box)):
        raise RLZooError(f"ONNX export of {agent.name} supports Discrete and Box actions; {agent.env_id} has {space}")
    discrete = isinstance(space, gym.spaces.Discrete)
    if isinstance(space, gym.spaces.Box):  # SB3's predict clips the Gaussian's mean to the bounds: constants of the graph
        low, high = (torch.as_tensor(bound, dtype=torch.float32) for bound in (space.low, space.high))

    class Greedy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.policy = policy

        def forward(self, observation: torch.Tensor) -> Any:
            features = BasePolicy.extract_features(self.policy, observation, self.policy.pi_features_extractor)
            out = self.policy.action_net(self.policy.mlp_extractor.forward_actor(features))
            if discrete:
                return torch.argmax(out, dim=1), out
            return torch.minimum(torch.maximum(out, low), high)

    return _torch_export(Greedy(), shape, ["action", "logits"] if discrete else ["action"])


def _sb3_sac(agent: Any, shape: tuple[int, ...]) -> bytes:
    import torch  # the sb3 extra

    actor = agent.model.policy.actor
    space = agent.env.action_space
    low, high = (torch.as_tensor(bound, dtype=torch.float32) for bound in (space.low, space.high))

    class Greedy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.actor = actor

        def forward(self, observation: torch.Tensor) -> torch.Tensor:
            mean, _, _ = self.actor.get_action_dist_params(observation)
            squashed = torch.tanh(mean)  # the squashed Gaussian's mode, as SAC's deterministic action
            return low + 0.5 * (squashed + 1.0) * (high - low)  # SB3's unscale_action

    return _torch_export(Greedy(), shape, ["action"])


# -- keras-rl2: tf2onnx --------------------------------------------------------------------
def _kerasrl2_dqn(agent: Any, shape: tuple[int, ...]) -> bytes:
    try:
        import tf2onnx  # the onnx extra; imports TensorFlow, which the agent already did
    except ImportError as exc:
        raise MissingDependencyError("ONNX export of kerasrl2-dqn (tf2onnx)", "onnx") from exc
    import tensorflow as tf  # the kerasrl2 extra

    version = tuple(int(part) for part in tf2onnx.__version__.split(".")[:2] if part.isdigit())
    if version < (1, 16):
        raise RLZooError(f"tf2onnx {tf2onnx.__version__} is not supported: rlzoo exports Keras models with tf2onnx 1.16 or later")
    from tf_keras.src import backend  # the kerasrl2 extra (get_session is not in tf_keras.backend)

    # keras-rl2 runs TensorFlow in graph mode (it disables eager execution on import), where
    # tf2onnx.convert.from_function cannot trace: freeze the Q-network's part of the session's
    # graph with the weights it holds now, and convert that graph.
    model = agent.model
    session = backend.get_session()
    output = model.output.op.name
    try:
        frozen = tf.compat.v1.graph_util.convert_variables_to_constants(session, session.graph.as_graph_def(), [output])
        frozen = tf.compat.v1.graph_util.extract_sub_graph(frozen, [output])
        proto, _ = tf2onnx.convert.from_graph_def(frozen, input_names=[model.input.name], output_names=[model.output.name], opset=OPSET)
    except Exception as exc:  # tf2onnx raises plain Exceptions for unsupported ops or TensorFlow versions
        raise RLZooError(
            f"tf2onnx {tf2onnx.__version__} cannot convert this Keras model with TensorFlow {tf.__version__} ({type(exc).__name__}: {exc})"
        ) from None
    return _with_greedy_head(proto, model.input.name, model.output.name)


def _with_greedy_head(proto: Any, window_input: str, q_output: str) -> bytes:
    """The graph with input ``observation`` (keras-rl2's window of one frame added inside) and outputs ``action, q_values``."""
    import onnx  # the onnx extra

    graph = proto.graph
    (window,) = [value for value in graph.input if value.name == window_input]
    (q_values,) = [value for value in graph.output if value.name == q_output]
    shape = [dim.dim_value for dim in window.type.tensor_type.shape.dim][2:]
    observation = onnx.helper.make_tensor_value_info("observation", onnx.TensorProto.FLOAT, ["batch", *shape])
    axis = onnx.helper.make_tensor("window_axis", onnx.TensorProto.INT64, [1], [1])
    graph.initializer.append(axis)
    graph.node.insert(0, onnx.helper.make_node("Unsqueeze", ["observation", "window_axis"], [window_input]))
    graph.node.append(onnx.helper.make_node("Identity", [q_output], ["q_values"]))
    graph.node.append(onnx.helper.make_node("ArgMax", [q_output], ["action"], axis=1, keepdims=0))
    del graph.input[:]
    graph.input.append(observation)
    outputs = [
        onnx.helper.make_tensor_value_info("action", onnx.TensorProto.INT64, ["batch"]),
        onnx.helper.make_tensor_value_info("q_values", onnx.TensorProto.FLOAT, ["batch", q_values.type.tensor_type.shape.dim[1].dim_value]),
    ]
    del graph.output[:]
    graph.output.extend(outputs)
    onnx.checker.check_model(proto)
    return bytes(proto.SerializeToString())


_EXPORTERS: dict[str, Callable[[Any, tuple[int, ...]], bytes]] = {
    "kerasrl2-dqn": _kerasrl2_dqn,
    "sb3-dqn": _sb3_dqn,
    "sb3-ppo": _sb3_actor_critic,
    "sb3-a2c": _sb3_actor_critic,
    "sb3-sac": _sb3_sac,
}
