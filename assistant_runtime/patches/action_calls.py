"""A failed or slow call to the action server: a busy answer and the turn undone.

Stock Rasa 3.6 (``MessageProcessor._run_action``): when a custom action fails (action server
down, 5xx, or no answer within 300 s), the exception is logged, "the action's events are
lost", and the turn goes on as if the action had run. Through REST the agent gets HTTP 200
with an empty list, and the form may be left half-updated.

``busy-action-server`` (``RemoteAction.run``): every call to the action server (custom
actions, the form's validation and ask actions) times out after the action endpoint's
``timeout`` (seconds, endpoints*.yml, default :data:`DEFAULT_ACTION_TIMEOUT_SECONDS`)
instead of 300 s; a refused, timed out, 5xx or invalid answer raises
:class:`ActionServerUnavailable` and is reported on ``GET /health``.

``guarded-action`` (``MessageProcessor._run_action``): an action that raised
:class:`ActionServerUnavailable` ends the turn: every slot and the active form are put back
as before the message, the agent gets ``utter_action_unavailable`` ("Maaf, sistem sedang
sibuk. Coba kirim lagi sebentar lagi."), the bot listens again, and an error is logged; once
the action server is back, the agent resends the message and the conversation continues.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Dict, List, Optional

from rasa.shared.exceptions import RasaException

from assistant_runtime.busy import BUSY_RESPONSE, busy_text
from assistant_runtime.health import STATUS
from assistant_runtime.patches.book import Patcher

logger = logging.getLogger(__name__)

DEFAULT_ACTION_TIMEOUT_SECONDS = 10.0


class ActionServerUnavailable(RasaException):
    """A call to the action server failed (refused, timed out, 5xx or invalid answer)."""

    def __init__(self, action_name: str, reason: str) -> None:
        self.action_name = action_name
        self.reason = reason
        super().__init__(f"action server unavailable for '{action_name}': {reason}")


def action_timeout(endpoint: Any) -> float:
    """The action endpoint's ``timeout`` key (seconds) or the default."""
    value = (getattr(endpoint, "kwargs", None) or {}).get("timeout")
    try:
        return float(value) if value not in (None, "") else DEFAULT_ACTION_TIMEOUT_SECONDS
    except (TypeError, ValueError):
        logger.warning("action_endpoint timeout %r is not a number; using the default", value)
        return DEFAULT_ACTION_TIMEOUT_SECONDS


def _report_action_server(ok: bool, detail: str = "") -> None:
    if STATUS.report("action_server", ok, detail) and ok:
        logger.warning("action server is reachable again")


def install_busy_action_server(patcher: Patcher) -> None:
    import aiohttp
    import jsonschema
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

    original_run = RemoteAction.run

    async def run(
        self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any
    ) -> List[Any]:
        timeout = action_timeout(self.action_endpoint)
        try:
            events = await asyncio.wait_for(
                original_run(self, output_channel, nlg, tracker, domain), timeout
            )
        except ActionExecutionRejection:
            raise  # the action answered "rejected" (HTTP 400): normal form behaviour
        except asyncio.TimeoutError:
            reason = f"no answer within {timeout:g} s"
            _report_action_server(False, reason)
            raise ActionServerUnavailable(self.name(), reason) from None
        except (RasaException, aiohttp.ClientError, OSError, jsonschema.ValidationError) as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            _report_action_server(False, reason)
            raise ActionServerUnavailable(self.name(), reason) from e
        _report_action_server(True)
        return list(events)

    patcher.replace(RemoteAction, "run", run)


class GuardedAction:
    """Wraps the action the processor runs; turns :class:`ActionServerUnavailable` into
    "undo the turn's slot changes, busy message, listen" and remembers that it happened."""

    def __init__(self, action: Any) -> None:
        self._action = action
        self.unavailable: Optional[ActionServerUnavailable] = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._action, name)

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
        from rasa.shared.core.constants import ACTION_LISTEN_NAME
        from rasa.shared.core.events import ActionExecuted

        try:
            return list(await self._action.run(output_channel, nlg, tracker, domain) or [])
        except ActionServerUnavailable as error:
            self.unavailable = error
            logger.error(
                "conversation '%s': %s. The turn was undone and the agent asked to resend.",
                tracker.sender_id,
                error,
            )
            busy = await busy_utterance(nlg, tracker, output_channel, domain)
            return [*undo_turn_events(tracker, domain), busy, ActionExecuted(ACTION_LISTEN_NAME)]


def undo_turn_events(tracker: Any, domain: Any) -> List[Any]:
    """Events that put slots and the active form back to where they were before the latest
    user message (the message stays in the history: it was sent).

    Rasa's ``UserUtteranceReverted`` is not used: inside a form, Rasa's applied-events view
    drops the user events between two form executions, so a revert would rewind to an
    earlier message and wipe the form.
    """
    from rasa.shared.core.events import ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if isinstance(e, UserUttered)), default=None)
    if last_user is None:
        return []
    before = DialogueStateTracker.from_events(
        tracker.sender_id, events[:last_user], slots=domain.slots
    )
    now, then = tracker.current_slot_values(), before.current_slot_values()
    undo: List[Any] = [
        SlotSet(name, then.get(name)) for name in now if now.get(name) != then.get(name)
    ]
    if before.active_loop_name != tracker.active_loop_name:
        undo.append(ActiveLoop(before.active_loop_name))
    return undo


async def busy_utterance(nlg: Any, tracker: Any, output_channel: Any, domain: Any) -> Any:
    """``BotUttered`` with ``utter_action_unavailable`` (or the built-in text)."""
    from rasa.core.actions.action import create_bot_utterance

    draft: Optional[Dict[str, Any]] = None
    try:
        draft = await nlg.generate(BUSY_RESPONSE, tracker, output_channel.name())
    except Exception:  # the busy answer must never fail itself
        logger.exception("could not render %s", BUSY_RESPONSE)
    if not draft or not draft.get("text"):
        draft = {"text": busy_text(domain)}
    draft["utter_action"] = BUSY_RESPONSE
    return create_bot_utterance(draft)


def install_guarded_action(patcher: Patcher) -> None:
    from rasa.core.processor import MessageProcessor

    original_run_action = MessageProcessor._run_action

    async def _run_action(
        self: MessageProcessor,
        action: Any,
        tracker: Any,
        output_channel: Any,
        nlg: Any,
        prediction: Any,
    ) -> bool:
        guarded = GuardedAction(action)
        should_continue = await original_run_action(
            self, guarded, tracker, output_channel, nlg, prediction
        )
        if guarded.unavailable is not None:
            return False  # the turn was undone: stop predicting, wait for the agent
        return bool(should_continue)

    patcher.replace(MessageProcessor, "_run_action", _run_action)


INSTALLERS: Dict[str, Callable[[Patcher], None]] = {
    "busy-action-server": install_busy_action_server,
    "guarded-action": install_guarded_action,
}
