"""How the tests reach our chat webhooks: the settings credentials.channels.yml reads (both
platforms' APIs on the local stub, :mod:`tests.channels.stubs`) and updates posted as the
platforms post them, with the Telegram secret header and the WhatsApp body signature."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional

import requests

from testkit.assistant import ROOT, Servers, server_env
from tests.channels.stubs import wa_signature

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


def servers_with_channels(workdir: Path, stub_url: str, **env: str) -> Servers:
    """The real action and Rasa servers with every channel of credentials.channels.yml, both
    platforms' APIs at ``stub_url``; ``env``: more settings."""
    return Servers(
        workdir=workdir,
        env=server_env({**channel_env(stub_url), **env}),
        credentials=ROOT / "credentials.channels.yml",
    )


Body = Optional[Dict[str, Any]]
Secret = Optional[str]  # None: no secret header, no signature
Raw = Optional[bytes]  # the body as sent, instead of ``update`` / ``body``


def telegram_post(
    base_url: str, update: Body = None, secret: Secret = TG_SECRET, raw: Raw = None
) -> int:
    """Posts a Telegram update (or ``raw`` bytes) to the server at ``base_url`` with the
    webhook's secret header; returns the HTTP status."""
    data = raw if raw is not None else json.dumps(update).encode()
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    return _post(f"{base_url}/webhooks/telegram/webhook", data, headers)


def whatsapp_post(
    base_url: str, body: Body = None, secret: Secret = WA_SECRET, raw: Raw = None
) -> int:
    """Posts a WhatsApp webhook body (or ``raw`` bytes) to the server at ``base_url``, signed
    with ``secret`` as Meta signs it; returns the HTTP status."""
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {} if secret is None else {"X-Hub-Signature-256": wa_signature(secret, data)}
    return _post(f"{base_url}/webhooks/whatsapp/webhook", data, headers)


def _post(url: str, data: bytes, headers: Dict[str, str]) -> int:
    headers = {"Content-Type": "application/json", **headers}
    return requests.post(url, data=data, headers=headers, timeout=120).status_code
