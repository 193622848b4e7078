"""One truth per turn: the lease a turn holds, and resends answered with the saved reply.

A turn of a conversation runs under the lock store's lock. With the Redis lock store the
lock is a short *lease* (:class:`Lease`) renewed while the turn runs; the tracker store
refuses to save a turn whose lease may have passed to another instance
(:func:`check_lease_before_save`), so the agent then gets the busy answer and nothing is
stored, instead of two instances writing one conversation.

A message that was already processed is not run again (:func:`saved_reply`):

* the channel gave a client message id (REST / widget: ``metadata.message_id``; any channel
  that sets ``UserMessage.message_id``) and the conversation already holds a user message
  with that id: a client retry;
* the same text arrives while the conversation's *pending-reply mark* names a message that
  is stored: the turn was saved but its reply may never have reached the agent (a save
  whose acknowledgement was lost, or a crash between the save and the answer), so the agent
  saw the busy answer or nothing and resends.

The mark is written just before the save and removed once the turn's reply has been handed
to the channel, inside the lock: a deliberate repeat of the same text after a delivered
answer ("Tidak" to two questions in a row) runs normally.
"""

from __future__ import annotations

import contextvars
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.lock_store import LockError

logger = logging.getLogger(__name__)

CLIENT_MESSAGE_ID_KEY = "message_id"  # in the message metadata (REST / widget)
LEASE_SAFETY_MARGIN_SECONDS = 1.0


class LeaseLost(LockError):
    """The turn's lease may have expired: another instance may serve the conversation."""


@dataclass
class Lease:
    """The lock a running turn holds (Redis lock store only)."""

    conversation_id: str
    seconds: float
    ticket: int = -1
    confirmed_at: float = field(default_factory=time.monotonic)  # last renewal sent at
    lost: bool = False
    mark_written: bool = False
    message_id: Optional[str] = None
    text: Optional[str] = None
    # set by the lock store: async functions reaching Redis (bounded, off the event loop)
    write_mark: Optional[Callable[[Dict[str, str]], Awaitable[None]]] = None
    read_mark: Optional[Callable[[], Awaitable[Optional[Dict[str, str]]]]] = None
    clear_mark: Optional[Callable[[], Awaitable[None]]] = None

    def valid(self) -> bool:
        """True while no other instance can have been given the lock."""
        margin = min(LEASE_SAFETY_MARGIN_SECONDS, self.seconds / 4)
        left = self.confirmed_at + self.seconds - margin - time.monotonic()
        return not self.lost and left > 0


CURRENT_LEASE: contextvars.ContextVar[Optional[Lease]] = contextvars.ContextVar(
    "assistant_current_lease", default=None
)


async def check_lease_before_save(sender_id: str) -> None:
    """Called by the tracker store right before it saves: raises :class:`LeaseLost` when the
    lease may be gone; otherwise writes the pending-reply mark (best effort)."""
    lease = CURRENT_LEASE.get()
    if lease is None or lease.conversation_id != sender_id:
        return
    if not lease.valid():
        raise LeaseLost(
            f"lock of conversation '{sender_id}' not renewed for {lease.seconds:g} s: "
            "turn not saved"
        )
    if lease.write_mark is not None and lease.message_id:
        try:
            await lease.write_mark({"message_id": lease.message_id, "text": lease.text or ""})
            lease.mark_written = True
        except LockError as error:
            logger.warning(
                "conversation '%s': pending-reply mark not written: %s", sender_id, error
            )


def use_client_message_id(message: Any) -> None:
    """Takes the client's message id from the metadata (REST / widget) as the message id,
    so the stored user event carries it."""
    metadata = getattr(message, "metadata", None)
    if isinstance(metadata, dict):
        client_id = metadata.get(CLIENT_MESSAGE_ID_KEY)
        if isinstance(client_id, (str, int)) and str(client_id).strip():
            message.message_id = str(client_id).strip()[:200]


def has_client_message_id(message: Any) -> bool:
    metadata = getattr(message, "metadata", None)
    return isinstance(metadata, dict) and bool(metadata.get(CLIENT_MESSAGE_ID_KEY))


def reply_to(events: List[Any], message_id: str) -> Optional[List[Any]]:
    """The bot utterances that answered the stored user message ``message_id`` (None when
    no such message is stored)."""
    from rasa.shared.core.events import BotUttered, UserUttered

    start = None
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, UserUttered) and event.message_id == message_id:
            start = index
            break
    if start is None:
        return None
    reply = []
    for event in events[start + 1 :]:
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            reply.append(event)
    return reply


def last_user_message_id(events: List[Any]) -> Optional[str]:
    from rasa.shared.core.events import UserUttered

    for event in reversed(events):
        if isinstance(event, UserUttered):
            return str(event.message_id) if event.message_id else None
    return None


async def saved_reply(agent: Any, message: Any, lease: Optional[Lease]) -> Optional[List[Any]]:
    """The saved reply when ``message`` was already processed, else None (run the turn)."""
    wanted: Optional[str] = None
    if has_client_message_id(message):
        wanted = message.message_id
    elif lease is not None and lease.read_mark is not None:
        try:
            mark = await lease.read_mark()
        except LockError:
            mark = None  # the turn will fail on the lock store anyway or run normally
        if mark and mark.get("text") == (message.text or ""):
            wanted = mark.get("message_id")
            if wanted:
                tracker = await agent.tracker_store.retrieve(message.sender_id)
                events = list(tracker.events) if tracker else []
                if last_user_message_id(events) != wanted:
                    return None  # the marked turn was not saved: run the resend
                return reply_to(events, wanted)
    if not wanted:
        return None
    tracker = await agent.tracker_store.retrieve(message.sender_id)
    return reply_to(list(tracker.events), wanted) if tracker else None


async def send_saved_reply(message: Any, reply: List[Any]) -> None:
    for event in reply:
        await message.output_channel.send_response(message.sender_id, event.message())


def discard_collected(output_channel: Any) -> None:
    """Drops what a collecting channel gathered during a turn that was not saved: the agent
    must see the busy answer alone, not the next question with it."""
    messages = getattr(output_channel, "messages", None)
    if isinstance(messages, list):
        messages.clear()
