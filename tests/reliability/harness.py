"""Real servers for the reliability tests: action server, Rasa servers (through
``python -m assistant_runtime``), a small fault-injecting proxy in front of the action
server, PostgreSQL databases and Redis db numbers unique to one test run. No mocks."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "assistant.tar.gz"
LOGGING_CONFIG = ROOT / "logging.yml"
FIXED_NOW = "2026-11-22T10:00:00+07:00"

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("TEST_PG_PASSWORD", "")
REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))

SN = "0215123456789012345678901"
PULSA_CASE = "plg isi pulsa 50rb di indomaret blm masuk"


def pulsa_turns(msisdn: str = "0812-3456-7890", sn: str = SN) -> List[str]:
    """The non-fintech pulsa case of the issue: 7 messages ending in the SOP answer."""
    return [PULSA_CASE, msisdn, "kemarin jam 3 sore", sn, "/deny", "/deny", "/deny"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def server_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
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


def wait_http(
    url: str, timeout: float, process: Optional[subprocess.Popen] = None, ok: Sequence[int] = (200,)
) -> float:
    """Waits until ``url`` answers with one of ``ok``; returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=2).status_code in ok:
                return time.monotonic() - start
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class ManagedProcess:
    """One server process; its output is appended to ``log``."""

    name: str
    argv: List[str]
    env: Dict[str, str]
    log: Path
    ready_url: str
    ready_timeout: float = 600.0
    process: Optional[subprocess.Popen] = None  # type: ignore[type-arg]
    starts: List[float] = field(default_factory=list)

    def spawn(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            out.write(f"\n===== start {self.name} {time.strftime('%X')} =====\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> float:
        seconds = wait_http(self.ready_url, self.ready_timeout, self.process)
        self.starts.append(seconds)
        return seconds

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
        if self.alive:
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def action_server(port: int, log: Path, env: Dict[str, str]) -> ManagedProcess:
    return ManagedProcess(
        name=f"actions:{port}",
        argv=[
            # as scripts/run.sh starts it
            str(VENV_BIN / "python"),
            "-m",
            "assistant_runtime.action_server",
            "--actions",
            "actions",
            "--port",
            str(port),
            "--logging-config-file",
            str(LOGGING_CONFIG),
        ],
        env=env,
        log=log,
        ready_url=f"http://127.0.0.1:{port}/health",
        ready_timeout=90,
    )


def rasa_server(
    port: int,
    endpoints: Path,
    log: Path,
    env: Dict[str, str],
    enable_api: bool = True,
    credentials: Path = ROOT / "credentials.yml",
) -> ManagedProcess:
    argv = [
        str(VENV_BIN / "python"),
        "-m",
        "assistant_runtime",
        "run",
        "--model",
        str(MODEL),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
        "--interface",
        "127.0.0.1",
        "--port",
        str(port),
        "--logging-config-file",
        str(LOGGING_CONFIG),
    ]
    if enable_api:
        argv.append("--enable-api")
    return ManagedProcess(
        name=f"rasa:{port}",
        argv=argv,
        env=env,
        log=log,
        ready_url=f"http://127.0.0.1:{port}/",
    )


# -- fault-injecting proxy in front of the action server -------------------------------------


class ActionProxy:
    """Forwards to the action server; ``mode`` makes it slow, fail (500) or hang up."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.mode = "pass"  # pass | slow | error | drop
        self.delay = 0.0
        self.calls = 0
        self.posts = 0  # action calls only (not health checks)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self, method: str) -> None:
                proxy.calls += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.mode == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if proxy.mode == "slow":
                    time.sleep(proxy.delay)
                if proxy.mode == "error":
                    status, data = 500, b'{"error": "injected"}'
                else:
                    try:
                        conn = http.client.HTTPConnection(
                            "127.0.0.1", proxy.target_port, timeout=60
                        )
                        headers = {
                            "Content-Type": self.headers.get("Content-Type", "application/json")
                        }
                        conn.request(method, self.path, body=body, headers=headers)
                        answer = conn.getresponse()
                        status, data = answer.status, answer.read()
                        conn.close()
                    except OSError:
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout): fine

            def do_POST(self) -> None:  # noqa: N802
                proxy.posts += 1
                self._forward("POST")

            def do_GET(self) -> None:  # noqa: N802
                self._forward("GET")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, mode: str, delay: float = 0.0) -> None:
        self.mode, self.delay = mode, delay

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- talking to a Rasa server ----------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: Any
    seconds: float
    raw: bytes = b""

    @property
    def messages(self) -> List[Dict[str, Any]]:
        return self.body if isinstance(self.body, list) else []

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("text") or "") for m in self.messages)

    def sop_result(self) -> Optional[Dict[str, Any]]:
        for message in self.messages:
            custom = message.get("custom")
            if isinstance(custom, dict) and custom.get("type") == "sop_result":
                return custom
        return None


def post_raw(url: str, data: bytes, timeout: float = 120) -> Reply:
    start = time.monotonic()
    response = requests.post(
        url, data=data, headers={"Content-Type": "application/json"}, timeout=timeout
    )
    seconds = time.monotonic() - start
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    return Reply(response.status_code, body, seconds, response.content)


def say(port: int, sender: str, text: Any, timeout: float = 120) -> Reply:
    data = json.dumps({"sender": sender, "message": text}).encode("utf-8")
    return post_raw(f"http://127.0.0.1:{port}/webhooks/rest/webhook", data, timeout)


def new_sender(prefix: str = "rel") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def get_tracker(port: int, sender: str, token: str) -> Dict[str, Any]:
    response = requests.get(
        f"http://127.0.0.1:{port}/conversations/{sender}/tracker",
        params={"token": token},
        timeout=30,
    )
    response.raise_for_status()
    return dict(response.json())


def user_texts(events: Sequence[Dict[str, Any]]) -> List[str]:
    return [str(e.get("text")) for e in events if e.get("event") == "user"]


# -- PostgreSQL and Redis unique to one test run -------------------------------------------


def pg_connect(dbname: str = "postgres") -> Any:
    import psycopg2

    connection = psycopg2.connect(
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        password=PG_PASSWORD or None,
        dbname=dbname,
        connect_timeout=5,
    )
    connection.autocommit = True
    return connection


def pg_admin(sql: str, params: Tuple[Any, ...] = ()) -> None:
    connection = pg_connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        connection.close()


def pg_create_database(name: str) -> None:
    pg_admin(f'CREATE DATABASE "{name}"')


def pg_drop_database(name: str) -> None:
    pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    pg_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    pg_admin(f'DROP DATABASE IF EXISTS "{name}"')


def pg_block_database(name: str) -> None:
    """The database "goes down" for its clients: no new connections, current ones cut."""
    pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    pg_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def pg_unblock_database(name: str) -> None:
    pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def pg_user_events(dbname: str) -> Dict[str, List[Tuple[int, str]]]:
    """sender -> [(event id, text)] of every user event, in id order, read straight from
    the tracker store's table."""
    connection = pg_connect(dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, sender_id, data FROM events WHERE type_name = 'user' ORDER BY id"
            )
            result: Dict[str, List[Tuple[int, str]]] = {}
            for event_id, sender, data in cursor.fetchall():
                result.setdefault(sender, []).append((event_id, json.loads(data).get("text")))
            return result
    finally:
        connection.close()


def pg_events(dbname: str, sender: str) -> List[Dict[str, Any]]:
    connection = pg_connect(dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
            return [json.loads(row[0]) for row in cursor.fetchall()]
    finally:
        connection.close()


def claim_redis_db() -> int:
    """A Redis db number (1-15) that is empty now; a marker key claims it for this run."""
    import redis

    for number in range(15, 0, -1):
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number)
        if client.dbsize() == 0 and client.set("reliability:claim", "1", nx=True, ex=3600):
            return number
    raise RuntimeError("no empty Redis db among 1-15 for this test run")


def release_redis_db(number: int) -> None:
    import redis

    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number).flushdb()


def redis_keys(number: int) -> Iterator[str]:
    import redis

    for key in redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number).scan_iter():
        yield key.decode()


def write_endpoints(path: Path, data: Dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
