"""Two stacks of real servers, started once per test session (each Rasa start costs 30-50 s):

* ``embedded``: endpoints.yml as shipped (strict SQLite tracker store, in-memory lock store),
  one Rasa server with debug logging and the HTTP API behind a token, one action server
  behind :class:`ActionProxy` (to make it slow or fail on demand);
* ``production``: endpoints.production.yml as shipped, filled only through environment
  variables: a PostgreSQL database and a Redis db number unique to this run, two Rasa
  servers (one with a JWT secret, one with a token) and one action server.

Both are spawned together when the session needs them, so their model loads overlap.
Measured figures go to results/reliability/figures.json (docs/reliability.md).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from testkit.assistant import ROOT, action_server, embedded_endpoints, rasa_server, server_env
from testkit.processes import ManagedProcess, free_port, wait_ready
from testkit.stores import RunStores, pg_unblock_database
from tests.reliability import harness as h

FIGURES_PATH = ROOT / "results" / "reliability" / "figures.json"


class Figures:
    def __init__(self) -> None:
        self.data: Dict[str, Any] = {}

    def record(self, test: str, **values: Any) -> None:
        self.data.setdefault(test, {}).update(values)

    def write(self) -> None:
        """Merges this session's figures into the file (a partial run keeps the others)."""
        if not self.data:
            return
        FIGURES_PATH.parent.mkdir(parents=True, exist_ok=True)
        merged: Dict[str, Any] = {}
        if FIGURES_PATH.exists():
            try:
                merged = json.loads(FIGURES_PATH.read_text())
            except ValueError:
                merged = {}
        merged.update(self.data)
        merged["_run"] = {"finished": time.strftime("%Y-%m-%d %H:%M:%S")}
        FIGURES_PATH.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    collected = Figures()
    yield collected
    collected.write()


@dataclass
class EmbeddedStack:
    workdir: Path
    token: str
    actions: ManagedProcess
    proxy: h.ActionProxy
    rasa: ManagedProcess
    rasa_port: int
    api_stub: Any  # tests.channels.stubs.ApiStub: the Telegram / WhatsApp APIs

    def ensure_running(self) -> None:
        self.proxy.set("pass")
        if not self.actions.alive:
            self.actions.start()
        if not self.rasa.alive:
            self.rasa.start()

    def tracker(self, sender: str) -> Dict[str, Any]:
        return h.get_tracker(self.rasa_port, sender, self.token)

    def stop(self) -> None:
        self.rasa.stop()
        self.actions.stop()
        self.proxy.close()
        self.api_stub.stop()


@dataclass
class ProductionStack:
    workdir: Path
    stores: RunStores
    token: str
    jwt_secret: str
    env: Dict[str, str]
    actions: ManagedProcess
    rasa: List[ManagedProcess]  # [0]: JWT, [1]: token
    ports: List[int]
    endpoints: Path

    @property
    def dbname(self) -> str:
        return self.stores.dbname

    @property
    def redis_db(self) -> int:
        assert self.stores.redis_db is not None
        return self.stores.redis_db

    def ensure_running(self) -> None:
        pg_unblock_database(self.dbname)
        if not self.actions.alive:
            self.actions.start()
        dead = [server for server in self.rasa if not server.alive]
        for server in dead:
            server.spawn()
        for server in dead:
            server.wait_ready()

    def tracker(self, sender: str) -> Dict[str, Any]:
        return h.get_tracker(self.ports[1], sender, self.token)

    def stop(self) -> None:
        for server in self.rasa:
            server.stop()
        self.actions.stop()


def _needed(session: pytest.Session) -> set:  # type: ignore[type-arg]
    names = set()
    for item in session.items:
        names.update(getattr(item, "fixturenames", ()))
    return names


@dataclass
class Launcher:
    embedded: Optional[EmbeddedStack] = None
    production: Optional[ProductionStack] = None
    ready: Dict[str, float] = field(default_factory=dict)


