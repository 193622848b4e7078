"""Feedback on SOP answers, "Tanya TL" and the agent's case history.

Every SOP answer carries an ``answer_id`` (actions/cases.py). What the agent does with it
(👍, 👎 with an optional reason, "salah kasus", copying the ticket or the interaction note,
"Tanya TL") is stored in the agent's conversation as a ``SlotSet`` of ``feedback_event`` (a
slot that does not influence the dialogue), appended under the conversation's lock without a
user turn: the form, the active case and the next prediction stay as they were. The tracker
store publishes the event to the event broker like any other (analytics/).

A TL's answer to "Tanya TL" (a reply to the bot's message in the TL Telegram chat) is added
to the agent's conversation as a bot message and, for a Telegram agent, sent to their chat.

HTTP (prefix ``/webhooks/feedback``, registered as a channel in credentials*.yml):

* ``POST /``          ``{"sender", "answer_id", "kind", "reason"?}`` -> 200 ``{"ok", "message"}``;
  400 bad body or kind, 404 no such conversation or answer, 409 "Tanya TL" not configured
* ``GET  /config``    ``{"ask_tl": bool}`` (the widget shows "Tanya TL" only when true)
* ``GET  /tl-replies?sender=&answer_id=``  the TL's answers to one "Tanya TL"
* ``GET  /cases?sender=...&sender=...``    the latest answer of each widget conversation;
  behind the proxy (channels/agent_identity.py) also the agent's own widget conversations
  from the stored broker events, and never a conversation another agent wrote in
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.channels.channel import InputChannel
from rasa.shared.core.events import BotUttered, SlotSet
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import agent_identity
from channels.base import OnNewMessage, json_error
from channels.guard import BadRequest, clean_text, parse_json_body
from channels.http import JsonClient

try:
    from assistant_runtime.masking import mask_text
except ImportError:  # pragma: no cover - the channels also work without it

    def mask_text(text: str) -> str:
        return re.sub(r"\d{6,}", "***", text)


logger = logging.getLogger(__name__)

FEEDBACK_SLOT = "feedback_event"
# what an agent can do with an answer; "reason" is the free text after 👎
KINDS = ("up", "down", "wrong_case", "reason", "copy_ticket", "copy_note", "ask_tl")
ANSWER_ID_RE = re.compile(r"^[0-9a-f]{12}$")
WIDGET_SENDER_RE = re.compile(r"^w-[A-Za-z0-9-]{8,64}$")
MAX_SENDER_CHARS = 128
MAX_REASON_CHARS = 500
MAX_HISTORY_SENDERS = 20
LAST_AGENT_MESSAGES = 6
TL_PREFIX = "💬 Jawaban TL: "

THANKS = {
    "up": "Terima kasih, masukan 👍 tercatat.",
    "down": "Terima kasih, masukan 👎 tercatat. Tulis alasannya bila sempat.",
    "wrong_case": "Terima kasih, tercatat: salah kasus.",
    "reason": "Terima kasih, alasannya tercatat.",
    "copy_ticket": "Salinan tiket tercatat.",
    "copy_note": "Salinan catatan interaksi tercatat.",
}
ASK_TL_SENT = "Kasus terkirim ke TL. Jawaban TL akan muncul di percakapan ini."
ASK_TL_FAILED = "Kasus belum terkirim ke TL (Telegram tidak menjawab). Coba lagi sebentar lagi."
ASK_TL_OFF = '"Tanya TL" belum diatur (TL_TELEGRAM_CHAT_ID).'


class FeedbackError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- pure helpers ----------------------------------------------------------------------------


def event_dicts(tracker: Any) -> List[Dict[str, Any]]:
    return [event.as_dict() for event in tracker.events]


def find_answer(events: List[Dict[str, Any]], answer_id: str) -> Optional[Dict[str, Any]]:
    """The ``sop_result`` payload with ``answer_id`` among a conversation's events."""
    for event in reversed(events):
        if event.get("event") != "bot":
            continue
        custom = (event.get("data") or {}).get("custom")
        if isinstance(custom, dict) and custom.get("answer_id") == answer_id:
            return custom
    return None


def recorded(events: List[Dict[str, Any]], answer_id: str) -> List[Dict[str, Any]]:
    """The feedback values already stored for one answer, oldest first."""
    found = []
    for event in events:
        if event.get("event") == "slot" and event.get("name") == FEEDBACK_SLOT:
            value = event.get("value")
            if isinstance(value, dict) and value.get("answer_id") == answer_id:
                found.append(value)
    return found


