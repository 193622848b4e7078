"""Fixtures of the channel tests: the API stub, the connectors on a fake-bot server (fast),
and the real servers with every channel configured (``@pytest.mark.servers``)."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from testkit.assistant import ROOT, Servers
from tests.channels.stubs import ApiStub
from tests.channels.webhooks import channel_env, servers_with_channels


@pytest.fixture(scope="session")
def api_stub() -> Iterator[ApiStub]:
    stub = ApiStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="session")
def fake_server(api_stub: ApiStub) -> Iterator[object]:
    """Our connectors, built from credentials.channels.yml, on a Sanic server with a fake
    bot."""
    from rasa.core.run import create_http_input_channels

    from tests.channels.fakebot import FakeServer

    saved = dict(os.environ)
    os.environ.update(channel_env(api_stub.url))
    try:
        channels = create_http_input_channels(None, str(ROOT / "credentials.channels.yml"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    channels = [c for c in channels if c.name() != "socketio"]
    server = FakeServer(channels, "fake_channels").start()
    server.startup_calls = api_stub.take()  # setWebhook, made at server start
    yield server
    server.stop()


@pytest.fixture(scope="session")
def channel_servers(
    api_stub: ApiStub, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    """The real servers with every channel, the platforms' APIs on ``api_stub``."""
    workdir = tmp_path_factory.mktemp("channel_servers")
    with servers_with_channels(workdir, api_stub.url).running() as running:
        yield running
