"""The plugin contract, with real distributions found by importlib.metadata (dist-info on sys.path)."""

import json
import pathlib
import subprocess
import sys
import textwrap


def make_distribution(root: pathlib.Path, name: str, entry_points: str, modules: dict[str, str]) -> None:
    """Write an installed-looking distribution: a ``*.dist-info`` with METADATA and entry_points.txt."""
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    for module, source in modules.items():
        path = root / (module.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))


DEMO_ENVS = """
    from rlzoo import register_env

    def register():
        register_env("demo/ShortCartPole-v0", "demo_plugin.env:make", max_episode_steps=20, description="a plugin env")
"""
DEMO_ENV = """
    import gymnasium as gym

    def make(**kwargs):
        return gym.make("CartPole-v1").unwrapped
"""
DEMO_AGENT = """
    from rlzoo.agents.sb3 import SB3PPO

    class DemoAgent(SB3PPO):
        pass
"""


def run_python(code: str, path: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "always", "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"}, timeout=300)


def test_a_plugin_adds_envs_on_import_and_agents_lazily(tmp_path) -> None:
    make_distribution(tmp_path, "demo-plugin", """
        [rlzoo.envs]
        demo = demo_plugin.envs:register
        [rlzoo.agents]
        demo-ppo = demo_plugin.agent:DemoAgent [sb3]
    """, {"demo_plugin.__init__": "", "demo_plugin.envs": DEMO_ENVS, "demo_plugin.env": DEMO_ENV, "demo_plugin.agent": DEMO_AGENT})
    result = run_python("""
        import json, sys, gymnasium as gym, rlzoo
        envs = {e.id: e.owner for e in rlzoo.list_envs()}
        agents = {a.name: (a.owner, a.extra) for a in rlzoo.list_agents()}
        lazy = "demo_plugin.agent" not in sys.modules
        env = gym.make("demo/ShortCartPole-v0")
        agent = rlzoo.make_agent("demo-ppo", env, seed=0, n_steps=64)
        print(json.dumps({"env_owner": envs.get("demo/ShortCartPole-v0"), "agent": agents.get("demo-ppo"), "lazy": lazy,
                          "limit": env.spec.max_episode_steps, "made": type(agent).__name__}))
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == {"env_owner": "distribution 'demo-plugin'", "agent": ["distribution 'demo-plugin'", "sb3"],
                      "lazy": True, "limit": 20, "made": "DemoAgent"}


def test_a_broken_plugin_warns_with_its_distribution_and_rlzoo_keeps_working(tmp_path) -> None:
    make_distribution(tmp_path, "broken-plugin", """
        [rlzoo.envs]
        broken = broken_plugin:register
    """, {"broken_plugin": "def register():\n    raise RuntimeError('boom')\n"})
    result = run_python("import rlzoo\nprint(len(rlzoo.list_envs()))", tmp_path)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 3
    assert "PluginWarning" in result.stderr
    assert "distribution 'broken-plugin'" in result.stderr and "RuntimeError: boom" in result.stderr


def test_a_plugin_env_id_that_is_taken_names_both_owners(tmp_path) -> None:
    make_distribution(tmp_path, "greedy-plugin", """
        [rlzoo.envs]
        greedy = greedy_plugin:register
    """, {"greedy_plugin": "from rlzoo import register_env\ndef register():\n    register_env('CartPole-v1')\n"})
    result = run_python("import rlzoo", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "env 'CartPole-v1' is already registered by gymnasium; distribution 'greedy-plugin' tried to register it again" in result.stderr


def test_two_distributions_claiming_one_agent_name_is_an_error_naming_both(tmp_path) -> None:
    make_distribution(tmp_path, "shadow-plugin", """
        [rlzoo.agents]
        sb3-dqn = shadow_plugin:Agent
    """, {"shadow_plugin": "Agent = None\n"})
    result = run_python("""
        import rlzoo
        try:
            rlzoo.make_agent("sb3-dqn", "CartPole-v1")
        except rlzoo.DuplicateNameError as exc:
            print(exc)
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "agent 'sb3-dqn' is registered by both distribution 'rlzoo' and distribution 'shadow-plugin'" in result.stdout \
        or "agent 'sb3-dqn' is registered by both distribution 'shadow-plugin' and distribution 'rlzoo'" in result.stdout
