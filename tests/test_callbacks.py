"""Training hooks: the progress bar's count, the kept weights, the thread default."""

import os
import types

import pytest

import rlzoo
from rlzoo.callbacks import ProgressBar
from rlzoo.errors import ArgumentError


def test_progress_bar_ends_at_the_total_when_the_backend_overshoots() -> None:
    agent = types.SimpleNamespace(name="x", num_timesteps=0)  # only what the bar reads
    bar = ProgressBar()
    bar.on_training_start(agent, 1000)
    for _ in range(5):
        agent.num_timesteps += 256  # a rollout backend's batches: 1280 steps for a total of 1000
        bar.on_step(agent)

    assert bar._bar.n == bar._bar.total == 1000
    bar.on_training_end(agent)


def test_periodic_evaluation_records_which_weights_it_kept() -> None:
    # learning_starts 100: both evaluations come after the first update, so either may be kept
    agent = rlzoo.train("sb3-dqn", "CartPole-v1", total_timesteps=600, seed=0, eval_every=300, eval_episodes=2, learning_starts=100)

    means = {step: mean for step, mean, _ in agent.history.evaluations}
    best = max(means.values())
    assert agent.history.kept_timestep == max(step for step, mean in means.items() if mean == best)  # latest of the best


def test_training_without_periodic_evaluation_keeps_no_step() -> None:
    agent = rlzoo.train("sb3-dqn", "CartPole-v1", total_timesteps=200, seed=0, eval_every=0)

    assert agent.history.kept_timestep is None


def test_train_uses_one_torch_thread_unless_told_otherwise() -> None:
    import torch

    agent = rlzoo.make_agent("sb3-dqn", "CartPole-v1", seed=0)
    rlzoo.train(agent, total_timesteps=100, eval_every=0, threads=2)
    assert torch.get_num_threads() == 2
    rlzoo.train(agent, total_timesteps=100, eval_every=0)
    assert torch.get_num_threads() == 1


def test_threads_below_one_are_refused() -> None:
    with pytest.raises(ArgumentError, match=r"threads=int 0: must be an int >= 1"):
        rlzoo.train("sb3-dqn", "CartPole-v1", total_timesteps=100, threads=0)


def test_a_worker_process_holds_every_library_to_one_thread() -> None:
    import subprocess
    import sys

    code = (
        "import os, rlzoo.threads as t; t.one_thread_per_worker(); import torch, numpy; "
        "print(torch.get_num_threads(), os.environ['OMP_NUM_THREADS'], os.environ['TF_NUM_INTEROP_THREADS'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}  # the machine's defaults
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()

    assert out == ["1", "1", "1"]
