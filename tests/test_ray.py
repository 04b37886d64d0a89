"""``rlzoo sweep --ray``: the same grid as tasks on a real local Ray cluster, results sent back to the driver."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import pytest

import rlzoo
from rlzoo.experiments.store import Store

RAY = pathlib.Path(sys.executable).with_name("ray")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


#: Tries of ``ray start``: it gives the raylet a fixed 30 s to register, which a heavily loaded machine can miss.
START_TRIES = 2


@contextlib.contextmanager
def local_ray_cluster() -> Iterator[str]:
    """A 2-CPU Ray head node of our own on the loopback address; yields its address, then stops it.

    ``ray stop`` would stop every Ray cluster on the machine (other users' too), so the
    cluster runs in its own process session and only that process group is stopped. Every
    port is a free one and the temp dir is ours, so clusters beside it are untouched. The
    node binds 127.0.0.1 (``ray start`` would otherwise pick the machine's outward address),
    so no traffic leaves the machine.
    """
    temp = tempfile.mkdtemp(prefix="rzray", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    groups: list[int] = []
    try:
        for attempt in range(1, START_TRIES + 1):
            head, client, node, objects, agent, agent_grpc, runtime_env, metrics = _free_ports(8)
            command = [str(RAY), "start", "--head", "--node-ip-address", "127.0.0.1", "--num-cpus", "2", "--port", str(head),
                       "--include-dashboard=false", "--disable-usage-stats", "--temp-dir", temp,
                       "--ray-client-server-port", str(client), "--node-manager-port", str(node),
                       "--object-manager-port", str(objects), "--dashboard-agent-listen-port", str(agent),
                       "--dashboard-agent-grpc-port", str(agent_grpc), "--runtime-env-agent-port", str(runtime_env),
                       "--metrics-export-port", str(metrics)]
            starter = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            groups.append(starter.pid)
            output, _ = starter.communicate(timeout=240)
            if starter.returncode == 0:
                break
            _stop_group(starter.pid)  # a half-started node of the failed try
            assert attempt < START_TRIES, output
        yield f"127.0.0.1:{head}"
    finally:
        for group in groups:
            _stop_group(group)
        shutil.rmtree(temp, ignore_errors=True)


def _stop_group(pgid: int) -> None:
    """Stop a process group (a ``ray start`` and the node processes it left running): TERM, then KILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _group_alive(pgid):
            time.sleep(0.5)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sweep_on_a_ray_cluster_runs_the_grid_and_the_driver_writes_the_results(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "results"
    with local_ray_cluster() as address:
        result = subprocess.run(
            [sys.executable, "-m", "rlzoo.cli", "sweep", "--agents", "sb3-dqn", "--envs", "CartPole-v1", "--seeds", "2",
             "--steps", "256", "--eval-every", "256", "--ray", address, "--no-progress", "--out", str(out)],
            capture_output=True, text=True, timeout=400,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 runs finished, 0 failed" in result.stdout
    with Store(out) as store:
        rows = store.rows("done")
    assert [(row["agent"], row["seed"]) for row in rows] == [("sb3-dqn", 0), ("sb3-dqn", 1)]
    for row in rows:
        folder = out / "runs" / row["run_id"]
        assert sorted(p.name for p in folder.iterdir()) == ["agent.zip", "episodes.csv"]
        assert rlzoo.load(folder / "agent.zip").last_evaluation.mean == pytest.approx(row["final_mean"])
    assert not list(out.glob(".*.tmp"))  # no staging folder left
