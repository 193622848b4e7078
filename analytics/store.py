"""Where the analytics read events: a table ``events(id, sender_id, data)``, the schema of
Rasa's SQL event broker (``rasa/core/brokers/sql.py``), which the RabbitMQ consumer
(:mod:`analytics.consumer`) writes too.

* embedded default: the SQL broker of endpoints.yml (SQLite ``var/events.db``, next to the
  tracker store); the ops page uses the broker's own engine;
* production: ``ANALYTICS_DB_URL`` (e.g. ``postgresql://rasa@db/analytics``), the database
  the consumer fills from RabbitMQ.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

logger = logging.getLogger(__name__)

METADATA = sa.MetaData()
EVENTS = sa.Table(
    "events",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("data", sa.Text),
)


def engine_from_env() -> Optional[sa.engine.Engine]:
    url = os.environ.get("ANALYTICS_DB_URL", "")
    return sa.create_engine(url, pool_pre_ping=True) if url else None


def broker_engine(agent: Any) -> Optional[sa.engine.Engine]:
    """The engine of the SQL event broker the tracker store publishes to, if any."""
    store = getattr(agent, "tracker_store", None)
    for _ in range(4):  # Rasa wraps stores (AwaitableTrackerStore, FailSafeTrackerStore)
        inner = getattr(store, "_tracker_store", None)
        if inner is None:
            break
        store = inner
    broker = getattr(store, "event_broker", None)
    engine = getattr(broker, "engine", None)
    return engine if isinstance(engine, sa.engine.Engine) else None


def create_table(engine: sa.engine.Engine) -> None:
    METADATA.create_all(engine)


def load_events(engine: sa.engine.Engine, since: Optional[float] = None) -> List[Dict[str, Any]]:
    """Stored events in the order they were published; ``since`` (epoch seconds) keeps the
    conversations that have an event at or after it."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(EVENTS.c.data).order_by(EVENTS.c.id)).fetchall()
    events: List[Dict[str, Any]] = []
    for (data,) in rows:
        try:
            event = json.loads(data)
        except (TypeError, ValueError):
            logger.warning("analytics: skipped an event that is not JSON")
            continue
        if isinstance(event, dict):
            events.append(event)
    if since is None:
        return events
    recent = {e.get("sender_id") for e in events if float(e.get("timestamp") or 0) >= since}
    return [e for e in events if e.get("sender_id") in recent]


def insert_event(engine: sa.engine.Engine, body: bytes) -> bool:
    """Stores one published event (JSON with ``sender_id``); False when it is not one."""
    try:
        event = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(event, dict) or not isinstance(event.get("sender_id"), str):
        return False
    with engine.begin() as connection:
        connection.execute(
            EVENTS.insert().values(sender_id=event["sender_id"][:255], data=json.dumps(event))
        )
    return True


def senders_of_agent(
    engine: sa.engine.Engine, agent_id: str, prefix: str = "w-", limit: int = 20
) -> List[str]:
    """The conversations (``prefix`` senders, newest first) in which the proxy recorded
    ``agent_id`` on a user message (``metadata.agent_id``)."""
    query = (
        sa.select(EVENTS.c.sender_id, EVENTS.c.data)
        .where(EVENTS.c.sender_id.startswith(prefix, autoescape=True))
        .where(EVENTS.c.data.contains(agent_id, autoescape=True))
        .order_by(EVENTS.c.id.desc())
    )
    found: List[str] = []
    with engine.connect() as connection:
        for sender, data in connection.execute(query):
            if sender in found:
                continue
            try:
                event = json.loads(data)
            except (TypeError, ValueError):
                continue
            metadata = event.get("metadata") if isinstance(event, dict) else None
            if (
                event.get("event") == "user"
                and isinstance(metadata, dict)
                and metadata.get("agent_id") == agent_id
            ):
                found.append(sender)
                if len(found) >= limit:
                    break
    return found
