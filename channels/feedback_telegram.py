"""Feedback, "Tanya TL" and ``/riwayat`` in Telegram (hooked into channels/telegram.py).

* under every SOP answer a short message with an inline row 👍 / 👎 / Salah kasus (and
  Tanya TL when configured); ``callback_data`` ``fb:<user_id>:<answer_id>:<u|d|w|t>``
  (at most 38 bytes), pressed only by the agent the answer was for;
* after 👎 the bot asks for a reason with a force-reply; the agent's reply to that question
  is stored as the reason, not handed to the dialogue;
* in the TL chat (``TL_TELEGRAM_CHAT_ID``) a reply to a "Tanya TL" message goes back to the
  agent (:func:`channels.feedback.deliver_tl_reply`);
* ``/riwayat`` lists the agent's last cases in that chat.
"""

from __future__ import annotations

import logging
import os
import re
from collections import OrderedDict
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from channels import feedback

logger = logging.getLogger(__name__)

CALLBACK_RE = re.compile(r"^fb:(-?\d+):([0-9a-f]{12}):([udwt])$")
KIND_OF = {"u": "up", "d": "down", "w": "wrong_case", "t": "ask_tl"}
LABEL_OF = {"up": "👍", "down": "👎", "wrong_case": "Salah kasus", "ask_tl": "Tanya TL"}
ROW_TEXT = "Jawaban ini membantu?"
REASON_PROMPT = "Apa yang salah? Balas pesan ini dengan alasannya (opsional)."
FOREIGN = "Tombol ini untuk agen lain."
HISTORY_LIMIT = 5
RIWAYAT_RE = re.compile(r"^/riwayat(@\w+)?(\s|$)", re.IGNORECASE)


class ReasonPrompts:
    """(chat id, prompt message id) -> (sender, answer_id) of the open "alasan" questions."""

    def __init__(self, capacity: int = 5000) -> None:
        self._open: OrderedDict[Tuple[str, int], Tuple[str, str]] = OrderedDict()
        self.capacity = capacity

    def add(self, chat_id: Any, message_id: int, sender: str, answer_id: str) -> None:
        self._open[(str(chat_id), int(message_id))] = (sender, answer_id)
        while len(self._open) > self.capacity:
            self._open.popitem(last=False)

    def pop(self, chat_id: Any, message_id: Any) -> Optional[Tuple[str, str]]:
        try:
            return self._open.pop((str(chat_id), int(message_id)), None)
        except (TypeError, ValueError):
            return None


REASONS = ReasonPrompts()


def uncertain(result: Dict[str, Any]) -> bool:
    return bool(result.get("uncertain")) or str(result.get("case_id", "")).endswith(
        ".tidak_tercakup"
    )


def feedback_keyboard(owner: int, answer_id: str, ask_tl: bool = False) -> Dict[str, Any]:
    """👍 / 👎 / Salah kasus, and Tanya TL when ``ask_tl`` (uncertain answers, configured)."""
    codes = ["u", "d", "w"] + (["t"] if ask_tl else [])
    row = [
        {"text": LABEL_OF[KIND_OF[c]], "callback_data": f"fb:{owner}:{answer_id}:{c}"}
        for c in codes
    ]
    return {"inline_keyboard": [row[:3], row[3:]] if len(row) > 3 else [row]}


async def send_feedback_row(out: Any, result: Optional[Dict[str, Any]]) -> None:
    """After an SOP answer: the feedback row (called by TelegramOutput.send_response)."""
    answer_id = (result or {}).get("answer_id")
    if not isinstance(answer_id, str) or not feedback.ANSWER_ID_RE.match(answer_id):
        return
    payload: Dict[str, Any] = {
        **_topic(getattr(out, "thread_id", None)),
        "chat_id": out.chat_id,
        "text": ROW_TEXT,
        "reply_markup": feedback_keyboard(
            out.owner, answer_id, feedback.ask_tl_enabled() and uncertain(result or {})
        ),
    }
    await out.api.call("sendMessage", payload)


def _topic(thread_id: Any) -> Dict[str, Any]:
    """``message_thread_id`` of a forum topic: without it a send lands in "General"."""
    return {"message_thread_id": thread_id} if isinstance(thread_id, int) else {}


def _topic_of(message: Dict[str, Any]) -> Dict[str, Any]:
    thread = message.get("message_thread_id")
    return _topic(thread) if message.get("is_topic_message") else {}


def _sender(chat_id: Any, user_id: Any) -> str:
    return f"tg:{chat_id}:{user_id}"


