"""Rasa's socket.io channel behind the same input guard as every other connector.

The stock ``socketio`` channel hands any text straight to NLU (a 100,000-character message
once took 43 s). This subclass keeps its protocol and settings (``user_message_evt``,
``bot_message_evt``, ``session_persistence``) and only wraps the message handler: control
characters removed, an empty or too long message answered without calling NLU.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from channels.guard import check_text

logger = logging.getLogger(__name__)


def guarded(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[Any]]:
    async def handle(message: UserMessage) -> None:
        raw = message.text if isinstance(message.text, str) else None
        result = check_text(raw)
        if not result.ok:
            logger.info("guard refused a socket.io message: %s", result.reason)
            await message.output_channel.send_text_message(message.sender_id, result.reply or "")
            return
        message.text = result.text
        await on_new_message(message)

    return handle


class GuardedSocketIOInput(SocketIOInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(guarded(on_new_message))
