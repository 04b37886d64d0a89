"""rlzoo: a Gymnasium-compatible env and agent zoo.

The public API::

    agent = rlzoo.make_agent("sb3-dqn", "CartPole-v1", seed=0)
    rlzoo.train(agent)                       # preset timesteps for (agent, env)
    result = rlzoo.evaluate(agent, n_episodes=100, seed=0)
    path = rlzoo.save(agent, "dqn.zip")
    agent = rlzoo.load(path)

Importing rlzoo registers its envs (and installed env plugins) with Gymnasium; it never
imports TensorFlow or torch: a backend's framework loads when that backend is first used.
"""

from __future__ import annotations

from rlzoo.agent import Agent, Callback
from rlzoo.artifact import load, save
from rlzoo.builder import make_agent
from rlzoo.errors import (
    ArtifactError,
    DuplicateNameError,
    HyperparameterError,
    IncompatibleEnvError,
    MissingDependencyError,
    RLZooError,
    UnknownAgentError,
    UnknownEnvError,
)
from rlzoo.evaluation import evaluate
from rlzoo.plugins import load_env_plugins as _load_env_plugins
from rlzoo.records import EvalResult, TrainingHistory
from rlzoo.registry import (
    AgentEntry,
    EnvEntry,
    list_agents,
    list_envs,
    make_env,
    register_agent,
    register_env,
)
from rlzoo.seeds import train_seeds
from rlzoo.settings import TrainSettings
from rlzoo.training import train
from rlzoo.version import __version__

__all__ = [
    "__version__",
    "Agent",
    "AgentEntry",
    "ArtifactError",
    "Callback",
    "DuplicateNameError",
    "EnvEntry",
    "EvalResult",
    "HyperparameterError",
    "IncompatibleEnvError",
    "MissingDependencyError",
    "RLZooError",
    "TrainSettings",
    "TrainingHistory",
    "UnknownAgentError",
    "UnknownEnvError",
    "evaluate",
    "list_agents",
    "list_envs",
    "load",
    "make_agent",
    "make_env",
    "register_agent",
    "register_env",
    "save",
    "train",
    "train_seeds",
]

_load_env_plugins()


def __getattr__(name: str) -> object:
    """``rlzoo.sweep``, ``rlzoo.report`` and ``rlzoo.tune``, imported on first use so that ``import rlzoo``
    stays light (they need the experiments and tune extras: rliable, pandas, Optuna)."""
    if name in ("sweep", "report"):
        from rlzoo import experiments

        return getattr(experiments, name)
    if name == "tune":
        from rlzoo.tuning import tune

        return tune
    # -- sharing agents: model folders and ONNX export, with their heavy imports inside --
    if name == "package":
        from rlzoo.packaging import package

        return package
    if name == "export_onnx":
        from rlzoo.onnx_export import export_onnx

        return export_onnx
    if name == "load_onnx":
        from rlzoo.onnx_policy import load_onnx

        return load_onnx
    # -- end of sharing agents --
    raise AttributeError(f"module 'rlzoo' has no attribute {name!r}")
