"""keras-rl2 DQN recipe: stock keras-rl2 speed vs rlzoo's kerasrl2-dqn, same seed and step budget.

"stock" is keras-rl2 with only the compatibility fixes, driven through DQNAgent.forward /
DQNAgent.backward (``fast=False``); "rlzoo" is the default fused step (``fast=True``). Both
run the recipe's hyperparameters on CartPole-v0, one after the other for each seed (so load
from other processes hits both alike), in one TensorFlow session with one inter-op and one
intra-op thread. Each line prints steps/s (wall clock, and per CPU second of this process:
the steadier measure when other work shares the machine), their ratios and, unless
``--eval-episodes 0``, the final greedy mean; the last line the median ratios.

``--profile`` instead times the parts of rlzoo's training step (µs per env step).

    python benchmarks/kerasrl2_speed.py [--steps 50000] [--seeds 0 1 2] [--eval-episodes 100]
    python benchmarks/kerasrl2_speed.py --profile [--steps 5000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict

os.environ.setdefault("OMP_NUM_THREADS", "1")

import rlzoo
import rlzoo.agents.kerasrl2  # selects legacy Keras before TensorFlow is imported
import tensorflow as tf


def run(fast: bool, steps: int, seed: int, eval_episodes: int) -> tuple[float, float, float]:
    """Wall-clock steps/s, steps per CPU second of this process, and the greedy mean (or nan)."""
    agent = rlzoo.make_agent("kerasrl2-dqn", "CartPole-v0", seed=seed, fast=fast)
    start, start_cpu = time.perf_counter(), time.process_time()
    rlzoo.train(agent, total_timesteps=steps, seed=seed, eval_every=0)
    speed, cpu_speed = steps / (time.perf_counter() - start), steps / (time.process_time() - start_cpu)
    score = rlzoo.evaluate(agent, n_episodes=eval_episodes, seed=seed).mean if eval_episodes else float("nan")
    return speed, cpu_speed, score


def profile(steps: int, seed: int) -> None:
    """µs per env step in each part of ``KerasRL2DQN.learn``'s fused path (its loop, timed).

    Prints wall-clock time and the process's CPU time (all its threads): on a machine that
    other work shares, CPU time is the steadier measure of the work a part does.
    """
    agent = rlzoo.make_agent("kerasrl2-dqn", "CartPole-v0", seed=seed)
    dqn, memory, env, fused = agent.dqn, agent.memory, agent.env, agent.fused
    parts: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    def clock() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def add(name: str, begin: tuple[float, float], end: tuple[float, float]) -> None:
        parts[name][0] += end[0] - begin[0]
        parts[name][1] += end[1] - begin[1]

    observation, _ = env.reset(seed=seed)
    dqn.training = True
    start = clock()
    for step in range(steps):
        dqn.step = step
        t0 = clock()
        graph_q = fused.prefetched_q_values(observation) is None
        action = fused.select_action(observation)
        t1 = clock()
        next_observation, reward, terminated, truncated, _ = env.step(action)
        following = env.reset()[0] if terminated or truncated else next_observation
        t2 = clock()
        memory.add(observation, action, reward, next_observation, terminated)
        add("action (Q-value graph call + Boltzmann)" if graph_q else "action (Boltzmann on returned Q-values)", t0, t1)
        add("env.step (+ reset)", t1, t2)
        if step > dqn.nb_steps_warmup:
            t3 = clock()
            indexes = memory.sample_indexes(dqn.batch_size)
            t4 = clock()
            batch = memory.batch(indexes)
            t5 = clock()
            fused.update_batch(batch, following)
            t6 = clock()
            add("replay sampling", t3, t4)
            add("batch gathering", t4, t5)
            add("update graph call (+ Q-values of the next state)", t5, t6)
        observation = following
    end = clock()
    add("total", start, end)
    wall, cpu = parts.pop("total")
    print(f"rlzoo kerasrl2-dqn, {steps} steps: {steps / wall:.0f} steps/s wall, {steps / cpu:.0f} steps per CPU second")
    print("| part | wall µs per step | CPU µs per step |\n|---|---:|---:|")
    for name, (part_wall, part_cpu) in parts.items():
        print(f"| {name} | {1e6 * part_wall / steps:.1f} | {1e6 * part_cpu / steps:.1f} |")
    rest_wall, rest_cpu = wall - sum(w for w, _ in parts.values()), cpu - sum(c for _, c in parts.values())
    print(f"| rest (loop, memory.add, clocks) | {1e6 * rest_wall / steps:.1f} | {1e6 * rest_cpu / steps:.1f} |")
    print(f"| total | {1e6 * wall / steps:.1f} | {1e6 * cpu / steps:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-episodes", type=int, default=100, help="greedy episodes after training; 0: skip")
    parser.add_argument("--profile", action="store_true", help="time the parts of rlzoo's step instead")
    args = parser.parse_args()
    # One thread each, for both paths: small graphs run slower when TensorFlow hands ops
    # between threads on a busy machine.
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    if args.profile:
        profile(args.steps, args.seeds[0])
        return
    print(f"kerasrl2-dqn recipe on CartPole-v0, {args.steps} steps")
    print("| seed | stock steps/s | rlzoo steps/s | ratio | stock steps/CPU s | rlzoo steps/CPU s | CPU ratio | stock greedy mean | rlzoo greedy mean |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios, cpu_ratios = [], []
    for seed in args.seeds:
        stock_speed, stock_cpu, stock_score = run(False, args.steps, seed, args.eval_episodes)
        fast_speed, fast_cpu, fast_score = run(True, args.steps, seed, args.eval_episodes)
        ratios.append(fast_speed / stock_speed)
        cpu_ratios.append(fast_cpu / stock_cpu)
        print(f"| {seed} | {stock_speed:.0f} | {fast_speed:.0f} | {ratios[-1]:.2f} | {stock_cpu:.0f} | {fast_cpu:.0f} | {cpu_ratios[-1]:.2f} "
              f"| {stock_score:.1f} | {fast_score:.1f} |", flush=True)
    print(f"median ratio {statistics.median(ratios):.2f} (CPU time: {statistics.median(cpu_ratios):.2f}) over {len(ratios)} seeds")

if __name__ == "__main__":
    main()
