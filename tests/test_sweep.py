"""``rlzoo sweep``: the grid, real runs in a real process pool, the index, resuming, kill -9 and failures."""

from __future__ import annotations

import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

import rlzoo
from rlzoo.experiments import RunSpec, load_grid, make_grid, sweep
from rlzoo.experiments.grid import GridError
from rlzoo.experiments.store import INDEX_FILE, Store

# Few steps and one periodic evaluation keep each run to a second or two of CPU: the final
# evaluation is 100 episodes of a barely trained policy, and these seeds' policies fall
# within 9-15 steps (an untrained sb3-ppo on seed 0 balances for 330 steps: 40x the cost).
STEPS = 256
SEEDS = (1, 2)


# -- the grid --------------------------------------------------------------------------------


def test_grid_from_flags_is_agents_by_envs_by_seeds() -> None:
    grid = make_grid(["sb3-ppo", "sb3-dqn"], ["CartPole-v1", "rlzoo/NoisyCartPole-v0"], 3)
    assert len(grid) == 12
    assert {(s.agent, s.env, s.seed) for s in grid} == {
        (a, e, seed) for a in ("sb3-ppo", "sb3-dqn") for e in ("CartPole-v1", "rlzoo/NoisyCartPole-v0") for seed in range(3)
    }


def test_grid_defaults_to_ten_seeds() -> None:
    assert [s.seed for s in make_grid(["sb3-ppo"], ["CartPole-v1"])] == list(range(10))


def test_run_id_changes_with_steps_and_overrides_but_not_otherwise() -> None:
    plain = make_grid(["sb3-ppo"], ["rlzoo/NoisyCartPole-v0"], 1)[0]
    assert plain.run_id == "sb3-ppo__rlzoo-NoisyCartPole-v0__seed0"
    assert make_grid(["sb3-ppo"], ["rlzoo/NoisyCartPole-v0"], 1)[0].run_id == plain.run_id
    ids = {
        plain.run_id,
        make_grid(["sb3-ppo"], ["rlzoo/NoisyCartPole-v0"], 1, steps=1000)[0].run_id,
        make_grid(["sb3-ppo"], ["rlzoo/NoisyCartPole-v0"], 1, overrides={"n_steps": 64})[0].run_id,
    }
    assert len(ids) == 3


