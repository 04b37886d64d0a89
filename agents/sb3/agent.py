"""The Stable-Baselines3 agent: one generic adapter from rlzoo's ``Agent`` contract to an SB3
algorithm (build, learn, predict, weights), and the four algorithms rlzoo registers.

Its hyperparameters are checked and translated in :mod:`.hyperparams`, its payload is
written and read in :mod:`.payload`, and its checkpoint state in :mod:`.state`.
"""

from __future__ import annotations

import copy
import pathlib
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit

from rlzoo.agent import Agent, Callback, env_identity
from rlzoo.errors import ArgumentError, HyperparameterError, IncompatibleEnvError, TrainingDivergedError

from .. import PRESETS_DIR
from . import payload, state
from .hyperparams import check_hyperparams, constructor_arguments, hyperparam_names


class _Bridge(BaseCallback):
    """Forwards SB3's per-step callback to rlzoo's hooks, and stops training on non-finite values.

    Every step's observations and rewards are checked (two vectorised ``isfinite`` calls);
    the policy's parameters after each training phase, at most once per
    ``PARAMETER_CHECK_EVERY`` steps (a pass over every tensor).
    """

    PARAMETER_CHECK_EVERY = 1000

    def __init__(self, agent: SB3Agent, callback: Callback) -> None:
        super().__init__()
        self.agent = agent
        self.callback = callback
        self._next_parameter_check = 0

    def _on_step(self) -> bool:
        self.agent.num_timesteps = self.num_timesteps
        observations, rewards = self.locals.get("new_obs"), self.locals.get("rewards")
        if rewards is not None and not (np.isfinite(rewards).all() and _finite(observations)):
            self._diverged("reward" if not np.isfinite(rewards).all() else "observation")
        for info in self.locals["infos"]:
            episode = info.get("episode")  # set by SB3's Monitor wrapper when an episode ends
            if episode is not None:
                self.callback.on_episode_end(self.agent, float(episode["r"]), int(episode["l"]))
        return self.callback.on_step(self.agent)

    def _diverged(self, found: str) -> None:
        raise TrainingDivergedError(
            f"{self.agent.registered_name()}: training stopped at step {self.num_timesteps}: the env returned a "
            f"non-finite {found}; check the env's observations and rewards (and its kwargs, e.g. a noise_std of nan)"
        )

    def _on_rollout_start(self) -> None:
        # The observation the policy acts on first comes from reset, which _on_step never sees:
        # a NaN there would reach torch's Categorical as a raw ValueError.
        if not _finite(getattr(self.model, "_last_obs", None)):
            self._diverged("observation")
        # SB3 records train/loss while training between rollouts and clears it at its next log dump.
        loss = self.logger.name_to_value.get("train/loss")
        if loss is not None:
            self.agent.last_loss = float(loss)
        if self.num_timesteps >= self._next_parameter_check:
            self._check_parameters()
            self._next_parameter_check = self.num_timesteps + self.PARAMETER_CHECK_EVERY

    def _on_training_end(self) -> None:
        self._check_parameters()

    def _check_parameters(self) -> None:
        with torch.no_grad():
            if all(bool(torch.isfinite(parameter).all()) for parameter in self.agent.model.policy.parameters()):
                return
        raise TrainingDivergedError(
            f"{self.agent.registered_name()}: training stopped at step {self.agent.model.num_timesteps}: the policy's parameters "
            "became non-finite (training diverged): try a smaller learning_rate, or check the env's observations and "
            "rewards for huge values"
        )


def _finite(observations: Any) -> bool:
    if isinstance(observations, dict):  # Dict observation spaces
        return all(_finite(value) for value in observations.values())
    return observations is None or bool(np.isfinite(observations).all())


