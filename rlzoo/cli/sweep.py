"""``rlzoo sweep``: train agents x envs x seeds into one resumable results directory."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import Any

from rlzoo.cli.common import int_at_least, non_empty, non_negative_int, one_line_errors, parse_set, positive_int
from rlzoo.errors import RLZooError
from rlzoo.experiments.driver import MAX_WORKERS, failure_line, sweep
from rlzoo.experiments.grid import MAX_RUNS
from rlzoo.experiments.hparams import write_hparams


def add_parser(commands: Any) -> None:
    """Register ``sweep`` on the subcommand parsers."""
    sweep = commands.add_parser(
        "sweep",
        help="train agents x envs x seeds in parallel (resumable), locally or on a Ray cluster",
        description="Train every (agent, env, seed) with its preset, record periodic greedy evaluations, "
        "evaluate 100 greedy episodes and save each run under OUT/runs/; OUT/index.sqlite indexes them. "
        "Rerunning the same command skips finished runs.",
    )
    one_line_errors(sweep)
    sweep.add_argument("grid", nargs="?", type=non_empty, help="a YAML grid file (instead of --agents/--envs)")
    sweep.add_argument("--agents", nargs="+", default=[], metavar="AGENT", help="agent names (see rlzoo list)")
    sweep.add_argument("--envs", nargs="+", default=[], metavar="ENV", help="env ids")
    sweep.add_argument(
        "--seeds", type=int_at_least(1, MAX_RUNS), metavar="N", help="seeds 0..N-1 (default 10; with a grid file: replaces its seeds)"
    )
    sweep.add_argument(
        "--steps", type=positive_int, help="env steps per run (default: each preset's; with a grid file: replaces its steps)"
    )
    sweep.add_argument(
        "--eval-every",
        type=non_negative_int,
        help="steps between the learning curve's greedy evaluations (default: the preset's, else a tenth of the steps)",
    )
    sweep.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter in every run (repeatable)"
    )
    sweep.add_argument(
        "--preset",
        help="build every agent from this preset YAML or preset name (recipe) instead of its own; with a grid file: replaces its presets",
    )
    sweep.add_argument("--label", default="", help="the report's name for these runs (default: the agent's name; not with a grid file)")
    sweep.add_argument("--out", type=non_empty, default="runs/sweep", help="results directory (default runs/sweep)")
    sweep.add_argument("--workers", type=int_at_least(1, MAX_WORKERS), help="local worker processes (default: the CPU count)")
    sweep.add_argument("--ray", type=non_empty, metavar="ADDRESS", help="run on a Ray cluster (HOST:PORT, or auto); needs rlzoo[ray]")
    sweep.add_argument(
        "--shared-results",
        action="store_true",
        help="with --ray: OUT is on a file system every Ray worker sees; workers write run folders there",
    )
    sweep.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="after the sweep, write each finished run to DIR/RUN_ID with its hyperparameters and final score "
        "for TensorBoard's HParams dashboard (tensorboard --logdir DIR); needs rlzoo[tensorboard]",
    )
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.add_argument(
        "--no-batch-seeds",
        action="store_true",
        help="train every run on its own (default: a cell's seeds side by side in one process, for agents that can: kerasrl2-dqn)",
    )
    sweep.add_argument(
        "--no-agents",
        action="store_true",
        help="save no agent.zip in the run folders, only episodes.csv (the index keeps every score): "
        "a few kilobytes a run, for sweeps whose scores are all that is kept (make bench)",
    )
    sweep.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    if args.grid and (args.agents or args.envs):
        raise RLZooError("give a grid file or --agents and --envs, not both")
    if not args.grid and not (args.agents and args.envs):
        raise RLZooError("give --agents and --envs (for example --agents sb3-ppo sb3-dqn --envs CartPole-v1), or a YAML grid file")
    bar: Any = None

    def on_start(todo: int, skipped: int) -> None:
        nonlocal bar
        print(f"{todo + skipped} runs: {skipped} finished already, {todo} to run, results in {args.out}")
        bar = tqdm(total=todo, unit="run", dynamic_ncols=True, disable=args.no_progress)

    def progress(spec: Any, outcome: Any, finished: int, todo: int) -> None:
        seconds = outcome.finished - outcome.started
        if outcome.status == "done":
            line = f"done    {spec.name} {spec.env} seed {spec.seed}: greedy mean {outcome.final_mean:.1f} ({seconds:.0f} s)"
        else:
            line = f"FAILED  {spec.name} {spec.env} seed {spec.seed}: {failure_line(outcome)}"
        if bar is not None:
            bar.write(line)
            bar.update(1)
        else:
            print(line)

    def on_redo(spec: Any, problem: str) -> None:
        print(f"redo    {spec.name} {spec.env} seed {spec.seed}: {problem}: running it again")

    try:
        with interrupt_on_sigterm():
            summary = sweep(
                args.agents,
                args.envs,
                args.seeds,
                steps=args.steps,
                eval_every=args.eval_every,
                overrides=parse_set(args.set),
                preset=args.preset,
                label=args.label,
                grid=args.grid,
                out=args.out,
                workers=args.workers,
                ray=args.ray,
                shared_results=args.shared_results,
                progress=progress,
                on_start=on_start,
                on_redo=on_redo,
                batch_seeds=not args.no_batch_seeds,
                keep_agents=not args.no_agents,
            )
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the workers were stopped; finished runs are kept
        signum = getattr(exc, "signum", signal.SIGINT)
        print(
            f"\nrlzoo: {signal.Signals(signum).name}: sweep stopped; its finished runs are kept in {args.out}, "
            "rerun the same command to go on",
            file=sys.stderr,
        )
        return 128 + signum
    finally:
        if bar is not None:
            bar.close()
    if args.tensorboard:
        runs = len(write_hparams(args.out, args.tensorboard)) - 1  # the first file is the experiment's
        print(f"TensorBoard: {runs} runs with their hyperparameters in {args.tensorboard} (tensorboard --logdir {args.tensorboard})")
    print(
        f"{_runs(summary.done)} finished, {summary.failed} failed, {summary.skipped} skipped in {summary.wall_seconds:.0f} s; "
        f"`rlzoo report {args.out}` for the statistics"
    )
    return 1 if summary.failed else 0


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: ``signum`` says which it was."""

    signum = signal.SIGTERM


@contextlib.contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` in the driver, as SIGINT raises KeyboardInterrupt,
    so both stop the workers at once (:func:`rlzoo.experiments.executors.terminate`) instead of leaving them running."""

    def handle(signum: int, frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _runs(count: int) -> str:
    """``"1 run"``, ``"2 runs"``."""
    return f"{count} run" if count == 1 else f"{count} runs"
