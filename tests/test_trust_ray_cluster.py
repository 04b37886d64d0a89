"""A real two-node Ray cluster on this machine: the second node's raylet is killed mid-sweep and every run finishes once.

Both nodes bind 127.0.0.1 and use free ports and a temp dir of their own, in their own
process sessions, so other clusters on the machine are untouched; every wait is bounded.
"""

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

from rlzoo.experiments.store import Store

RAY = pathlib.Path(sys.executable).with_name("ray")
RUNS = 4


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _node_command(temp: str, cpus: int, head_port: int, head: bool) -> tuple[list[str], int]:
    """``ray start`` for one node on 127.0.0.1 with ports of its own; returns it and its node manager port."""
    client, node, objects, agent, agent_grpc, runtime_env, metrics = _free_ports(7)
    where = (
        ["--head", "--port", str(head_port), "--ray-client-server-port", str(client)] if head else ["--address", f"127.0.0.1:{head_port}"]
    )
    command = [
        str(RAY),
        "start",
        *where,
        "--node-ip-address",
        "127.0.0.1",
        "--num-cpus",
        str(cpus),
        "--temp-dir",
        temp,
        "--include-dashboard=false",
        "--disable-usage-stats",
        "--node-manager-port",
        str(node),
        "--object-manager-port",
        str(objects),
        "--dashboard-agent-listen-port",
        str(agent),
        "--dashboard-agent-grpc-port",
        str(agent_grpc),
        "--runtime-env-agent-port",
        str(runtime_env),
        "--metrics-export-port",
        str(metrics),
    ]
    return (command if head else [c for c in command if c != "--include-dashboard=false"]), node


def _stop_group(pgid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.5)


@contextlib.contextmanager
def two_nodes() -> Iterator[tuple[str, int]]:
    """A head node (1 CPU) and a second node (2 CPUs); yields the address and the second node's node manager port."""
    temp = tempfile.mkdtemp(prefix="rztwo", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    groups: list[int] = []
    try:
        (head_port,) = _free_ports(1)
        second_port = 0
        for cpus, head in ((1, True), (2, False)):
            command, node_port = _node_command(temp, cpus, head_port, head)
            starter = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            groups.append(starter.pid)
            output, _ = starter.communicate(timeout=240)
            assert starter.returncode == 0, output
            second_port = node_port
        yield f"127.0.0.1:{head_port}", second_port
    finally:
        for group in groups:
            _stop_group(group)
        shutil.rmtree(temp, ignore_errors=True)


def _cmdline(pid: int) -> str:
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _busy_worker_of(raylet: int) -> bool:
    """Whether a worker of ``raylet`` has used more than 2 s of CPU (it is running a task, not idling)."""
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == raylet and _cmdline(int(entry.name)).startswith(("ray::", "default_worker")):
            if (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") > 2:
                return True
    return False


def _raylet(node_port: int) -> int:
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            line = _cmdline(int(entry.name))
            if "raylet" in line.split(" ")[0] and f"--node_manager_port={node_port}" in line:
                return int(entry.name)
    raise AssertionError(f"no raylet with node manager port {node_port}")


def test_killing_the_second_nodes_raylet_mid_sweep_loses_no_run_and_records_each_once(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "results"
    with two_nodes() as (address, second_port):
        raylet = _raylet(second_port)
        sweep = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rlzoo.cli",
                "sweep",
                "--agents",
                "sb3-dqn",
                "--envs",
                "CartPole-v1",
                "--seeds",
                str(RUNS),
                "--steps",
                "3000",
                "--eval-every",
                "1500",
                "--ray",
                address,
                "--no-progress",
                "--out",
                str(out),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 300
            while not _busy_worker_of(raylet):
                assert time.monotonic() < deadline and sweep.poll() is None, "no run started on the second node"
                time.sleep(0.5)
            os.kill(raylet, signal.SIGKILL)  # the node is lost with the runs it was doing
            stdout, stderr = sweep.communicate(timeout=480)
        finally:
            if sweep.poll() is None:
                sweep.kill()
    output = stdout + stderr
    assert sweep.returncode == 0, output
    assert f"{RUNS} runs finished, 0 failed" in stdout, output
    assert "state-dump" not in output and "Raylet is terminated" not in output, output
    assert sum(line.startswith("done ") for line in stdout.splitlines()) == RUNS  # one line per run
    with Store(out) as store:
        rows = store.rows()
    assert sorted(row["seed"] for row in rows) == list(range(RUNS)) and {row["status"] for row in rows} == {"done"}
    assert len(list((out / "runs").iterdir())) == RUNS