async def _on_callback(connector: Any, agent: Any, query: Dict[str, Any]) -> bool:
    match = CALLBACK_RE.match(str(query.get("data") or ""))
    if match is None:
        return False
    owner, answer_id, code = int(match.group(1)), match.group(2), match.group(3)
    user = query.get("from") or {}
    message = query.get("message") or {}
    chat_id = (message.get("chat") or {}).get("id")
    api = connector.api
    if user.get("id") != owner or chat_id is None:
        await api.call(
            "answerCallbackQuery",
            {"callback_query_id": query.get("id"), "text": FOREIGN, "show_alert": True},
        )
        return True
    sender, kind = _sender(chat_id, owner), KIND_OF[code]
    try:
        if kind == "ask_tl":
            text = await feedback.ask_tl(agent, sender, answer_id, "telegram")
        else:
            await feedback.record(agent, sender, answer_id, kind, channel="telegram")
            text = feedback.THANKS[kind]
    except feedback.FeedbackError as error:
        await api.call(
            "answerCallbackQuery", {"callback_query_id": query.get("id"), "text": error.message}
        )
        return True
    await api.call("answerCallbackQuery", {"callback_query_id": query.get("id"), "text": text})
    if kind == "ask_tl":
        await api.call("sendMessage", {**_topic_of(message), "chat_id": chat_id, "text": text})
        return True
    if message.get("message_id"):
        await api.call(
            "editMessageText",
            {
                "chat_id": chat_id,
                "message_id": message["message_id"],
                "text": f"{ROW_TEXT}\n✔ {LABEL_OF[kind]} tercatat",
            },
        )
    if kind == "down":
        sent = await api.call(
            "sendMessage",
            {
                **_topic_of(message),
                "chat_id": chat_id,
                "text": REASON_PROMPT,
                "reply_markup": {"force_reply": True, "selective": True},
            },
        )
        if isinstance(sent, dict) and sent.get("message_id"):
            REASONS.add(chat_id, sent["message_id"], sender, answer_id)
    return True


def _when(ts: Any) -> str:
    zone = ZoneInfo(os.environ.get("AGENT_TZ") or "Asia/Jakarta")
    try:
        return datetime.fromtimestamp(float(ts), zone).strftime("%d/%m %H:%M")
    except (TypeError, ValueError, OverflowError):
        return "-"


def history_text(cases: List[Dict[str, Any]]) -> str:
    if not cases:
        return "Belum ada kasus yang selesai di chat ini."
    lines = [f"Kasus terakhir Anda ({min(len(cases), HISTORY_LIMIT)}):"]
    for number, case in enumerate(reversed(cases[-HISTORY_LIMIT:]), start=1):
        msisdn = f" · {case['msisdn']}" if case.get("msisdn") else ""
        lines.append(f"{number}. {_when(case.get('time'))} · {case.get('title')}{msisdn}")
        if case.get("answer"):
            lines.append(f"   {case['answer'][:200]}")
    return "\n".join(lines)


async def _on_message(connector: Any, agent: Any, message: Dict[str, Any]) -> bool:
    chat_id = (message.get("chat") or {}).get("id")
    user_id = (message.get("from") or {}).get("id")
    if chat_id is None or user_id is None:
        return False
    if str(chat_id) == os.environ.get("TL_TELEGRAM_CHAT_ID", "") and feedback.ask_tl_enabled():
        if message.get("reply_to_message"):
            return await feedback.deliver_tl_reply(agent, message)
        return False
    original = message.get("reply_to_message") or {}
    if original.get("message_id") and message.get("text"):
        prompt = REASONS.pop(chat_id, original["message_id"])
        if prompt is not None and prompt[0] == _sender(chat_id, user_id):
            sender, answer_id = prompt
            try:
                reason = feedback.parse_feedback(
                    {
                        "sender": sender,
                        "answer_id": answer_id,
                        "kind": "reason",
                        "reason": message["text"],
                    }
                )[3]
                await feedback.record(agent, sender, answer_id, "reason", reason, "telegram")
                text = feedback.THANKS["reason"]
            except feedback.FeedbackError as error:
                text = error.message
            await connector.api.call(
                "sendMessage", {**_topic_of(message), "chat_id": chat_id, "text": text}
            )
            return True
        if prompt is not None:  # someone else answered the prompt: keep it open
            REASONS.add(chat_id, original["message_id"], *prompt)
    if RIWAYAT_RE.match(str(message.get("text") or "")):
        tracker = await agent.tracker_store.retrieve_full_tracker(_sender(chat_id, user_id))
        cases = feedback.case_summaries(feedback.event_dicts(tracker)) if tracker else []
        payload: Dict[str, Any] = {
            **_topic_of(message),
            "chat_id": chat_id,
            "text": history_text(cases),
        }
        if (message.get("chat") or {}).get("type") in ("group", "supergroup"):
            payload["reply_to_message_id"] = message.get("message_id")
        await connector.api.call("sendMessage", payload)
        return True
    return False


def _allowed(connector: Any, chat_id: Any, user_id: Any) -> bool:
    allowed = getattr(connector, "allowed", None)
    return True if allowed is None else bool(allowed(chat_id, user_id))


async def handle_update(connector: Any, agent: Any, update: Dict[str, Any]) -> bool:
    """True when the update was feedback, a reason, a TL reply or /riwayat (handled here,
    not a user turn). Agents outside the connector's allowlist are left to the connector."""
    if agent is None:
        return False
    query = update.get("callback_query")
    if isinstance(query, dict):
        chat_id = ((query.get("message") or {}).get("chat") or {}).get("id")
        if not _allowed(connector, chat_id, (query.get("from") or {}).get("id")):
            return False
        return await _on_callback(connector, agent, query)
    message = update.get("message")
    if isinstance(message, dict):
        chat_id = (message.get("chat") or {}).get("id")
        tl_chat = str(chat_id) == os.environ.get("TL_TELEGRAM_CHAT_ID", "")
        if not tl_chat and not _allowed(connector, chat_id, (message.get("from") or {}).get("id")):
            return False
        return await _on_message(connector, agent, message)
    return False
