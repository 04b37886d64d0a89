"""``rlzoo evaluate``: evaluate a saved agent."""

from __future__ import annotations

import argparse
import os
from typing import Any

import rlzoo
from rlzoo.cli.common import UsageError, is_regular_file, positive_int, seed_int


def add_parser(commands: Any) -> None:
    """Register ``evaluate`` on the subcommand parsers."""
    evaluate = commands.add_parser("evaluate", help="evaluate a saved agent")
    evaluate.add_argument("artifact", help="a file written by rlzoo train or rlzoo.save")
    evaluate.add_argument("--episodes", type=positive_int, default=100, help="episodes (default 100)")
    evaluate.add_argument("--seed", type=seed_int, default=0, help="seed, 0 to 2**32-1 (default 0)")
    evaluate.add_argument("--stochastic", action="store_true", help="sample actions instead of greedy ones")
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not os.path.lexists(args.artifact):
        raise UsageError(f"{args.artifact!r}: no such file: give the agent.zip written by rlzoo train or rlzoo.save")
    if not is_regular_file(args.artifact):
        raise UsageError(f"{args.artifact!r} is not a file (a folder?): give the agent.zip written by rlzoo train or rlzoo.save")
    agent = rlzoo.load(args.artifact)
    result = rlzoo.evaluate(agent, n_episodes=args.episodes, seed=args.seed, deterministic=not args.stochastic)
    print(f"{agent.name} on {agent.env_id}, {agent.num_timesteps} steps trained")
    print(f"{'stochastic' if args.stochastic else 'greedy'} evaluation: {result} (min {min(result.returns):.1f})")
    return 0
