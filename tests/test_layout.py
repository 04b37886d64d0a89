"""The repository layout: ``import rlzoo`` gets the package from any working directory."""

import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
CHECK = "import rlzoo, rlzoo.envs.variants; print(rlzoo.__file__, len(rlzoo.list_envs()))"


def test_import_from_the_folder_holding_a_clone_named_rlzoo_gets_the_package(tmp_path) -> None:
    (tmp_path / "rlzoo").symlink_to(REPO, target_is_directory=True)  # ./rlzoo is the repository, as after `git clone`

    run = subprocess.run([sys.executable, "-c", CHECK], cwd=tmp_path, capture_output=True, text=True)

    assert run.returncode == 0, run.stderr
    init, count = run.stdout.split()
    assert pathlib.Path(init) == REPO / "rlzoo" / "__init__.py" and int(count) > 0  # the real package, not a namespace one


def test_import_from_the_clone_itself_gets_the_package() -> None:
    run = subprocess.run([sys.executable, "-c", CHECK], cwd=REPO, capture_output=True, text=True)

    assert run.returncode == 0, run.stderr
    assert int(run.stdout.split()[1]) > 0
