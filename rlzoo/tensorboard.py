"""TensorBoard logging with the same tags for every backend: :class:`TensorBoardLogger`.

Events are written with the ``tensorboard`` package's protobuf classes and record framing
only (the ``tensorboard`` extra), in this process and without threads. TensorBoard's own
``EventFileWriter`` (which ``torch.utils.tensorboard`` uses too) creates its folder through
``tensorboard.compat.tf``, which imports TensorFlow whenever it is installed: seconds of
start-up, its log lines, and Keras 3 selected for the process (which keras-rl2 cannot use).

The tags, written under ``rlzoo/``:

==========================  ==============================================================
``rlzoo/episode_return``    each training episode's return, at the step it ended
``rlzoo/episode_length``    each training episode's length
``rlzoo/eval_mean_return``  each periodic greedy evaluation's mean return (``eval_every``)
``rlzoo/eval_std_return``   and its standard deviation
``rlzoo/steps_per_second``  env steps per second of wall time since the last sample
``rlzoo/loss``              the backend's latest training loss (where it has one)
``rlzoo/learning_rate``     its learning rate (where it has a schedule or an optimizer)
``rlzoo/exploration``       epsilon, or Boltzmann's tau (where the agent explores that way)
==========================  ==============================================================

The last three come from :meth:`rlzoo.Agent.training_metrics`. Backends that write their
own TensorBoard events (Stable-Baselines3's ``rollout/``, ``train/`` and ``time/`` tags)
write them to a subfolder of the same run.
"""

from __future__ import annotations

import os
import pathlib
import socket
import sys
import time
import types
from typing import IO, Any

from rlzoo.agent import Agent, Callback
from rlzoo.errors import MissingDependencyError

PREFIX = "rlzoo/"


def keep_tensorflow_out() -> None:
    """Make TensorBoard's writers use their TensorFlow stub instead of importing TensorFlow.

    ``tensorboard.compat`` uses the stub when a module ``tensorboard.compat.notf`` can be
    imported (its own switch for TensorFlow-free builds). Stable-Baselines3's writer
    (``torch.utils.tensorboard``) otherwise imports TensorFlow if it is installed. Nothing
    changes when TensorFlow is imported already.
    """
    if "tensorflow" not in sys.modules and "tensorboard.compat.notf" not in sys.modules:
        sys.modules["tensorboard.compat.notf"] = types.ModuleType("tensorboard.compat.notf")


def run_directory(log_dir: str | os.PathLike[str], name: str) -> pathlib.Path:
    """A new folder ``log_dir/NAME_N`` (N one more than the highest there), like SB3's runs."""
    root = pathlib.Path(log_dir)
    root.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name.rpartition("_")[2]) for p in root.glob(f"{name}_*") if p.name.rpartition("_")[2].isdigit()]
    run = root / f"{name}_{max(taken, default=0) + 1}"
    run.mkdir()
    return run


class EventWriter:
    """Appends scalar events to one TensorBoard event file.

    Parameters
    ----------
    directory:
        The run's folder (created if missing).
    """

    def __init__(self, directory: str | pathlib.Path) -> None:
        try:
            from tensorboard.compat.proto import event_pb2, summary_pb2
            from tensorboard.summary.writer.record_writer import RecordWriter
        except ImportError as exc:
            raise MissingDependencyError("TensorBoard logging", "tensorboard") from exc
        self._event_pb2, self._summary_pb2 = event_pb2, summary_pb2
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.rlzoo"
        self._file: IO[bytes] = open(self.path, "ab")  # noqa: SIM115 - closed by close()
        self._records = RecordWriter(self._file)
        self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def _write(self, event: Any) -> None:
        self._records.write(event.SerializeToString())

    def scalar(self, tag: str, value: float, step: int) -> None:
        """Record ``value`` under ``tag`` at ``step``."""
        summary = self._summary_pb2.Summary(value=[self._summary_pb2.Summary.Value(tag=tag, simple_value=float(value))])
        self._write(self._event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class TensorBoardLogger(Callback):
    """Writes rlzoo's common tags (see the module docstring) while an agent trains.

    Each training run gets its own folder ``log_dir/AGENT_N``; the agent's
    ``tensorboard_log`` points there during training, so a backend that logs itself
    (Stable-Baselines3) writes beside rlzoo's tags.

    Parameters
    ----------
    log_dir:
        Where the run folders go (``tensorboard --logdir log_dir`` shows them).
    sample_every:
        Steps between samples of steps/s and of the backend's training metrics.
    """

    def __init__(self, log_dir: str | os.PathLike[str], sample_every: int = 1000) -> None:
        if sample_every <= 0:
            raise ValueError(f"sample_every must be positive, got {sample_every}")
        self.log_dir = pathlib.Path(log_dir)
        self.sample_every = sample_every
        self.writer: EventWriter | None = None
        self.run_dir: pathlib.Path | None = None

    def on_training_start(self, agent: Agent, total_timesteps: int) -> None:
        self.run_dir = run_directory(self.log_dir, agent.name or type(agent).__name__)
        self.writer = EventWriter(self.run_dir)
        keep_tensorflow_out()
        agent.tensorboard_log = str(self.run_dir)
        self._logged_evaluations = len(agent.history.evaluations)
        self._last_step, self._last_time = agent.num_timesteps, time.perf_counter()
        self._next_sample = agent.num_timesteps + self.sample_every

    def on_step(self, agent: Agent) -> bool:
        if agent.num_timesteps >= self._next_sample:
            self._sample(agent)
            while self._next_sample <= agent.num_timesteps:
                self._next_sample += self.sample_every
        if len(agent.history.evaluations) > self._logged_evaluations:
            self._log_evaluations(agent)
        return True

    def on_episode_end(self, agent: Agent, episode_return: float, episode_length: int) -> None:
        assert self.writer is not None
        self.writer.scalar(PREFIX + "episode_return", episode_return, agent.num_timesteps)
        self.writer.scalar(PREFIX + "episode_length", episode_length, agent.num_timesteps)

    def on_training_end(self, agent: Agent) -> None:
        assert self.writer is not None
        if agent.num_timesteps > self._last_step:
            self._sample(agent)
        self._log_evaluations(agent)
        self.writer.close()
        agent.tensorboard_log = None

    def _sample(self, agent: Agent) -> None:
        assert self.writer is not None
        now = time.perf_counter()
        step = agent.num_timesteps
        if now > self._last_time:
            self.writer.scalar(PREFIX + "steps_per_second", (step - self._last_step) / (now - self._last_time), step)
        for name, value in agent.training_metrics().items():
            self.writer.scalar(PREFIX + name, value, step)
        self._last_step, self._last_time = step, now
        self.writer.flush()

    def _log_evaluations(self, agent: Agent) -> None:
        assert self.writer is not None
        for step, mean, std in agent.history.evaluations[self._logged_evaluations :]:
            self.writer.scalar(PREFIX + "eval_mean_return", mean, step)
            self.writer.scalar(PREFIX + "eval_std_return", std, step)
        self._logged_evaluations = len(agent.history.evaluations)
        self.writer.flush()
