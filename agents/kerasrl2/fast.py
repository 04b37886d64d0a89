"""keras-rl2's DQN hot path as one graph call per step.

Stock keras-rl2 spends ~1 ms per step in ``forward`` (a ``predict_on_batch``) and ~5 ms in
``backward`` (two target ``predict_on_batch`` plus ``train_on_batch``), almost all of it
framework call overhead for a 24-unit network. :class:`FusedDQNStep` builds, on the same
Keras models and with keras-rl2's own loss (``rl.util.huber_loss``) and soft-update ops
(``rl.util.get_soft_target_model_updates``), one graph function that computes the targets,
applies the Adam and target updates, and returns the updated network's Q-values for the
observation the next action is chosen on, so a training step that updates makes one graph
call and no other. ``tests/test_kerasrl2.py`` checks the update against
``DQNAgent.backward`` on the same batch and weights, and the returned Q-values against the
model's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras
from rl.policy import BoltzmannQPolicy
from rl.util import get_soft_target_model_updates, huber_loss

from .memory import TransitionMemory

K = tf_keras.src.backend  # the graph-mode backend keras-rl2 runs on


class FusedDQNStep:
    """One graph call per update (and per action only when no update ran), for a compiled
    keras-rl2 ``DQNAgent``.

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
        #: Loss of the last update (``nan`` before the first).
        self.last_loss = float("nan")
        model, target = dqn.model, dqn.target_model
        n_actions = dqn.nb_actions
        state_shape = tuple(model.input.shape[1:])

        session = K.get_session()
        self._q = _fast_callable(session, [model.input], [model.output], [])

        state0 = K.placeholder(shape=(None, *state_shape), name="rlzoo_state0")
        state1 = K.placeholder(shape=(None, *state_shape), name="rlzoo_state1")
        action = K.placeholder(shape=(None,), dtype="int32", name="rlzoo_action")
        reward = K.placeholder(shape=(None,), name="rlzoo_reward")
        terminated = K.placeholder(shape=(None,), dtype="bool", name="rlzoo_terminated")
        following = K.placeholder(shape=(None, *state_shape), name="rlzoo_following")  # the next action's state

        target_q1 = target(state1)
        if dqn.enable_double_dqn:
            best = tf.argmax(model(state1), axis=1, output_type=tf.int32)
            q1 = tf.reduce_sum(target_q1 * tf.one_hot(best, n_actions), axis=1)
        else:
            q1 = tf.reduce_max(target_q1, axis=1)
        returns = tf.stop_gradient(reward + dqn.gamma * q1 * (1.0 - tf.cast(terminated, tf.float32)))
        q0 = tf.reduce_sum(model(state0) * tf.one_hot(action, n_actions), axis=1)
        # DQNAgent's loss: Huber(delta_clip) on the taken action, averaged over the batch.
        loss = tf.reduce_mean(huber_loss(returns, q0, dqn.delta_clip))

        # The legacy Adam already emits one fused ResourceApplyAdam per variable.
        optimizer = tf_keras.optimizers.legacy.Adam(learning_rate=learning_rate)
        self.optimizer = optimizer  # its slots are part of a checkpoint
        train = tf.group(*optimizer.get_updates(loss=loss, params=model.trainable_weights))
        if dqn.target_model_update < 1:
            with tf.control_dependencies([train]):  # the soft update reads the new online weights
                soft = [tf.compat.v1.assign(t, v) for t, v in get_soft_target_model_updates(target, model, dqn.target_model_update)]
            train = tf.group(train, *soft)
        with tf.control_dependencies([train]):  # what DQNAgent.forward would compute next: after the update
            q_following = model(following)
        uninitialized = set(session.run(tf.compat.v1.report_uninitialized_variables()))  # one call, names as bytes
        fresh = [v for v in tf.compat.v1.global_variables() if v.op.name.encode() in uninitialized]
        session.run(tf.compat.v1.variables_initializer(fresh))  # Adam's slots and hyperparameters
        self._update = _fast_callable(session, [state0, action, reward, state1, terminated, following], [loss, q_following], [train])

        policy = dqn.policy
        # The inlined Boltzmann draw is only the same as the policy's for that exact class.
        self._boltzmann = (policy.tau, policy.clip) if type(policy) is BoltzmannQPolicy else None
        self._following: Any = None  # the observation whose Q-values the last update returned
        self._following_q: np.ndarray | None = None

    def q_values(self, observation: Any) -> np.ndarray:
        """Q-values of one observation, from the model's current weights."""
        return self._q(np.asarray(observation, dtype=np.float32)[None, None])[0][0]

    def batch_q_values(self, states: np.ndarray) -> np.ndarray:
        """Q-values of a batch of states shaped ``(batch, 1, *observation_shape)``, one row each."""
        return self._q(states)[0]

    def prefetched_q_values(self, observation: Any) -> np.ndarray | None:
        """The Q-values the last update returned, if it was given this same observation object."""
        return self._following_q if observation is self._following else None

    def select_action(self, observation: Any) -> int:
        """The training policy's action (what ``DQNAgent.forward`` returns while training).

        The Q-values come from the last update call if it was given this same observation
        object (the weights have not changed since: see :meth:`forget`), else from a graph call.
        """
        q_values = self.prefetched_q_values(observation)
        if q_values is None:
            q_values = self.q_values(observation)
        self._following = self._following_q = None
        if self._boltzmann is not None:
            return boltzmann_action(q_values, *self._boltzmann)
        return int(self.dqn.policy.select_action(q_values=q_values))

    def forget(self) -> None:
        """Drop the Q-values the last update returned: call it when the weights change elsewhere."""
        self._following = self._following_q = None

    def update(self, indexes: np.ndarray, following: Any = None) -> float:
        """One update on the stored transitions at ``indexes``; returns the loss."""
        return self.update_batch(self.memory.batch(indexes), following)

    def update_batch(self, batch: tuple[np.ndarray, ...], following: Any = None) -> float:
        """One update on ``batch`` (:meth:`TransitionMemory.batch`'s arrays); returns the loss.

        ``following`` (an observation), if given, gets its Q-values under the updated weights
        computed in the same call, for the next :meth:`select_action` on that same object.
        """
        state0 = batch[0]
        following_state = state0[:1] if following is None else np.asarray(following, dtype=np.float32).reshape(state0[:1].shape)
        loss, q_following = self._update(*batch, following_state)
        self.last_loss = float(loss)
        if following is not None:
            self._following, self._following_q = following, q_following[0]
        return self.last_loss

    def backward(self, following: Any = None) -> float | None:
        """What ``DQNAgent.backward`` does after storing the transition: train, then hard-update.

        ``following`` is the observation the next action is chosen on (see :meth:`update_batch`).
        Returns the loss of the update, or ``None`` when this step trains nothing.
        """
        dqn = self.dqn
        loss = None
        if dqn.step > dqn.nb_steps_warmup and dqn.step % dqn.train_interval == 0:
            loss = self.update(self.memory.sample_indexes(dqn.batch_size), following)
        if dqn.target_model_update >= 1 and dqn.step % dqn.target_model_update == 0:
            dqn.update_target_model_hard()
        return loss


