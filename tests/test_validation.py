"""Every bad argument is a clear RLZooError when the object is built, and training stops on non-finite values.

Hyperparameters of every backend, ``make_agent``'s and ``train``'s arguments; env kwargs are
in ``test_envs.py``. Each case names the key, the value and what would be valid.
"""

import math
import re

import gymnasium as gym
import numpy as np
import pytest

import rlzoo
from rlzoo.errors import ArgumentError, HyperparameterError, IncompatibleEnvError, RLZooError, TrainingDivergedError

import rlzoo.agents.kerasrl2  # noqa: F401  (the test extra installs it: a failure here is a real one)


def bad_value(key: str, value: object, agent: str) -> str:
    """The start of the message for a refused value: ``key=value for agent 'name': must be``."""
    return rf"^{re.escape(key)}={re.escape(repr(value))} for agent '{agent}': must be"


# -- kerasrl2-dqn --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key, value",
    [
        ("hidden_layers", "24"),  # was: layers of 2 and 4 units
        ("hidden_layers", [2.7]),  # was: 2 units
        ("hidden_layers", [0]),
        ("hidden_layers", [True]),
        ("hidden_layers", 24),
        ("enable_double_dqn", "false"),  # was: double DQN on
        ("enable_double_dqn", 0),
        ("enable_dueling_network", 1),
        ("fast", "no"),  # was: the fused path kept
        ("batch_size", 0),
        ("batch_size", True),
        ("batch_size", 32.0),
        ("memory_limit", 0),  # was: IndexError at the first step
        ("memory_limit", 1e12),
        ("train_interval", 0),  # was: ZeroDivisionError
        ("learning_rate", 0),
        ("learning_rate", -1e-3),
        ("learning_rate", math.nan),
        ("learning_rate", "1e-3"),
        ("gamma", 1.5),
        ("gamma", -0.1),
        ("nb_steps_warmup", -1),
        ("nb_steps_warmup", 10.5),
        ("target_model_update", 0),
        ("target_model_update", 2.5),  # >= 1 counts steps
        ("target_model_update", math.inf),
        ("delta_clip", 0),
        ("delta_clip", "1"),
        ("dueling_type", "mean"),
        ("policy", "softmax"),
        ("policy_params", [1.0]),
    ],
)
def test_kerasrl2_refuses_a_bad_value_naming_key_value_and_rule(key, value) -> None:
    with pytest.raises(HyperparameterError, match=bad_value(key, value, "kerasrl2-dqn")):
        rlzoo.make_agent("kerasrl2-dqn", "CartPole-v0", **{key: value})


@pytest.mark.parametrize(
    "policy, params, message",
    [
        ("boltzmann", {"tau": 0}, r"policy_params\.tau=0 .*must be a finite number > 0"),
        ("boltzmann", {"clip": [5, -5]}, r"policy_params\.clip=\[5, -5\] .*low < high"),
        ("boltzmann", {"clip": 3}, r"policy_params\.clip=3 .*pair"),
        ("eps_greedy", {"eps": 1.5}, r"policy_params\.eps=1\.5 .*in \[0, 1\]"),
        ("eps_greedy", {"tau": 1.0}, r"policy 'eps_greedy' takes only eps \(unknown: tau\)"),  # was: TypeError
        ("greedy", {"eps": 0.1}, r"policy 'greedy' takes no parameters"),
    ],
)
def test_kerasrl2_checks_policy_params_against_the_policy(policy, params, message) -> None:
    with pytest.raises(HyperparameterError, match=message):
        rlzoo.make_agent("kerasrl2-dqn", "CartPole-v0", policy=policy, policy_params=params)


def test_kerasrl2_accepts_the_edges_of_every_range() -> None:
    agent = rlzoo.make_agent(
        "kerasrl2-dqn", "CartPole-v0", seed=0, hidden_layers=(8,), gamma=1.0, nb_steps_warmup=0, target_model_update=100,
        delta_clip=1.0, memory_limit=1, batch_size=1, policy="eps_greedy", policy_params={"eps": 0.0},
    )
    assert agent.config.hidden_layers == (8,) and agent.hyperparams["hidden_layers"] == [8]
    assert agent.dqn.target_model_update == 100


