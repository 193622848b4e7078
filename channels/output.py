"""Bot messages in our channels' shape: one bot utterance -> ONE message dict.

Rasa's ``CollectingOutputChannel`` splits a text on blank lines into several messages and
sends ``custom`` (the ``sop_result`` payload) as a separate message, so a client cannot tell
which buttons or which card belong to which text. :class:`BundlingOutputChannel` keeps
``text``, ``buttons`` and ``custom`` of one utterance together::

    {"recipient_id": "...", "text": "...", "buttons": [{"title", "payload"}], "custom": {...}}

The same shape is used for the conversation history of the widget
(:func:`history_from_events`).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel

from sop_engine.render import payload_text

# Keys of a bot message a client of ours understands, in output order.
MESSAGE_KEYS = ("text", "buttons", "custom", "image", "attachment")


def _clean_buttons(raw: Any) -> Optional[List[Dict[str, str]]]:
    if not isinstance(raw, list):
        return None
    buttons = []
    for button in raw:
        if isinstance(button, dict) and button.get("title") is not None:
            payload = button.get("payload", button.get("title"))
            buttons.append({"title": str(button["title"]), "payload": str(payload)})
    return buttons or None


def bundle(recipient_id: Optional[str], message: Dict[str, Any]) -> Dict[str, Any]:
    """A Rasa bot message (``BotUttered.message()``) -> one message dict of ours."""
    out: Dict[str, Any] = {}
    if recipient_id is not None:
        out["recipient_id"] = recipient_id
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        out["text"] = text.strip()
    buttons = _clean_buttons(message.get("buttons") or message.get("quick_replies"))
    if buttons:
        out["buttons"] = buttons
    custom = message.get("custom")
    if custom is not None:
        out["custom"] = custom
    for key in ("image", "attachment"):
        if message.get(key):
            out[key] = message[key]
    return out


def has_content(message: Dict[str, Any]) -> bool:
    return any(key in message for key in MESSAGE_KEYS)


class BundlingOutputChannel(CollectingOutputChannel):
    """Collects bot messages, one dict per utterance (text + buttons + custom together)."""

    @classmethod
    def name(cls) -> str:
        return "collector"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        bundled = bundle(recipient_id, message)
        if has_content(bundled):
            await self._persist_message(bundled)


def sop_result_of(message: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    custom = message.get("custom")
    if isinstance(custom, dict) and custom.get("type") == "sop_result":
        return custom
    return None


def sop_result_text(result: Dict[str, Any]) -> str:
    """Plain-text form of a ``sop_result`` payload, for a message that carries no text: the
    engine's own rendering (sop_engine/render.py), so every channel shows the same answer."""
    return payload_text(result)


def message_text(message: Dict[str, Any]) -> str:
    """The text a text-only channel shows for one bundled message."""
    text = message.get("text") or ""
    result = sop_result_of(message)
    if not text and result is not None:
        text = sop_result_text(result)
    elif not text and message.get("custom") is not None:
        text = ""  # another custom payload: text-only channels have nothing to show
    for key in ("image", "attachment"):
        if message.get(key):
            text = f"{text}\n{message[key]}".strip()
    return text


def history_from_events(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """User and bot messages of a serialised tracker, in order, for a chat client.

    A user message sent by a button shows the button's title (``metadata.display``) rather
    than its payload.
    """
    history: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            metadata = event.get("metadata") or {}
            display = metadata.get("display") if isinstance(metadata, dict) else None
            text = display if isinstance(display, str) and display else event.get("text")
            if text:
                history.append({"role": "user", "text": str(text)})
        elif kind == "bot":
            data = dict(event.get("data") or {})
            data["text"] = event.get("text")
            bundled = bundle(None, data)
            if has_content(bundled):
                history.append({"role": "bot", **bundled})
    return history
