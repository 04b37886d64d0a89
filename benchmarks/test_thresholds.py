"""Measure every learning-dependent quantity the tests assert on, over seeds and CPU kernels.

A single-seed learning result is not bit-identical across CPUs: torch, MKL and TensorFlow's
oneDNN pick kernels (AVX-512, AVX2, thread count) by machine, and a different summation
order changes a training run from its first update on. So each test threshold is set from
the spread measured here, not from one number. Each configuration runs in its own process
(the variables must be set before torch or TensorFlow load), every seed in that process:

- ``omp1``: ``OMP_NUM_THREADS=1`` (what the test suite's conftest sets);
- ``threads2``: 2 threads for torch (``torch.set_num_threads(2)``), TensorFlow and OpenMP;
- ``avx2``: 1 thread, with the kernels an AVX2-only CPU would use (``ATEN_CPU_CAPABILITY=avx2``,
  ``MKL_ENABLE_INSTRUCTIONS=AVX2``, ``ONEDNN_MAX_CPU_ISA=AVX2``);
- ``onednn0``: 1 thread, ``TF_ENABLE_ONEDNN_OPTS=0`` (TensorFlow's Eigen kernels; TF cases only).

    python benchmarks/test_thresholds.py                       # every configuration, seeds 0-4
    python benchmarks/test_thresholds.py --configs omp1 --seeds 0 1 --cases sb3-dqn/CartPole-v1

Prints one row per (case, seed, configuration) and, at the end, the spread per case.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

# The keras-rl2 cases are defined once, beside the tests that assert on them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import kerasrl2_cases as cases  # noqa: E402

CONFIGS: dict[str, dict[str, str]] = {
    "omp1": {"OMP_NUM_THREADS": "1"},
    "threads2": {"OMP_NUM_THREADS": "2", "RLZOO_BENCH_TORCH_THREADS": "2"},
    "avx2": {"OMP_NUM_THREADS": "1", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "onednn0": {"OMP_NUM_THREADS": "1", "TF_ENABLE_ONEDNN_OPTS": "0"},
}
TF_ONLY = {"onednn0"}
MULTI = "rlzoo/SpringCarts-v0"


# -- the cases: each repeats a test's training and returns {quantity: value} -----------------
def sb3_dqn_cartpole(seed: int) -> dict[str, float]:
    """tests/test_sb3.py: sb3-dqn, 3000 steps on CartPole-v1 (the ``trained_dqn`` fixture), then
    test_eval_every_keeps_the_best_weights: 500 more steps, evaluated every 250, weights zeroed
    when training ends (a late collapse). ``first_eval`` must beat ``collapsed``."""
    import rlzoo
    from rlzoo.callbacks import Callback

    class Collapse(Callback):
        def on_training_end(self, agent) -> None:
            agent.set_weights({name: value * 0 for name, value in agent.get_weights().items()})

    agent = rlzoo.train("sb3-dqn", "CartPole-v1", total_timesteps=3000, seed=seed, eval_every=0)
    values = {"eval10": rlzoo.evaluate(agent, n_episodes=10, seed=seed).mean}
    rlzoo.train(agent, total_timesteps=500, seed=1, eval_every=250, eval_episodes=5, callbacks=[Collapse()])
    means = [mean for _, mean, _ in agent.history.evaluations]
    return {**values, "first_eval": means[0], "collapsed": means[-1], "n_evals": float(len(means))}


def sb3_ppo_cartpole(seed: int, steps: int = 16000) -> dict[str, float]:
    """tests/test_sb3.py: sb3-ppo with its preset (8 envs) on CartPole-v1."""
    import rlzoo

    agent = rlzoo.train("sb3-ppo", "CartPole-v1", total_timesteps=steps, seed=seed, eval_every=0)
    return {"eval10": rlzoo.evaluate(agent, n_episodes=10, seed=seed).mean}


def kerasrl2_cartpole(seed: int) -> dict[str, float]:
    """tests/test_kerasrl2.py: the recipe, 3000 steps on CartPole-v0."""
    return {"eval10": cases.recipe_score(cases.recipe(seed), seed)}


def kerasrl2_tutorial(seed: int) -> dict[str, float]:
    """tests/test_kerasrl2.py::test_the_tutorial_runs_unchanged_on_gymnasium: episodes in 1000 steps."""
    return {"episodes": float(len(cases.tutorial(seed).history.history["episode_reward"]))}


def kerasrl2_truncation(seed: int) -> dict[str, float]:
    """tests/test_kerasrl2.py: truncated episodes in 400 steps of 15-step CartPole."""
    return {"truncated": float(len(cases.truncated_episode_ends(cases.truncation(seed))))}


def kerasrl2_fused(seed: int) -> dict[str, float]:
    """tests/test_kerasrl2.py: fused update vs keras-rl2's backward; 1.0 = at the test's tolerance."""
    online, target = cases.tolerance_used(cases.fused_and_stock_updates(seed))
    return {"online_tol_used": online, "target_tol_used": target}


def multiagent(name: str, steps: int) -> Callable[[int], dict[str, float]]:
    """tests/test_multiagent.py: one backend through the shared adapter on SpringCarts."""

    def case(seed: int) -> dict[str, float]:
        import rlzoo

        agent = rlzoo.train(name, MULTI, total_timesteps=steps, seed=seed, eval_every=0)
        return {"eval5": rlzoo.evaluate(agent, n_episodes=5, seed=seed).mean, "episodes": float(len(agent.history.episodes))}

    return case


def random_play(seed: int) -> dict[str, float]:
    """The baseline every threshold must stay above: uniform random actions."""
    import numpy as np

    import rlzoo
    from rlzoo.multiagent import SharedPolicyEnv

    def mean_return(env, episodes: int) -> float:
        env.action_space.seed(seed)
        returns = []
        for episode in range(episodes):
            env.reset(seed=seed * 1000 + episode)
            total, done = 0.0, False
            while not done:
                _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                total, done = total + float(reward), terminated or truncated
            returns.append(total)
        return float(np.mean(returns))

    return {
        "CartPole-v1": mean_return(rlzoo.make_env("CartPole-v1"), 10),
        "CartPole-v0": mean_return(rlzoo.make_env("CartPole-v0"), 10),
        MULTI: mean_return(SharedPolicyEnv(rlzoo.make_env(MULTI), MULTI), 5),
    }


CASES: dict[str, Callable[[int], dict[str, float]]] = {  # the costliest and most fragile first
    "random": random_play,
    "multi/sb3-ppo/16000": multiagent("sb3-ppo", 16000),
    "sb3-ppo/CartPole-v1/16000": sb3_ppo_cartpole,
    "multi/sb3-a2c/3000": multiagent("sb3-a2c", 3000),
    "multi/sb3-a2c/8000": multiagent("sb3-a2c", 8000),
    "sb3-dqn/CartPole-v1/3000": sb3_dqn_cartpole,
    "kerasrl2-dqn/CartPole-v0/3000": kerasrl2_cartpole,
    "kerasrl2-dqn/tutorial/1000": kerasrl2_tutorial,
    "kerasrl2-dqn/truncation/400": kerasrl2_truncation,
    "kerasrl2-dqn/fused": kerasrl2_fused,
    "multi/sb3-dqn/3000": multiagent("sb3-dqn", 3000),
    "multi/kerasrl2-dqn/3000": multiagent("kerasrl2-dqn", 3000),
}
TF_CASES = {name for name in CASES if name.startswith("kerasrl2") or name == "multi/kerasrl2-dqn/3000"}


def run_in_process(config: str, cases: list[str], seeds: list[int]) -> None:
    """Run ``cases`` x ``seeds`` here (the configuration's variables are already set)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import warnings

    warnings.filterwarnings("ignore")
    threads = os.environ.get("RLZOO_BENCH_TORCH_THREADS")
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    for case in cases:
        if config in TF_ONLY and case not in TF_CASES:
            continue
        if case == "random" and config != "omp1":
            continue  # NumPy only: the same on every configuration
        for seed in seeds:
            start = time.perf_counter()
            values = CASES[case](seed)
            wall = time.perf_counter() - start
            for quantity, value in values.items():
                print(f"ROW\t{case}\t{quantity}\t{seed}\t{config}\t{value:.6g}\t{wall:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--jobs", type=int, default=2, help="configurations run at once (one process each)")
    parser.add_argument("--in-process", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        run_in_process(args.in_process, args.cases, args.seeds)
        return

    pending = list(args.configs)
    running: list[subprocess.Popen] = []
    rows: list[list[str]] = []
    print("case\tquantity\tseed\tconfig\tvalue\twall_s", flush=True)

    def collect(process: subprocess.Popen) -> None:
        for line in process.stdout:
            if line.startswith("ROW\t"):
                row = line.rstrip("\n").split("\t")[1:]
                rows.append(row)
                print("\t".join(row), flush=True)
        if process.wait() != 0:
            raise SystemExit(f"a configuration failed (exit {process.returncode})")

    while pending or running:
        while pending and len(running) < args.jobs:
            config = pending.pop(0)
            command = [sys.executable, __file__, "--in-process", config, "--seeds", *map(str, args.seeds), "--cases", *args.cases]
            env = {key: value for key, value in os.environ.items() if key not in ("OMP_NUM_THREADS", "TF_ENABLE_ONEDNN_OPTS")}
            running.append(subprocess.Popen(command, env={**env, **CONFIGS[config]}, stdout=subprocess.PIPE, text=True))
        collect(running.pop(0))  # rows stream in configuration order; the others keep running meanwhile

    print("\nspread per case (every seed and configuration):")
    keys = sorted({(row[0], row[1]) for row in rows})
    for case, quantity in keys:
        values = [float(row[4]) for row in rows if (row[0], row[1]) == (case, quantity)]
        print(f"{case}\t{quantity}\tn={len(values)}\tmin {min(values):.4g}\tmedian {statistics.median(values):.4g}\tmax {max(values):.4g}")


if __name__ == "__main__":
    main()
