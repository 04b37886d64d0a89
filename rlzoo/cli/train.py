"""``rlzoo train``: train an agent, evaluate it and save it with its CSV and plot."""

from __future__ import annotations

import argparse
import contextlib
import logging
import pathlib
from collections.abc import Iterator
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
    train.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard events to a new run folder under DIR (extra: tensorboard)")
    train.add_argument(
        "--threads", type=int, default=1, help="intra-op threads for torch and TensorFlow (default 1: fastest for small networks)"
    )
    train.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rlzoo.reports import plot_learning_curve, return_range, write_episodes_csv
    from rlzoo.threads import set_threads

    hyperparams = parse_set(args.set)
    out = pathlib.Path(args.out or f"runs/{args.agent}_{args.env}_seed{args.seed}")
    note = outdated_env_note(args.env)
    if note:
        print(note)
    set_threads(args.threads)  # before the agent is built: TensorFlow fixes its threads then
    agent = rlzoo.make_agent(args.agent, args.env, seed=args.seed, preset=args.preset, **hyperparams)
    with live_evaluation_lines():
        rlzoo.train(
            agent,
            total_timesteps=args.steps,
            seed=args.seed,
            progress_bar=not args.no_progress,
            eval_every=args.eval_every,
            eval_episodes=args.eval_episodes,
            tensorboard_log=args.tensorboard,
            threads=args.threads,
        )
    result = rlzoo.evaluate(agent, n_episodes=args.episodes, seed=args.seed)
    agent.last_evaluation = result
    artifact = rlzoo.save(agent, out / "agent.zip")
    write_episodes_csv(agent.history, out / "episodes.csv")
    spec = getattr(agent.env, "spec", None)
    plot_learning_curve(
        agent.history,
        out / "learning_curve.png",
        f"{args.agent} on {args.env} (seed {args.seed})",
        final_evaluation=(agent.num_timesteps, result.mean, result.std),
        reward_threshold=getattr(spec, "reward_threshold", None),
        return_range=return_range(args.env, getattr(spec, "max_episode_steps", None)),
    )
    kept = agent.history.kept_timestep
    if kept is not None:
        kept_mean = next(mean for step, mean, _ in agent.history.evaluations if step == kept)
        print(f"kept the weights from step {kept} (eval {kept_mean:.1f}); final evaluation {result.mean:.1f}")
    print(f"trained {args.agent} on {args.env} for {agent.num_timesteps} steps ({len(agent.history.episodes)} episodes)")
    print(f"greedy evaluation: {result} (min {min(result.returns):.1f})")
    print(f"wrote {artifact}, {out / 'episodes.csv'}, {out / 'learning_curve.png'}")
    return 0


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
