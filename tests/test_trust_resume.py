"""Resuming from a tampered checkpoint is refused as one CheckpointError, never a hang, a
raw error or a message that prints what an untrusted file holds."""

from __future__ import annotations

import io
import json
import os
import pathlib
import shutil
import zipfile

import numpy as np
import pytest
import torch

import rlzoo
from rlzoo.checkpoint import latest_checkpoint, read_checkpoint
from rlzoo.errors import CheckpointError
from rlzoo.training import resume


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A tiny sb3-dqn run with a replay buffer and best weights (it updates from step 12, so weights may be kept), checkpointed."""
    folder = tmp_path_factory.mktemp("ckpt") / "base"
    rlzoo.train("sb3-dqn", "CartPole-v1", total_timesteps=200, eval_every=100, eval_episodes=1, checkpoint_every=100,
                checkpoint_dir=folder, learning_starts=10, buffer_size=1000, train_freq=4, gradient_steps=1, seed=0)  # fmt: skip
    return folder


def edit_manifest(step: pathlib.Path, edit) -> None:
    manifest = json.loads((step / "checkpoint.json").read_text())
    edit(manifest)
    (step / "checkpoint.json").write_text(json.dumps(manifest))


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def _pickle_in_policy(step: pathlib.Path) -> None:
    model = next(p for p in (step / "payload").rglob("*.zip"))
    with zipfile.ZipFile(model) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    buffer = io.BytesIO()
    torch.save({"x": Evil()}, buffer)
    members["policy.pth"] = buffer.getvalue()
    with zipfile.ZipFile(model, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _best_weights_of_another_shape(step: pathlib.Path) -> None:
    with np.load(step / "best_weights.npz") as arrays:
        saved = {key: arrays[key] for key in arrays.files}
    saved[next(iter(saved))] = np.zeros((3, 3), np.float32)
    np.savez(step / "best_weights.npz", **saved)


def _replay_position(step: pathlib.Path) -> None:
    for path in (step / "state").rglob("*.json"):
        state = json.loads(path.read_text())
        if "replay_buffer" in state:
            state["replay_buffer"]["pos"] = 10**12
            path.write_text(json.dumps(state))


TAMPERINGS = {
    "latest is a FIFO": lambda folder, step: ((folder / "latest").unlink(), os.mkfifo(folder / "latest")),
    "latest links to /dev/zero": lambda folder, step: ((folder / "latest").unlink(), os.symlink("/dev/zero", folder / "latest")),
    "checkpoint.json nested 100,000 deep": lambda folder, step: (step / "checkpoint.json").write_text("[" * 100_000 + "]" * 100_000),
    "negative num_timesteps": lambda folder, step: edit_manifest(step, lambda m: m["run"].__setitem__("num_timesteps", -5)),
    "num_timesteps 1e12": lambda folder, step: edit_manifest(step, lambda m: m["run"].__setitem__("num_timesteps", 10**12)),
    "negative checkpoint_every": lambda folder, step: edit_manifest(
        step, lambda m: m["settings"]["train"].__setitem__("checkpoint_every", -5)
    ),
    "truncated rng.npz": lambda folder, step: (step / "rng.npz").write_bytes((step / "rng.npz").read_bytes()[:100]),
    "best weights of another shape": lambda folder, step: _best_weights_of_another_shape(step),
    "replay position 1e12": lambda folder, step: _replay_position(step),
    "a pickle in the SB3 policy.pth": lambda folder, step: _pickle_in_policy(step),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_a_tampered_checkpoint_is_one_checkpoint_error(checkpoint_dir, tmp_path, tampering) -> None:
    folder = tmp_path / "run"
    shutil.copytree(checkpoint_dir, folder)
    TAMPERINGS[tampering](folder, latest_checkpoint(checkpoint_dir).name and folder / latest_checkpoint(checkpoint_dir).name)
    with pytest.raises(CheckpointError) as caught:
        resume(folder)
    assert "weights_only=False" not in str(caught.value)


def test_a_latest_linked_to_a_private_file_is_refused_without_its_contents(checkpoint_dir, tmp_path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(checkpoint_dir, folder)
    secret = tmp_path / "secret"
    secret.write_text("root:x:0:0:the-secret-line\n")
    (folder / "latest").unlink()
    os.symlink(secret, folder / "latest")
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(folder)
    assert "the-secret-line" not in str(caught.value) and len(str(caught.value)) < 300
