"""A results directory is verified before it is reused: changed runs are redone, a damaged index is refused, never rebuilt."""

from __future__ import annotations

import os
import pathlib
import shutil
import sqlite3
import time
from collections.abc import Iterator, Sequence

import pytest

from rlzoo.experiments import make_grid
from rlzoo.experiments.driver import run_grid
from rlzoo.experiments.grid import RunSpec
from rlzoo.experiments.run import RunOutcome
from rlzoo.experiments.store import ResultsIndexError, Store


class Writer:
    """An executor that writes each run's folder at once (the driver's checks are what is tested, not training)."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def run(self, specs: Sequence[RunSpec], results_dir: pathlib.Path) -> Iterator[RunOutcome]:
        for spec in specs:
            self.ran.append(spec.run_id)
            files = {"agent.zip": f"weights of {spec.run_id}".encode(), "episodes.csv": b"episode,return\n0,1.0\n"}
            yield RunOutcome(spec.run_id, "done", started=time.time(), finished=time.time(), final_mean=1.0, final_std=0.0, files=files)


SPECS = make_grid(["sb3-ppo"], ["CartPole-v1"], 3)


@pytest.fixture
def results(tmp_path: pathlib.Path) -> pathlib.Path:
    out = tmp_path / "results"
    run_grid(SPECS, out, Writer())
    return out


def _rerun(out: pathlib.Path) -> tuple[Writer, list[tuple[str, str]], int]:
    writer, redone = Writer(), []
    summary = run_grid(SPECS, out, writer, on_redo=lambda spec, why: redone.append((spec.run_id, why)))
    return writer, redone, summary.redone


def test_a_rerun_of_intact_runs_redoes_nothing(results: pathlib.Path) -> None:
    writer, redone, count = _rerun(results)
    assert writer.ran == [] and redone == [] and count == 0


def test_the_index_records_each_files_size_and_hash(results: pathlib.Path) -> None:
    with Store(results) as store:
        (row, *_) = store.rows("done")
    assert set(row["files"]) == {"agent.zip", "episodes.csv"}
    assert row["files"]["agent.zip"]["bytes"] == (results / "runs" / row["run_id"] / "agent.zip").stat().st_size
    assert len(row["files"]["agent.zip"]["sha256"]) == 64


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda agent: agent.unlink(), "agent.zip is missing"),
        (lambda agent: agent.write_bytes(agent.read_bytes()[:5]), "were recorded"),
        (lambda agent: agent.write_bytes(agent.read_bytes()[::-1]), "SHA-256 differs"),
        (lambda agent: shutil.rmtree(agent.parent), "folder is missing"),
    ],
)
def test_a_finished_run_whose_files_changed_is_redone_and_named(results: pathlib.Path, damage, why: str) -> None:
    target = SPECS[1]
    damage(results / "runs" / target.run_id / "agent.zip")
    writer, redone, count = _rerun(results)
    assert writer.ran == [target.run_id] and count == 1
    assert redone[0][0] == target.run_id and why in redone[0][1]
    with Store(results) as store:
        assert len(store.rows("done")) == 3  # recorded once, and intact again
    assert _rerun(results)[0].ran == []


@pytest.mark.parametrize(
    ("spoil", "match"),
    [
        (lambda index: index.write_bytes(b"garbage, not a database" * 10), "not an SQLite database"),
        (lambda index: index.write_bytes(index.read_bytes()[:8]), "truncated"),
        (lambda index: index.write_bytes(index.read_bytes()[:1024] + b"\x00" * 3072), "damaged"),
        (lambda index: index.write_bytes(b""), "index was lost or truncated"),
        (lambda index: _foreign(index), "another program"),
        (lambda index: (index.unlink(), os.mkfifo(index)), "not a regular file"),
        (lambda index: (index.unlink(), index.mkdir()), "not a regular file"),
    ],
)
def test_a_damaged_index_is_refused_with_what_to_do_and_nothing_is_changed(results: pathlib.Path, spoil, match: str) -> None:
    index = results / "index.sqlite"
    for leftover in results.glob("index.sqlite-*"):
        leftover.unlink()
    spoil(index)
    before = sorted(p.name for p in (results / "runs").iterdir())
    writer = Writer()
    with pytest.raises(ResultsIndexError, match=match) as raised:
        run_grid(SPECS, results, writer)
    assert "\n" not in str(raised.value) and ("--out" in str(raised.value) or "aside" in str(raised.value))
    assert writer.ran == []
    assert sorted(p.name for p in (results / "runs").iterdir()) == before


def _foreign(index: pathlib.Path) -> None:
    index.unlink()
    with sqlite3.connect(index) as db:
        db.execute("CREATE TABLE songs (title TEXT)")


def test_an_index_lost_beside_finished_runs_is_not_rebuilt_over_them(results: pathlib.Path) -> None:
    for path in results.glob("index.sqlite*"):
        path.unlink()
    with pytest.raises(ResultsIndexError, match="would redo every run"):
        run_grid(SPECS, results, Writer())
    assert len(list((results / "runs").iterdir())) == 3
