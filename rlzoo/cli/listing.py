"""``rlzoo list``: agents and envs, with the extra each needs."""

from __future__ import annotations

import argparse
from typing import Any

from rlzoo.cli.common import table
from rlzoo.registry import list_agents, list_envs


def add_parser(commands: Any) -> None:
    """Register ``list`` on the subcommand parsers."""
    commands.add_parser("list", help="list agents and envs, with the extra each needs").set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    agents = [["AGENT", "EXTRA", "PROVIDED BY"]]
    agents += [[a.name, f"{a.distribution or 'rlzoo'}[{a.extra}]" if a.extra else "-", a.owner] for a in list_agents()]
    envs = [["ENV", "KIND", "EXTRA", "PROVIDED BY", "DESCRIPTION"]]
    envs += [[e.id, e.kind, f"rlzoo[{e.extra}]" if e.extra else "-", e.owner, e.description] for e in list_envs()]
    print(table(agents))
    print()
    print(table(envs))
    print("\nAny other Gymnasium id works too; install an agent's extra before using it.")
    return 0