def agent_messages_before(events: List[Dict[str, Any]], answer_id: str, count: int) -> List[str]:
    """The agent's last ``count`` messages of the case that ended in the answer, masked."""
    texts: List[str] = []
    for event in events:
        if event.get("event") == "bot":
            custom = (event.get("data") or {}).get("custom")
            if isinstance(custom, dict) and custom.get("answer_id") == answer_id:
                break
            if isinstance(custom, dict) and custom.get("type") == "sop_result":
                texts = []  # an earlier case
        if event.get("event") == "user" and event.get("text"):
            metadata = event.get("metadata") or {}
            display = metadata.get("display") if isinstance(metadata, dict) else None
            texts.append(mask_text(str(display or event["text"])))
    return texts[-count:]


def case_values(events: List[Dict[str, Any]], answer: Dict[str, Any]) -> List[str]:
    """The values given for the case of ``answer`` (labels of its SOP file), masked."""
    from sop_engine.loader import default_registry

    engine = default_registry().by_intent.get(str(answer.get("case_id", "")).split(".")[0])
    if engine is None:
        return []
    values: Dict[str, Any] = {}
    for event in events:
        custom = (event.get("data") or {}).get("custom") if event.get("event") == "bot" else None
        if isinstance(custom, dict) and custom.get("answer_id") == answer.get("answer_id"):
            break
        if event.get("event") == "slot":
            values[str(event.get("name"))] = event.get("value")
    lines = [
        f"{spec.label}: {mask_text(engine.show(spec.name, values[spec.name]))}"
        for spec in engine.sop.slots
        if values.get(spec.name) is not None
    ]
    lines += [
        f"{question.text} → {engine.show(question.name, values[question.name])}"
        for question in engine.sop.questions
        if values.get(question.name) is not None
    ]
    return lines


def parse_feedback(body: Dict[str, Any]) -> Tuple[str, str, str, Optional[str]]:
    """``(sender, answer_id, kind, reason)`` of a request body, or FeedbackError(400)."""
    sender, answer_id, kind = body.get("sender"), body.get("answer_id"), body.get("kind")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise FeedbackError(400, '"sender" wajib diisi (teks, maks. 128 karakter).')
    if not isinstance(answer_id, str) or not ANSWER_ID_RE.match(answer_id):
        raise FeedbackError(400, '"answer_id" tidak valid.')
    if kind not in KINDS:
        raise FeedbackError(400, '"kind" harus salah satu dari: ' + ", ".join(KINDS) + ".")
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise FeedbackError(400, '"reason" harus teks.')
    if kind == "reason":
        reason = clean_text(reason or "").strip()
        if not reason:
            raise FeedbackError(400, "Alasan kosong.")
        if len(reason) > MAX_REASON_CHARS:
            raise FeedbackError(400, f"Alasan terlalu panjang (maks. {MAX_REASON_CHARS} karakter).")
    else:
        reason = None
    return sender.strip(), answer_id, kind, reason


def tl_message(sender: str, answer: Dict[str, Any], messages: List[str], values: List[str]) -> str:
    """The case as the TL reads it in Telegram (MSISDN and other numbers masked)."""
    lines = [
        "❓ Tanya TL",
        f"Agen: {mask_text(sender)}",
        f"Kasus: {answer.get('title', '')} ({answer.get('case_id', '')})",
    ]
    if values:
        lines.append("Data dari agen:")
        lines += [f"- {v}" for v in values]
    if messages:
        lines.append("Pesan agen terakhir:")
        lines += [f"- {m}" for m in messages]
    lines.append("Balas (reply) pesan ini untuk menjawab agen.")
    return "\n".join(lines)


def ask_tl_enabled() -> bool:
    return bool(os.environ.get("TL_TELEGRAM_CHAT_ID") and os.environ.get("TELEGRAM_TOKEN"))


# --- the conversation side -------------------------------------------------------------------


class TlRoutes:
    """(TL chat id, bot message id) -> agent conversation of each "Tanya TL" sent by this
    process; older ones are found again in the agent's events (``recorded``)."""

    def __init__(self, capacity: int = 5000) -> None:
        self._routes: OrderedDict[Tuple[str, int], Tuple[str, str]] = OrderedDict()
        self.capacity = capacity

    def add(self, chat_id: str, message_id: int, sender: str, answer_id: str) -> None:
        self._routes[(str(chat_id), int(message_id))] = (sender, answer_id)
        while len(self._routes) > self.capacity:
            self._routes.popitem(last=False)

    def get(self, chat_id: Any, message_id: Any) -> Optional[Tuple[str, str]]:
        try:
            return self._routes.get((str(chat_id), int(message_id)))
        except (TypeError, ValueError):
            return None


