"""``rlzoo.tune`` refuses bad storages, study names, search spaces and arguments before any
worker starts, each as one kind of RLZooError that says what would be right."""

from __future__ import annotations

import pathlib

import optuna
import pytest

import rlzoo
from rlzoo.errors import ArgumentError, RLZooError, SearchSpaceError, StudyError

SPACE = {"learning_rate": {"type": "float", "low": 1e-4, "high": 1e-3}}


def tune(tmp_path: pathlib.Path, **kwargs):
    args = {"trials": 1, "steps": 64, "out": tmp_path / "out", "space": SPACE, "pruner": "none", **kwargs}
    return rlzoo.tune(args.pop("agent", "sb3-ppo"), args.pop("env", "CartPole-v1"), **args)


@pytest.mark.parametrize(("storage", "says"), [
    ("nosuch://host/db", "unknown database dialect 'nosuch'"),
    ("sqlite:////dev/null", "not a regular file"),
    ("journal:/dev/null", "not a regular file"),
    ("postgresql://user:secret@localhost/db", "driver is not installed"),
    ("sqlite://", "in-memory"),
    ("sqlite:///:memory:", "in-memory"),
    ("", "must be a URL"),
    (5, "must be a URL"),
])  # fmt: skip
def test_a_storage_no_worker_can_use_is_refused(tmp_path, storage, says) -> None:
    with pytest.raises(StudyError, match=says) as caught:
        tune(tmp_path, storage=storage)
    assert "secret" not in str(caught.value)  # a password in the URL is never echoed


def test_a_file_that_is_not_sqlite_is_refused_as_storage(tmp_path) -> None:
    (tmp_path / "notes.db").write_text("hello")
    with pytest.raises(StudyError, match="not an SQLite database"):
        tune(tmp_path, storage=f"sqlite:///{tmp_path / 'notes.db'}")


@pytest.mark.parametrize(("kind", "says"), [
    ("minimize", "minimises"), ("multi", "2 objectives"), ("dqn", "tunes 'sb3-dqn' on 'CartPole-v1'"),
])  # fmt: skip
def test_joining_a_study_that_is_not_this_tunings_is_refused(tmp_path, kind, says) -> None:
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    if kind == "multi":
        optuna.create_study(storage=storage, study_name="s", directions=["maximize", "maximize"])
    else:
        study = optuna.create_study(storage=storage, study_name="s", direction="minimize" if kind == "minimize" else "maximize")
        study.set_user_attr("rlzoo", {"agent": "sb3-dqn", "env": "CartPole-v1"})
    with pytest.raises(StudyError, match=says) as caught:
        tune(tmp_path, storage=storage, study_name="s")
    assert "--force" in str(caught.value)


@pytest.mark.parametrize("name", ["..", ".", "", "x" * 600, 7])
def test_a_study_name_that_would_write_outside_out_or_is_not_a_name_is_refused(tmp_path, name) -> None:
    with pytest.raises(StudyError):
        tune(tmp_path, study_name=name)
    assert not (tmp_path / "study.db").exists()


@pytest.mark.parametrize(("text", "says"), [
    ("lr: {type: float, low: abc, high: 1}", "finite numbers"),
    ("a: {type: int, low: 1, high: 3}\nb: {type: int, low: 1, high: 3, when: 5}", "'when' must be a mapping"),
    ("x: {type: int, low: 1.5, high: 3.5}", "whole numbers"),
    ("x: {type: float, low: 0, high: 1, log: true}", "log scale needs low > 0"),
    ("x: {type: categorical, choices: [[1, 2]]}", "plain values"),
    ("x: {type: float, low: 1, high: 2, bogus: 1}", "unknown keys"),
    ("- 1\n- 2", "mapping of hyperparameter names"),
])  # fmt: skip
def test_a_malformed_search_space_names_the_entry_and_the_fix(tmp_path, text, says) -> None:
    (tmp_path / "space.yml").write_text(text)
    with pytest.raises(SearchSpaceError, match=says):
        tune(tmp_path, space=tmp_path / "space.yml")


@pytest.mark.parametrize(("space", "says"), [("/dev/zero", "not a regular file"), ("python", "tag !!python/object")])
def test_a_space_file_that_is_a_device_or_asks_for_python_objects_is_explained(tmp_path, space, says) -> None:
    if space == "python":
        space = tmp_path / "space.yml"
        space.write_text("x: !!python/object:os.system {}")
    with pytest.raises(RLZooError, match=says):
        tune(tmp_path, space=space)


@pytest.mark.parametrize("kwargs", [
    {"trials": True}, {"pruner": 5}, {"sampler": "foo"}, {"trials": 1.5}, {"steps": -1}, {"timeout": float("nan")},
    {"n_jobs": 0}, {"seed": 2**64}, {"seeds_per_trial": "2"}, {"out": None}, {"force": "yes"}, {"space": 5}, {"enqueue": 5},
])  # fmt: skip
def test_arguments_of_the_wrong_type_or_range_are_refused(tmp_path, kwargs) -> None:
    with pytest.raises(ArgumentError):
        tune(tmp_path, **kwargs)
    assert not (tmp_path / "out").exists()
