"""The results index: one SQLite row per run, written only by the sweep's driver.

Each write is one transaction, so a sweep killed at any moment leaves every row either as
it was or fully updated. The journal is in WAL mode: ``rlzoo report`` can read while a sweep
writes.
"""

from __future__ import annotations

import json
import pathlib
import sqlite3
from collections.abc import Iterable
from typing import Any

from rlzoo.experiments.grid import RunSpec
from rlzoo.experiments.run import RunOutcome

INDEX_FILE = "index.sqlite"

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
    kept_timestep INTEGER
)
"""


class Store:
    """The index of one results directory.

    Parameters
    ----------
    results_dir:
        The results directory; the index is ``index.sqlite`` inside it (created if missing).
    """

    def __init__(self, results_dir: str | pathlib.Path) -> None:
        self.path = pathlib.Path(results_dir) / INDEX_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        with self._db:
            self._db.execute(_SCHEMA)
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(runs)")}
            if "preset" not in columns:  # an index written before runs could name a preset
                self._db.execute("ALTER TABLE runs ADD COLUMN preset TEXT")
            if "settings" not in columns:  # an index written before runs recorded their resolved settings
                self._db.execute("ALTER TABLE runs ADD COLUMN settings TEXT")
            for column, kind in (("last_weights_mean", "REAL"), ("last_weights_std", "REAL"), ("kept_timestep", "INTEGER")):
                if column not in columns:  # an index written before runs scored their last weights too
                    self._db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")

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

    def record(self, outcome: RunOutcome) -> None:
        """Record a finished or failed run, in one transaction."""
        with self._db:
            self._db.execute(
                "UPDATE runs SET status=?, error=?, started=?, finished=?, train_seconds=?, eval_seconds=?,"
                " save_seconds=?, num_timesteps=?, final_mean=?, final_std=?, final_returns=?, curve=?, settings=?,"
                " last_weights_mean=?, last_weights_std=?, kept_timestep=? WHERE run_id=?",
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
                    outcome.run_id,
                ),
            )

    def rows(self, status: str | None = None) -> list[dict[str, Any]]:
        """Rows as dicts (``overrides``, ``final_returns``, ``curve`` and ``settings`` decoded), optionally of one status."""
        query = "SELECT * FROM runs"
        args: tuple[str, ...] = ()
        if status is not None:
            query, args = "SELECT * FROM runs WHERE status=?", (status,)
        result = []
        for row in self._db.execute(query + " ORDER BY label, env, seed", args):
            record = dict(row)
            for key in ("overrides", "final_returns", "curve", "settings"):
                record[key] = json.loads(record[key]) if record[key] is not None else None
            result.append(record)
        return result
