"""The repository layout: running Python next to a clone named ``rlzoo`` fails clearly, not silently."""

import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_import_from_the_folder_holding_the_clone_says_what_happened(tmp_path) -> None:
    (tmp_path / "rlzoo").symlink_to(REPO, target_is_directory=True)  # ./rlzoo is the repository

    run = subprocess.run([sys.executable, "-c", "import rlzoo"], cwd=tmp_path, capture_output=True, text=True)

    assert run.returncode != 0
    assert "found the rlzoo repository" in run.stderr and "run it from any other folder" in run.stderr


def test_import_from_the_clone_itself_gets_the_package() -> None:
    run = subprocess.run([sys.executable, "-c", "import rlzoo; print(len(rlzoo.list_envs()))"], cwd=REPO, capture_output=True, text=True)

    assert run.returncode == 0, run.stderr
    assert int(run.stdout) > 0
