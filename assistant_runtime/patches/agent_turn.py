"""One truth per turn (``Agent.handle_message``, :mod:`assistant_runtime.turns`).

``one-truth-per-turn``: a resend of a message already processed (same client message id, or
same text while its reply may not have been delivered) is answered with the saved reply
instead of running again; a tracker store or lock store failure
(:mod:`assistant_runtime.tracker_store`, :mod:`assistant_runtime.lock_store`) gives the agent
the busy answer (HTTP 200, never 5xx) and nothing else of that turn (it was not saved), and
the error is logged. A new message is answered as stock Rasa answers it.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Tuple, Type

from assistant_runtime import turns
from assistant_runtime.busy import busy_text
from assistant_runtime.patches.book import Patcher

logger = logging.getLogger(__name__)


def _store_errors() -> Tuple[Type[BaseException], ...]:
    import redis
    from rasa.core.lock_store import LockError

    from assistant_runtime.tracker_store import TrackerStoreUnavailable

    return (TrackerStoreUnavailable, LockError, redis.exceptions.RedisError)


async def send_busy(output_channel: Any, recipient_id: str, domain: Any = None) -> None:
    """Sends the busy message on an output channel (never raises)."""
    if output_channel is None:
        return
    try:
        await output_channel.send_text_message(recipient_id, busy_text(domain))
    except Exception:
        logger.exception("could not send the busy message to '%s'", recipient_id)


def install_one_truth_per_turn(patcher: Patcher) -> None:
    from rasa.core.agent import Agent

    original_handle = Agent.handle_message

    async def handle_message(self: Agent, message: Any) -> Any:
        # Stock body: ``async with self.lock_store.lock(id): return await
        # self.processor.handle_message(message)``. Added: a resend of a processed message is
        # answered with the saved reply, and a turn that was not saved shows the busy
        # answer alone (assistant_runtime/turns.py).
        if not self.is_ready():
            return await original_handle(self, message)
        turns.use_client_message_id(message)
        try:
            async with self.lock_store.lock(message.sender_id):
                lease = turns.CURRENT_LEASE.get()
                if lease is not None:
                    lease.message_id, lease.text = message.message_id, message.text
                reply = await turns.saved_reply(self, message, lease)
                if reply is not None:
                    logger.info(
                        "conversation '%s': message already processed, saved reply sent again",
                        message.sender_id,
                    )
                    await turns.send_saved_reply(message, reply)
                    result = getattr(message.output_channel, "messages", None)
                else:
                    result = await self.processor.handle_message(message)
                written = lease is not None and (lease.mark_written or reply is not None)
                if lease is not None and lease.clear_mark is not None and written:
                    try:  # the reply goes to the channel now: a same-text message is new
                        await lease.clear_mark()
                    except _store_errors() as error:
                        logger.warning("pending-reply mark not cleared: %s", error)
                return result
        except _store_errors() as error:
            logger.error(
                "conversation '%s': message not handled, store unavailable: %s",
                message.sender_id,
                str(error).splitlines()[0] if str(error) else type(error).__name__,
            )
            turns.discard_collected(message.output_channel)
            await send_busy(message.output_channel, message.sender_id, self.domain)
            return None
        except Exception:
            turns.discard_collected(message.output_channel)  # not saved: no half answer
            raise

    patcher.replace(Agent, "handle_message", handle_message)


INSTALLERS: Dict[str, Callable[[Patcher], None]] = {
    "one-truth-per-turn": install_one_truth_per_turn,
}
