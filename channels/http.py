"""A small JSON-over-HTTP client for the Bot API / Graph API calls of the connectors.

One ``aiohttp.ClientSession`` per event loop (Sanic's), created on first use. Errors are
logged and returned as ``None``: a failed send must not turn the webhook into a 5xx (the
platform would then deliver the same update again and again).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional

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
        try:
            async with self._current_session().post(url, json=payload) as resp:
                body = await resp.text()
                if resp.status >= 400:
                    logger.error("%s failed: HTTP %s %s", what, resp.status, body[:500])
                    return None
                try:
                    return await resp.json(content_type=None)
                except ValueError:
                    return body
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error("%s failed: %s", what, error)
            return None

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
