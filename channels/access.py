"""Who may use a chat channel (Telegram, WhatsApp): allowlists from the environment.

* ``TELEGRAM_ALLOWED_CHATS`` (group or private chat ids), ``TELEGRAM_ALLOWED_USERS``
  (Telegram user ids): a Telegram message counts when its chat OR its sender is listed;
* ``WHATSAPP_ALLOWED_NUMBERS``: phone numbers (digits, with or without ``+``),
  business-scoped user ids (``ID.123...``) or group ids; a business-scoped id that arrives
  without its phone counts as the phone an earlier message linked it to
  (:func:`channels.whatsapp.link_identity`).

Anyone else gets one short refusal (:data:`REFUSAL`, at most once a day per chat and user)
and no SOP content; the attempt is logged with the ids masked. A configured chat channel
without any allowlist refuses to start unless ``ALLOW_ANY_CHAT=1`` says that is meant.
"""

from __future__ import annotations

import os
import re
from typing import FrozenSet, Iterable

REFUSAL = "Maaf, asisten ini hanya untuk agen yang terdaftar. Hubungi TL untuk akses."


class ChannelConfigError(RuntimeError):
    """A chat channel configured so that anyone could use it."""


def id_set(variable: str) -> FrozenSet[str]:
    raw = os.environ.get(variable, "")
    return frozenset(normalise(item) for item in re.split(r"[\s,;]+", raw) if item.strip())


def normalise(value: object) -> str:
    text = str(value).strip()
    return text[1:] if text.startswith("+") and text[1:].isdigit() else text


def allow_any() -> bool:
    return os.environ.get("ALLOW_ANY_CHAT", "").strip().lower() in ("1", "true", "yes")


def require_allowlist(channel: str, variables: Iterable[str]) -> None:
    names = list(variables)
    if allow_any() or any(id_set(name) for name in names):
        return
    raise ChannelConfigError(
        f"{channel}: no allowlist ({' / '.join(names)}); anyone could read the SOPs. "
        "Set it, or ALLOW_ANY_CHAT=1 to serve every chat on purpose."
    )


def mask_id(value: object) -> str:
    """An id for the logs: the first 2 and last 2 characters."""
    text = str(value)
    if len(text) <= 4:
        return "*" * len(text)
    return text[:2] + "*" * (len(text) - 4) + text[-2:]
