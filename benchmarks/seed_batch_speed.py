"""Seeds side by side (``rlzoo.train_seeds``) against solo runs of the kerasrl2 recipe, in one run.

Every measurement is a fresh process with one TensorFlow thread that builds the agents and
trains them (50,000 steps of CartPole-v0 by default, the recipe's preset, no periodic
evaluation); the times are those of building plus training, not of importing TensorFlow.

1. One solo run (``rlzoo.train``).
2. 10 seeds in one batch, on one core: target at most 2x (1)'s wall time.
3. 20 seeds as two batches of 10 in two processes at once (two cores): target at most 2x (1).
4. Batches of K = 1, 2, 4, ..., 64 for ``--scan-steps`` steps: seconds per step, steps/s per
   seed, and the peak memory (target for K = 64: under 4 GB).

The machine may be shared: the CPU time of each process is reported beside its wall time,
and the load average before and after.

    python benchmarks/seed_batch_speed.py [--steps 50000] [--scan-steps 5000] [--max-k 64]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def child(seeds: list[int], steps: int) -> None:
    """Train ``seeds`` (one solo run if there is one seed and ``--solo``) and print the figures as JSON."""
    import rlzoo
    from rlzoo.callbacks import Callback
    from rlzoo.seeds import train_seed_outcomes

    class FirstStep(Callback):
        """When the first step ended: building the agents is over."""

        at: float | None = None
        cpu_at = 0.0

        def on_step(self, agent: rlzoo.Agent) -> bool:
            if self.at is None:
                self.at, self.cpu_at = time.perf_counter(), time.process_time()
            return True

    solo = os.environ.get("SEED_BENCH_SOLO") == "1"
    rlzoo.make_agent("kerasrl2-dqn", "CartPole-v0", seed=0)  # TensorFlow's start-up, outside the timing
    first = FirstStep()
    wall, cpu = time.perf_counter(), time.process_time()
    if solo:
        rlzoo.train("kerasrl2-dqn", "CartPole-v0", total_timesteps=steps, seed=seeds[0], eval_every=0, callbacks=[first])
    else:
        train_seed_outcomes("kerasrl2-dqn", "CartPole-v0", seeds, total_timesteps=steps, eval_every=0, callbacks=[first])
    end = time.perf_counter()
    assert first.at is not None
    figures = {
        "wall": end - wall,
        "build": first.at - wall,
        "train_wall": end - first.at,
        "train_cpu": time.process_time() - first.cpu_at,
        "cpu": time.process_time() - cpu,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print("RESULT " + json.dumps(figures), flush=True)


def spawn(seeds: list[int], steps: int, solo: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "SEED_BENCH_SOLO": "1" if solo else "0"}
    command = [sys.executable, __file__, "--child", ",".join(map(str, seeds)), "--steps", str(steps)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)


def collect(process: subprocess.Popen[str]) -> dict[str, float]:
    out, _ = process.communicate()
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"a benchmark process failed (exit {process.returncode})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50000)
    parser.add_argument("--scan-steps", type=int, default=5000)
    parser.add_argument("--max-k", type=int, default=64)
    parser.add_argument("--scan-only", action="store_true", help="only the K = 1..max-k table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child([int(s) for s in args.child.split(",")], args.steps)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    if not args.scan_only:
        targets(args.steps)
    scan(args.scan_steps, args.max_k)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


def targets(steps: int) -> None:
    """The issue's targets: 10 seeds on one core, 20 on two, against one solo run."""
    solo = collect(spawn([0], steps, solo=True))
    print(f"solo run, {steps} steps: {solo['wall']:.1f} s wall, {solo['cpu']:.1f} s CPU ({steps / solo['wall']:.0f} steps/s)")
    ten = collect(spawn(list(range(10)), steps))
    print(
        f"10 seeds, one batch, 1 core: {ten['wall']:.1f} s wall ({ten['wall'] / solo['wall']:.2f}x solo; target <= 2), "
        f"{ten['cpu']:.1f} s CPU ({ten['cpu'] / solo['cpu']:.2f}x solo), {10 * steps / ten['wall']:.0f} steps/s in all"
    )
    clock = time.perf_counter()
    pair = [spawn(list(range(10)), steps), spawn(list(range(10, 20)), steps)]
    twenty = [collect(process) for process in pair]
    both = time.perf_counter() - clock
    slowest = max(run["wall"] for run in twenty)
    print(
        f"20 seeds, two batches at once (2 cores): {slowest:.1f} s wall for the slower ({slowest / solo['wall']:.2f}x solo; target <= 2), "
        f"CPU {twenty[0]['cpu']:.1f} s and {twenty[1]['cpu']:.1f} s; {both:.1f} s with process start-up"
    )


def scan(scan_steps: int, max_k: int) -> None:
    """Batches of K = 1, 2, 4, ... seeds: how the time per step grows, and the memory."""
    print(f"\nbatches of K seeds, {scan_steps} steps each:")
    print("| K | building s | wall per step | CPU per step | steps/s per seed | steps/s in all | step time vs K = 1 | peak memory MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = None
    k = 1
    while k <= max_k:
        run = collect(spawn(list(range(k)), scan_steps))
        per_step = run["train_wall"] / scan_steps
        base = base or per_step
        print(
            f"| {k} | {run['build']:.1f} | {per_step * 1e6:.0f} µs | {run['train_cpu'] / scan_steps * 1e6:.0f} µs "
            f"| {1 / per_step:.0f} "
            f"| {k / per_step:.0f} | {per_step / base:.2f} | {run['max_rss_mb']:.0f} |"
        )
        k *= 2


if __name__ == "__main__":
    main()
