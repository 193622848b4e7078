"""Shared plumbing of the JSON connectors (REST and widget): guarded input, one Rasa turn,
bundled output, JSON errors instead of 5xx."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import UserMessage
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import agent_identity
from channels.guard import BadRequest, check_text, parse_message_body
from channels.output import BundlingOutputChannel

try:  # the project's "system busy" answer (assistant_runtime, reliability work)
    from assistant_runtime.busy import busy_text
except ImportError:  # pragma: no cover - the channels also work without it

    def busy_text(domain: Optional[Any] = None) -> str:
        return "Maaf, sistem sedang sibuk. Coba kirim lagi sebentar lagi."


logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def json_error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def agent_domain(request: Request) -> Optional[Any]:
    agent = getattr(request.app.ctx, "agent", None)
    return getattr(agent, "domain", None)


async def run_turn(
    on_new_message: OnNewMessage,
    sender: str,
    raw_text: Optional[str],
    input_channel: str,
    metadata: Optional[Dict[str, Any]] = None,
    domain: Optional[Any] = None,
) -> List[Dict[str, Any]]:
    """Guards the text, hands it to Rasa and returns the bundled bot messages (the busy
    answer when the turn failed before anything was said)."""
    guarded = check_text(raw_text)
    if not guarded.ok:
        logger.info("guard refused a message of %s: %s", sender, guarded.reason)
        return [{"recipient_id": sender, "text": guarded.reply}]
    collector = BundlingOutputChannel()
    try:
        await on_new_message(
            UserMessage(
                guarded.text,
                collector,
                sender,
                input_channel=input_channel,
                metadata=metadata,
            )
        )
    except asyncio.CancelledError:
        logger.error("%s: message of %s timed out", input_channel, sender)
        return collector.messages or [{"recipient_id": sender, "text": busy_text(domain)}]
    except Exception:  # the client still gets what was collected, never a 5xx
        logger.exception("%s: handling a message of %s failed", input_channel, sender)
        return collector.messages or [{"recipient_id": sender, "text": busy_text(domain)}]
    return collector.messages


async def handle_json_message(
    request: Request,
    on_new_message: OnNewMessage,
    input_channel: str,
    sender_check: Optional[Callable[[str], bool]] = None,
    extra_metadata: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
) -> HTTPResponse:
    """POST ``{"sender", "message", "metadata"?}`` -> 200 with the list of bot messages,
    or 400/413 with ``{"error": ...}`` (403 behind the proxy without its secret)."""
    identity = agent_identity.identify(request.headers)
    if identity.refused:
        return json_error(403, agent_identity.REFUSED_TEXT)
    try:
        sender, text, metadata = parse_message_body(request.body or b"")
    except BadRequest as error:
        status = 413 if "terlalu besar" in str(error) else 400
        return json_error(status, str(error))
    if sender_check is not None and not sender_check(sender):
        return json_error(400, '"sender" tidak valid untuk kanal ini.')
    if extra_metadata is not None:
        metadata = extra_metadata(metadata or {}) or None
    metadata = agent_identity.stamp(metadata, identity)
    messages = await run_turn(
        on_new_message, sender, text, input_channel, metadata, agent_domain(request)
    )
    return response.json(messages)