# -- every backend -------------------------------------------------------------------------------
@pytest.mark.parametrize("agent", ["kerasrl2-dqn", "sb3-dqn", "sb3-ppo"])
@pytest.mark.parametrize("value", [0, -2, 1.9, "x", True])
def test_frame_stack_must_be_an_int_of_at_least_one(agent, value) -> None:
    with pytest.raises(HyperparameterError, match=bad_value("frame_stack", value, agent)):
        rlzoo.make_agent(agent, "CartPole-v1", frame_stack=value)


@pytest.mark.parametrize("agent", ["sb3-dqn", "sb3-ppo", "sb3-a2c"])
@pytest.mark.parametrize("value", [0, -1, 1.5, "x", True])
def test_n_envs_must_be_an_int_of_at_least_one(agent, value) -> None:
    with pytest.raises(HyperparameterError, match=bad_value("n_envs", value, agent)):
        rlzoo.make_agent(agent, "CartPole-v1", n_envs=value)


# -- SB3 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "agent, settings, key",
    [
        ("sb3-ppo", {"batch_size": 0}, "batch_size"),  # was: an assert inside SB3
        ("sb3-ppo", {"batch_size": 1}, "batch_size"),  # SB3 asserts batch_size > 1
        ("sb3-ppo", {"n_envs": 8, "n_steps": 64, "batch_size": 1024}, "batch_size"),  # more than one rollout
        ("sb3-ppo", {"n_steps": 0}, "n_steps"),
        ("sb3-ppo", {"n_envs": 1, "n_steps": 1}, "n_steps"),
        ("sb3-dqn", {"buffer_size": 0}, "buffer_size"),
        ("sb3-dqn", {"buffer_size": 1e11}, "buffer_size"),
        ("sb3-dqn", {"learning_rate": 0}, "learning_rate"),
        ("sb3-dqn", {"learning_rate": -1e-3}, "learning_rate"),
        ("sb3-dqn", {"learning_rate": "abc"}, "learning_rate"),  # was: AssertionError
        ("sb3-ppo", {"learning_rate": "lin_x"}, "learning_rate"),
        ("sb3-ppo", {"clip_range": "lin_-0.2"}, "clip_range"),
        ("sb3-dqn", {"gamma": 1.5}, "gamma"),
        ("sb3-dqn", {"gamma": -0.5}, "gamma"),
        ("sb3-dqn", {"exploration_fraction": 2}, "exploration_fraction"),
        ("sb3-dqn", {"train_freq": 0}, "train_freq"),
        ("sb3-dqn", {"train_freq": [4, "hour"]}, "train_freq"),
        ("sb3-dqn", {"gradient_steps": 0}, "gradient_steps"),
        ("sb3-ppo", {"ent_coef": "auto"}, "ent_coef"),  # only SAC tunes it
        ("sb3-ppo", {"normalize_advantage": "no"}, "normalize_advantage"),  # a type from SB3's annotation
        ("sb3-dqn", {"policy": "Foo"}, "policy"),
        ("sb3-dqn", {"policy": 3}, "policy"),
        ("sb3-dqn", {"policy_kwargs": {"net_arch": [-1]}}, "policy_kwargs.net_arch"),  # was: accepted
        ("sb3-dqn", {"policy_kwargs": {"net_arch": [0]}}, "policy_kwargs.net_arch"),
        ("sb3-dqn", {"policy_kwargs": {"net_arch": [2.5]}}, "policy_kwargs.net_arch"),
        ("sb3-ppo", {"policy_kwargs": {"net_arch": {"pi": [64], "vf": [-1]}}}, "policy_kwargs.net_arch"),
        ("sb3-ppo", {"policy_kwargs": {"net_arch": [{"pi": [0], "vf": [64]}]}}, "policy_kwargs.net_arch"),
        ("sb3-ppo", {"policy_kwargs": {"net_arch": {"actor": [64]}}}, "policy_kwargs.net_arch"),
        ("sb3-ppo", {"policy_kwargs": {"activation_fn": "sigmoidish"}}, "policy_kwargs.activation_fn"),
        ("sb3-ppo", {"policy_kwargs": {"ortho_init": "yes"}}, "policy_kwargs.ortho_init"),
        ("sb3-ppo", {"policy_kwargs": [64, 64]}, "policy_kwargs"),
    ],
)
def test_sb3_refuses_a_bad_value_before_building(agent, settings, key) -> None:
    value = settings[key] if "." not in key else settings["policy_kwargs"][key.split(".")[1]]
    with pytest.raises(HyperparameterError, match=bad_value(key, value, agent)):
        rlzoo.make_agent(agent, "CartPole-v1", **settings)


