"""The ``rlzoo`` command, run as a user runs it: in a subprocess."""

import csv
import signal
import subprocess
import sys
import time

import pytest

import rlzoo
from rlzoo.cli.common import parse_set


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


# -- --set values -----------------------------------------------------------------------------
def test_set_reads_numbers_in_python_syntax_as_numbers() -> None:
    values = parse_set(["learning_rate=1e-3", "a=1E5", "b=.5", "c=-2", "d=inf", "e=010", "f=true"])
    assert values == {"learning_rate": 0.001, "a": 100000.0, "b": 0.5, "c": -2, "d": float("inf"), "e": 10, "f": True}
    assert isinstance(values["c"], int) and isinstance(values["a"], float)


def test_set_reads_lists_and_mappings_with_numbers_inside() -> None:
    values = parse_set(["policy_kwargs={net_arch: [64, 64], scale: 1e-2}", "sizes=[1e-3, 2]"])
    assert values == {"policy_kwargs": {"net_arch": [64, 64], "scale": 0.01}, "sizes": [0.001, 2]}


def test_set_keeps_quoted_values_and_words_as_strings() -> None:
    assert parse_set(["a='1e-3'", "policy=MlpPolicy", "lr=lin_0.001", "flag=no"]) == {"a": "1e-3", "policy": "MlpPolicy", "lr": "lin_0.001", "flag": "no"}


