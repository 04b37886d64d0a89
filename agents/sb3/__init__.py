"""Stable-Baselines3 backends (installed as ``rlzoo.agents.sb3``): one generic adapter,
registered as ``sb3-dqn``, ``sb3-ppo``, ``sb3-a2c`` and ``sb3-sac``.

One job per module: :mod:`.agent` (the adapter: build, learn, predict, weights),
:mod:`.hyperparams` (names, checks and translation of the hyperparameters), :mod:`.payload`
(SB3's zip in an artifact, read without unpickling) and :mod:`.state` (checkpoint state).
"""

from rlzoo.tensorboard import keep_tensorflow_out

# stable_baselines3.common.logger imports torch.utils.tensorboard, which imports TensorFlow
# through tensorboard.compat whenever both are installed (seconds, log lines, and Keras 3
# selected, which keras-rl2 cannot use): TensorBoard's stub does instead. Here, before any
# module of this package imports SB3 (importing one of them runs this file first).
keep_tensorflow_out()

from .agent import SB3A2C, SB3DQN, SB3PPO, SB3SAC, SB3Agent  # noqa: E402

__all__ = ["SB3A2C", "SB3DQN", "SB3PPO", "SB3SAC", "SB3Agent"]