def _spawn_embedded(workdir: Path) -> EmbeddedStack:
    from tests.channels.stubs import ApiStub
    from tests.channels.webhooks import channel_env

    workdir.mkdir(parents=True, exist_ok=True)
    token = h.new_secret()
    action_port = free_port()
    api_stub = ApiStub().start()
    # every channel of credentials.channels.yml, Telegram and WhatsApp APIs on the stub
    env = server_env(
        {"LOG_LEVEL": "DEBUG", "LOG_LEVEL_LIBRARIES": "INFO", **channel_env(api_stub.url)}
    )
    actions = action_server(action_port, workdir / "actions.log", env)
    proxy = h.ActionProxy(action_port)
    # The shipped configuration, only the action URL (via the proxy) and the database files
    # (temporary ones) differ; the test timeout is shorter than the shipped 10 s.
    endpoints = embedded_endpoints(
        workdir, f"http://127.0.0.1:{proxy.port}/webhook", action_timeout=3
    )
    port = free_port()
    rasa = rasa_server(
        port,
        endpoints,
        workdir / "rasa.log",
        dict(env, RASA_AUTH_TOKEN=token),
        credentials=ROOT / "credentials.channels.yml",
        enable_api=True,
    )
    actions.spawn()
    rasa.spawn()
    return EmbeddedStack(workdir, token, actions, proxy, rasa, port, api_stub)


def _spawn_production(workdir: Path, run_stores: RunStores) -> ProductionStack:
    workdir.mkdir(parents=True, exist_ok=True)
    token, jwt_secret = h.new_secret(), h.new_secret()
    action_port = free_port()
    env = server_env(run_stores.env(f"http://127.0.0.1:{action_port}/webhook"))
    endpoints = ROOT / "endpoints.production.yml"  # as shipped: env variables only
    actions = action_server(action_port, workdir / "actions.log", env)
    ports = [free_port(), free_port()]
    # instance 1 checks the HTTP API's JWTs, instance 2 its token
    logins = [{"RASA_JWT_SECRET": jwt_secret}, {"RASA_AUTH_TOKEN": token}]
    rasa = [
        rasa_server(port, endpoints, workdir / f"rasa{n}.log", {**env, **login}, enable_api=True)
        for n, (port, login) in enumerate(zip(ports, logins, strict=True), start=1)
    ]
    actions.spawn()
    for server in rasa:
        server.spawn()
    return ProductionStack(
        workdir, run_stores, token, jwt_secret, env, actions, rasa, ports, endpoints
    )


@pytest.fixture(scope="session")
def launcher(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, figures: Figures
) -> Iterator[Launcher]:
    needed = _needed(request.session)
    launched = Launcher()
    base = tmp_path_factory.mktemp("reliability")
    run_stores = RunStores("reliability")
    start = time.monotonic()
    try:
        if "embedded" in needed:
            launched.embedded = _spawn_embedded(base / "embedded")
        if "production" in needed:
            launched.production = _spawn_production(base / "production", run_stores.create())
        processes: List[ManagedProcess] = []
        if launched.embedded:
            processes += [launched.embedded.actions, launched.embedded.rasa]
        if launched.production:
            processes += [launched.production.actions, *launched.production.rasa]
        wait_ready(processes)
        figures.record(
            "servers",
            rasa_servers_started_together=sum(1 for p in processes if p.name.startswith("rasa")),
            seconds_until_all_ready=round(time.monotonic() - start, 1),
        )
        yield launched
    finally:
        if launched.embedded:
            launched.embedded.stop()
        if launched.production:
            launched.production.stop()
        run_stores.remove()


@pytest.fixture
def embedded(launcher: Launcher) -> EmbeddedStack:
    assert launcher.embedded is not None
    launcher.embedded.ensure_running()
    return launcher.embedded


@pytest.fixture
def production(launcher: Launcher) -> ProductionStack:
    assert launcher.production is not None
    launcher.production.ensure_running()
    return launcher.production