def test_set_learning_rate_in_e_notation_trains(tmp_path) -> None:
    result = rlzoo_cli("train", "--agent", "sb3-ppo", "--env", "CartPole-v1", "--steps", "64", "--episodes", "1", "--no-progress",
                       "--set", "n_envs=1", "--set", "n_steps=64", "--set", "batch_size=64", "--set", "learning_rate=1e-3", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert rlzoo.load(tmp_path / "agent.zip").hyperparams["learning_rate"] == 0.001


# -- one-line errors, never a traceback -------------------------------------------------------
def assert_one_line_error(result: subprocess.CompletedProcess, status: int = 2) -> None:
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr


@pytest.mark.parametrize("args", [
    ["train", "--agent", "sb3-dqn", "--env", ""],
    ["train", "--agent", "", "--env", "CartPole-v1"],
    ["train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--steps", "0"],
    ["train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--steps", "-5"],
    ["train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--steps", "1e3"],
    ["train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--episodes", "0"],
    ["train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--eval-every", "-1"],
    ["train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--seed", "-1"],
    ["train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--seed", str(2**32)],
    ["train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--checkpoint-every", "-1"],
    ["evaluate", "agent.zip", "--seed", "-1"],
    ["evaluate", "agent.zip", "--seed", "99999999999999999999"],
    ["evaluate", "agent.zip", "--episodes", "0"],
], ids=lambda args: " ".join(args[1:]) or "empty")
def test_out_of_range_arguments_are_usage_errors(args) -> None:
    assert_one_line_error(rlzoo_cli(*args))


def test_train_without_agent_or_resume_is_a_usage_error() -> None:
    result = rlzoo_cli("train", "--env", "CartPole-v1")
    assert_one_line_error(result)
    assert "--agent and --env" in result.stderr


@pytest.mark.parametrize("setting", ["batch_size=0", "policy_kwargs={net_arch: [-1]}"])
def test_invalid_hyperparameter_values_are_one_line_errors(tmp_path, setting) -> None:
    result = rlzoo_cli("train", "--agent", "sb3-ppo", "--env", "CartPole-v1", "--steps", "64", "--no-progress",
                       "--set", "n_envs=1", "--set", setting, "--out", str(tmp_path / "run"))
    assert_one_line_error(result)
    assert setting.split("=")[0] in result.stderr


def test_evaluate_a_folder_is_a_one_line_error(tmp_path) -> None:
    result = rlzoo_cli("evaluate", str(tmp_path))
    assert_one_line_error(result)
    assert "not a file" in result.stderr


def test_evaluate_a_missing_file_is_a_one_line_error(tmp_path) -> None:
    result = rlzoo_cli("evaluate", str(tmp_path / "nope.zip"))
    assert_one_line_error(result)
    assert "no such file" in result.stderr


def test_an_unexpected_exception_is_one_line_without_v_and_a_traceback_with_it(monkeypatch, capsys) -> None:
    from rlzoo import cli
    from rlzoo.cli import listing

    def broken(args):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(listing, "run", broken)
    assert cli.main(["list"]) == 1
    err = capsys.readouterr().err
    assert "rlzoo: internal error: RuntimeError: something inside broke" in err and "-v" in err
    assert "Traceback" not in err
    assert cli.main(["-v", "list"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_list_into_a_closed_pipe_exits_quietly() -> None:
    process = subprocess.Popen([sys.executable, "-m", "rlzoo.cli", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()  # what `rlzoo list | head -1` does after one line
    _, err = process.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipe" not in err and err.strip() == b""


# -- --out is checked before training ---------------------------------------------------------
def test_out_that_is_a_file_fails_before_training(tmp_path) -> None:
    out = tmp_path / "file"
    out.write_text("x")
    result = rlzoo_cli("train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--steps", "1000000", "--out", str(out))
    assert_one_line_error(result)
    assert "is a file" in result.stderr and out.read_text() == "x"


def test_out_where_agent_zip_is_a_folder_fails_before_training(tmp_path) -> None:
    (tmp_path / "agent.zip").mkdir()
    result = rlzoo_cli("train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--steps", "1000000", "--out", str(tmp_path))
    assert_one_line_error(result)
    assert "'agent.zip'" in result.stderr


def test_out_that_cannot_be_written_fails_before_training(tmp_path) -> None:
    parent = tmp_path / "file"
    parent.write_text("x")  # a folder cannot be created under a file, even by root
    result = rlzoo_cli("train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--steps", "1000000", "--out", str(parent / "run"))
    assert_one_line_error(result)
    assert "not writable" in result.stderr


# -- SIGINT and SIGTERM during training ---------------------------------------------------------
def start_training(out, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "rlzoo.cli", "train", "--agent", "kerasrl2-dqn", "--env", "CartPole-v1", "--seed", "0",
               "--episodes", "2", "--no-progress", "--out", str(out), *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.02)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_training_saves_the_run_so_far_and_exits_128_plus_the_signal(tmp_path, signum, status) -> None:
    out = tmp_path / "run"
    process = start_training(out, "--steps", "1000000", "--checkpoint-every", "300")
    wait_for(out / "checkpoint" / "latest", process)  # training has made progress
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == status, err
    assert "Traceback" not in err
    saved = rlzoo.load(out / "agent.zip")
    assert 300 <= saved.num_timesteps < 1000000
    assert f"stopped after {saved.num_timesteps} steps" in err and str(out / "agent.zip") in err
    with open(out / "episodes.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and int(rows[-1]["timestep"]) <= saved.num_timesteps
    assert (out / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert "--resume" in err


# -- checkpoints and resume -------------------------------------------------------------------
@pytest.mark.parametrize("agent, steps, every, settings", [
    ("kerasrl2-dqn", 6000, 500, []),  # ~6000 steps/s: 1500 steps could end between two polls on a fast CPU
    ("sb3-dqn", 2048, 512, ["--set", "train_freq=4", "--set", "gradient_steps=1", "--set", "learning_starts=200"]),
    ("sb3-ppo", 2048, 512, ["--set", "n_envs=1", "--set", "n_steps=256", "--set", "batch_size=64"]),
])
def test_a_run_killed_with_sigkill_resumes_to_its_original_step_count(tmp_path, agent, steps, every, settings) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "rlzoo.cli", "train", "--agent", agent, "--env", "CartPole-v1", "--seed", "3", "--episodes", "2",
               "--no-progress", "--steps", str(steps), "--checkpoint-every", str(every), "--eval-every", str(every), "--eval-episodes", "2",
               "--out", str(out), *settings]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(out / "checkpoint" / "latest", process)
    process.kill()
    process.communicate()
    checkpointed = int((out / "checkpoint" / "latest").read_text().split("-")[1])
    assert checkpointed < steps and not (out / "agent.zip").exists()

    resumed = rlzoo_cli("train", "--resume", str(out), "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert f"at step {checkpointed} of {steps}" in resumed.stdout
    saved = rlzoo.load(out / "agent.zip")
    assert saved.num_timesteps == steps
    assert saved.last_evaluation is not None and saved.last_evaluation.n_episodes == 2  # --episodes kept from the first start
    with open(out / "episodes.csv") as handle:
        timesteps = [int(row["timestep"]) for row in csv.DictReader(handle)]
    assert timesteps == sorted(timesteps) and timesteps[-1] <= steps
    assert any(t <= checkpointed for t in timesteps) and any(t > checkpointed for t in timesteps)  # one continuous history
    evaluations = [line for line in resumed.stdout.splitlines() if line.startswith("eval at step")]
    assert len(evaluations) == steps // every  # those before the kill, from the checkpoint, and those after


def test_resume_of_a_folder_without_checkpoint_is_a_one_line_error(tmp_path) -> None:
    result = rlzoo_cli("train", "--resume", str(tmp_path))
    assert_one_line_error(result)
    assert "no checkpoint here" in result.stderr


def test_resume_refuses_settings_of_its_own(tmp_path) -> None:
    result = rlzoo_cli("train", "--resume", str(tmp_path), "--steps", "100")
    assert_one_line_error(result)
    assert "leave out --steps" in result.stderr
