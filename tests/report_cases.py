"""A results directory with known scores and per-seed learning curves, written straight into the index (no training).

Shared by the report's figure, HTML and browser tests. The scores are skewed (one bad seed per
cell), so the median differs from the mean.
"""

from __future__ import annotations

import pathlib

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


def write_results(out: pathlib.Path) -> pathlib.Path:
    """Write the index of :data:`AGENTS` x :data:`ENVS` x :data:`SEEDS` finished runs into ``out``."""
    specs = make_grid(list(AGENTS), list(ENVS), SEEDS)
    with Store(out) as store:
        store.add(specs)
        for spec in specs:
            final = final_score(spec.agent, spec.env, spec.seed)
            curve = [(t, final * t / 1000 + spec.seed, 1.0) for t in (200, 400, 600, 800, 1000)]
            settings = TrainSettings(1000, 200, 10, 0, spec.seed, 1).to_dict()
            outcome = RunOutcome(
                spec.run_id, "done", started=0.0, finished=2.0, train_seconds=1.0, eval_seconds=0.5, num_timesteps=1000,
                final_mean=final, final_std=0.0, final_returns=[final] * 100, curve=curve, settings=settings,
            )  # fmt: skip
            store.record(outcome)
    return out
