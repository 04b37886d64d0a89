"""TensorBoard logging: the same rlzoo/ tags from every backend, read back with TensorBoard's own reader."""

import pathlib
import sys

import pytest

import rlzoo
import rlzoo.agents.kerasrl2  # noqa: F401  (selects legacy Keras before anything imports TensorFlow)
from rlzoo.tensorboard import EventWriter, keep_tensorflow_out

COMMON = {"episode_return", "episode_length", "eval_mean_return", "eval_std_return", "steps_per_second", "loss", "learning_rate", "exploration"}


def read_scalars(run: pathlib.Path) -> dict[str, list[tuple[int, float]]]:
    keep_tensorflow_out()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


@pytest.mark.parametrize("name", ["sb3-dqn", "kerasrl2-dqn"])
def test_every_backend_writes_the_common_tags(tmp_path, name) -> None:
    agent = rlzoo.train(name, "CartPole-v1", total_timesteps=1500, seed=0, eval_every=600, eval_episodes=2, tensorboard_log=tmp_path)
    scalars = read_scalars(tmp_path / f"{name}_1")

    assert {"rlzoo/" + tag for tag in COMMON} <= set(scalars)
    # float32 in the event file: these returns are whole numbers, exact in float32.
    assert scalars["rlzoo/episode_return"] == [(step, value) for step, value, _ in agent.history.episodes]
    assert scalars["rlzoo/eval_mean_return"] == [(step, mean) for step, mean, _ in agent.history.evaluations]
    assert [step for step, _ in scalars["rlzoo/eval_std_return"]] == [step for step, _, _ in agent.history.evaluations]
    assert len(agent.history.evaluations) == 3  # steps 600, 1200 and the final one
    assert all(value > 0 for _, value in scalars["rlzoo/steps_per_second"])
    assert scalars["rlzoo/learning_rate"][-1][1] > 0
    assert agent.tensorboard_log is None  # only set while training


@pytest.mark.parametrize("name", ["sb3-ppo", "kerasrl2-dqn"])
def test_the_eval_tags_appear_without_a_cadence_in_the_preset(tmp_path, name) -> None:
    """kerasrl2-dqn's CartPole-v0 preset sets no eval_every: rlzoo's default (a tenth of the budget) applies."""
    rlzoo.train(name, "CartPole-v0", total_timesteps=500, seed=0, eval_episodes=2, tensorboard_log=tmp_path)
    scalars = read_scalars(tmp_path / f"{name}_1")
    assert len(scalars["rlzoo/eval_mean_return"]) >= 9


def test_sb3_keeps_its_own_tags_beside_rlzoos(tmp_path) -> None:
    rlzoo.train("sb3-dqn", "CartPole-v1", total_timesteps=1500, seed=0, eval_every=0, tensorboard_log=tmp_path)
    (sb3_run,) = [p for p in (tmp_path / "sb3-dqn_1").iterdir() if p.is_dir()]

    assert {"rollout/exploration_rate", "train/loss"} <= set(read_scalars(sb3_run))


def test_kerasrl2_logs_boltzmann_tau_as_exploration(tmp_path) -> None:
    rlzoo.train("kerasrl2-dqn", "CartPole-v0", total_timesteps=1200, seed=0, eval_every=0, tensorboard_log=tmp_path)
    scalars = read_scalars(tmp_path / "kerasrl2-dqn_1")

    assert scalars["rlzoo/exploration"][-1][1] == 1.0  # BoltzmannQPolicy(tau=1.0), the recipe's
    assert scalars["rlzoo/loss"][-1][1] >= 0


def test_each_training_run_gets_its_own_folder(tmp_path) -> None:
    agent = rlzoo.make_agent("sb3-dqn", "CartPole-v1", seed=0)
    rlzoo.train(agent, total_timesteps=300, eval_every=0, tensorboard_log=tmp_path)
    rlzoo.train(agent, total_timesteps=300, eval_every=0, tensorboard_log=tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["sb3-dqn_1", "sb3-dqn_2"]


def test_writing_events_does_not_import_tensorflow(tmp_path) -> None:
    code = (
        "import sys; from rlzoo.tensorboard import EventWriter\n"
        f"w = EventWriter({str(tmp_path)!r}); w.scalar('a', 1.0, 1); w.close()\n"
        "assert 'tensorflow' not in sys.modules and 'torch' not in sys.modules\n"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True)
    writer = EventWriter(tmp_path / "direct")
    writer.scalar("x", 2.5, 7)
    writer.close()
    assert read_scalars(tmp_path / "direct") == {"x": [(7, 2.5)]}


def test_the_sb3_backend_does_not_import_tensorflow() -> None:
    # SB3's logger imports torch.utils.tensorboard, which would import TensorFlow (and Keras 3).
    code = "import sys, rlzoo.agents.sb3; assert 'tensorflow' not in sys.modules, 'TensorFlow imported'"
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True)
