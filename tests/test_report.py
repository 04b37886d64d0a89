"""``rlzoo report``: rliable's statistics of a results directory, as Markdown, PNGs and CSVs."""

from __future__ import annotations

import csv
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from report_cases import record_runs

from rlzoo.experiments import report
from rlzoo.experiments.bounds import random_score, solved_score
from rlzoo.experiments.stats import (
    improvement_probabilities,
    interquartile_mean,
    per_task_estimates,
    probability_of_improvement,
    score_distribution,
)

# Known final scores: seeds 0..7 of each (agent, env) score base + 10 * seed.
BASE = {("sb3-dqn", "CartPole-v1"): 100.0, ("sb3-ppo", "CartPole-v1"): 300.0, ("sb3-dqn", "CartPole-v0"): 50.0, ("sb3-ppo", "CartPole-v0"): 150.0}
SEEDS = 8
REPS = 200


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A results directory with known scores and learning curves (no training)."""
    return record_runs(
        tmp_path_factory.mktemp("results"), ["sb3-dqn", "sb3-ppo"], ["CartPole-v0", "CartPole-v1"], SEEDS,
        lambda agent, env, seed: BASE[agent, env] + 10.0 * seed,
        lambda final, seed: [(t, final * t / 1000, 1.0) for t in (250, 500, 750, 1000)], eval_every=250,
    )  # fmt: skip


@pytest.fixture(scope="module")
def written(results: pathlib.Path):
    return report(results, reps=REPS)


def test_report_writes_markdown_pngs_and_csvs(written, results: pathlib.Path) -> None:
    names = sorted(path.name for path in written.files)
    assert names == sorted(["report.md", "scores.csv", "runs.csv", "aggregate.png", "performance_profile.png",
                            "probability_of_improvement.png", "sample_efficiency.png"])
    for path in written.files:
        assert path.parent == results / "report" and path.stat().st_size > 0
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = written.markdown.read_text()
    for image in ("aggregate.png", "performance_profile.png", "probability_of_improvement.png", "sample_efficiency.png"):
        assert f"({image})" in markdown
    assert written.table in markdown
    assert "reward_threshold" in markdown  # says what normalised scores are relative to


def test_report_iqm_matches_a_hand_computation_and_rliable(written) -> None:
    from rliable import metrics

    rows = {(r["agent"], r["env"]): r for r in csv.DictReader(written.markdown.with_name("scores.csv").open())}
    scores = np.array([100.0 + 10 * s for s in range(SEEDS)])
    # IQM of 8 runs: the mean of the middle 4 (seeds 2..5): 100 + 10 * 3.5
    assert float(rows["sb3-dqn", "CartPole-v1"]["iqm"]) == pytest.approx(135.0)
    assert float(rows["sb3-dqn", "CartPole-v1"]["iqm"]) == pytest.approx(metrics.aggregate_iqm(scores[:, None]))
    assert float(rows["sb3-dqn", "CartPole-v1"]["mean"]) == pytest.approx(135.0)
    assert float(rows["sb3-dqn", "CartPole-v1"]["median"]) == pytest.approx(135.0)
    for row in rows.values():
        assert float(row["iqm_low"]) <= float(row["iqm"]) <= float(row["iqm_high"])
    assert float(rows["sb3-ppo", "CartPole-v1"]["iqm"]) == pytest.approx(335.0)


def test_per_task_intervals_match_rliables_own_call_per_task() -> None:
    from rliable import library, metrics

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(10, 3))
    ours = per_task_estimates({"a": scores}, reps=500, seed=3)["a"]
    for task in range(3):
        np.random.seed(3)  # rliable resamples from NumPy's global generator
        point, interval = library.get_interval_estimates({"a": scores[:, [task]]}, metrics.aggregate_iqm, reps=500)
        assert ours.point[0, task] == pytest.approx(point["a"])
        # Intervals from other draws of the same bootstrap: close, not identical.
        assert ours.low[0, task] == pytest.approx(interval["a"][0], abs=0.25)
        assert ours.high[0, task] == pytest.approx(interval["a"][1], abs=0.25)


def test_report_is_reproducible(results: pathlib.Path, written, tmp_path: pathlib.Path) -> None:
    again = report(results, tmp_path, reps=REPS)
    assert again.table == written.table


def test_vectorised_probability_of_improvement_equals_rliables() -> None:
    from rliable import metrics

    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, size=(10, 4)).astype(float)  # ties count a half
    y = rng.integers(0, 5, size=(7, 4)).astype(float)
    assert probability_of_improvement(x, y) == pytest.approx(metrics.probability_of_improvement(x, y))


@pytest.mark.parametrize("runs", [7, 8, 10, 13])
def test_interquartile_mean_equals_scipys_trim_mean_along_runs(runs: int) -> None:
    from scipy import stats

    scores = np.random.default_rng(runs).normal(size=(runs, 3, 4))
    np.testing.assert_allclose(interquartile_mean(scores), stats.trim_mean(scores, 0.25, axis=0), rtol=1e-12)


def test_vectorised_score_distribution_equals_rliables() -> None:
    from rliable import library

    scores = np.random.default_rng(2).integers(0, 5, size=(10, 4)).astype(float)  # scores equal to a tau count as not above
    taus = np.linspace(-1, 6, 15)
    np.testing.assert_array_equal(score_distribution(scores, taus), library.score_distributions(scores, taus))


def test_a_clearly_better_agent_has_probability_of_improvement_one() -> None:
    low = np.arange(10.0)[:, None] * np.ones((1, 2))
    estimate = improvement_probabilities({"a": low + 100, "b": low}, reps=100)["a", "b"]
    assert float(np.ravel(estimate.point)[0]) == 1.0


def test_normalisation_bounds_are_the_random_policy_and_the_reward_threshold() -> None:
    assert solved_score("CartPole-v1") == 475.0
    assert solved_score("rlzoo/SpringCarts-v0") is None
    # A uniform random policy keeps CartPole's pole up for about 22 steps.
    assert 15.0 < random_score("CartPole-v1") < 30.0
    assert random_score("CartPole-v1") == random_score("CartPole-v1")  # seeded


def test_cli_report_prints_the_table(results: pathlib.Path, tmp_path: pathlib.Path) -> None:
    result = subprocess.run([sys.executable, "-m", "rlzoo.cli", "report", str(results), "--out", str(tmp_path), "--reps", "100"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| CartPole-v1 | sb3-dqn | 8 | 135.0 [" in result.stdout
    assert (tmp_path / "report.md").is_file()


def test_cli_report_on_a_directory_without_results_says_so(tmp_path: pathlib.Path) -> None:
    result = subprocess.run([sys.executable, "-m", "rlzoo.cli", "report", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"rlzoo: error: '{tmp_path}' has no index.sqlite: give a directory written by `rlzoo sweep --out DIR`"


def test_report_of_chosen_agents_and_envs_covers_only_them(results: pathlib.Path, tmp_path: pathlib.Path) -> None:
    chosen = report(results, tmp_path, reps=REPS, agents=["sb3-ppo"], envs=["CartPole-v1"])

    with (tmp_path / "runs.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == SEEDS and {(r["label"], r["env"]) for r in rows} == {("sb3-ppo", "CartPole-v1")}
    assert "sb3-dqn" not in chosen.table and "CartPole-v0" not in chosen.table


def test_report_of_an_agent_that_did_not_run_names_those_that_did(results: pathlib.Path, tmp_path: pathlib.Path) -> None:
    from rlzoo.errors import RLZooError

    with pytest.raises(RLZooError, match=r"agents \['kerasrl2-dqn'\]: not among the sweep.s agents; they are sb3-dqn, sb3-ppo"):
        report(results, tmp_path, reps=REPS, agents=["kerasrl2-dqn"])


def test_the_report_says_how_every_run_was_trained(written) -> None:
    markdown = written.markdown.read_text()
    assert "## Training settings" in markdown
    assert "| sb3-dqn | CartPole-v1 | total_timesteps 1000, eval_every 250, eval_episodes 10, checkpoint_every 0, threads 1 | 8 |" in markdown
    runs = list(csv.DictReader((written.markdown.parent / "runs.csv").open()))
    assert json.loads(runs[0]["settings"])["eval_every"] == 250
