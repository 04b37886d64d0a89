"""``rlzoo sweep`` and ``rlzoo.sweep`` refuse bad grids and arguments with one clear error, before any folder is made."""

from __future__ import annotations

import os
import pathlib

import pytest

from rlzoo.cli import main
from rlzoo.errors import RLZooError
from rlzoo.experiments import load_grid, make_grid, sweep
from rlzoo.experiments.grid import MAX_RUNS, GridError

GOOD = "agents: [sb3-ppo]\nenvs: [CartPole-v1]\n"


@pytest.mark.parametrize(
    "extra",
    [
        "seeds: [0.5]",
        "seeds: true",
        "seeds: 1.5",
        "seeds: '3'",
        "seeds: 0",
        "seeds: -2",
        "seeds: []",
        f"seeds: {MAX_RUNS + 1}",
        "seeds: [18446744073709551616]",
        "seeds: [-1]",
        "steps: 256.7",
        "steps: '256'",
        "steps: 0",
        "steps: true",
        "eval_every: -5",
        "set: abc",
        "set: [1, 2]",
        "label: [a, b]",
        "preset: 5",
        "preset: ''",
    ],
)
def test_a_bad_grid_value_is_one_grid_error_naming_it(tmp_path: pathlib.Path, extra: str) -> None:
    path = tmp_path / "grid.yml"
    path.write_text(GOOD + extra + "\n")
    key = extra.split(":")[0]
    with pytest.raises(GridError, match=key if key != "set" else "set"):
        load_grid(path)


@pytest.mark.parametrize(
    "text",
    ["runs: []", "agents: []\nenvs: [CartPole-v1]", "agents: [sb3-ppo]", "", "[1, 2]", "runs: [5]"],
)
def test_an_empty_or_shapeless_grid_is_refused(tmp_path: pathlib.Path, text: str) -> None:
    path = tmp_path / "grid.yml"
    path.write_text(text)
    with pytest.raises(GridError):
        load_grid(path)


def test_a_grid_file_that_is_a_device_is_refused_without_reading_it() -> None:
    with pytest.raises(GridError, match="not a regular file"):
        load_grid("/dev/zero")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seeds": "3"}, "seeds"),
        ({"seeds": 1.5}, "seeds"),
        ({"seeds": True}, "seeds"),
        ({"seeds": [2**64]}, "seeds"),
        ({"seeds": iter(range(10**9))}, "seeds"),
        ({"steps": 256.7}, "steps"),
        ({"steps": "256"}, "steps"),
        ({"workers": 1.5}, "workers"),
        ({"workers": 0}, "workers"),
        ({"workers": True}, "workers"),
        ({"ray": ""}, "HOST:PORT"),
        ({"ray": "nohost"}, "HOST:PORT"),
        ({"ray": "host:99999"}, "HOST:PORT"),
        ({"out": None}, "out"),
        ({"out": ""}, "out"),
        ({"overrides": "lr=1"}, "overrides"),
        ({"overrides": {"lr": object()}}, "JSON"),
        ({"label": ["a"]}, "label"),
        ({"preset": 123}, "preset"),
        ({"shared_results": "yes"}, "shared_results"),
        ({"shared_results": True}, "only applies with ray"),
        ({"agents": "sb3-ppoo"}, "did you mean"),
        ({"envs": ["CartPol-v1"]}, "unknown env"),
        ({"agents": [], "envs": []}, "agents"),
        ({"agents": [5]}, "agents"),
        ({"grid": 5, "agents": (), "envs": ()}, "grid"),
    ],
)
def test_a_bad_sweep_argument_is_refused_before_any_folder_is_made(tmp_path: pathlib.Path, kwargs: dict, match: str) -> None:
    out = tmp_path / "out"
    arguments = {"agents": ["sb3-ppo"], "envs": ["CartPole-v1"], "seeds": 1, "out": out, **kwargs}
    with pytest.raises(RLZooError, match=match):
        sweep(arguments.pop("agents"), arguments.pop("envs"), **arguments)
    assert not out.exists()


def test_an_out_holding_a_file_named_runs_is_refused(tmp_path: pathlib.Path) -> None:
    (tmp_path / "runs").write_text("in the way")
    with pytest.raises(RLZooError, match="file named 'runs'"):
        sweep(["sb3-ppo"], ["CartPole-v1"], 1, out=tmp_path)


def test_seed_lists_keep_their_order_and_drop_duplicates() -> None:
    assert [s.seed for s in make_grid(["sb3-ppo"], ["CartPole-v1"], [5, 2**32 - 1, 5, 0])] == [5, 2**32 - 1, 0]


def test_a_preset_file_is_identified_by_its_content_not_its_path(tmp_path: pathlib.Path) -> None:
    text = "CartPole-v1:\n  n_steps: 64\n"
    first, moved, edited = tmp_path / "a" / "p.yml", tmp_path / "b" / "q.yml", tmp_path / "c" / "p.yml"
    for path, content in ((first, text), (moved, "# a comment\n" + text), (edited, text.replace("64", "128"))):
        path.parent.mkdir()
        path.write_text(content)
    (run_a,), (run_b,), (run_c,) = (make_grid(["sb3-ppo"], ["CartPole-v1"], [0], preset=str(p)) for p in (first, moved, edited))
    assert run_a.run_id == run_b.run_id  # moved and reformatted: the same preset
    assert run_a.run_id != run_c.run_id  # another value: another run
    assert run_a.preset == str(first.resolve())  # the path is still what the run builds from


# -- the CLI: one line, exit 2, no folder left behind -----------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["sweep", "--agents", "sb3-ppo", "--envs", "CartPole-v1", "--steps", "0"],
        ["sweep", "--agents", "sb3-ppo", "--envs", "CartPole-v1", "--steps", "256.7"],
        ["sweep", "--agents", "sb3-ppo", "--envs", "CartPole-v1", "--seeds", "0"],
        ["sweep", "--agents", "sb3-ppo", "--envs", "CartPole-v1", "--seeds", "18446744073709551616"],
        ["sweep", "--agents", "sb3-ppo", "--envs", "CartPole-v1", "--workers", "1.5"],
        ["sweep", "--agents", "sb3-ppo", "--envs", "CartPole-v1", "--ray", ""],
        ["sweep", "--agents", "sb3-ppoo", "--envs", "CartPole-v1"],
        ["sweep", "--agents", "sb3-ppo", "--envs", "CartPol-v1"],
        ["sweep", "--agents", "sb3-ppo", "--envs", "CartPole-v1", "--set", "n_steps"],
        ["sweep", "/dev/zero"],
        ["report", "RESULTS", "--reps", "0"],
        ["report", "RESULTS", "--reps", "-3"],
        ["report", "RESULTS", "--reps", "10000000000"],
        ["report"],
    ],
)
def test_cli_mistakes_print_one_error_line_and_exit_2(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    out = tmp_path / "out"
    argv = [str(out) if a == "RESULTS" else a for a in argv]
    if argv[0] == "sweep":
        argv += ["--out", str(out), "--no-progress"]
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rlzoo: error: "), captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p != "out"]