class SB3Agent(Agent):
    """A Stable-Baselines3 algorithm behind rlzoo's :class:`~rlzoo.agent.Agent` contract.

    Parameters
    ----------
    env:
        The env to train on.
    seed:
        Passed to the SB3 algorithm (seeds torch, NumPy, Python and the env).
    **hyperparams:
        The algorithm's constructor arguments, plus ``policy`` and ``n_envs``.
    """

    algorithm: ClassVar[type[BaseAlgorithm]]
    action_spaces: ClassVar[tuple[type[gym.Space], ...]]

    def __init__(self, env: gym.Env, *, seed: int | None = None, **hyperparams: Any) -> None:
        super().__init__(env, seed=seed, **hyperparams)
        valid = self.valid_hyperparams()
        for key in hyperparams:
            if key not in valid:
                raise HyperparameterError(self.registered_name(), key, valid)
        check_hyperparams(self.registered_name(), self.algorithm, self.hyperparams)
        if not isinstance(env.action_space, self.action_spaces):
            kinds = " or ".join(space.__name__ for space in self.action_spaces)
            raise IncompatibleEnvError(
                f"{self.registered_name()} needs {kinds} actions, but {self.env_id or 'this env'} has {env.action_space}"
            )
        self.model = self._build(env)
        #: The loss of SB3's latest update, for :meth:`training_metrics` (A2C and SAC log theirs per part under train/).
        self.last_loss: float | None = None

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def registered_name(cls) -> str:
        return "sb3-" + cls.algorithm.__name__.lower()

    @classmethod
    def valid_hyperparams(cls) -> set[str]:
        """The algorithm's constructor arguments, plus ``policy`` and ``n_envs``."""
        return hyperparam_names(cls.algorithm)

    def _build(self, env: gym.Env) -> BaseAlgorithm:
        policy, kwargs = constructor_arguments(self.hyperparams)
        training_env = self._training_env(env)
        try:
            model = self.algorithm(policy, training_env, seed=self.seed, verbose=0, **kwargs)
        except (AssertionError, ValueError, TypeError, KeyError, MemoryError, RuntimeError) as exc:  # SB3's and torch's on bad settings
            raise HyperparameterError(
                self.registered_name(),
                "hyperparameters",
                problem=f"Stable-Baselines3's {self.algorithm.__name__} refused them: {type(exc).__name__}: {exc}",
            ) from exc
        _quiet_logger(model)
        return model

    def _training_env(self, env: gym.Env) -> Any:
        """``env`` as SB3 trains on it: ``n_envs`` copies of it when ``n_envs`` > 1."""
        n_envs = int(self.hyperparams.get("n_envs", 1))
        if n_envs == 1:
            return env  # SB3 wraps a single env in Monitor and DummyVecEnv itself
        spec = env.spec
        if spec is None:
            raise IncompatibleEnvError("n_envs > 1 needs a registered env (made by id) to make the copies")
        # gym.make(spec) rebuilds the env with its kwargs and wrappers (frame stacking too).
        try:
            return make_vec_env(lambda: gym.make(spec), n_envs=n_envs, seed=self.seed)
        except ValueError as exc:  # a wrapper Gymnasium cannot recreate from the spec
            raise IncompatibleEnvError(
                f"n_envs={n_envs} needs copies of the env, and Gymnasium cannot rebuild it from its spec: {exc}"
            ) from None

    def set_env(self, env: gym.Env) -> None:
        """Continue on ``env``, as ``n_envs`` copies like the env the agent was built on (SB3 requires the same count)."""
        training_env = self._training_env(env)
        try:
            self.model.set_env(training_env)
        except ValueError as exc:  # SB3's check_for_correct_spaces
            raise IncompatibleEnvError(f"{self.registered_name()} cannot continue on {env_identity(env)[0] or 'this env'}: {exc}") from None
        super().set_env(env)

    # -- the contract ---------------------------------------------------------------------
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> None:
        self.model.tensorboard_log = self.tensorboard_log  # SB3's own tags go beside rlzoo's (rlzoo.tensorboard)
        if self.tensorboard_log is None:
            _quiet_logger(self.model)
        else:
            self.model._custom_logger = False  # SB3 then configures its own logger, with TensorBoard output
        bridge = _Bridge(self, callback or Callback())
        try:
            self.model.learn(
                total_timesteps,
                callback=bridge,
                reset_num_timesteps=False,  # learn() twice continues, as with every backend
            )
        except ValueError:  # torch's distributions refuse NaN logits before the bridge's next check
            bridge._check_parameters()
            raise
        finally:
            self.num_timesteps = self.model.num_timesteps

    def training_metrics(self) -> dict[str, float]:
        metrics = {"learning_rate": float(self.model.lr_schedule(self.model._current_progress_remaining))}
        if self.last_loss is not None:
            metrics["loss"] = self.last_loss
        if hasattr(self.model, "exploration_rate"):
            metrics["exploration"] = float(self.model.exploration_rate)
        return metrics

    def has_updated(self) -> bool:
        """SB3 counts its gradient updates in ``_n_updates`` (BaseAlgorithm, checked in 2.9.2; no public counter)."""
        return int(self.model._n_updates) > 0

    def steps_per_rollout(self) -> int:
        """On-policy: ``n_steps * n_envs``; off-policy: ``train_freq`` steps per env (episodes: times the env's step limit)."""
        model = self.model
        if isinstance(model, OnPolicyAlgorithm):
            return int(model.n_steps) * int(model.n_envs)
        if not isinstance(model, OffPolicyAlgorithm):
            return int(model.n_envs)
        train_freq = model.train_freq
        assert isinstance(train_freq, TrainFreq)  # SB3 converts the argument when it builds the model
        frequency = int(train_freq.frequency) * int(model.n_envs)
        if train_freq.unit == TrainFrequencyUnit.EPISODE:
            limit = self.env.spec.max_episode_steps if self.env.spec is not None else None
            return frequency * int(limit or 1)
        return frequency

    def predict(self, observation: Any, deterministic: bool = True) -> Any:
        self._check_finite(observation)
        action, _ = self.model.predict(observation, deterministic=deterministic)
        if isinstance(self.model.action_space, gym.spaces.Discrete):
            return int(action)
        return action

    def predict_batch(self, observations: np.ndarray, deterministic: bool = True) -> list[Any]:
        """One forward pass of the policy for every row (SB3's ``predict`` on a batch)."""
        self._check_finite(observations)
        actions, _ = self.model.predict(np.asarray(observations), deterministic=deterministic)
        if isinstance(self.model.action_space, gym.spaces.Discrete):
            return [int(action) for action in actions]
        return list(actions)

    def _check_finite(self, observation: Any) -> None:
        # torch's Categorical would refuse NaN logits with a ValueError that names no observation.
        if not _finite(observation if isinstance(observation, dict) else np.asarray(observation)):
            raise ArgumentError(
                f"{self.registered_name()}: an observation holds NaN or inf, which the policy cannot act on: check the env's observations"
            )

    def get_weights(self) -> dict[str, torch.Tensor]:
        return copy.deepcopy(self.model.policy.state_dict())

    def set_weights(self, weights: dict[str, torch.Tensor]) -> None:
        self.model.policy.load_state_dict(weights)

    def package_versions(self) -> dict[str, str]:
        return {**super().package_versions(), "stable-baselines3": stable_baselines3.__version__, "torch": torch.__version__}

    def write_payload(self, directory: pathlib.Path) -> None:
        payload.write(self.model, directory)

    def read_payload(self, directory: pathlib.Path) -> None:
        """Load SB3's zip without unpickling anything, once it matches this agent (see :func:`.payload.read`)."""
        self.model = payload.read(self.model, self.algorithm, directory, self.valid_hyperparams())
        _quiet_logger(self.model)

    # -- checkpoints ----------------------------------------------------------------------
    def learn_until(self, timestep: int, callback: Callback | None = None, *, run_end: int | None = None) -> None:
        """Train to ``timestep`` with SB3's schedules running over the whole run to ``run_end``.

        SB3 computes its progress (for ``lin_`` schedules, PPO's clip range and DQN's
        exploration) as ``1 - num_timesteps / end`` with ``end`` the end of the current
        ``learn()`` call; pointing it at ``run_end`` makes a run trained in parts follow one
        schedule, bit for bit as one ``learn()`` call to ``run_end`` would.

        Parameters
        ----------
        timestep:
            The :attr:`num_timesteps` to train to (the end of this part).
        callback:
            rlzoo's hooks, called as in :meth:`learn`.
        run_end:
            The end of the whole run, where SB3's schedules reach 0; ``None``: this part's end.
        """
        # SB3 (checked in 2.9.2) has no public way to do this, hence the per-instance override of its
        # private _update_current_progress_remaining(num_timesteps, total_timesteps), which both the
        # on-policy and the off-policy loop call with the end of the current learn() call:
        # - learn(n, reset_num_timesteps=False) puts the schedules' end at num_timesteps + n, which is
        #   also where it stops; no argument sets one apart from the other.
        # - One learn() call to run_end, stopped at the part's end by a callback returning False, loses
        #   data: both loops return right after counting the env step, before storing it (replay or
        #   rollout buffer) and before updating _last_obs; PPO and A2C also skip training on the cut rollout.
        # - Wrapping the schedules (lr_schedule, clip_range, clip_range_vf, DQN's exploration_schedule)
        #   to rescale a part's progress to the run's is one wrapper per algorithm's schedule set, is not
        #   bit-identical (1 - n / run_end recovered from 1 - n / part_end can round differently), and leaves
        #   _current_progress_remaining (read by training_metrics) at the part's.
        # - Setting _total_timesteps (private too) reaches only the off-policy loop: the on-policy one
        #   passes its local total_timesteps.
        # tests/test_sb3_progress.py checks the method's name and signature and that learn() still routes the
        # progress through it, so an SB3 release that changes either fails there, not silently here.
        model = self.model
        if run_end is not None:
            progress = type(model)._update_current_progress_remaining
            # The instance attribute (popped below) shadows the method, which mypy reads as assigning to the method itself.
            model._update_current_progress_remaining = (  # type: ignore[method-assign]
                lambda num_timesteps, total_timesteps: progress(model, num_timesteps, run_end)
            )
        try:
            self.learn(timestep - self.num_timesteps, callback)
        finally:
            model.__dict__.pop("_update_current_progress_remaining", None)  # never saved with the model

    def write_training_state(self, directory: pathlib.Path) -> None:
        """The replay buffer's arrays (off-policy algorithms) and the action space's and envs'
        generators (see :func:`.state.write`). The optimizer state is in the payload (SB3's zip holds it)."""
        state.write(self.model, directory)

    def read_training_state(self, directory: pathlib.Path) -> None:
        state.read(self.model, directory)


