"""The README's results table: every (env, agent) preset, trained on several seeds.

Each job builds the agent from its preset (``rlzoo.make_agent(agent, env, seed=s)``),
trains the preset's timesteps, and evaluates the greedy policy over 100 episodes with the
same seed. Jobs run in separate processes (``--jobs`` at a time, one thread each).

    python benchmarks/variant_results.py [--seeds 0 1 2] [--jobs 2] [--envs ID ...] [--agents NAME ...]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor


def job(agent_name: str, env_id: str, seed: int) -> tuple[str, str, int, float, int, float]:
    os.environ["OMP_NUM_THREADS"] = "1"
    import rlzoo

    start = time.perf_counter()
    agent = rlzoo.train(agent_name, env_id, seed=seed)
    wall = time.perf_counter() - start
    mean = rlzoo.evaluate(agent, n_episodes=100, seed=seed).mean
    return agent_name, env_id, seed, mean, agent.num_timesteps, wall


def preset_pairs(envs: list[str] | None, agents: list[str] | None) -> list[tuple[str, str]]:
    import rlzoo
    from rlzoo.presets import load_presets

    pairs = []
    for entry in rlzoo.list_agents():
        if agents and entry.name not in agents:
            continue
        factory = entry.load()
        path = getattr(factory, "preset_file", None)
        for env_id in load_presets(path) if path else {}:
            if env_id.startswith("rlzoo/") and (not envs or env_id in envs):
                pairs.append((entry.name, env_id))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--envs", nargs="*")
    parser.add_argument("--agents", nargs="*")
    args = parser.parse_args()
    import gymnasium as gym

    import rlzoo  # noqa: F401

    pairs = preset_pairs(args.envs, args.agents)
    tasks = [(agent, env, seed) for agent, env in pairs for seed in args.seeds]
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(job, *zip(*tasks)))
    print("| env | agent | steps | greedy mean over seeds (min-max) | per seed | wall time per seed (s) | reward threshold | >= 90% |")
    print("|---|---|---:|---:|---|---:|---:|:---:|")
    for agent, env in sorted(pairs, key=lambda p: (p[1], p[0])):
        rows = [r for r in results if r[0] == agent and r[1] == env]
        means = [r[3] for r in rows]
        spec = gym.spec(env) if env in gym.registry else None
        threshold = spec.reward_threshold if spec and spec.reward_threshold else None
        reached = "-" if threshold is None else ("yes" if statistics.mean(means) >= 0.9 * threshold else "no")
        print(
            f"| {env} | {agent} | {rows[0][4]} | {statistics.mean(means):.1f} ({min(means):.1f}-{max(means):.1f}) "
            f"| {', '.join(f'{m:.1f}' for m in means)} | {statistics.mean(r[5] for r in rows):.0f} "
            f"| {threshold if threshold is not None else '-'} | {reached} |"
        )


if __name__ == "__main__":
    main()
