"""What ``rlzoo train`` prints: live evaluation lines, the kept weights, and no framework chatter."""

import os
import subprocess
import sys


def rlzoo_cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user runs it (conftest sets one)
    return subprocess.run([sys.executable, "-m", "rlzoo.cli", *args], capture_output=True, text=True, timeout=300, env=env)


def test_train_prints_each_evaluation_and_the_kept_weights(tmp_path) -> None:
    result = rlzoo_cli("train", "--agent", "sb3-dqn", "--env", "CartPole-v1", "--steps", "600", "--eval-every", "300",
                       "--eval-episodes", "2", "--episodes", "3", "--no-progress", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    evals = [line for line in lines if line.startswith("eval at step ")]
    assert [line.split(":")[0] for line in evals[:2]] == ["eval at step 300", "eval at step 600"]  # then the final step's
    kept = next(line for line in lines if line.startswith("kept the weights from step "))
    assert lines.index(kept) > lines.index(evals[-1])
    results = [line for line in lines if "evaluation" in line and not line.startswith("eval at step ")]
    assert len(results) == 1 and results[0].startswith("greedy evaluation: "), lines  # the final evaluation, printed once


def test_kerasrl2_on_cartpole_v0_prints_no_tensorflow_lines_and_one_plain_note(tmp_path) -> None:
    result = rlzoo_cli("train", "--agent", "kerasrl2-dqn", "--env", "CartPole-v0", "--steps", "200", "--eval-every", "0",
                       "--episodes", "2", "--no-progress", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no oneDNN, cuda or cuInit lines, no coloured deprecation warning
    assert result.stdout.count("CartPole-v0 is an older version of CartPole") == 1
