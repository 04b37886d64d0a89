"""The fast path's training loop: K seeds of one recipe side by side, one graph call per step.

A solo run is this loop with one seed. Each step: the K actions from one batch of Q-values
(each seed drawing from its own generator), the K env steps, each seed's transition stored
in its own memory and its replay batch drawn from its own generator, then one
:class:`~.fast.StackedDQN` update of all K seeds. Callbacks run per seed, as in a solo run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rlzoo.agent import Callback
from rlzoo.errors import TrainingDivergedError

from .envs import CartPoleTwin, step_each, twin_fits
from .fast import StackedDQN, boltzmann_actions
from .memory import SideBySideMemory

if TYPE_CHECKING:
    from .seat import Seat

#: The kerasrl2-dqn agent (agent.py, which imports this module: named, not imported, so the graph stays one-way).
KerasRL2DQN = Any


def non_finite_step(step: int, observation: Any, reward: float, what: str = "step") -> TrainingDivergedError:
    """The error for an env that returned a non-finite observation or reward."""
    found = f"reward {reward}" if not math.isfinite(reward) else f"observation {np.asarray(observation).tolist()}"
    return TrainingDivergedError(
        f"kerasrl2-dqn: training stopped at step {step}: env.{what}() returned a non-finite {found}; "
        "check the env's observations and rewards (and its kwargs, e.g. a noise_std of nan)"
    )


def diverged_loss(step: int, loss: float) -> TrainingDivergedError:
    """The error for a loss that became non-finite."""
    return TrainingDivergedError(
        f"kerasrl2-dqn: training stopped at step {step}: the loss became {loss} "
        "(diverged: try a smaller learning_rate, or check the env's observations and rewards for huge values)"
    )


def learn_lockstep(
    agents: Sequence[KerasRL2DQN],
    graph: StackedDQN,
    until: int,
    callbacks: Sequence[Callback],
    rngs: Sequence[np.random.RandomState],
) -> dict[int, TrainingDivergedError]:
    """Train ``agents`` (seated ``0..K-1`` in ``graph``, at one step count) until ``until`` steps.

    Parameters
    ----------
    agents:
        Agents of one recipe, each seated at its index in ``graph``.
    graph:
        Their stacked networks.
    until:
        The step count each agent trains to.
    callbacks:
        One per agent; ``on_step`` returning ``False`` stops that agent (it is parked).
    rngs:
        One per agent: its exploration and replay-sampling draws.

    Returns
    -------
    dict
        The error of each agent whose training diverged (it stopped there and is parked).
    """
    config, size, width, batch_size = agents[0].config, graph.size, graph.observation_size, agents[0].config.batch_size
    replay = graph.replay
    if replay is None or replay.memories != [agent.memory for agent in agents]:
        replay = graph.replay = SideBySideMemory([agent.memory for agent in agents])
    shape = agents[0].memory.observations.shape[1:]
    buffers = tuple(np.zeros((size, batch_size, *column.shape[2:]), column.dtype) for column in replay.columns)
    feed = (buffers[0].reshape(size, batch_size, width), buffers[1], buffers[2], buffers[3].reshape(size, batch_size, width), buffers[4])
    current, following = np.zeros((size, *shape), np.float32), np.zeros((size, *shape), np.float32)
    boltzmann = (float(config.policy_params.get("tau", 1.0)), tuple(config.policy_params.get("clip", (-500.0, 500.0))))
    eps = float(config.policy_params.get("eps", 0.1))
    for k, agent in enumerate(agents):
        if agent._observation is None:
            agent._observation, _ = agent.env.reset(seed=agent.seed)
            agent._episode_return, agent._episode_length = 0.0, 0
        current[k] = agent._observation
    envs = [agent.env for agent in agents]
    twin = CartPoleTwin(envs) if twin_fits(envs) else None
    errors: dict[int, TrainingDivergedError] = {}
    seats = np.array([k for k, agent in enumerate(agents) if agent.num_timesteps < until], dtype=np.intp)
    q_current: np.ndarray | None = None  # Q-values of ``current`` from the last update, while valid
    try:
        while len(seats):
            step = agents[seats[0]].num_timesteps  # lockstep: every seated agent is at this step
            # 1. Q-values: those the last update returned (unless weights changed since), else one call.
            if q_current is None or any(agents[k].fused.prefetched_q_values(agents[k]._observation) is None for k in seats):
                q_current = graph.q_values(current.reshape(size, 1, width))[:, 0]
            q_values = q_current[seats]
            # 2. Actions, as keras-rl2's training policy draws them, each seed from its own generator.
            if config.policy == "boltzmann":
                actions = boltzmann_actions(q_values, *boltzmann, [rngs[k] for k in seats])
            elif config.policy == "eps_greedy":  # EpsGreedyQPolicy: uniform() < eps, then randint(0, n)
                actions = np.array(
                    [rngs[k].randint(0, len(q)) if rngs[k].uniform() < eps else np.argmax(q) for k, q in zip(seats, q_values, strict=True)]
                )
            else:
                actions = np.argmax(q_values, axis=1)
            # 3. The env steps (one NumPy step for cart-poles), each episode's end, the transitions.
            if twin is not None:
                next_observations, rewards, terminated, truncated = twin.step(seats, actions)
            else:
                steps = step_each(envs, seats.tolist(), actions)
                next_observations = np.stack([np.asarray(o, dtype=np.float32) for o, _, _, _ in steps])
                rewards, terminated, truncated = (np.array([s[i] for s in steps]) for i in (1, 2, 3))
            done = terminated | truncated
            following[seats] = next_observations
            for k in seats[done]:
                following[k] = twin.reset(k) if twin is not None else agents[k].env.reset()[0]
            bad = ~(np.isfinite(rewards) & np.isfinite(next_observations.reshape(len(seats), -1)).all(axis=1))
            bad |= ~np.isfinite(following[seats].reshape(len(seats), -1)).all(axis=1)
            for k, problem in zip(seats[bad], np.flatnonzero(bad), strict=True):  # a NaN must not reach the weights
                what, value = (
                    ("step", next_observations[problem])
                    if not np.isfinite(next_observations[problem]).all() or not np.isfinite(rewards[problem])
                    else ("reset", following[k])
                )
                errors[k] = non_finite_step(step + 1, value, float(rewards[problem]) if what == "step" else 0.0, what)
                agents[k].fused.park()
            if bad.any():
                keep = ~bad
                seats, actions, rewards, terminated, done, next_observations = (
                    a[keep] for a in (seats, actions, rewards, terminated, done, next_observations)
                )
                if not len(seats):
                    break
            replay.add(seats, (current[seats], actions, rewards, next_observations, terminated))
            # 4. One update of every seat, and keras-rl2's hard target update.
            if step > config.nb_steps_warmup and step % config.train_interval == 0:
                indexes = np.stack([rngs[k].randint(0, agents[k].memory.nb_entries, size=batch_size) for k in seats])
                replay.batch_into(seats, indexes, buffers)
                losses, q_following = graph.update(feed, following.reshape(size, 1, width))
                q_current = q_following[:, 0]
            else:
                losses, q_current = None, None
            if config.target_model_update >= 1 and step % config.target_model_update == 0:
                graph.hard_update()
                q_current = None
            current[seats] = following[seats]
            # 5. Per seed: the loss check, counters, episodes, callbacks.
            stopped = []
            loss_list = [None] * size if losses is None else losses.tolist()
            for i, (k, reward, ended) in enumerate(zip(seats.tolist(), rewards.tolist(), done.tolist(), strict=True)):
                agent, loss = agents[k], loss_list[k]
                if loss is not None:
                    if not math.isfinite(loss):
                        errors[k] = diverged_loss(step + 1, loss)
                        stopped.append(i)
                        agent.fused.park()
                        continue
                    agent.fused.last_loss = loss
                agent.num_timesteps += 1
                agent._episode_return += reward
                agent._episode_length += 1
                if ended:
                    callbacks[k].on_episode_end(agent, agent._episode_return, agent._episode_length)
                    agent._episode_return, agent._episode_length = 0.0, 0
                agent._observation = current[k].copy()
                if q_current is not None:
                    agent.fused.remember(agent._observation, q_current[k])
                if not callbacks[k].on_step(agent) or agent.num_timesteps >= until:
                    stopped.append(i)
                    if agent.num_timesteps < until:
                        agent.fused.park()  # stopped early: its seat must not take the others' updates
            if stopped:
                seats = np.delete(seats, stopped)
    finally:
        if twin is not None:
            twin.sync()  # each env as its own steps would have left it
    return errors


def seat_side_by_side(agents: Sequence[KerasRL2DQN]) -> StackedDQN:
    """The graph that seats ``agents`` at ``0..K-1``: the one they share already, else a new one
    loaded with their states."""
    seats = [_seat(agent) for agent in agents]
    graph = seats[0].graph
    if graph is not None and graph.size == len(agents) and all(s.graph is graph and s.index == k for k, s in enumerate(seats)):
        return graph
    first = agents[0]
    for agent in agents[1:]:
        if (
            agent.config != first.config
            or agent.memory.observations.shape != first.memory.observations.shape
            or agent.n_actions != first.n_actions
        ):
            raise ValueError("seeds trained side by side need one recipe: the same hyperparameters and spaces")
    states = {k: seat.state() for k, seat in enumerate(seats)}
    graph = seats[0].build(len(agents))
    graph.load(states)
    for k, seat in enumerate(seats):
        seat.sit(graph, k)
    return graph


def _seat(agent: KerasRL2DQN) -> Seat:
    if agent.fused is None:
        raise ValueError("only kerasrl2-dqn agents with fast=True train side by side")
    return agent.fused
