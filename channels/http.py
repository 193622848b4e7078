"""A small JSON-over-HTTP client for the Bot API / Graph API calls of the connectors.

One ``aiohttp.ClientSession`` per event loop (Sanic's), created on first use. Errors are
logged and returned as ``None``: a failed send must not turn the webhook into a 5xx (the
platform would then deliver the same update again and again).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, Optional, Tuple

import aiohttp

logger = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=20)


class JsonClient:
    def __init__(self, headers: Optional[Dict[str, str]] = None) -> None:
        self.headers = dict(headers or {})
        self._session: Optional[aiohttp.ClientSession] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def _current_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT, headers=self.headers)
            self._loop = loop
        return self._session

    async def post(self, url: str, payload: Dict[str, Any], what: str) -> Optional[Any]:
        """POSTs JSON; returns the decoded JSON answer, or None after logging a failure."""
        status, answer = await self.post_status(url, payload, what)
        return answer if 0 < status < 400 else None

    async def post_status(
        self, url: str, payload: Dict[str, Any], what: str, log_errors: bool = True
    ) -> Tuple[int, Optional[Any]]:
        """POSTs JSON; returns (HTTP status, decoded answer); status 0 when no answer came.
        Error answers are returned too (rate limits tell how long to wait)."""
        try:
            async with self._current_session().post(url, json=payload) as resp:
                body = await resp.text()
                if resp.status >= 400 and log_errors:
                    logger.error("%s failed: HTTP %s %s", what, resp.status, body[:500])
                try:
                    return resp.status, json.loads(body)
                except ValueError:
                    return resp.status, body
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error("%s failed: %s", what, error)
            return 0, None

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