def _quiet_logger(model: BaseAlgorithm) -> None:
    """Give ``model`` a logger that writes nowhere, unless it logs to TensorBoard.

    With ``verbose=0`` SB3's ``configure_logger`` still makes an empty ``SB3-<timestamp>``
    folder in the system temp folder on every ``learn()``; a custom logger skips that.
    """
    if model.tensorboard_log is None:
        model.set_logger(Logger(folder=None, output_formats=[]))


class SB3DQN(SB3Agent):
    """``sb3-dqn``: Stable-Baselines3's DQN (discrete actions). The comparison baseline."""

    algorithm = stable_baselines3.DQN
    action_spaces = (gym.spaces.Discrete,)
    preset_file = PRESETS_DIR / "sb3-dqn.yml"


class SB3PPO(SB3Agent):
    """``sb3-ppo``: Stable-Baselines3's PPO."""

    algorithm = stable_baselines3.PPO
    action_spaces = (gym.spaces.Discrete, gym.spaces.Box, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)
    preset_file = PRESETS_DIR / "sb3-ppo.yml"


class SB3A2C(SB3Agent):
    """``sb3-a2c``: Stable-Baselines3's A2C."""

    algorithm = stable_baselines3.A2C
    action_spaces = (gym.spaces.Discrete, gym.spaces.Box, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)
    preset_file = PRESETS_DIR / "sb3-a2c.yml"


class SB3SAC(SB3Agent):
    """``sb3-sac``: Stable-Baselines3's SAC (continuous actions)."""

    algorithm = stable_baselines3.SAC
    action_spaces = (gym.spaces.Box,)
    preset_file = PRESETS_DIR / "sb3-sac.yml"
