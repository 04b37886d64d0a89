"""Ray: every rlzoo error crosses process boundaries, an unreachable cluster fails fast in one line, lost workers are retried."""

from __future__ import annotations

import importlib
import inspect
import pathlib
import pickle
import pkgutil
import socket
import subprocess
import sys
import time

import pytest

import rlzoo
from rlzoo.errors import RLZooError
from rlzoo.experiments.executors import CONNECT_TIMEOUT, MAX_RETRIES, ClusterError, RayCluster


def _all_error_classes() -> list[type[RLZooError]]:
    for module in pkgutil.walk_packages(rlzoo.__path__, "rlzoo."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found, todo = set(), [RLZooError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


_SAMPLES = {"candidates": ["alpha", "beta"], "valid": ["lr", "gamma"], "extra": "ray", "value": 5}


def _instance(cls: type[RLZooError]) -> RLZooError:
    """An instance built the way rlzoo builds it: each parameter given a plausible value."""
    try:
        parameters = inspect.signature(cls).parameters
    except ValueError:  # Exception's own __init__: one message
        return cls("a message")
    arguments = []
    for name, parameter in parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.default is parameter.empty:
            arguments.append(_SAMPLES.get(name, f"the {name}"))
    return cls(*arguments)


ERRORS = _all_error_classes()


def test_the_error_classes_are_found() -> None:
    names = {cls.__name__ for cls in ERRORS}
    assert {
        "UnknownAgentError",
        "HyperparameterError",
        "MissingDependencyError",
        "ArtifactError",
        "GridError",
        "ClusterError",
        "ResultsIndexError",
    } <= names


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_every_rlzoo_error_round_trips_through_pickle(cls: type[RLZooError]) -> None:
    error = _instance(cls)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_retries_are_bounded_and_the_connect_timeout_is_30_s() -> None:
    cluster = RayCluster("127.0.0.1:6379")
    assert cluster.max_retries == MAX_RETRIES == 3
    assert cluster.connect_timeout == CONNECT_TIMEOUT == 30.0
    with pytest.raises(ClusterError, match="max_retries"):
        RayCluster("127.0.0.1:6379", max_retries=-1)


def test_an_unreachable_address_fails_at_once_in_one_line_and_leaves_no_folder(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "out"
    start = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlzoo.cli",
            "sweep",
            "--agents",
            "sb3-dqn",
            "--envs",
            "CartPole-v1",
            "--seeds",
            "1",
            "--ray",
            f"127.0.0.1:{_closed_port()}",
            "--out",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert time.monotonic() - start < CONNECT_TIMEOUT + 30  # the interpreter's start-up included
    assert result.returncode == 2
    assert result.stderr.startswith("rlzoo: error: cannot reach a Ray cluster") and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
