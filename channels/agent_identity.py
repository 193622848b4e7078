"""The agent behind the proxy: who sent a REST or widget message.

In the team deployment (README "Running on a VM", ``make cluster``) nginx authenticates the
agent (htpasswd, or the company SSO through ``auth_request``) and passes the agent id in
``X-Agent-Id`` together with a secret shared only with the assistant in
``X-Agent-Proxy-Secret``. nginx sets both headers itself, so a client's own copies never
arrive. The assistant believes ``X-Agent-Id`` only with the right secret:

* ``AGENT_PROXY_SECRET`` unset (``make run``, one agent on localhost): no agent id is taken
  from anyone; the headers are ignored;
* ``AGENT_PROXY_SECRET`` set: the REST and widget webhooks answer 403 without the right
  secret (a request that went around the proxy) or without a valid agent id, and the agent
  id is stored with each message (``metadata.agent_id`` of the user event in the tracker).

An ``agent_id`` a client puts in the request's own ``metadata`` is always dropped. Behind the
proxy, an agent reads back (widget history) only conversations no other agent wrote in.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Mapping, Optional, Set

logger = logging.getLogger(__name__)

SECRET_ENV = "AGENT_PROXY_SECRET"
AGENT_HEADER = "X-Agent-Id"
SECRET_HEADER = "X-Agent-Proxy-Secret"
METADATA_KEY = "agent_id"
# user names of htpasswd files and of SSO accounts (e-mail style included)
AGENT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")

REFUSED_TEXT = "Akses ditolak: buka asisten melalui alamat tim (login agen)."
OTHER_AGENT_TEXT = "Percakapan ini milik agen lain."


@dataclass(frozen=True)
class Identity:
    agent_id: Optional[str] = None
    refused: bool = False


def identify(headers: Mapping[str, str], secret: Optional[str] = None) -> Identity:
    """The agent of a request, from the proxy's headers; ``secret`` defaults to
    ``AGENT_PROXY_SECRET``."""
    expected = os.environ.get(SECRET_ENV, "") if secret is None else secret
    if not expected:
        return Identity()
    given = headers.get(SECRET_HEADER) or ""
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        logger.warning("agent identity: request without the proxy secret refused")
        return Identity(refused=True)
    agent = (headers.get(AGENT_HEADER) or "").strip()
    if not AGENT_ID_RE.fullmatch(agent):
        logger.warning("agent identity: the proxy sent no valid agent id; refused")
        return Identity(refused=True)
    return Identity(agent_id=agent)


def stamp(metadata: Optional[Dict[str, Any]], identity: Identity) -> Optional[Dict[str, Any]]:
    """``metadata`` without a client's own ``agent_id``, plus the proxy's one when known."""
    cleaned = {k: v for k, v in (metadata or {}).items() if k != METADATA_KEY}
    if identity.agent_id:
        cleaned[METADATA_KEY] = identity.agent_id
    return cleaned or None


def agents_of(events: Iterable[Dict[str, Any]]) -> Set[str]:
    """The agents recorded on the user messages of a conversation's events."""
    agents = set()
    for event in events:
        metadata = event.get("metadata") if event.get("event") == "user" else None
        if isinstance(metadata, dict) and isinstance(metadata.get(METADATA_KEY), str):
            agents.add(metadata[METADATA_KEY])
    return agents


def may_read(identity: Identity, events: Iterable[Dict[str, Any]]) -> bool:
    """Without a proxy anyone on the machine may; behind it, only when no other agent wrote
    in the conversation."""
    if identity.agent_id is None:
        return True
    return agents_of(events) <= {identity.agent_id}
