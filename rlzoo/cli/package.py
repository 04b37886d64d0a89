"""``rlzoo package``: a shareable model folder (model card, agent, evaluation, replay, learning curve)."""

from __future__ import annotations

import argparse
from typing import Any

from rlzoo.cli.common import non_empty, positive_int, seed_int
from rlzoo.packaging import package


def add_parser(commands: Any) -> None:
    """Register ``package`` on the subcommand parsers."""
    package = commands.add_parser("package", help="write a model folder (card, agent, evaluation, replay) ready for the Hugging Face Hub")
    package.add_argument("artifact", help="an agent.zip written by rlzoo train or rlzoo.save (episodes.csv beside it: the learning curve)")
    package.add_argument("--out", required=True, type=non_empty, help="the folder to write")
    package.add_argument("--episodes", type=positive_int, default=10, help="greedy evaluation episodes measured for the card (default 10)")
    package.add_argument("--seed", type=seed_int, default=0, help="seed of the evaluation and the replay, 0 to 2**32-1 (default 0)")
    package.add_argument("--sweep", metavar="DIR", help="an rlzoo sweep results folder: add the agent's cell IQM [95%% CI] over its seeds")
    package.add_argument("--sweep-label", metavar="LABEL", help="the sweep label of the agent's cell, when the sweep ran several")
    package.add_argument("--no-video", action="store_true", help="no replay.mp4 (for envs that do not render)")
    package.add_argument("--force", action="store_true", help="replace --out if it exists")
    package.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = package(
        args.artifact,
        args.out,
        episodes=args.episodes,
        seed=args.seed,
        sweep=args.sweep,
        sweep_label=args.sweep_label,
        video=not args.no_video,
        force=args.force,
    )
    print(f"wrote {out} ({', '.join(sorted(path.name for path in out.iterdir()))})")
    print(f"share it with: rlzoo push {out} --repo USER/NAME (or hf upload USER/NAME {out})")
    return 0
