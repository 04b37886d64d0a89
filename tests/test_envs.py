"""rlzoo's single-agent cart-pole variants and their batched twins."""

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlzoo
from rlzoo.envs.variants import VARIANTS
from rlzoo.envs.wrappers import unwrapped_vector

IDS = sorted(VARIANTS)


@pytest.mark.parametrize("env_id", IDS)
def test_variant_passes_gymnasiums_env_checker(env_id) -> None:
    check_env(gym.make(env_id, render_mode="rgb_array"), skip_render_check=False)


@pytest.mark.parametrize("env_id", IDS)
def test_variant_is_deterministic_under_reset_seed(env_id) -> None:
    def rollout():
        env = gym.make(env_id)
        env.action_space.seed(5)
        observation, info = env.reset(seed=42)
        trace = [observation.tolist(), sorted(info.items())]
        for _ in range(60):
            observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
            trace.append((observation.tolist(), reward, terminated, sorted(info.items())))
            if terminated or truncated:
                observation, info = env.reset()
                trace.append(observation.tolist())
        return trace

    assert rollout() == rollout()


@pytest.mark.parametrize("env_id", IDS)
def test_variant_renders_rgb_array_and_declares_an_honest_spec(env_id) -> None:
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (400, 600, 3) and frame.dtype == np.uint8
    assert env.spec.max_episode_steps == 500
    assert 0 < env.spec.reward_threshold <= 500
    assert env_id in {entry.id for entry in rlzoo.list_envs()}


def test_module_prefixed_id_works_in_a_fresh_interpreter() -> None:
    code = "import gymnasium as gym\nenv = gym.make('rlzoo:rlzoo/SwingUpCartPole-v0')\nprint(env.reset(seed=0)[0].shape)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "(4,)"


@pytest.mark.parametrize("env_id", IDS)
def test_batched_dynamics_match_the_single_env_from_the_same_state(env_id) -> None:
    single = gym.make(env_id).unwrapped
    batch = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    inner = unwrapped_vector(batch)
    single.reset(seed=1)
    batch.reset(seed=2)
    rng = np.random.default_rng(0)
    for _ in range(40):
        inner.state[:, 1] = single.state  # env 1 of the batch takes the single env's state...
        for name in inner.params:
            inner.params[name][1] = single.params[name]  # ...its physical parameters...
        inner.gust[1] = single.gust  # ...and its current gust
        inner.prev_done[:] = False
        inner.steps[:] = 0
        action = single.action_space.sample() if single.continuous else int(rng.integers(2))
        actions = np.stack([action] * 3) if single.continuous else np.full(3, action)
        single.step(action)
        batch.step(actions)
        np.testing.assert_allclose(inner.state[:, 1], single.state, rtol=1e-12, atol=1e-12)
        if abs(single.state[0]) > 2.4 or (abs(single.state[2]) > 0.21 and not single.swing_up):
            single.reset()  # keep sampling states from live episodes


@pytest.mark.parametrize("env_id", IDS)
def test_batched_env_resets_finished_episodes_on_the_next_step(env_id) -> None:
    batch = gym.make_vec(env_id, num_envs=8, vectorization_mode="vector_entry_point")
    batch.reset(seed=0)
    inner = unwrapped_vector(batch)
    ended = np.zeros(8, dtype=bool)
    for _ in range(600):
        _, reward, terminated, truncated, _ = batch.step(batch.action_space.sample())
        assert not (ended & (terminated | truncated)).any()  # the step after an end is a reset step...
        assert (reward[ended] == 0).all()  # ...with reward 0
        assert (inner.steps[ended] == 0).all()
        ended = terminated | truncated
    assert inner.steps.max() <= 500


def test_hidden_velocity_shows_only_position_and_angle() -> None:
    env = gym.make("rlzoo/HiddenVelocityCartPole-v0")
    observation, _ = env.reset(seed=0)
    state = env.unwrapped.state
    np.testing.assert_allclose(observation, np.float32([state[0], state[2]]))


def test_random_physics_draws_parameters_per_episode_within_the_ranges() -> None:
    env = gym.make("rlzoo/RandomPhysicsCartPole-v0", pole_length=(0.3, 0.4))
    draws = [env.reset(seed=seed)[1] for seed in range(5)]
    assert all(0.3 <= d["length"] <= 0.4 and 0.5 <= d["masscart"] <= 1.5 for d in draws)
    assert len({d["length"] for d in draws}) == 5
    _, _, _, _, info = env.step(0)
    assert info == draws[-1]


def test_swing_up_starts_hanging_and_rewards_uprightness() -> None:
    env = gym.make("rlzoo/SwingUpCartPole-v0")
    observation, _ = env.reset(seed=0)
    assert abs(abs(observation[2]) - np.pi) < 0.06
    _, reward, terminated, _, _ = env.step(1)
    assert 0 <= reward < 0.01 and not terminated


def test_noise_changes_observations_but_not_the_state() -> None:
    env = gym.make("rlzoo/NoisyCartPole-v0", noise_std=0.5)
    observation, _ = env.reset(seed=0)
    assert np.abs(observation - np.float32(env.unwrapped.state)).max() > 0.05


def test_continuous_force_is_scaled_and_clipped() -> None:
    env = gym.make("rlzoo/ContinuousCartPole-v0").unwrapped
    env.reset(seed=0)
    env.state = (0.0, 0.0, 0.0, 0.0)
    env.step(np.array([5.0], dtype=np.float32))  # clipped to 1: the full 10 N
    pushed = env.state[1]
    env.state = (0.0, 0.0, 0.0, 0.0)
    env.step(np.array([0.5], dtype=np.float32))
    assert pushed > 0 and env.state[1] == pytest.approx(pushed / 2)


def test_batched_infos_carry_the_masks_a_sync_vector_env_produces() -> None:
    env_id = "rlzoo/RandomPhysicsCartPole-v0"
    batched = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    synced = gym.make_vec(env_id, num_envs=3, vectorization_mode="sync")

    (_, batched_info), (_, synced_info) = batched.reset(seed=0), synced.reset(seed=0)
    assert set(batched_info) == set(synced_info) and "_masscart" in batched_info
    for key in ("_masscart", "_masspole", "_length", "_force_mag"):
        assert batched_info[key].dtype == synced_info[key].dtype == bool and batched_info[key].all()
    batched_info, synced_info = batched.step(np.ones(3, dtype=np.int64))[4], synced.step(np.ones(3, dtype=np.int64))[4]
    assert set(batched_info) == set(synced_info)
