"""The one contract every backend implements: :class:`Agent`, and the :class:`Callback` hooks
a backend calls from inside its training loop.

Both live here because they are one contract: a backend's ``learn`` calls ``on_step`` and
``on_episode_end``. The callbacks rlzoo itself adds (evaluation, progress, recording) are in
:mod:`rlzoo.callbacks`, a layer up.
"""

from __future__ import annotations

import abc
import html
import json
import pathlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import gymnasium as gym
import numpy as np

from rlzoo import display
from rlzoo.errors import CheckpointError, RLZooError
from rlzoo.records import EvalResult, TrainingHistory
from rlzoo.version import __version__

if TYPE_CHECKING:
    from rlzoo.settings import TrainSettings


def env_identity(env: gym.Env) -> tuple[str | None, dict[str, Any]]:
    """The registered id and make-kwargs of ``env`` (``None`` and ``{}`` for an unregistered env)."""
    spec = getattr(env, "spec", None)
    if spec is None:
        return None, {}
    return spec.id, dict(spec.kwargs or {})


def env_rng_state(env: gym.Env) -> dict[str, Any]:
    """The state of ``env``'s ``np_random`` as JSON values (NumPy's ``bit_generator.state``)."""
    # NumPy's stubs say Mapping; the getter builds a fresh dict on every read, so the copy changes nothing.
    return dict(env.unwrapped.np_random.bit_generator.state)


def set_env_rng_state(env: gym.Env, state: dict[str, Any]) -> None:
    """Restore what :func:`env_rng_state` returned."""
    env.unwrapped.np_random.bit_generator.state = state


def stack_frames(env: gym.Env, frames: int) -> gym.Env:
    """``env`` with observations of its last ``frames`` frames (unchanged for ``frames`` = 1).

    The recurrent-free way to make a POMDP such as hidden velocities learnable.
    """
    if frames <= 1:
        return env
    from gymnasium.wrappers import FrameStackObservation

    return FrameStackObservation(env, frames)


