"""The ``rlzoo`` command, run as a user runs it: in a subprocess."""

import csv
import subprocess
import sys

import rlzoo


def rlzoo_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rlzoo.cli", *args], capture_output=True, text=True, timeout=300)


def test_list_shows_agents_and_envs_with_their_extras() -> None:
    result = rlzoo_cli("list")
    assert result.returncode == 0, result.stderr
    assert "sb3-dqn" in result.stdout and "rlzoo[sb3]" in result.stdout
    assert "CartPole-v1" in result.stdout and "gymnasium" in result.stdout


def test_train_writes_artifact_csv_and_plot_then_evaluate_reads_it(tmp_path) -> None:
    out = tmp_path / "run"
    result = rlzoo_cli("train", "--agent", "sb3-ppo", "--env", "CartPole-v1", "--steps", "2048", "--seed", "1",
                       "--episodes", "5", "--set", "n_envs=1", "--set", "n_steps=256", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "greedy evaluation: mean return" in result.stdout
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "episodes.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 10 and float(rows[0]["return"]) > 0
    saved = rlzoo.load(out / "agent.zip")
    assert saved.hyperparams["n_steps"] == 256 and saved.num_timesteps == 2048
    assert saved.last_evaluation is not None and saved.last_evaluation.n_episodes == 5

    evaluated = rlzoo_cli("evaluate", str(out / "agent.zip"), "--episodes", "5", "--seed", "1")
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"mean return {saved.last_evaluation.mean:.2f}" in evaluated.stdout  # same seed, same episodes


def test_unknown_agent_exits_non_zero_with_the_closest_names() -> None:
    result = rlzoo_cli("train", "--agent", "sb3-dqm", "--env", "CartPole-v1")
    assert result.returncode != 0
    assert "unknown agent 'sb3-dqm': did you mean 'sb3-dqn'" in result.stderr


def test_unknown_env_exits_non_zero_with_the_closest_ids() -> None:
    result = rlzoo_cli("train", "--agent", "sb3-dqn", "--env", "CartPol-v1")
    assert result.returncode != 0
    assert "unknown env 'CartPol-v1': did you mean 'CartPole-v1'" in result.stderr


def test_bad_set_key_names_the_valid_hyperparameters() -> None:
    result = rlzoo_cli("train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--set", "learning_rat=0.1")
    assert result.returncode != 0
    assert "did you mean 'learning_rate'" in result.stderr and "valid hyperparameters:" in result.stderr


def test_set_without_equals_is_a_clear_error() -> None:
    result = rlzoo_cli("train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--set", "learning_rate")
    assert result.returncode != 0
    assert "--set expects key=value" in result.stderr


def test_evaluate_a_bad_file_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_text("nope")
    result = rlzoo_cli("evaluate", str(bad))
    assert result.returncode != 0
    assert "bad.zip" in result.stderr and "not a readable zip file" in result.stderr
    assert "Traceback" not in result.stderr
