"""Health of the Rasa server's dependencies and its ``GET /health`` route.

The stores and the action-call hook report here what they saw last (:data:`STATUS`); the
route also checks each dependency live, all at once, each within
:data:`CHECK_TIMEOUT_SECONDS` (a store that does not answer in time is ``slow``), so the
route answers within a second even when a store hangs:

* ``tracker_store``: one ``SELECT 1`` (SQLite or PostgreSQL);
* ``lock_store``: ``PING`` when it is Redis (``in_memory`` otherwise);
* ``action_server``: ``GET /health`` of the action server;
* ``model``: a model is loaded.

HTTP 200 ``{"status": "ok"}`` when all are fine; 200 ``"degraded"`` when only the action
server is unavailable (the server still answers, with the "system busy" message); 503
``"failing"`` when a store is down or slow, or no model is loaded. The body names components and
states only, never hosts, ports or credentials.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 0.8  # each check; /health answers within a second


@dataclass
class ComponentState:
    ok: Optional[bool] = None  # None: not used yet
    since: float = field(default_factory=time.time)
    detail: str = ""


class RuntimeStatus:
    """Last seen state of each dependency (thread-safe, process-wide)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: Dict[str, ComponentState] = {}

    def report(self, component: str, ok: bool, detail: str = "") -> bool:
        """Records a state; returns True when it changed (callers log only changes)."""
        with self._lock:
            old = self._states.get(component)
            changed = old is None or old.ok != ok
            if changed:
                self._states[component] = ComponentState(ok=ok, detail=detail)
            elif not ok and old is not None:
                old.detail = detail
            return changed

    def get(self, component: str) -> ComponentState:
        with self._lock:
            return self._states.get(component, ComponentState())

    def snapshot(self) -> Dict[str, Dict[str, Any]]:
        with self._lock:
            return {
                name: {"ok": s.ok, "since": round(s.since, 3), "detail": s.detail}
                for name, s in self._states.items()
            }


STATUS = RuntimeStatus()


async def _run_check(check: Callable[[], Any]) -> Tuple[str, str]:
    """Runs a blocking check in a thread of its own; ``("ok" | "down" | "slow", reason)``.

    A thread per check, not a shared pool: a frozen store keeps its thread until the
    store's socket timeout, and must not delay the next health check or any other work.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()  # type: ignore[type-arg]

    def deliver(result: Optional[BaseException]) -> None:
        if not future.done():
            future.set_result(result)

    def target() -> None:
        try:
            check()
            result: Optional[BaseException] = None
        except Exception as error:  # any failure of the dependency is reported, not raised
            result = error
        try:
            loop.call_soon_threadsafe(deliver, result)
        except RuntimeError:  # the loop closed meanwhile
            pass

    threading.Thread(target=target, name="health-check", daemon=True).start()
    try:
        error = await asyncio.wait_for(asyncio.shield(future), CHECK_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        return "slow", f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    if error is None:
        return "ok", ""
    return "down", f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def _underlying(store: Any) -> Any:
    """The real store behind Rasa's wrappers (FailSafe / Awaitable)."""
    for attribute in ("_tracker_store",):
        inner = getattr(store, attribute, None)
        if inner is not None:
            return _underlying(inner)
    return store


async def check_tracker_store(agent: Any) -> Dict[str, Any]:
    store = _underlying(getattr(agent, "tracker_store", None))
    ping = getattr(store, "ping", None)
    if ping is None:
        return {"state": "unchecked", "type": type(store).__name__}
    state, reason = await _run_check(ping)
    STATUS.report("tracker_store", state == "ok", reason)
    return {"state": state, "type": type(store).__name__}


async def check_lock_store(agent: Any) -> Dict[str, Any]:
    store = getattr(agent, "lock_store", None)
    red = getattr(store, "red", None)
    if red is None:
        return {"state": "ok", "type": type(store).__name__}
    state, reason = await _run_check(red.ping)
    STATUS.report("lock_store", state == "ok", reason)
    return {"state": state, "type": type(store).__name__}


async def check_action_server(agent: Any) -> Dict[str, Any]:
    endpoint = getattr(agent, "action_endpoint", None)
    url = getattr(endpoint, "url", None)
    if not url:
        return {"state": "not_configured"}
    import aiohttp

    health_url = url.rsplit("/webhook", 1)[0].rstrip("/") + "/health"
    try:
        timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(health_url) as response:
                ok = response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        ok = False
    STATUS.report("action_server", ok, "" if ok else "health check failed")
    return {"state": "ok" if ok else "unavailable"}


async def health_report(agent: Any) -> Dict[str, Any]:
    model_ready = bool(agent is not None and agent.is_ready())
    checks: Dict[str, Any] = {"model": {"state": "ok" if model_ready else "not_loaded"}}
    if agent is not None:
        # at once, each bounded: the answer comes within about CHECK_TIMEOUT_SECONDS
        tracker, lock, action = await asyncio.gather(
            check_tracker_store(agent), check_lock_store(agent), check_action_server(agent)
        )
        checks.update(tracker_store=tracker, lock_store=lock, action_server=action)
    failing = not model_ready or any(
        checks.get(name, {}).get("state") in ("down", "slow")
        for name in ("tracker_store", "lock_store")
    )
    degraded = checks.get("action_server", {}).get("state") == "unavailable"
    status = "failing" if failing else "degraded" if degraded else "ok"
    return {"status": status, "checks": checks}


def add_health_route(routes: Any) -> None:
    """Adds ``GET /health`` to a Sanic app or blueprint (:mod:`assistant_runtime.routes`)."""
    from sanic import response

    @routes.get("/health")
    async def health(request: Any) -> Any:
        agent = getattr(request.app.ctx, "agent", None)
        report = await health_report(agent)
        return response.json(report, status=503 if report["status"] == "failing" else 200)
