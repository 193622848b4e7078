"""``make cluster`` on free ports: scripts/cluster.sh itself (nginx + TLS + agent logins in
front of two Rasa instances and their action servers) in a scratch directory, in a session
of its own so that Ctrl-C (SIGINT to its process group) stops all of it."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

from testkit.assistant import ROOT
from testkit.processes import Popen, free_port, log_tail
from testkit.stores import RunStores


def add_agent(workdir: Path, name: str, secret: str, tl: bool = False) -> None:
    """An agent login of the cluster in ``workdir`` (a team lead's with ``tl``: the ops
    page), through scripts/add_agent.sh."""
    htpasswd = workdir / ("htpasswd-tl" if tl else "htpasswd")
    subprocess.run(
        [str(ROOT / "scripts" / "add_agent.sh"), *(["--tl"] if tl else []), name, str(htpasswd)],
        env=dict(os.environ, AGENT_PASSWORD=secret),
        check=True,
        capture_output=True,
    )


@dataclass
class Cluster:
    workdir: Path
    process: Popen
    url: str  # https://127.0.0.1:<port>
    rasa_ports: List[int]
    action_ports: List[int]
    stores: RunStores
    proxy_secret: str  # AGENT_PROXY_SECRET: the header nginx adds, which the instances trust
    started_in: float = 0.0

    def log(self) -> str:
        return (self.workdir / "cluster.out").read_text(encoding="utf-8", errors="replace")

    def access_log(self) -> List[str]:
        path = self.workdir / "log" / "nginx-access.log"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    def session_pids(self) -> List[int]:
        """Every live process of the cluster's session."""
        sid = self.process.pid
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # fields after the name: state, ppid, pgrp, session, ...
            if int(fields[3]) == sid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
        return pids

    def stop(self, sig: int = signal.SIGINT, timeout: float = 90.0) -> None:
        """``sig`` to the whole process group (SIGINT: Ctrl-C); SIGKILL when it does not end
        within ``timeout``."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


def start_cluster(
    workdir: Path, stores: RunStores, env: Dict[str, str], timeout: float = 900.0
) -> Cluster:
    """Starts scripts/cluster.sh on free ports with ``env`` and this run's ``stores``
    (created; the analytics events go to ``stores.analytics_db``, which cluster.sh makes),
    its files in ``workdir`` (the logins: :func:`add_agent` first); returns once it says it
    is ready."""
    workdir.mkdir(parents=True, exist_ok=True)
    rasa_ports = [free_port(), free_port()]
    action_ports = [free_port(), free_port()]
    https_port = free_port()
    proxy_secret = secrets.token_urlsafe(32)
    cluster_env = dict(
        env,
        **stores.env(),
        AGENT_PROXY_SECRET=proxy_secret,
        CLUSTER_DIR=str(workdir),
        CLUSTER_HTTPS_PORT=str(https_port),
        CLUSTER_RASA_PORTS=" ".join(map(str, rasa_ports)),
        CLUSTER_ACTION_PORTS=" ".join(map(str, action_ports)),
    )
    cluster_env.pop("ANALYTICS_DB_URL", None)  # cluster.sh's default: stores.analytics_db
    log = workdir / "cluster.out"
    start = time.monotonic()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "cluster.sh")],
            cwd=ROOT,
            env=cluster_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C is SIGINT to that group
        )
    url = f"https://127.0.0.1:{https_port}"
    cluster = Cluster(workdir, process, url, rasa_ports, action_ports, stores, proxy_secret)
    while "cluster: ready in" not in cluster.log():
        if process.poll() is not None or time.monotonic() - start > timeout:
            cluster.stop()
            raise RuntimeError(f"the cluster did not start; {log}:\n{log_tail(log, 4000)}")
        time.sleep(1)
    cluster.started_in = time.monotonic() - start
    return cluster
