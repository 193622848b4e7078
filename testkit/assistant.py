"""This assistant's servers started as scripts/run.sh starts them (keep in step with run.sh):
``python -m assistant_runtime.action_server`` and ``python -m assistant_runtime run``, both
logging through logging.yml, each on a free localhost port.

:func:`action_server` and :func:`rasa_server` build one process each (the reliability tests
put a proxy between them, run two Rasa instances, kill one); :class:`Servers` is the common
pair: one action server and one Rasa server, started together and stopped together. The
benchmark starts other bots' servers (the stock ``rasa init`` bot, Rasa's own runtime) with
the same class and other commands."""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

import requests
import yaml

from testkit.processes import ManagedProcess, free_port, wait_ready

ROOT = Path(__file__).resolve().parents[1]
PYTHON = Path(sys.executable)
MODEL = ROOT / "models" / "assistant.tar.gz"
LOGGING_CONFIG = ROOT / "logging.yml"
# the clock of the SOP answers in tests and bench: relative dates ("kemarin jam 3 sore")
# always give the same answer
FIXED_NOW = "2026-11-22T10:00:00+07:00"
RASA_COMMAND = ("python", "-m", "assistant_runtime", "run")
ACTIONS_COMMAND = ("python", "-m", "assistant_runtime.action_server")


def server_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of a server under test: this process's, without the secrets and
    pytest's variables, with scripts/env.sh's settings, one TensorFlow thread, the fixed
    clock; ``extra`` last."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RASA_AUTH_TOKEN", "RASA_JWT", "PYTEST_"))
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_INTER_OP_PARALLELISM_THREADS": "1",
            "TF_INTRA_OP_PARALLELISM_THREADS": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "AGENT_TZ": env.get("AGENT_TZ", "Asia/Jakarta"),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "ASSISTANT_FIXED_NOW": FIXED_NOW,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def require_model(model: Path = MODEL) -> None:
    if not model.exists():
        raise FileNotFoundError(f"{model} is missing: run `make train` first")


def _argv(command: Sequence[str]) -> List[str]:
    """``python ...`` is this interpreter (the venv's), ``rasa ...`` the rasa next to it."""
    head = {"python": str(PYTHON), "rasa": str(PYTHON.parent / "rasa")}
    return [head.get(command[0], command[0]), *command[1:]]


def action_server(
    port: int,
    log: Path,
    env: Dict[str, str],
    *,
    root: Path = ROOT,
    command: Sequence[str] = ACTIONS_COMMAND,
    actions: str = "actions",
    logging_config: Optional[Path] = LOGGING_CONFIG,
) -> ManagedProcess:
    argv = [*_argv(command), "--actions", actions, "--port", str(port)]
    if logging_config is not None:
        # `python -m rasa_sdk` spells the flag with an underscore
        sdk = "rasa_sdk" in command
        argv += ["--logging-config_file" if sdk else "--logging-config-file", str(logging_config)]
    ready = f"http://127.0.0.1:{port}/health"
    return ManagedProcess(f"actions:{port}", argv, env, log, ready, cwd=root, ready_timeout=120)


