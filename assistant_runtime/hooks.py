"""Runtime hooks on Rasa 3.6.21 internals: what the agent sees when a dependency fails.

Stock behaviour (rasa/core/processor.py ``MessageProcessor._run_action``): when a custom
action fails (action server down, 5xx, or no answer within 300 s), the exception is logged,
"the action's events are lost", and the turn goes on as if the action had run. Through REST
the agent gets HTTP 200 with an empty list, and the form may be left half-updated.

With :func:`install`:

* every call to the action server (``RemoteAction.run``: custom actions, the form's
  validation and ask actions) times out after the action endpoint's ``timeout`` (seconds,
  endpoints*.yml, default :data:`DEFAULT_ACTION_TIMEOUT_SECONDS`) instead of 300 s;
* when a call fails (refused, timed out, 5xx, invalid answer) the turn is undone (every
  slot and the active form are put back as before the message), the agent gets the
  domain response ``utter_action_unavailable`` ("Maaf, sistem sedang sibuk. Coba kirim lagi
  sebentar lagi."), the bot listens again, and an error is logged; once the action server
  is back, the agent resends the message and the conversation continues;
* a tracker store or lock store failure (:mod:`assistant_runtime.tracker_store`,
  :mod:`assistant_runtime.lock_store`) is not wrapped into Rasa's fail-safe in-memory store;
  the agent gets the same busy answer (HTTP 200, never 5xx) and nothing else of that turn
  (it was not saved), the error is logged and ``GET /health`` reports it;
* one truth per turn (:mod:`assistant_runtime.turns`): a resend of a message already
  processed (same client message id, or same text while its reply may not have been
  delivered) is answered with the saved reply instead of running again;
* a tracker store ``type`` that cannot be imported stops the server instead of silently
  using the in-memory store;
* ``GET /health`` is added to the Rasa server (:mod:`assistant_runtime.health`) and every
  log handler, including the ones Sanic adds, gets the masking filter;
* the speed patches of :mod:`assistant_runtime.speedups` are installed (same answers, a
  third of the server's CPU per message; ``ASSISTANT_SPEEDUPS=none`` leaves them out).

:func:`install` is idempotent. Only the server entry point (``python -m assistant_runtime``)
installs it, before Rasa starts; building a store patches nothing (the strict stores log a
warning when they run without the hooks, e.g. under plain ``rasa run``). Every patched Rasa
attribute is registered in :mod:`assistant_runtime.rasa_seam`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

from rasa.shared.exceptions import RasaException

from assistant_runtime import turns
from assistant_runtime.busy import BUSY_RESPONSE, busy_text
from assistant_runtime.health import STATUS
from assistant_runtime.rasa_seam import PatchBook

logger = logging.getLogger(__name__)

DEFAULT_ACTION_TIMEOUT_SECONDS = 10.0

_installed: Dict[str, bool] = {}
_book = PatchBook()  # every Rasa patch is also registered in rasa_seam.PATCHES
_originals = _book.originals  # (owner, attribute, original value)
_replace = _book.replace


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


def _patch_remote_action() -> None:
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

    _replace(RemoteAction, "run", run)


class _GuardedAction:
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


def _patch_processor() -> None:
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
        guarded = _GuardedAction(action)
        should_continue = await original_run_action(
            self, guarded, tracker, output_channel, nlg, prediction
        )
        if guarded.unavailable is not None:
            return False  # the turn was undone: stop predicting, wait for the agent
        return bool(should_continue)

    _replace(MessageProcessor, "_run_action", _run_action)


def _store_errors() -> tuple:  # type: ignore[type-arg]
    import redis
    from rasa.core.lock_store import LockError

    from assistant_runtime.tracker_store import TrackerStoreUnavailable

    return (TrackerStoreUnavailable, LockError, redis.exceptions.RedisError)


def _patch_agent() -> None:
    import rasa
    from rasa.core.agent import Agent

    if not rasa.__version__.startswith("3.6."):
        raise RuntimeError(
            f"assistant_runtime.hooks: Agent.handle_message is replaced for Rasa 3.6, "
            f"found {rasa.__version__}; check rasa/core/agent.py and update the hook"
        )

    original_create = Agent._create_tracker_store
    original_handle = Agent.handle_message

    def _create_tracker_store(store: Any, domain: Any) -> Any:
        from assistant_runtime.tracker_store import StrictSQLTrackerStore

        if isinstance(store, StrictSQLTrackerStore):
            store.domain = domain
            return store  # no FailSafeTrackerStore: failures must surface
        return original_create(store, domain)

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

    _replace(Agent, "_create_tracker_store", staticmethod(_create_tracker_store))
    _replace(Agent, "handle_message", handle_message)


async def send_busy(output_channel: Any, recipient_id: str, domain: Any = None) -> None:
    """Sends the busy message on an output channel (never raises)."""
    if output_channel is None:
        return
    try:
        await output_channel.send_text_message(recipient_id, busy_text(domain))
    except Exception:
        logger.exception("could not send the busy message to '%s'", recipient_id)


def _patch_custom_store_loading() -> None:
    import rasa.core.tracker_store as tracker_store_module
    import rasa.shared.utils.common

    def _load_from_module_name_in_endpoint_config(
        domain: Any, store: Any, event_broker: Any = None
    ) -> Any:
        try:
            store_class = rasa.shared.utils.common.class_from_module_path(store.type)
        except (AttributeError, ImportError) as error:
            raise RasaException(
                f"tracker store: type '{store.type}' cannot be imported ({error}); "
                "refusing to fall back to the in-memory store. Start the server from the "
                "project root (PYTHONPATH) or fix the endpoints file."
            ) from error
        return store_class(host=store.url, domain=domain, event_broker=event_broker, **store.kwargs)

    _replace(
        tracker_store_module,
        "_load_from_module_name_in_endpoint_config",
        _load_from_module_name_in_endpoint_config,
    )


def _patch_root_route() -> None:
    import rasa.server

    from analytics.ops import add_ops_routes
    from assistant_runtime.health import add_health_route
    from assistant_runtime.masking import protect_all_handlers

    original_add_root_route = rasa.server.add_root_route

    async def _protect_logging(app: Any, loop: Any) -> None:
        protect_all_handlers()

    def add_root_route(app: Any) -> None:
        original_add_root_route(app)
        add_health_route(app)
        add_ops_routes(app)  # the TLs' ops page (analytics/ops.py)
        app.register_listener(_protect_logging, "before_server_start")

    _replace(rasa.server, "add_root_route", add_root_route)


def is_installed() -> bool:
    return bool(_installed.get("all"))


def install() -> None:
    """Installs every hook once per process."""
    if _installed.get("all"):
        return
    from assistant_runtime.rasa_seam import check_rasa_version

    check_rasa_version()  # every patch below is written for the pinned Rasa only
    _installed["all"] = True
    from assistant_runtime.masking import install_record_factory

    _originals.append((logging, "_assistant_record_factory", logging.getLogRecordFactory()))
    install_record_factory()
    _patch_remote_action()
    _patch_processor()
    _patch_agent()
    _patch_custom_store_loading()
    _patch_root_route()
    from assistant_runtime import speedups

    # speed only, same behaviour (docs/benchmarks.md); ASSISTANT_SPEEDUPS=none turns them off
    installed = speedups.install()
    logger.debug("assistant_runtime hooks installed (speedups: %s)", ",".join(installed) or "none")


def uninstall() -> None:
    """Restores Rasa as it was (for tests that run in one process with other tests)."""
    while _originals:
        owner, attribute, original = _originals.pop()
        if attribute == "_assistant_record_factory":
            logging.setLogRecordFactory(original)
        else:
            setattr(owner, attribute, original)
    _installed.clear()
    from assistant_runtime import speedups

    speedups.uninstall()
