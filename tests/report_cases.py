"""A results directory with known scores and per-seed learning curves, written straight into the index (no training).

Shared by the report's figure, HTML and browser tests. The scores are skewed (one bad seed per
cell), so the median differs from the mean.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence

from rlzoo.experiments import make_grid
from rlzoo.experiments.run import RunOutcome
from rlzoo.experiments.store import Store
from rlzoo.settings import TrainSettings

AGENTS = ("kerasrl2-dqn", "sb3-ppo")
ENVS = ("CartPole-v0", "CartPole-v1")
SEEDS = 5
#: Final score of seed s: BASE * (1 - 0.05 * s), except seed 0, which scores a fifth of BASE.
BASE = {
    ("kerasrl2-dqn", "CartPole-v0"): 190.0,
    ("kerasrl2-dqn", "CartPole-v1"): 300.0,
    ("sb3-ppo", "CartPole-v0"): 200.0,
    ("sb3-ppo", "CartPole-v1"): 480.0,
}


def final_score(agent: str, env: str, seed: int) -> float:
    """The known final score of one run."""
    base = BASE[agent, env]
    return base / 5 if seed == 0 else base * (1 - 0.05 * seed)


Curve = Callable[[float, int], list[tuple[int, float, float]]]


def record_runs(
    out: pathlib.Path,
    agents: Sequence[str],
    envs: Sequence[str],
    seeds: int,
    score: Callable[[str, str, int], float],
    curve: Curve,
    *,
    last: Callable[[str, str, int], float] | None = None,
    eval_every: int = 200,
) -> pathlib.Path:
    """Write an index of finished runs with known scores straight into ``out`` (no training).

    Parameters
    ----------
    out:
        The results directory.
    agents, envs, seeds:
        The grid: every agent on every env, seeds 0..seeds-1, 1000 steps each.
    score:
        The final (kept weights') score of (agent, env, seed).
    curve:
        The run's evaluations ``[(timestep, mean, std)]`` from its final score and seed.
    last:
        The last weights' score of (agent, env, seed), kept at step 500; ``None``: the last weights were kept.
    eval_every:
        The recorded evaluation interval.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    specs = make_grid(list(agents), list(envs), seeds)
    with Store(out) as store:
        store.add(specs)
        for spec in specs:
            final = score(spec.agent, spec.env, spec.seed)
            outcome = RunOutcome(
                spec.run_id, "done", started=0.0, finished=2.0, train_seconds=1.0, eval_seconds=0.5, num_timesteps=1000,
                final_mean=final, final_std=0.0, final_returns=[final] * 100, curve=curve(final, spec.seed),
                settings=TrainSettings(1000, eval_every, 10, 0, spec.seed, 1).to_dict(),
                last_weights_mean=None if last is None else last(spec.agent, spec.env, spec.seed),
                last_weights_std=None if last is None else 0.0, kept_timestep=None if last is None else 500,
            )  # fmt: skip
            store.record(outcome)
    return out


def write_results(out: pathlib.Path) -> pathlib.Path:
    """Write the index of :data:`AGENTS` x :data:`ENVS` x :data:`SEEDS` finished runs into ``out``."""
    return record_runs(
        out, AGENTS, ENVS, SEEDS, final_score, lambda final, seed: [(t, final * t / 1000 + seed, 1.0) for t in (200, 400, 600, 800, 1000)]
    )
