"""Starts a bot's action server and Rasa server on free localhost ports, the way
``scripts/run.sh`` does, and measures the time from start to ready."""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests
import yaml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


@dataclass
class BotServers:
    """One bot: its project folder, trained model and how its servers are started."""

    name: str
    root: Path  # the bot's project folder (cwd of both servers)
    model: Path
    workdir: Path  # logs and the tracker database of this run
    credentials: Path
    python_bin: Path
    endpoints: Optional[Dict[str, Any]] = None  # None: the bot's own endpoints.yml
    actions_module: Optional[str] = None  # None: the bot has no custom actions
    rasa_command: List[str] = field(default_factory=lambda: ["rasa", "run"])
    action_command: List[str] = field(default_factory=lambda: ["rasa", "run", "actions"])
    logging_config: Optional[Path] = None  # --logging-config-file of both servers
    env: Dict[str, str] = field(default_factory=dict)
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    rasa_proc: Optional[subprocess.Popen] = None  # type: ignore[type-arg]
    action_proc: Optional[subprocess.Popen] = None  # type: ignore[type-arg]
    ready_seconds: float = 0.0
    rasa_ready_seconds: float = 0.0
    action_ready_seconds: Optional[float] = None

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    def _endpoints_file(self) -> Path:
        """The bot's endpoints with this run's action port and tracker database."""
        if self.endpoints is None:
            return self.root / "endpoints.yml"
        config = copy.deepcopy(self.endpoints)
        if "action_endpoint" in config:
            config["action_endpoint"]["url"] = f"http://127.0.0.1:{self.action_port}/webhook"
        store = config.get("tracker_store") or {}
        if store.get("dialect") == "sqlite":
            store["db"] = str(self.workdir / "tracker.db")
        path = self.workdir / "endpoints.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return path

    def _argv(self, command: List[str]) -> List[str]:
        """``rasa …`` is the venv's rasa; ``python …`` the venv's python."""
        head = {"rasa": self.python_bin.parent / "rasa", "python": self.python_bin}
        return [str(head.get(command[0], command[0])), *command[1:]]

    def _spawn(self, argv: List[str], log_name: str) -> subprocess.Popen:  # type: ignore[type-arg]
        log = open(self.workdir / log_name, "wb")  # noqa: SIM115 (lives as long as the server)
        env = dict(os.environ)
        env.update(self.env)
        return subprocess.Popen(argv, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT)

    def start(self, timeout: float = 300.0) -> None:
        """Starts both servers at once (as run.sh does) and waits until both answer."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "tracker.db").unlink(missing_ok=True)
        endpoints = self._endpoints_file()
        started = time.monotonic()
        if self.actions_module:
            action_argv = [
                *self._argv(self.action_command),
                "--actions",
                self.actions_module,
                "--port",
                str(self.action_port),
            ]
            if self.logging_config:
                # `python -m rasa_sdk` spells the flag with an underscore
                sdk = "rasa_sdk" in self.action_command
                flag = "--logging-config_file" if sdk else "--logging-config-file"
                action_argv += [flag, str(self.logging_config)]
            self.action_proc = self._spawn(action_argv, "actions.log")
        rasa_argv = [
            *self._argv(self.rasa_command),
            "--model",
            str(self.model),
            "--credentials",
            str(self.credentials),
            "--interface",
            "127.0.0.1",
            "--port",
            str(self.rasa_port),
            "--endpoints",
            str(endpoints),
        ]
        if self.logging_config:
            rasa_argv += ["--logging-config-file", str(self.logging_config)]
        self.rasa_proc = self._spawn(rasa_argv, "rasa.log")

        rasa_health = f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/"
        action_health = f"http://127.0.0.1:{self.action_port}/health"
        rasa_up = False
        action_up = self.action_proc is None
        deadline = started + timeout
        while not (rasa_up and action_up):
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"{self.name}: servers not ready within {timeout:.0f}s")
            for proc, log in ((self.rasa_proc, "rasa.log"), (self.action_proc, "actions.log")):
                if proc is not None and proc.poll() is not None:
                    tail = (self.workdir / log).read_text(errors="replace")[-3000:]
                    self.stop()
                    raise RuntimeError(f"{self.name}: {log} server exited:\n{tail}")
            if not rasa_up and answers(rasa_health):
                rasa_up = True
                self.rasa_ready_seconds = time.monotonic() - started
            if not action_up and answers(action_health):
                action_up = True
                self.action_ready_seconds = time.monotonic() - started
            time.sleep(0.25)
        self.ready_seconds = time.monotonic() - started

    def stop(self) -> None:
        procs = [p for p in (self.rasa_proc, self.action_proc) if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.rasa_proc = self.action_proc = None
