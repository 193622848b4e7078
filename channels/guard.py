"""Input guard shared by every connector: runs on the raw text BEFORE Rasa's NLU sees it.

* NUL and other control characters (C0/C1 except newline and tab), zero-width characters,
  bidi controls and the BOM are removed; ``\\r\\n`` / ``\\r`` become ``\\n``.
* Empty or whitespace-only text is answered with a short Indonesian prompt.
* Text longer than :data:`MAX_MESSAGE_CHARS` is answered with a short Indonesian message
  naming the limit; NLU is not called (a 100,000-character message once took 43 s and
  16 GB, see ../shared/rasa-notes.md).

Connectors call :func:`check_text` and either forward ``result.text`` to Rasa or send
``result.reply`` back on their own channel.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

MAX_MESSAGE_CHARS = int(os.environ.get("ASSISTANT_MAX_MESSAGE_CHARS", "2000"))
# Raw HTTP body limit of the JSON webhooks (REST, widget). Up to it a long message gets the
# Indonesian limit answer (HTTP 200); beyond it HTTP 413.
MAX_BODY_BYTES = 1024 * 1024
MAX_SENDER_CHARS = 128

EMPTY_REPLY = 'Pesannya kosong. Ketik kasus pelanggan, misalnya "pulsa 50rb via gopay belum masuk".'

# Invisible characters that would split a number or a code for NLU and the validators
# (an SN pasted with a zero-width space is still the SN) or reorder what the agent sees.
_INVISIBLE = {
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",  # zero-width space/(non-)joiner, LRM, RLM
    "\u2060", "\u2061", "\u2062", "\u2063", "\u2064",  # word joiner, invisible operators
    "\u180e",  # Mongolian vowel separator
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # bidi embeddings / overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # bidi isolates
    "\ufeff",  # BOM / zero-width no-break space
}  # fmt: skip
_KEEP = {"\n", "\t"}


def too_long_reply(length: int, limit: int = MAX_MESSAGE_CHARS) -> str:
    return (
        f"Pesan terlalu panjang ({_thousands(length)} karakter; batas {_thousands(limit)} "
        "karakter). Kirim ringkasan kasusnya saja."
    )


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def clean_text(text: str) -> str:
    """Removes control characters (keeping newline and tab) and trims surrounding space."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = [
        ch
        for ch in text
        if ch in _KEEP or (unicodedata.category(ch) != "Cc" and ch not in _INVISIBLE)
    ]
    return "".join(kept).strip()


@dataclass(frozen=True)
class GuardResult:
    """Either ``text`` (forward it to Rasa) or ``reply`` (answer it, do not call NLU)."""

    text: Optional[str] = None
    reply: Optional[str] = None
    reason: Optional[str] = None  # "empty" | "too_long" when refused

    @property
    def ok(self) -> bool:
        return self.text is not None


def check_text(raw: Optional[str], limit: int = MAX_MESSAGE_CHARS) -> GuardResult:
    if raw is None:
        return GuardResult(reply=EMPTY_REPLY, reason="empty")
    # Count the raw length first: a huge message is refused without scanning it twice.
    if len(raw) > limit * 4:
        return GuardResult(reply=too_long_reply(len(raw), limit), reason="too_long")
    text = clean_text(raw)
    if not text:
        return GuardResult(reply=EMPTY_REPLY, reason="empty")
    if len(text) > limit:
        return GuardResult(reply=too_long_reply(len(text), limit), reason="too_long")
    return GuardResult(text=text)


class BadRequest(ValueError):
    """A JSON webhook body the connector refuses with HTTP 400 (message is Indonesian)."""


_SENDER_RE = re.compile(rf"^[^\x00-\x1f\x7f]{{1,{MAX_SENDER_CHARS}}}$")


def parse_json_body(body: bytes) -> Dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest("Body terlalu besar (maks 1 MB); pesan dibatasi 2.000 karakter.")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("Body harus JSON yang valid (UTF-8).") from None
    if not isinstance(data, dict):
        raise BadRequest("Body harus objek JSON.")
    return data


def parse_message_body(body: bytes) -> Tuple[str, Optional[str], Optional[Dict[str, Any]]]:
    """``{"sender": str, "message": str, "metadata": {...}?}`` -> (sender, message, metadata).

    Raises :class:`BadRequest` for invalid JSON, wrong types or a missing sender. A missing
    or null ``message`` is returned as ``None`` and answered like an empty message.
    """
    data = parse_json_body(body)
    sender = data.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest('"sender" wajib diisi (string).')
    sender = sender.strip()
    if not _SENDER_RE.match(sender):
        raise BadRequest(f'"sender" maks {MAX_SENDER_CHARS} karakter tanpa karakter kontrol.')
    message = data.get("message")
    if message is not None and not isinstance(message, str):
        raise BadRequest('"message" harus string.')
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest('"metadata" harus objek JSON.')
    return sender, message, metadata