TL_ROUTES = TlRoutes()
_TL_CLIENT = JsonClient()


async def telegram_call(method: str, payload: Dict[str, Any]) -> Optional[Any]:
    base = (os.environ.get("TELEGRAM_API_BASE") or "https://api.telegram.org").rstrip("/")
    token = os.environ.get("TELEGRAM_TOKEN", "")
    answer = await _TL_CLIENT.post(f"{base}/bot{token}/{method}", payload, f"Telegram {method}")
    if isinstance(answer, dict):
        return answer.get("result") if answer.get("ok", True) else None
    return None


async def whatsapp_text(wa_id: str, text: str) -> Optional[Any]:
    """A text to a WhatsApp agent (the Cloud API settings of credentials.channels.yml)."""
    base = (os.environ.get("WHATSAPP_API_BASE") or "https://graph.facebook.com").rstrip("/")
    version = os.environ.get("WHATSAPP_API_VERSION") or "v21.0"
    phone = os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "")
    token = os.environ.get("WHATSAPP_TOKEN", "")
    if not phone or not token:
        return None
    client = JsonClient({"Authorization": f"Bearer {token}"})
    try:
        return await client.post(
            f"{base}/{version}/{phone}/messages",
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": wa_id,
                "type": "text",
                "text": {"body": text, "preview_url": False},
            },
            "WhatsApp send",
        )
    finally:
        await client.close()


async def _append(agent: Any, sender: str, make_events: Any) -> Any:
    """Runs ``make_events(tracker, events)`` under the conversation's lock and saves what it
    returns. No user turn, no prediction: the dialogue does not move."""
    store = agent.tracker_store
    async with agent.lock_store.lock(sender):
        tracker = await store.retrieve(sender)
        if tracker is None:
            raise FeedbackError(404, "Percakapan tidak ditemukan.")
        new_events, result = make_events(tracker, event_dicts(tracker))
        for event in new_events:
            tracker.update(event)
        if new_events:
            await store.save(tracker)
        return result


