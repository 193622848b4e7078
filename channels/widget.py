"""The agent widget: a small chat page served by the assistant itself (no CDN, no internet).

Endpoints (prefix ``/webhooks/widget``):

* ``GET  /``                      the page (``channels/widget/index.html``)
* ``GET  /widget.css``, ``/widget.js``   its static files
* ``POST /webhook``               ``{"sender", "message", "metadata": {"display",
  "question"}?}`` -> list of bundled bot messages (text + buttons + ``sop_result`` custom
  in ONE dict); a message with buttons carries ``question``, the token a press sends back
  (:mod:`channels.questions`: a press of a question no longer pending is refused)
* ``GET  /history?sender=w-...``  ``{"sender", "messages": [{"role": "user"|"bot", ...}]}``,
  read from the tracker store, so a reloaded page continues the conversation

Widget senders are ``w-<uuid>`` (made by the page, kept in localStorage); the history
endpoint answers only for such ids, never for REST, Telegram or WhatsApp conversations.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import InputChannel
from rasa.shared.core.trackers import EventVerbosity
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import agent_identity
from channels.base import OnNewMessage, handle_json_message, json_error
from channels.output import history_from_events
from channels.questions import Questions
from channels.state import StateHolder

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "widget"
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "widget.js": "text/javascript; charset=utf-8",
    "feedback.js": "text/javascript; charset=utf-8",
    "feedback.css": "text/css; charset=utf-8",
}
SENDER_RE = re.compile(r"^w-[A-Za-z0-9-]{8,64}$")
MAX_HISTORY = 300
MAX_DISPLAY_CHARS = 200
QUESTION_RE = re.compile(r"^[A-Za-z0-9_-]{8,32}$")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def valid_sender(sender: str) -> bool:
    return bool(SENDER_RE.match(sender))


def widget_metadata(metadata: Dict[str, Any]) -> Dict[str, Any]:
    """Keeps only what the page may send: the title of a pressed button (``display``), the
    token of the question it answers (``question``) and a client message id (``message_id``:
    a retry with the same id gets the saved reply, assistant_runtime/turns.py)."""
    kept: Dict[str, Any] = {}
    display = metadata.get("display")
    if isinstance(display, str) and display.strip():
        kept["display"] = display.strip()[:MAX_DISPLAY_CHARS]
    question = metadata.get("question")
    if isinstance(question, str) and QUESTION_RE.match(question):
        kept["question"] = question
    message_id = metadata.get("message_id")
    if isinstance(message_id, str) and message_id.strip():
        kept["message_id"] = message_id.strip()[:200]
    return kept


async def conversation_history(request: Request, sender: str) -> Optional[List[Dict[str, Any]]]:
    """User and bot messages of ``sender`` from the tracker store; None when no agent."""
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return None
    store = agent.tracker_store
    tracker = await store.retrieve_full_tracker(sender)
    if tracker is None:
        return []
    events = tracker.current_state(EventVerbosity.ALL).get("events") or []
    if not agent_identity.may_read(agent_identity.identify(request.headers), events):
        raise PermissionError(f"{sender} belongs to another agent")
    return history_from_events(events)[-MAX_HISTORY:]


class WidgetConnector(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def __init__(self) -> None:
        self.state = StateHolder()

    async def mark_pending(
        self, request: Request, sender: str, messages: List[Dict[str, Any]]
    ) -> None:
        """A reloaded page gets the token of the question still pending on its last answer,
        so its buttons keep working (and stay bound to that question)."""
        if not messages or messages[-1].get("role") != "bot" or not messages[-1].get("buttons"):
            return
        state = await self.state.get(request.app)
        token = await state.get(f"pend:{sender}")
        info = await Questions(state).info(token) if token else None
        if info is not None and info.get("buttons") == messages[-1]["buttons"]:
            messages[-1]["question"] = token

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("widget_webhook", __name__)

        def static(name: str) -> HTTPResponse:
            body = (STATIC_DIR / name).read_bytes()
            return response.raw(
                body, content_type=STATIC_FILES[name], headers=dict(SECURITY_HEADERS)
            )

        @bp.route("/", methods=["GET"])
        async def index(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):
                return response.redirect(request.path + "/")
            return static("index.html")

        @bp.route("/<name:str>", methods=["GET"])
        async def files(_: Request, name: str) -> HTTPResponse:
            if not name:  # "/webhooks/widget/" reaches this route in Sanic 21.12
                return static("index.html")
            if name not in STATIC_FILES:
                return json_error(404, "Tidak ditemukan.")
            return static(name)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await handle_json_message(
                request,
                on_new_message,
                self.name(),
                sender_check=valid_sender,
                extra_metadata=widget_metadata,
                state=self.state,
            )

        @bp.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            if agent_identity.identify(request.headers).refused:
                return json_error(403, agent_identity.REFUSED_TEXT)
            sender = request.args.get("sender") or ""
            if not valid_sender(sender):
                return json_error(400, '"sender" tidak valid.')
            try:
                messages = await conversation_history(request, sender)
            except PermissionError:
                return json_error(403, agent_identity.OTHER_AGENT_TEXT)
            except Exception:  # a broken store: the page starts empty, not a 5xx
                logger.exception("widget: reading the history of %s failed", sender)
                return json_error(503, "Riwayat percakapan tidak bisa dibaca saat ini.")
            if messages is None:
                return json_error(503, "Asisten belum siap.")
            try:
                await self.mark_pending(request, sender, messages)
            except Exception:  # without the token a press counts as typed text
                logger.exception("widget: reading the pending question of %s failed", sender)
            return response.json({"sender": sender, "messages": messages})

        return bp
