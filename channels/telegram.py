"""Telegram connector for CHO groups: one conversation per agent, even in a group.

Rasa's built-in connector uses the chat id as the sender, so every agent of a group shares
one conversation and their forms collide. This one (plain aiohttp, no aiogram):

* keys a conversation by chat AND user: sender ``tg:<chat_id>:<user_id>``;
* in groups answers only when addressed: a command (``/tanya ...``, ``/batal``, ``/bantuan``),
  an ``@bot_name`` mention, or a reply to one of the bot's messages. Questions are sent with
  a *selective* ``force_reply`` to the agent who asked, so answering is a plain reply;
* renders buttons as an inline keyboard; a ``callback_query`` maps back to the button's
  payload in the conversation of the agent who pressed it (another agent's press is refused
  with a short note);
* verifies ``X-Telegram-Bot-Api-Secret-Token`` (403 when wrong or missing, and when no
  secret is configured);
* splits long answers at 4,096 characters without cutting the ticket
  (:mod:`channels.splitter`); button titles are kept to 20 characters;
* runs every text through the input guard (:mod:`channels.guard`) before NLU.

Credentials (``credentials.channels.yml``, all from the environment)::

    channels.telegram.TelegramConnector:
      access_token: ${TELEGRAM_TOKEN}
      verify: ${TELEGRAM_BOT_NAME}       # the bot's username, without @
      webhook_url: ${TELEGRAM_WEBHOOK_URL}
      secret_token: ${TELEGRAM_SECRET}
      api_base: ${TELEGRAM_API_BASE}     # empty -> https://api.telegram.org

Endpoints (prefix ``/webhooks/telegram``): ``GET /`` health, ``POST /webhook`` updates.
When ``webhook_url`` is set the webhook is registered (``setWebhook`` with the secret) at
server start.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import feedback_telegram
from channels.base import OnNewMessage, busy_text, json_error
from channels.guard import BadRequest, check_text, parse_json_body
from channels.http import JsonClient
from channels.output import bundle, message_text, sop_result_of
from channels.splitter import (
    BUTTON_TITLE_LIMIT,
    TELEGRAM_TEXT_LIMIT,
    split_text,
    trim_title,
    utf16_len,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CALLBACK_DATA_LIMIT = 64  # bytes, Bot API limit of callback_data
GROUP_TYPES = ("group", "supergroup")
# commands -> text handed to Rasa ("" = the command's argument text)
COMMANDS = {
    "start": "/help",
    "help": "/help",
    "bantuan": "/help",
    "batal": "/stop",
    "stop": "/stop",
    "tanya": "",
    "kasus": "",
}
NON_TEXT_REPLY = "Maaf, saya hanya membaca pesan teks."
EXPIRED_BUTTON = "Tombol ini sudah kedaluwarsa; ketik jawabannya."
FOREIGN_BUTTON = "Tombol ini untuk agen lain. Tanyakan kasus Anda sendiri ke bot."


def sender_id(chat_id: Any, user_id: Any) -> str:
    return f"tg:{chat_id}:{user_id}"


@dataclass(frozen=True)
class ButtonRef:
    owner: int  # Telegram user id of the agent whose conversation the button belongs to
    payload: str
    title: str


class ButtonStore:
    """callback_data <-> (owner, payload, title).

    Short payloads travel inside callback_data (``p:<owner>:<payload>``, so they survive a
    restart); longer ones get a random token kept in memory (``t:<token>``, the newest
    ``capacity`` buttons)."""

    def __init__(self, capacity: int = 20000) -> None:
        self.capacity = capacity
        self._tokens: OrderedDict[str, ButtonRef] = OrderedDict()

    def encode(self, owner: int, payload: str, title: str) -> str:
        inline = f"p:{owner}:{payload}"
        if len(inline.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
            return inline
        token = "t:" + secrets.token_urlsafe(12)
        self._tokens[token] = ButtonRef(owner, payload, title)
        while len(self._tokens) > self.capacity:
            self._tokens.popitem(last=False)
        return token

    def decode(self, data: str) -> Optional[ButtonRef]:
        if data.startswith("t:"):
            return self._tokens.get(data)
        if data.startswith("p:"):
            owner, sep, payload = data[2:].partition(":")
            if sep and owner.lstrip("-").isdigit() and payload:
                return ButtonRef(int(owner), payload, payload)
        return None


class TelegramApi:
    def __init__(self, token: str, base: str) -> None:
        self.base = (base or DEFAULT_API_BASE).rstrip("/")
        self.token = token
        self.client = JsonClient()

    async def call(self, method: str, payload: Dict[str, Any]) -> Optional[Any]:
        answer = await self.client.post(
            f"{self.base}/bot{self.token}/{method}", payload, f"Telegram {method}"
        )
        if isinstance(answer, dict):
            if not answer.get("ok", True):
                logger.error("Telegram %s refused: %s", method, answer.get("description"))
            return answer.get("result")
        return answer


def keyboard_rows(labels: List[Tuple[str, str]]) -> List[List[Dict[str, str]]]:
    """[(label, callback_data)] -> inline keyboard rows: short labels 3 a row, others 1."""
    if all(len(label) <= 10 for label, _ in labels):
        width = 3
    elif all(len(label) <= 16 for label, _ in labels):
        width = 2
    else:
        width = 1
    rows = []
    for start in range(0, len(labels), width):
        rows.append(
            [
                {"text": label, "callback_data": data}
                for label, data in labels[start : start + width]
            ]
        )
    return rows


def button_labels(buttons: List[Dict[str, str]]) -> Tuple[List[str], Optional[str]]:
    """Button labels within 20 characters. When a title had to be shortened the labels are
    numbered and the full titles are returned as a numbered list for the message text."""
    titles = [" ".join(b["title"].split()) for b in buttons]
    if all(len(t) <= BUTTON_TITLE_LIMIT for t in titles):
        return titles, None
    labels = [trim_title(f"{n}. {t}") for n, t in enumerate(titles, start=1)]
    listing = "\n".join(f"{n}. {t}" for n, t in enumerate(titles, start=1))
    return labels, listing


class TelegramOutput(OutputChannel):
    """Sends the bot messages of one user turn to one chat (on behalf of one agent)."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(
        self,
        api: TelegramApi,
        store: ButtonStore,
        chat_id: int,
        owner: int,
        reply_to: Optional[int] = None,
        group: bool = False,
    ) -> None:
        self.api = api
        self.store = store
        self.chat_id = chat_id
        self.owner = owner
        self.reply_to = reply_to
        self.group = group
        self.sent: List[Dict[str, Any]] = []

    async def send_text(
        self,
        text: str,
        buttons: Optional[List[Dict[str, str]]] = None,
        keep_whole: Optional[List[str]] = None,
        ask: bool = False,
    ) -> None:
        markup: Optional[Dict[str, Any]] = None
        if buttons:
            labels, listing = button_labels(buttons)
            if listing:
                text = f"{text}\n{listing}".strip()
            pairs = [
                (label, self.store.encode(self.owner, b["payload"], b["title"]))
                for label, b in zip(labels, buttons, strict=True)
            ]
            markup = {"inline_keyboard": keyboard_rows(pairs)}
        elif ask and self.group:
            # the agent's client opens a reply to this message: answering needs no mention
            markup = {"force_reply": True, "selective": True}
        chunks = split_text(text, TELEGRAM_TEXT_LIMIT, keep_whole or [], measure=utf16_len)
        if not chunks and markup:
            chunks = ["Pilih salah satu:"]
        for index, chunk in enumerate(chunks):
            payload: Dict[str, Any] = {
                "chat_id": self.chat_id,
                "text": chunk,
                "disable_web_page_preview": True,
            }
            if self.reply_to is not None and index == 0:
                payload["reply_to_message_id"] = self.reply_to
                payload["allow_sending_without_reply"] = True
            if markup is not None and index == len(chunks) - 1:
                payload["reply_markup"] = markup
            self.sent.append(payload)
            await self.api.call("sendMessage", payload)

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        bundled = bundle(recipient_id, message)
        result = sop_result_of(bundled)
        keep = [result["ticket_text"]] if result and result.get("ticket_text") else []
        await self.send_text(
            message_text(bundled),
            bundled.get("buttons"),
            keep_whole=keep,
            ask=result is None,
        )
        if result is not None:
            await feedback_telegram.send_feedback_row(self, result)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_text(text)


