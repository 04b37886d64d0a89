"""The results index: one SQLite row per run, written only by the sweep's driver.

Each write is one transaction, so a sweep killed at any moment leaves every row either as
it was or fully updated. The journal is in WAL mode: ``rlzoo report`` can read while a sweep
writes. An index that is not one of ours (damaged, truncated, another program's database,
a pipe or a folder) is refused with :class:`ResultsIndexError`, never rebuilt over the runs
it describes.
"""

from __future__ import annotations

import json
import os
import pathlib
import sqlite3
import stat
import urllib.parse
from collections.abc import Iterable
from typing import Any

from rlzoo.errors import RLZooError
from rlzoo.experiments.grid import RunSpec
from rlzoo.experiments.run import RUNS_FOLDER, RunOutcome

INDEX_FILE = "index.sqlite"
#: What every SQLite database file starts with.
_SQLITE_HEADER = b"SQLite format 3\x00"
#: Columns an index has had from the start (later ones are added when missing).
_REQUIRED = {"run_id", "label", "agent", "env", "seed", "status", "final_mean", "curve"}


class ResultsIndexError(RLZooError):
    """A results directory's ``index.sqlite`` that cannot be used: the message says why and what to do."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    agent TEXT NOT NULL,
    env TEXT NOT NULL,
    seed INTEGER NOT NULL,
    steps INTEGER,
    overrides TEXT NOT NULL,
    eval_every INTEGER,
    preset TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    error TEXT,
    started REAL,
    finished REAL,
    train_seconds REAL,
    eval_seconds REAL,
    save_seconds REAL,
    num_timesteps INTEGER,
    final_mean REAL,
    final_std REAL,
    final_returns TEXT,
    curve TEXT,
    settings TEXT,
    last_weights_mean REAL,
    last_weights_std REAL,
    kept_timestep INTEGER,
    files TEXT
)
"""


