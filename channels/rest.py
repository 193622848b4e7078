"""Our REST connector, registered under the name ``rest`` so the URL stays
``POST /webhooks/rest/webhook``.

Differences from Rasa's ``RestInput``:

* one message dict per bot utterance: ``text``, ``buttons`` and the ``sop_result`` payload
  (``custom``) of one answer stay together (:class:`channels.output.BundlingOutputChannel`);
* the input guard (:mod:`channels.guard`) runs before NLU: control characters removed,
  empty text and text over 2,000 characters answered without calling NLU;
* invalid JSON, wrong types or a missing sender -> HTTP 400 ``{"error": "..."}``, never 5xx.

Request: ``{"sender": "agent1", "message": "...", "metadata": {...}}``.
Response: ``[{"recipient_id", "text"?, "buttons"?, "custom"?}, ...]``.
"""

from __future__ import annotations

import inspect
from typing import Any, Dict, Optional

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import OnNewMessage, handle_json_message


class RestConnector(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        module = inspect.getmodule(self)
        bp = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await handle_json_message(request, on_new_message, self.name())

        return bp
