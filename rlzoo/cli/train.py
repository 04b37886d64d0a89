"""``rlzoo train``: train an agent, evaluate it and save it with its CSV and plot.

SIGINT (Ctrl-C) or SIGTERM stops training at the next step; the agent trained so far is
saved with its CSV and plot and the command exits 130 or 143. A second signal aborts at
once without saving. ``--checkpoint-every N`` writes a checkpoint to ``OUT/checkpoint``;
``--resume OUT`` continues a run killed in any way to its original step count.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pathlib
import signal
import sys
from collections.abc import Iterator
from typing import Any

from rlzoo import training
from rlzoo.agent import Agent, Callback
from rlzoo.artifact import save
from rlzoo.builder import make_agent
from rlzoo.checkpoint import latest_checkpoint, read_checkpoint
from rlzoo.cli.common import UsageError, check_output_folder, non_empty, non_negative_int, parse_set, positive_int, seed_int
from rlzoo.evaluation import final_evaluation
from rlzoo.learning_curve import plot_learning_curve, return_range, write_episodes_csv
from rlzoo.settings import FINAL_EPISODES
from rlzoo.threads import set_threads

OUTPUTS = ("agent.zip", "episodes.csv", "learning_curve.png")
CHECKPOINTS = "checkpoint"  # the checkpoint folder inside --out


def add_parser(commands: Any) -> None:
    """Register ``train`` on the subcommand parsers."""
    train = commands.add_parser("train", help="train an agent, evaluate it and save it")
    train.add_argument("--agent", type=non_empty, help="agent name (see rlzoo list); required unless --resume")
    train.add_argument("--env", type=non_empty, help="env id (see rlzoo list; any Gymnasium id works); required unless --resume")
    train.add_argument("--steps", type=positive_int, help="env steps to train (default: the preset's)")
    train.add_argument("--seed", type=seed_int, default=0, help="seed of training and evaluation, 0 to 2**32-1 (default 0)")
    train.add_argument(
        "--eval-every",
        type=non_negative_int,
        help="evaluate every N steps and keep the best weights (default: the preset's, else a tenth of the steps; 0: off)",
    )
    train.add_argument("--eval-episodes", type=positive_int, help="episodes per periodic evaluation (default: the preset's, else 10)")
    train.add_argument(
        "--episodes", type=positive_int, default=FINAL_EPISODES, help=f"episodes of the final greedy evaluation (default {FINAL_EPISODES})"
    )
    train.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter, value read as YAML (repeatable)"
    )
    train.add_argument(
        "--preset",
        metavar="FILE",
        help="take hyperparameters and training settings from this preset YAML (e.g. rlzoo tune's best_preset.yml) or preset name (recipe)",
    )
    train.add_argument("--out", help="output folder (default runs/AGENT_ENV_seedS)")
    train.add_argument(
        "--checkpoint-every",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="write a checkpoint to OUT/checkpoint every N steps (default 0: none)",
    )
    train.add_argument(
        "--resume", metavar="DIR", help="continue the run whose --out (or checkpoint folder) is DIR to its original step count"
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument(
        "--tensorboard", type=non_empty, metavar="DIR", help="write TensorBoard events to a new run folder under DIR (extra: tensorboard)"
    )
    train.add_argument(
        "--threads", type=positive_int, default=1, help="intra-op threads for torch and TensorFlow (default 1: fastest for small networks)"
    )
    train.set_defaults(run=run)


class StopOnSignal(Callback):
    """Asks training to stop at the next step once :attr:`signum` is set (by a signal handler)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def on_step(self, agent: Agent) -> bool:
        return self.signum is None


