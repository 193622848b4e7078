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
from channels.questions import STALE_REPLY, Questions
from channels.state import StateHolder

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


async def run_question_turn(
    questions: Questions,
    on_new_message: OnNewMessage,
    sender: str,
    raw_text: Optional[str],
    input_channel: str,
    metadata: Optional[Dict[str, Any]] = None,
    domain: Optional[Any] = None,
) -> List[Dict[str, Any]]:
    """:func:`run_turn` where buttons belong to their question: a press carries the token
    of its question (``metadata.question``, the ``question`` of the message it came with)
    and counts only while that question is pending; a stale press gets
    :data:`STALE_REPLY` and the current question again, and never reaches Rasa."""
    metadata = dict(metadata or {})
    token = metadata.pop("question", None)
    if not check_text(raw_text).ok:
        return await run_turn(on_new_message, sender, raw_text, input_channel, metadata, domain)
    if isinstance(token, str) and token:
        if not await questions.claim(sender, token):
            logger.info("%s: stale button press of %s refused", input_channel, sender)
            stale: List[Dict[str, Any]] = [{"recipient_id": sender, "text": STALE_REPLY}]
            again = await questions.to_ask_again(sender)
            if again is not None:
                stale.append(await _with_question(questions, sender, dict(again)))
            return stale
    else:
        await questions.drop_pending(sender)
    await questions.begin_turn(sender)
    messages: List[Dict[str, Any]] = []
    try:
        messages = await run_turn(
            on_new_message, sender, raw_text, input_channel, metadata or None, domain
        )
        for index, message in enumerate(messages):
            if message.get("buttons") and index == len(messages) - 1:
                messages[index] = await _with_question(questions, sender, message)
    finally:
        last = dict(messages[-1]) if messages else None
        if last is not None:
            last.pop("question", None)
        await questions.end_turn(sender, last)
    return messages


async def _with_question(
    questions: Questions, sender: str, message: Dict[str, Any]
) -> Dict[str, Any]:
    """The message with a fresh token when it has buttons (that question is now pending)."""
    message.pop("question", None)
    message["recipient_id"] = sender
    if message.get("buttons"):
        message["question"] = await questions.asked(sender, {"buttons": message["buttons"]})
    return message


async def handle_json_message(
    request: Request,
    on_new_message: OnNewMessage,
    input_channel: str,
    sender_check: Optional[Callable[[str], bool]] = None,
    extra_metadata: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
    state: Optional[StateHolder] = None,
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
    if state is not None:
        try:
            questions = Questions(await state.get(request.app))
            messages = await run_question_turn(
                questions,
                on_new_message,
                sender,
                text,
                input_channel,
                metadata,
                agent_domain(request),
            )
        except Exception:  # the channel state (Redis) failing: the busy answer, never a 5xx
            logger.exception("%s: channel state failed for %s", input_channel, sender)
            messages = [{"recipient_id": sender, "text": busy_text(agent_domain(request))}]
    else:
        messages = await run_turn(
            on_new_message, sender, text, input_channel, metadata, agent_domain(request)
        )
    return response.json(messages)