class Store:
    """The index of one results directory.

    Parameters
    ----------
    results_dir:
        The results directory; the index is ``index.sqlite`` inside it (created if missing).
    """

    def __init__(self, results_dir: str | pathlib.Path, *, read_only: bool = False) -> None:
        self.path = pathlib.Path(results_dir) / INDEX_FILE
        _check_file(self.path)
        try:
            if read_only:
                self._db = _open_read_only(self.path)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=30)
            self._db.row_factory = sqlite3.Row
            self._check_schema()
            if not read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
                with self._db:
                    self._db.execute(_SCHEMA)
                    columns = {row["name"] for row in self._db.execute("PRAGMA table_info(runs)")}
                    added = {"preset": "TEXT", "settings": "TEXT", "files": "TEXT", "last_weights_mean": "REAL",
                             "last_weights_std": "REAL", "kept_timestep": "INTEGER"}  # fmt: skip
                    for column, kind in added.items():  # an index written before runs recorded them
                        if column not in columns:
                            self._db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, str(exc)) from None

    def _check_schema(self) -> None:
        """Refuse a database that is not a results index (another program's, or one missing columns)."""
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            if any((self.path.parent / RUNS_FOLDER).glob("*")):
                raise ResultsIndexError(
                    f"{str(self.path)!r} is empty but {RUNS_FOLDER}/ beside it holds runs: the index was lost or truncated, "
                    f"and a new one would redo every run. Give another --out, or move {RUNS_FOLDER}/ aside to start over"
                )
            return
        if "runs" not in tables:
            raise _damaged(self.path, f"it is an SQLite database of another program (tables {', '.join(sorted(tables))})")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
        if not _REQUIRED <= columns:
            raise _damaged(self.path, f"its runs table lacks the columns {', '.join(sorted(_REQUIRED - columns))}")
        problem = self._db.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise _damaged(self.path, str(problem))

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, specs: Iterable[RunSpec]) -> None:
        """Add runs as ``pending``; runs already in the index keep their row."""
        rows = [
            (s.run_id, s.name, s.agent, s.env, s.seed, s.steps, json.dumps(dict(s.overrides), sort_keys=True), s.eval_every, s.preset)
            for s in specs
        ]
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO runs (run_id, label, agent, env, seed, steps, overrides, eval_every, preset, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                rows,
            )

    def statuses(self) -> dict[str, str]:
        """Every run's status, by run id."""
        return {row["run_id"]: row["status"] for row in self._db.execute("SELECT run_id, status FROM runs")}

    def mark_running(self, run_ids: Iterable[str]) -> None:
        """Mark runs as handed to a worker (a rerun redoes them unless they finish)."""
        with self._db:
            self._db.executemany("UPDATE runs SET status='running', error=NULL WHERE run_id=?", [(r,) for r in run_ids])

    def record(self, outcome: RunOutcome, files: dict[str, Any] | None = None) -> None:
        """Record a finished or failed run, in one transaction.

        Parameters
        ----------
        outcome:
            What the run reported.
        files:
            The run folder's files as :func:`rlzoo.experiments.integrity.fingerprint` gives
            them (checked when a rerun reuses the run).
        """
        with self._db:
            self._db.execute(
                "UPDATE runs SET status=?, error=?, started=?, finished=?, train_seconds=?, eval_seconds=?,"
                " save_seconds=?, num_timesteps=?, final_mean=?, final_std=?, final_returns=?, curve=?, settings=?,"
                " last_weights_mean=?, last_weights_std=?, kept_timestep=?, files=? WHERE run_id=?",
                (
                    outcome.status,
                    outcome.error,
                    outcome.started,
                    outcome.finished,
                    outcome.train_seconds,
                    outcome.eval_seconds,
                    outcome.save_seconds,
                    outcome.num_timesteps,
                    outcome.final_mean,
                    outcome.final_std,
                    json.dumps(outcome.final_returns),
                    json.dumps(outcome.curve),
                    None if outcome.settings is None else json.dumps(outcome.settings, sort_keys=True),
                    outcome.last_weights_mean,
                    outcome.last_weights_std,
                    outcome.kept_timestep,
                    None if files is None else json.dumps(files, sort_keys=True),
                    outcome.run_id,
                ),
            )

    def rows(self, status: str | None = None, *, returns: bool = True) -> list[dict[str, Any]]:
        """Rows as dicts, optionally of one status.

        ``overrides``, ``final_returns``, ``curve``, ``settings`` and ``files`` are decoded
        from JSON; a value that is not valid JSON (a damaged or edited index) becomes ``None``
        and the row's ``"problem"`` says which column it was (else ``"problem"`` is ``None``).
        ``returns=False`` leaves ``final_returns`` out (``None``): a report of 100,000 runs
        would otherwise decode 10 million returns it does not use.
        """
        keys = ("overrides", "final_returns", "curve", "settings", "files") if returns else ("overrides", "curve", "settings", "files")
        query = "SELECT * FROM runs"
        args: tuple[str, ...] = ()
        if status is not None:
            query, args = "SELECT * FROM runs WHERE status=?", (status,)
        result = []
        try:
            for row in self._db.execute(query + " ORDER BY label, env, seed", args):
                record = dict(row)
                record["problem"] = None
                if not returns:
                    record["final_returns"] = None
                for key in keys:
                    try:
                        record[key] = json.loads(record[key]) if record.get(key) is not None else None
                    except (TypeError, ValueError, RecursionError):
                        record[key] = None
                        record["problem"] = f"its {key} is not valid JSON"
                result.append(record)
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, str(exc)) from None
        return result


def _check_file(path: pathlib.Path) -> None:
    """Refuse an index that is not a regular file, or a file that is not an SQLite database."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ResultsIndexError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise ResultsIndexError(f"{str(path)!r} is not a regular file (a folder, pipe or device): move it aside, or give another --out")
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise ResultsIndexError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if head and head != _SQLITE_HEADER[: len(head)]:
        raise _damaged(path, "it is not an SQLite database")
    if 0 < len(head) < len(_SQLITE_HEADER):
        raise _damaged(path, "it is truncated")


def _open_read_only(path: pathlib.Path) -> sqlite3.Connection:
    """Open an existing index without writing anything, also in a read-only folder."""
    if not path.is_file():
        raise ResultsIndexError(f"{str(path.parent)!r} has no {INDEX_FILE}: give a directory written by `rlzoo sweep --out DIR`")
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}"
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:  # a WAL index in a folder we cannot write: no -shm file can be made
        db.close()
    return sqlite3.connect(f"{uri}?immutable=1", uri=True)


def _damaged(path: pathlib.Path, reason: str) -> ResultsIndexError:
    """The error for an index that cannot be read: nothing was changed, and what to do."""
    return ResultsIndexError(
        f"the results index {str(path)!r} is damaged or not rlzoo's ({reason}); nothing was changed. Give another "
        f"--out for a new sweep, or restore the index from a backup (it lists the runs in {RUNS_FOLDER}/ beside it)"
    )
