"""Fixtures of the TL-loop tests: the real servers with every channel, the ops page on
(``OPS_TOKEN``) and "Tanya TL" on (``TL_TELEGRAM_CHAT_ID``), the Bot API and Graph API on a
local stub. One set of servers per module."""

from __future__ import annotations

import secrets
from typing import Any, Dict, Iterator

import pytest

from testkit.assistant import Servers
from tests.channels.stubs import ApiCall, ApiStub, tg_bot_message, tg_chat
from tests.channels.webhooks import servers_with_channels

TL_CHAT = tg_chat(-1009000000001, "supergroup")


@pytest.fixture(scope="module")
def ops_token() -> str:
    return secrets.token_hex(16)


def sent_message(call: ApiCall, chat: Dict[str, Any], bot_name: str) -> Dict[str, Any]:
    """The Telegram message of a recorded sendMessage, with the id the stub gave it."""
    message = tg_bot_message(call, chat, bot_name)
    message["message_id"] = call.response["result"]["message_id"]
    return message


@pytest.fixture(scope="module")
def tl_stub() -> Iterator[ApiStub]:
    stub = ApiStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="module")
def tl_servers(
    tl_stub: ApiStub, ops_token: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    """Embedded stores: SQLite tracker store and Rasa's SQL event broker (SQLite)."""
    workdir = tmp_path_factory.mktemp("tl_servers")
    servers = servers_with_channels(
        workdir, tl_stub.url, OPS_TOKEN=ops_token, TL_TELEGRAM_CHAT_ID=str(TL_CHAT["id"])
    )
    with servers.running() as running:
        yield running
