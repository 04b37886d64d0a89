"""Files rlzoo writes: atomic, following the umask, and nothing left behind, not even after kill -9."""

import os
import pathlib
import random
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

import rlzoo
from rlzoo.files import atomic_write, sweep_leftovers
from rlzoo.learning_curve import plot_learning_curve, write_episodes_csv


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> pathlib.Path:
    """The system temp folder, made private to this test (``tempfile.gettempdir()`` and ``TMPDIR``)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    return folder


def test_atomic_write_replaces_the_target_only_when_complete(tmp_path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"half")
        raise RuntimeError("crash")
    assert target.read_bytes() == b"old"
    with atomic_write(target) as handle:
        handle.write(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_sweep_removes_only_leftovers_of_processes_that_are_gone(tmp_path) -> None:
    dead = _dead_pid()
    (tmp_path / f".agent.zip.rlzoo-{dead}-0a1b2c3d.tmp").write_bytes(b"x")
    (tmp_path / f".agent.zip.rlzoo-{dead}-0a1b2c3e.tmp").mkdir()
    (tmp_path / f".agent.zip.rlzoo-{dead}-0a1b2c3e.tmp" / "sb3_model.zip").write_bytes(b"x")
    alive = tmp_path / f".agent.zip.rlzoo-{os.getpid()}-0a1b2c3d.tmp"
    alive.write_bytes(b"in use")
    others = [tmp_path / "agent.zip", tmp_path / ".agent.zip.1234.tmp", tmp_path / f"rlzoo-{dead}-0a1b2c3d.tmp"]
    for other in others:
        other.write_bytes(b"not ours")
    removed = sweep_leftovers(tmp_path)
    assert len(removed) == 2
    assert sorted(tmp_path.iterdir()) == sorted([alive, *others])


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(trained_dqn, tmp_path, umask, mode) -> None:
    agent, _ = trained_dqn
    history = rlzoo.TrainingHistory(episodes=[(10, 10.0, 10), (30, 20.0, 20)], evaluations=[(30, 20.0, 1.0)])
    previous = os.umask(umask)
    try:
        rlzoo.save(agent, tmp_path / "agent.zip")
        write_episodes_csv(history, tmp_path / "episodes.csv")
        plot_learning_curve(history, tmp_path / "learning_curve.png", "test")
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"agent.zip": mode, "episodes.csv": mode, "learning_curve.png": mode}


def test_sb3_training_leaves_no_folder_in_the_system_temp_folder(tmp_path, private_tmp) -> None:
    agent = rlzoo.train("sb3-a2c", "CartPole-v1", total_timesteps=40, seed=0, eval_every=0, n_envs=1, n_steps=5)
    assert list(private_tmp.iterdir()) == []  # SB3 makes an empty SB3-<timestamp> folder per learn() by default
    loaded = rlzoo.load(rlzoo.save(agent, tmp_path / "a2c.zip"))
    loaded.learn(20)
    assert list(private_tmp.iterdir()) == []


SAVE_AND_LOAD_FOREVER = """
    import sys
    import rlzoo

    # About 25 MB of weights and Adam state: each save and load takes a noticeable moment.
    agent = rlzoo.make_agent("sb3-ppo", "CartPole-v1", seed=0, n_envs=1, n_steps=64, batch_size=64,
                             policy_kwargs={"net_arch": [1024, 1024]})
    print("ready", flush=True)
    while True:
        rlzoo.load(rlzoo.save(agent, sys.argv[1]))
"""


def _leftovers(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".rlzoo-" in p.name)


def test_nothing_survives_kill_9_during_save_or_load(tmp_path, private_tmp) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "agent.zip"
    rng = random.Random(0)
    seen: set[str] = set()
    for kill in range(2):  # each start costs seconds (torch); one kill in a save, one in a load
        process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(SAVE_AND_LOAD_FOREVER), str(target)],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(private_tmp)},
        )
        try:
            assert process.stdout.readline().strip() == "ready"
            # Alternate: kill while a save's temporaries exist beside the target, then while a
            # load's exist in the temp folder, each after a random extra moment.
            watched = out if kill % 2 == 0 else private_tmp
            deadline = time.monotonic() + 120
            while not _leftovers(watched) and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.2))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        seen.update(_leftovers(out) + _leftovers(private_tmp))
    assert seen, "no kill landed during a save or load: the test proved nothing"
    rlzoo.load(rlzoo.save(rlzoo.make_agent("sb3-ppo", "CartPole-v1", seed=0, n_envs=1, n_steps=64, batch_size=64), target))
    assert [p.name for p in out.iterdir()] == ["agent.zip"]
    # torch makes one empty torchinductor_<user> cache folder when the first optimizer is built,
    # the same folder on every run (torch's, not a leftover of a save or load).
    assert [p.name for p in private_tmp.iterdir() if not p.name.startswith("torchinductor_")] == []
