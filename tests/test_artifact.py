"""The saved agent: atomic writes, and a clear ArtifactError for every bad file."""

import base64
import errno
import io
import json
import os
import pathlib
import pickle
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile

import pytest

import rlzoo
import rlzoo.artifact
from rlzoo.manifest import FORMAT_VERSION, MANIFEST
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


def test_a_full_disk_keeps_the_good_file_and_is_an_artifact_error(trained_dqn, tmp_path, monkeypatch) -> None:
    agent, path = trained_dqn
    target = tmp_path / "good.zip"
    target.write_bytes(path.read_bytes())
    before = target.read_bytes()

    def disk_full(directory):
        (directory / "half").write_bytes(b"x" * 100)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(agent, "write_payload", disk_full)
    with pytest.raises(ArtifactError, match=r"cannot save '.*good\.zip': No space left on device \(the file already there is unchanged\)"):
        rlzoo.save(agent, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.zip"]  # no temporary file or folder left behind


def test_a_full_disk_while_syncing_the_zip_is_an_artifact_error(trained_dqn, tmp_path, monkeypatch) -> None:
    agent, path = trained_dqn
    target = tmp_path / "good.zip"
    target.write_bytes(path.read_bytes())

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(ArtifactError, match="No space left on device"):
        rlzoo.save(agent, target)
    assert target.read_bytes() == path.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.zip"]


# -- a saved file is a trust boundary ----------------------------------------------------------
def _with_manifest(source: pathlib.Path, target: pathlib.Path, **fields) -> pathlib.Path:
    """A copy of an artifact with some manifest fields replaced (a value of ``...`` deletes the field)."""

    def change(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        for key, value in fields.items():
            if value is ...:
                manifest.pop(key, None)
            else:
                manifest[key] = value
        return json.dumps(manifest).encode()

    return _rewrite(source, target, change)


MARKER_MODULE = "import pathlib\npathlib.Path(__file__).with_name('marker').write_text('imported')\nCartPole = None\n"


@pytest.mark.parametrize("env_id", ["this:CartPole-v1", "mod:Env", "mod:CartPole-v1", "mod"])
def test_loading_never_imports_a_module_the_env_id_names(trained_dqn, tmp_path, monkeypatch, env_id) -> None:
    _, path = trained_dqn
    (tmp_path / "mod.py").write_text(MARKER_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    hostile = _with_manifest(path, tmp_path / "hostile.zip", env_id=env_id)
    modules_before = set(sys.modules)
    with pytest.raises(ArtifactError, match=r"hostile\.zip.*field 'env_id'.*registered with rlzoo or Gymnasium"):
        rlzoo.load(hostile)
    assert not (tmp_path / "marker").exists()
    assert {"mod", "this"}.isdisjoint(set(sys.modules) - modules_before)


def test_rlzoo_evaluate_never_imports_a_module_the_file_names(trained_dqn, tmp_path) -> None:
    _, path = trained_dqn
    (tmp_path / "mod.py").write_text(MARKER_MODULE)
    _with_manifest(path, tmp_path / "hostile.zip", env_id="mod:Env")
    result = subprocess.run([sys.executable, "-m", "rlzoo.cli", "evaluate", "hostile.zip", "--episodes", "1"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "rlzoo: error: cannot load 'hostile.zip'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "marker").exists()


@pytest.mark.parametrize("agent", ["rlzoo.agents.sb3:SB3PPO", "mod:CartPole", "os:system"])
def test_the_agent_name_is_looked_up_never_imported(trained_dqn, tmp_path, monkeypatch, agent) -> None:
    _, path = trained_dqn
    (tmp_path / "mod.py").write_text(MARKER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    hostile = _with_manifest(path, tmp_path / "hostile.zip", agent=agent)
    with pytest.raises(ArtifactError, match=r"hostile\.zip.*unknown agent"):
        rlzoo.load(hostile)
    assert not (tmp_path / "marker").exists()


def test_an_unregistered_env_id_is_a_clear_error(trained_dqn, tmp_path) -> None:
    _, path = trained_dqn
    with pytest.raises(ArtifactError, match=r"field 'env_id' is \"NoSuchEnv-v0\": expected an env id already registered"):
        rlzoo.load(_with_manifest(path, tmp_path / "unknown.zip", env_id="NoSuchEnv-v0"))


BAD_FIELDS = [
    ("format_version", 0), ("format_version", -7), ("format_version", True), ("format_version", "1"),
    ("format_version", 1.0), ("format_version", ...),
    ("num_timesteps", -1), ("num_timesteps", 1.5), ("num_timesteps", True), ("num_timesteps", "10"),
    ("seed", -1), ("seed", 1.5), ("seed", "abc"), ("seed", True), ("seed", 2**40),
    ("agent", 5), ("agent", ""), ("agent", None),
    ("env_id", 123), ("env_id", ""), ("env_id", ["CartPole-v1"]),
    ("env_kwargs", []), ("env_kwargs", "x"), ("hyperparams", None), ("hyperparams", [1]),
    ("versions", "x"),
    ("last_evaluation", "abc"), ("last_evaluation", [1, 2]),
    ("last_evaluation", {"returns": "abc", "lengths": [1, 1, 1]}),
    ("last_evaluation", {"returns": [1.0, 2.0], "lengths": [1]}),
    ("last_evaluation", {"returns": [1.0], "lengths": [-1]}),
    ("last_evaluation", {"returns": [True], "lengths": [1]}),
    ("last_evaluation", {"returns": [], "lengths": []}),
    ("last_evaluation", {"returns": [1.0], "lengths": [1], "per_agent": {"a": [1.0, 2.0]}}),
    ("last_evaluation", {"returns": [1.0], "lengths": [1], "per_agent": {"a": ["x"]}}),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS, ids=[f"{f}={v!r}" for f, v in BAD_FIELDS])
def test_every_manifest_field_is_checked_by_type_and_range(trained_dqn, tmp_path, field, value) -> None:
    _, path = trained_dqn
    bad = _with_manifest(path, tmp_path / "bad.zip", **{field: value})
    expected = rf"field '{field}.*expected"
    with pytest.raises(ArtifactError, match=rf"bad\.zip.*{expected}"):
        rlzoo.load(bad)


def test_non_finite_returns_in_the_last_evaluation_are_refused(trained_dqn, tmp_path) -> None:
    _, path = trained_dqn
    bad = _with_manifest(path, tmp_path / "nan.zip", last_evaluation={"returns": [float("nan")], "lengths": [1]})
    with pytest.raises(ArtifactError, match=r"last_evaluation'\.returns.*finite numbers"):
        rlzoo.load(bad)


def test_a_deeply_nested_manifest_is_a_clear_error(trained_dqn, tmp_path) -> None:
    _, path = trained_dqn

    def nest(name, data):
        if name != MANIFEST:
            return data
        return data.replace(b'"env_kwargs": {}', b'"env_kwargs": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")

    deep = _rewrite(path, tmp_path / "deep.zip", nest)
    with pytest.raises(ArtifactError, match=r"deep\.zip.*nested too deeply"):
        rlzoo.load(deep)
    moderately = _with_manifest(path, tmp_path / "deep2.zip", env_kwargs={"x": json.loads("[" * 40 + "]" * 40)})
    with pytest.raises(ArtifactError, match=r"deep2\.zip.*nested too deeply \(at most 32 levels\)"):
        rlzoo.load(moderately)


BAD_SETTINGS = [
    {"hyperparams": {"policy": "NoSuchPolicy"}},
    {"hyperparams": {"learning_rate": "abc"}},
    {"hyperparams": {"n_envs": "x"}},
    {"hyperparams": {"frame_stack": "x"}},
    {"hyperparams": {"policy_kwargs": {"net_arch": [-1]}}},
    {"hyperparams": {"seed": 3}},
    {"env_kwargs": {"bogus": 1}},
]


@pytest.mark.parametrize("fields", BAD_SETTINGS, ids=[json.dumps(f) for f in BAD_SETTINGS])
def test_settings_the_agent_cannot_be_built_from_are_an_artifact_error(trained_dqn, tmp_path, fields) -> None:
    _, path = trained_dqn
    manifest = json.loads(zipfile.ZipFile(path).read(MANIFEST))
    for key, value in fields.items():
        manifest[key] = {**manifest[key], **value}
    bad = _with_manifest(path, tmp_path / "bad.zip", **{key: manifest[key] for key in fields})
    with pytest.raises(ArtifactError, match=r"bad\.zip.*cannot rebuild agent 'sb3-dqn' from its recorded settings"):
        rlzoo.load(bad)


MEMORY_HOGS = [
    {"buffer_size": 1e11}, {"buffer_size": 10**11}, {"memory_limit": 1e12}, {"n_steps": 10**9},
    {"n_envs": 100_000}, {"frame_stack": 10**6}, {"buffer_size": float("inf")},
    {"policy_kwargs": {"net_arch": [100_000, 100_000]}}, {"policy_kwargs": {"net_arch": {"pi": [20_000, 20_000]}}},
    {"hidden_layers": [10**7]},
]


@pytest.mark.parametrize("hyperparams", MEMORY_HOGS, ids=[repr(h) for h in MEMORY_HOGS])
def test_memory_hungry_sizes_from_a_file_are_refused_before_anything_is_built(trained_dqn, tmp_path, hyperparams) -> None:
    _, path = trained_dqn
    hog = _with_manifest(path, tmp_path / "hog.zip", hyperparams=hyperparams)
    start = time.perf_counter()
    with pytest.raises(ArtifactError, match=r"hog\.zip.*(above what rlzoo accepts from a file|larger than rlzoo accepts)"):
        rlzoo.load(hog)
    assert time.perf_counter() - start < 5


def test_load_refuses_what_is_not_a_regular_file(tmp_path) -> None:
    fifo = tmp_path / "agent.fifo"
    os.mkfifo(fifo)
    for path, kind in (("/dev/zero", "a device"), (tmp_path, "a directory"), (fifo, "a FIFO")):
        start = time.perf_counter()
        with pytest.raises(ArtifactError, match=rf"it is {kind}, not a regular file"):
            rlzoo.load(path)
        assert time.perf_counter() - start < 2


def _artifact_with_members(source: pathlib.Path, target: pathlib.Path, members: list[tuple[str, bytes]]) -> pathlib.Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names these tests write on purpose
        new.writestr(MANIFEST, old.read(MANIFEST))
        for name, data in members:
            new.writestr(name, data)
    return target


ODD_MEMBERS = [
    [("/payload/sb3_model.zip", b"x")],
    [("payload/../../escape", b"x")],
    [("payload/..\\..\\escape", b"x")],
    [("payload/./sb3_model.zip", b"x")],
    [("payload//sb3_model.zip", b"x")],
    [("payload/sb3_model.zip", b"x"), ("payload/sb3_model.zip", b"y")],
    [("payload/Model.h5", b"x"), ("payload/model.h5", b"y")],
    [("payload/a", b"x"), ("payload/a/b", b"y")],
    [("payload/a/b", b"x"), ("payload/a", b"y")],
    [("payload/bad\x01name", b"x")],
    [("elsewhere.txt", b"x")],
    [(MANIFEST, b"{}")],
]


@pytest.mark.parametrize("members", ODD_MEMBERS, ids=[" + ".join(n for n, _ in m) for m in ODD_MEMBERS])
def test_odd_member_names_are_an_artifact_error(trained_dqn, tmp_path, members) -> None:
    _, path = trained_dqn
    odd = _artifact_with_members(path, tmp_path / "odd.zip", members)
    with pytest.raises(ArtifactError, match=r"odd\.zip.*member"):
        rlzoo.load(odd)
    assert not (tmp_path / "escape").exists()


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> pathlib.Path:
    """The system temp folder, made private to this test, to see what loading leaves there."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _bomb(source: pathlib.Path, target: pathlib.Path, size: int) -> pathlib.Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as new:
        new.writestr(MANIFEST, old.read(MANIFEST))
        with new.open("payload/sb3_model.zip", "w", force_zip64=True) as member:
            zeros = bytes(2**20)
            for _ in range(size // len(zeros)):
                member.write(zeros)
    return target


@pytest.fixture(scope="module")
def bomb(trained_dqn, tmp_path_factory) -> pathlib.Path:
    """A 64 KiB artifact whose payload member inflates to 64 MiB of zeros."""
    _, path = trained_dqn
    return _bomb(path, tmp_path_factory.mktemp("bomb") / "bomb.zip", 64 * 2**20)


def test_a_zip_bomb_is_refused_quickly_and_leaves_nothing(bomb, private_tmp) -> None:
    assert bomb.stat().st_size < 2**20
    start = time.perf_counter()
    with pytest.raises(ArtifactError, match=r"bomb\.zip.*member 'payload/sb3_model\.zip' inflates \d+ times.*limit of 100"):
        rlzoo.load(bomb)
    assert time.perf_counter() - start < 2
    assert list(private_tmp.iterdir()) == []


def test_the_total_unpacked_size_is_capped_before_anything_is_unpacked(bomb, private_tmp) -> None:
    start = time.perf_counter()
    with pytest.raises(ArtifactError, match=r"bomb\.zip.*unpacks to more than 33554432 bytes"):
        rlzoo.load(bomb, max_bytes=32 * 2**20)
    assert time.perf_counter() - start < 2
    assert list(private_tmp.iterdir()) == []


def test_the_size_cap_is_a_parameter(trained_dqn, tmp_path) -> None:
    _, path = trained_dqn
    with pytest.raises(ArtifactError, match=r"more than the limit of 1000 \(pass max_bytes= to raise it\)"):
        rlzoo.load(path, max_bytes=1000)
    assert rlzoo.load(path, max_bytes=path.stat().st_size * 10).name == "sb3-dqn"


def test_a_member_whose_declared_size_lies_is_refused(trained_dqn, tmp_path, private_tmp) -> None:
    _, path = trained_dqn
    data = bytearray(path.read_bytes())
    name = b"payload/sb3_model.zip"
    entry = data.index(b"PK\x01\x02")  # central directory entries: signature, then the name at offset 46
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24 : entry + 28] = (10).to_bytes(4, "little")  # its uncompressed size now claims 10 bytes
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"liar\.zip"):
        rlzoo.load(liar)
    assert list(private_tmp.iterdir()) == []


def test_a_full_temp_folder_while_unpacking_is_an_artifact_error(trained_dqn, monkeypatch, private_tmp) -> None:
    _, path = trained_dqn

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rlzoo.artifact, "open", no_space, raising=False)
    with pytest.raises(ArtifactError, match=r"cannot unpack 'payload/sb3_model\.zip' into the temp folder .*No space left"):
        rlzoo.load(path)
    assert list(private_tmp.iterdir()) == []


@pytest.fixture(scope="module")
def ppo_and_a2c(tmp_path_factory):
    folder = tmp_path_factory.mktemp("algorithms")
    ppo = rlzoo.save(rlzoo.make_agent("sb3-ppo", "CartPole-v1", seed=0), folder / "ppo.zip")
    a2c = rlzoo.save(rlzoo.make_agent("sb3-a2c", "CartPole-v1", seed=0), folder / "a2c.zip")
    return ppo, a2c


def test_a_payload_of_another_algorithm_is_refused(ppo_and_a2c, tmp_path) -> None:
    ppo, a2c = ppo_and_a2c
    a2c_payload = zipfile.ZipFile(a2c).read("payload/sb3_model.zip")
    swapped = _rewrite(ppo, tmp_path / "swapped.zip", lambda n, d: a2c_payload if n == "payload/sb3_model.zip" else d)
    with pytest.raises(ArtifactError, match=r"swapped\.zip.*'sb3-ppo' payload is refused: it is not an SB3 PPO model as rlzoo\.json says \(it lacks .*clip_range"):
        rlzoo.load(swapped)


def test_a_payload_whose_weights_do_not_fit_the_manifests_architecture_is_refused(ppo_and_a2c, tmp_path) -> None:
    ppo, _ = ppo_and_a2c
    manifest = json.loads(zipfile.ZipFile(ppo).read(MANIFEST))
    narrow = _with_manifest(ppo, tmp_path / "narrow.zip", hyperparams={**manifest["hyperparams"], "policy_kwargs": {"net_arch": [8]}})
    with pytest.raises(ArtifactError, match=r"narrow\.zip.*policy weights do not fit the PPO policy built from rlzoo\.json.*\(64, 4\) in the file, \(8, 4\) as built"):
        rlzoo.load(narrow)


def test_the_manifest_not_the_payload_decides_the_hyperparameters(ppo_and_a2c, tmp_path) -> None:
    ppo, _ = ppo_and_a2c
    manifest = json.loads(zipfile.ZipFile(ppo).read(MANIFEST))
    edited = _with_manifest(ppo, tmp_path / "edited.zip", hyperparams={**manifest["hyperparams"], "ent_coef": 0.123})
    assert rlzoo.load(edited).model.ent_coef == 0.123


def test_kerasrl2_weights_that_do_not_fit_the_manifests_network_are_refused(tmp_path) -> None:
    agent = rlzoo.make_agent("kerasrl2-dqn", "CartPole-v1", seed=0)
    path = rlzoo.save(agent, tmp_path / "dqn.zip")
    narrow = _with_manifest(path, tmp_path / "narrow.zip", hyperparams={**agent.hyperparams, "hidden_layers": [8]})
    with pytest.raises(ArtifactError, match=r"narrow\.zip.*'kerasrl2-dqn' payload is refused: its weight shapes .*\(4, 24\).* do not fit .*\(4, 8\)"):
        rlzoo.load(narrow)
