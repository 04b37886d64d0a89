"""The zoo matrix of ``rlzoo report``: envs as rows, agents as columns, marked cells with notes, written into a README."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import numpy as np
import pytest
from report_cases import record_runs

from rlzoo.errors import RLZooError
from rlzoo.experiments import report
from rlzoo.experiments.matrix import BEGIN_MARKER, END_MARKER
from rlzoo.experiments.stats import interquartile_mean

SEEDS = 8
REPS = 200
# Final scores of seed s: base + s. CartPole-v1's threshold is 475 (90%: 427.5), CartPole-v0's 195 (175.5):
# sb3-ppo solves both, sb3-dqn falls short on CartPole-v1 only.
BASE = {("sb3-dqn", "CartPole-v0"): 190.0, ("sb3-dqn", "CartPole-v1"): 300.0, ("sb3-ppo", "CartPole-v0"): 195.0, ("sb3-ppo", "CartPole-v1"): 490.0}
# The weights training ended with score LAST_DROP less (sb3-ppo on CartPole-v0 kept its last weights).
LAST_DROP = {("sb3-dqn", "CartPole-v0"): 40.0, ("sb3-dqn", "CartPole-v1"): 100.0, ("sb3-ppo", "CartPole-v0"): 0.0, ("sb3-ppo", "CartPole-v1"): 5.0}


def _final(agent: str, env: str, seed: int) -> float:
    return BASE[agent, env] + seed


def _iqm(scores: list[float]) -> float:
    return float(interquartile_mean(np.array(scores)[:, None])[0])


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """Two agents on two envs with known kept and last weights' scores (no training)."""
    return record_runs(
        tmp_path_factory.mktemp("matrix"), ["sb3-dqn", "sb3-ppo"], ["CartPole-v0", "CartPole-v1"], SEEDS, _final,
        lambda final, seed: [(500, final / 2, 1.0), (1000, final, 1.0)],
        last=lambda agent, env, seed: _final(agent, env, seed) - LAST_DROP[agent, env], eval_every=250,
    )  # fmt: skip


