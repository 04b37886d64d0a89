"""keras-rl2's DQN hot path as two graph calls.

Stock keras-rl2 spends ~1 ms per step in ``forward`` (a ``predict_on_batch``) and ~5 ms in
``backward`` (two target ``predict_on_batch`` plus ``train_on_batch``), almost all of it
framework call overhead for a 24-unit network. :class:`FusedDQNStep` builds, on the same
Keras models and with keras-rl2's own loss (``rl.util.huber_loss``) and soft-update ops
(``rl.util.get_soft_target_model_updates``), one function for the Q-values and one that
computes the targets and applies the Adam and target updates. ``tests/test_kerasrl2.py``
checks it against ``DQNAgent.backward`` on the same batch and weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras
from rl.util import get_soft_target_model_updates, huber_loss

from .memory import TransitionMemory

K = tf_keras.src.backend  # the graph-mode backend keras-rl2 runs on


class FusedDQNStep:
    """One graph call per action and one per update, for a compiled keras-rl2 ``DQNAgent``.

    Parameters
    ----------
    dqn:
        A compiled ``DQNAgent`` whose memory is a :class:`TransitionMemory`.
    learning_rate:
        Of the Adam optimizer (legacy Keras defaults otherwise, as the agent was compiled with).
    """

    def __init__(self, dqn: Any, learning_rate: float) -> None:
        self.dqn = dqn
        self.memory: TransitionMemory = dqn.memory
        model, target = dqn.model, dqn.target_model
        n_actions = dqn.nb_actions
        state_shape = tuple(model.input.shape[1:])

        session = K.get_session()
        self._q = _fast_callable(session, [model.input], [model.output], [])

        state0 = K.placeholder(shape=(None, *state_shape), name="rlzoo_state0")
        state1 = K.placeholder(shape=(None, *state_shape), name="rlzoo_state1")
        action = K.placeholder(shape=(None,), dtype="int32", name="rlzoo_action")
        reward = K.placeholder(shape=(None,), name="rlzoo_reward")
        bootstrap = K.placeholder(shape=(None,), name="rlzoo_bootstrap")  # 0 where terminated

        target_q1 = target(state1)
        if dqn.enable_double_dqn:
            best = tf.argmax(model(state1), axis=1, output_type=tf.int32)
            q1 = tf.reduce_sum(target_q1 * tf.one_hot(best, n_actions), axis=1)
        else:
            q1 = tf.reduce_max(target_q1, axis=1)
        returns = tf.stop_gradient(reward + dqn.gamma * q1 * bootstrap)
        q0 = tf.reduce_sum(model(state0) * tf.one_hot(action, n_actions), axis=1)
        # DQNAgent's loss: Huber(delta_clip) on the taken action, averaged over the batch.
        loss = tf.reduce_mean(huber_loss(returns, q0, dqn.delta_clip))

        optimizer = tf_keras.optimizers.legacy.Adam(learning_rate=learning_rate)
        self.optimizer = optimizer  # its slots are part of a checkpoint
        train = tf.group(*optimizer.get_updates(loss=loss, params=model.trainable_weights))
        if dqn.target_model_update < 1:
            with tf.control_dependencies([train]):  # the soft update reads the new online weights
                soft = [tf.compat.v1.assign(t, v) for t, v in get_soft_target_model_updates(target, model, dqn.target_model_update)]
            train = tf.group(train, *soft)
        uninitialized = set(session.run(tf.compat.v1.report_uninitialized_variables()))  # one call, names as bytes
        fresh = [v for v in tf.compat.v1.global_variables() if v.op.name.encode() in uninitialized]
        session.run(tf.compat.v1.variables_initializer(fresh))  # Adam's slots and hyperparameters
        self._update = _fast_callable(session, [state0, action, reward, state1, bootstrap], [loss], [train])

    def q_values(self, observation: Any) -> np.ndarray:
        """Q-values of one observation."""
        return self._q(np.asarray(observation, dtype=np.float32)[None, None])[0][0]

    def select_action(self, observation: Any) -> int:
        """The training policy's action (what ``DQNAgent.forward`` returns while training)."""
        return int(self.dqn.policy.select_action(q_values=self.q_values(observation)))

    def update(self, indexes: np.ndarray) -> float:
        """One update on the stored transitions at ``indexes``; returns the loss."""
        state0, action, reward, state1, terminated = self.memory.batch(indexes)
        (loss,) = self._update(state0, action.astype(np.int32), reward, state1, (~terminated).astype(np.float32))
        return float(loss)

    def backward(self) -> float | None:
        """What ``DQNAgent.backward`` does after storing the transition: train, then hard-update.

        Returns the loss of the update, or ``None`` when this step trains nothing.
        """
        dqn = self.dqn
        loss = None
        if dqn.step > dqn.nb_steps_warmup and dqn.step % dqn.train_interval == 0:
            loss = self.update(self.memory.sample_indexes(dqn.batch_size))
        if dqn.target_model_update >= 1 and dqn.step % dqn.target_model_update == 0:
            dqn.update_target_model_hard()
        return loss



def _fast_callable(session: Any, feeds: list[Any], fetches: list[Any], targets: list[Any]) -> Any:
    """A session callable that runs through TensorFlow's C callable API.

    ``Session.run`` and ``make_callable`` spend ~350 us of Python per call here (feed and
    fetch bookkeeping, NumPy version checks) against ~60 us of graph work; a callable made
    from ``CallableOptions`` skips that. ``_make_callable_from_options`` is what
    ``make_callable`` itself uses on its fast path.
    """
    from tensorflow.core.protobuf import config_pb2

    options = config_pb2.CallableOptions()
    options.feed.extend(tensor.name for tensor in feeds)
    options.fetch.extend(tensor.name for tensor in fetches)
    options.target.extend(op.name for op in targets)
    session._extend_graph()
    return session._make_callable_from_options(options)
