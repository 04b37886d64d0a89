"""The saved agent: atomic writes, and a clear ArtifactError for every bad file."""

import base64
import io
import json
import pathlib
import pickle
import zipfile

import pytest

import rlzoo
from rlzoo.artifact import FORMAT_VERSION, MANIFEST
from rlzoo.errors import ArtifactError


def _rewrite(source: pathlib.Path, target: pathlib.Path, change) -> pathlib.Path:
    """Copy an artifact, letting ``change(name, bytes) -> bytes | None`` edit or drop members."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            data = change(name, old.read(name))
            if data is not None:
                new.writestr(name, data)
    return target


def test_artifact_is_one_zip_with_a_readable_manifest(trained_dqn) -> None:
    agent, path = trained_dqn
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        assert "payload/sb3_model.zip" in archive.namelist()
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["agent"] == "sb3-dqn"
    assert manifest["env_id"] == "CartPole-v1"
    assert manifest["hyperparams"]["learning_rate"] == 0.0023
    assert manifest["num_timesteps"] == agent.num_timesteps
    assert {"rlzoo", "gymnasium", "numpy", "stable-baselines3", "torch"} <= set(manifest["versions"])


def test_last_evaluation_is_recorded_and_restored(trained_dqn, tmp_path) -> None:
    agent, _ = trained_dqn
    result = rlzoo.evaluate(agent, n_episodes=3, seed=0)
    agent.last_evaluation = result
    try:
        path = rlzoo.save(agent, tmp_path / "with_eval")
    finally:
        agent.last_evaluation = None
    assert path == tmp_path / "with_eval.zip"  # .zip added to a bare name
    assert rlzoo.load(path).last_evaluation == result


def test_truncated_file_is_a_clear_error(trained_dqn, tmp_path) -> None:
    _, path = trained_dqn
    broken = tmp_path / "truncated.zip"
    broken.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ArtifactError, match=r"truncated\.zip.*not a readable zip file"):
        rlzoo.load(broken)


def test_corrupted_manifest_is_a_clear_error(trained_dqn, tmp_path) -> None:
    _, path = trained_dqn
    broken = _rewrite(path, tmp_path / "corrupt.zip", lambda n, d: b"{not json" if n == MANIFEST else d)
    with pytest.raises(ArtifactError, match=r"corrupt\.zip.*rlzoo\.json is corrupted"):
        rlzoo.load(broken)


def test_foreign_zip_is_a_clear_error(tmp_path) -> None:
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ArtifactError, match=r"foreign\.zip.*not an agent saved by rlzoo"):
        rlzoo.load(foreign)


def test_not_a_zip_is_a_clear_error(tmp_path) -> None:
    text = tmp_path / "notes.zip"
    text.write_text("just text")
    with pytest.raises(ArtifactError, match=r"notes\.zip.*not a readable zip file"):
        rlzoo.load(text)


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ArtifactError, match=r"nothere\.zip.*no such file"):
        rlzoo.load(tmp_path / "nothere.zip")


def test_newer_format_version_is_a_clear_error(trained_dqn, tmp_path) -> None:
    _, path = trained_dqn

    def bump(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["format_version"] = FORMAT_VERSION + 1
        return json.dumps(manifest).encode()

    newer = _rewrite(path, tmp_path / "newer.zip", bump)
    with pytest.raises(ArtifactError, match=r"newer\.zip.*format version 2, newer than this rlzoo reads \(1\): upgrade rlzoo"):
        rlzoo.load(newer)


def test_agent_that_is_not_installed_is_a_clear_error(trained_dqn, tmp_path) -> None:
    _, path = trained_dqn

    def rename(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["agent"] = "sb3-dqx"
        return json.dumps(manifest).encode()

    other = _rewrite(path, tmp_path / "other.zip", rename)
    with pytest.raises(ArtifactError, match=r"other\.zip.*unknown agent 'sb3-dqx': did you mean 'sb3-dqn'.*installed"):
        rlzoo.load(other)


class _Exploit:
    """Unpickling this writes a marker file: proof that code from the artifact ran."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.write_text, (self.marker, "pwned"))


def _poison(path: pathlib.Path, target: pathlib.Path, key: str, marker: pathlib.Path) -> pathlib.Path:
    blob = base64.b64encode(pickle.dumps(_Exploit(marker))).decode()

    def change(name, data):
        if name != "payload/sb3_model.zip":
            return data
        inner_out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as inner, zipfile.ZipFile(inner_out, "w") as new:
            for member in inner.namelist():
                content = inner.read(member)
                if member == "data":
                    fields = json.loads(content)
                    fields[key] = {":type:": "x", ":serialized:": blob}
                    content = json.dumps(fields).encode()
                new.writestr(member, content)
        return inner_out.getvalue()

    return _rewrite(path, target, change)


@pytest.mark.parametrize("key", ["policy_class", "observation_space", "lr_schedule"])
def test_loading_never_unpickles_known_sb3_objects(trained_dqn, tmp_path, key) -> None:
    _, path = trained_dqn
    marker = tmp_path / "marker"
    loaded = rlzoo.load(_poison(path, tmp_path / "poisoned.zip", key, marker))
    assert not marker.exists(), "loading executed code from the file"
    assert loaded.predict(loaded.env.observation_space.sample()) in (0, 1)


def test_loading_refuses_unknown_pickled_sb3_objects(trained_dqn, tmp_path) -> None:
    _, path = trained_dqn
    marker = tmp_path / "marker"
    poisoned = _poison(path, tmp_path / "poisoned.zip", "surprise", marker)
    with pytest.raises(ArtifactError, match=r"pickled objects rlzoo cannot rebuild \(surprise\): refusing to unpickle"):
        rlzoo.load(poisoned)
    assert not marker.exists()


def test_a_failed_save_leaves_the_good_file_in_place(trained_dqn, tmp_path, monkeypatch) -> None:
    agent, path = trained_dqn
    target = tmp_path / "good.zip"
    target.write_bytes(path.read_bytes())
    before = target.read_bytes()

    def disk_full(directory):
        (directory / "half").write_bytes(b"x" * 100)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(agent, "write_payload", disk_full)
    with pytest.raises(OSError, match="No space left"):
        rlzoo.save(agent, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.zip"]  # no temporary file left behind