class Aborted(KeyboardInterrupt):
    """A second SIGINT/SIGTERM: leave now, without saving. ``exit_status`` is 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_status = 128 + signum


@contextlib.contextmanager
def stop_on_signals(stop: StopOnSignal) -> Iterator[None]:
    """While inside, the first SIGINT/SIGTERM sets ``stop.signum`` (training stops at the next
    step) and a second raises :class:`Aborted`."""

    def handle(signum: int, frame: Any) -> None:
        if stop.signum is not None:
            raise Aborted(signum)
        stop.signum = signum
        # os.write, not print: a handler may run in the middle of another write to stderr.
        os.write(
            2,
            (
                f"\nrlzoo: {signal.Signals(signum).name}: stopping at the next step to save the run "
                "(send it again to abort without saving)\n"
            ).encode(),
        )

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(args: argparse.Namespace) -> int:
    stop = StopOnSignal()
    with stop_on_signals(stop):
        if args.resume:
            agent, out, settings = _resume(args, stop)
        else:
            agent, out, settings = _train(args, stop)
        return _finish(agent, out, settings, stop)


def _train(args: argparse.Namespace, stop: StopOnSignal) -> tuple[Agent, pathlib.Path, dict[str, Any]]:
    if not args.agent or not args.env:
        raise UsageError("train needs --agent and --env (or --resume DIR to continue a run)")
    hyperparams = parse_set(args.set)
    out = pathlib.Path(args.out or f"runs/{args.agent}_{args.env}_seed{args.seed}")
    if out.exists() and not out.is_dir():  # the one --out mistake worth knowing before the agent is built
        check_output_folder(out, OUTPUTS)
    set_threads(args.threads)  # before the agent is built: TensorFlow fixes its threads then
    notes = {"episodes": args.episodes, "title": f"{args.agent} on {args.env} (seed {args.seed})", "seed": args.seed}
    # Built before --out is created: a mistyped --agent, --env, --preset or --set leaves no folder behind.
    agent = make_agent(args.agent, args.env, seed=args.seed, preset=args.preset, **hyperparams)
    check_output_folder(out, OUTPUTS)
    note = outdated_env_note(args.env)
    if note:
        print(note)
    with live_evaluation_lines():
        training.train(
            agent,
            total_timesteps=args.steps,
            seed=args.seed,
            callbacks=[stop],
            progress_bar=not args.no_progress,
            eval_every=args.eval_every,
            eval_episodes=args.eval_episodes,
            checkpoint_every=args.checkpoint_every,
            checkpoint_dir=out / CHECKPOINTS if args.checkpoint_every else None,
            checkpoint_notes=notes,
            tensorboard_log=args.tensorboard,
            threads=args.threads,
        )
    return agent, out, notes


def _resume(args: argparse.Namespace, stop: StopOnSignal) -> tuple[Agent, pathlib.Path, dict[str, Any]]:
    given = [
        flag
        for flag, value in (
            ("--agent", args.agent),
            ("--env", args.env),
            ("--steps", args.steps),
            ("--set", args.set),
            ("--eval-every", args.eval_every),
            ("--eval-episodes", args.eval_episodes),
            ("--checkpoint-every", args.checkpoint_every),
            ("--preset", args.preset),
        )
        if value
    ]
    if given:
        raise UsageError(f"--resume continues a run with its own settings: leave out {', '.join(given)}")
    folder = pathlib.Path(args.resume)
    if not folder.is_dir():
        raise UsageError(f"--resume {str(folder)!r} is not a folder: give the --out folder of a run started with --checkpoint-every")
    if latest_checkpoint(folder) is None and latest_checkpoint(folder / CHECKPOINTS) is not None:
        folder = folder / CHECKPOINTS
    set_threads(args.threads)  # before the checkpoint's agent is built
    checkpoint = read_checkpoint(folder)
    out = pathlib.Path(args.out) if args.out else (folder.parent if folder.name == CHECKPOINTS else folder)
    check_output_folder(out, OUTPUTS)
    print(
        f"resuming {checkpoint.agent.name} on {checkpoint.agent.env_id} "
        f"at step {checkpoint.agent.num_timesteps} of {checkpoint.settings.end_timestep}"
    )
    for timestep, mean, std in checkpoint.agent.history.evaluations:  # those before the checkpoint, as the first start printed them
        print(f"eval at step {timestep}: {mean:.1f} ± {std:.1f} (greedy, {checkpoint.settings.train.eval_episodes} episodes)")
    with live_evaluation_lines():
        training.resume(
            checkpoint, callbacks=[stop], progress_bar=not args.no_progress, tensorboard_log=args.tensorboard, threads=args.threads
        )
    return checkpoint.agent, out, checkpoint.settings.notes


def _finish(agent: Agent, out: pathlib.Path, notes: dict[str, Any], stop: StopOnSignal) -> int:
    """Save the agent, its CSV and plot, then evaluate it unless a signal stopped training.

    The run is saved before the final evaluation so that a signal during the evaluation
    (which then aborts at once) loses only the evaluation.
    """
    title = str(notes.get("title", f"{agent.name} on {agent.env_id}"))
    written = _save(agent, out, title)
    if stop.signum is not None:
        name = signal.Signals(stop.signum).name
        print(
            f"rlzoo: {name}: stopped after {agent.num_timesteps} steps ({len(agent.history.episodes)} episodes); {written}", file=sys.stderr
        )
        if (out / CHECKPOINTS).is_dir():
            print(f"rlzoo: continue from the latest checkpoint with: rlzoo train --resume {out}", file=sys.stderr)
        return 128 + stop.signum
    stop.signum = signal.SIGINT  # from here the first signal aborts: the run is saved
    result = final_evaluation(agent, n_episodes=int(notes.get("episodes", FINAL_EPISODES)))
    written = _save(agent, out, title)
    kept = agent.history.kept_timestep
    if kept is not None:
        kept_mean = next(mean for step, mean, _ in agent.history.evaluations if step == kept)
        print(f"kept the weights from step {kept} (eval {kept_mean:.1f})")  # the final evaluation is the line below
    print(f"trained {agent.name} on {agent.env_id} for {agent.num_timesteps} steps ({len(agent.history.episodes)} episodes)")
    print(f"greedy evaluation: {result} (min {min(result.returns):.1f})")
    print(written)
    return 0


def _save(agent: Agent, out: pathlib.Path, title: str) -> str:
    artifact = save(agent, out / "agent.zip")
    write_episodes_csv(agent.history, out / "episodes.csv")
    spec = getattr(agent.env, "spec", None)
    result = agent.last_evaluation
    plot_learning_curve(
        agent.history,
        out / "learning_curve.png",
        title,
        final_evaluation=(agent.num_timesteps, result.mean, result.std) if result is not None else None,
        reward_threshold=getattr(spec, "reward_threshold", None),
        return_range=return_range(agent.env_id or "", getattr(spec, "max_episode_steps", None)),
    )
    return f"wrote {artifact}, {out / 'episodes.csv'}, {out / 'learning_curve.png'}"


class _EvaluationLines(logging.Handler):
    """Prints the periodic evaluations that :class:`rlzoo.callbacks.EvalEvery` logs, above the progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "rlzoo_event", None) == "eval":
            from tqdm.auto import tqdm

            tqdm.write(record.getMessage())


@contextlib.contextmanager
def live_evaluation_lines() -> Iterator[None]:
    """While training, print each ``eval at step N: mean ± std`` line as it happens."""
    log = logging.getLogger("rlzoo.callbacks")
    handler, level, propagate = _EvaluationLines(), log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # with -v the root handler would print each line a second time
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate


def outdated_env_note(env_id: str) -> str | None:
    """One plain line when ``env_id`` is an older version of a Gymnasium env, else ``None``."""
    from gymnasium.envs.registration import find_highest_version, parse_env_id

    try:
        namespace, name, version = parse_env_id(env_id)
    except Exception:  # not a Gymnasium id (a PettingZoo env): nothing to say
        return None
    latest = find_highest_version(namespace, name)
    if version is None or latest is None or latest <= version:
        return None
    return f"note: {env_id} is an older version of {name} (the latest is v{latest}); presets that name it use it on purpose"
