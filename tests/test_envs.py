"""rlzoo's single-agent cart-pole variants and their batched twins."""

import re
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlzoo
from rlzoo.envs.variants import VARIANTS
from rlzoo.envs.vector import CartPoleVariantVectorEnv
from rlzoo.errors import EnvConfigError
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
        _, reward, terminated, _, _ = single.step(action)
        _, rewards, terminations, _, _ = batch.step(actions)
        np.testing.assert_allclose(inner.state[:, 1], single.state, rtol=1e-12, atol=1e-12)
        # ...and the same rules: what the agent sees (before any observation wrapper), the reward, the end.
        np.testing.assert_allclose(inner._observations()[1], single._observation(), rtol=1e-6, atol=1e-6)
        assert rewards[1] == pytest.approx(reward, abs=1e-6) and terminations[1] == terminated
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


# -- kwargs are checked when the env is made ---------------------------------------------------
BAD_KWARGS = [
    ("rlzoo/NoisyCartPole-v0", "noise_std", float("nan")),  # was: all-NaN observations
    ("rlzoo/NoisyCartPole-v0", "noise_std", -0.1),
    ("rlzoo/NoisyCartPole-v0", "noise_std", float("inf")),
    ("rlzoo/NoisyCartPole-v0", "noise_std", "0.1"),
    ("rlzoo/WindyCartPole-v0", "wind_std", -1.0),
    ("rlzoo/WindyCartPole-v0", "wind_std", float("nan")),
    ("rlzoo/RandomPhysicsCartPole-v0", "cart_mass", (1.5, 0.5)),  # unordered
    ("rlzoo/RandomPhysicsCartPole-v0", "pole_mass", (0.0, 0.2)),  # not positive
    ("rlzoo/RandomPhysicsCartPole-v0", "pole_length", (-0.5, 0.5)),
    ("rlzoo/RandomPhysicsCartPole-v0", "force", 10.0),  # not a pair
    ("rlzoo/RandomPhysicsCartPole-v0", "force", (5, 10, 15)),
    ("rlzoo/RandomPhysicsCartPole-v0", "cart_mass", (0.5, float("inf"))),
]


@pytest.mark.parametrize("env_id, key, value", BAD_KWARGS)
def test_a_bad_kwarg_is_an_env_config_error_naming_env_kwarg_and_rule(env_id, key, value) -> None:
    with pytest.raises(EnvConfigError, match=rf"^env '{env_id}': {key}={re.escape(repr(value))}: must be"):
        rlzoo.make_env(env_id, **{key: value})


@pytest.mark.parametrize("env_id, key, value", BAD_KWARGS)
def test_the_batched_twin_refuses_the_same_kwargs(env_id, key, value) -> None:
    with pytest.raises(EnvConfigError, match=rf"^{key}={re.escape(repr(value))}: must be"):
        gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", **{key: value})


@pytest.mark.parametrize("num_envs", [0, 1.5, "2"])
def test_the_batched_env_needs_at_least_one_env(num_envs) -> None:
    with pytest.raises(EnvConfigError, match=rf"num_envs={re.escape(repr(num_envs))}: must be an int >= 1"):
        CartPoleVariantVectorEnv(num_envs)


@pytest.mark.parametrize(
    "key, value, rule",
    [
        ("n_carts", 1, "an int >= 2"),
        ("n_carts", 2.5, "an int >= 2"),
        ("n_carts", True, "an int >= 2"),
        ("spring_k", -1.0, "a finite number >= 0"),
        ("spring_k", float("nan"), "a finite number >= 0"),
        ("max_cycles", 0, "an int >= 1"),
        ("max_cycles", 1.5, "an int >= 1"),
    ],
)
def test_spring_carts_checks_its_kwargs(key, value, rule) -> None:
    with pytest.raises(EnvConfigError, match=rf"^env 'rlzoo/SpringCarts-v0': {key}={re.escape(repr(value))}: must be {rule}"):
        rlzoo.make_env("rlzoo/SpringCarts-v0", **{key: value})


@pytest.mark.parametrize(
    "env_id, kwargs, message",
    [
        ("rlzoo/NoisyCartPole-v0", {"noise": 0.1}, r"unknown kwarg 'noise' for env 'rlzoo/NoisyCartPole-v0': did you mean 'noise_std'\? valid kwargs: noise_std, render_mode"),
        ("rlzoo/SpringCarts-v0", {"n_cart": 4}, r"unknown kwarg 'n_cart' for env 'rlzoo/SpringCarts-v0': did you mean 'n_carts'"),
        ("CartPole-v1", {"gravity": 3.0}, r"unknown kwarg 'gravity' for env 'CartPole-v1': valid kwargs: sutton_barto_reward, render_mode"),
    ],
)
def test_an_unknown_kwarg_names_the_valid_ones(env_id, kwargs, message) -> None:
    with pytest.raises(EnvConfigError, match=message):  # was: Python's TypeError naming only the one
        rlzoo.make_env(env_id, **kwargs)


def test_gymnasium_makes_own_kwargs_still_pass_through() -> None:
    env = rlzoo.make_env("rlzoo/WindyCartPole-v0", max_episode_steps=9, disable_env_checker=True, wind_std=0.0)
    assert env.spec.max_episode_steps == 9
