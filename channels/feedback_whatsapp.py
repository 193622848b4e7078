"""Feedback and "Tanya TL" in WhatsApp (hooked into channels/whatsapp.py).

* under every SOP answer: reply buttons 👍 Membantu / 👎 Salah / Salah kasus (ids
  ``fb:<answer_id>:<u|d|w>``); an uncertain answer with "Tanya TL" configured has four
  options, more than the three reply buttons WhatsApp allows, so they are a list message
  (same ids, plus ``t``);
* after 👎 the bot asks for a reason; the agent's reply to that message (WhatsApp's
  ``context.id``) is stored as the reason, not handed to the dialogue.

A press is the agent's own (WhatsApp conversations are one agent each), so no owner check
is needed beyond the sender.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from typing import Any, Dict, Optional, Tuple

from channels import feedback

logger = logging.getLogger(__name__)

REPLY_RE = re.compile(r"^fb:([0-9a-f]{12}):([udwt])$")
KIND_OF = {"u": "up", "d": "down", "w": "wrong_case", "t": "ask_tl"}
TITLE_OF = {"u": "👍 Membantu", "d": "👎 Salah", "w": "Salah kasus", "t": "Tanya TL"}
ROW_TEXT = "Jawaban ini membantu?"
REASON_PROMPT = (
    "Masukan 👎 tercatat. Apa yang salah? Balas (reply) pesan ini dengan alasannya (opsional)."
)


class ReasonPrompts:
    """WhatsApp id of an "alasan" question -> (sender, answer_id)."""

    def __init__(self, capacity: int = 5000) -> None:
        self._open: OrderedDict[str, Tuple[str, str]] = OrderedDict()
        self.capacity = capacity

    def add(self, message_id: str, sender: str, answer_id: str) -> None:
        self._open[message_id] = (sender, answer_id)
        while len(self._open) > self.capacity:
            self._open.popitem(last=False)

    def pop(self, message_id: str) -> Optional[Tuple[str, str]]:
        return self._open.pop(message_id, None)


REASONS = ReasonPrompts()


def row_payload(target: Dict[str, str], result: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The interactive message with the feedback options of one SOP answer."""
    answer_id = result.get("answer_id")
    if not isinstance(answer_id, str) or not feedback.ANSWER_ID_RE.match(answer_id):
        return None
    uncertain = bool(result.get("uncertain")) or str(result.get("case_id", "")).endswith(
        ".tidak_tercakup"
    )
    codes = ["u", "d", "w"] + (["t"] if uncertain and feedback.ask_tl_enabled() else [])
    options = [{"id": f"fb:{answer_id}:{c}", "title": TITLE_OF[c]} for c in codes]
    if len(codes) <= 3:
        interactive: Dict[str, Any] = {
            "type": "button",
            "body": {"text": ROW_TEXT},
            "action": {"buttons": [{"type": "reply", "reply": option} for option in options]},
        }
    else:
        interactive = {
            "type": "list",
            "body": {"text": ROW_TEXT},
            "action": {
                "button": "Pilih masukan",
                "sections": [
                    {
                        "title": "Masukan",
                        "rows": options,
                    }
                ],
            },
        }
    return {**target, "type": "interactive", "interactive": interactive}


async def send_feedback_row(out: Any, result: Optional[Dict[str, Any]]) -> None:
    """After an SOP answer (called by WhatsAppOutput.send_bundled). Not in groups: WhatsApp
    has no interactive messages there."""
    if out.peer.group_id:
        return
    payload = row_payload(out.peer.target(), result or {})
    if payload is not None:
        await out.api.send(payload)


def _reply_id(message: Dict[str, Any]) -> str:
    interactive = message.get("interactive") or {}
    reply = interactive.get(interactive.get("type") or "") or {}
    return str(reply.get("id") or "") if isinstance(reply, dict) else ""


async def _text(connector: Any, peer: Any, text: str) -> Optional[Any]:
    return await connector.api.send(
        {**peer.target(), "type": "text", "text": {"body": text, "preview_url": False}}
    )


async def handle_message(connector: Any, agent: Any, message: Dict[str, Any]) -> bool:
    """True when the message was feedback or a reason (handled here, not a user turn)."""
    from channels.whatsapp import Peer

    phone = str(message.get("from") or "")
    if agent is None or not phone or message.get("group_id"):
        return False  # groups have no interactive messages: nothing of ours there
    peer = Peer(phone, str(message.get("from_user_id") or ""))
    if not connector.allowed(peer):
        return False  # the connector refuses it as usual
    sender = peer.sender
    match = REPLY_RE.match(_reply_id(message)) if message.get("type") == "interactive" else None
    if match is not None:
        if not await connector._first_time(str(message.get("id") or "")):
            return True  # Meta redelivered it
        answer_id, kind = match.group(1), KIND_OF[match.group(2)]
        try:
            if kind == "ask_tl":
                text = await feedback.ask_tl(agent, sender, answer_id, "whatsapp")
            else:
                await feedback.record(agent, sender, answer_id, kind, channel="whatsapp")
                text = feedback.THANKS[kind]
        except feedback.FeedbackError as error:
            text = error.message
            kind = ""
        if kind == "down":
            sent = await _text(connector, peer, REASON_PROMPT)
            ids = [m.get("id") for m in (sent or {}).get("messages") or [] if isinstance(m, dict)]
            if ids and ids[0]:
                REASONS.add(str(ids[0]), sender, answer_id)
            return True
        await _text(connector, peer, text)
        return True
    context = message.get("context") or {}
    prompt = REASONS.pop(str(context.get("id") or "")) if context.get("id") else None
    if prompt is None or message.get("type") != "text" or prompt[0] != sender:
        return False
    if not await connector._first_time(str(message.get("id") or "")):
        return True
    body = {"sender": sender, "answer_id": prompt[1], "kind": "reason"}
    body["reason"] = str((message.get("text") or {}).get("body") or "")
    try:
        reason = feedback.parse_feedback(body)[3]
        await feedback.record(agent, sender, prompt[1], "reason", reason, "whatsapp")
        text = feedback.THANKS["reason"]
    except feedback.FeedbackError as error:
        text = error.message
    await _text(connector, peer, text)
    return True
