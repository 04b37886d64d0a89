"""One YAML reader for preset files, sweep grids, search spaces and ``--set`` values: YAML 1.2 numbers, bounded files."""

import os
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

import rlzoo
from rlzoo.cli.common import UsageError, parse_set
from rlzoo.errors import RLZooError
from rlzoo.experiments.grid import GridError, load_grid
from rlzoo.presets import load_presets
from rlzoo.tuning.spaces import space_for
from rlzoo.yamlfile import MAX_CONFIG_BYTES, load

# Numbers that YAML 1.1 (PyYAML's safe_load) reads as strings or not as Python would.
NUMBERS = {"a": "1e-3", "b": "1E5", "c": ".5", "d": "inf", "e": "010"}
EXPECTED = {"a": 0.001, "b": 100000.0, "c": 0.5, "d": float("inf"), "e": 10}


def _mapping() -> str:
    return "{" + ", ".join(f"{key}: {text}" for key, text in NUMBERS.items()) + "}"


def _same_numbers(values: dict[str, Any]) -> None:
    assert values == EXPECTED
    assert all(type(values[key]) is type(EXPECTED[key]) for key in EXPECTED)  # 1E5 a float, 010 an int


# -- the four users read numbers the way Python does -------------------------------------------
def test_a_preset_file_reads_e_notation_as_floats(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "preset.yml"
    path.write_text(f"CartPole-v1:\n  train: {{total_timesteps: 1e3}}\n  hyperparams: {_mapping()}\n")

    preset = load_presets(path)["CartPole-v1"]

    _same_numbers(preset.hyperparams)
    assert preset.train == {"total_timesteps": 1000}  # a whole float is a count
    assert isinstance(preset.train["total_timesteps"], int)


def test_learning_rate_1e_3_in_a_preset_file_builds_the_agent(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "preset.yml"
    path.write_text("CartPole-v1:\n  hyperparams: {learning_rate: 1e-3, n_steps: 8}\n")

    agent = rlzoo.make_agent("sb3-a2c", "CartPole-v1", seed=0, preset=path)

    assert agent.hyperparams["learning_rate"] == 0.001


def test_a_grid_file_reads_e_notation_as_floats(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "grid.yml"
    path.write_text(f"seeds: 1\nsteps: 1E3\nruns:\n  - agents: [sb3-ppo]\n    envs: [CartPole-v1]\n    set: {_mapping()}\n")

    (spec,) = load_grid(path, steps=1000)

    _same_numbers(spec.hyperparams)


def test_a_search_space_file_reads_e_notation_as_floats(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "space.yml"
    path.write_text("learning_rate: {type: float, low: 1e-5, high: 1E-3, log: true}\nent_coef: {type: float, low: .5, high: inf}\n")

    space = space_for("sb3-ppo", path)

    assert space["learning_rate"] == {"type": "float", "low": 1e-5, "high": 1e-3, "log": True}
    assert space["ent_coef"] == {"type": "float", "low": 0.5, "high": float("inf")}


def test_a_set_value_reads_e_notation_as_floats() -> None:
    _same_numbers(parse_set([f"{key}={text}" for key, text in NUMBERS.items()]))


def test_quoted_numbers_and_yaml_1_1_booleans_stay_strings(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "preset.yml"
    path.write_text("CartPole-v1:\n  hyperparams: {a: '1e-3', b: no, c: on, d: true}\n")

    assert load_presets(path)["CartPole-v1"].hyperparams == {"a": "1e-3", "b": "no", "c": "on", "d": True}


# -- bounded, regular files and one-line errors, for every file reader --------------------------
READERS: dict[str, Callable[[pathlib.Path], object]] = {
    "preset file": load_presets,
    "grid file": load_grid,
    "search space file": lambda path: space_for("sb3-ppo", path),
}


@pytest.fixture(params=sorted(READERS))
def reader(request: pytest.FixtureRequest) -> tuple[str, Callable[[pathlib.Path], object]]:
    return request.param, READERS[request.param]


def test_a_file_over_the_size_cap_is_refused_before_parsing(tmp_path: pathlib.Path, reader) -> None:
    what, read = reader
    path = tmp_path / "big.yml"
    path.write_text("# padding\n" * (MAX_CONFIG_BYTES // 10 + 1))  # a valid YAML document of comments, over 1 MiB

    with pytest.raises(RLZooError, match=rf"cannot read the {what} .*big.yml: it is larger than {MAX_CONFIG_BYTES} bytes"):
        read(path)


def test_a_file_at_the_size_cap_is_read(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cap.yml"
    body = "a: 1e-3\n"
    path.write_text(body + "#" * (MAX_CONFIG_BYTES - len(body)))

    assert load(path, "test file") == {"a": 0.001}


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: pathlib.Path, reader) -> None:
    what, read = reader
    path = tmp_path / "pipe.yml"
    os.mkfifo(path)

    with pytest.raises(RLZooError, match=rf"cannot read the {what} .*pipe.yml: it is not a regular file"):
        read(path)


def test_a_folder_is_refused(tmp_path: pathlib.Path, reader) -> None:
    what, read = reader
    path = tmp_path / "folder.yml"
    path.mkdir()

    with pytest.raises(RLZooError, match=rf"cannot read the {what} .*folder.yml: it is not a regular file"):
        read(path)


def test_a_missing_file_says_so(tmp_path: pathlib.Path, reader) -> None:
    what, read = reader

    with pytest.raises(RLZooError, match=rf"cannot read the {what} .*missing.yml: No such file or directory"):
        read(tmp_path / "missing.yml")


def test_a_syntax_error_is_one_line_with_its_position(tmp_path: pathlib.Path, reader) -> None:
    what, read = reader
    path = tmp_path / "broken.yml"
    path.write_text("runs:\n  - agents: [sb3-ppo\n")

    with pytest.raises(RLZooError, match=rf"cannot read the {what} .*broken.yml: line 3, column 1: not valid YAML: ") as caught:
        read(path)
    assert "\n" not in str(caught.value)


def test_a_python_tag_is_refused_in_one_line(tmp_path: pathlib.Path, reader) -> None:
    what, read = reader
    path = tmp_path / "tagged.yml"
    path.write_text("x: !!python/object/apply:os.system ['touch owned']\n")

    with pytest.raises(RLZooError, match=rf"cannot read the {what} .*tagged.yml: line 1, column 4: the tag !!python/object/apply:os.system "
                       r"is not allowed: only plain YAML data") as caught:
        read(path)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "owned").exists()


def test_a_grid_file_error_is_a_grid_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(GridError, match="cannot read the grid file"):
        load_grid(tmp_path / "missing.yml")


def test_a_file_that_is_not_utf8_says_so(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))

    with pytest.raises(RLZooError, match=r"latin1.yml: it is not UTF-8 text \(byte 9\)"):
        load(path, "test file")


@pytest.mark.parametrize("value, problem", [
    ("[1e-3", r"line 1, column 6: not valid YAML: expected ',' or ']'"),
    ("!!python/name:os.system", r"line 1, column 1: the tag !!python/name:os.system is not allowed"),
])
def test_a_bad_set_value_is_a_one_line_usage_error(value: str, problem: str) -> None:
    with pytest.raises(UsageError, match=rf"cannot read the --set lr value .*: {problem}") as caught:
        parse_set([f"lr={value}"])
    assert "\n" not in str(caught.value)


def test_a_preset_file_edited_while_the_process_runs_is_read_again(tmp_path: pathlib.Path) -> None:
    # A sweep's worker or a notebook outlives an edit of the preset file: it must not keep the old values.
    path = tmp_path / "preset.yml"
    path.write_text("CartPole-v1:\n  train: {total_timesteps: 1000}\n")
    first = load_presets(path)
    assert load_presets(path) is first  # unchanged: parsed once
    path.write_text("CartPole-v1:\n  train: {total_timesteps: 20000}\n")

    assert load_presets(path)["CartPole-v1"].train == {"total_timesteps": 20000}
