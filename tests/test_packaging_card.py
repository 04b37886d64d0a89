"""rlzoo package (rlzoo.packaging), model folders loaded by rlzoo.load (rlzoo.modelcard), rlzoo push/pull (rlzoo.hub).

(tests/test_packaging.py is about the wheel.)
"""

from __future__ import annotations

import json
import pathlib
import shlex
import shutil
import warnings

import gymnasium as gym
import pytest
import yaml
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

import rlzoo
import rlzoo.cli
import rlzoo.hub
from rlzoo.cli.common import parse_set
from rlzoo.errors import ArtifactError, RLZooError
from rlzoo.evaluation import EvalResult
from rlzoo.experiments.grid import RunSpec
from rlzoo.experiments.run import RunOutcome
from rlzoo.experiments.store import Store
from rlzoo.modelcard import ModelCardWarning, parse_front_matter
from rlzoo.learning_curve import write_episodes_csv

EPISODES, SEED = 6, 7
FOLDER_FILES = ["README.md", "agent.zip", "episodes.csv", "learning_curve.png", "replay.mp4", "results.json"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A briefly trained sb3-a2c on CartPole-v1, saved as rlzoo train saves it (agent.zip beside episodes.csv).

    Its recorded training evaluation is a made-up one, so a card that copied it would show.
    """
    folder = tmp_path_factory.mktemp("run")
    agent = rlzoo.train("sb3-a2c", "CartPole-v1", total_timesteps=400, seed=0, eval_every=0)
    agent.last_evaluation = EvalResult((123.0,), (5,))
    rlzoo.save(agent, folder / "agent.zip")
    write_episodes_csv(agent.history, folder / "episodes.csv")
    return folder / "agent.zip"


@pytest.fixture(scope="module")
def packaged(trained: pathlib.Path) -> pathlib.Path:
    out = trained.parent.parent / "model"
    status = rlzoo.cli.main(["package", str(trained), "--out", str(out), "--episodes", str(EPISODES), "--seed", str(SEED)])
    assert status == 0
    return out


def card_of(folder: pathlib.Path) -> tuple[dict, str]:
    text = (folder / "README.md").read_text()
    return parse_front_matter(text), text


def test_package_writes_a_hub_model_folder(packaged) -> None:
    metadata, _ = card_of(packaged)

    assert sorted(path.name for path in packaged.iterdir()) == FOLDER_FILES
    assert metadata["library_name"] == "rlzoo"
    assert {"reinforcement-learning", "sb3-a2c", "CartPole-v1"} <= set(metadata["tags"])
    assert metadata["rlzoo"]["agent"] == "sb3-a2c" and metadata["rlzoo"]["env_id"] == "CartPole-v1"
    assert (packaged / "replay.mp4").read_bytes()[4:8] == b"ftyp"  # an MP4 container
    assert (packaged / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_card_numbers_are_measured_at_packaging(packaged, trained) -> None:
    metadata, text = card_of(packaged)
    results = json.loads((packaged / "results.json").read_text())
    measured = rlzoo.evaluate(rlzoo.load(trained), n_episodes=EPISODES, seed=SEED)

    assert results["evaluation"]["returns"] == list(measured.returns) and results["evaluation"]["seed"] == SEED
    (metric,) = metadata["model-index"][0]["results"][0]["metrics"]
    assert metric["value"] == f"{measured.mean:.2f} +/- {measured.std:.2f}"
    assert f"over {EPISODES} greedy episodes, seed {SEED}" in text
    assert results["training_evaluation"]["returns"] == [123.0]  # the made-up one is reported as what it is, not as the score


def test_folder_loads_and_evaluates_to_the_cards_score(packaged, capsys) -> None:
    results = json.loads((packaged / "results.json").read_text())

    agent = rlzoo.load(packaged)

    assert rlzoo.evaluate(agent, n_episodes=EPISODES, seed=SEED).returns == tuple(results["evaluation"]["returns"])
    assert rlzoo.cli.main(["evaluate", str(packaged), "--episodes", str(EPISODES), "--seed", str(SEED)]) == 0
    assert f"mean return {results['evaluation']['mean']:.2f}" in capsys.readouterr().out


def test_card_shows_hyperparameters_versions_and_a_command_that_reproduces_the_agent(packaged) -> None:
    _, text = card_of(packaged)
    agent = rlzoo.load(packaged)
    (command,) = [line for line in text.splitlines() if line.startswith("rlzoo train ")]

    args = rlzoo.cli.build_parser().parse_args(shlex.split(command)[1:])

    assert (args.agent, args.env, args.steps, args.seed) == ("sb3-a2c", "CartPole-v1", agent.num_timesteps, 0)
    assert parse_set(args.set) == agent.hyperparams
    assert "| stable-baselines3 |" in text and "| torch |" in text
    assert "### Hyperparameters" in text and "n_envs: 8" in text


def test_sweep_adds_the_cells_iqm_over_its_seeds(trained, tmp_path) -> None:
    results_dir = tmp_path / "sweep"
    with Store(results_dir) as store:
        specs = [RunSpec("sb3-a2c", "CartPole-v1", seed, steps=400) for seed in (0, 1, 2, 3)]
        store.add(specs)
        for spec, score in zip(specs, (100.0, 200.0, 300.0, 500.0), strict=True):
            store.record(RunOutcome(spec.run_id, "done", final_mean=score, final_std=0.0, final_returns=[score]))

    out = rlzoo.package(trained, tmp_path / "model", episodes=2, sweep=results_dir, video=False)

    sweep = json.loads((out / "results.json").read_text())["sweep"]
    assert sweep["seeds"] == [0, 1, 2, 3] and sweep["iqm"] == pytest.approx(250.0)  # the middle two of four
    assert sweep["ci_low"] <= sweep["iqm"] <= sweep["ci_high"]
    metadata, text = card_of(out)
    assert [metric["type"] for metric in metadata["model-index"][0]["results"][0]["metrics"]] == ["mean_reward", "iqm_reward"]
    assert "4 seeds: 0, 1, 2, 3" in text


def test_sweep_without_the_agents_cell_is_refused(trained, tmp_path) -> None:
    with Store(tmp_path / "sweep") as store:
        store.add([RunSpec("sb3-ppo", "CartPole-v1", 0)])

    with pytest.raises(RLZooError, match="no finished run of sb3-a2c on CartPole-v1"):
        rlzoo.package(trained, tmp_path / "model", episodes=1, sweep=tmp_path / "sweep", video=False)
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize(
    ("name", "env_id", "steps"),
    [
        ("kerasrl2-dqn", "CartPole-v1", 200),
        ("sb3-dqn", "CartPole-v1", 200),
        ("sb3-ppo", "CartPole-v1", 200),
        ("sb3-sac", "Pendulum-v1", 120),
    ],  # sb3-a2c: the module's fixture
)
def test_every_backend_packages_loads_from_its_folder_and_scores_what_its_card_says(name, env_id, steps, tmp_path) -> None:
    agent = rlzoo.make_agent(name, env_id, seed=0)
    agent.learn(steps)
    zip_path = rlzoo.save(agent, tmp_path / "agent.zip")

    out = rlzoo.package(zip_path, tmp_path / "model", episodes=2, seed=SEED, video=False)

    results = json.loads((out / "results.json").read_text())
    loaded = rlzoo.load(out)
    assert (loaded.name, loaded.env_id) == (name, env_id) == (card_of(out)[0]["rlzoo"]["agent"], card_of(out)[0]["rlzoo"]["env_id"])
    assert rlzoo.evaluate(loaded, n_episodes=2, seed=SEED).returns == tuple(results["evaluation"]["returns"])


class NoRenderCartPole(CartPoleEnv):
    metadata = {"render_modes": [], "render_fps": 50}


def test_bad_input_is_one_error_line_and_leaves_nothing(trained, tmp_path, capsys) -> None:
    gym.register("rlzoo-test/NoRenderCartPole-v0", entry_point=NoRenderCartPole, max_episode_steps=50)
    quiet = rlzoo.save(rlzoo.make_agent("sb3-a2c", "rlzoo-test/NoRenderCartPole-v0", seed=0, n_envs=1), tmp_path / "quiet.zip")
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(trained.read_bytes()[:300])
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    before = sorted(path.name for path in tmp_path.iterdir())
    cases = {
        "missing": ([str(tmp_path / "missing.zip"), "--out", str(tmp_path / "o1")], "no such file"),
        "corrupt": ([str(corrupt), "--out", str(tmp_path / "o2")], "not a readable zip"),
        "unwritable": ([str(trained), "--out", str(blocker / "sub")], "cannot be written"),
        "exists": ([str(trained), "--out", str(existing)], "already exists: pass --force"),
        "no render": ([str(quiet), "--out", str(tmp_path / "o3")], "does not render frames"),
    }

    for args, _ in cases.values():
        assert rlzoo.cli.main(["package", *args, "--episodes", "1"]) == 2

    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == len(cases)
    for line, (_, expected) in zip(errors, cases.values(), strict=True):
        assert line.startswith("rlzoo: error: ") and expected in line
    assert sorted(path.name for path in tmp_path.iterdir()) == before  # no folder, no leftover temporary
    assert [path.name for path in existing.iterdir()] == ["keep.txt"]


def test_force_replaces_an_existing_folder(trained, tmp_path) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / "old.txt").write_text("old")

    rlzoo.package(trained, out, episodes=1, video=False, force=True)

    assert sorted(path.name for path in out.iterdir()) == ["README.md", "agent.zip", "episodes.csv", "learning_curve.png", "results.json"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]


# -- rlzoo.load(DIR): the card against the zip ------------------------------------------------
@pytest.fixture
def folder(packaged, tmp_path) -> pathlib.Path:
    copy = tmp_path / "copy"
    shutil.copytree(packaged, copy)
    return copy


def _edit_card(folder: pathlib.Path, old: str, new: str) -> None:
    card = folder / "README.md"
    card.write_text(card.read_text().replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [("agent: sb3-a2c", "agent: sb3-ppo", "'sb3-ppo'"), ("env_id: CartPole-v1", "env_id: CartPole-v0", "'CartPole-v0'")],
)
def test_a_card_that_disagrees_with_its_zip_is_refused(folder, old, new, named) -> None:
    _edit_card(folder, old, new)

    with pytest.raises(
        ArtifactError, match=f"its model card .README.md. describes .*{named}.*but its agent.zip holds 'sb3-a2c' on 'CartPole-v1'"
    ):
        rlzoo.load(folder)


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda f: (f / "README.md").unlink(), "there is no README.md model card"),
        (lambda f: _edit_card(f, "---", "==="), "does not start with a '---' line"),
        (lambda f: _edit_card(f, "rlzoo:\n", "rlzoo: [\n"), "does not parse"),
        (lambda f: _edit_card(f, "rlzoo:\n", "other:\n"), "has no 'rlzoo:' block"),
        (lambda f: _edit_card(f, "  agent: sb3-a2c\n", ""), "has no 'rlzoo:' block naming the agent and env_id"),
    ],
    ids=["missing", "no front matter", "bad yaml", "no rlzoo block", "no agent in the block"],
)
def test_a_missing_or_garbled_card_warns_and_still_loads(folder, damage, problem) -> None:
    damage(folder)

    with pytest.warns(ModelCardWarning, match=problem):
        agent = rlzoo.load(folder)

    assert agent.name == "sb3-a2c"


def test_loading_a_folder_executes_nothing_the_card_names(folder, tmp_path) -> None:
    marker = tmp_path / "ran"
    _edit_card(folder, "library_name: rlzoo", f"library_name: !!python/object/apply:os.system ['touch {marker}']")

    with pytest.warns(ModelCardWarning, match="does not parse"):
        rlzoo.load(folder)

    assert not marker.exists()


def test_a_folder_without_agent_zip_is_refused(folder) -> None:
    (folder / "agent.zip").unlink()

    with pytest.raises(ArtifactError, match="holds no agent.zip"), warnings.catch_warnings():
        rlzoo.load(folder)


def test_size_caps_apply_to_the_folders_zip(folder) -> None:
    with pytest.raises(ArtifactError, match="more than the limit"):
        rlzoo.load(folder, max_bytes=1000)


# -- rlzoo push / pull, up to the network --------------------------------------------------------
def test_push_uploads_the_model_folder_through_hfapi(packaged, monkeypatch, capsys) -> None:
    from huggingface_hub import HfApi

    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(HfApi, "create_repo", lambda self, **kw: calls.append(("create_repo", kw)) or "https://huggingface.co/alice/a2c")
    monkeypatch.setattr(HfApi, "upload_folder", lambda self, **kw: calls.append(("upload_folder", kw)))

    assert rlzoo.cli.main(["push", str(packaged), "--repo", "alice/a2c"]) == 0

    (create, created), (upload, uploaded) = calls
    assert (create, created["repo_id"], created["repo_type"], created["exist_ok"]) == ("create_repo", "alice/a2c", "model", True)
    assert upload == "upload_folder" and uploaded["repo_id"] == "alice/a2c" and uploaded["folder_path"] == str(packaged)
    assert sorted(uploaded["allow_patterns"]) == FOLDER_FILES
    assert "https://huggingface.co/alice/a2c" in capsys.readouterr().out


def test_push_refuses_what_is_not_a_model_folder(tmp_path, monkeypatch, capsys) -> None:
    from huggingface_hub import HfApi

    monkeypatch.setattr(HfApi, "create_repo", lambda self, **kw: pytest.fail("no request may be made"))

    assert rlzoo.cli.main(["push", str(tmp_path), "--repo", "alice/a2c"]) == 2
    assert rlzoo.cli.main(["push", str(tmp_path), "--repo", "not a repo"]) == 2
    first, second = capsys.readouterr().err.splitlines()
    assert "holds no agent.zip" in first and "expected USER/NAME" in second


def test_pull_downloads_a_loadable_folder(packaged, tmp_path, monkeypatch) -> None:
    from huggingface_hub import HfApi

    def snapshot_download(self, **kw):
        assert (kw["repo_id"], kw["repo_type"]) == ("alice/a2c", "model")
        shutil.copytree(packaged, kw["local_dir"], dirs_exist_ok=True)
        (pathlib.Path(kw["local_dir"]) / ".cache").mkdir()
        return kw["local_dir"]

    monkeypatch.setattr(HfApi, "snapshot_download", snapshot_download)

    assert rlzoo.cli.main(["pull", "alice/a2c", "--out", str(tmp_path / "pulled")]) == 0

    assert sorted(path.name for path in (tmp_path / "pulled").iterdir()) == FOLDER_FILES
    results = json.loads((tmp_path / "pulled" / "results.json").read_text())
    assert rlzoo.evaluate(rlzoo.load(tmp_path / "pulled"), n_episodes=EPISODES, seed=SEED).mean == pytest.approx(
        results["evaluation"]["mean"]
    )


def test_pull_of_a_repository_without_a_model_leaves_nothing(tmp_path, monkeypatch) -> None:
    from huggingface_hub import HfApi

    monkeypatch.setattr(HfApi, "snapshot_download", lambda self, **kw: kw["local_dir"])

    with pytest.raises(RLZooError, match="holds no agent.zip and README.md"):
        rlzoo.hub.pull("alice/empty", tmp_path / "pulled")
    assert list(tmp_path.iterdir()) == []


def test_card_metadata_is_yaml_the_hub_reads(packaged) -> None:
    text = (packaged / "README.md").read_text()
    _, front, _ = text.split("---\n", 2)

    assert yaml.safe_load(front)["model-index"][0]["name"] == "sb3-a2c on CartPole-v1"
