"""Per-step latency of an exported ONNX policy against ``agent.predict``, for every backend, in one run.

For each backend (on the env of its first preset; the preset's network), the agent is
built, trained a few hundred steps, exported with ``rlzoo.export_onnx`` and opened with
``rlzoo.load_onnx`` (onnxruntime, 1 thread). Both then choose the greedy action for the same
observations of real episodes, one observation per call, as an agent acting in an env does;
calls alternate (agent, ONNX, agent, ONNX...) in rounds so drift hits both alike. The figure
is the median time per call over the rounds, and the ratio ONNX / agent. torch and
TensorFlow run on 1 thread too.

    python benchmarks/onnx_latency.py [--calls 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

import rlzoo
from rlzoo.multiagent import as_single_agent_env
from rlzoo.threads import set_threads

RUNS = (
    ("kerasrl2-dqn", "CartPole-v1"),
    ("sb3-dqn", "CartPole-v1"),
    ("sb3-ppo", "CartPole-v1"),
    ("sb3-a2c", "CartPole-v1"),
    ("sb3-sac", "Pendulum-v1"),
)


def observations(agent: rlzoo.Agent, count: int) -> list[np.ndarray]:
    """Observations of greedy episodes of the agent, as it sees them."""
    env = agent.wrap_env(as_single_agent_env(agent.env_id, **agent.env_kwargs))
    observation, _ = env.reset(seed=0)
    seen = []
    while len(seen) < count:
        seen.append(np.asarray(observation, dtype=np.float32))
        observation, _, terminated, truncated, _ = env.step(agent.predict(observation))
        if terminated or truncated:
            observation, _ = env.reset()
    return seen


def per_call(predict, inputs: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for observation in inputs:
        predict(observation)
    return (time.perf_counter() - start) / len(inputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="calls per round and side (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    args = parser.parse_args()
    set_threads(1)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; {args.rounds} rounds x {args.calls} calls, 1 thread")
    print(f"{'agent':14} {'env':12} {'agent.predict':>14} {'ONNX':>10} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for name, env_id in RUNS:
            agent = rlzoo.make_agent(name, env_id, seed=0)
            agent.learn(300)
            policy = rlzoo.load_onnx(rlzoo.export_onnx(agent, os.path.join(folder, f"{name}.onnx")))
            inputs = observations(agent, args.calls)
            agent_times, onnx_times = [], []
            per_call(agent.predict, inputs[:100])  # warm-up: first calls build graphs
            per_call(policy.predict, inputs[:100])
            for _ in range(args.rounds):
                agent_times.append(per_call(agent.predict, inputs))  # deterministic=True: the default
                onnx_times.append(per_call(policy.predict, inputs))
            agent_us, onnx_us = statistics.median(agent_times) * 1e6, statistics.median(onnx_times) * 1e6
            print(f"{name:14} {env_id:12} {agent_us:11.1f} us {onnx_us:7.1f} us {onnx_us / agent_us:6.2f}x", flush=True)


if __name__ == "__main__":
    main()
