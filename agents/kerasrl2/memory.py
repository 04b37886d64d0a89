"""A replay memory for keras-rl2's DQNAgent that stores s' explicitly.

keras-rl2's ``SequentialMemory`` has no next-state column: it takes s' from the next stored
entry and uses one ``terminal`` flag both for "do not bootstrap" and to skip the transition
that spans an env reset. Passing ``terminal=False`` on time-limit truncation there would
create transitions from one episode's last state to the next episode's first. Here each
transition keeps its own s' and a ``terminated`` flag that only means "no bootstrap", so a
truncated transition bootstraps from its real s' and none crosses an episode boundary.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rl.memory import Experience

_COLUMNS = ("observations", "actions", "rewards", "next_observations", "terminated")


class TransitionMemory:
    """A ring buffer of ``(s, a, r, s', terminated)`` with keras-rl2's Memory interface.

    Parameters
    ----------
    limit:
        Capacity; the oldest transitions are overwritten.
    observation_shape:
        Shape of one observation.
    """

    window_length = 1

    def __init__(self, limit: int, observation_shape: tuple[int, ...]) -> None:
        self.limit = int(limit)
        self.observations = np.zeros((self.limit, *observation_shape), dtype=np.float32)
        self.next_observations = np.zeros((self.limit, *observation_shape), dtype=np.float32)
        self.actions = np.zeros(self.limit, dtype=np.int32)
        self.rewards = np.zeros(self.limit, dtype=np.float32)
        self.terminated = np.zeros(self.limit, dtype=bool)
        self.nb_entries = 0
        self._next = 0
        self._batches: dict[int, tuple[np.ndarray, ...]] = {}
        #: s' of the transition keras-rl2's ``DQNAgent.backward`` is about to ``append``.
        self.next_observation: Any = None

    def add(self, observation: Any, action: int, reward: float, next_observation: Any, terminated: bool) -> None:
        """Store one transition."""
        i = self._next
        self.observations[i] = observation
        self.next_observations[i] = next_observation
        self.actions[i] = action
        self.rewards[i] = reward
        self.terminated[i] = terminated
        self._next = (i + 1) % self.limit
        self.nb_entries = min(self.nb_entries + 1, self.limit)

    def sample_indexes(self, batch_size: int, rng: np.random.RandomState | None = None) -> np.ndarray:
        """Uniform indexes, drawn from ``rng`` (default: NumPy's global generator, as keras-rl2's memories do)."""
        return (np.random.mtrand._rand if rng is None else rng).randint(0, self.nb_entries, size=batch_size)

    def batch_into(self, indexes: np.ndarray, buffers: tuple[np.ndarray, ...]) -> None:
        """:meth:`batch`'s arrays ``(s, a, r, s', terminated)`` written into ``buffers`` (one seed's rows
        of the side-by-side batch)."""
        columns = (self.observations, self.actions, self.rewards, self.next_observations, self.terminated)
        for column, buffer in zip(columns, buffers, strict=True):
            column.take(indexes, axis=0, out=buffer, mode="clip")

    def batch(self, indexes: np.ndarray) -> tuple[np.ndarray, ...]:
        """Arrays ``(s, a, r, s', terminated)``; states shaped ``(batch, 1, *obs)`` like keras-rl2's.

        The arrays are buffers reused by the next call with as many indexes: copy them to keep
        them. ``ndarray.take`` into them costs about a fifth of fancy indexing's new arrays (and
        of the ``np.take`` function's argument handling).
        """
        columns = (self.observations, self.actions, self.rewards, self.next_observations, self.terminated)
        buffers = self._batches.get(len(indexes))
        if buffers is None:
            buffers = self._batches[len(indexes)] = tuple(np.empty((len(indexes), *c.shape[1:]), c.dtype) for c in columns)
        for column, buffer in zip(columns, buffers, strict=True):
            column.take(indexes, axis=0, out=buffer, mode="clip")  # "clip" skips the bounds-check copy
        state0, action, reward, state1, terminated = buffers
        return state0[:, None], action, reward, state1[:, None], terminated

    # -- keras-rl2's Memory interface, used by stock DQNAgent.forward/backward ------------------
    def get_recent_state(self, current_observation: Any) -> list[Any]:
        return [current_observation]

    def append(self, observation: Any, action: int, reward: float, terminal: bool, training: bool = True) -> None:
        """keras-rl2's append, completed with :attr:`next_observation` set by the caller."""
        if training:
            self.add(observation, action, reward, self.next_observation, terminal)

    def sample(self, batch_size: int, batch_idxs: Any = None) -> list[Experience]:
        indexes = self.sample_indexes(batch_size) if batch_idxs is None else np.asarray(batch_idxs)
        return [
            Experience(
                state0=[self.observations[i]],
                action=int(self.actions[i]),
                reward=float(self.rewards[i]),
                state1=[self.next_observations[i]],
                terminal1=bool(self.terminated[i]),
            )
            for i in indexes
        ]

    def get_config(self) -> dict[str, Any]:
        return {"limit": self.limit, "window_length": self.window_length}


class SideBySideMemory:
    """The replay memories of seeds side by side as one store: each :class:`TransitionMemory`'s
    arrays become views of its row, so storing K transitions and gathering K batches are one
    NumPy call per column. Seeds trained side by side are at one step, so they share the
    write position.

    Parameters
    ----------
    memories:
        One per seat (their contents are copied in).
    """

    def __init__(self, memories: list[TransitionMemory]) -> None:
        self.memories = memories
        self.limit = memories[0].limit
        self.columns: list[np.ndarray] = []
        for name in _COLUMNS:
            stacked = np.stack([getattr(memory, name) for memory in memories])
            self.columns.append(stacked)
            for memory, row in zip(memories, stacked, strict=True):
                setattr(memory, name, row)

    def add(self, seats: np.ndarray, transitions: tuple[np.ndarray, ...]) -> None:
        """Store one transition per seat: ``(s, a, r, s', terminated)`` arrays, one row each."""
        first = self.memories[seats[0]]
        i = first._next
        for column, values in zip(self.columns, transitions, strict=True):
            column[seats, i] = values
        entries, following = min(first.nb_entries + 1, self.limit), (i + 1) % self.limit
        for seat in seats:
            memory = self.memories[seat]
            memory._next, memory.nb_entries = following, entries

    def batch_into(self, seats: np.ndarray, indexes: np.ndarray, buffers: tuple[np.ndarray, ...]) -> None:
        """Gather each seat's transitions at its row of ``indexes`` into its row of ``buffers``."""
        flat = (indexes + (seats * self.limit)[:, None]).ravel()
        everyone = len(seats) == len(self.memories)
        for column, buffer in zip(self.columns, buffers, strict=True):
            rows = column.reshape(-1, *column.shape[2:])
            if everyone:  # the usual case: straight into the buffer
                rows.take(flat, axis=0, out=buffer.reshape(-1, *buffer.shape[2:]), mode="clip")
            else:
                buffer[seats] = rows.take(flat, axis=0).reshape(len(seats), -1, *buffer.shape[2:])