@pytest.fixture()
def readme(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "README.md"
    path.write_text(f"# Title\n\nBefore.\n\n{BEGIN_MARKER}\nold table\n{END_MARKER}\n\nAfter.\n")
    return path


def _matrix_rows(markdown: str) -> dict[str, list[str]]:
    """The zoo matrix's rows by env, each a list of its cells' texts."""
    section = markdown.split("## The zoo matrix", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| env")]
    return {row.split(" | ")[0][2:].split(" (")[0]: [cell.strip(" |") for cell in row.split(" | ")[1:]] for row in rows}


def test_the_matrix_has_envs_as_rows_and_agents_as_columns(results: pathlib.Path, tmp_path: pathlib.Path) -> None:
    written = report(results, tmp_path, reps=REPS)
    markdown = written.markdown.read_text()
    section = markdown.split("## The zoo matrix", 1)[1]

    assert "| env (threshold) | sb3-dqn | sb3-ppo |" in section
    rows = _matrix_rows(markdown)
    assert list(rows) == ["CartPole-v0", "CartPole-v1"]
    scores = [_final("sb3-dqn", "CartPole-v1", s) for s in range(SEEDS)]
    iqm = _iqm(scores)
    assert rows["CartPole-v1"][0].startswith(f"{iqm:.1f} [")
    assert f"; last {iqm - 100:.1f}" in rows["CartPole-v1"][0]
    assert "| CartPole-v1 (475) |" in section and "| CartPole-v0 (195) |" in section


def test_a_cell_under_90_percent_of_the_threshold_is_marked_with_its_note(results: pathlib.Path, tmp_path: pathlib.Path) -> None:
    notes = tmp_path / "notes.yml"
    notes.write_text("sb3-dqn:\n  CartPole-v1: best attempt 310 with 2x the steps; limited by late collapse\n")

    markdown = report(results, tmp_path / "out", reps=REPS, notes=notes).markdown.read_text()

    rows = _matrix_rows(markdown)
    assert rows["CartPole-v1"][0].endswith("**[1]**")
    assert "**[" not in rows["CartPole-v1"][1] and "**[" not in rows["CartPole-v0"][0] and "**[" not in rows["CartPole-v0"][1]
    assert "**[1]** sb3-dqn on CartPole-v1: best attempt 310 with 2x the steps; limited by late collapse" in markdown


def test_on_an_env_without_a_threshold_a_cell_under_90_percent_of_its_rows_best_is_marked(tmp_path: pathlib.Path) -> None:
    # SpringCarts has no reward_threshold: sb3-dqn at 80 against sb3-ppo's 100 is under 90% of the row's best.
    scores = {"sb3-dqn": 80.0, "sb3-ppo": 100.0}
    results = record_runs(
        tmp_path / "results", ["sb3-dqn", "sb3-ppo"], ["rlzoo/SpringCarts-v0"], 4, lambda agent, env, seed: scores[agent],
        lambda final, seed: [(1000, final, 1.0)],
    )  # fmt: skip
    notes = tmp_path / "notes.yml"
    notes.write_text("sb3-dqn:\n  rlzoo/SpringCarts-v0: best attempt 80; limited by a shared Q-network\n")

    markdown = report(results, tmp_path / "out", reps=REPS, notes=notes).markdown.read_text()

    dqn, ppo = _matrix_rows(markdown)["rlzoo/SpringCarts-v0"]
    assert dqn.startswith("80.0 [") and dqn.endswith("**[1]**")
    assert ppo.startswith("100.0 [") and "**[" not in ppo
    assert "**[1]** sb3-dqn on rlzoo/SpringCarts-v0: best attempt 80; limited by a shared Q-network" in markdown


def test_a_marked_cell_without_a_note_says_none_was_given(results: pathlib.Path, tmp_path: pathlib.Path) -> None:
    markdown = report(results, tmp_path, reps=REPS).markdown.read_text()
    assert "**[1]** sb3-dqn on CartPole-v1: no note given" in markdown


def test_every_cell_shows_the_last_weights_beside_the_kept_ones(results: pathlib.Path, tmp_path: pathlib.Path) -> None:
    written = report(results, tmp_path, reps=REPS)

    header, _, *rows = written.table.splitlines()
    assert header.endswith("| last weights: IQM [95% CI] |")
    by_cell = {tuple(row.split(" | ")[:2]): row.split(" | ")[-1].rstrip(" |") for row in rows}
    dqn = [_final("sb3-dqn", "CartPole-v0", s) - 40 for s in range(SEEDS)]
    assert by_cell["| CartPole-v0", "sb3-dqn"].startswith(f"{_iqm(dqn):.1f} [")
    assert by_cell["| CartPole-v0", "sb3-ppo"].startswith(f"{_iqm([_final('sb3-ppo', 'CartPole-v0', s) for s in range(SEEDS)]):.1f} [")


def test_report_writes_the_matrix_between_the_readme_markers(results: pathlib.Path, tmp_path: pathlib.Path, readme: pathlib.Path) -> None:
    report(results, tmp_path / "out", reps=REPS, readme=readme)
    first = readme.read_text()
    report(results, tmp_path / "out", reps=REPS, readme=readme)

    assert readme.read_text() == first  # rewritten in place: the same results give the same text
    assert first.startswith("# Title\n\nBefore.\n\n" + BEGIN_MARKER) and first.endswith(END_MARKER + "\n\nAfter.\n")
    assert "old table" not in first
    assert "| env (threshold) | sb3-dqn | sb3-ppo |" in first
    assert "Written by `rlzoo report` from 32 finished runs" in first
    assert not [p.name for p in readme.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_readme_without_the_markers_is_refused_untouched(results: pathlib.Path, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "README.md"
    path.write_text("# No markers\n")
    result = subprocess.run([sys.executable, "-m", "rlzoo.cli", "report", str(results), "--out", str(tmp_path / "out"), "--reps", "50",
                             "--readme", str(path)], capture_output=True, text=True, timeout=300)  # fmt: skip

    assert result.returncode == 2
    assert result.stderr.startswith("rlzoo: error: ") and "needs the two lines" in result.stderr and "Traceback" not in result.stderr
    assert path.read_text() == "# No markers\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [("- a list\n", "maps agent labels"), ("sb3-dqn: [1, 2]\n", "give {env id: note text}"), ("sb3-dqn:\n  CartPole-v1: 3\n", "give {env id")],
)
def test_a_malformed_notes_file_is_refused_before_any_work(results: pathlib.Path, tmp_path: pathlib.Path, text: str, problem: str) -> None:
    notes = tmp_path / "notes.yml"
    notes.write_text(text)
    with pytest.raises(RLZooError, match=problem):
        report(results, tmp_path / "out", reps=REPS, notes=notes)
    assert not (tmp_path / "out").exists()
