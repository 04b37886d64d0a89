"""The speed targets of ``rlzoo sweep`` and ``rlzoo report``, as ratios measured in one run.

1. Parallel efficiency of the local pool on 2 workers (target >= 0.85): the same 8-run grid
   (sb3-ppo, CartPole-v1, 5000 steps, seeds 0-7) swept with 1 worker and with 2;
   efficiency = T(1 worker) / (2 * T(2 workers)).
2. rlzoo's overhead per run (scheduling, index, artifact; target <= 1 s): the 1-worker sweep
   against a plain loop over the same runs in one fresh process (make_agent, train, evaluate:
   the same work without the sweep), (T(sweep) - T(loop)) / runs.
3. Against RL Baselines3 Zoo's trainer (target <= 0.5x): `rlzoo sweep` of sb3-ppo on
   CartPole-v1, 4 seeds, its preset (RL Zoo's own hyperparameters), against a sequential
   loop of `python -m rl_zoo3.train --algo ppo --env CartPole-v1 --seed S` (needs rl-zoo3
   2.9.2 installed beside rlzoo: it is not a dependency).
4. `rlzoo report` on 3 agents x 7 envs x 10 seeds of synthetic results (target <= 30 s).

    python benchmarks/sweep_speed.py [--only efficiency overhead rlzoo3 report]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

PPO_STEPS = 5000
SEEDS = 8

LOOP = """
import time, rlzoo
start = time.perf_counter()
for seed in range({seeds}):
    agent = rlzoo.make_agent("sb3-ppo", "CartPole-v1", seed=seed)
    rlzoo.train(agent, total_timesteps={steps}, seed=seed, eval_every={steps})
    rlzoo.evaluate(agent, n_episodes=100, seed=seed)
"""


def timed_sweep(out: pathlib.Path, workers: int, **kwargs: object) -> float:
    from rlzoo.experiments import sweep

    start = time.perf_counter()
    summary = sweep(out=out, workers=workers, **kwargs)
    assert summary.failed == 0, f"{summary.failed} runs failed in {out}"
    return time.perf_counter() - start


def efficiency_and_overhead(work: pathlib.Path, only: set[str]) -> None:
    from rlzoo.experiments import make_grid

    specs = make_grid(["sb3-ppo"], ["CartPole-v1"], SEEDS, steps=PPO_STEPS, eval_every=PPO_STEPS)
    serial = timed_sweep(work / "serial", 1, grid=specs)
    print(f"sweep of {SEEDS} runs (sb3-ppo, CartPole-v1, {PPO_STEPS} steps), 1 worker: {serial:.1f} s", flush=True)
    if "efficiency" in only:
        pool = timed_sweep(work / "pool", 2, grid=specs)
        print(f"the same grid, 2 workers: {pool:.1f} s", flush=True)
        print(f"parallel efficiency on 2 workers: {serial / (2 * pool):.2f} (target >= 0.85)", flush=True)
    if "overhead" in only:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", LOOP.format(seeds=SEEDS, steps=PPO_STEPS)], check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        loop = time.perf_counter() - start
        print(f"plain loop over the same runs in one process (make_agent, train, evaluate): {loop:.1f} s", flush=True)
        print(f"rlzoo overhead per run: {(serial - loop) / SEEDS:.2f} s (target <= 1 s)", flush=True)


def against_rl_zoo3(work: pathlib.Path, seeds: int = 4) -> None:
    start = time.perf_counter()
    for seed in range(seeds):
        subprocess.run([sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", "CartPole-v1", "--seed", str(seed),
                        "-f", str(work / "rl_zoo3"), "--log-interval", "-1"],
                       check=True, stdout=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"})
    loop = time.perf_counter() - start
    print(f"rl_zoo3.train loop, ppo CartPole-v1, {seeds} seeds: {loop:.1f} s", flush=True)
    sweep = timed_sweep(work / "rlzoo_ppo", os.cpu_count() or 1, agents=["sb3-ppo"], envs=["CartPole-v1"], seeds=seeds)
    print(f"rlzoo sweep, sb3-ppo CartPole-v1 preset, {seeds} seeds, {os.cpu_count()} workers: {sweep:.1f} s", flush=True)
    print(f"rlzoo sweep / rl_zoo3 loop: {sweep / loop:.2f}x (target <= 0.5x)", flush=True)


ENVS = ["CartPole-v0", "CartPole-v1", "rlzoo/NoisyCartPole-v0", "rlzoo/HiddenVelocityCartPole-v0",
        "rlzoo/RandomPhysicsCartPole-v0", "rlzoo/WindyCartPole-v0", "rlzoo/SwingUpCartPole-v0"]


def synthetic_results(out: pathlib.Path) -> None:
    """3 agents x 7 envs x 10 seeds of made-up scores and 10-point learning curves."""
    import numpy as np

    from rlzoo.experiments import make_grid
    from rlzoo.experiments.run import RunOutcome
    from rlzoo.experiments.store import Store

    rng = np.random.default_rng(0)
    specs = make_grid(["kerasrl2-dqn", "sb3-dqn", "sb3-ppo"], ENVS, 10)
    with Store(out) as store:
        store.add(specs)
        for spec in specs:
            final = float(rng.uniform(0, 500))
            curve = [(t, float(final * t / 50000 + rng.normal(0, 20)), 1.0) for t in range(5000, 50001, 5000)]
            store.record(RunOutcome(spec.run_id, "done", started=0.0, finished=1.0, num_timesteps=50000, final_mean=final,
                                    final_std=1.0, final_returns=[final] * 100, curve=curve))


def report_time(work: pathlib.Path) -> None:
    import resource

    synthetic_results(work / "synthetic")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rlzoo.cli", "report", str(work / "synthetic")], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # On a shared machine the wall time mostly measures the others; the CPU time is what the report costs.
    print(f"rlzoo report, 3 agents x 7 envs x 10 seeds (synthetic): {wall:.1f} s wall, {cpu:.1f} s CPU (target <= 30 s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", default=["efficiency", "overhead", "rlzoo3", "report"],
                        choices=["efficiency", "overhead", "rlzoo3", "report"])
    args = parser.parse_args()
    only = set(args.only)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    with tempfile.TemporaryDirectory(prefix="rlzoo-sweep-speed-") as folder:
        work = pathlib.Path(folder)
        if only & {"efficiency", "overhead"}:
            efficiency_and_overhead(work, only)
        if "rlzoo3" in only:
            against_rl_zoo3(work)
        if "report" in only:
            report_time(work)
    print(f"load average {os.getloadavg()[0]:.1f} at the end", flush=True)


if __name__ == "__main__":
    main()
