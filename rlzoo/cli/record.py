"""``rlzoo record``: MP4 videos of a saved agent's greedy episodes."""

from __future__ import annotations

import argparse
from typing import Any

import rlzoo


def add_parser(commands: Any) -> None:
    """Register ``record`` on the subcommand parsers."""
    record = commands.add_parser("record", help="record MP4 videos of a saved agent (extra: video)")
    record.add_argument("artifact", help="a file written by rlzoo train or rlzoo.save")
    record.add_argument("--episodes", type=int, default=3, help="episodes, one video each (default 3)")
    record.add_argument("--seed", type=int, default=0, help="seed of the first episode (default 0)")
    record.add_argument("--out", default="videos", help="output folder (default videos)")
    record.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rlzoo.video import record

    agent = rlzoo.load(args.artifact)
    for path in record(agent, args.out, args.episodes, seed=args.seed):
        print(f"wrote {path}")
    return 0
