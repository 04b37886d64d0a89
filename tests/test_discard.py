"""A sweep worker or tuning trial that builds agent after agent does not slow down: each run drops what its agents built.

keras-rl2 runs TensorFlow in graph mode, so every kerasrl2 agent adds its ops to the
process's one default graph; a worker that kept them all got slower run after run (a batch
of 5 seeds: 3 s first, 18 s after 30 others). ``Agent.discard_all`` drops them once a
sweep task or a trial's seed is over.
"""

from __future__ import annotations

import pathlib

import pytest

import rlzoo
from rlzoo.evaluation import final_evaluation
from rlzoo.experiments import make_grid
from rlzoo.experiments.batch import perform_group
from rlzoo.experiments.run import perform


def _graph_ops() -> int:
    import tensorflow as tf  # after the runs: kerasrl2 sets up tf-keras before TensorFlow's first import

    return len(tf.compat.v1.get_default_graph().get_operations())


def test_runs_in_one_worker_leave_no_ops_in_the_graph(tmp_path: pathlib.Path) -> None:
    solo = make_grid(["kerasrl2-dqn"], ["CartPole-v0"], [0], steps=600, eval_every=300)
    cell = make_grid(["kerasrl2-dqn"], ["CartPole-v0"], [1, 2], steps=600, eval_every=300)

    outcomes = [perform(solo[0], str(tmp_path))]
    after_solo = _graph_ops()
    outcomes += perform_group(cell, str(tmp_path), True)
    after_cell = _graph_ops()

    assert [outcome.status for outcome in outcomes] == ["done"] * 3, [outcome.error for outcome in outcomes]
    assert after_solo < 20 and after_cell == after_solo  # one agent alone builds about 1000 ops
    for outcome in outcomes:  # what was saved before the graph went is whole: it loads and scores as recorded
        agent = rlzoo.load(tmp_path / "runs" / outcome.run_id / "agent.zip")
        assert agent.num_timesteps == outcome.num_timesteps
        assert final_evaluation(agent).mean == pytest.approx(outcome.final_mean)