def test_sb3_unknown_policy_kwarg_names_the_policys_arguments() -> None:
    with pytest.raises(HyperparameterError, match=r"'policy_kwargs.net_arc' for agent 'sb3-dqn': did you mean 'policy_kwargs.net_arch'"):
        rlzoo.make_agent("sb3-dqn", "CartPole-v1", policy_kwargs={"net_arc": [64]})


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"policy": "CnnPolicy"}, "NatureCNN only with images"),  # SB3's own assert, kept as the reason
        ({"device": "nope"}, "device"),  # torch's RuntimeError
    ],
)
def test_sb3_errors_while_building_are_hyperparameter_errors_with_sb3s_message(settings, message) -> None:
    with pytest.raises(HyperparameterError, match=rf"^hyperparameters for agent 'sb3-dqn': Stable-Baselines3's DQN refused them: .*{message}"):
        rlzoo.make_agent("sb3-dqn", "CartPole-v1", **settings)


@pytest.mark.parametrize(
    "agent, env_id, settings",
    [
        ("sb3-ppo", "CartPole-v1", {"policy_kwargs": {"net_arch": {"pi": [16], "vf": [16]}, "activation_fn": "relu"}}),
        ("sb3-ppo", "CartPole-v1", {"policy_kwargs": {"net_arch": [{"pi": [16], "vf": [16]}]}}),
        ("sb3-ppo", "CartPole-v1", {"learning_rate": "lin_0.001", "clip_range": 0.1, "target_kl": None}),
        ("sb3-dqn", "CartPole-v1", {"train_freq": [1, "episode"], "gradient_steps": -1, "max_grad_norm": 10}),
        ("sb3-sac", "Pendulum-v1", {"ent_coef": "auto_0.1", "policy_kwargs": {"net_arch": {"pi": [16], "qf": [16]}}}),
    ],
)
def test_sb3_accepts_the_forms_sb3_documents(agent, env_id, settings) -> None:
    built = rlzoo.make_agent(agent, env_id, seed=0, **settings)
    assert built.hyperparams == {**built.hyperparams, **settings}  # kept as given (SB3 writes into its own copies)


def test_continuing_an_sb3_ppo_preset_agent_on_its_env_id_rebuilds_its_eight_envs() -> None:
    agent = rlzoo.make_agent("sb3-ppo", "CartPole-v1", seed=0)  # preset: n_envs 8, n_steps 32
    rlzoo.train(agent, "CartPole-v1", total_timesteps=64)  # was: AssertionError (1 != 8)
    assert agent.model.get_env().num_envs == 8
    assert agent.num_timesteps == 256  # one rollout of 8 x 32 steps


def test_continuing_on_an_env_with_other_spaces_is_an_incompatible_env_error() -> None:
    agent = rlzoo.make_agent("sb3-ppo", "CartPole-v1", seed=0, n_envs=1, n_steps=64, batch_size=64)
    with pytest.raises(IncompatibleEnvError, match=r"sb3-ppo cannot continue on Acrobot-v1: Observation spaces do not match"):
        rlzoo.train(agent, "Acrobot-v1", total_timesteps=64)
    assert agent.env_id == "CartPole-v1"  # left as it was


# -- make_agent and train ------------------------------------------------------------------------
@pytest.mark.parametrize("name", [None, 123, ["sb3-dqn"]])
def test_make_agent_needs_an_agent_name(name) -> None:
    with pytest.raises(ArgumentError, match=r"an agent name must be a string such as 'sb3-dqn'"):
        rlzoo.make_agent(name, "CartPole-v1")


@pytest.mark.parametrize("env", [None, 123, gym.spaces.Discrete(2)])
def test_make_agent_needs_an_env_id_or_instance(env) -> None:
    with pytest.raises(ArgumentError, match=r"env must be an env id .* or an env instance"):
        rlzoo.make_agent("sb3-dqn", env)


@pytest.mark.parametrize("env_id", [123, None])
def test_make_env_needs_a_string_id(env_id) -> None:
    with pytest.raises(ArgumentError, match=r"an env id must be a string"):
        rlzoo.make_env(env_id)


