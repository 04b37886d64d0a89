"""keras-rl2's DQN hot path as one graph call per step, for one seed or K seeds side by side.

Stock keras-rl2 spends ~1 ms per step in ``forward`` (a ``predict_on_batch``) and ~5 ms in
``backward`` (two target ``predict_on_batch`` plus ``train_on_batch``), almost all of it
framework call overhead for a 24-unit network. :class:`StackedDQN` holds the networks of K
seeds (online, target, Adam's slots) stacked along a leading axis and builds, with keras-rl2's
own loss (``rl.util.huber_loss``) and soft-update rule, one graph function that computes the
targets, applies the Adam and target updates, and returns the updated networks' Q-values for
the observations the next actions are chosen on: a training step of all K seeds is one graph
call. A solo run is the same graph with K = 1.

Why the seeds do not see one another: every op works per slice of the leading axis (batched
matmuls, elementwise Adam, per-row reductions), and on TensorFlow's CPU kernels a slice gives
bit-identical results whatever K is (``tests/test_seeds.py`` checks it on whole runs).
``tests/test_kerasrl2.py`` checks the update against ``DQNAgent.backward`` on the same batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras
from rl.util import huber_loss

from .hyperparams import RecipeHyperparams
from .memory import SideBySideMemory

K = tf_keras.src.backend  # the graph-mode backend keras-rl2 runs on


@dataclasses.dataclass
class SeedState:
    """One seed's networks and optimizer, in Keras's layouts (what ``Model.get_weights`` and the
    legacy Adam's ``get_weights`` give).

    Attributes
    ----------
    online, target: kernels ``(in, out)`` and biases ``(out,)``, layer by layer.
    adam: ``[iterations, m..., v...]``, the slots in the order of ``online``.
    """

    online: list[np.ndarray]
    target: list[np.ndarray]
    adam: list[np.ndarray]

    @classmethod
    def fresh(cls, weights: list[np.ndarray]) -> SeedState:
        """Initial weights for both networks and a new Adam (no step taken)."""
        zeros = [np.zeros_like(array) for array in weights]
        return cls(
            [w.copy() for w in weights], [w.copy() for w in weights], [np.array(0, dtype=np.int64), *zeros, *[z.copy() for z in zeros]]
        )


class StackedDQN:
    """The DQN update of ``size`` seeds in one graph: weights shaped ``(size, ...)``.

    Parameters
    ----------
    size:
        How many seeds (K).
    config:
        The seeds' shared hyperparameters.
    observation_size:
        Values per (flattened) observation.
    n_actions:
        Discrete actions.
    """

    def __init__(self, size: int, config: RecipeHyperparams, observation_size: int, n_actions: int) -> None:
        self.size, self.config, self.observation_size, self.n_actions = size, config, observation_size, n_actions
        #: The seats' replay memories as one store, set by the training loop.
        self.replay: SideBySideMemory | None = None
        outputs = n_actions + 1 if config.enable_dueling_network else n_actions
        units = [observation_size, *config.hidden_layers, outputs]
        session = self.session = K.get_session()
        self.online: list[Any] = []
        self.target: list[Any] = []
        for fan_in, fan_out in zip(units[:-1], units[1:], strict=False):
            for network in (self.online, self.target):
                network.append(tf.Variable(tf.zeros((size, fan_in, fan_out)), name="rlzoo_kernel"))
                network.append(tf.Variable(tf.zeros((size, 1, fan_out)), name="rlzoo_bias"))

        def states(name: str, rows: int | None = None) -> Any:
            return K.placeholder(shape=(size, rows, observation_size), name=name)

        # Static shapes let Grappler fold the shape arithmetic of the gradients (2x faster calls).
        rows = config.batch_size
        state0, state1, following = states("rlzoo_state0", rows), states("rlzoo_state1", rows), states("rlzoo_following", 1)
        action = K.placeholder(shape=(size, rows), dtype="int32", name="rlzoo_action")
        reward = K.placeholder(shape=(size, rows), name="rlzoo_reward")
        terminated = K.placeholder(shape=(size, rows), dtype="bool", name="rlzoo_terminated")

        target_q1 = self._q_values(state1, self.target)
        if config.enable_double_dqn:
            best = tf.argmax(self._q_values(state1, self.online), axis=2, output_type=tf.int32)
            q1 = tf.reduce_sum(target_q1 * tf.one_hot(best, n_actions), axis=2)
        else:
            q1 = tf.reduce_max(target_q1, axis=2)
        returns = tf.stop_gradient(reward + config.gamma * q1 * (1.0 - tf.cast(terminated, tf.float32)))
        q0 = tf.reduce_sum(self._q_values(state0, self.online) * tf.one_hot(action, n_actions), axis=2)
        # DQNAgent's loss: Huber(delta_clip) on the taken action, averaged over each seed's batch.
        delta_clip = np.inf if config.delta_clip is None else config.delta_clip
        losses = tf.reduce_mean(huber_loss(returns, q0, delta_clip), axis=1)
        # Each seed's variables get the gradient of its own loss only: the sum adds zeros.
        optimizer = self.optimizer = tf_keras.optimizers.legacy.Adam(learning_rate=config.learning_rate)
        train = tf.group(*optimizer.get_updates(loss=tf.reduce_sum(losses), params=self.online))
        tau = config.target_model_update
        if tau < 1:
            with tf.control_dependencies([train]):  # the soft update reads the new online weights
                soft = [tf.compat.v1.assign(t, tau * v + (1.0 - tau) * t) for t, v in zip(self.target, self.online, strict=True)]
            train = tf.group(train, *soft)
        with tf.control_dependencies([train]):  # what DQNAgent.forward would compute next: after the update
            q_following = self._q_values(following, self.online)
        self._update = _fast_callable(session, [state0, action, reward, state1, terminated, following], [losses, q_following], [train])

        all_states = states("rlzoo_states", 1)
        self._q = _fast_callable(session, [all_states], [self._q_values(all_states, self.online)], [])
        seat = K.placeholder(shape=(), dtype="int32", name="rlzoo_seat")
        one_seed = K.placeholder(shape=(1, None, observation_size), name="rlzoo_one_seed")
        picked = [tf.gather(variable, tf.reshape(seat, [1])) for variable in self.online]
        self._seat_q = _fast_callable(session, [seat, one_seed], [self._q_values(one_seed, picked)], [])
        hard = tf.group(*[tf.compat.v1.assign(t, v) for t, v in zip(self.target, self.online, strict=True)])
        self._hard = _fast_callable(session, [], [], [hard])

        self._m = [optimizer.get_slot(variable, "m") for variable in self.online]
        self._v = [optimizer.get_slot(variable, "v") for variable in self.online]
        self._variables = [*self.online, *self.target, *self._m, *self._v]
        uninitialized = set(session.run(tf.compat.v1.report_uninitialized_variables()))  # one call, names as bytes
        fresh = [v for v in tf.compat.v1.global_variables() if v.op.name.encode() in uninitialized]
        session.run(tf.compat.v1.variables_initializer(fresh))  # these variables, Adam's slots and hyperparameters

    def _q_values(self, states: Any, weights: Sequence[Any]) -> Any:
        """Q-values ``(size, rows, n_actions)`` of states ``(size, rows, observation_size)``."""
        x = states
        for i in range(0, len(weights), 2):
            x = tf.matmul(x, weights[i]) + weights[i + 1]
            if i < len(weights) - 2:
                x = tf.nn.relu(x)
        if self.config.enable_dueling_network:  # keras-rl2's aggregation of [V, A_1..A_n]
            value, advantage = x[:, :, :1], x[:, :, 1:]
            if self.config.dueling_type == "avg":
                return value + advantage - tf.reduce_mean(advantage, axis=2, keepdims=True)
            if self.config.dueling_type == "max":
                return value + advantage - tf.reduce_max(advantage, axis=2, keepdims=True)
            return value + advantage
        return x

    # -- graph calls ----------------------------------------------------------------------------
    def update(self, batch: Sequence[np.ndarray], following: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One update of every seed on ``batch`` (``s, a, r, s', terminated``, each ``(size, B, ...)``).

        Returns the losses ``(size,)`` and the updated Q-values of ``following`` ``(size, 1, obs)``.
        """
        losses, q_following = self._update(*batch, following)
        return losses, q_following

    def q_values(self, states: np.ndarray) -> np.ndarray:
        """Q-values ``(size, rows, n_actions)`` of every seed's states ``(size, rows, observation_size)``."""
        return self._q(states)[0]

    def seat_q_values(self, seat: int, states: np.ndarray) -> np.ndarray:
        """Q-values ``(rows, n_actions)`` of one seed's states ``(rows, observation_size)``."""
        return self._seat_q(np.int32(seat), states[None])[0][0]

    def hard_update(self) -> None:
        """Every target network := its online network."""
        self._hard()

    # -- state in and out -----------------------------------------------------------------------
    def states(self, seats: Sequence[int]) -> list[SeedState]:
        """The state of each of ``seats``, in Keras's layouts (copies)."""
        values = self.session.run([*self._variables, self.optimizer.iterations])
        iterations, layers = values[-1], len(self.online)
        online, target, m, v = (values[i * layers : (i + 1) * layers] for i in range(4))
        return [
            SeedState(_unstack(online, seat), _unstack(target, seat), [np.array(iterations), *_unstack(m, seat), *_unstack(v, seat)])
            for seat in seats
        ]

    def load(self, states: dict[int, SeedState]) -> None:
        """Set the given seats' states; Adam's step count must be the same for every seat (lockstep)."""
        values = self.session.run(self._variables)
        layers = len(self.online)
        steps = {int(state.adam[0]) for state in states.values()}
        if len(steps) != 1:
            raise ValueError(f"seeds trained side by side must have taken the same number of updates, got {sorted(steps)}")
        for seat, state in states.items():
            parts = [state.online, state.target, state.adam[1 : 1 + layers], state.adam[1 + layers :]]
            for i, part in enumerate(parts):
                for j, array in enumerate(part):
                    values[i * layers + j][seat] = array.reshape(values[i * layers + j].shape[1:])
        # Keras's own assignment (Variable.load is deprecated and says so on every first use).
        pairs = [*zip(self._variables, values, strict=True), (self.optimizer.iterations, steps.pop())]
        tf_keras.backend.batch_set_value(pairs)


def _unstack(stacked: list[np.ndarray], seat: int) -> list[np.ndarray]:
    """One seat's arrays in Keras's layouts: kernels ``(in, out)``, biases ``(out,)``."""
    return [array[seat].copy() if i % 2 == 0 else array[seat, 0].copy() for i, array in enumerate(stacked)]


def boltzmann_action(q_values: np.ndarray, tau: float, clip: tuple[float, float]) -> int:
    """``BoltzmannQPolicy(tau, clip).select_action(q_values)``, the same action given the seed.

    The same arithmetic on the same arrays, through the ufuncs that ``np.clip`` and ``np.sum``
    dispatch to, and the one ``random_sample`` draw from NumPy's global generator that
    ``np.random.choice(n, p=probs)`` makes (it inverts the normalised CDF with
    ``searchsorted(side="right")``). The functions' argument handling and ``choice``'s checks
    cost several times the arithmetic (~16 µs against ~4 µs).
    """
    return int(boltzmann_actions(q_values[None], tau, clip, [np.random.mtrand._rand])[0])


def boltzmann_actions(q_values: np.ndarray, tau: float, clip: tuple[float, float], rngs: Sequence[np.random.RandomState]) -> np.ndarray:
    """:func:`boltzmann_action` for each row of ``q_values``, row i drawing once from ``rngs[i]``.

    The arithmetic is elementwise or along each row, so a row's action does not depend on the
    other rows.
    """
    exp_values = np.exp(np.minimum(np.maximum(q_values.astype(np.float64) / tau, clip[0]), clip[1]))
    cdf = np.add.accumulate(exp_values / np.add.reduce(exp_values, axis=1, keepdims=True), axis=1)
    cdf /= cdf[:, -1:]
    draws = np.array([rng.random_sample() for rng in rngs])
    return (cdf <= draws[:, None]).sum(axis=1)  # searchsorted(side="right") of each row


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
