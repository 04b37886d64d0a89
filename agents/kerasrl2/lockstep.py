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

from rlzoo.callbacks import Callback
from rlzoo.errors import TrainingDivergedError

from .fast import StackedDQN, boltzmann_actions

if TYPE_CHECKING:
    from .agent import KerasRL2DQN


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
    first = agents[0]
    config, size = first.config, graph.size
    observation_shape = first.memory.observations.shape[1:]
    width = graph.observation_size
    batch_size = config.batch_size
    state_rows = (size, batch_size, *observation_shape)
    buffers = (np.zeros(state_rows, np.float32), np.zeros((size, batch_size), np.int32), np.zeros((size, batch_size), np.float32))
    buffers += (np.zeros(state_rows, np.float32), np.zeros((size, batch_size), bool))
    feed = (buffers[0].reshape(size, batch_size, width), buffers[1], buffers[2], buffers[3].reshape(size, batch_size, width), buffers[4])
    current = np.zeros((size, 1, width), np.float32)
    following_states = np.zeros((size, 1, width), np.float32)
    boltzmann = (float(config.policy_params.get("tau", 1.0)), tuple(config.policy_params.get("clip", (-500.0, 500.0))))
    eps = float(config.policy_params.get("eps", 0.1))
    for agent in agents:
        if agent._observation is None:
            agent._observation, _ = agent.env.reset(seed=agent.seed)
            agent._episode_return, agent._episode_length = 0.0, 0
    errors: dict[int, TrainingDivergedError] = {}
    active = [k for k, agent in enumerate(agents) if agent.num_timesteps < until]
    followings: list[Any] = [None] * size

    def stop(k: int, error: TrainingDivergedError | None = None) -> None:
        active.remove(k)
        agents[k].fused.park()
        if error is not None:
            errors[k] = error

    while active:
        step = agents[active[0]].num_timesteps  # lockstep: every active agent is at this step
        # 1. Q-values: those the last update returned, else one call for every seat.
        q_rows = [agents[k].fused.prefetched_q_values(agents[k]._observation) for k in active]
        if any(row is None for row in q_rows):
            for k in active:
                current[k, 0] = np.asarray(agents[k]._observation, dtype=np.float32).reshape(width)
            q_all = graph.q_values(current)[:, 0]
            q_rows = [q_all[k] if row is None else row for k, row in zip(active, q_rows, strict=True)]
        q_values = np.stack(q_rows)  # type: ignore[arg-type]
        # 2. Actions, as keras-rl2's training policy draws them, each seed from its own generator.
        if config.policy == "boltzmann":
            actions = boltzmann_actions(q_values, *boltzmann, [rngs[k] for k in active])
        elif config.policy == "eps_greedy":  # EpsGreedyQPolicy: uniform() < eps, then randint(0, n)
            actions = np.array([rngs[k].randint(0, len(row)) if rngs[k].uniform() < eps else np.argmax(row) for k, row in zip(active, q_values, strict=True)])
        else:
            actions = np.argmax(q_values, axis=1)
        # 3. Env steps, transitions, and each seed's replay batch.
        updates = step > config.nb_steps_warmup and step % config.train_interval == 0
        for k, action in zip(list(active), actions, strict=True):
            agent = agents[k]
            agent.dqn.step = step  # keras-rl2's counter, as DQNAgent.forward would see it
            observation = agent._observation
            next_observation, reward, terminated, truncated, _ = agent.env.step(int(action))
            if not (math.isfinite(reward) and np.isfinite(next_observation).all()):  # ~1 us: a NaN must not reach the weights
                stop(k, non_finite_step(step + 1, next_observation, float(reward)))
                continue
            done = terminated or truncated
            # Reset before the update, so the update also returns the Q-values of the
            # observation the next action is chosen on (the env's own generator: no change in draws).
            following = agent.env.reset()[0] if done else next_observation
            if done and not np.isfinite(following).all():
                stop(k, non_finite_step(step + 1, following, 0.0, "reset"))
                continue
            agent.memory.add(observation, int(action), float(reward), next_observation, bool(terminated))
            agent._episode_return += float(reward)
            agent._episode_length += 1
            agent._done = bool(done)
            followings[k] = following
            if updates:
                agent.memory.batch_into(agent.memory.sample_indexes(batch_size, rngs[k]), tuple(buffer[k] for buffer in buffers))
                following_states[k, 0] = np.asarray(following, dtype=np.float32).reshape(width)
        if not active:
            break
        # 4. One update of every seat, and keras-rl2's hard target update.
        if updates:
            losses, q_following = graph.update(feed, following_states)
        if config.target_model_update >= 1 and step % config.target_model_update == 0:
            graph.hard_update()
        # 5. Per seed: the loss check, counters, callbacks.
        for k in list(active):
            agent = agents[k]
            if updates:
                loss = float(losses[k])
                if not math.isfinite(loss):
                    stop(k, diverged_loss(step + 1, loss))
                    continue
                agent.fused.last_loss = loss
                agent.fused.remember(followings[k], q_following[k, 0])
            agent.num_timesteps += 1
            if agent._done:
                callbacks[k].on_episode_end(agent, agent._episode_return, agent._episode_length)
                agent._episode_return, agent._episode_length = 0.0, 0
            agent._observation = followings[k]
            if not callbacks[k].on_step(agent) or agent.num_timesteps >= until:
                active.remove(k)
                if agent.num_timesteps < until:
                    agent.fused.park()  # stopped early: its seat must not take the others' updates
    return errors


def seat_side_by_side(agents: Sequence[KerasRL2DQN]) -> StackedDQN:
    """The graph that seats ``agents`` at ``0..K-1``: the one they share already, else a new one
    loaded with their states."""
    graph = agents[0].fused.graph
    if graph is not None and graph.size == len(agents) and all(a.fused.graph is graph and a.fused.index == k for k, a in enumerate(agents)):
        return graph
    first = agents[0]
    for agent in agents[1:]:
        if agent.config != first.config or agent.memory.observations.shape != first.memory.observations.shape or agent.n_actions != first.n_actions:
            raise ValueError("seeds trained side by side need one recipe: the same hyperparameters and spaces")
    states = {k: agent.fused.state() for k, agent in enumerate(agents)}
    graph = first.fused.build(len(agents))
    graph.load(states)
    for k, agent in enumerate(agents):
        agent.fused.sit(graph, k)
    return graph
