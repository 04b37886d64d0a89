"""The ``rlzoo`` command: ``list``, ``train``, ``evaluate``. The only module that prints."""

from __future__ import annotations

import argparse
import logging
import pathlib
import sys
from collections.abc import Sequence
from typing import Any

import rlzoo
from rlzoo.errors import RLZooError


def _parse_set(pairs: Sequence[str]) -> dict[str, Any]:
    import yaml

    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise RLZooError(f"--set expects key=value (for example --set learning_rate=0.001), got {pair!r}")
        try:
            values[key] = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise RLZooError(f"--set {key}: cannot read the value {raw!r}: {exc}") from None
    return values


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def cmd_list(args: argparse.Namespace) -> int:
    agents = [["AGENT", "EXTRA", "PROVIDED BY"]]
    agents += [[a.name, f"rlzoo[{a.extra}]" if a.extra else "-", a.owner] for a in rlzoo.list_agents()]
    envs = [["ENV", "KIND", "EXTRA", "PROVIDED BY", "DESCRIPTION"]]
    envs += [[e.id, e.kind, f"rlzoo[{e.extra}]" if e.extra else "-", e.owner, e.description] for e in rlzoo.list_envs()]
    print(_table(agents))
    print()
    print(_table(envs))
    print("\nAny other Gymnasium id works too; install an agent's extra before using it.")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from rlzoo.reports import plot_learning_curve, write_episodes_csv

    hyperparams = _parse_set(args.set)
    out = pathlib.Path(args.out or f"runs/{args.agent}_{args.env}_seed{args.seed}")
    agent = rlzoo.make_agent(args.agent, args.env, seed=args.seed, **hyperparams)
    rlzoo.train(
        agent,
        total_timesteps=args.steps,
        seed=args.seed,
        progress_bar=not args.no_progress,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
    )
    result = rlzoo.evaluate(agent, n_episodes=args.episodes, seed=args.seed)
    agent.last_evaluation = result
    artifact = rlzoo.save(agent, out / "agent.zip")
    write_episodes_csv(agent.history, out / "episodes.csv")
    plot_learning_curve(agent.history, out / "learning_curve.png", f"{args.agent} on {args.env} (seed {args.seed})")
    for timestep, mean, std in agent.history.evaluations:
        print(f"eval at step {timestep}: {mean:.1f} +/- {std:.1f}")
    print(f"trained {args.agent} on {args.env} for {agent.num_timesteps} steps ({len(agent.history.episodes)} episodes)")
    print(f"greedy evaluation: {result} (min {min(result.returns):.1f})")
    print(f"wrote {artifact}, {out / 'episodes.csv'}, {out / 'learning_curve.png'}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    agent = rlzoo.load(args.artifact)
    result = rlzoo.evaluate(agent, n_episodes=args.episodes, seed=args.seed, deterministic=not args.stochastic)
    print(f"{agent.name} on {agent.env_id}, {agent.num_timesteps} steps trained")
    print(f"{'stochastic' if args.stochastic else 'greedy'} evaluation: {result} (min {min(result.returns):.1f})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlzoo", description="Train, evaluate and compare RL agents on Gymnasium envs.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log periodic evaluations and more")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("list", help="list agents and envs, with the extra each needs").set_defaults(run=cmd_list)

    train = commands.add_parser("train", help="train an agent, evaluate it and save it")
    train.add_argument("--agent", required=True, help="agent name (see rlzoo list)")
    train.add_argument("--env", required=True, help="env id (see rlzoo list; any Gymnasium id works)")
    train.add_argument("--steps", type=int, help="env steps to train (default: the preset's)")
    train.add_argument("--seed", type=int, default=0, help="seed of training and evaluation (default 0)")
    train.add_argument("--eval-every", type=int, help="evaluate every N steps and keep the best weights (default: the preset's; 0: off)")
    train.add_argument("--eval-episodes", type=int, help="episodes per periodic evaluation (default: the preset's, else 10)")
    train.add_argument("--episodes", type=int, default=100, help="episodes of the final greedy evaluation (default 100)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter (repeatable)")
    train.add_argument("--out", help="output folder (default runs/AGENT_ENV_seedS)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser("evaluate", help="evaluate a saved agent")
    evaluate.add_argument("artifact", help="a file written by rlzoo train or rlzoo.save")
    evaluate.add_argument("--episodes", type=int, default=100, help="episodes (default 100)")
    evaluate.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    evaluate.add_argument("--stochastic", action="store_true", help="sample actions instead of greedy ones")
    evaluate.set_defaults(run=cmd_evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rlzoo`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    try:
        return int(args.run(args))
    except (RLZooError, ValueError) as exc:
        print(f"rlzoo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
