"""``rlzoo evaluate``: evaluate a saved agent."""

from __future__ import annotations

import argparse
import os
from typing import Any

from rlzoo.artifact import load
from rlzoo.cli.common import UsageError, add_saved_agent_arguments, is_regular_file
from rlzoo.cli.export import evaluate_onnx
from rlzoo.evaluation import evaluate


def add_parser(commands: Any) -> None:
    """Register ``evaluate`` on the subcommand parsers."""
    evaluate = commands.add_parser("evaluate", help="evaluate a saved agent")
    add_saved_agent_arguments(evaluate, 100, "episodes", "seed")
    evaluate.add_argument("--stochastic", action="store_true", help="sample actions instead of greedy ones")
    evaluate.add_argument("--env", help="the env id to play on (default: the agent's own); with a policy.onnx from rlzoo export")
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.artifact.endswith(".onnx"):  # an exported policy, played with onnxruntime and NumPy only
        return evaluate_onnx(args)
    if not os.path.lexists(args.artifact):
        raise UsageError(f"{args.artifact!r}: no such file: give the agent.zip written by rlzoo train or rlzoo.save")
    if not is_regular_file(args.artifact) and not is_regular_file(
        os.path.join(args.artifact, "agent.zip")
    ):  # a model folder (rlzoo package)
        raise UsageError(f"{args.artifact!r} is not a file (a folder?): give the agent.zip written by rlzoo train or rlzoo.save")
    agent = load(args.artifact)
    result = evaluate(agent, args.env, n_episodes=args.episodes, seed=args.seed, deterministic=not args.stochastic)
    print(f"{agent.name} on {agent.env_id}, {agent.num_timesteps} steps trained")
    print(f"{'stochastic' if args.stochastic else 'greedy'} evaluation: {result} (min {min(result.returns):.1f})")
    return 0