class Agent(abc.ABC):
    """A learning agent bound to one env: the contract every rlzoo backend honours.

    Backends subclass this and implement the abstract methods; user code only calls
    :meth:`learn`, :meth:`predict`, :meth:`save` and :meth:`load` (usually through
    :func:`rlzoo.train`, :func:`rlzoo.evaluate`, :func:`rlzoo.save` and :func:`rlzoo.load`).

    Parameters
    ----------
    env:
        The env to learn on (an instance; :func:`rlzoo.make_agent` turns ids into instances).
    seed:
        Seed for the backend's own random generators, or ``None``.
    **hyperparams:
        Backend hyperparameters; unknown ones raise :class:`rlzoo.errors.HyperparameterError`.
        They must be JSON values: they are written to the saved artifact as they are.
    """

    #: Registered name; :func:`rlzoo.make_agent` sets it on the instance.
    name: str = ""
    #: YAML file of presets, ``{env_id: {"train": {...}, "hyperparams": {...}}}``, or ``None``.
    preset_file: ClassVar[pathlib.Path | None] = None

    def __init__(self, env: gym.Env, *, seed: int | None = None, **hyperparams: Any) -> None:
        try:
            json.dumps(hyperparams)
        except TypeError as exc:
            raise RLZooError(f"hyperparameters must be JSON values (numbers, strings, lists, dicts): {exc}") from exc
        self.env = env
        self.env_id, self.env_kwargs = env_identity(env)
        self.seed = seed
        self.hyperparams: dict[str, Any] = dict(hyperparams)
        self.num_timesteps = 0
        self.history = TrainingHistory()
        self.last_evaluation: EvalResult | None = None
        #: Observations are the last ``frame_stack`` frames (set by :func:`rlzoo.make_agent`).
        self.frame_stack = 1
        #: The preset's ``train`` settings (``total_timesteps``, ``eval_every``...), set by :func:`rlzoo.make_agent`.
        self.train_defaults: dict[str, Any] = {}
        #: The resolved settings of the last :func:`rlzoo.train` call (``None`` before any), saved with the agent.
        self.train_settings: TrainSettings | None = None
        #: Folder for the backend's own TensorBoard events, if it writes any (set by :func:`rlzoo.train`).
        self.tensorboard_log: str | None = None

    # -- the backend's part -------------------------------------------------------------
    @abc.abstractmethod
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> None:
        """Train for ``total_timesteps`` more env steps.

        Backends call ``callback.on_step(self)`` after every env step (vectorised backends:
        after every batch of steps) with :attr:`num_timesteps` already updated, stop when it
        returns ``False``, and call ``callback.on_episode_end(self, episode_return, length)``
        whenever a training episode ends.
        """

    @abc.abstractmethod
    def predict(self, observation: Any, deterministic: bool = True) -> Any:
        """The action for one observation (greedy when ``deterministic``)."""

    def predict_batch(self, observations: np.ndarray, deterministic: bool = True) -> list[Any]:
        """The actions for a batch of observations, one per row (what :meth:`predict` gives for each).

        :func:`rlzoo.evaluate` steps several copies of an env side by side and asks for all
        their actions at once. This default calls :meth:`predict` per row; backends override
        it with one forward pass of the network for the whole batch.

        Parameters
        ----------
        observations:
            Observations stacked along a new first axis.
        deterministic:
            Greedy actions (``True``) or the policy's sampled ones.

        Returns
        -------
        list
            One action per row, each as :meth:`predict` would return it.
        """
        return [self.predict(observation, deterministic=deterministic) for observation in observations]

    @abc.abstractmethod
    def get_weights(self) -> Any:
        """An in-memory copy of the learned parameters, for :meth:`set_weights`."""

    @abc.abstractmethod
    def set_weights(self, weights: Any) -> None:
        """Restore parameters returned by :meth:`get_weights`."""

    @abc.abstractmethod
    def write_payload(self, directory: pathlib.Path) -> None:
        """Write the backend's own files (weights) into ``directory``."""

    @abc.abstractmethod
    def read_payload(self, directory: pathlib.Path) -> None:
        """Load what :meth:`write_payload` wrote. Must never execute code from the files."""

    # -- checkpoints (optional: the defaults say the backend cannot be checkpointed) ------
    def write_training_state(self, directory: pathlib.Path) -> None:
        """Write what continuing training needs besides :meth:`write_payload`'s files.

        That is the optimizer state (unless the payload holds it), the replay buffer, and
        the random generators of the backend and its env that are not Python's, NumPy's
        global or torch's (:mod:`rlzoo.checkpoint` saves those). Write arrays as
        ``.npy``/``.npz`` and the rest as JSON: :meth:`read_training_state` must never
        unpickle. The episode in progress need not survive: after
        :meth:`read_training_state` training starts a new one.

        Raises
        ------
        CheckpointError
            This backend cannot be checkpointed (the default).
        """
        raise CheckpointError(directory, f"agent {self.name or type(self).__name__!r} does not support checkpoints")

    def read_training_state(self, directory: pathlib.Path) -> None:
        """Restore what :meth:`write_training_state` wrote, after :meth:`read_payload`, and
        reset the env so that the next :meth:`learn` starts a new episode from the restored
        env generator."""
        raise CheckpointError(directory, f"agent {self.name or type(self).__name__!r} does not support checkpoints")

    def learn_until(self, timestep: int, callback: Callback | None = None, *, run_end: int | None = None) -> None:
        """Train until :attr:`num_timesteps` reaches ``timestep``, as one part of a run that
        ends at ``run_end``.

        :func:`rlzoo.train` trains in parts when it writes checkpoints between them. The
        default is ``learn(timestep - num_timesteps)``; backends whose schedules depend on
        the progress through a run (SB3's learning-rate, clip-range and exploration
        schedules) override it so a run trained in parts, or resumed from a checkpoint,
        follows the schedule of one :meth:`learn` call to ``run_end``.
        """
        self.learn(timestep - self.num_timesteps, callback)

    @classmethod
    def discard_all(cls) -> None:
        """Free what every agent of this backend built in this process holds; by default, nothing.

        For code that owns every such agent and is done with all of them: a sweep worker
        after each task, a tuning trial after each seed. Agents of the backend built before
        the call are unusable after it. kerasrl2-dqn drops TensorFlow's graph here: keras-rl2
        runs in graph mode, every agent adds its ops to the one default graph, and a process
        that keeps building agents slows down as the graph grows (a batch of 5 seeds took 3 s
        first and 18 s after 30 others).
        """
        return None

    def has_updated(self) -> bool:
        """Whether training has changed the weights yet (the backend's first update is behind it).

        :class:`rlzoo.callbacks.EvalEvery` keeps no weights from an evaluation before the
        first update: an untrained network that happens to score well on a few episodes is
        noise, not learning. Backends that can tell override this (SB3: its update counter;
        kerasrl2-dqn: past the warm-up); the default, for a backend that cannot, says yes.
        """
        return True

    def steps_per_rollout(self) -> int:
        """Env steps the backend may take between two chances to stop (a rollout).

        A run of ``n`` steps trains at least ``n`` and fewer than ``n + steps_per_rollout()``
        (SB3's on-policy algorithms finish their rollout of ``n_steps * n_envs`` steps). The
        default is one step at a time.
        """
        return 1

    def training_metrics(self) -> dict[str, float]:
        """The latest values of the backend's training quantities, for logging.

        Keys among ``"loss"``, ``"learning_rate"`` and ``"exploration"`` (epsilon, or
        Boltzmann's tau), only those the backend has; the default has none.
        """
        return {}

    # -- shared behaviour -----------------------------------------------------------------
    def set_env(self, env: gym.Env) -> None:
        """Continue training on ``env`` (same spaces)."""
        self.env = env
        self.env_id, self.env_kwargs = env_identity(env)

    def wrap_env(self, env: gym.Env) -> gym.Env:
        """``env`` as this agent sees it (frames stacked when ``frame_stack`` > 1)."""
        return stack_frames(env, self.frame_stack)

    def package_versions(self) -> dict[str, str]:
        """Versions of the libraries this backend depends on, recorded in the artifact."""
        return {"rlzoo": __version__, "gymnasium": gym.__version__, "numpy": np.__version__}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} on {self.env_id!r}, {self.num_timesteps} steps{self._evaluation_note()}>"

    def _evaluation_note(self) -> str:
        return f"; last evaluation {self.last_evaluation.mean:.2f} ± {self.last_evaluation.std:.2f}" if self.last_evaluation else ""

    def _repr_html_(self) -> str:
        """Name, env, hyperparameters, timesteps and last evaluation, as a table (a notebook shows it)."""
        rows = {
            "agent": html.escape(f"{self.name} ({type(self).__name__})"),
            "env": html.escape(f"{self.env_id}" + (f" {self.env_kwargs}" if self.env_kwargs else "")),
            "seed": html.escape(str(self.seed)),
            "timesteps": str(self.num_timesteps),
            "hyperparameters": display.hyperparams_html(self.hyperparams),
            "last evaluation": display.eval_html(self.last_evaluation.returns, self.last_evaluation.lengths)
            if self.last_evaluation
            else "none yet",
        }
        return display.table_html("rlzoo Agent", rows)