def test_a_malformed_env_id_is_an_unknown_env_error() -> None:
    with pytest.raises(rlzoo.UnknownEnvError, match=r"unknown env ''"):  # was: gymnasium.error.Error
        rlzoo.make_env("")


@pytest.mark.parametrize("seed", [True, "abc", -1, 1.5, 2**32])
def test_seed_must_be_none_or_an_int_from_0_to_2_to_the_32(seed) -> None:
    with pytest.raises(ArgumentError, match=r"seed must be None or an int from 0 to 2\*\*32 - 1"):
        rlzoo.make_agent("sb3-dqn", "CartPole-v1", seed=seed)
    with pytest.raises(ArgumentError, match=r"seed must be None or an int"):
        rlzoo.train("sb3-dqn", "CartPole-v1", total_timesteps=10, seed=seed)


@pytest.mark.parametrize(
    "key, value",
    [
        ("total_timesteps", "100"),
        ("total_timesteps", 100.7),
        ("total_timesteps", 100.0),
        ("total_timesteps", True),
        ("total_timesteps", 0),
        ("eval_every", -1),
        ("eval_every", 2.5),
        ("eval_episodes", 0),
        ("eval_episodes", "5"),
    ],
)
def test_train_refuses_a_bad_count_naming_it(key, value) -> None:
    arguments = {"total_timesteps": 10, key: value}
    with pytest.raises(ArgumentError, match=rf"^{key}={type(value).__name__} {re.escape(repr(value))}: must be an int >="):
        rlzoo.train("sb3-dqn", "CartPole-v1", **arguments)


def test_train_takes_numpy_ints() -> None:
    agent = rlzoo.train("sb3-dqn", "CartPole-v1", total_timesteps=np.int64(64), eval_every=np.int32(0), seed=np.int64(0), train_freq=4)
    assert agent.num_timesteps == 64


@pytest.mark.parametrize("agent", [None, 42, object()])
def test_train_needs_an_agent_or_a_name(agent) -> None:
    with pytest.raises(ArgumentError, match=r"agent must be an rlzoo Agent or a registered agent name"):
        rlzoo.train(agent, "CartPole-v1", total_timesteps=10)


def test_train_by_name_with_a_bad_env_is_a_clear_error() -> None:
    with pytest.raises(ArgumentError, match=r"env must be an env id"):
        rlzoo.train("sb3-dqn", 123, total_timesteps=10)


def test_hyperparameters_for_a_built_agent_are_an_rlzoo_error() -> None:
    agent = rlzoo.make_agent("sb3-dqn", "CartPole-v1")
    with pytest.raises(ArgumentError, match=r"hyperparameters \['gamma'\] only apply when agent is a name"):
        rlzoo.train(agent, total_timesteps=10, gamma=0.5)


def test_every_refusal_is_both_an_rlzoo_error_and_a_value_error() -> None:
    for error in (ArgumentError, HyperparameterError, rlzoo.errors.EnvConfigError):
        assert issubclass(error, RLZooError) and issubclass(error, ValueError)


# -- non-finite training -------------------------------------------------------------------------
class NonFiniteAfter(gym.Wrapper):
    """Returns NaN observations (or rewards) after ``after`` steps: a broken sensor."""

    def __init__(self, env: gym.Env, after: int, what: str) -> None:
        super().__init__(env)
        self.after, self.what, self.steps = after, what, 0

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        if self.steps > self.after:
            if self.what == "observation":
                observation = np.full_like(observation, np.nan)
            else:
                reward = math.inf
        return observation, reward, terminated, truncated, info


#: Settings that train from the first steps. The wrapper keeps CartPole-v1's spec, so the presets
#: apply; sb3-ppo's 8 copies would need an env Gymnasium can rebuild, hence one env here.
FAST = {"kerasrl2-dqn": {}, "sb3-dqn": {"learning_starts": 50, "train_freq": 4, "gradient_steps": 1}, "sb3-ppo": {"n_envs": 1, "n_steps": 64, "batch_size": 64}}


@pytest.mark.parametrize("agent", sorted(FAST))
@pytest.mark.parametrize("what", ["observation", "reward"])
def test_a_non_finite_observation_or_reward_stops_training_at_that_step(agent, what) -> None:
    built = rlzoo.make_agent(agent, NonFiniteAfter(gym.make("CartPole-v1"), 150, what), seed=0, **FAST[agent])
    with pytest.raises(TrainingDivergedError, match=rf"{agent}: training stopped at step 151: .*non-finite {what}.*check the env's observations and rewards"):
        rlzoo.train(built, total_timesteps=1000, eval_every=0)
    assert built.num_timesteps <= 151


