"""Before and after tuning: the keras-rl2 recipe and the tuned kerasrl2-dqn presets on the
cart-pole variants, over fresh seeds (not the seeds the tuning used).

Each job builds ``kerasrl2-dqn`` from a preset (``rlzoo.make_agent(..., preset=...)``),
trains the preset's timesteps with its periodic evaluation, and evaluates the greedy policy
over 100 episodes with the job's seed. A row's score is the IQM (interquartile mean, the
middle 50% of seeds) of the per-seed greedy means, as rliable reports it. Jobs run in
separate processes (``--jobs`` at a time, one thread each).

    python benchmarks/kerasrl2_variant_presets.py [--seeds 1000 ... 1009] [--jobs 2] \\
        [--presets recipe tuned] [--envs ID ...] [--set KEY=VALUE ...] [--steps N]

``--presets`` takes preset names or files: ``recipe`` (the keras-rl2 recipe,
``agents/presets/kerasrl2-dqn.recipe.yml``), ``tuned`` (the shipped presets,
``agents/presets/kerasrl2-dqn.yml``) or a YAML file such as ``rlzoo tune``'s ``best_preset.yml``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

ENVS = ["rlzoo/NoisyCartPole-v0", "rlzoo/RandomPhysicsCartPole-v0", "rlzoo/WindyCartPole-v0"]


def job(preset: str, env_id: str, seed: int, overrides: dict[str, Any], steps: int | None) -> tuple[str, str, int, float, int, float]:
    os.environ["OMP_NUM_THREADS"] = "1"
    import rlzoo

    start = time.perf_counter()
    agent = rlzoo.make_agent("kerasrl2-dqn", env_id, seed=seed, preset=None if preset == "tuned" else preset, **overrides)
    rlzoo.train(agent, total_timesteps=steps, seed=seed)
    wall = time.perf_counter() - start
    mean = rlzoo.evaluate(agent, n_episodes=100, seed=seed).mean
    return preset, env_id, seed, mean, agent.num_timesteps, wall


def iqm(values: list[float]) -> float:
    """Mean of the middle 50% (``scipy.stats.trim_mean(values, 0.25)``, as rliable's IQM)."""
    ordered = sorted(values)
    cut = int(0.25 * len(ordered))
    middle = ordered[cut : len(ordered) - cut]
    return sum(middle) / len(middle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(1000, 1010)))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--presets", nargs="+", default=["recipe", "tuned"])
    parser.add_argument("--envs", nargs="+", default=ENVS)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter")
    parser.add_argument("--steps", type=int, help="training steps (default: the preset's)")
    args = parser.parse_args()
    import gymnasium as gym

    from rlzoo.cli.common import parse_set

    overrides = parse_set(args.set)
    tasks = [(p, env, seed, overrides, args.steps) for p in args.presets for env in args.envs for seed in args.seeds]
    results = []
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        for result in pool.map(job, *zip(*tasks)):
            print(f"{result[0]} {result[1]} seed {result[2]}: {result[3]:.1f} ({result[4]} steps, {result[5]:.0f} s)", flush=True)
            results.append(result)
    print()
    print("| env | preset | steps | IQM over seeds | mean | min-max | per seed | wall time per seed (s) | >= 90% of threshold |")
    print("|---|---|---:|---:|---:|---:|---|---:|:---:|")
    for env in args.envs:
        threshold = gym.spec(env).reward_threshold
        for preset in args.presets:
            rows = [r for r in results if r[0] == preset and r[1] == env]
            means = [r[3] for r in rows]
            score = iqm(means)
            print(
                f"| {env} | {preset} | {rows[0][4]} | {score:.1f} | {sum(means) / len(means):.1f} | {min(means):.1f}-{max(means):.1f} "
                f"| {', '.join(f'{m:.1f}' for m in means)} | {sum(r[5] for r in rows) / len(rows):.0f} "
                f"| {'yes' if score >= 0.9 * threshold else 'no'} |"
            )


if __name__ == "__main__":
    main()
