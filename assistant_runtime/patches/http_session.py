"""Kept-alive HTTP sessions to the action server.

Speed only, same answers (docs/benchmarks.md); selected by ``ASSISTANT_SPEEDUPS``.

``keepalive`` -- reuse HTTP connections to the action server.
    ``EndpointConfig.request`` (rasa/utils/endpoints.py) does ``async with self.session()``:
    a new ``aiohttp.ClientSession`` (new connector, new TCP connection) for every call, i.e.
    two per form turn of this assistant (validation action + ask action). The patch makes
    ``EndpointConfig.session()`` hand out one shared session per event loop and endpoint
    (same headers, basic auth and 300 s total timeout as Rasa's), wrapped so that the
    ``async with`` around it leaves it open, and encoding request bodies with ujson
    (:func:`fast_json_dumps`: the same JSON value, 5 % of the server's CPU less). Idle
    connections are dropped after :data:`IDLE_SECONDS`, below the action server's 5 s
    keep-alive (Sanic's default), so a connection the server is closing is never picked.
    Rasa's ``close_resources`` listener (after the server stops) closes the shared sessions.
    URLs, timeouts and error handling are unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, Tuple

from assistant_runtime.patches.book import Patcher

IDLE_SECONDS = 2.0
# (id of the event loop, endpoint key) -> (the loop, its session)
_sessions: Dict[Tuple[int, str], Tuple[Any, Any]] = {}


class _BorrowedSession:
    """``async with`` yields the shared session and leaves it open afterwards."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:  # anything else goes to the real session
        return getattr(self._session, name)


def _endpoint_key(endpoint: Any) -> str:
    auth = endpoint.basic_auth or {}
    headers = sorted((str(k), str(v)) for k, v in (endpoint.headers or {}).items())
    return repr((endpoint.url, headers, auth.get("username"), auth.get("password")))


def fast_json_dumps(value: Any) -> str:
    """JSON text of an action call: ujson (a dependency of Rasa and Sanic), else ``json``.

    Encoding the tracker for the action server with the standard library took 5 % of the
    server's CPU. The action server parses the text back, so only the parsed value must be
    equal: ``/`` is left unescaped, and anything ujson refuses (NaN, objects it does not
    know) goes to ``json.dumps`` as before. (ujson also writes ``Decimal`` as a number where
    ``json`` refuses it; a tracker's state never holds one.)"""
    import json

    try:
        import ujson

        return str(ujson.dumps(value, escape_forward_slashes=False))
    except (ImportError, TypeError, OverflowError, ValueError):
        return json.dumps(value)


def shared_session(endpoint: Any) -> Any:
    """The open session of the running loop for ``endpoint``, created on first use."""
    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT

    loop = asyncio.get_running_loop()
    key = (id(loop), _endpoint_key(endpoint))
    owner, session = _sessions.get(key, (None, None))
    if session is None or session.closed or owner is not loop:
        auth = None
        if endpoint.basic_auth:
            auth = aiohttp.BasicAuth(
                endpoint.basic_auth["username"], endpoint.basic_auth["password"]
            )
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_SECONDS),
            json_serialize=fast_json_dumps,
        )
        _sessions[key] = (loop, session)
    return session


async def close_sessions() -> None:
    """Closes the shared sessions of the running loop."""
    loop = asyncio.get_running_loop()
    for key in [k for k in _sessions if k[0] == id(loop)]:
        _, session = _sessions.pop(key)
        if not session.closed:
            await session.close()


def install_keepalive(patcher: Patcher) -> None:
    import rasa.core.run
    from rasa.utils.endpoints import EndpointConfig

    def session(self: EndpointConfig) -> Any:
        return _BorrowedSession(shared_session(self))

    original_close = rasa.core.run.close_resources

    async def close_resources(app: Any, loop: Any) -> None:
        await close_sessions()
        await original_close(app, loop)

    patcher.replace(EndpointConfig, "session", session)
    # serve_application looks the listener up by name when it registers it
    patcher.replace(rasa.core.run, "close_resources", close_resources)


INSTALLERS: Dict[str, Callable[[Patcher], None]] = {
    "keepalive": install_keepalive,
}
