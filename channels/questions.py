"""Buttons belong to their question.

Every bot message with buttons gets a fresh question token; it is the conversation's
pending question (``pend:<sender>``) until the agent answers, by a press or by typing.
A press carries its token and counts only while that token is still the pending one: the
token is consumed atomically (:meth:`ChannelState.delete_if`), so of two presses (a double
tap, or two instances receiving the same press) exactly one counts. A press of an older
question, of a question answered by typing, or of a question already answered, is refused
with :data:`STALE_REPLY` and the current question is asked again; it never reaches Rasa,
so it can never fill the question that is pending now.

The last message of each turn is kept (``last:<sender>``) to ask again: after a stale
press, and after a send that finally failed (rate limit): the agent's next message then
gets the question again instead of being taken as the answer to a question never seen.
"""

from __future__ import annotations

import secrets
from typing import Any, Dict, Optional

from channels.state import DAY, ChannelState

STALE_REPLY = "Tombol ini sudah tidak berlaku."
TTL = DAY
TURN_TTL = 120.0  # a turn in progress (the "busy" mark) never lasts longer than this


def new_token() -> str:
    return secrets.token_urlsafe(9)  # 12 characters, fits Telegram's callback_data


def is_question(message: Optional[Dict[str, Any]]) -> bool:
    """A message worth asking again: it has buttons, or it is not an SOP answer."""
    if not message:
        return False
    if message.get("buttons"):
        return True
    custom = message.get("custom")
    return not (isinstance(custom, dict) and custom.get("type") == "sop_result")


class Questions:
    def __init__(self, state: ChannelState) -> None:
        self.state = state

    async def asked(self, sender: str, info: Dict[str, Any], token: Optional[str] = None) -> str:
        """Records a question with buttons as the pending one; returns its token."""
        token = token or new_token()
        await self.state.set_json(f"q:{token}", {"sender": sender, **info}, TTL)
        await self.state.set(f"pend:{sender}", token, TTL)
        return token

    async def update(self, token: str, info: Dict[str, Any]) -> None:
        await self.state.set_json(f"q:{token}", info, TTL)

    async def info(self, token: str) -> Optional[Dict[str, Any]]:
        value = await self.state.get_json(f"q:{token}")
        return value if isinstance(value, dict) else None

    async def claim(self, sender: str, token: str) -> bool:
        """True for the one press that answers the pending question."""
        return await self.state.delete_if(f"pend:{sender}", token)

    async def drop_pending(self, sender: str) -> Optional[Dict[str, Any]]:
        """The agent typed: the pending question (if any) is answered; returns its record."""
        token = await self.state.pop(f"pend:{sender}")
        return await self.info(token) if token else None

    async def begin_turn(self, sender: str) -> None:
        await self.state.set(f"busy:{sender}", "1", TURN_TTL)

    async def end_turn(
        self, sender: str, last_message: Optional[Dict[str, Any]], failed: bool = False
    ) -> None:
        if last_message:
            await self.state.set_json(f"last:{sender}", last_message, TTL)
        if failed:
            await self.state.set(f"undelivered:{sender}", "1", TTL)
        await self.state.delete(f"busy:{sender}")

    async def busy(self, sender: str) -> bool:
        return await self.state.get(f"busy:{sender}") is not None

    async def last(self, sender: str) -> Optional[Dict[str, Any]]:
        value = await self.state.get_json(f"last:{sender}")
        return value if isinstance(value, dict) else None

    async def to_ask_again(self, sender: str) -> Optional[Dict[str, Any]]:
        """The current question to ask again after a stale press, or None (an SOP answer
        was the last word, or a turn is running and will ask the question itself)."""
        if await self.busy(sender):
            return None
        last = await self.last(sender)
        return last if is_question(last) else None

    async def take_undelivered(self, sender: str) -> Optional[Dict[str, Any]]:
        """The last message when it could not be delivered (asked again), else None."""
        if await self.state.pop(f"undelivered:{sender}") is None:
            return None
        return await self.last(sender)
