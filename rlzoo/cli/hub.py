"""``rlzoo push`` and ``rlzoo pull``: a model folder to and from the Hugging Face Hub (extra: hub)."""

from __future__ import annotations

import argparse
from typing import Any

from rlzoo.cli.common import non_empty
from rlzoo.hub import pull, push


def add_parser(commands: Any) -> None:
    """Register ``push`` and ``pull`` on the subcommand parsers."""
    push = commands.add_parser("push", help="upload a model folder to the Hugging Face Hub (extra: hub)")
    push.add_argument("folder", help="a folder written by rlzoo package")
    push.add_argument("--repo", required=True, type=non_empty, metavar="USER/NAME", help="the Hub model repository (created if missing)")
    push.add_argument("--private", action="store_true", help="create the repository as private")
    push.set_defaults(run=run_push)
    pull = commands.add_parser("pull", help="download a model folder from the Hugging Face Hub (extra: hub)")
    pull.add_argument("repo", metavar="USER/NAME", help="the Hub model repository")
    pull.add_argument("--out", required=True, type=non_empty, help="the folder to create")
    pull.add_argument("--revision", help="a branch, tag or commit (default: main)")
    pull.add_argument("--force", action="store_true", help="replace --out if it exists")
    pull.set_defaults(run=run_pull)


def run_push(args: argparse.Namespace) -> int:
    url = push(args.folder, args.repo, private=args.private)
    print(f"pushed {args.folder} to {url}")
    return 0


def run_pull(args: argparse.Namespace) -> int:
    out = pull(args.repo, args.out, revision=args.revision, force=args.force)
    print(f"pulled {args.repo} into {out}: load it with rlzoo.load({str(out)!r}) or rlzoo evaluate {out}")
    return 0
