"""Shared fixtures. Tests train real agents on real envs: keep step counts small and seeds fixed."""

from __future__ import annotations

import os

# One thread per framework keeps timings steady on the 2-core CI machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pathlib
import warnings

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)


@pytest.fixture(scope="session")
def trained_dqn(tmp_path_factory: pytest.TempPathFactory):
    """An sb3-dqn agent trained 3000 steps on CartPole-v1 (seed 0), and its saved artifact."""
    import rlzoo

    agent = rlzoo.train("sb3-dqn", "CartPole-v1", total_timesteps=3000, seed=0, eval_every=0)
    path = rlzoo.save(agent, tmp_path_factory.mktemp("dqn") / "dqn.zip")
    return agent, pathlib.Path(path)
