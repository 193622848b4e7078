"""Local stand-ins for the outside world of the channel tests (no network).

* :class:`ApiStub`: an HTTP server on 127.0.0.1 that answers like the Telegram Bot API
  (``/bot<token>/<method>``) and the WhatsApp Cloud API (``/<version>/<phone id>/messages``)
  and records every call.
* Builders of real Telegram updates and WhatsApp webhook bodies, and their signatures.

Failures are answered as the documented APIs answer them (:meth:`ApiStub.fail_next`):

* Telegram Bot API (https://core.telegram.org/bots/api#making-requests, #responseparameters):
  HTTP 429 ``{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after
  N", "parameters": {"retry_after": N}}``;
* WhatsApp Cloud API (developers.facebook.com/documentation/business-messaging/whatsapp/
  support/error-codes): HTTP 400 ``{"error": {"message": "(#130429) Rate limit hit", "type":
  "OAuthException", "code": 130429, "error_data": {...}, "fbtrace_id": ...}}``; 131056 is
  the (business, consumer) pair rate limit.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional

_ids = itertools.count(1000)


@dataclass
class ApiCall:
    path: str
    method: str  # Telegram method ("sendMessage") or "messages" for WhatsApp
    body: Dict[str, Any]
    headers: Dict[str, str]
    response: Any = None  # what the stub answered


class ApiStub:
    def __init__(self) -> None:
        self.calls: List[ApiCall] = []
        self._lock = threading.Lock()
        # method -> queued (status, body) answers given instead of the normal one
        self._failures: Dict[str, List[Any]] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                method = self.path.rstrip("/").rsplit("/", 1)[-1]
                call = ApiCall(self.path, method, body, dict(self.headers.items()))
                with stub._lock:
                    stub.calls.append(call)
                    queued = stub._failures.get(method) or []
                    failure = queued.pop(0) if queued else None
                status, answer = failure if failure else (200, stub.answer(call))
                call.response = answer
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> ApiStub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def answer(call: ApiCall) -> Dict[str, Any]:
        if call.method == "messages":  # WhatsApp Cloud API
            return {
                "messaging_product": "whatsapp",
                "contacts": [{"input": call.body.get("to"), "wa_id": call.body.get("to")}],
                "messages": [{"id": f"wamid.stub{next(_ids)}"}],
            }
        if call.method == "sendMessage":
            message = {
                "message_id": next(_ids),
                "date": int(time.time()),
                "chat": {"id": call.body.get("chat_id")},
                "text": call.body.get("text"),
            }
            if "reply_markup" in call.body:
                message["reply_markup"] = call.body["reply_markup"]
            return {"ok": True, "result": message}
        return {"ok": True, "result": True}

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()

    def fail_next(self, method: str, times: int, status: int, body: Dict[str, Any]) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend([(status, body)] * times)

    def telegram_rate_limit(self, times: int, retry_after: int = 1) -> None:
        """The next ``times`` sendMessage calls get Telegram's 429."""
        self.fail_next(
            "sendMessage",
            times,
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            },
        )

    def whatsapp_rate_limit(self, times: int, code: int = 130429) -> None:
        """The next ``times`` sends get the Cloud API's rate-limit error ``code``."""
        titles = {
            130429: "Rate limit hit",
            131056: "(Business Account, Consumer Account) pair rate limit hit",
        }
        self.fail_next(
            "messages",
            times,
            400,
            {
                "error": {
                    "message": f"(#{code}) {titles.get(code, 'Rate limit')}",
                    "type": "OAuthException",
                    "code": code,
                    "error_data": {"messaging_product": "whatsapp", "details": titles.get(code)},
                    "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
                }
            },
        )

    def take(self, predicate: Optional[Callable[[ApiCall], bool]] = None) -> List[ApiCall]:
        """Returns and forgets the recorded calls (those matching ``predicate``)."""
        with self._lock:
            taken = [c for c in self.calls if predicate is None or predicate(c)]
            self.calls = [c for c in self.calls if c not in taken]
        return taken


# -- Telegram ----------------------------------------------------------------------------


def tg_user(user_id: int, name: str) -> Dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name, "username": name.lower()}


