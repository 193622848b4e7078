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


def telegram_post(
    base_url: str,
    update: Optional[Dict[str, Any]] = None,
    secret: Optional[str] = TG_SECRET,
    raw: Optional[bytes] = None,
    timeout: float = 120,
) -> int:
    """Posts a Telegram update (or ``raw`` bytes) to the server at ``base_url`` with the
    webhook's secret header (none when ``secret`` is None); returns the HTTP status."""
    body = raw if raw is not None else json.dumps(update).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    response = requests.post(
        f"{base_url}/webhooks/telegram/webhook", data=body, headers=headers, timeout=timeout
    )
    return response.status_code


def whatsapp_post(
    base_url: str,
    body: Optional[Dict[str, Any]] = None,
    secret: Optional[str] = WA_SECRET,
    raw: Optional[bytes] = None,
    timeout: float = 120,
) -> int:
    """Posts a WhatsApp webhook body (or ``raw`` bytes) signed with ``secret`` as Meta signs
    it (unsigned when ``secret`` is None); returns the HTTP status."""
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = wa_signature(secret, data)
    response = requests.post(
        f"{base_url}/webhooks/whatsapp/webhook", data=data, headers=headers, timeout=timeout
    )
    return response.status_code
