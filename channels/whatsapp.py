"""WhatsApp Cloud API connector (Rasa OSS only ships a Twilio one).

* ``GET /webhooks/whatsapp/webhook``: Meta's verification handshake; answers
  ``hub.challenge`` when ``hub.mode=subscribe`` and ``hub.verify_token`` matches, else 403.
* ``POST /webhooks/whatsapp/webhook``: accepted only with a valid ``X-Hub-Signature-256``
  (``sha256=`` + HMAC-SHA256 of the raw body with the app secret); 403 otherwise.
  Text, interactive replies (``button_reply`` / ``list_reply``) and template quick-reply
  buttons come in; a message id seen before (Meta redelivers, on any instance) is skipped.
  Reactions, edits, revokes and system notices ("number changed"), also when delivered as
  ``unsupported``, are ignored without a reply; failed-delivery statuses and error
  notifications are logged.
* One conversation per WhatsApp user: sender ``wa:<phone>``, or ``wa:<business-scoped user
  id>`` for a user whose phone number Meta withholds (usernames: ``from`` is absent,
  ``from_user_id`` is set; answers then go to ``recipient``). Meta sends the phone only
  sometimes for such a user, so a message carrying both records the link in the channel
  state (both directions, :data:`LINK_TTL`, refreshed on use) and a later BSUID-only
  message stays in ``wa:<phone>``; the allowlist counts the linked phone. In a Cloud API
  group one conversation per (group, participant): ``wa:g:<group_id>:<participant>``; the bot
  answers in the group only when addressed (a command such as ``/tanya``, an @mention of
  its number, or a reply to one of its messages) and never with interactive buttons
  (groups take text only): options are a numbered list there.
* Out: text. Up to 3 buttons with titles of at most 20 characters (and a body of at most
  1,024 characters) become reply buttons carrying the question's token; otherwise the
  options are a numbered list in the text, numbered once (:mod:`channels.options`). Buttons
  belong to their question (:mod:`channels.questions`, state shared by every instance in
  :mod:`channels.state`): a reply to a question no longer pending is refused with
  "Tombol ini sudah tidak berlaku." and the current question is asked again.
* A send refused with a rate limit (130429 throughput, 131056 pair rate) is retried after
  ``WHATSAPP_RETRY_DELAYS`` seconds (default ``3,6``; Meta gives no delay, the pair rate
  allows about one message every 6 s); when it finally fails the agent's next message
  gets the question again.
* Only ``WHATSAPP_ALLOWED_NUMBERS`` are served (:mod:`channels.access`).
* Long answers are split at 4,096 characters without cutting the ticket
  (:mod:`channels.splitter`); every text passes the input guard (:mod:`channels.guard`).

Credentials (``credentials.channels.yml``, all from the environment)::

    channels.whatsapp.WhatsAppConnector:
      access_token: ${WHATSAPP_TOKEN}
      phone_number_id: ${WHATSAPP_PHONE_NUMBER_ID}
      app_secret: ${WHATSAPP_APP_SECRET}
      verify_token: ${WHATSAPP_VERIFY_TOKEN}
      api_base: ${WHATSAPP_API_BASE}        # empty -> https://graph.facebook.com
      api_version: ${WHATSAPP_API_VERSION}  # empty -> v21.0
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import access, feedback_whatsapp
from channels.base import OnNewMessage, busy_text, json_error
from channels.guard import BadRequest, check_text, parse_json_body
from channels.http import JsonClient
from channels.options import listing_lines, pick
from channels.output import bundle, message_text, sop_result_of
from channels.questions import STALE_REPLY, Questions, new_token
from channels.splitter import (
    BUTTON_TITLE_LIMIT,
    WHATSAPP_INTERACTIVE_BODY_LIMIT,
    WHATSAPP_TEXT_LIMIT,
    split_text,
    utf16_len,
)
from channels.state import DAY, ChannelState, StateHolder

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_REPLY_BUTTONS = 3
NON_TEXT_REPLY = "Maaf, saya hanya membaca pesan teks."
OPTIONS_HEADER = "Balas dengan angka:"
RATE_LIMIT_CODES = (130429, 131056)
# notifications that are not something an agent asked: no reply
IGNORED_TYPES = ("reaction", "system", "edit", "revoke", "request_welcome")
# the same notices when Meta delivers them as ``type: "unsupported"`` (its unsupported
# messages reference lists reaction, pin, ...; edits currently arrive this way too)
IGNORED_UNSUPPORTED = IGNORED_TYPES + ("pin", "keep_in_chat", "poll_update", "errors")
# phone <-> business-scoped id: long enough that a user seen with both keeps one
# conversation however rarely Meta includes the phone; refreshed on every message
LINK_TTL = 30 * DAY
COMMANDS = {"tanya": "", "kasus": "", "batal": "/stop", "stop": "/stop"}
HELP_COMMANDS = ("bantuan", "help", "start")

Button = Dict[str, str]
# set once a message was sent for the incoming message being handled (per request task)
_replied: ContextVar[bool] = ContextVar("whatsapp_replied", default=False)


def sender_id(wa_id: str) -> str:
    """The conversation of a WhatsApp user (phone number or business-scoped id)."""
    return f"wa:{wa_id}"


def retry_delays() -> List[float]:
    raw = os.environ.get("WHATSAPP_RETRY_DELAYS", "3,6")
    return [float(x) for x in raw.split(",") if x.strip()]


def valid_signature(app_secret: str, body: bytes, header: str) -> bool:
    if not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :].strip().lower())


def numbered_options(buttons: List[Button]) -> str:
    return "\n".join([OPTIONS_HEADER] + listing_lines([b["title"] for b in buttons]))


def reply_id(token: str, index: int) -> str:
    return f"q:{token}:{index}"


def parse_reply_id(value: str) -> Optional[Tuple[str, int]]:
    parts = value.split(":")
    if len(parts) == 3 and parts[0] == "q" and parts[2].isdigit():
        return parts[1], int(parts[2])
    return None


def can_use_reply_buttons(text: str, buttons: List[Button]) -> bool:
    return (
        0 < len(buttons) <= MAX_REPLY_BUTTONS
        and all(0 < len(b["title"]) <= BUTTON_TITLE_LIMIT for b in buttons)
        and 0 < utf16_len(text) <= WHATSAPP_INTERACTIVE_BODY_LIMIT
    )


@dataclass(frozen=True)
class Peer:
    """Who wrote and where the answer goes."""

    phone: str  # "" when Meta withholds it (usernames)
    user_id: str  # business-scoped user id, "" when absent
    group_id: str = ""
    # the phone an earlier message linked to ``user_id`` (only when ``phone`` is absent):
    # it keys the conversation and counts for the allowlist, answers still go to the BSUID
    linked_phone: str = ""

    @property
    def person(self) -> str:
        return self.phone or self.linked_phone or self.user_id

    @property
    def sender(self) -> str:
        if self.group_id:
            return f"wa:g:{self.group_id}:{self.person}"
        return sender_id(self.person)

    def target(self) -> Dict[str, str]:
        """The addressing fields of a send: a group, a phone number, or a BSUID."""
        if self.group_id:
            return {"recipient_type": "group", "to": self.group_id}
        if self.phone:
            return {"recipient_type": "individual", "to": self.phone}
        return {"recipient_type": "individual", "recipient": self.user_id}


def bsuid_key(user_id: str) -> str:
    return f"wa:bsuid:{user_id}"


def phone_key(phone: str) -> str:
    return f"wa:phone:{phone}"


def identity(message: Dict[str, Any], contacts: List[Dict[str, Any]]) -> Peer:
    """The sender as the webhook names it: ``from`` / ``contacts[].wa_id`` (the phone,
    absent for some username users), ``from_user_id`` / ``contacts[].user_id`` (the BSUID)."""
    contact = contacts[0] if len(contacts) == 1 else {}
    phone = str(message.get("from") or contact.get("wa_id") or "")
    user_id = str(message.get("from_user_id") or contact.get("user_id") or "")
    return Peer(phone, user_id, str(message.get("group_id") or ""))


async def link_identity(state: ChannelState, peer: Peer) -> Peer:
    """Records phone <-> BSUID when the message carries both; a BSUID-only message gets
    the phone linked earlier (its conversation), the BSUID key when none is known."""
    if not peer.user_id:
        return peer
    if peer.phone:
        old = await state.get(phone_key(peer.phone))
        if old and old != peer.user_id:  # a new BSUID for this phone: drop the old link
            await state.delete_if(bsuid_key(old), peer.phone)
        await state.set(bsuid_key(peer.user_id), peer.phone, LINK_TTL)
        await state.set(phone_key(peer.phone), peer.user_id, LINK_TTL)
        return peer
    linked = await state.get(bsuid_key(peer.user_id))
    if not linked:
        return peer
    await state.set(bsuid_key(peer.user_id), linked, LINK_TTL)
    await state.set(phone_key(linked), peer.user_id, LINK_TTL)
    return replace(peer, linked_phone=linked)


class WhatsAppApi:
    def __init__(self, token: str, phone_number_id: str, base: str, version: str) -> None:
        base = (base or DEFAULT_API_BASE).rstrip("/")
        self.url = f"{base}/{version or DEFAULT_API_VERSION}/{phone_number_id}/messages"
        self.client = JsonClient({"Authorization": f"Bearer {token}"})

    async def send(self, payload: Dict[str, Any]) -> Optional[Any]:
        """The Graph API answer, or None when the send failed. A rate-limit error is
        retried after each of :func:`retry_delays`."""
        body = {"messaging_product": "whatsapp", **payload}
        delays = retry_delays()
        for attempt in range(len(delays) + 1):
            status, answer = await self.client.post_status(
                self.url, body, "WhatsApp send", log_errors=False
            )
            error = (answer or {}).get("error") if isinstance(answer, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            if 0 < status < 400 and not error:
                return answer
            if code in RATE_LIMIT_CODES and attempt < len(delays):
                logger.warning(
                    "WhatsApp send: rate limit %s, retrying in %ss", code, delays[attempt]
                )
                await asyncio.sleep(delays[attempt])
                continue
            logger.error(
                "WhatsApp send failed: HTTP %s code %s %s",
                status,
                code,
                (error or {}).get("message") if isinstance(error, dict) else "",
            )
            return None
        return None


class WhatsAppOutput(OutputChannel):
    """Sends the bot messages of one turn to one WhatsApp user or group."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, api: WhatsAppApi, questions: Optional[Questions], peer: Peer) -> None:
        self.api = api
        self.questions = questions
        self.peer = peer
        self.sent: List[Dict[str, Any]] = []
        self.failed = False
        self.last_message: Optional[Dict[str, Any]] = None

    async def _post(self, payload: Dict[str, Any]) -> Optional[str]:
        payload = {**self.peer.target(), **payload}
        self.sent.append(payload)
        _replied.set(True)
        answer = await self.api.send(payload)
        if answer is None:
            self.failed = True
            return None
        messages = answer.get("messages") if isinstance(answer, dict) else None
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return str(messages[0].get("id") or "") or None
        return None

    async def send_text(
        self,
        text: str,
        buttons: Optional[List[Button]] = None,
        keep_whole: Optional[List[str]] = None,
    ) -> None:
        keep = list(keep_whole or [])
        token: Optional[str] = None
        if buttons:
            token = new_token()
            if self.questions is not None:
                await self.questions.asked(self.peer.sender, {"buttons": buttons}, token)
            if not self.peer.group_id and can_use_reply_buttons(text, buttons):
                wamid = await self._post(
                    {
                        "type": "interactive",
                        "interactive": {
                            "type": "button",
                            "body": {"text": text},
                            "action": {
                                "buttons": [
                                    {
                                        "type": "reply",
                                        "reply": {"id": reply_id(token, n), "title": b["title"]},
                                    }
                                    for n, b in enumerate(buttons)
                                ]
                            },
                        },
                    }
                )
                await self._remember(wamid, token)
                return
            listing = numbered_options(buttons)
            text = f"{text}\n\n{listing}".strip()
            keep.append(listing)
        wamid = None
        for chunk in split_text(text, WHATSAPP_TEXT_LIMIT, keep, measure=utf16_len):
            wamid = await self._post(
                {"type": "text", "text": {"body": chunk, "preview_url": False}}
            )
        if token:
            await self._remember(wamid, token)

    async def _remember(self, wamid: Optional[str], token: str) -> None:
        """A reply (``context.id``) to this message answers the question ``token``."""
        if wamid and self.questions is not None:
            await self.questions.state.set(f"wa:sent:{wamid}", token, DAY)

    async def send_bundled(self, bundled: Dict[str, Any]) -> None:
        result = sop_result_of(bundled)
        keep = [result["ticket_text"]] if result and result.get("ticket_text") else []
        self.last_message = bundled
        await self.send_text(message_text(bundled), bundled.get("buttons"), keep)
        if result is not None:
            await feedback_whatsapp.send_feedback_row(self, result)

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        await self.send_bundled(bundle(recipient_id, message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_bundled({"text": text})


def command_text(text: str) -> Tuple[str, bool]:
    """(text for Rasa, is a command): ``/tanya x`` -> ``x``, ``/batal`` -> ``/stop``,
    ``/bantuan`` -> ``/help``; any other text unchanged."""
    match = re.match(r"^/([A-Za-z]+)\b\s*(.*)$", text.strip(), re.S)
    if not match:
        return text, False
    name, rest = match.group(1).lower(), match.group(2).strip()
    if name in HELP_COMMANDS:
        return "/help", True
    if name in COMMANDS:
        return COMMANDS[name] or rest or "/help", True
    return text, False


class WhatsAppConnector(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            access_token=str(credentials.get("access_token") or ""),
            phone_number_id=str(credentials.get("phone_number_id") or ""),
            app_secret=str(credentials.get("app_secret") or ""),
            verify_token=str(credentials.get("verify_token") or ""),
            api_base=str(
                credentials.get("api_base")
                or os.environ.get("WHATSAPP_API_BASE")
                or DEFAULT_API_BASE
            ),
            api_version=str(credentials.get("api_version") or DEFAULT_API_VERSION),
        )

    def __init__(
        self,
        access_token: str,
        phone_number_id: str,
        app_secret: str,
        verify_token: str,
        api_base: str = DEFAULT_API_BASE,
        api_version: str = DEFAULT_API_VERSION,
    ) -> None:
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.configured = bool(access_token and phone_number_id and app_secret)
        self.api = WhatsAppApi(access_token, phone_number_id, api_base, api_version)
        self.state = StateHolder()
        self.allowed_ids = access.id_set("WHATSAPP_ALLOWED_NUMBERS")
        self.allow_any = access.allow_any() and not self.allowed_ids
        if not self.configured:
            logger.warning(
                "WhatsApp channel not configured (WHATSAPP_TOKEN / WHATSAPP_PHONE_NUMBER_ID / "
                "WHATSAPP_APP_SECRET empty): its webhook refuses every POST with 403"
            )
        else:
            access.require_allowlist("WhatsApp", ["WHATSAPP_ALLOWED_NUMBERS"])

    def allowed(self, peer: Peer) -> bool:
        if self.allow_any:
            return True
        ids = {
            access.normalise(x)
            for x in (peer.phone, peer.linked_phone, peer.user_id, peer.group_id)
            if x
        }
        return bool(ids & self.allowed_ids)

    async def questions(self) -> Questions:
        return Questions(await self.state.get())

    async def _first_time(self, message_id: str) -> bool:
        if not message_id:
            return True
        state = await self.state.get()
        return await state.add(f"wa:in:{message_id}", ttl=DAY)

    @staticmethod
    def addressed(message: Dict[str, Any], text: str, business: Dict[str, Any]) -> bool:
        """A group message is for the bot when it is a command, mentions the business
        number, or replies to one of the bot's messages."""
        if command_text(text)[1]:
            return True
        number = str(business.get("display_phone_number") or "")
        if number and f"@{number}" in text.replace("+", ""):
            return True
        context = message.get("context") or {}
        return bool(number) and str(context.get("from") or "").lstrip("+") == number

    async def resolve(
        self, questions: Questions, peer: Peer, message: Dict[str, Any], text: str
    ) -> Tuple[str, Optional[str], Optional[str]]:
        """(text for Rasa, display title, stale?) of a typed text: a number or a title of
        the options of the question it answers is that option's payload; when that question
        is no longer pending it is stale (third item = the token)."""
        state = questions.state
        context_id = str((message.get("context") or {}).get("id") or "")
        token = await state.get(f"wa:sent:{context_id}") if context_id else None
        if token is None:
            token = await state.get(f"pend:{peer.sender}")
        info = await questions.info(token) if token else None
        buttons = (info or {}).get("buttons") or []
        index = pick([b["title"] for b in buttons], text) if buttons else None
        if index is None or token is None:
            return text, None, None
        if not await questions.claim(peer.sender, token):
            return text, None, token
        return str(buttons[index]["payload"]), str(buttons[index]["title"]), None

    async def handle_message(
        self,
        message: Dict[str, Any],
        contacts: List[Dict[str, Any]],
        business: Dict[str, Any],
        on_new_message: OnNewMessage,
    ) -> None:
        kind = str(message.get("type") or "")
        if kind in IGNORED_TYPES or _unsupported_notice(message):
            return
        if not await self._first_time(str(message.get("id") or "")):
            return
        peer = identity(message, contacts)
        if not peer.person:
            logger.warning("WhatsApp message %s without sender: ignored", message.get("id"))
            return
        peer = await link_identity(await self.state.get(), peer)
        questions = await self.questions()
        out = WhatsAppOutput(self.api, questions, peer)
        for error in _dicts(message.get("errors")):
            logger.warning("WhatsApp message error %s: %s", error.get("code"), error.get("title"))
        text: Optional[str] = None
        display: Optional[str] = None
        stale_token: Optional[str] = None
        press: Optional[Tuple[str, int]] = None
        if kind == "text":
            text = str((message.get("text") or {}).get("body") or "")
        elif kind == "interactive":
            interactive = message.get("interactive") or {}
            reply = interactive.get(str(interactive.get("type") or "")) or {}
            if isinstance(reply, dict):
                press = parse_reply_id(str(reply.get("id") or ""))
                if press is None:  # an older button without a question token
                    stale_token = "-"
        elif kind == "button":  # quick reply of a template message
            button_data = message.get("button") or {}
            text = str(button_data.get("payload") or button_data.get("text") or "") or None
        if peer.group_id and (text is None or not self.addressed(message, text, business)):
            return
        if not self.allowed(peer):
            logger.warning(
                "WhatsApp: refused %s (not in WHATSAPP_ALLOWED_NUMBERS)",
                access.mask_id(peer.person),
            )
            if await (await self.state.get()).add(f"wa:refused:{peer.sender}", ttl=DAY):
                await out.send_text(access.REFUSAL)
            return
        if text is None and press is None and stale_token is None:
            await out.send_text(NON_TEXT_REPLY)
            return
        if press is not None:
            info = await questions.info(press[0])
            buttons = (info or {}).get("buttons") or []
            if 0 <= press[1] < len(buttons) and await questions.claim(peer.sender, press[0]):
                text, display = str(buttons[press[1]]["payload"]), str(buttons[press[1]]["title"])
            else:
                stale_token = press[0]
        elif text is not None:
            undelivered = await questions.take_undelivered(peer.sender)
            if undelivered is not None:  # the agent never saw the question: ask it again
                await out.send_bundled(dict(undelivered))
                await questions.end_turn(peer.sender, out.last_message, out.failed)
                return
            text, was_command = command_text(text)
            if not was_command:
                text, display, stale_token = await self.resolve(questions, peer, message, text)
        if stale_token is not None:
            logger.info("WhatsApp: stale reply of %s refused", access.mask_id(peer.person))
            again = await questions.to_ask_again(peer.sender)
            if again is None:
                await out.send_text(STALE_REPLY)
            else:
                await out.send_text(f"{STALE_REPLY} Pertanyaan saat ini:")
                await out.send_bundled(dict(again))
            return
        guarded = check_text(text)
        if not guarded.ok:
            await out.send_text(guarded.reply or "")
            return
        if display is None:
            await questions.drop_pending(peer.sender)
        metadata: Dict[str, Any] = {
            "whatsapp": {"wa_id": peer.phone, "user_id": peer.user_id, "group_id": peer.group_id}
        }
        if display and display != guarded.text:
            metadata["display"] = display
        await questions.begin_turn(peer.sender)
        try:
            await on_new_message(
                UserMessage(
                    guarded.text, out, peer.sender, input_channel=self.name(), metadata=metadata
                )
            )
        except Exception:  # the user gets the busy answer rather than silence
            logger.exception(
                "WhatsApp: handling a message of %s failed", access.mask_id(peer.person)
            )
            if not out.sent:
                await out.send_text(busy_text())
        finally:
            await questions.end_turn(peer.sender, out.last_message, out.failed)

    async def answer_busy(
        self, message: Dict[str, Any], contacts: List[Dict[str, Any]], business: Dict[str, Any]
    ) -> None:
        """A message that failed before any answer (the channel state unreachable): the
        agent gets the busy answer instead of silence (in a group only when addressed)."""
        try:
            kind = str(message.get("type") or "")
            if kind in IGNORED_TYPES or _unsupported_notice(message):
                return
            peer = identity(message, contacts)
            if peer.user_id and not peer.phone and not self.allowed(peer):
                try:  # allowed through its linked phone? (the state may be what failed)
                    peer = await link_identity(await self.state.get(), peer)
                except Exception:
                    logger.warning("WhatsApp: busy answer without the linked phone")
            if not peer.person or not self.allowed(peer):
                return
            text = str((message.get("text") or {}).get("body") or "") if kind == "text" else ""
            if peer.group_id and not (text and self.addressed(message, text, business)):
                return
            await WhatsAppOutput(self.api, None, peer).send_text(busy_text())
        except Exception:
            logger.exception("WhatsApp: the busy answer failed too")

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("whatsapp_cloud_webhook", __name__)

        @bp.listener("after_server_start")
        async def start(app: Any, *_: Any) -> None:
            await self.state.get(app)

        @bp.listener("before_server_stop")
        async def close(*_: Any) -> None:
            await self.api.client.close()
            await self.state.close()

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": self.configured})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            mode = request.args.get("hub.mode", "")
            token = request.args.get("hub.verify_token", "")
            challenge = request.args.get("hub.challenge", "")
            if (
                mode == "subscribe"
                and self.verify_token
                and hmac.compare_digest(token.encode(), self.verify_token.encode())
            ):
                return response.text(challenge)
            return json_error(403, "forbidden")

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            body = request.body or b""
            if not self.configured or not valid_signature(
                self.app_secret, body, request.headers.get(SIGNATURE_HEADER, "")
            ):
                return json_error(403, "forbidden")
            try:
                data = parse_json_body(body)
            except BadRequest as error:
                return json_error(400, str(error))
            await self.state.get(request.app)
            agent = getattr(request.app.ctx, "agent", None)
            for value in _values_of(data):
                log_statuses(value)
                contacts = _dicts(value.get("contacts"))
                metadata = value.get("metadata")
                business: Dict[str, Any] = metadata if isinstance(metadata, dict) else {}
                for message in _dicts(value.get("messages")):
                    _replied.set(False)
                    try:
                        # feedback or a reason (channels/feedback_whatsapp.py): no dialogue turn
                        if await feedback_whatsapp.handle_message(self, agent, message):
                            continue
                        await self.handle_message(message, contacts, business, on_new_message)
                    except Exception:  # Meta redelivers on errors: log, answer 200
                        logger.exception("WhatsApp message %s failed", message.get("id"))
                        if not _replied.get():
                            await self.answer_busy(message, contacts, business)
            return response.json({"ok": True})

        return bp


def log_statuses(value: Dict[str, Any]) -> None:
    """Failed deliveries and error notifications: logged (recipient masked), no reply."""
    for status in _dicts(value.get("statuses")):
        if status.get("status") == "failed" or status.get("errors"):
            for error in _dicts(status.get("errors")) or [{}]:
                logger.error(
                    "WhatsApp delivery to %s failed: code %s %s",
                    access.mask_id(status.get("recipient_id") or status.get("recipient_user_id")),
                    error.get("code"),
                    error.get("title") or error.get("message") or "",
                )
    for error in _dicts(value.get("errors")):
        logger.error(
            "WhatsApp error notification: code %s %s",
            error.get("code"),
            error.get("title") or error.get("message") or "",
        )


def _unsupported_notice(message: Dict[str, Any]) -> bool:
    unsupported = message.get("unsupported")
    return (
        message.get("type") == "unsupported"
        and isinstance(unsupported, dict)
        and unsupported.get("type") in IGNORED_UNSUPPORTED
    )


def _dicts(value: Any) -> List[Dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _values_of(data: Any) -> List[Dict[str, Any]]:
    """The ``value`` objects of a Cloud API notification; any other shape is ignored."""
    if not isinstance(data, dict):
        return []
    found: List[Dict[str, Any]] = []
    for entry in _dicts(data.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if isinstance(value, dict):
                found.append(value)
    return found
