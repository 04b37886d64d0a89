"""ONNX export (rlzoo.onnx_export) and the onnxruntime player (rlzoo.onnx_policy), checked against the agents.

Every backend on every env it has a preset for: a briefly trained agent (a few hundred
steps: agreement needs the exported graph to compute what the agent computes, not a good
policy), 10,000 observations from real episodes of its env (the agent's own sampled
actions, 32 env copies side by side), and onnxruntime's greedy action against
``agent.predict(deterministic=True)`` on every one of them.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import rlzoo
import rlzoo.cli
from rlzoo.errors import ArtifactError, RLZooError
from rlzoo.onnx_export import CONTINUOUS_TOLERANCE, export_onnx
from rlzoo.onnx_policy import load_onnx
from rlzoo.presets import load_presets
from rlzoo.multiagent import as_single_agent_env

PRESETS = pathlib.Path(__file__).resolve().parents[1] / "agents" / "presets"
AGENTS = ("kerasrl2-dqn", "sb3-dqn", "sb3-ppo", "sb3-a2c", "sb3-sac")
PAIRS = [(agent, env) for agent in AGENTS for env in load_presets(PRESETS / f"{agent}.yml")]
OBSERVATIONS = 10_000
TRAIN_STEPS = 300
#: SAC updates on every step after its first 100: 50 updates are enough to move its weights.
TRAIN_STEPS_SAC = 150


def real_observations(agent: rlzoo.Agent, count: int = OBSERVATIONS, copies: int = 32) -> np.ndarray:
    """``count`` observations (as the agent sees them: frames stacked) of episodes played with the agent's sampled actions."""
    envs = [agent.wrap_env(as_single_agent_env(agent.env_id, **agent.env_kwargs)) for _ in range(copies)]
    current = [env.reset(seed=1000 + index)[0] for index, env in enumerate(envs)]
    seen: list[np.ndarray] = []
    while len(seen) < count:
        batch = np.stack(current).astype(np.float32)
        seen.extend(batch)
        for index, (env, action) in enumerate(zip(envs, agent.predict_batch(batch, deterministic=False), strict=True)):
            observation, _, terminated, truncated, _ = env.step(action)
            current[index] = env.reset()[0] if terminated or truncated else observation
    for env in envs:
        env.close()
    return np.stack(seen[:count])