def rasa_server(
    port: int,
    endpoints: Path,
    log: Path,
    env: Dict[str, str],
    *,
    enable_api: bool = False,
    credentials: Optional[Path] = None,
    model: Path = MODEL,
    root: Path = ROOT,
    command: Sequence[str] = RASA_COMMAND,
    logging_config: Optional[Path] = LOGGING_CONFIG,
) -> ManagedProcess:
    """``credentials``: None is the project's credentials.yml (REST, widget)."""
    require_model(model)
    argv = [
        *_argv(command),
        "--model",
        str(model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials or root / "credentials.yml"),
        "--interface",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if logging_config is not None:
        argv += ["--logging-config-file", str(logging_config)]
    if enable_api:
        argv.append("--enable-api")
    # "/" answers once the model is loaded (Rasa loads it before the server listens)
    return ManagedProcess(f"rasa:{port}", argv, env, log, f"http://127.0.0.1:{port}/", cwd=root)


def write_endpoints(path: Path, config: Dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def embedded_endpoints(
    workdir: Path,
    action_url: str,
    source: Path = ROOT / "endpoints.yml",
    action_timeout: Optional[float] = None,
) -> Path:
    """``source`` (the shipped endpoints.yml) with only this run's action URL and its own
    SQLite files in ``workdir`` (tracker store, event broker) changed."""
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    if "action_endpoint" in config:
        config["action_endpoint"]["url"] = action_url
        if action_timeout is not None:
            config["action_endpoint"]["timeout"] = action_timeout
    store = config.get("tracker_store") or {}
    if store.get("dialect") == "sqlite":
        store["db"] = str(workdir / "tracker.db")
    broker = config.get("event_broker") or {}
    if broker.get("dialect") == "sqlite":
        broker["db"] = str(workdir / "events.db")
    return write_endpoints(workdir / "endpoints.yml", config)


@dataclass
class Servers:
    """One action server and one Rasa server of a bot project, started together.

    By default: this assistant as scripts/run.sh starts it, the shipped endpoints.yml with
    this run's action port and SQLite files in ``workdir``. ``endpoints``: a file used as
    it is (e.g. endpoints.production.yml, read from the environment). ``actions_module``
    None: a bot without custom actions (no action server)."""

    workdir: Path
    env: Dict[str, str] = field(default_factory=server_env)
    credentials: Optional[Path] = None
    # the project (its code, sop/ and model): another copy, e.g. one with a sixth SOP
    root: Path = ROOT
    model: Path = MODEL
    endpoints: Optional[Path] = None
    actions_module: Optional[str] = "actions"
    rasa_command: Sequence[str] = RASA_COMMAND
    action_command: Sequence[str] = ACTIONS_COMMAND
    logging_config: Optional[Path] = LOGGING_CONFIG
    name: str = "assistant"
    action_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    rasa: Optional[ManagedProcess] = None
    actions: Optional[ManagedProcess] = None
    ready_seconds: float = 0.0  # from the start until both answer

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/webhooks/rest/webhook"

    @property
    def processes(self) -> List[ManagedProcess]:
        return [p for p in (self.rasa, self.actions) if p is not None]

    def start(self) -> None:
        """Starts both servers at once (as run.sh does) and waits until both answer; stops
        them again when one of them does not come up."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for store in ("tracker.db", "events.db"):  # a run starts with empty stores
            for suffix in ("", "-wal", "-shm"):
                (self.workdir / f"{store}{suffix}").unlink(missing_ok=True)
        endpoints = self.endpoints or embedded_endpoints(
            self.workdir,
            f"http://127.0.0.1:{self.action_port}/webhook",
            self.root / "endpoints.yml",
        )
        if self.actions_module:
            self.actions = action_server(
                self.action_port,
                self.workdir / "actions.log",
                self.env,
                root=self.root,
                command=self.action_command,
                actions=self.actions_module,
                logging_config=self.logging_config,
            )
        self.rasa = rasa_server(
            self.rasa_port,
            endpoints,
            self.workdir / "rasa.log",
            self.env,
            credentials=self.credentials,
            model=self.model,
            root=self.root,
            command=self.rasa_command,
            logging_config=self.logging_config,
        )
        started = time.monotonic()
        try:
            for process in self.processes:
                process.spawn()
            wait_ready(self.processes)
        except BaseException:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - started

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    @contextmanager
    def running(self) -> Iterator[Servers]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def say(self, sender: str, text: str) -> List[Dict[str, Any]]:
        return say(self.base_url, sender, text)


def say(base_url: str, sender: str, text: str, timeout: float = 60) -> List[Dict[str, Any]]:
    """One message through the REST channel of the Rasa server at ``base_url``: the reply's
    messages."""
    response = requests.post(
        f"{base_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=timeout,
    )
    response.raise_for_status()
    return list(response.json())