def _entity_text(text: str, entity: Dict[str, Any]) -> str:
    """Entity offsets are UTF-16 code units."""
    raw = text.encode("utf-16-le")
    start, length = int(entity.get("offset", 0)), int(entity.get("length", 0))
    return raw[start * 2 : (start + length) * 2].decode("utf-16-le", errors="ignore")


def _remove_entity(text: str, entity: Dict[str, Any]) -> str:
    raw = text.encode("utf-16-le")
    start, length = int(entity.get("offset", 0)), int(entity.get("length", 0))
    return (raw[: start * 2] + b" \x00" + raw[(start + length) * 2 :]).decode(
        "utf-16-le", errors="ignore"
    )


class TelegramConnector(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            access_token=str(credentials.get("access_token") or ""),
            bot_name=str(credentials.get("verify") or credentials.get("bot_name") or ""),
            webhook_url=str(credentials.get("webhook_url") or ""),
            secret_token=str(credentials.get("secret_token") or ""),
            api_base=str(
                credentials.get("api_base")
                or os.environ.get("TELEGRAM_API_BASE")
                or DEFAULT_API_BASE
            ),
        )

    def __init__(
        self,
        access_token: str,
        bot_name: str,
        webhook_url: str = "",
        secret_token: str = "",
        api_base: str = DEFAULT_API_BASE,
    ) -> None:
        self.access_token = access_token
        self.bot_name = bot_name.lstrip("@")
        self.webhook_url = webhook_url
        self.secret_token = secret_token
        self.api = TelegramApi(access_token, api_base)
        self.buttons = ButtonStore()
        if not access_token or not secret_token:
            logger.warning(
                "Telegram channel not configured (TELEGRAM_TOKEN / TELEGRAM_SECRET empty): "
                "its webhook refuses every update with 403"
            )

    # -- addressing -------------------------------------------------------------------
    def _is_me(self, user: Optional[Dict[str, Any]]) -> bool:
        return bool(
            user
            and user.get("is_bot")
            and self.bot_name
            and str(user.get("username", "")).lower() == self.bot_name.lower()
        )

    def addressed_text(self, message: Dict[str, Any], group: bool) -> Optional[str]:
        """The text meant for the bot, or None when a group message is not addressed to it.

        Commands are mapped (``/batal`` -> ``/stop``, ``/tanya <teks>`` -> ``<teks>``), the
        bot's @mention is removed."""
        text = str(message.get("text") or "")
        entities = [e for e in message.get("entities") or [] if isinstance(e, dict)]
        addressed = not group or self._is_me((message.get("reply_to_message") or {}).get("from"))
        me = f"@{self.bot_name}".lower()
        for entity in entities:
            if entity.get("type") == "mention" and _entity_text(text, entity).lower() == me:
                addressed = True
        for entity in sorted(entities, key=lambda e: -int(e.get("offset", 0))):
            if entity.get("type") == "mention" and _entity_text(text, entity).lower() == me:
                text = _remove_entity(text, entity)
        command = next(
            (
                e
                for e in entities
                if e.get("type") == "bot_command" and int(e.get("offset", -1)) == 0
            ),
            None,
        )
        if command is not None:
            word = _entity_text(text, command)
            name, _, target = word[1:].partition("@")
            if target and target.lower() != self.bot_name.lower():
                return None  # a command for another bot
            rest = text[len(word) :].strip()
            mapped = COMMANDS.get(name.lower())
            if mapped is None:
                mapped = ""  # unknown command: its argument text, or help
            text = mapped or rest or "/help"
            addressed = True
        if not addressed:
            return None
        return text.strip()

    # -- webhook ----------------------------------------------------------------------
    def authorised(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return bool(
            self.secret_token
            and self.access_token
            and hmac.compare_digest(given.encode(), self.secret_token.encode())
        )

    async def handle_message(self, message: Dict[str, Any], on_new_message: OnNewMessage) -> None:
        chat = message.get("chat") or {}
        user = message.get("from") or {}
        if not chat.get("id") or not user.get("id") or user.get("is_bot"):
            return
        group = chat.get("type") in GROUP_TYPES
        out = TelegramOutput(
            self.api,
            self.buttons,
            chat_id=chat["id"],
            owner=user["id"],
            reply_to=message.get("message_id") if group else None,
            group=group,
        )
        if message.get("text") is None:
            if not group:
                await out.send_text(NON_TEXT_REPLY)
            return
        text = self.addressed_text(message, group)
        if text is None:
            return
        await self.run(on_new_message, out, chat["id"], user["id"], text, None, group)

    async def handle_callback(self, query: Dict[str, Any], on_new_message: OnNewMessage) -> None:
        user = query.get("from") or {}
        message = query.get("message") or {}
        chat = message.get("chat") or {}
        ref = self.buttons.decode(str(query.get("data") or ""))
        if ref is None or not chat.get("id") or not user.get("id"):
            await self.api.call(
                "answerCallbackQuery",
                {"callback_query_id": query.get("id"), "text": EXPIRED_BUTTON},
            )
            return
        if ref.owner != user["id"]:
            await self.api.call(
                "answerCallbackQuery",
                {"callback_query_id": query.get("id"), "text": FOREIGN_BUTTON, "show_alert": True},
            )
            return
        await self.api.call("answerCallbackQuery", {"callback_query_id": query.get("id")})
        title = ref.title
        for row in (message.get("reply_markup") or {}).get("inline_keyboard") or []:
            for button in row:
                if button.get("callback_data") == query.get("data"):
                    title = str(button.get("text") or title)
        await self._close_keyboard(message, title)
        group = chat.get("type") in GROUP_TYPES
        out = TelegramOutput(
            self.api,
            self.buttons,
            chat_id=chat["id"],
            owner=user["id"],
            reply_to=message.get("message_id") if group else None,
            group=group,
        )
        await self.run(on_new_message, out, chat["id"], user["id"], ref.payload, title, group)

    async def _close_keyboard(self, message: Dict[str, Any], title: str) -> None:
        """Removes the keyboard of a used question and notes the choice under it."""
        chat_id = (message.get("chat") or {}).get("id")
        if not chat_id or not message.get("message_id"):
            return
        text = f"{message.get('text') or ''}\n\n✔ {title}".strip()
        if message.get("text") and utf16_len(text) <= TELEGRAM_TEXT_LIMIT:
            await self.api.call(
                "editMessageText",
                {"chat_id": chat_id, "message_id": message["message_id"], "text": text},
            )
        else:
            await self.api.call(
                "editMessageReplyMarkup",
                {"chat_id": chat_id, "message_id": message["message_id"]},
            )

    async def run(
        self,
        on_new_message: OnNewMessage,
        out: TelegramOutput,
        chat_id: Any,
        user_id: Any,
        text: str,
        display: Optional[str],
        group: bool,
    ) -> None:
        guarded = check_text(text)
        if not guarded.ok:
            await out.send_text(guarded.reply or "")
            return
        metadata: Dict[str, Any] = {
            "telegram": {"chat_id": chat_id, "user_id": user_id, "group": group}
        }
        if display:
            metadata["display"] = display
        sender = sender_id(chat_id, user_id)
        try:
            await on_new_message(
                UserMessage(guarded.text, out, sender, input_channel=self.name(), metadata=metadata)
            )
        except Exception:  # the agent gets the busy answer rather than silence
            logger.exception("Telegram: handling a message of %s failed", sender)
            if not out.sent:
                await out.send_text(busy_text())

    async def register_webhook(self) -> None:
        if not (self.webhook_url and self.access_token and self.secret_token):
            return
        result = await self.api.call(
            "setWebhook",
            {
                "url": self.webhook_url,
                "secret_token": self.secret_token,
                "allowed_updates": ["message", "callback_query"],
            },
        )
        if result:
            logger.info("Telegram webhook registered: %s", self.webhook_url)
        else:
            logger.error("Telegram setWebhook failed for %s", self.webhook_url)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("telegram_webhook_tg", __name__)

        @bp.listener("after_server_start")
        async def register(*_: Any) -> None:
            await self.register_webhook()

        @bp.listener("before_server_stop")
        async def close(*_: Any) -> None:
            await self.api.client.close()

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": bool(self.access_token)})

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.authorised(request):
                return json_error(403, "forbidden")
            try:
                update = parse_json_body(request.body or b"")
            except BadRequest as error:
                return json_error(400, str(error))
            try:
                agent = getattr(request.app.ctx, "agent", None)
                if await feedback_telegram.handle_update(self, agent, update):
                    pass  # feedback, a reason, a TL reply or /riwayat: not a dialogue turn
                elif isinstance(update.get("callback_query"), dict):
                    await self.handle_callback(update["callback_query"], on_new_message)
                elif isinstance(update.get("message"), dict):
                    await self.handle_message(update["message"], on_new_message)
                # edited messages, channel posts, member updates...: ignored
            except Exception:  # Telegram would redeliver the update forever on a 5xx
                logger.exception("Telegram update %s failed", update.get("update_id"))
            return response.json({"ok": True})

        return bp
