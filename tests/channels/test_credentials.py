"""credentials.yml (make run, no platform settings) and credentials.channels.yml (Telegram,
WhatsApp from the environment), and run.sh's choice between them."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Dict

import pytest
import yaml
from rasa.core.run import create_http_input_channels

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_VARS = re.compile(r"^(TELEGRAM|WHATSAPP)_")


@pytest.fixture
def no_platform_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if PLATFORM_VARS.match(name):
            monkeypatch.delenv(name)


def test_default_credentials_load_without_platform_settings(no_platform_env: None) -> None:
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    names = {c.name(): type(c).__module__ for c in channels}
    assert names == {
        "rest": "channels.rest",
        "widget": "channels.widget",
        "feedback": "channels.feedback",
        "socketio": "channels.socketio",
        "runtime_routes": "assistant_runtime.routes",  # /health, /ops/ (no chat channel)
    }


def test_channels_file_repeats_the_default_channels() -> None:
    default = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    text = (ROOT / "credentials.channels.yml").read_text(encoding="utf-8")
    with_platforms = yaml.safe_load(text)
    for key, value in default.items():
        assert with_platforms[key] == value, key
    extra = set(with_platforms) - set(default)
    assert extra == {"channels.telegram.TelegramConnector", "channels.whatsapp.WhatsAppConnector"}
    for key in extra:  # no literal secret: every value is ${VAR}
        for name, value in with_platforms[key].items():
            assert re.fullmatch(r"\$\{[A-Z_]+\}", str(value)), (key, name, value)


def run_sh_choice(env: Dict[str, str]) -> str:
    """Runs run.sh's channels block alone and returns the credentials file it picks."""
    script = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    block = re.search(r"# >>> channels.*?# <<< channels <<<", script, re.S)
    assert block, "the channels block of scripts/run.sh is missing"
    clean = {
        k: v for k, v in os.environ.items() if not PLATFORM_VARS.match(k) and k != "ALLOW_ANY_CHAT"
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.group(0) + '\necho "$credentials"'],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_run_sh_picks_the_channels_file_only_with_a_platform_token() -> None:
    assert run_sh_choice({}) == "credentials.yml"
    tg = {"TELEGRAM_TOKEN": "1:a", "TELEGRAM_ALLOWED_USERS": "111"}
    assert run_sh_choice(tg) == "credentials.channels.yml"
    wa = {"WHATSAPP_TOKEN": "t", "WHATSAPP_ALLOWED_NUMBERS": "6281200000001"}
    assert run_sh_choice(wa) == "credentials.channels.yml"
    assert run_sh_choice({"WHATSAPP_TOKEN": "t", "ALLOW_ANY_CHAT": "1"}) == (
        "credentials.channels.yml"
    )


@pytest.mark.parametrize(
    "env, named",
    [
        ({"TELEGRAM_TOKEN": "1:a"}, "TELEGRAM_ALLOWED_CHATS"),
        ({"WHATSAPP_TOKEN": "t", "TELEGRAM_ALLOWED_USERS": "1"}, "WHATSAPP_ALLOWED_NUMBERS"),
    ],
)
def test_run_sh_refuses_a_chat_channel_without_allowlist(env: Dict[str, str], named: str) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failed:
        run_sh_choice(env)
    assert named in failed.value.stderr


def test_channels_file_loads_with_only_telegram_set(no_platform_env: None) -> None:
    env = {
        "TELEGRAM_TOKEN": "1:a",
        "TELEGRAM_SECRET": "s",
        "TELEGRAM_BOT_NAME": "bot",
        "TELEGRAM_ALLOWED_CHATS": "-1001555000111",
    }
    names = [
        "TELEGRAM_WEBHOOK_URL",
        "TELEGRAM_API_BASE",
        "WHATSAPP_TOKEN",
        "WHATSAPP_PHONE_NUMBER_ID",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
        "WHATSAPP_API_BASE",
        "WHATSAPP_API_VERSION",
    ]
    env.update({name: "" for name in names})  # what run.sh does for unset ones
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        channels = {
            c.name(): c
            for c in create_http_input_channels(None, str(ROOT / "credentials.channels.yml"))
        }
    finally:
        os.environ.clear()
        os.environ.update(saved)
    telegram, whatsapp = channels["telegram"], channels["whatsapp"]
    assert telegram.api.base == "https://api.telegram.org"  # type: ignore[attr-defined]
    assert telegram.bot_name == "bot"  # type: ignore[attr-defined]
    assert not whatsapp.configured  # type: ignore[attr-defined]
    assert whatsapp.api.url.startswith("https://graph.facebook.com/v21.0/")  # type: ignore[attr-defined]


def test_a_chat_channel_without_allowlist_stops_the_start(
    no_platform_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from channels.access import ChannelConfigError

    monkeypatch.delenv("ALLOW_ANY_CHAT", raising=False)
    for name, value in {"TELEGRAM_TOKEN": "1:a", "TELEGRAM_SECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    for name in ["TELEGRAM_BOT_NAME", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_API_BASE"] + [
        f"WHATSAPP_{n}"
        for n in [
            "TOKEN",
            "PHONE_NUMBER_ID",
            "APP_SECRET",
            "VERIFY_TOKEN",
            "API_BASE",
            "API_VERSION",
        ]
    ]:
        monkeypatch.setenv(name, "")
    with pytest.raises(ChannelConfigError, match="ALLOW_ANY_CHAT=1"):
        create_http_input_channels(None, str(ROOT / "credentials.channels.yml"))


async def test_socketio_messages_pass_the_input_guard() -> None:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    from channels.socketio import guarded

    seen = []

    async def rasa(message: UserMessage) -> None:
        seen.append(message.text)

    handle = guarded(rasa)
    out = CollectingOutputChannel()
    await handle(UserMessage("x" * 50_000, out, "s1"))
    await handle(UserMessage(" \x00 ", out, "s1"))
    await handle(UserMessage("pulsa\u200b blm masuk", out, "s1"))
    assert seen == ["pulsa blm masuk"]
    assert "batas 2.000 karakter" in out.messages[0]["text"]
    assert "kosong" in out.messages[1]["text"]
