"""What the reliability tests add to :mod:`testkit` (which starts the servers and makes
this run's databases): a small fault-injecting proxy in front of the action server, REST
calls that record status and time, and reads of the tracker store. No mocks."""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import requests

from testkit.conversations import sop_result
from testkit.stores import pg_connect


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


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
        return sop_result(self.messages)


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


# -- the tracker store's table, read straight from PostgreSQL ------------------------------


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
