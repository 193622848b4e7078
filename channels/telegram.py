"""Telegram connector for CHO groups: one conversation per agent, even in a group.

Rasa's built-in connector uses the chat id as the sender, so every agent of a group shares
one conversation and their forms collide. This one (plain aiohttp, no aiogram):

* keys a conversation by chat AND user: sender ``tg:<chat_id>:<user_id>``;
* in groups answers only when addressed: a command (``/tanya ...``, ``/batal``, ``/bantuan``),
  an ``@bot_name`` mention, or a reply to one of the bot's messages. Questions are sent with
  a *selective* ``force_reply`` to the agent who asked, so answering is a plain reply;
* renders buttons as an inline keyboard whose ``callback_data`` is the question's token
  (:mod:`channels.questions`, kept in the shared channel state, :mod:`channels.state`): a
  press counts once, only while its question is pending, on any instance; a stale or double
  press is refused and the current question asked again; the keyboard of an answered
  question is removed; another agent's press is refused with a short note;
* reads captions of photos and documents as text; tells an anonymous group admin to write
  as themselves; ``update_id`` already handled (Telegram redelivers) is skipped;
* in a forum supergroup every answer carries the topic (``message_thread_id``) it was
  asked in;
* retries a send refused with 429 after ``retry_after``; when a send finally fails the
  agent's next message gets the question again;
* serves only ``TELEGRAM_ALLOWED_CHATS`` / ``TELEGRAM_ALLOWED_USERS`` (:mod:`channels.access`);
* verifies ``X-Telegram-Bot-Api-Secret-Token`` (403 when wrong or missing, and when no
  secret is configured);
* splits long answers at 4,096 characters without cutting the ticket
  (:mod:`channels.splitter`); the ticket is a ``pre`` block (one tap copies it); labels are
  cut at 64 characters;
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
server start, with the command menu (``setMyCommands``).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from contextvars import ContextVar
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import access, feedback_telegram
from channels.base import OnNewMessage, busy_text, json_error
from channels.guard import BadRequest, check_text, parse_json_body
from channels.http import JsonClient
from channels.options import clean_title, listing_lines, option_keys, self_numbered
from channels.output import bundle, message_text, sop_result_of
from channels.questions import STALE_REPLY, Questions, new_token
from channels.splitter import TELEGRAM_TEXT_LIMIT, split_text, trim_title, utf16_len
from channels.state import DAY, StateHolder

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CALLBACK_DATA_LIMIT = 64  # bytes, Bot API limit of callback_data
# The Bot API sets no length for a button label; the apps cut long ones. 64 keeps the
# SOP's longer option titles readable without a separate list.
LABEL_LIMIT = 64
GROUP_TYPES = ("group", "supergroup")
ANONYMOUS_ADMIN_BOT = 1087968824  # "GroupAnonymousBot", the sender of anonymous admins
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
MENU = [
    {"command": "tanya", "description": "Tanyakan kasus pelanggan, mis. /tanya pulsa blm masuk"},
    {"command": "batal", "description": "Batalkan kasus yang sedang berjalan"},
    {"command": "bantuan", "description": "Cara memakai asisten"},
]
NON_TEXT_REPLY = "Maaf, saya hanya membaca pesan teks."
FOREIGN_BUTTON = "Tombol ini untuk agen lain. Tanyakan kasus Anda sendiri ke bot."
ANONYMOUS_REPLY = (
    "Anda menulis sebagai admin anonim, jadi kasus Anda tidak bisa dicatat per agen. "
    "Kirim sebagai diri sendiri (matikan 'Tetap Anonim' atau pakai chat pribadi dengan bot)."
)
MAX_RETRIES = 3
# set once a message was sent for the update being handled (per request task)
_replied: ContextVar[bool] = ContextVar("telegram_replied", default=False)
MAX_RETRY_WAIT = float(os.environ.get("TELEGRAM_MAX_RETRY_WAIT", "30"))


def sender_id(chat_id: Any, user_id: Any) -> str:
    return f"tg:{chat_id}:{user_id}"


class TelegramApi:
    def __init__(self, token: str, base: str) -> None:
        self.base = (base or DEFAULT_API_BASE).rstrip("/")
        self.token = token
        self.client = JsonClient()

    async def call(self, method: str, payload: Dict[str, Any]) -> Optional[Any]:
        """The method's ``result``, or None when it failed. A 429 is retried after the
        ``retry_after`` Telegram asks for (up to :data:`MAX_RETRIES` times)."""
        url = f"{self.base}/bot{self.token}/{method}"
        for attempt in range(MAX_RETRIES + 1):
            status, answer = await self.client.post_status(
                url, payload, f"Telegram {method}", log_errors=False
            )
            data = answer if isinstance(answer, dict) else {}
            if status == 429 or data.get("error_code") == 429:
                wait = float((data.get("parameters") or {}).get("retry_after") or 1)
                if attempt < MAX_RETRIES and wait <= MAX_RETRY_WAIT:
                    logger.warning("Telegram %s: 429, retrying after %ss", method, wait)
                    await asyncio.sleep(wait)
                    continue
                logger.error("Telegram %s failed: rate limited (retry_after %ss)", method, wait)
                return None
            if status == 0 or status >= 400 or not data.get("ok", True):
                logger.error(
                    "Telegram %s failed: HTTP %s %s", method, status, data.get("description")
                )
                return None
            return data.get("result", answer)
        return None


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
    """Button labels within :data:`LABEL_LIMIT`. When a title had to be shortened the labels
    are numbered (once: titles with their own numbers keep them) and the full titles are
    returned as a list for the message text."""
    titles = [clean_title(b["title"]) for b in buttons]
    if all(len(t) <= LABEL_LIMIT for t in titles):
        return titles, None
    if self_numbered(titles):
        labels = [trim_title(t, LABEL_LIMIT) for t in titles]
    else:
        keys = option_keys(titles)
        pairs = zip(keys, titles, strict=True)
        labels = [trim_title(f"{k[0]}. {t}", LABEL_LIMIT) for k, t in pairs]
    return labels, "\n".join(listing_lines(titles))


def callback_data(token: str, index: int) -> str:
    return f"q:{token}:{index}"


def parse_callback(data: str) -> Optional[Tuple[str, int]]:
    parts = data.split(":")
    if len(parts) == 3 and parts[0] == "q" and parts[2].isdigit():
        return parts[1], int(parts[2])
    return None  # an unknown or older format: no question token, never counted


def pre_entities(chunk: str, blocks: List[str]) -> List[Dict[str, Any]]:
    """A ``pre`` entity over each block (the ticket) found in the chunk: one tap copies it.
    Entities need no escaping, unlike parse_mode; offsets are UTF-16 units."""
    entities = []
    for block in blocks:
        block = block.strip("\n")
        at = chunk.find(block) if block else -1
        if at >= 0:
            entities.append(
                {"type": "pre", "offset": utf16_len(chunk[:at]), "length": utf16_len(block)}
            )
    return entities


class TelegramOutput(OutputChannel):
    """Sends the bot messages of one user turn to one chat (on behalf of one agent)."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(
        self,
        api: TelegramApi,
        questions: Optional[Questions],
        chat_id: int,
        owner: int,
        reply_to: Optional[int] = None,
        group: bool = False,
        thread_id: Optional[int] = None,
    ) -> None:
        self.api = api
        self.questions = questions
        self.chat_id = chat_id
        self.owner = owner
        self.reply_to = reply_to
        self.group = group
        self.thread_id = thread_id  # forum topic: without it a send lands in "General"
        self.sent: List[Dict[str, Any]] = []
        self.failed = False
        self.last_message: Optional[Dict[str, Any]] = None

    @property
    def sender(self) -> str:
        return sender_id(self.chat_id, self.owner)

    async def send_text(
        self,
        text: str,
        buttons: Optional[List[Dict[str, str]]] = None,
        keep_whole: Optional[List[str]] = None,
        ask: bool = False,
    ) -> None:
        markup: Optional[Dict[str, Any]] = None
        token: Optional[str] = None
        if buttons:
            labels, listing = button_labels(buttons)
            if listing:
                text = f"{text}\n{listing}".strip()
            token = new_token()
            pairs = [(label, callback_data(token, n)) for n, label in enumerate(labels)]
            markup = {"inline_keyboard": keyboard_rows(pairs)}
            info = {"owner": self.owner, "chat_id": self.chat_id, "buttons": buttons}
            if self.questions is not None:
                replaced = await self.questions.drop_pending(self.sender)
                if replaced and replaced.get("message_id"):  # a newer question replaces it
                    await self.api.call(
                        "editMessageReplyMarkup",
                        {"chat_id": replaced["chat_id"], "message_id": replaced["message_id"]},
                    )
                await self.questions.asked(self.sender, info, token)
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
            if self.thread_id is not None:
                payload["message_thread_id"] = self.thread_id
            entities = pre_entities(chunk, keep_whole or [])
            if entities:
                payload["entities"] = entities
            if self.reply_to is not None and index == 0:
                payload["reply_to_message_id"] = self.reply_to
                payload["allow_sending_without_reply"] = True
            if markup is not None and index == len(chunks) - 1:
                payload["reply_markup"] = markup
            self.sent.append(payload)
            _replied.set(True)
            result = await self.api.call("sendMessage", payload)
            if result is None:
                self.failed = True
            elif token and self.questions is not None and "reply_markup" in payload:
                message_id = result.get("message_id") if isinstance(result, dict) else None
                info = {
                    "owner": self.owner,
                    "chat_id": self.chat_id,
                    "buttons": buttons,
                    "message_id": message_id,
                }
                await self.questions.update(token, {"sender": self.sender, **info})

    async def send_bundled(self, bundled: Dict[str, Any]) -> None:
        result = sop_result_of(bundled)
        keep = [result["ticket_text"]] if result and result.get("ticket_text") else []
        self.last_message = bundled
        await self.send_text(
            message_text(bundled),
            bundled.get("buttons"),
            keep_whole=keep,
            ask=result is None,
        )
        if result is not None:
            await feedback_telegram.send_feedback_row(self, result)

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        await self.send_bundled(bundle(recipient_id, message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_bundled({"text": text})


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


def message_body(message: Dict[str, Any]) -> Tuple[Optional[str], List[Dict[str, Any]]]:
    """Text and entities of a message; a photo's or document's caption counts as text."""
    if message.get("text") is not None:
        entities = message.get("entities") or []
        return str(message["text"]), [e for e in entities if isinstance(e, dict)]
    if message.get("caption") is not None:
        entities = message.get("caption_entities") or []
        return str(message["caption"]), [e for e in entities if isinstance(e, dict)]
    return None, []


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
        self.state = StateHolder()
        self.allowed_chats = access.id_set("TELEGRAM_ALLOWED_CHATS")
        self.allowed_users = access.id_set("TELEGRAM_ALLOWED_USERS")
        self.allow_any = access.allow_any() and not (self.allowed_chats or self.allowed_users)
        if not access_token or not secret_token:
            logger.warning(
                "Telegram channel not configured (TELEGRAM_TOKEN / TELEGRAM_SECRET empty): "
                "its webhook refuses every update with 403"
            )
        else:
            access.require_allowlist(
                "Telegram", ["TELEGRAM_ALLOWED_CHATS", "TELEGRAM_ALLOWED_USERS"]
            )

    # -- access -----------------------------------------------------------------------
    def allowed(self, chat_id: Any, user_id: Any) -> bool:
        if self.allow_any:
            return True
        return str(chat_id) in self.allowed_chats or str(user_id) in self.allowed_users

    async def refuse(self, out: TelegramOutput) -> None:
        logger.warning(
            "Telegram: refused chat %s user %s (not in TELEGRAM_ALLOWED_CHATS/USERS)",
            access.mask_id(out.chat_id),
            access.mask_id(out.owner),
        )
        state = await self.state.get()
        if await state.add(f"tg:refused:{out.chat_id}:{out.owner}", ttl=DAY):
            await out.send_text(access.REFUSAL)

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
        bot's @mention is removed. A caption counts like a text."""
        raw, entities = message_body(message)
        text = raw or ""
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
                # An unknown command in a group is ours only when it names this bot (or the
                # message mentions / replies to it): a bare "/poll" or "/start_game" there is
                # for another bot, as Telegram's docs on commands in groups describe.
                if group and not target and not addressed:
                    return None
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

    async def questions(self) -> Questions:
        return Questions(await self.state.get())

    async def handle_message(self, message: Dict[str, Any], on_new_message: OnNewMessage) -> None:
        chat = message.get("chat") or {}
        user = message.get("from") or {}
        if not chat.get("id") or not user.get("id"):
            return
        group = chat.get("type") in GROUP_TYPES
        questions = await self.questions()
        out = TelegramOutput(
            self.api,
            questions,
            chat_id=chat["id"],
            owner=user["id"],
            reply_to=message.get("message_id") if group else None,
            group=group,
            thread_id=topic_of(message),
        )
        anonymous = isinstance(message.get("sender_chat"), dict) or (
            user.get("id") == ANONYMOUS_ADMIN_BOT
        )
        if user.get("is_bot") and not anonymous:
            return
        raw, _ = message_body(message)
        if raw is None:
            if not group:
                await out.send_text(NON_TEXT_REPLY)
            return
        text = self.addressed_text(message, group)
        if text is None:
            return
        if anonymous:  # one conversation per agent needs the agent's own account
            await out.send_text(ANONYMOUS_REPLY)
            return
        if not self.allowed(chat["id"], user["id"]):
            await self.refuse(out)
            return
        guarded = check_text(text)
        if not guarded.ok:
            await out.send_text(guarded.reply or "")
            return
        sender = out.sender
        undelivered = await questions.take_undelivered(sender)
        if undelivered is not None:  # the agent never saw the question: ask it again
            await self.send_again(out, undelivered, questions)
            return
        answered = await questions.drop_pending(sender)
        if answered:
            await self.remove_keyboard(answered)
        await self.run(on_new_message, out, chat["id"], user["id"], guarded.text or "", None, group)

    async def handle_callback(self, query: Dict[str, Any], on_new_message: OnNewMessage) -> None:
        user = query.get("from") or {}
        message = query.get("message") or {}
        chat = message.get("chat") or {}
        query_id = query.get("id")
        parsed = parse_callback(str(query.get("data") or ""))
        if not chat.get("id") or not user.get("id"):
            await self.api.call("answerCallbackQuery", {"callback_query_id": query_id})
            return
        group = chat.get("type") in GROUP_TYPES
        questions = await self.questions()
        if not self.allowed(chat["id"], user["id"]):  # e.g. taken off the list since asked
            await self.api.call("answerCallbackQuery", {"callback_query_id": query_id})
            refused = TelegramOutput(
                self.api, questions, chat["id"], user["id"], thread_id=topic_of(message)
            )
            await self.refuse(refused)
            return
        info = await questions.info(parsed[0]) if parsed else None
        if info is not None and info.get("owner") != user["id"]:
            await self.api.call(
                "answerCallbackQuery",
                {"callback_query_id": query_id, "text": FOREIGN_BUTTON, "show_alert": True},
            )
            return
        original = message.get("reply_to_message") or {}
        reply_to: Optional[int] = None
        if group:
            # the follow-up answers the agent's own message, so a selective force-reply
            # opens on the phone of the agent who pressed (not on the bot's keyboard)
            same_agent = (original.get("from") or {}).get("id") == user["id"]
            reply_to = original.get("message_id") if same_agent else message.get("message_id")
        out = TelegramOutput(
            self.api,
            questions,
            chat["id"],
            user["id"],
            reply_to=reply_to,
            group=group,
            thread_id=topic_of(message),
        )
        buttons = (info or {}).get("buttons") or []
        index = parsed[1] if parsed else -1
        if (
            parsed is None
            or info is None
            or not 0 <= index < len(buttons)
            or not await questions.claim(out.sender, parsed[0])
        ):
            logger.info("Telegram: stale button press of %s refused", out.sender)
            await self.api.call(
                "answerCallbackQuery", {"callback_query_id": query_id, "text": STALE_REPLY}
            )
            await self.remove_keyboard({"chat_id": chat["id"], **_message_ref(message)})
            again = await questions.to_ask_again(out.sender)
            text = STALE_REPLY if again is None else f"{STALE_REPLY} Pertanyaan saat ini:"
            await out.send_text(text)
            if again is not None:
                await self.send_again(out, again, questions, record=False)
            return
        await self.api.call("answerCallbackQuery", {"callback_query_id": query_id})
        button = buttons[index]
        title = clean_title(button.get("title") or "")
        await self._close_keyboard(message, title)
        await self.run(
            on_new_message, out, chat["id"], user["id"], str(button["payload"]), title, group
        )

    async def send_again(
        self,
        out: TelegramOutput,
        message: Dict[str, Any],
        questions: Questions,
        record: bool = True,
    ) -> None:
        """Sends the last question again (new buttons: that question is now pending)."""
        await out.send_bundled(dict(message))
        if record:
            await questions.end_turn(out.sender, out.last_message, out.failed)
        elif out.failed:
            await questions.end_turn(out.sender, None, True)

    async def remove_keyboard(self, info: Dict[str, Any]) -> None:
        """Removes the keyboard of a question no longer pending."""
        if info.get("chat_id") and info.get("message_id"):
            await self.api.call(
                "editMessageReplyMarkup",
                {"chat_id": info["chat_id"], "message_id": info["message_id"]},
            )

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
            await self.remove_keyboard({"chat_id": chat_id, "message_id": message["message_id"]})

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
        questions = out.questions
        if questions is not None:
            await questions.begin_turn(sender)
        try:
            await on_new_message(
                UserMessage(guarded.text, out, sender, input_channel=self.name(), metadata=metadata)
            )
        except Exception:  # the agent gets the busy answer rather than silence
            logger.exception("Telegram: handling a message of %s failed", sender)
            if not out.sent:
                await out.send_text(busy_text())
        finally:
            if questions is not None:
                await questions.end_turn(sender, out.last_message, out.failed)

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
        if not await self.api.call("setMyCommands", {"commands": MENU}):
            logger.error("Telegram setMyCommands failed")

    async def answer_busy(self, update: Dict[str, Any]) -> None:
        """An update that failed before any answer (the channel state unreachable): the
        agent who addressed the bot gets the busy answer instead of silence."""
        try:
            query = update.get("callback_query")
            if isinstance(query, dict):
                await self.api.call(
                    "answerCallbackQuery",
                    {"callback_query_id": query.get("id"), "text": busy_text()},
                )
                return
            message = update.get("message")
            if not isinstance(message, dict):
                return
            chat, user = message.get("chat") or {}, message.get("from") or {}
            group = chat.get("type") in GROUP_TYPES
            if not chat.get("id") or not user.get("id") or user.get("is_bot"):
                return
            if message_body(message)[0] is None or self.addressed_text(message, group) is None:
                return
            if not self.allowed(chat["id"], user["id"]):
                return
            reply_to = message.get("message_id") if group else None
            await TelegramOutput(
                self.api, None, chat["id"], user["id"], reply_to, group, topic_of(message)
            ).send_text(busy_text())
        except Exception:
            logger.exception("Telegram: the busy answer failed too")

    async def first_time(self, update: Dict[str, Any]) -> bool:
        """False for an ``update_id`` already handled (by this or another instance)."""
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            return True
        state = await self.state.get()
        return await state.add(f"tg:update:{update_id}", ttl=DAY)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("telegram_webhook_tg", __name__)

        @bp.listener("after_server_start")
        async def register(app: Any, *_: Any) -> None:
            await self.state.get(app)
            await self.register_webhook()

        @bp.listener("before_server_stop")
        async def close(*_: Any) -> None:
            await self.api.client.close()
            await self.state.close()

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
            _replied.set(False)
            try:
                await self.state.get(request.app)
                if not await self.first_time(update):
                    logger.info("Telegram update %s already handled", update.get("update_id"))
                elif await feedback_telegram.handle_update(
                    self, getattr(request.app.ctx, "agent", None), update
                ):
                    pass  # feedback, a reason, a TL reply or /riwayat: not a dialogue turn
                elif isinstance(update.get("callback_query"), dict):
                    await self.handle_callback(update["callback_query"], on_new_message)
                elif isinstance(update.get("message"), dict):
                    await self.handle_message(update["message"], on_new_message)
                # edited messages, channel posts, member updates...: ignored
            except Exception:  # Telegram would redeliver the update forever on a 5xx
                logger.exception("Telegram update %s failed", update.get("update_id"))
                if not _replied.get():
                    await self.answer_busy(update)
            return response.json({"ok": True})

        return bp


def topic_of(message: Dict[str, Any]) -> Optional[int]:
    """The forum topic of a message (only forum supergroups take ``message_thread_id``)."""
    thread = message.get("message_thread_id")
    return thread if message.get("is_topic_message") and isinstance(thread, int) else None


def _message_ref(message: Dict[str, Any]) -> Dict[str, Any]:
    return {"message_id": message.get("message_id")}
