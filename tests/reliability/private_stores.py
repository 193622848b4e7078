"""A Redis server and a PostgreSQL cluster of the test's own, on free ports in a temporary
directory: the mid-turn tests kill, freeze and stop them, which must never touch the
machine's shared services."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from testkit.processes import free_port, stop_process
from testkit.stores import production_env


def _wait_port(
    port: int,
    timeout: float = 30.0,
    process: Optional[subprocess.Popen] = None,  # type: ignore[type-arg]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class PrivateRedis:
    """``redis-server`` without persistence: a restart starts empty, as after a crash of a
    cache-only Redis."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None  # type: ignore[type-arg]
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (make test-services installs it)")
        self.binary = binary

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--logfile", str(self.workdir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_port(self.port, process=self.process)

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel, nothing is answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, db=0, socket_timeout=5)

    def stop(self) -> None:
        stop_process(self.process, timeout=10)  # continued first if frozen


class PrivatePostgres:
    """A PostgreSQL cluster made by ``initdb`` (as the ``postgres`` user when run as root:
    initdb refuses root), trust authentication on 127.0.0.1 only."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data = workdir / "pgdata"
        self.port = free_port()
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise RuntimeError("PostgreSQL server binaries not found (make test-services)")
        self.bin = found[-1].parent

    def _run(self, argv: List[str], timeout: float = 120) -> None:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{argv}: {result.stdout}{result.stderr}")

    def init(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
            os.chmod(self.workdir, 0o700)
        self._run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
            + ["-E", "UTF8", "--no-sync"]
        )
        self.start()

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options]
            + ["-l", str(self.workdir / "postgres.log"), "-w", "start"]
        )

    def stop(self, mode: str = "fast") -> None:
        """``fast``: clients are disconnected, no new connection is accepted until start."""
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def connect(self, dbname: str = "postgres") -> Any:
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, connect_timeout=5
        )
        connection.autocommit = True
        return connection

    def create_database(self, name: str) -> None:
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()

    def user_texts(self, dbname: str, sender: str) -> List[str]:
        """The stored user messages of one conversation, in order (straight from the table)."""
        import json

        connection = self.connect(dbname)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT data FROM events WHERE sender_id = %s AND type_name = 'user' "
                    "ORDER BY id",
                    (sender,),
                )
                return [json.loads(row[0]).get("text") for row in cursor.fetchall()]
        except Exception as error:  # the table does not exist before the first save
            if "does not exist" in str(error):
                return []
            raise
        finally:
            connection.close()

    def destroy(self) -> None:
        if self.running():
            try:
                self.stop("immediate")
            except Exception:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)


def store_env(redis_port: int, pg_port: int, dbname: str, action_url: str) -> Dict[str, str]:
    """Environment for endpoints.production.yml as shipped, pointed at the private stores."""
    local = "127.0.0.1"
    return production_env(
        dbname, 0, action_url, pg=(local, pg_port, "postgres", ""), redis=(local, redis_port)
    )
