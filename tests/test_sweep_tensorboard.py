"""``rlzoo sweep --tensorboard DIR``: each run's hyperparameters and final score in TensorBoard's HParams format, read back."""

from __future__ import annotations

import pathlib
import subprocess
import zipfile
import sys
from typing import Any

import pytest
from report_cases import AGENTS, ENVS, SEEDS, final_score, write_results

from rlzoo.experiments import make_grid
from rlzoo.experiments.hparams import CURVE_TAG, FINAL_TAG, write_hparams
from rlzoo.experiments.run import RUNS_FOLDER
from rlzoo.tensorboard import keep_tensorflow_out

RUN_IDS = [spec.run_id for spec in make_grid(list(AGENTS), list(ENVS), SEEDS)]


def read_back(log_dir: pathlib.Path) -> Any:
    keep_tensorflow_out()
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer
    from tensorboard.plugins.hparams import metadata

    multiplexer = EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(log_dir))
    multiplexer.Reload()
    return multiplexer, metadata


def test_every_run_is_an_hparams_session_with_its_hyperparameters_and_final_score(tmp_path: pathlib.Path) -> None:
    results = write_results(tmp_path / "results")
    write_hparams(results, tmp_path / "tb")
    write_hparams(results, tmp_path / "tb")  # again, as after a resumed sweep: replaces, does not duplicate
    multiplexer, metadata = read_back(tmp_path / "tb")
    content = multiplexer.PluginRunToTagToContent(metadata.PLUGIN_NAME)
    experiment = metadata.parse_experiment_plugin_data(content["."][metadata.EXPERIMENT_TAG])
    assert {"agent", "env", "seed", "label", "steps"} <= {info.name for info in experiment.hparam_infos}
    assert {m.name.tag for m in experiment.metric_infos} == {FINAL_TAG, CURVE_TAG}
    sessions = {run: tags for run, tags in content.items() if run != "."}
    assert len(sessions) == len(AGENTS) * len(ENVS) * SEEDS
    for run, tags in sessions.items():
        start = metadata.parse_session_start_info_plugin_data(tags[metadata.SESSION_START_INFO_TAG])
        agent, env, seed = start.hparams["agent"].string_value, start.hparams["env"].string_value, start.hparams["seed"].number_value
        assert run == f"{agent}__{env}__seed{int(seed)}"
        finals = multiplexer.Scalars(run, FINAL_TAG)
        assert [e.value for e in finals] == [pytest.approx(final_score(agent, env, int(seed)))]
        assert len(multiplexer.Scalars(run, CURVE_TAG)) == 5


def test_cli_sweep_tensorboard_writes_the_sweeps_runs(tmp_path: pathlib.Path) -> None:
    results = write_results(tmp_path / "out")
    for run_id in RUN_IDS:  # finished runs have their folders: this sweep has nothing left to run
        folder = results / RUNS_FOLDER / run_id
        folder.mkdir(parents=True)
        with zipfile.ZipFile(folder / "agent.zip", "w") as archive:  # rows without recorded hashes need a readable zip
            archive.writestr("rlzoo.json", "{}")
    command = [sys.executable, "-m", "rlzoo.cli", "sweep", "--agents", *AGENTS, "--envs", *ENVS, "--seeds", str(SEEDS)]
    command += ["--out", str(results), "--tensorboard", str(tmp_path / "tb"), "--no-progress"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"TensorBoard: {len(RUN_IDS)} runs" in done.stdout
    multiplexer, metadata = read_back(tmp_path / "tb")
    assert sorted(r for r in multiplexer.PluginRunToTagToContent(metadata.PLUGIN_NAME) if r != ".") == sorted(RUN_IDS)