def tg_chat(chat_id: int, kind: str = "supergroup") -> Dict[str, Any]:
    chat: Dict[str, Any] = {"id": chat_id, "type": kind}
    if kind == "private":
        chat["first_name"] = "Agen"
    else:
        chat["title"] = "CHO Jabo"
    return chat


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def tg_message(
    chat: Dict[str, Any],
    user: Dict[str, Any],
    text: str,
    *,
    mention: Optional[str] = None,
    command: bool = False,
    reply_to: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """A Telegram ``Update`` with a text message. ``mention="@bot"`` puts the mention first
    (with its entity); ``command=True`` marks the first word as a bot command."""
    entities: List[Dict[str, Any]] = []
    if mention:
        text = f"{mention} {text}"
        entities.append({"type": "mention", "offset": 0, "length": utf16_len(mention)})
    if command:
        word = text.split(" ", 1)[0]
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(word)})
    message: Dict[str, Any] = {
        "message_id": next(_ids),
        "from": user,
        "chat": chat,
        "date": int(time.time()),
        "text": text,
    }
    if entities:
        message["entities"] = entities
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {"update_id": next(_ids), "message": message}


def tg_callback(user: Dict[str, Any], bot_message: Dict[str, Any], data: str) -> Dict[str, Any]:
    """A ``callback_query`` update: ``user`` pressed the button ``data`` of ``bot_message``."""
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": str(next(_ids)),
            "from": user,
            "message": bot_message,
            "chat_instance": "-1",
            "data": data,
        },
    }


def tg_bot_message(call: ApiCall, chat: Dict[str, Any], bot_name: str) -> Dict[str, Any]:
    """The message object Telegram would hold for a recorded ``sendMessage`` call."""
    message = {
        "message_id": next(_ids),
        "from": {"id": 999, "is_bot": True, "first_name": "Asisten", "username": bot_name},
        "chat": chat,
        "date": int(time.time()),
        "text": call.body.get("text"),
    }
    if "reply_markup" in call.body:
        message["reply_markup"] = call.body["reply_markup"]
    return message


def inline_buttons(call: ApiCall) -> List[Dict[str, str]]:
    markup = call.body.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard") or [] for b in row]


# -- WhatsApp ------------------------------------------------------------------------------


def wa_value(value: Dict[str, Any]) -> Dict[str, Any]:
    """A webhook body around one change ``value`` (messages, statuses) of our number."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def wa_body(wa_id: str, message: Dict[str, Any], name: str = "Agen") -> Dict[str, Any]:
    message = {"from": wa_id, "id": f"wamid.in{next(_ids)}", "timestamp": "1", **message}
    return wa_value(
        {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}
    )


def wa_text(wa_id: str, text: str) -> Dict[str, Any]:
    return wa_body(wa_id, {"type": "text", "text": {"body": text}})


def wa_button_reply(wa_id: str, reply_id: str, title: str) -> Dict[str, Any]:
    return wa_body(
        wa_id,
        {
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": reply_id, "title": title},
            },
        },
    )


def wa_list_reply(wa_id: str, reply_id: str, title: str) -> Dict[str, Any]:
    return wa_body(
        wa_id,
        {
            "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": reply_id, "title": title}},
        },
    )


def wa_signature(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def wa_shown_text(call: ApiCall) -> str:
    body = call.body
    if body.get("type") == "text":
        return str(body["text"]["body"])
    return str(body.get("interactive", {}).get("body", {}).get("text", ""))


def wa_reply_buttons(call: ApiCall) -> List[Dict[str, str]]:
    action = call.body.get("interactive", {}).get("action", {})
    return [b["reply"] for b in action.get("buttons") or []]


# -- documented sample payloads -----------------------------------------------------------
# Telegram: the sample updates of https://core.telegram.org/bots/webhooks ("Testing your
# bot with updates": message with text, document message, callback query) and the Message
# fields of https://core.telegram.org/bots/api#message (caption, caption_entities,
# sender_chat: "the supergroup itself for messages sent by its anonymous administrators").
# WhatsApp: Meta's webhook reference, developers.facebook.com/documentation/
# business-messaging/whatsapp/webhooks/reference/messages/ (text, group: "group_id",
# reaction, system "user_changed_number", status "failed" with errors) and the
# business-scoped user ids page (usernames: "from" omitted when the phone number is not
# available, "from_user_id" / contacts[].user_id the BSUID).


def tg_document_with_caption(
    chat: Dict[str, Any], user: Dict[str, Any], caption: str, command: bool = False
) -> Dict[str, Any]:
    """The webhooks page's "Document message" with a caption (and a caption command)."""
    message: Dict[str, Any] = {
        "message_id": next(_ids),
        "from": user,
        "chat": chat,
        "date": int(time.time()),
        "document": {
            "file_id": "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX",
            "file_name": "Testfile.pdf",
            "mime_type": "application/pdf",
            "file_size": 536392,
        },
        "caption": caption,
    }
    if command:
        word = caption.split(" ", 1)[0]
        message["caption_entities"] = [
            {"type": "bot_command", "offset": 0, "length": utf16_len(word)}
        ]
    return {"update_id": next(_ids), "message": message}