async def record(
    agent: Any,
    sender: str,
    answer_id: str,
    kind: str,
    reason: Optional[str] = None,
    channel: str = "rest",
    extra: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Stores one feedback event of ``sender`` on ``answer_id``; FeedbackError(404) when the
    conversation has no such answer."""

    def make(tracker: Any, events: List[Dict[str, Any]]) -> Any:
        answer = find_answer(events, answer_id)
        if answer is None:
            raise FeedbackError(404, "Jawaban tidak ditemukan di percakapan ini.")
        value: Dict[str, Any] = {
            "kind": kind,
            "answer_id": answer_id,
            "case_id": answer.get("case_id"),
            "channel": channel,
            "at": round(time.time(), 3),
        }
        if reason:
            value["reason"] = reason
        value.update(extra or {})
        return [SlotSet(FEEDBACK_SLOT, value)], value

    return await _append(agent, sender, make)


async def ask_tl(agent: Any, sender: str, answer_id: str, channel: str = "rest") -> str:
    """Sends the case of ``answer_id`` to the TL chat and records it; the agent's reply text."""
    chat_id = os.environ.get("TL_TELEGRAM_CHAT_ID", "")
    if not ask_tl_enabled():
        raise FeedbackError(409, ASK_TL_OFF)
    tracker = await agent.tracker_store.retrieve(sender)
    if tracker is None:
        raise FeedbackError(404, "Percakapan tidak ditemukan.")
    events = event_dicts(tracker)
    answer = find_answer(events, answer_id)
    if answer is None:
        raise FeedbackError(404, "Jawaban tidak ditemukan di percakapan ini.")
    text = tl_message(
        sender,
        answer,
        agent_messages_before(events, answer_id, LAST_AGENT_MESSAGES),
        case_values(events, answer),
    )
    sent = await telegram_call("sendMessage", {"chat_id": chat_id, "text": text})
    if not isinstance(sent, dict) or "message_id" not in sent:
        raise FeedbackError(502, ASK_TL_FAILED)
    TL_ROUTES.add(chat_id, sent["message_id"], sender, answer_id)
    await record(
        agent,
        sender,
        answer_id,
        "ask_tl",
        channel=channel,
        extra={"tl_chat_id": str(chat_id), "tl_message_id": sent["message_id"]},
    )
    return ASK_TL_SENT


async def deliver_tl_reply(agent: Any, message: Dict[str, Any]) -> bool:
    """A message in the TL chat that replies to a "Tanya TL": adds it to the agent's
    conversation (and sends it to a Telegram agent). False when it is not such a reply."""
    chat_id = str((message.get("chat") or {}).get("id", ""))
    if not chat_id or chat_id != os.environ.get("TL_TELEGRAM_CHAT_ID", ""):
        return False
    original = message.get("reply_to_message") or {}
    route = TL_ROUTES.get(chat_id, original.get("message_id"))
    text = clean_text(str(message.get("text") or "")).strip()
    if route is None or not text:
        if original:
            await telegram_call(
                "sendMessage",
                {
                    "chat_id": chat_id,
                    "text": "Balasan ini tidak cocok dengan pertanyaan agen yang masih terbuka.",
                    "reply_to_message_id": message.get("message_id"),
                },
            )
        return True
    sender, answer_id = route
    tl_name = (message.get("from") or {}).get("first_name") or "TL"
    reply = TL_PREFIX + text

    def make(tracker: Any, events: List[Dict[str, Any]]) -> Any:
        value = {
            "kind": "tl_reply",
            "answer_id": answer_id,
            "case_id": (find_answer(events, answer_id) or {}).get("case_id"),
            "channel": "telegram_tl",
            "tl": str(tl_name)[:64],
            "text": text[: MAX_REASON_CHARS * 4],
            "at": round(time.time(), 3),
        }
        return [SlotSet(FEEDBACK_SLOT, value), BotUttered(reply, {"tl_reply": True})], value

    await _append(agent, sender, make)
    if sender.startswith("tg:"):  # tg:<chat_id>:<user_id>
        await telegram_call("sendMessage", {"chat_id": sender.split(":")[1], "text": reply})
    elif sender.startswith("wa:"):
        await whatsapp_text(sender[3:], reply)
    await telegram_call(
        "sendMessage",
        {
            "chat_id": chat_id,
            "text": "Terkirim ke agen.",
            "reply_to_message_id": message.get("message_id"),
        },
    )
    return True


def tl_replies(events: List[Dict[str, Any]], answer_id: str) -> List[Dict[str, Any]]:
    return [
        {"tl": v.get("tl"), "text": v.get("text"), "at": v.get("at")}
        for v in recorded(events, answer_id)
        if v.get("kind") == "tl_reply"
    ]


def _sop_title(case_id: str) -> Optional[str]:
    from sop_engine.loader import default_registry

    engine = default_registry().by_intent.get(case_id.split(".")[0])
    return engine.sop.title if engine is not None else None


def case_summaries(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Every SOP answer of one conversation: time, case title, masked MSISDN, the answer
    (result title and first step) and the agent's verdict, oldest first."""
    cases: List[Dict[str, Any]] = []
    msisdn: Any = None
    verdicts: Dict[str, str] = {}
    for event in events:
        kind = event.get("event")
        if kind == "slot" and event.get("name") == "msisdn":
            msisdn = event.get("value")
        elif kind == "slot" and event.get("name") == FEEDBACK_SLOT:
            value = event.get("value")
            verdict = value.get("kind") if isinstance(value, dict) else None
            if isinstance(value, dict) and verdict in ("up", "down", "wrong_case"):
                verdicts[str(value.get("answer_id"))] = str(verdict)
        custom = (event.get("data") or {}).get("custom") if kind == "bot" else None
        if not isinstance(custom, dict) or custom.get("type") != "sop_result":
            continue
        case_id = str(custom.get("case_id") or "")
        steps = custom.get("steps") or []
        answer = str(custom.get("title") or "")
        if steps:
            answer = f"{answer}: {steps[0]}" if answer else str(steps[0])
        cases.append(
            {
                "time": event.get("timestamp"),
                "answer_id": custom.get("answer_id"),
                "case_id": case_id,
                "title": _sop_title(case_id) or custom.get("title"),
                "msisdn": mask_text(str(msisdn)) if msisdn else None,
                "answer": answer,
            }
        )
    for case in cases:
        case["feedback"] = verdicts.get(str(case["answer_id"]))
    return cases


# --- HTTP ------------------------------------------------------------------------------------


def _identity(request: Request) -> agent_identity.Identity:
    identity = agent_identity.identify(request.headers)
    if identity.refused:
        raise FeedbackError(403, agent_identity.REFUSED_TEXT)
    return identity


async def _own_conversations(app: Any, agent_id: str) -> List[str]:
    """The agent's widget conversations from the stored broker events (none without them)."""
    import asyncio

    from analytics.store import broker_engine, engine_from_env, senders_of_agent

    engine = getattr(app.ctx, "history_engine", None)
    if engine is None:
        engine = engine_from_env() or broker_engine(getattr(app.ctx, "agent", None))
        if engine is None:
            return []
        app.ctx.history_engine = engine
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        None, senders_of_agent, engine, agent_id, "w-", MAX_HISTORY_SENDERS
    )


async def _check_own(agent: Any, identity: agent_identity.Identity, sender: str) -> None:
    """Behind the proxy, feedback only on a conversation no other agent wrote in."""
    if identity.agent_id is None:
        return
    tracker = await agent.tracker_store.retrieve(sender)
    if tracker is not None and not agent_identity.may_read(identity, event_dicts(tracker)):
        raise FeedbackError(403, agent_identity.OTHER_AGENT_TEXT)


def _agent(request: Request) -> Any:
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        raise FeedbackError(503, "Asisten belum siap.")
    return agent


class FeedbackConnector(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "feedback"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("feedback_webhook", __name__)

        async def guarded(handler: Any) -> HTTPResponse:
            try:
                return await handler()
            except FeedbackError as error:
                return json_error(error.status, error.message)
            except BadRequest as error:
                return json_error(400, str(error))
            except Exception:  # never a 5xx page; the store or Telegram failed
                logger.exception("feedback request failed")
                return json_error(503, "Masukan belum bisa disimpan saat ini. Coba lagi.")

        @bp.route("/", methods=["POST"])
        async def give(request: Request) -> HTTPResponse:
            async def run() -> HTTPResponse:
                body = parse_json_body(request.body or b"")
                identity = _identity(request)
                sender, answer_id, kind, reason = parse_feedback(body)
                channel = "widget" if WIDGET_SENDER_RE.match(sender) else "rest"
                agent = _agent(request)
                await _check_own(agent, identity, sender)
                if kind == "ask_tl":
                    text = await ask_tl(agent, sender, answer_id, channel)
                else:
                    await record(agent, sender, answer_id, kind, reason, channel)
                    text = THANKS[kind]
                return response.json({"ok": True, "message": text})

            return await guarded(run)

        @bp.route("/config", methods=["GET"])
        async def config(_: Request) -> HTTPResponse:
            return response.json({"ask_tl": ask_tl_enabled()})

        @bp.route("/tl-replies", methods=["GET"])
        async def replies(request: Request) -> HTTPResponse:
            async def run() -> HTTPResponse:
                sender = request.args.get("sender") or ""
                answer_id = request.args.get("answer_id") or ""
                if not WIDGET_SENDER_RE.match(sender) or not ANSWER_ID_RE.match(answer_id):
                    raise FeedbackError(400, '"sender" atau "answer_id" tidak valid.')
                identity = _identity(request)
                tracker = await _agent(request).tracker_store.retrieve(sender)
                events = event_dicts(tracker) if tracker is not None else []
                if not agent_identity.may_read(identity, events):
                    raise FeedbackError(403, agent_identity.OTHER_AGENT_TEXT)
                return response.json({"replies": tl_replies(events, answer_id)})

            return await guarded(run)

        @bp.route("/cases", methods=["GET"])
        async def cases(request: Request) -> HTTPResponse:
            async def run() -> HTTPResponse:
                identity = _identity(request)
                senders = request.args.getlist("sender") or []
                if len(senders) > MAX_HISTORY_SENDERS or not all(
                    WIDGET_SENDER_RE.match(s) for s in senders
                ):
                    raise FeedbackError(400, '"sender" tidak valid (maks. 20 percakapan widget).')
                agent = _agent(request)
                if identity.agent_id:
                    own = await _own_conversations(request.app, identity.agent_id)
                    senders = list(dict.fromkeys(own + senders))
                out = []
                for sender in senders:
                    tracker = await agent.tracker_store.retrieve_full_tracker(sender)
                    if tracker is None:
                        continue
                    events = event_dicts(tracker)
                    if not agent_identity.may_read(identity, events):
                        continue  # another agent's conversation never shows
                    summaries = case_summaries(events)
                    if summaries:
                        out.append({"sender": sender, **summaries[-1], "cases": len(summaries)})
                out.sort(key=lambda c: c.get("time") or 0, reverse=True)
                return response.json({"conversations": out})

            return await guarded(run)

        return bp
