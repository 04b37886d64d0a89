"""Registries: lookups, suggestions, duplicates."""

import gymnasium as gym
import pytest

import rlzoo
from rlzoo.errors import DuplicateNameError, MissingDependencyError, UnknownAgentError, UnknownEnvError
from rlzoo.registry import AgentEntry, _agents


def test_builtin_agents_come_from_entry_points_with_their_extra() -> None:
    agents = {entry.name: entry for entry in rlzoo.list_agents()}
    for name in ("sb3-dqn", "sb3-ppo", "sb3-a2c", "sb3-sac"):
        assert agents[name].extra == "sb3"
        assert agents[name].entry_point.startswith("rlzoo.agents.sb3:")
        assert "rlzoo" in agents[name].owner


def test_unknown_agent_suggests_the_closest_names() -> None:
    with pytest.raises(UnknownAgentError, match=r"unknown agent 'sb3-dqm': did you mean 'sb3-dqn'"):
        rlzoo.make_agent("sb3-dqm", "CartPole-v1")


def test_unknown_env_suggests_the_closest_ids() -> None:
    with pytest.raises(UnknownEnvError, match=r"unknown env 'CartPol-v1': did you mean 'CartPole-v1'"):
        rlzoo.make_env("CartPol-v1")


def test_list_envs_has_cartpole_with_its_kind() -> None:
    envs = {entry.id: entry for entry in rlzoo.list_envs()}
    assert envs["CartPole-v0"].kind == "gymnasium"
    assert envs["CartPole-v1"].kind == "gymnasium"


def test_registering_a_taken_agent_name_names_both_owners() -> None:
    with pytest.raises(DuplicateNameError, match=r"'sb3-dqn' is already registered by distribution 'rlzoo'; user code"):
        rlzoo.register_agent("sb3-dqn", lambda env, **kw: None)


def test_registering_a_taken_env_id_names_both_owners() -> None:
    with pytest.raises(DuplicateNameError, match=r"'CartPole-v1' is already registered by gymnasium; user code"):
        rlzoo.register_env("CartPole-v1")
    with pytest.raises(DuplicateNameError, match=r"already in Gymnasium's registry"):
        rlzoo.register_env("Acrobot-v1", "somewhere:Env")


def test_register_agent_from_code_is_listed_and_made() -> None:
    from rlzoo.agents.sb3 import SB3PPO

    rlzoo.register_agent("test-ppo", SB3PPO)
    try:
        assert "test-ppo" in [entry.name for entry in rlzoo.list_agents()]
        agent = rlzoo.make_agent("test-ppo", "CartPole-v1", seed=0, n_steps=64)
        assert agent.name == "test-ppo"
        assert agent.hyperparams["n_steps"] == 64  # the override wins over SB3PPO's preset...
        assert agent.hyperparams["n_envs"] == 8  # ...which fills in the rest
    finally:
        del _agents["test-ppo"]


def test_an_agent_whose_dependency_is_missing_names_the_extra() -> None:
    _agents["test-missing"] = AgentEntry("test-missing", "user code", "kerasrl2", "no_such_module_xyz:Agent")
    try:
        with pytest.raises(MissingDependencyError, match=r"pip install 'rlzoo\[kerasrl2\]'"):
            rlzoo.make_agent("test-missing", "CartPole-v1")
    finally:
        del _agents["test-missing"]


def test_make_env_accepts_any_gymnasium_id_with_kwargs() -> None:
    env = rlzoo.make_env("CartPole-v1", max_episode_steps=7)
    assert isinstance(env, gym.Env)
    assert env.spec.max_episode_steps == 7