def tg_anonymous_admin(chat: Dict[str, Any], text: str) -> Dict[str, Any]:
    """An anonymous group admin: ``from`` is @GroupAnonymousBot, ``sender_chat`` the group."""
    update = tg_message(
        chat,
        {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"},
        text,
        command=text.startswith("/"),
    )
    update["message"]["sender_chat"] = {
        "id": chat["id"],
        "title": chat.get("title"),
        "type": chat["type"],
    }
    return update


def wa_username_text(user_id: str, text: str, username: str = "agen.ani") -> Dict[str, Any]:
    """A user with a username whose phone number Meta withholds: no ``from``, no
    ``wa_id``; the business-scoped user id in ``from_user_id`` and ``contacts[].user_id``."""
    return wa_value(
        {
            "contacts": [{"profile": {"name": "Ani", "username": username}, "user_id": user_id}],
            "messages": [
                {
                    "from_user_id": user_id,
                    "id": f"wamid.in{next(_ids)}",
                    "timestamp": "1739321024",
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
    )


def wa_group_text(
    group_id: str, wa_id: str, text: str, context: Optional[Dict[str, str]] = None
) -> Dict[str, Any]:
    """The group messages webhook reference: ``group_id`` next to ``from``."""
    message: Dict[str, Any] = {
        "from": wa_id,
        "group_id": group_id,
        "id": f"wamid.in{next(_ids)}",
        "timestamp": "1739321024",
        "text": {"body": text},
        "type": "text",
    }
    if context:
        message["context"] = context
    return wa_value(
        {"contacts": [{"profile": {"name": "Agen"}, "wa_id": wa_id}], "messages": [message]}
    )


def wa_reaction(wa_id: str, message_id: str, emoji: str = "\U0001f44d") -> Dict[str, Any]:
    return wa_value(
        {
            "contacts": [{"profile": {"name": "Agen"}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": f"wamid.in{next(_ids)}",
                    "timestamp": "1739321024",
                    "reaction": {"message_id": message_id, "emoji": emoji},
                    "type": "reaction",
                }
            ],
        }
    )


def wa_number_changed(wa_id: str, new_wa_id: str) -> Dict[str, Any]:
    """System message: no contacts array (the reference says so)."""
    return wa_value(
        {
            "messages": [
                {
                    "from": wa_id,
                    "id": f"wamid.in{next(_ids)}",
                    "timestamp": "1739321024",
                    "type": "system",
                    "system": {
                        "body": f"User Agen changed from {wa_id} to {new_wa_id}",
                        "wa_id": new_wa_id,
                        "type": "user_changed_number",
                    },
                }
            ]
        }
    )


def wa_failed_status(wa_id: str, code: int = 131026) -> Dict[str, Any]:
    return wa_value(
        {
            "statuses": [
                {
                    "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MjQ0QjI0OTdBQ0Y0QjY2QTMA",
                    "status": "failed",
                    "timestamp": "1739321024",
                    "recipient_id": wa_id,
                    "errors": [
                        {
                            "code": code,
                            "title": "Message undeliverable",
                            "message": "Message undeliverable",
                            "error_data": {"details": "Message Undeliverable."},
                        }
                    ],
                }
            ]
        }
    )
