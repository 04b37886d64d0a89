"""rlzoo's overhead over plain Stable-Baselines3: sb3-dqn vs DQN on CartPole-v1.

Both train with the same hyperparameters (rlzoo's sb3-dqn preset for CartPole-v1) and
seed; runs alternate (plain, rlzoo, plain, rlzoo...) so drift hits both alike. rlzoo's run
goes through ``rlzoo.train`` with its default callbacks (episode recording); periodic
evaluation is off on both sides, since plain SB3 does none. Target: ratio <= 1.05.

    python benchmarks/sb3_overhead.py [--steps 50000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym
import torch
from stable_baselines3 import DQN

import rlzoo
from rlzoo.agents.sb3 import SB3DQN
from rlzoo.presets import find_preset


def plain_sb3(steps: int, seed: int, hyperparams: dict) -> float:
    kwargs = dict(hyperparams)
    policy = kwargs.pop("policy")
    start = time.perf_counter()
    model = DQN(policy, gym.make("CartPole-v1"), seed=seed, verbose=0, **kwargs)
    model.learn(steps)
    return time.perf_counter() - start


def with_rlzoo(steps: int, seed: int) -> float:
    start = time.perf_counter()
    rlzoo.train("sb3-dqn", "CartPole-v1", total_timesteps=steps, seed=seed, eval_every=0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    hyperparams = find_preset(SB3DQN, "CartPole-v1").hyperparams
    plain, ours = [], []
    for repeat in range(args.repeats):
        plain.append(plain_sb3(args.steps, args.seed, hyperparams))
        ours.append(with_rlzoo(args.steps, args.seed))
        print(f"repeat {repeat}: plain SB3 {plain[-1]:.2f} s, rlzoo sb3-dqn {ours[-1]:.2f} s")
    p, r = statistics.median(plain), statistics.median(ours)
    print(f"DQN on CartPole-v1, {args.steps} steps, seed {args.seed}, median of {args.repeats}")
    print(f"plain SB3: {p:.2f} s   rlzoo sb3-dqn: {r:.2f} s   ratio rlzoo/plain: {r / p:.3f} (target <= 1.05)")


if __name__ == "__main__":
    main()
