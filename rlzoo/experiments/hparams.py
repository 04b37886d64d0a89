"""``rlzoo sweep --tensorboard DIR``: a sweep's runs in TensorBoard's HParams dashboard.

Each finished run gets a folder ``DIR/<run_id>`` with its hyperparameters (agent, label, env,
seed, steps, preset, and every ``--set`` override) as an HParams session, its learning curve
(``rlzoo/eval_mean_return``) and its final greedy score (``rlzoo/final_mean``);
``DIR`` itself holds the experiment: which hyperparameters and metrics the dashboard
compares. ``tensorboard --logdir DIR`` then shows the sweep's runs side by side.

The events are TensorBoard's protobuf records written by its record writer, as in
:mod:`rlzoo.tensorboard`: TensorBoard's summary helpers import TensorFlow, this does not.
Each file is written whole and atomically under a fixed name, so writing again after a
resumed sweep replaces it instead of adding duplicate events.
"""

from __future__ import annotations

import io
import os
import pathlib
import time
from collections.abc import Mapping
from typing import Any

from rlzoo.errors import MissingDependencyError, RLZooError
from rlzoo.experiments.store import INDEX_FILE, Store
from rlzoo.files import atomic_write

#: The metrics the dashboard compares, under rlzoo's TensorBoard prefix.
FINAL_TAG = "rlzoo/final_mean"
CURVE_TAG = "rlzoo/eval_mean_return"
#: One file per folder, replaced on each write ("tfevents" in the name is what TensorBoard looks for).
EVENTS_FILE = "events.out.tfevents.0000000000.rlzoo-hparams"


def run_hparams(row: Mapping[str, Any]) -> dict[str, bool | float | str]:
    """One run's hyperparameters as HParams values (numbers, booleans and strings; anything else as its text).

    Parameters
    ----------
    row:
        The run's row of the sweep's index.

    Returns
    -------
    dict[str, bool | float | str]
    """
    values: dict[str, Any] = {
        "agent": row["agent"],
        "label": row["label"],
        "env": row["env"],
        "seed": row["seed"],
        "steps": row["steps"] if row["steps"] is not None else (row.get("num_timesteps") or 0),
        "preset": row["preset"] or "",
        **{f"set.{key}": value for key, value in sorted((row["overrides"] or {}).items())},
    }
    return {key: value if isinstance(value, (bool, int, float, str)) else str(value) for key, value in values.items()}


def write_hparams(results_dir: str | os.PathLike[str], log_dir: str | os.PathLike[str]) -> list[pathlib.Path]:
    """Write every finished run of a sweep, and the experiment they share, for TensorBoard's HParams dashboard.

    Parameters
    ----------
    results_dir:
        A directory written by :func:`rlzoo.sweep`.
    log_dir:
        Where to write (``tensorboard --logdir LOG_DIR``); one folder per run, by run id.

    Returns
    -------
    list[pathlib.Path]
        The event files written: the experiment's first, then one per run.
    """
    pb = _Protos()
    results = pathlib.Path(results_dir)
    if not (results / INDEX_FILE).is_file():
        raise RLZooError(f"{str(results)!r} has no {INDEX_FILE}: give a directory written by `rlzoo sweep --out DIR`")
    with Store(results) as store:
        rows = store.rows("done")
    root = pathlib.Path(log_dir)
    hparams = {row["run_id"]: run_hparams(row) for row in rows}
    names = sorted({name for values in hparams.values() for name in values})
    infos = [pb.api.HParamInfo(name=name, type=_data_type(pb, [v[name] for v in hparams.values() if name in v])) for name in names]
    metrics = [pb.api.MetricInfo(name=pb.api.MetricName(tag=tag)) for tag in (FINAL_TAG, CURVE_TAG)]
    experiment = pb.plugin.HParamsPluginData(experiment=pb.api.Experiment(hparam_infos=infos, metric_infos=metrics))
    written = [_write(root / EVENTS_FILE, pb, [_plugin_event(pb, pb.metadata.EXPERIMENT_TAG, experiment)])]
    for row in rows:
        start = pb.plugin.SessionStartInfo(group_name=row["run_id"], start_time_secs=row["started"] or time.time())
        for name, value in hparams[row["run_id"]].items():
            field = "bool_value" if isinstance(value, bool) else "number_value" if isinstance(value, (int, float)) else "string_value"
            setattr(start.hparams[name], field, value)
        end = pb.plugin.SessionEndInfo(status=pb.api.STATUS_SUCCESS, end_time_secs=row["finished"] or time.time())
        events = [_plugin_event(pb, pb.metadata.SESSION_START_INFO_TAG, pb.plugin.HParamsPluginData(session_start_info=start))]
        events += [_scalar_event(pb, CURVE_TAG, mean, step) for step, mean, _ in row["curve"] or []]
        events.append(_scalar_event(pb, FINAL_TAG, row["final_mean"], row["num_timesteps"] or 0))
        events.append(_plugin_event(pb, pb.metadata.SESSION_END_INFO_TAG, pb.plugin.HParamsPluginData(session_end_info=end)))
        written.append(_write(root / row["run_id"] / EVENTS_FILE, pb, events))
    return written


class _Protos:
    """TensorBoard's protobuf modules (the tensorboard extra), imported once per call."""

    def __init__(self) -> None:
        try:
            from tensorboard.compat.proto import event_pb2, summary_pb2  # heavy: the tensorboard extra
            from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
            from tensorboard.summary.writer.record_writer import RecordWriter
        except ImportError as exc:
            raise MissingDependencyError("rlzoo sweep --tensorboard", "tensorboard") from exc
        self.event, self.summary, self.api, self.metadata, self.plugin, self.records = (
            event_pb2,
            summary_pb2,
            api_pb2,
            metadata,
            plugin_data_pb2,
            RecordWriter,
        )


def _data_type(pb: _Protos, values: list[Any]) -> Any:
    if values and all(isinstance(v, bool) for v in values):
        return pb.api.DATA_TYPE_BOOL
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return pb.api.DATA_TYPE_FLOAT64
    return pb.api.DATA_TYPE_STRING


def _plugin_event(pb: _Protos, tag: str, data: Any) -> Any:
    """An event holding HParams plugin data under ``tag`` (what TensorBoard's ``summary._summary`` builds)."""
    summary = pb.summary.Summary(
        value=[pb.summary.Summary.Value(tag=tag, metadata=pb.metadata.create_summary_metadata(data), tensor=pb.metadata.NULL_TENSOR)]
    )
    return pb.event.Event(wall_time=time.time(), summary=summary)


def _scalar_event(pb: _Protos, tag: str, value: float, step: int) -> Any:
    summary = pb.summary.Summary(value=[pb.summary.Summary.Value(tag=tag, simple_value=float(value))])
    return pb.event.Event(wall_time=time.time(), step=int(step), summary=summary)


def _write(path: pathlib.Path, pb: _Protos, events: list[Any]) -> pathlib.Path:
    """Write ``events`` (after the file-version event) as one event file, atomically."""
    buffer = io.BytesIO()
    writer = pb.records(buffer)
    for event in [pb.event.Event(wall_time=time.time(), file_version="brain.Event:2"), *events]:
        writer.write(event.SerializeToString())
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        handle.write(buffer.getvalue())
    return path
