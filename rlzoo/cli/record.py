"""``rlzoo record``: MP4 videos of a saved agent's greedy episodes."""

from __future__ import annotations

import argparse
from typing import Any

from rlzoo.artifact import load
from rlzoo.cli.common import add_saved_agent_arguments
from rlzoo.video import record


def add_parser(commands: Any) -> None:
    """Register ``record`` on the subcommand parsers."""
    record = commands.add_parser("record", help="record MP4 videos of a saved agent (extra: video)")
    add_saved_agent_arguments(record, 3, "episodes, one video each", "seed of the first episode")
    record.add_argument("--out", default="videos", help="output folder (default videos)")
    record.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    agent = load(args.artifact)
    for path in record(agent, args.out, args.episodes, seed=args.seed):
        print(f"wrote {path}")
    return 0
