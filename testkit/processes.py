"""Server processes on free localhost ports: spawn with the output in a log file, wait until
an HTTP address answers, stop (terminate, then kill) or crash them on purpose."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import requests

Popen = subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str, ok: Sequence[int] = (200,)) -> bool:
    try:
        return requests.get(url, timeout=2).status_code in ok
    except requests.RequestException:
        return False


def wait_http(url: str, timeout: float) -> None:
    """Waits until ``url`` answers with HTTP 200."""
    deadline = time.monotonic() + timeout
    while not answers(url):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.5)


def log_tail(log: Path, size: int = 3000) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-size:] if log.exists() else ""


def stop_process(process: Optional[Popen], timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL when it has not ended within ``timeout``; a stopped (SIGSTOP)
    process is continued first so that it can end."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGCONT)
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


@dataclass
class ManagedProcess:
    """One server process; its output is appended to ``log``. Ready when ``ready_url``
    answers with HTTP 200."""

    name: str
    argv: List[str]
    env: Dict[str, str]
    log: Path
    ready_url: str
    cwd: Optional[Path] = None
    ready_timeout: float = 600.0
    process: Optional[Popen] = None
    spawned_at: float = 0.0
    # seconds from each spawn to ready, in order (restarts included)
    starts: List[float] = field(default_factory=list)

    def spawn(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            out.write(f"\n===== start {self.name} {time.strftime('%X')} =====\n".encode())
            out.flush()
            self.spawned_at = time.monotonic()
            self.process = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> float:
        """Seconds from the spawn until ready."""
        wait_ready([self])
        return self.starts[-1]

    def start(self) -> float:
        self.spawn()
        return self.wait_ready()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown code runs."""
        if self.alive:
            assert self.process is not None
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        stop_process(self.process)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def wait_ready(processes: Sequence[ManagedProcess]) -> None:
    """Waits until every process answers, watching them all at once (so that each one's time
    to ready is its own, not the slowest one's). A process that exits or does not answer
    within its ``ready_timeout`` stops the wait with its log's tail."""
    waiting = list(processes)
    while waiting:
        for process in list(waiting):
            if process.process is not None and process.process.poll() is not None:
                raise RuntimeError(
                    f"{process.name} exited with {process.process.returncode} before "
                    f"{process.ready_url} answered; {process.log}:\n{log_tail(process.log)}"
                )
            if answers(process.ready_url):
                process.starts.append(time.monotonic() - process.spawned_at)
                waiting.remove(process)
            elif time.monotonic() - process.spawned_at > process.ready_timeout:
                raise TimeoutError(
                    f"{process.ready_url} did not answer within {process.ready_timeout:.0f} s; "
                    f"{process.log}:\n{log_tail(process.log)}"
                )
        if waiting:
            time.sleep(0.25)
