"""keras-rl2 DQN recipe: stock keras-rl2 speed vs rlzoo's kerasrl2-dqn, same seed and step budget.

"stock" is keras-rl2 with only the compatibility fixes, driven through DQNAgent.forward /
DQNAgent.backward (``fast=False``); "rlzoo" is the default fused step (``fast=True``). Both
run the recipe's hyperparameters on CartPole-v0; each line prints steps/s and the final
greedy mean over 100 episodes.

    python benchmarks/kerasrl2_speed.py [--steps 50000] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import rlzoo


def run(fast: bool, steps: int, seed: int) -> tuple[float, float]:
    agent = rlzoo.make_agent("kerasrl2-dqn", "CartPole-v0", seed=seed, fast=fast)
    start = time.perf_counter()
    rlzoo.train(agent, total_timesteps=steps, seed=seed, eval_every=0)
    speed = steps / (time.perf_counter() - start)
    return speed, rlzoo.evaluate(agent, n_episodes=100, seed=seed).mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    print(f"kerasrl2-dqn recipe on CartPole-v0, {args.steps} steps")
    print("| seed | stock steps/s | rlzoo steps/s | ratio | stock greedy mean | rlzoo greedy mean |")
    print("|---:|---:|---:|---:|---:|---:|")
    for seed in args.seeds:
        stock_speed, stock_score = run(False, args.steps, seed)
        fast_speed, fast_score = run(True, args.steps, seed)
        print(f"| {seed} | {stock_speed:.0f} | {fast_speed:.0f} | {fast_speed / stock_speed:.2f} | {stock_score:.1f} | {fast_score:.1f} |", flush=True)


if __name__ == "__main__":
    main()
