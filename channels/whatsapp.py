"""WhatsApp Cloud API connector (Rasa OSS only ships a Twilio one).

* ``GET /webhooks/whatsapp/webhook``: Meta's verification handshake; answers
  ``hub.challenge`` when ``hub.mode=subscribe`` and ``hub.verify_token`` matches, else 403.
* ``POST /webhooks/whatsapp/webhook``: accepted only with a valid ``X-Hub-Signature-256``
  (``sha256=`` + HMAC-SHA256 of the raw body with the app secret); 403 otherwise.
  Text, interactive replies (``button_reply`` / ``list_reply``) and template quick-reply
  buttons come in; a message id seen before (Meta redelivers) is skipped.
* One conversation per WhatsApp user: sender ``wa:<wa_id>``.
* Out: text. Up to 3 buttons with titles of at most 20 characters (and a body of at most
  1,024 characters) become reply buttons; otherwise the options are a numbered list in the
  text. The last options shown to a sender are remembered, so "1", "2" (or the exact title)
  map back to the button payloads.
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

import hashlib
import hmac
import logging
import os
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import feedback_whatsapp
from channels.base import OnNewMessage, busy_text, json_error
from channels.guard import BadRequest, check_text, parse_json_body
from channels.http import JsonClient
from channels.output import bundle, message_text, sop_result_of
from channels.splitter import (
    BUTTON_TITLE_LIMIT,
    WHATSAPP_INTERACTIVE_BODY_LIMIT,
    WHATSAPP_TEXT_LIMIT,
    split_text,
    utf16_len,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_REPLY_BUTTONS = 3
REPLY_ID_LIMIT = 256
NON_TEXT_REPLY = "Maaf, saya hanya membaca pesan teks."
OPTIONS_HEADER = "Balas dengan angka:"

Button = Dict[str, str]


def sender_id(wa_id: str) -> str:
    return f"wa:{wa_id}"


def valid_signature(app_secret: str, body: bytes, header: str) -> bool:
    if not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :].strip().lower())


def numbered_options(buttons: List[Button]) -> str:
    lines = [OPTIONS_HEADER]
    lines += [f"{n}. {' '.join(b['title'].split())}" for n, b in enumerate(buttons, start=1)]
    return "\n".join(lines)


def reply_id(button: Button, index: int) -> str:
    payload = button["payload"]
    return payload if len(payload) <= REPLY_ID_LIMIT else f"opt:{index}"


def can_use_reply_buttons(text: str, buttons: List[Button]) -> bool:
    return (
        0 < len(buttons) <= MAX_REPLY_BUTTONS
        and all(0 < len(b["title"]) <= BUTTON_TITLE_LIMIT for b in buttons)
        and 0 < utf16_len(text) <= WHATSAPP_INTERACTIVE_BODY_LIMIT
    )


class OptionMemory:
    """The options last shown to each sender (newest ``capacity`` senders)."""

    def __init__(self, capacity: int = 50000) -> None:
        self.capacity = capacity
        self._options: OrderedDict[str, List[Button]] = OrderedDict()

    def remember(self, sender: str, buttons: List[Button]) -> None:
        self._options[sender] = list(buttons)
        self._options.move_to_end(sender)
        while len(self._options) > self.capacity:
            self._options.popitem(last=False)

    def forget(self, sender: str) -> None:
        self._options.pop(sender, None)

    def get(self, sender: str) -> List[Button]:
        return self._options.get(sender, [])

    def resolve_text(self, sender: str, text: str) -> Optional[Button]:
        """ "2" or the exact title of an option shown last -> that button."""
        options = self.get(sender)
        answer = text.strip().rstrip(".").strip()
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return options[int(answer) - 1]
        folded = " ".join(answer.split()).casefold()
        for button in options:
            if " ".join(button["title"].split()).casefold() == folded:
                return button
        return None

    def resolve_reply_id(self, sender: str, reply: str) -> Optional[Button]:
        options = self.get(sender)
        for index, button in enumerate(options, start=1):
            if reply_id(button, index) == reply:
                return button
        return None


class WhatsAppApi:
    def __init__(self, token: str, phone_number_id: str, base: str, version: str) -> None:
        base = (base or DEFAULT_API_BASE).rstrip("/")
        self.url = f"{base}/{version or DEFAULT_API_VERSION}/{phone_number_id}/messages"
        self.client = JsonClient({"Authorization": f"Bearer {token}"})

    async def send(self, payload: Dict[str, Any]) -> Optional[Any]:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **payload}
        return await self.client.post(self.url, body, "WhatsApp send")


class WhatsAppOutput(OutputChannel):
    """Sends the bot messages of one turn to one WhatsApp user."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, api: WhatsAppApi, memory: OptionMemory, wa_id: str) -> None:
        self.api = api
        self.memory = memory
        self.wa_id = wa_id
        self.sent: List[Dict[str, Any]] = []

    async def _post(self, payload: Dict[str, Any]) -> None:
        self.sent.append(payload)
        await self.api.send(payload)

    async def send_text(
        self,
        text: str,
        buttons: Optional[List[Button]] = None,
        keep_whole: Optional[List[str]] = None,
    ) -> None:
        keep = list(keep_whole or [])
        if buttons:
            self.memory.remember(sender_id(self.wa_id), buttons)
            if can_use_reply_buttons(text, buttons):
                await self._post(
                    {
                        "to": self.wa_id,
                        "type": "interactive",
                        "interactive": {
                            "type": "button",
                            "body": {"text": text},
                            "action": {
                                "buttons": [
                                    {
                                        "type": "reply",
                                        "reply": {"id": reply_id(b, n), "title": b["title"]},
                                    }
                                    for n, b in enumerate(buttons, start=1)
                                ]
                            },
                        },
                    }
                )
                return
            listing = numbered_options(buttons)
            text = f"{text}\n\n{listing}".strip()
            keep.append(listing)
        for chunk in split_text(text, WHATSAPP_TEXT_LIMIT, keep, measure=utf16_len):
            await self._post(
                {"to": self.wa_id, "type": "text", "text": {"body": chunk, "preview_url": False}}
            )

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        bundled = bundle(recipient_id, message)
        result = sop_result_of(bundled)
        keep = [result["ticket_text"]] if result and result.get("ticket_text") else []
        await self.send_text(message_text(bundled), bundled.get("buttons"), keep)
        if result is not None:
            await feedback_whatsapp.send_feedback_row(self, result)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_text(text)


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
        self.memory = OptionMemory()
        self._seen: OrderedDict[str, None] = OrderedDict()
        if not self.configured:
            logger.warning(
                "WhatsApp channel not configured (WHATSAPP_TOKEN / WHATSAPP_PHONE_NUMBER_ID / "
                "WHATSAPP_APP_SECRET empty): its webhook refuses every POST with 403"
            )

    def _first_time(self, message_id: str) -> bool:
        if not message_id:
            return True
        if message_id in self._seen:
            return False
        self._seen[message_id] = None
        while len(self._seen) > 10000:
            self._seen.popitem(last=False)
        return True

    def incoming(self, sender: str, message: Dict[str, Any]) -> Tuple[Optional[str], str]:
        """A Cloud API message -> (text for Rasa or None for non-text, display text)."""
        kind = message.get("type")
        if kind == "text":
            text = str((message.get("text") or {}).get("body") or "")
            button = self.memory.resolve_text(sender, text)
            if button is not None:
                return button["payload"], button["title"]
            return text, text
        if kind == "interactive":
            interactive = message.get("interactive") or {}
            reply = interactive.get(interactive.get("type") or "") or {}
            if not isinstance(reply, dict):
                return None, ""
            reply_key, title = str(reply.get("id") or ""), str(reply.get("title") or "")
            button = self.memory.resolve_reply_id(sender, reply_key)
            if button is not None:
                return button["payload"], button["title"]
            if reply_key.startswith("/"):  # our payload ids survive a restart
                return reply_key, title or reply_key
            return title or None, title
        if kind == "button":  # quick reply of a template message
            button_data = message.get("button") or {}
            payload = str(button_data.get("payload") or button_data.get("text") or "")
            return payload or None, str(button_data.get("text") or payload)
        return None, ""

    async def handle_message(self, message: Dict[str, Any], on_new_message: OnNewMessage) -> None:
        wa_id = str(message.get("from") or "")
        if not wa_id or not self._first_time(str(message.get("id") or "")):
            return
        sender = sender_id(wa_id)
        out = WhatsAppOutput(self.api, self.memory, wa_id)
        text, display = self.incoming(sender, message)
        if text is None:
            await out.send_text(NON_TEXT_REPLY)
            return
        guarded = check_text(text)
        if not guarded.ok:
            await out.send_text(guarded.reply or "")
            return
        self.memory.forget(sender)  # numbers refer to the options of the next answer only
        metadata: Dict[str, Any] = {"whatsapp": {"wa_id": wa_id}}
        if display and display != guarded.text:
            metadata["display"] = display
        try:
            await on_new_message(
                UserMessage(guarded.text, out, sender, input_channel=self.name(), metadata=metadata)
            )
        except Exception:  # the user gets the busy answer rather than silence
            logger.exception("WhatsApp: handling a message of %s failed", sender)
            if not out.sent:
                await out.send_text(busy_text())

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("whatsapp_cloud_webhook", __name__)

        @bp.listener("before_server_stop")
        async def close(*_: Any) -> None:
            await self.api.client.close()

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
            agent = getattr(request.app.ctx, "agent", None)
            for message in _messages_of(data):
                try:
                    # feedback or a reason (channels/feedback_whatsapp.py): not a dialogue turn
                    if await feedback_whatsapp.handle_message(self, agent, message):
                        continue
                    await self.handle_message(message, on_new_message)
                except Exception:  # Meta redelivers on errors: log, answer 200
                    logger.exception("WhatsApp message %s failed", message.get("id"))
            return response.json({"ok": True})

        return bp


def _dicts(value: Any) -> List[Dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _messages_of(data: Any) -> List[Dict[str, Any]]:
    """The messages of a Cloud API notification; any other shape is ignored (never a 5xx)."""
    if not isinstance(data, dict):
        return []
    found: List[Dict[str, Any]] = []
    for entry in _dicts(data.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if isinstance(value, dict):
                found.extend(_dicts(value.get("messages")))
    return found
