"""Starts the real action server and Rasa server on free localhost ports for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "assistant.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float, process: Optional[subprocess.Popen] = None) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def test_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            "AGENT_TZ": env.get("AGENT_TZ", "Asia/Jakarta"),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }
    )
    env.update(extra or {})
    return env


@dataclass
class Servers:
    workdir: Path
    action_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    env_extra: Dict[str, str] = field(default_factory=dict)
    # credentials file of the Rasa server (channels); None -> the project's credentials.yml
    credentials: Optional[Path] = None
    processes: List[subprocess.Popen] = field(default_factory=list)  # type: ignore[type-arg]
    # another copy of the project (its code, sop/ and model), e.g. with a sixth SOP
    root: Path = ROOT
    model: Path = MODEL

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/webhooks/rest/webhook"

    def endpoints(self) -> Path:
        """The shipped endpoints.yml with this run's action port and database."""
        import yaml

        config = yaml.safe_load((self.root / "endpoints.yml").read_text(encoding="utf-8"))
        config["action_endpoint"]["url"] = f"http://127.0.0.1:{self.action_port}/webhook"
        config["tracker_store"]["db"] = str(self.workdir / "tracker.db")
        if (config.get("event_broker") or {}).get("dialect") == "sqlite":
            config["event_broker"]["db"] = str(self.workdir / "events.db")
        path = self.workdir / "endpoints.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return path

    def start_actions(self) -> None:
        log = open(self.workdir / "actions.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [  # as scripts/run.sh starts them
                str(VENV_BIN / "python"),
                "-m",
                "assistant_runtime.action_server",
                "--actions",
                "actions",
                "--port",
                str(self.action_port),
            ],
            cwd=self.root,
            env=test_env({"PYTHONPATH": str(self.root), **self.env_extra}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(proc)
        wait_http(f"http://127.0.0.1:{self.action_port}/health", 60, proc)

    def start_rasa(self) -> None:
        log = open(self.workdir / "rasa.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                str(VENV_BIN / "python"),
                "-m",
                "assistant_runtime",
                "run",
                "--model",
                str(self.model),
                "--endpoints",
                str(self.endpoints()),
                "--credentials",
                str(self.credentials or self.root / "credentials.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.rasa_port),
            ],
            cwd=self.root,
            env=test_env({"PYTHONPATH": str(self.root), **self.env_extra}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(proc)
        wait_http(f"http://127.0.0.1:{self.rasa_port}/", 180, proc)

    def stop(self) -> None:
        for proc in self.processes:
            proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.processes.clear()

    def say(self, sender: str, text: str) -> List[Dict[str, Any]]:
        response = requests.post(
            self.rest_url, json={"sender": sender, "message": text}, timeout=60
        )
        response.raise_for_status()
        return list(response.json())
