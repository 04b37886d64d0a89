"""``rlzoo tune``: tune an agent's hyperparameters on an env with Optuna."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rlzoo.tuning import tune as run_tuning
from rlzoo.tuning.study import PRUNERS, SAMPLERS, import_optuna


def add_parser(commands: Any) -> None:
    """Register ``tune`` on the subcommand parsers."""

    tune = commands.add_parser(
        "tune",
        help="tune hyperparameters with Optuna and write the best preset",
        description="Tune an agent's hyperparameters on an env with Optuna. The same --storage and --study-name "
        "from several processes or machines share one study; rerunning continues it.",
    )
    tune.add_argument("--agent", required=True, help="agent name (see rlzoo list)")
    tune.add_argument("--env", required=True, help="env id")
    tune.add_argument(
        "--trials",
        type=int,
        help="trials each worker process runs now, on top of the study's (default 20; with --timeout alone: until the timeout)",
    )
    tune.add_argument("--steps", type=int, help="training steps per seed of a trial (default: the preset's)")
    tune.add_argument("--timeout", type=float, metavar="SECONDS", help="start no new trial after this many seconds")
    tune.add_argument("--out", default="runs/tune", help="output root; the study's folder is OUT/STUDY_NAME (default runs/tune)")
    tune.add_argument("--storage", help="SQLAlchemy URL or journal file (journal:PATH, PATH.log); default sqlite:///OUT/study.db")
    tune.add_argument("--study-name", help="study name in the storage (default AGENT__ENV)")
    tune.add_argument("--sampler", default="tpe", choices=SAMPLERS, help="default tpe")
    tune.add_argument("--pruner", default="median", choices=PRUNERS, help="default median")
    tune.add_argument(
        "--seeds-per-trial", type=int, default=1, metavar="K", help="train each trial on seeds 0..K-1, score the mean (default 1)"
    )
    tune.add_argument("--n-jobs", type=int, default=1, metavar="K", help="worker processes, one thread each (default 1)")
    tune.add_argument("--space", metavar="FILE", help="YAML merged over the built-in search space")
    tune.add_argument("--eval-every", type=int, help="steps between a trial's evaluations (default: the preset's, else steps/10)")
    tune.add_argument("--eval-episodes", type=int, help="episodes per evaluation (default: the preset's, else 5)")
    tune.add_argument("--seed", type=int, help="sampler seed (default: random)")
    tune.add_argument(
        "--confirm-top",
        type=int,
        default=3,
        metavar="K",
        help="after the search, re-train the best K trials and the preset in force on fresh seeds and choose by "
        "confirmed IQM (default 3; 0: no confirmation, the search's best is written unconfirmed)",
    )
    tune.add_argument(
        "--confirm-seeds", type=int, default=10, metavar="N", help="fresh seeds per confirmed candidate, from 2000 (default 10)"
    )
    tune.add_argument(
        "--preset",
        metavar="NAME|FILE",
        help="the preset in force: trials start from it and confirmation compares against it (default: the agent's own)",
    )
    tune.add_argument("--ray", metavar="ADDRESS", help="run the confirmation on this Ray cluster ('auto': the local one)")
    tune.add_argument(
        "--force", action="store_true", help="join an existing --study-name even if it tunes another agent or env, or minimises"
    )
    tune.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.verbose:  # Optuna logs every trial to stderr; -v shows them
        optuna = import_optuna()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        result = _tune(args)
    except KeyboardInterrupt:
        print("rlzoo: interrupted: run the same command again to continue the study", file=sys.stderr)
        return 130
    counts = ", ".join(f"{n} {state.lower()}" for state, n in result.counts.items() if n)
    print(f"study {result.study_name!r} in {result.storage}: {counts}")
    if result.best_value is None:
        print("no trial has completed yet: no preset written")
    elif result.confirmation is None:
        print(f"best objective {result.best_value:.2f} with {result.best_hyperparams} (not confirmed: --confirm-top 0)")
    else:
        confirmation = result.confirmation
        seeds = confirmation.seeds
        done = confirmation.sweep
        print(
            f"confirmation on seeds {seeds[0]}-{seeds[-1]} ({done.done} runs now, {done.skipped} finished before) in {confirmation.folder}:"
        )
        for entry in confirmation.ranked:
            search = "" if entry.candidate.search_value is None else f" (search {entry.candidate.search_value:.1f})"
            scored = f"failed on seeds {list(entry.failed)}" if entry.failed else f"IQM {entry.iqm:.1f} [{entry.low:.1f}, {entry.high:.1f}]"
            print(f"  {entry.candidate.label}: {scored}{search}")
        if confirmation.in_force_won:
            print(
                "the preset in force won the confirmation: no new preset written (its hyperparameters, trained with the "
                f"study's settings as every candidate was: {confirmation.winner.preset})"
            )
    if result.preset is not None:
        print(f"wrote {result.preset}; train with it: rlzoo train --agent {args.agent} --env {args.env} --preset {result.preset}")
    print(f"wrote {result.summary}" + "".join(f", {path}" for path in result.plots))
    return 0


def _tune(args: argparse.Namespace) -> Any:
    trials = args.trials if args.trials is not None or args.timeout is not None else 20
    return run_tuning(
        args.agent,
        args.env,
        trials=trials,
        steps=args.steps,
        timeout=args.timeout,
        out=args.out,
        storage=args.storage,
        study_name=args.study_name,
        sampler=args.sampler,
        pruner=args.pruner,
        seeds_per_trial=args.seeds_per_trial,
        n_jobs=args.n_jobs,
        space=args.space,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        seed=args.seed,
        confirm_top=args.confirm_top,
        confirm_seeds=args.confirm_seeds,
        ray=args.ray,
        preset=args.preset,
        force=args.force,
    )