class PoisonWeights(rlzoo.Callback):
    """Sets every weight to NaN at step ``at``, as a diverging update would."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_step(self, agent) -> bool:
        if agent.num_timesteps == self.at:
            if agent.name == "kerasrl2-dqn":
                online, target = agent.get_weights()
                agent.set_weights(([np.full_like(w, np.nan) for w in online], target))
            else:
                for parameter in agent.model.policy.parameters():
                    parameter.data.fill_(math.nan)
        return True


@pytest.mark.parametrize("agent, message", [
    # The fused step computes the next loss from the poisoned weights before it needs fresh Q-values: either guard stops step 101.
    ("kerasrl2-dqn", r"kerasrl2-dqn: training stopped at step 101: the (weights became non-finite|loss became nan)"),
    ("sb3-dqn", r"sb3-dqn: training stopped at step \d+: the policy's parameters became non-finite"),
    ("sb3-ppo", r"sb3-ppo: training stopped at step \d+: the policy's parameters became non-finite"),
])
def test_non_finite_weights_stop_training_with_a_clear_error(agent, message) -> None:
    built = rlzoo.make_agent(agent, "CartPole-v1", seed=0, **FAST[agent])
    with pytest.raises(TrainingDivergedError, match=message):
        rlzoo.train(built, total_timesteps=600, eval_every=0, callbacks=[PoisonWeights(at=100)])


# -- found by probing the merged tree with bad input ------------------------------------------
@pytest.fixture(scope="module")
def a2c() -> rlzoo.Agent:
    return rlzoo.make_agent("sb3-a2c", "CartPole-v1", seed=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_episodes": 0}, r"n_episodes=int 0: must be an int >= 1"),
    ({"n_episodes": "5"}, r"n_episodes=str '5': must be an int >= 1"),
    ({"n_episodes": 1, "seed": -3}, r"seed"),
])
def test_evaluate_checks_its_arguments(a2c, kwargs, message) -> None:
    with pytest.raises(ArgumentError, match=message):
        rlzoo.evaluate(a2c, **kwargs)


def test_evaluate_on_an_env_with_other_spaces_is_an_incompatible_env_error(a2c) -> None:
    with pytest.raises(IncompatibleEnvError, match=r"trained on CartPole-v1 .* evaluate it on an env with the same spaces"):
        rlzoo.evaluate(a2c, "Pendulum-v1", n_episodes=1)


@pytest.mark.parametrize("threads", [0, -1, "2", 1.5])
def test_train_refuses_a_thread_count_that_is_not_a_positive_int(threads) -> None:
    with pytest.raises(ArgumentError, match=r"threads="):
        rlzoo.train("sb3-a2c", "CartPole-v1", total_timesteps=10, threads=threads)


@pytest.mark.parametrize("key", ["tensorboard_log", "checkpoint_dir"])
def test_train_refuses_an_output_folder_it_cannot_make_before_training(tmp_path, key) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    extra = {"checkpoint_every": 5} if key == "checkpoint_dir" else {}
    with pytest.raises(ArgumentError, match=rf"{key}=.* cannot be used as a folder"):
        rlzoo.train("sb3-a2c", "CartPole-v1", total_timesteps=10, **{key: blocker / "inside"}, **extra)


def test_frame_stack_has_an_upper_bound_instead_of_exhausting_memory() -> None:
    with pytest.raises(HyperparameterError, match=r"frame_stack=1000000000 for agent .sb3-a2c.: must be an int from 1 to 1024"):
        rlzoo.make_agent("sb3-a2c", "CartPole-v1", frame_stack=10**9)


@pytest.mark.parametrize("text, message", [
    ("CartPole-v1: [1, 2", r"cannot read the preset file"),
    ("- 1\n- 2\n", r"maps env ids to"),
    ("CartPole-v1: 3\n", r"must be a mapping with the sections train and hyperparams"),
])
def test_a_malformed_preset_file_is_a_clear_error(tmp_path, text, message) -> None:
    path = tmp_path / "preset.yml"
    path.write_text(text)
    with pytest.raises(RLZooError, match=message):
        rlzoo.make_agent("sb3-a2c", "CartPole-v1", preset=path)
