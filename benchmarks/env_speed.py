"""Env steps per second: rlzoo's variants next to Gymnasium's CartPole-v1, single and batched.

Single envs are made with ``gymnasium.make`` (its default wrappers included) and stepped
with pre-drawn random actions, resetting at episode ends. Batched envs use
``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")`` with 256 envs.
Targets: every batched variant >= 1M steps/s; every single variant's cost per step
<= 1.5x CartPole-v1's.

    python benchmarks/env_speed.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import rlzoo  # noqa: F401  (registers the variants)
from rlzoo.envs.variants import VARIANTS


def single_speed(env_id: str, seconds: float) -> float:
    env = gym.make(env_id)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(4096)]
    env.reset(seed=0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        steps += len(actions)
    return steps / (time.perf_counter() - start)


def batched_speed(env_id: str, seconds: float, num_envs: int) -> float:
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(64)]
    env.reset(seed=0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for action in actions:
            env.step(action)
        steps += len(actions) * num_envs
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--num-envs", type=int, default=256)
    args = parser.parse_args()
    reference_single = single_speed("CartPole-v1", args.seconds)
    reference_batched = batched_speed("CartPole-v1", args.seconds, args.num_envs)
    print(f"| env | single steps/s | cost per step vs CartPole-v1 | batched ({args.num_envs}) steps/s |")
    print("|---|---:|---:|---:|")
    print(f"| CartPole-v1 (Gymnasium) | {reference_single:,.0f} | 1.00 | {reference_batched:,.0f} |")
    for env_id in VARIANTS:
        single = single_speed(env_id, args.seconds)
        batched = batched_speed(env_id, args.seconds, args.num_envs)
        print(f"| {env_id} | {single:,.0f} | {reference_single / single:.2f} | {batched:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
