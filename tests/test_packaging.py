"""The real package, built and installed: rlzoo.envs and rlzoo.agents, never top-level envs/agents."""

import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    source = tmp_path_factory.mktemp("src")
    for name in ("rlzoo", "envs", "agents", "setup.cfg", "pyproject.toml", "README.md"):
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, source / name)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(source)],
                   check=True, capture_output=True)
    (found,) = dist.glob("rlzoo-*.whl")
    return found


def test_wheel_has_only_the_rlzoo_package_at_top_level(wheel) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"rlzoo", next(t for t in top if t.endswith(".dist-info"))}, top
    assert "rlzoo/envs/__init__.py" in names
    assert "rlzoo/agents/sb3/__init__.py" in names and "rlzoo/agents/sb3/payload.py" in names
    assert "rlzoo/agents/presets/sb3-dqn.yml" in names
    assert "rlzoo/tuning/study.py" in names and "rlzoo/agents/presets/kerasrl2-dqn.recipe.yml" in names


def test_wheel_declares_the_console_script_and_plugin_groups(wheel) -> None:
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    text = archive.read(entry_points).decode()
    assert "[console_scripts]\nrlzoo = rlzoo.cli:main" in text
    assert "[rlzoo.agents]" in text and "sb3-dqn = rlzoo.agents.sb3:SB3DQN [sb3]" in text
    assert "[rlzoo.envs]\nrlzoo = rlzoo.envs:register" in text


def test_installed_wheel_imports_and_finds_its_agents_and_presets(wheel, tmp_path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    code = (
        "import rlzoo, sys\n"
        "print(rlzoo.__file__)\n"
        "import importlib.util\n"
        "print(importlib.util.find_spec('envs') is None and importlib.util.find_spec('agents') is None)\n"
        "agent = rlzoo.make_agent('sb3-dqn', 'CartPole-v1', seed=0)\n"
        "print(agent.hyperparams['learning_rate'])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    where, no_top_level, learning_rate = result.stdout.split()
    assert where.startswith(str(site)), where
    assert no_top_level == "True"
    assert learning_rate == "0.0023"  # the preset file shipped inside the wheel