@pytest.mark.parametrize(("name", "env_id"), PAIRS, ids=[f"{a}-{e}" for a, e in PAIRS])
def test_onnx_greedy_actions_equal_the_agents_on_10000_real_observations(name: str, env_id: str, tmp_path) -> None:
    agent = rlzoo.make_agent(name, env_id, seed=0)
    agent.learn(TRAIN_STEPS_SAC if name == "sb3-sac" else TRAIN_STEPS)
    policy = load_onnx(export_onnx(agent, tmp_path / "policy.onnx"))
    observations = real_observations(agent)
    expected = agent.predict_batch(observations, deterministic=True)
    for index in range(0, OBSERVATIONS, OBSERVATIONS // 50):  # predict_batch is predict, row by row (BLAS may round apart)
        assert np.allclose(agent.predict(observations[index], deterministic=True), expected[index], rtol=0, atol=1e-6)

    actions = policy.predict_batch(observations)

    played, reference = (rlzoo.evaluate(player, n_episodes=4, seed=0).returns for player in (policy, agent))
    if policy.discrete:
        assert actions == expected  # every one of the 10,000
        assert played == reference  # the same actions, so the same episodes
    else:
        assert np.abs(np.stack(actions) - np.stack(expected)).max() <= CONTINUOUS_TOLERANCE
        assert played == pytest.approx(reference, rel=1e-4)  # actions 1e-5 apart: returns a hair apart


def test_frame_stacking_is_stated_in_the_metadata_and_applied_by_the_player(tmp_path) -> None:
    agent = rlzoo.make_agent("sb3-ppo", "rlzoo/NoisyCartPole-v0", seed=0, frame_stack=3, n_envs=1, n_steps=64, batch_size=64)
    path = export_onnx(agent, tmp_path / "policy.onnx")

    policy = load_onnx(path)

    assert policy.metadata["rlzoo.frame_stack"] == "3" and policy.frame_stack == 3
    assert policy.session.get_inputs()[0].shape[1:] == [3, 4]  # the graph takes the stacked frames
    assert rlzoo.evaluate(policy, n_episodes=4, seed=1).returns == rlzoo.evaluate(agent, n_episodes=4, seed=1).returns


def test_graph_outputs_q_values_or_logits_beside_the_action(tmp_path) -> None:
    outputs = {}
    for name, env_id in (("sb3-dqn", "CartPole-v1"), ("sb3-a2c", "CartPole-v1"), ("sb3-ppo", "rlzoo/ContinuousCartPole-v0")):
        policy = load_onnx(export_onnx(rlzoo.make_agent(name, env_id, seed=0), tmp_path / f"{name}.onnx"))
        outputs[name] = [output.name for output in policy.session.get_outputs()]

    assert outputs == {"sb3-dqn": ["action", "q_values"], "sb3-a2c": ["action", "logits"], "sb3-ppo": ["action"]}


@pytest.fixture(scope="module")
def ppo_onnx(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, pathlib.Path]:
    """A briefly trained sb3-ppo on CartPole-v1: its zip and its policy.onnx (written by the CLI)."""
    folder = tmp_path_factory.mktemp("ppo")
    agent = rlzoo.make_agent("sb3-ppo", "CartPole-v1", seed=0)
    agent.learn(TRAIN_STEPS)
    zip_path = rlzoo.save(agent, folder / "agent.zip")
    assert rlzoo.cli.main(["export", str(zip_path), "--onnx", str(folder / "policy.onnx")]) == 0
    return zip_path, folder / "policy.onnx"


def test_cli_evaluate_plays_an_onnx_policy_without_tensorflow_or_torch(ppo_onnx) -> None:
    zip_path, onnx_path = ppo_onnx
    code = (
        "import sys, rlzoo.cli\n"
        f"status = rlzoo.cli.main(['evaluate', {str(onnx_path)!r}, '--env', 'CartPole-v1', '--episodes', '5', '--seed', '3'])\n"
        "heavy = [m for m in ('tensorflow', 'torch', 'stable_baselines3', 'tf_keras', 'onnx', 'tf2onnx') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), 'STATUS=' + str(status), 'ORT=' + str('onnxruntime' in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)

    assert "HEAVY= STATUS=0 ORT=True" in run.stdout, run.stdout + run.stderr
    expected = rlzoo.evaluate(rlzoo.load(zip_path), n_episodes=5, seed=3)
    assert f"greedy evaluation: {expected}" in run.stdout  # the same returns as the agent's


def test_export_onnx_is_reachable_from_the_package_face() -> None:
    assert rlzoo.export_onnx is export_onnx
    assert rlzoo.load_onnx is load_onnx


def test_an_onnx_policy_only_acts(ppo_onnx) -> None:
    policy = load_onnx(ppo_onnx[1])

    for call in (lambda: policy.learn(10), policy.get_weights, lambda: rlzoo.save(policy, "x.zip")):
        with pytest.raises(RLZooError, match="only acts"):
            call()
    with pytest.raises(RLZooError, match="greedy only"):
        policy.predict_batch(np.zeros((1, 4), dtype=np.float32), deterministic=False)


def test_onnx_policy_on_an_env_of_other_shapes_is_refused(ppo_onnx) -> None:
    with pytest.raises(ArtifactError, match=r"observations of shape \(4,\).*Pendulum-v1 gives \(3,\)"):
        load_onnx(ppo_onnx[1], "Pendulum-v1")


def test_onnx_file_without_rlzoo_metadata_is_refused(ppo_onnx, tmp_path) -> None:
    import onnx

    model = onnx.load(ppo_onnx[1])
    del model.metadata_props[:]
    onnx.save(model, tmp_path / "bare.onnx")

    with pytest.raises(ArtifactError, match="no rlzoo.format_version, rlzoo.agent"):
        load_onnx(tmp_path / "bare.onnx")


def test_export_cli_errors_are_one_line_and_leave_nothing(ppo_onnx, tmp_path, capsys) -> None:
    zip_path, onnx_path = ppo_onnx
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(zip_path.read_bytes()[:500])

    assert rlzoo.cli.main(["export", str(tmp_path / "missing.zip"), "--onnx", str(tmp_path / "a.onnx")]) == 2
    assert rlzoo.cli.main(["export", str(corrupt), "--onnx", str(tmp_path / "b.onnx")]) == 2
    assert rlzoo.cli.main(["export", str(zip_path), "--onnx", str(onnx_path)]) == 2  # exists, no --force

    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3 and all(line.startswith("rlzoo: error: ") for line in errors)
    assert "no such file" in errors[0] and "zip" in errors[1] and "--force" in errors[2]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["corrupt.zip"]


def test_unsupported_exporter_versions_are_clear_errors(ppo_onnx, monkeypatch, tmp_path) -> None:
    import torch

    def old_export(model, args, f, export_params=True):  # an exporter without opset_version or dynamo
        raise AssertionError("never called")

    monkeypatch.setattr(torch.onnx, "export", old_export)
    with pytest.raises(RLZooError, match=r"torch .*'s ONNX exporter is not supported"):
        export_onnx(rlzoo.load(ppo_onnx[0]), tmp_path / "p.onnx")
    assert not (tmp_path / "p.onnx").exists()


def test_unsupported_tf2onnx_version_is_a_clear_error(monkeypatch, tmp_path) -> None:
    agent = rlzoo.make_agent("kerasrl2-dqn", "CartPole-v1", seed=0)  # first: it imports TensorFlow with Keras 2
    import tf2onnx

    monkeypatch.setattr(tf2onnx, "__version__", "1.9.3")

    with pytest.raises(RLZooError, match="tf2onnx 1.9.3 is not supported"):
        export_onnx(agent, tmp_path / "p.onnx")
    assert list(tmp_path.iterdir()) == []


def test_metadata_names_agent_env_and_versions(ppo_onnx) -> None:
    metadata = load_onnx(ppo_onnx[1]).metadata

    assert metadata["rlzoo.agent"] == "sb3-ppo" and metadata["rlzoo.env_id"] == "CartPole-v1"
    assert metadata["rlzoo.action"] == "discrete" and json.loads(metadata["rlzoo.env_kwargs"]) == {}
    assert "torch" in json.loads(metadata["rlzoo.versions"])
