"""``import rlzoo`` stays light: no TensorFlow, no torch, no backend."""

import subprocess
import sys


def test_import_rlzoo_does_not_import_tensorflow_or_torch() -> None:
    code = (
        "import sys, rlzoo\n"
        "rlzoo.list_agents(); rlzoo.list_envs()\n"
        "heavy = [m for m in ('tensorflow', 'torch', 'stable_baselines3', 'rl', 'keras', 'tf_keras', 'pettingzoo') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import rlzoo pulled in {out}"


def test_gymnasium_make_with_module_prefix_imports_rlzoo_in_a_fresh_interpreter() -> None:
    code = "import gymnasium as gym\nenv = gym.make('rlzoo:CartPole-v1')\nimport sys\nprint('rlzoo' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "True"
