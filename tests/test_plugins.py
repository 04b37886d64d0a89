"""The plugin contract, with real distributions found by importlib.metadata (dist-info on sys.path)."""

import json
import pathlib
import subprocess
import sys
import textwrap

import pytest


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


# -- a plugin cannot break rlzoo ----------------------------------------------------------------
CHECK_RLZOO_WORKS = """
    import json, warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import rlzoo
        agents = sorted(a.name for a in rlzoo.list_agents())
        envs = len(rlzoo.list_envs())
    plugin_warnings = [str(w.message) for w in caught if w.category.__name__ == "PluginWarning"]
    print(json.dumps({"agents": agents, "envs": envs, "warnings": plugin_warnings}))
"""
RLZOO_AGENTS = ["kerasrl2-dqn", "sb3-a2c", "sb3-dqn", "sb3-ppo", "sb3-sac"]
MALFORMED = {
    "bad syntax": "x = not a valid:::entry point",
    "no equals sign": "just some words",
    "unterminated extras": "y = bad_plugin:thing [extra",
    "no attribute": "z = bad_plugin",
}


@pytest.mark.parametrize("group", ["rlzoo.agents", "rlzoo.envs"])
@pytest.mark.parametrize("line", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_entry_point_warns_naming_its_distribution_and_rlzoo_keeps_working(tmp_path, group, line) -> None:
    make_distribution(tmp_path, "bad-plugin", f"""
        [{group}]
        {line}
    """, {"bad_plugin": "thing = None\n"})
    result = run_python(CHECK_RLZOO_WORKS, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["agents"] == RLZOO_AGENTS and report["envs"] >= 3
    assert len(report["warnings"]) == 1 and "distribution 'bad-plugin'" in report["warnings"][0]


def test_rlzoo_list_works_beside_a_malformed_agent_entry_point(tmp_path) -> None:
    make_distribution(tmp_path, "bad-plugin", """
        [rlzoo.agents]
        x = not a valid:::entry point
    """, {})
    result = subprocess.run([sys.executable, "-m", "rlzoo.cli", "list"], capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in RLZOO_AGENTS)
    assert "distribution 'bad-plugin'" in result.stderr and "Traceback" not in result.stderr


RAISES = {
    "SystemExit": "raise SystemExit(3)",
    "RuntimeError": "raise RuntimeError('boom')",
    "SyntaxError": "def broken(:\n",
    "BaseException": "raise BaseException('odd')",
}


@pytest.mark.parametrize("source", list(RAISES.values()), ids=list(RAISES))
def test_an_env_plugin_that_raises_anything_while_loading_only_warns(tmp_path, source) -> None:
    make_distribution(tmp_path, "raising-plugin", """
        [rlzoo.envs]
        raising = raising_plugin:register
    """, {"raising_plugin": source + "\ndef register():\n    pass\n"})
    result = run_python(CHECK_RLZOO_WORKS, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["agents"] == RLZOO_AGENTS
    assert len(report["warnings"]) == 1 and "distribution 'raising-plugin'" in report["warnings"][0]


def test_an_env_plugin_whose_register_exits_only_warns(tmp_path) -> None:
    make_distribution(tmp_path, "exiting-plugin", """
        [rlzoo.envs]
        exiting = exiting_plugin:register
    """, {"exiting_plugin": "import sys\ndef register():\n    sys.exit('bye')\n"})
    result = run_python(CHECK_RLZOO_WORKS, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SystemExit: bye" in json.loads(result.stdout)["warnings"][0]


def test_an_agent_plugin_that_exits_on_import_fails_alone_with_an_rlzoo_error(tmp_path) -> None:
    make_distribution(tmp_path, "exiting-plugin", """
        [rlzoo.agents]
        exiting-agent = exiting_agent:Agent
    """, {"exiting_agent": "raise SystemExit('no')\n"})
    result = run_python("""
        import rlzoo
        try:
            rlzoo.make_agent("exiting-agent", "CartPole-v1")
        except rlzoo.RLZooError as exc:
            print(type(exc).__name__, exc)
        print(sorted(a.name for a in rlzoo.list_agents()))
        print(type(rlzoo.make_agent("sb3-dqn", "CartPole-v1", seed=0)).__name__)
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("PluginError agent 'exiting-agent' from distribution 'exiting-plugin' failed to load "
                        "(exiting_agent:Agent): SystemExit: no")
    assert lines[1] == str(sorted(["exiting-agent", *RLZOO_AGENTS]))
    assert lines[2] == "SB3DQN"


def test_a_plugins_missing_extra_names_the_plugins_distribution(tmp_path) -> None:
    make_distribution(tmp_path, "fancy-plugin", """
        [rlzoo.agents]
        fancy = fancy_plugin:Agent [gpu]
    """, {"fancy_plugin": "import a_dependency_that_is_not_installed\n"})
    result = run_python("""
        import rlzoo
        try:
            rlzoo.make_agent("fancy", "CartPole-v1")
        except rlzoo.MissingDependencyError as exc:
            print(exc)
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "needs the 'gpu' extra of fancy-plugin: pip install 'fancy-plugin[gpu]'" in result.stdout
    assert "rlzoo[gpu]" not in result.stdout


def test_rlzoo_list_shows_a_plugins_extra_under_its_own_distribution(tmp_path) -> None:
    make_distribution(tmp_path, "fancy-plugin", """
        [rlzoo.agents]
        fancy = fancy_plugin:Agent [gpu]
    """, {"fancy_plugin": ""})
    result = subprocess.run([sys.executable, "-m", "rlzoo.cli", "list"], capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "fancy-plugin[gpu]" in result.stdout and "rlzoo[sb3]" in result.stdout
