"""One seed's seat in a :class:`~.fast.StackedDQN`: the fast path's networks, as one agent sees them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .fast import SeedState, StackedDQN
from .memory import TransitionMemory


class Seat:
    """Where an agent's fast-path networks live: a seat of a stacked graph, or parked as arrays.

    A new agent's state is parked; its own one-seed graph is built on first use. Training
    seeds side by side moves each agent into a seat of one shared graph; :meth:`park` moves it
    out again (an agent that stops early must not take its neighbours' updates).

    Parameters
    ----------
    state:
        The initial state.
    build:
        Builds a stacked graph of a given size for this agent's hyperparameters and spaces.
    memory:
        The agent's replay memory (for :meth:`update` and :meth:`backward`).
    dqn:
        Gives the agent's keras-rl2 ``DQNAgent`` (its step counter, warm-up and intervals), for :meth:`backward`.
    """

    def __init__(self, state: SeedState, build: Callable[[int], StackedDQN], memory: TransitionMemory, dqn: Callable[[], Any]) -> None:
        self.build, self.memory, self.dqn = build, memory, dqn
        self.graph: StackedDQN | None = None
        self.index = 0
        self._parked: SeedState | None = state
        #: Loss of the last update (``nan`` before the first).
        self.last_loss = float("nan")
        self._following: Any = None  # the observation whose Q-values the last update returned
        self._following_q: np.ndarray | None = None

    # -- where the state lives ------------------------------------------------------------------
    def own_graph(self) -> StackedDQN:
        """This agent's graph, as the only seat of a one-seed graph if it is parked or shares one."""
        if self.graph is None or self.graph.size != 1:
            state = self.state()
            graph = self.build(1)
            graph.load({0: state})
            self.sit(graph, 0)
        assert self.graph is not None
        return self.graph

    def sit(self, graph: StackedDQN, index: int) -> None:
        """From now on the state is seat ``index`` of ``graph`` (the caller has loaded it there)."""
        self.graph, self.index, self._parked = graph, index, None
        self.forget()

    def park(self) -> None:
        """Copy the state out of the graph; the seat is no longer this agent's."""
        self._parked = self.state()
        self.graph = None
        self.forget()

    def state(self) -> SeedState:
        """The networks and Adam's state (copies)."""
        if self.graph is None:
            assert self._parked is not None
            return self._parked
        return self.graph.states([self.index])[0]

    def load(self, state: SeedState) -> None:
        """Replace the networks and Adam's state."""
        if self.graph is None:
            self._parked = state
        else:
            self.graph.load({self.index: state})
        self.forget()

    def set_weights(self, online: list[np.ndarray], target: list[np.ndarray]) -> None:
        """Replace both networks' weights (Adam's state stays)."""
        state = self.state()
        self.load(type(state)([np.asarray(w) for w in online], [np.asarray(w) for w in target], state.adam))

    def optimizer_weights(self) -> list[np.ndarray]:
        """Adam's state, ``[iterations, m..., v...]``, as the legacy Keras Adam's ``get_weights``."""
        return self.state().adam

    # -- Q-values -------------------------------------------------------------------------------
    def q_values(self, observation: Any) -> np.ndarray:
        """Q-values of one observation, from the current weights."""
        return self.batch_q_values(np.asarray(observation, dtype=np.float32)[None])[0]

    def batch_q_values(self, observations: np.ndarray) -> np.ndarray:
        """Q-values of a batch of observations, one row each."""
        graph = self.graph if self.graph is not None else self.own_graph()
        rows = np.asarray(observations, dtype=np.float32).reshape(len(observations), graph.observation_size)
        return graph.seat_q_values(self.index, rows)

    def remember(self, following: Any, q_values: np.ndarray) -> None:
        """Keep the Q-values an update returned for ``following`` (see :meth:`prefetched_q_values`)."""
        self._following, self._following_q = following, q_values

    def prefetched_q_values(self, observation: Any) -> np.ndarray | None:
        """The Q-values the last update returned, if it was given this same observation object."""
        return self._following_q if observation is self._following else None

    def forget(self) -> None:
        """Drop the Q-values the last update returned: call it when the weights change elsewhere."""
        self._following = self._following_q = None

    # -- one seed's update, outside the training loop -------------------------------------------
    def update(self, indexes: np.ndarray, following: Any = None) -> float:
        """One update on the stored transitions at ``indexes``; returns the loss.

        ``following`` (an observation), if given, gets its Q-values under the updated weights
        computed in the same call, for the next action chosen on that same object.
        """
        graph = self.own_graph()
        state0, action, reward, state1, terminated = self.memory.batch(indexes)
        rows = (1, len(indexes), graph.observation_size)
        batch = (state0.reshape(rows), action[None], reward[None], state1.reshape(rows), terminated[None])
        following_state = batch[0][:, :1] if following is None else np.asarray(following, dtype=np.float32).reshape(1, 1, -1)
        losses, q_following = graph.update(batch, following_state)
        self.last_loss = float(losses[0])
        if following is not None:
            self.remember(following, q_following[0, 0])
        return self.last_loss

    def backward(self, following: Any = None) -> float | None:
        """What ``DQNAgent.backward`` does after storing the transition: train, then hard-update.

        Returns the loss of the update, or ``None`` when this step trains nothing.
        """
        dqn = self.dqn()
        loss = None
        if dqn.step > dqn.nb_steps_warmup and dqn.step % dqn.train_interval == 0:
            loss = self.update(self.memory.sample_indexes(dqn.batch_size), following)
        if dqn.target_model_update >= 1 and dqn.step % dqn.target_model_update == 0:
            self.own_graph().hard_update()
        return loss