def boltzmann_action(q_values: np.ndarray, tau: float, clip: tuple[float, float]) -> int:
    """``BoltzmannQPolicy(tau, clip).select_action(q_values)``, the same action given the seed.

    The same arithmetic on the same arrays, through the ufuncs that ``np.clip`` and ``np.sum``
    dispatch to, and the one ``random_sample`` draw from NumPy's global generator that
    ``np.random.choice(n, p=probs)`` makes (it inverts the normalised CDF with
    ``searchsorted(side="right")``). The functions' argument handling and ``choice``'s checks
    cost several times the arithmetic (~16 µs against ~4 µs).
    """
    exp_values = np.exp(np.minimum(np.maximum(q_values.astype(np.float64) / tau, clip[0]), clip[1]))
    cdf = np.add.accumulate(exp_values / np.add.reduce(exp_values))
    cdf /= cdf[-1]
    return int(cdf.searchsorted(np.random.random_sample(), side="right"))


def _fast_callable(session: Any, feeds: list[Any], fetches: list[Any], targets: list[Any]) -> Any:
    """A session callable that runs through TensorFlow's C callable API, in the caller's thread.

    ``Session.run`` and ``make_callable`` spend ~350 us of Python per call here (feed and
    fetch bookkeeping, NumPy version checks) against ~60 us of graph work; a callable made
    from ``CallableOptions`` skips that. ``_make_callable_from_options`` is what
    ``make_callable`` itself uses on its fast path.

    By default a session hands each run to its inter-op thread pool and the caller sleeps
    until it is done: two thread switches per call, which on a busy machine wait for the
    scheduler far longer than this graph takes. ``inter_op_thread_pool = -1`` runs the
    graph in the calling thread (RunOptions: "for simple graphs, where the overhead of an
    additional context switch is comparable with the overhead of Session::Run()").
    """
    from tensorflow.core.protobuf import config_pb2

    options = config_pb2.CallableOptions()
    options.feed.extend(tensor.name for tensor in feeds)
    options.fetch.extend(tensor.name for tensor in fetches)
    options.target.extend(op.name for op in targets)
    options.run_options.inter_op_thread_pool = -1
    session._extend_graph()
    return session._make_callable_from_options(options)