class Callback:
    """Base class: override what you need. ``rlzoo.train`` calls the start and end hooks,
    the backend calls ``on_step`` and ``on_episode_end`` from inside its training loop."""

    def on_training_start(self, agent: Agent, total_timesteps: int) -> None:
        """Before the first step."""

    def on_step(self, agent: Agent) -> bool:
        """After each env step (``agent.num_timesteps`` is current). Return ``False`` to stop."""
        return True

    def on_episode_end(self, agent: Agent, episode_return: float, episode_length: int) -> None:
        """When a training episode ends (terminated or truncated)."""

    def on_training_end(self, agent: Agent) -> None:
        """After the last step."""


class CallbackList(Callback):
    """Several callbacks called in order."""

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = list(callbacks)

    def on_training_start(self, agent: Agent, total_timesteps: int) -> None:
        for callback in self.callbacks:
            callback.on_training_start(agent, total_timesteps)

    def on_step(self, agent: Agent) -> bool:
        keep_going = True
        for callback in self.callbacks:
            keep_going = callback.on_step(agent) and keep_going
        return keep_going

    def on_episode_end(self, agent: Agent, episode_return: float, episode_length: int) -> None:
        for callback in self.callbacks:
            callback.on_episode_end(agent, episode_return, episode_length)

    def on_training_end(self, agent: Agent) -> None:
        for callback in self.callbacks:
            callback.on_training_end(agent)
