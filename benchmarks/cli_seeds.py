"""Train one agent on one env from the command line, as a new user would, on several seeds.

Runs ``rlzoo train --agent AGENT --env ENV --seed S`` (no other flags, so the preset
decides everything) for each seed and prints the final greedy mean over 100 episodes.

    python benchmarks/cli_seeds.py --agent sb3-dqn --env CartPole-v1 --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor


def run_seed(agent: str, env: str, seed: int, out: pathlib.Path, extra: list[str]) -> tuple[int, float, float, float, int]:
    folder = out / f"seed{seed}"
    command = [sys.executable, "-m", "rlzoo.cli", "train", "--agent", agent, "--env", env, "--seed", str(seed), "--no-progress", "--out", str(folder), *extra]
    env_vars = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env_vars, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    with zipfile.ZipFile(folder / "agent.zip") as archive:
        manifest = json.loads(archive.read("rlzoo.json"))
    last = manifest["last_evaluation"]
    return seed, last["mean"], last["min"], wall, manifest["num_timesteps"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agent", default="sb3-dqn")
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--jobs", type=int, default=2, help="seeds run in parallel (one thread each)")
    parser.add_argument("--out", help="keep the runs here (default: a temporary folder)")
    parser.add_argument("extra", nargs="*", help="extra rlzoo train flags, after --")
    args = parser.parse_args()
    out = pathlib.Path(args.out or tempfile.mkdtemp(prefix="rlzoo-seeds-"))
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda s: run_seed(args.agent, args.env, s, out, args.extra), args.seeds))
    print(f"{args.agent} on {args.env}, rlzoo train defaults, final greedy evaluation over 100 episodes")
    print("| seed | steps | greedy mean | greedy min | wall time (s) |")
    print("|---:|---:|---:|---:|---:|")
    for seed, mean, low, wall, steps in rows:
        print(f"| {seed} | {steps} | {mean:.1f} | {low:.0f} | {wall:.0f} |")
    print(f"runs in {out}")


if __name__ == "__main__":
    main()