def test_yaml_grid_blocks_inherit_top_level_defaults(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "grid.yml"
    path.write_text(
        "seeds: 2\nsteps: 500\nruns:\n"
        "  - agents: [sb3-ppo, sb3-dqn]\n    envs: [CartPole-v1]\n"
        "  - agents: [sb3-ppo]\n    envs: [rlzoo/NoisyCartPole-v0]\n    seeds: 3\n    set: {n_steps: 64}\n    label: ppo-64\n"
    )
    grid = load_grid(path)
    assert len(grid) == 2 * 2 + 3
    assert all(s.steps == 500 for s in grid)
    assert {s.name for s in grid if s.env == "rlzoo/NoisyCartPole-v0"} == {"ppo-64"}
    assert dict(grid[-1].overrides) == {"n_steps": 64}


def test_yaml_grid_with_an_unknown_key_names_the_valid_ones(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "grid.yml"
    path.write_text("runs:\n  - agents: [sb3-ppo]\n    envs: [CartPole-v1]\n    sets: {n_steps: 64}\n")
    with pytest.raises(GridError, match=r"unknown keys \['sets'\].*valid keys: .*'set'"):
        load_grid(path)


def test_a_preset_changes_the_run_id_and_a_grid_files_preset_path_is_relative_to_it(tmp_path: pathlib.Path) -> None:
    plain = make_grid(["kerasrl2-dqn"], ["rlzoo/WindyCartPole-v0"], 1)[0]
    recipe = make_grid(["kerasrl2-dqn"], ["rlzoo/WindyCartPole-v0"], 1, preset="recipe")[0]
    assert recipe.preset == "recipe" and recipe.run_id != plain.run_id
    (tmp_path / "mine.yml").write_text("rlzoo/WindyCartPole-v0: {train: {}, hyperparams: {}}\n")
    (tmp_path / "grid.yml").write_text(
        "seeds: 1\nruns:\n  - agents: [kerasrl2-dqn]\n    envs: [rlzoo/WindyCartPole-v0]\n    preset: mine.yml\n    label: mine\n"
    )
    (spec,) = load_grid(tmp_path / "grid.yml")
    assert spec.preset == str(tmp_path / "mine.yml")
    (tmp_path / "grid.yml").write_text("runs:\n  - agents: [kerasrl2-dqn]\n    envs: [CartPole-v1]\n    preset: missing.yml\n")
    with pytest.raises(GridError, match=r"preset file .*missing.yml.* does not exist"):
        load_grid(tmp_path / "grid.yml")


# -- real sweeps -----------------------------------------------------------------------------

CRASHING = RunSpec("sb3-dqn", "CartPole-v1", 1, STEPS, (("no_such_hyperparameter", 1),), eval_every=STEPS)


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, list[RunSpec], object]:
    """2 agents x 1 env x 2 seeds and one run that crashes, swept by a 2-worker pool."""
    out = tmp_path_factory.mktemp("sweep")
    specs = [*make_grid(["sb3-dqn", "sb3-a2c"], ["CartPole-v1"], SEEDS, steps=STEPS, eval_every=STEPS), CRASHING]
    summary = sweep(grid=specs, out=out, workers=2)
    return out, specs, summary


def test_sweep_trains_evaluates_and_saves_every_run(swept) -> None:
    out, specs, summary = swept
    assert (summary.total, summary.done, summary.skipped) == (5, 4, 0)
    with Store(out) as store:
        rows = {row["run_id"]: row for row in store.rows("done")}
    assert set(rows) == {s.run_id for s in specs[:4]}
    for spec in specs[:4]:
        row = rows[spec.run_id]
        assert row["num_timesteps"] >= STEPS
        assert len(row["final_returns"]) == 100
        assert row["final_mean"] == pytest.approx(sum(row["final_returns"]) / 100)
        assert row["curve"] and row["curve"][-1][0] == row["num_timesteps"]  # the learning curve ends at the last step
        folder = out / "runs" / spec.run_id
        assert sorted(p.name for p in folder.iterdir()) == ["agent.zip", "episodes.csv"]
        agent = rlzoo.load(folder / "agent.zip")
        assert (agent.name, agent.env_id, agent.seed) == (spec.agent, spec.env, spec.seed)
        assert agent.last_evaluation.mean == pytest.approx(row["final_mean"])


def test_a_crashing_run_is_recorded_as_failed_with_its_error_and_the_others_finish(swept) -> None:
    out, specs, summary = swept
    assert summary.failed == 1
    with Store(out) as store:
        (failed,) = store.rows("failed")
        assert len(store.rows("done")) == 4
    assert failed["run_id"] == CRASHING.run_id
    assert "HyperparameterError" in failed["error"] and "no_such_hyperparameter" in failed["error"]
    assert not (out / "runs" / CRASHING.run_id).exists()


def test_rerunning_a_sweep_skips_finished_runs_and_retries_failed_ones(swept) -> None:
    out, specs, _ = swept
    before = {s.run_id: (out / "runs" / s.run_id / "agent.zip").stat().st_mtime_ns for s in specs[:4]}
    summary = sweep(grid=specs, out=out, workers=2)
    assert (summary.skipped, summary.done, summary.failed) == (4, 0, 1)
    assert {s.run_id: (out / "runs" / s.run_id / "agent.zip").stat().st_mtime_ns for s in specs[:4]} == before


def test_a_pool_held_open_keeps_its_warm_worker_across_sweeps(tmp_path: pathlib.Path) -> None:
    from rlzoo.experiments.driver import run_grid
    from rlzoo.experiments.executors import LocalPool

    with LocalPool(1) as pool:
        workers = pool.warm_up([("sb3-dqn", "CartPole-v1")])
        for seed in SEEDS:  # two sweeps, one run each
            summary = run_grid(make_grid(["sb3-dqn"], ["CartPole-v1"], [seed], steps=STEPS, eval_every=STEPS), tmp_path, pool)
            assert summary.done == 1
        assert pool.warm_up([("sb3-dqn", "CartPole-v1")]) == workers  # the same process did both runs


def test_a_second_sweep_on_the_same_directory_is_refused_while_one_runs(tmp_path: pathlib.Path) -> None:
    import fcntl

    tmp_path.joinpath(".lock").touch()
    with open(tmp_path / ".lock") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(rlzoo.RLZooError, match="another sweep is writing"):
            sweep(["sb3-dqn"], ["CartPole-v1"], 1, steps=STEPS, out=tmp_path)


def _done_runs(index: pathlib.Path) -> dict[str, float]:
    if not index.exists():
        return {}
    db = sqlite3.connect(index, timeout=30)
    try:
        return dict(db.execute("SELECT run_id, started FROM runs WHERE status='done'").fetchall())
    except sqlite3.OperationalError:  # the table is not created yet
        return {}
    finally:
        db.close()


# Long enough (about 2 s a run) that the kill lands between the first run and the last: at
# STEPS a warm worker finishes a run in a fraction of a second, all three between two polls.
KILLED_STEPS = 3000


def test_kill_9_mid_sweep_then_rerun_redoes_no_finished_run_and_leaves_nothing_partial(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "results"
    command = [
        sys.executable,
        "-m",
        "rlzoo.cli",
        "sweep",
        "--agents",
        "sb3-dqn",
        "--envs",
        "CartPole-v1",
        "--seeds",
        "3",
        "--steps",
        str(KILLED_STEPS),
        "--eval-every",
        str(KILLED_STEPS),
        "--workers",
        "1",
        "--no-progress",
        "--out",
        str(out),
    ]
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not _done_runs(out / INDEX_FILE) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(driver.pid, signal.SIGKILL)  # while the next run trains or writes
    finally:
        driver.kill()
        driver.wait()
    finished = _done_runs(out / INDEX_FILE)
    assert 1 <= len(finished) < 3, "the sweep must be killed after its first run and before its last"
    time.sleep(1.5)  # the orphaned worker notices its driver is gone within 0.5 s and exits

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(finished)} finished already, {3 - len(finished)} to run" in rerun.stdout
    after = _done_runs(out / INDEX_FILE)
    assert len(after) == 3
    assert {run: after[run] for run in finished} == finished  # the finished runs were not redone
    db = sqlite3.connect(out / INDEX_FILE)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    assert not list(out.glob(".*.tmp"))  # no staging folder left
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(after)
    for run in after:
        assert rlzoo.load(out / "runs" / run / "agent.zip").num_timesteps >= KILLED_STEPS


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_sweep_stops_its_workers_at_once_and_says_how_to_go_on(tmp_path: pathlib.Path, signum: int, status: int) -> None:
    # One run of minutes: the signal reaches the driver alone (as from kill or timeout, not a terminal's
    # Ctrl-C, which reaches the workers too); it must not wait for the run under way to end.
    command = [sys.executable, "-m", "rlzoo.cli", "sweep", "--agents", "sb3-dqn", "--envs", "CartPole-v1", "--seeds", "1",
               "--steps", "200000", "--workers", "1", "--no-progress", "--out", str(tmp_path)]  # fmt: skip
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert driver.stdout is not None and "1 to run" in driver.stdout.readline()  # the worker is starting
        time.sleep(8)  # importing torch and SB3, then training
        driver.send_signal(signum)
        sent = time.monotonic()
        _, stderr = driver.communicate(timeout=60)
        stopped_after = time.monotonic() - sent
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    assert driver.returncode == status
    assert stopped_after < 30
    assert f"rlzoo: {signal.Signals(signum).name}: sweep stopped" in stderr and "rerun the same command" in stderr
    assert "Traceback" not in stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # no worker left training
        try:
            os.killpg(driver.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("a process of the sweep outlived it")
    with Store(tmp_path) as store:
        assert not store.rows("done")
    assert not list(tmp_path.glob(".staging-*"))  # the interrupted run's staging folder went with it


def test_cli_sweep_prints_a_line_per_finished_run_and_fails_on_a_failed_run(tmp_path: pathlib.Path) -> None:
    grid = tmp_path / "grid.yml"
    grid.write_text(
        f"seeds: [2]\nsteps: {STEPS}\neval_every: {STEPS}\nruns:\n  - agents: [sb3-dqn]\n    envs: [CartPole-v1]\n"
        "  - agents: [sb3-dqn]\n    envs: [CartPole-v1]\n    set: {no_such_hyperparameter: 1}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "rlzoo.cli", "sweep", str(grid), "--workers", "1", "--no-progress", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "done    sb3-dqn CartPole-v1 seed 2: greedy mean" in result.stdout
    assert (
        "FAILED  sb3-dqn CartPole-v1 seed 2: rlzoo.errors.HyperparameterError: unknown hyperparameter 'no_such_hyperparameter'"
        in result.stdout
    )
    assert "1 run finished, 1 failed" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_sweep_with_no_agents_keeps_only_episodes_csv_and_resumes_from_it(tmp_path: pathlib.Path) -> None:
    # kerasrl2-dqn's two seeds train side by side (one task), sb3-dqn's one by one: both paths save no agent.zip.
    command = [sys.executable, "-m", "rlzoo.cli", "sweep", "--agents", "kerasrl2-dqn", "sb3-dqn", "--envs", "CartPole-v1",
               "--seeds", "2", "--steps", str(STEPS), "--eval-every", str(STEPS), "--workers", "1", "--no-progress",
               "--no-agents", "--out", str(tmp_path)]  # fmt: skip
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    with Store(tmp_path) as store:
        rows = store.rows("done")
    assert sorted((row["agent"], row["seed"]) for row in rows) == [("kerasrl2-dqn", 0), ("kerasrl2-dqn", 1), ("sb3-dqn", 0), ("sb3-dqn", 1)]
    for row in rows:
        assert len(row["final_returns"]) == 100 and row["curve"]
        assert [p.name for p in (tmp_path / "runs" / row["run_id"]).iterdir()] == ["episodes.csv"]

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "4 runs: 4 finished already, 0 to run" in again.stdout


def test_cli_sweep_without_agents_or_grid_says_what_to_give(tmp_path: pathlib.Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rlzoo.cli", "sweep", "--envs", "CartPole-v1", "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.startswith("rlzoo: error: give --agents and --envs")


def test_import_rlzoo_leaves_the_experiment_layer_unloaded_until_rlzoo_sweep_is_used() -> None:
    code = (
        "import sys, rlzoo\n"
        "heavy = ('rlzoo.experiments', 'pandas', 'rliable', 'ray', 'scipy')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
        "rlzoo.sweep, rlzoo.report\n"
        "print('rlzoo.experiments' in sys.modules, rlzoo.sweep is rlzoo.experiments.sweep)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["", "True True"]


def test_runs_built_from_a_named_preset_use_its_hyperparameters(tmp_path: pathlib.Path) -> None:
    env = "rlzoo/WindyCartPole-v0"  # tuned preset: [64, 64]; the recipe: 24-24
    specs = [
        *make_grid(["kerasrl2-dqn"], [env], [1], steps=STEPS, eval_every=STEPS, preset="recipe", label="recipe"),
        *make_grid(["kerasrl2-dqn"], [env], [1], steps=STEPS, eval_every=STEPS),
    ]
    summary = sweep(grid=specs, out=tmp_path, workers=1)
    assert summary.done == 2, summary
    with Store(tmp_path) as store:
        presets = {row["label"]: row["preset"] for row in store.rows("done")}
    assert presets == {"recipe": "recipe", "kerasrl2-dqn": None}
    recipe, tuned = (rlzoo.load(tmp_path / "runs" / s.run_id / "agent.zip") for s in specs)
    assert [layer.units for layer in recipe.model.layers if hasattr(layer, "units")] == [24, 24, 2]
    assert [layer.units for layer in tuned.model.layers if hasattr(layer, "units")] == [64, 64, 2]


def test_every_run_of_the_benchmark_grid_has_a_preset_with_its_steps() -> None:
    from rlzoo.presets import find_preset
    from rlzoo.registry import get_agent

    grid = load_grid(pathlib.Path(__file__).parent.parent / "benchmarks" / "grid.yml")

    discrete = ["CartPole-v0", "CartPole-v1", *(f"rlzoo/{name}CartPole-v0" for name in ("Noisy", "HiddenVelocity", "RandomPhysics", "SwingUp", "Windy")), "rlzoo/SpringCarts-v0"]
    matrix = {(agent, env) for agent in ("kerasrl2-dqn", "sb3-dqn", "sb3-ppo", "sb3-a2c") for env in discrete}
    matrix |= {(agent, "rlzoo/ContinuousCartPole-v0") for agent in ("sb3-ppo", "sb3-a2c", "sb3-sac")}
    cells = {(spec.name, spec.env) for spec in grid}
    assert cells - {cell for cell in cells if cell[0] == "kerasrl2-dqn (recipe)"} == matrix  # every agent on every env it can play
    assert len(grid) == 10 * len(cells) == 420
    for spec in grid:  # a run without steps would fail after make bench had spent an hour
        assert find_preset(get_agent(spec.agent), spec.env, spec.preset).train.get("total_timesteps"), spec


def test_a_preset_that_names_nothing_is_refused_before_any_run(tmp_path: pathlib.Path) -> None:
    from rlzoo.errors import RLZooError

    with pytest.raises(RLZooError, match=r"no preset named 'nosuch'.*valid names are recipe"):
        sweep(grid=make_grid(["kerasrl2-dqn"], ["CartPole-v1"], 1, preset="nosuch"), out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
