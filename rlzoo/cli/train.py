"""``rlzoo train``: train an agent, evaluate it and save it with its CSV and plot."""

from __future__ import annotations

import argparse
import pathlib
from typing import Any

import rlzoo
from rlzoo.cli.common import parse_set


def add_parser(commands: Any) -> None:
    """Register ``train`` on the subcommand parsers."""
    train = commands.add_parser("train", help="train an agent, evaluate it and save it")
    train.add_argument("--agent", required=True, help="agent name (see rlzoo list)")
    train.add_argument("--env", required=True, help="env id (see rlzoo list; any Gymnasium id works)")
    train.add_argument("--steps", type=int, help="env steps to train (default: the preset's)")
    train.add_argument("--seed", type=int, default=0, help="seed of training and evaluation (default 0)")
    train.add_argument("--eval-every", type=int, help="evaluate every N steps and keep the best weights (default: the preset's; 0: off)")
    train.add_argument("--eval-episodes", type=int, help="episodes per periodic evaluation (default: the preset's, else 10)")
    train.add_argument("--episodes", type=int, default=100, help="episodes of the final greedy evaluation (default 100)")
    train.add_argument("--preset", metavar="FILE", help="take hyperparameters and training settings from this preset YAML (e.g. rlzoo tune's best_preset.yml) or preset name (recipe)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter (repeatable)")
    train.add_argument("--out", help="output folder (default runs/AGENT_ENV_seedS)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rlzoo.reports import plot_learning_curve, write_episodes_csv

    hyperparams = parse_set(args.set)
    out = pathlib.Path(args.out or f"runs/{args.agent}_{args.env}_seed{args.seed}")
    agent = rlzoo.make_agent(args.agent, args.env, seed=args.seed, preset=args.preset, **hyperparams)
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
