"""``rlzoo enjoy``: watch a saved agent play in a window."""

from __future__ import annotations

import argparse
from typing import Any

from rlzoo.artifact import load
from rlzoo.cli.common import add_saved_agent_arguments
from rlzoo.errors import RLZooError
from rlzoo.video import display_problem, play


def add_parser(commands: Any) -> None:
    """Register ``enjoy`` on the subcommand parsers."""
    enjoy = commands.add_parser("enjoy", help="watch a saved agent play in a window (needs a display)")
    add_saved_agent_arguments(enjoy, 3, "episodes", "seed of the first episode")
    enjoy.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    problem = display_problem()
    if problem is not None:  # before loading the agent: say it at once
        raise RLZooError(problem)
    agent = load(args.artifact)
    result = play(agent, args.episodes, seed=args.seed)
    print(f"{agent.name} on {agent.env_id}: {result}")
    return 0
