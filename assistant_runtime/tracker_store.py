"""A SQL tracker store (SQLite or PostgreSQL) that never falls back to memory silently.

Stock Rasa 3.6 wraps every tracker store in ``FailSafeTrackerStore``: when the database
errors, a save goes to an in-memory store and a read returns "no tracker", so the agent
silently continues in a fresh conversation that is lost at the next restart. And when
PostgreSQL is down at start, ``SQLTrackerStore`` retries every 5 s forever.

:class:`StrictSQLTrackerStore` (``type: assistant_runtime.tracker_store.StrictSQLTrackerStore``
in endpoints*.yml):

* at start waits at most ``connect_timeout`` seconds (endpoint key, default 30, or env
  ``TRACKER_DB_CONNECT_TIMEOUT``) for the database, then stops the server with an error
  naming it (``tracker store: cannot connect to PostgreSQL database 'x' at host:5432 …``);
* raises :class:`TrackerStoreUnavailable` when a read or a write fails; the runtime patches
  (:mod:`assistant_runtime.patches.store_loading`, :mod:`assistant_runtime.patches.agent_turn`)
  do not wrap it into the fail-safe store, answer the agent with the "system busy" message,
  log an error and report it on ``GET /health``;
* reconnects by itself when the database is back (``pool_pre_ping``);
* refuses to save a turn whose Redis lock lease may have expired
  (:func:`assistant_runtime.turns.check_lease_before_save`);
* publishes a save's new events to the event broker without reading the conversation again
  (:meth:`StrictSQLTrackerStore.stream_events`), all at once when the broker takes a batch
  (:class:`assistant_runtime.event_broker.BatchingSQLEventBroker`).
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import rasa.core.tracker_store as rasa_tracker_store
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, validate_port
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from assistant_runtime import turns
from assistant_runtime.health import STATUS
from assistant_runtime.patches import warn_unless_installed

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT_SECONDS = 30.0
# conversations whose stored-event count is remembered between a read and the next save
# (beyond it the counts are dropped; a save without one reads the conversation, as Rasa does)
MAX_REMEMBERED_COUNTS = 10_000
_DIALECT_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


class TrackerStoreUnavailable(RasaException):
    """The tracker store cannot read or write a conversation."""


def describe_database(
    dialect: str, host: Optional[str], port: Optional[int], db: str, username: Optional[str]
) -> str:
    """``PostgreSQL database 'x' at host:port as user 'u'`` (never the password)."""
    base = dialect.split("+")[0].lower()
    name = _DIALECT_NAMES.get(base, dialect)
    if base == "sqlite":
        return f"{name} database file '{db}'"
    where = f" at {host or 'localhost'}:{port or 5432}"
    who = f" as user '{username}'" if username else ""
    return f"{name} database '{db}'{where}{who}"


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class StrictSQLTrackerStore(SQLTrackerStore):
    engine: Any  # set by SQLTrackerStore.__init__ (declared for mypy)

    def __init__(
        self,
        domain: Optional[Any] = None,
        dialect: str = "sqlite",
        host: Optional[str] = None,
        port: Optional[int] = None,
        db: str = "rasa.db",
        username: Optional[str] = None,
        password: Optional[str] = None,
        event_broker: Optional[Any] = None,
        login_db: Optional[str] = None,
        query: Optional[Dict[str, Any]] = None,
        connect_timeout: Optional[float] = None,
        **kwargs: Any,
    ) -> None:
        warn_unless_installed("tracker store")
        port = validate_port(port)
        self.description = describe_database(dialect, host, port, db, username)
        query = dict(query or {})
        if dialect.lower().startswith("postgres"):
            query.setdefault("connect_timeout", "5")  # a blackholed host must not hang
        if dialect.lower() == "sqlite" and db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        timeout = float(
            connect_timeout
            if connect_timeout is not None
            else os.environ.get("TRACKER_DB_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT_SECONDS)
        )
        url = self.get_db_url(dialect, host, port, db, username, password, login_db, query)
        self._wait_for_database(url, timeout)
        super().__init__(
            domain=domain,
            dialect=dialect,
            host=host,
            port=port,
            db=db,
            username=username,
            password=password,
            event_broker=event_broker,
            login_db=login_db,
            query=query,
            **kwargs,
        )
        # Same engine, plus a liveness check of pooled connections: after a database
        # restart the first request must not fail on a dead connection.
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, pool_pre_ping=True, **rasa_tracker_store.create_engine_kwargs(url)
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._stored_event_counts: Dict[str, int] = {}
        STATUS.report("tracker_store", True)
        logger.info("tracker store: %s (strict, no in-memory fallback)", self.description)

    def _wait_for_database(self, url: Any, timeout: float) -> None:
        engine = sa.create_engine(url, **rasa_tracker_store.create_engine_kwargs(url))
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    with engine.connect() as connection:
                        connection.execute(sa.text("SELECT 1"))
                    return
                except sa.exc.SQLAlchemyError as error:
                    if time.monotonic() >= deadline:
                        message = (
                            f"tracker store: cannot connect to {self.description} "
                            f"(waited {timeout:g} s): {_first_line(error)}"
                        )
                        logger.critical(message)
                        STATUS.report("tracker_store", False, message)
                        raise TrackerStoreUnavailable(message) from None
                    logger.warning(
                        "tracker store: %s not reachable yet, retrying: %s",
                        self.description,
                        _first_line(error),
                    )
                    time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
        finally:
            engine.dispose()

    # -- health ---------------------------------------------------------------------------

    def ping(self) -> None:
        """Raises when the database does not answer (used by ``GET /health``)."""
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    # -- strict wrappers -----------------------------------------------------------------

    def _failed(self, operation: str, sender_id: Optional[str], error: Exception) -> Exception:
        who = f" of conversation '{sender_id}'" if sender_id else ""
        message = (
            f"tracker store: {operation}{who} failed on {self.description}: "
            f"{_first_line(error)}. Not falling back to memory; the agent was asked to "
            "resend."
        )
        if STATUS.report("tracker_store", False, message):
            logger.error(message)
        else:
            logger.warning(message)
        # The exception may reach an HTTP API answer: no host, port or user in it (the log
        # line above has them).
        return TrackerStoreUnavailable(f"tracker store unavailable: {operation}{who} failed")

    def _succeeded(self) -> None:
        if STATUS.report("tracker_store", True):
            logger.warning("tracker store: %s is reachable again", self.description)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        try:
            tracker = await super().retrieve(sender_id)
        except sa.exc.SQLAlchemyError as error:
            raise self._failed("read", sender_id, error) from error
        self._succeeded()
        if self.event_broker is not None:  # for stream_events
            if len(self._stored_event_counts) >= MAX_REMEMBERED_COUNTS:
                self._stored_event_counts.clear()
            self._stored_event_counts[sender_id] = len(tracker.events) if tracker else 0
        return tracker

    async def retrieve_full_tracker(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        try:
            tracker = await super().retrieve_full_tracker(conversation_id)
        except sa.exc.SQLAlchemyError as error:
            raise self._failed("read", conversation_id, error) from error
        self._succeeded()
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        # A turn whose lock lease may have passed to another instance is not saved (the
        # agent gets the busy answer); see assistant_runtime/turns.py.
        await turns.check_lease_before_save(tracker.sender_id)
        try:
            await super().save(tracker)
        except sa.exc.SQLAlchemyError as error:
            raise self._failed("save", tracker.sender_id, error) from error
        self._succeeded()

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publishes the events added since the conversation was read, as Rasa's
        ``TrackerStore.stream_events`` does, without reading it once more.

        Rasa reads the stored conversation again right before every save only to know how
        many of the tracker's events are stored already (``TrackerEventDiffEngine``: the
        events past that number are new). That number was known when the turn read the
        conversation (:meth:`retrieve`), and nothing can be stored for the conversation in
        between: Rasa holds its lock (lock store) from that read to the save. Each read
        serves one save; a save without a read of its own (a new conversation's second save
        in its first turn) reads the conversation as Rasa does.
        """
        if self.event_broker is None:
            return
        sender_id = tracker.sender_id
        stored = self._stored_event_counts.pop(sender_id, None)
        if stored is None:
            stored_tracker = await self.retrieve(sender_id)
            self._stored_event_counts.pop(sender_id, None)
            stored = len(stored_tracker.events) if stored_tracker else 0
        bodies: List[Dict[str, Any]] = []
        for event in itertools.islice(tracker.events, stored, len(tracker.events)):
            body: Dict[str, Any] = {"sender_id": sender_id}
            body.update(event.as_dict())
            bodies.append(body)
        publish_batch = getattr(self.event_broker, "publish_batch", None)
        if publish_batch is not None:
            publish_batch(bodies)
        else:
            for body in bodies:
                self.event_broker.publish(body)

    async def keys(self) -> Iterable[str]:
        try:
            keys = await super().keys()
        except sa.exc.SQLAlchemyError as error:
            raise self._failed("list", None, error) from error
        self._succeeded()
        return keys
