"""Fixtures of the channel tests: the API stub, the connectors on a fake-bot server (fast),
and the real servers with every channel configured (``@pytest.mark.servers``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterator

import pytest

from tests.channels.stubs import ApiStub

ROOT = Path(__file__).resolve().parents[2]
TG_TOKEN = "123456:TEST-token"
TG_BOT = "asisten_sop_bot"
TG_SECRET = "tg-secret-for-tests"
WA_TOKEN = "wa-token-for-tests"
WA_PHONE_ID = "106540352242922"
WA_SECRET = "wa-app-secret-for-tests"
WA_VERIFY = "wa-verify-for-tests"


def channel_env(stub_url: str) -> Dict[str, str]:
    """The environment credentials.channels.yml reads, pointing both APIs at the stub."""
    return {
        "TELEGRAM_TOKEN": TG_TOKEN,
        "TELEGRAM_BOT_NAME": TG_BOT,
        "TELEGRAM_WEBHOOK_URL": "https://example.invalid/webhooks/telegram/webhook",
        "TELEGRAM_SECRET": TG_SECRET,
        "TELEGRAM_API_BASE": stub_url,
        "WHATSAPP_TOKEN": WA_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": WA_PHONE_ID,
        "WHATSAPP_APP_SECRET": WA_SECRET,
        "WHATSAPP_VERIFY_TOKEN": WA_VERIFY,
        "WHATSAPP_API_BASE": stub_url,
        "WHATSAPP_API_VERSION": "v21.0",
        # the tests use many made-up chats; the allowlists have their own tests
        "ALLOW_ANY_CHAT": "1",
    }


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
) -> Iterator[object]:
    """The real action and Rasa servers with every channel of credentials.channels.yml, the
    Telegram and WhatsApp APIs pointed at the local stub."""
    from tests.e2e.servers import MODEL, Servers

    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    env = channel_env(api_stub.url)
    env["ASSISTANT_FIXED_NOW"] = "2026-11-22T10:00:00+07:00"
    running = Servers(
        workdir=Path(tmp_path_factory.mktemp("channel_servers")),
        env_extra=env,
        credentials=ROOT / "credentials.channels.yml",
    )
    try:
        running.start_actions()
        running.start_rasa()
    except Exception:
        running.stop()
        raise
    yield running
    running.stop()
