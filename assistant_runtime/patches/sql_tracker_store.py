"""Leaner reads and writes of Rasa's SQL tracker store (SQLite and PostgreSQL); SQLite in WAL mode.

Speed only, same answers (docs/benchmarks.md); selected by ``ASSISTANT_SPEEDUPS``.

``sqlfetch`` -- read only the event data when loading a conversation.
    ``SQLTrackerStore._retrieve`` builds an ORM query per read and loads every event row as
    an ORM object (all seven columns) only to read its ``data`` column; the patch runs the
    same query (same filters, latest session, order) as a Core statement built once per
    store, selecting ``data`` alone. The strict store of ``assistant_runtime`` inherits it.

``sqlinsert`` -- store a turn's events with one Core ``INSERT``.
    ``SQLTrackerStore.save`` adds one ORM object per new event and lets the session's unit
    of work flush them; the patch sends the same rows (same columns and values, same order)
    as one executemany ``INSERT`` in the same transaction.

``savecount`` -- count the stored events when reading them, not again when saving.
    ``SQLTrackerStore.save`` stores only the events added since the conversation was read:
    ``_additional_events`` runs a ``COUNT`` over the latest session's events (the same query
    as reading, with its sub-query) before every save -- 6 % of the server's CPU. With
    ``sqlfetch`` installed, reading the latest session already returns those rows, so their
    number is kept per conversation and used (once) by the next save of that conversation.
    That is exact because Rasa holds the conversation's lock (lock store; Redis when
    several instances share the database) from reading the tracker to saving it, so nobody
    else can add rows in between. A save without a preceding read (the HTTP API, a second
    save in one turn, a failed save) counts in the database as Rasa does. With ``sqlinsert``
    a save that has no new event sends nothing to the database (every turn has new events).

``sqlitewal`` -- SQLite tracker store: WAL journal, pooled connections.
    With SQLAlchemy 1.4 every read and every save of a conversation opens a new connection
    to the SQLite file, and every save commits in SQLite's default rollback-journal mode
    with ``synchronous=FULL``: several fsyncs per message, done inside the server's event
    loop (the SQL tracker store is synchronous), so every other conversation waits too. The
    patch keeps connections in a pool and sets ``journal_mode=WAL`` with
    ``synchronous=NORMAL`` on every SQLite connection: a commit appends to the WAL without
    an fsync. Trade-off: after an operating-system crash or power loss the last commits may
    be lost (the file stays consistent); after a crash or restart of the server nothing is
    lost. PostgreSQL (``endpoints.production.yml``) is untouched.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from assistant_runtime.patches.book import Patcher

# --- sqlfetch ------------------------------------------------------------------------------


def _event_statement(store: Any, fetch_events_from_all_sessions: bool) -> Any:
    """Rasa's ``_event_query`` as one SQLAlchemy Core statement, built once per store.

    Same filters and order: the events of ``:sender_id`` ordered by id; for the latest
    session only, those at or after its last ``session_started`` event (all events when
    there is none). Rasa joins a one-row aggregate sub-query; a scalar sub-query of the same
    aggregate selects the same rows."""
    import sqlalchemy as sa
    from rasa.shared.core.events import SessionStarted

    cache = store.__dict__.setdefault("_patch_event_statements", {})
    statement = cache.get(fetch_events_from_all_sessions)
    if statement is None:
        table = store.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        statement = sa.select(table.c.data).where(table.c.sender_id == sender)
        if not fetch_events_from_all_sessions:
            session_start = (
                sa.select(sa.func.max(table.c.timestamp))
                .where(table.c.sender_id == sender, table.c.type_name == SessionStarted.type_name)
                .scalar_subquery()
            )
            statement = statement.where(
                sa.or_(table.c.timestamp >= session_start, session_start.is_(None))
            )
        statement = statement.order_by(table.c.id)
        cache[fetch_events_from_all_sessions] = statement
    return statement


def install_sql_data_fetch(patcher: Patcher) -> None:
    import json

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    async def _retrieve(
        self: Any, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        statement = _event_statement(self, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            rows = session.execute(statement, {"sender_id": sender_id}).all()
            events = [json.loads(data) for (data,) in rows]
        if not fetch_events_from_all_sessions:
            # for ``savecount``: the rows of the latest session are what save would count
            self.__dict__.setdefault(_STORED_COUNTS, {})[sender_id] = len(rows)
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    patcher.replace(SQLTrackerStore, "_retrieve", _retrieve)


# --- sqlinsert -----------------------------------------------------------------------------


def install_sql_bulk_insert(patcher: Patcher) -> None:
    import json

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    async def save(self: Any, tracker: Any) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {})
                        .get("intent", {})
                        .get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:  # one INSERT with the rows in order, as the ORM flush would send them
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()

    patcher.replace(SQLTrackerStore, "save", save)


# --- savecount -----------------------------------------------------------------------------

_STORED_COUNTS = "_patch_stored_event_counts"


def install_save_with_counted_events(patcher: Patcher) -> None:
    import itertools

    from rasa.core.tracker_store import SQLTrackerStore

    original = SQLTrackerStore._additional_events

    def _additional_events(self: Any, session: Any, tracker: Any) -> Any:
        stored = self.__dict__.get(_STORED_COUNTS, {}).pop(tracker.sender_id, None)
        if stored is None:
            return original(self, session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    patcher.replace(SQLTrackerStore, "_additional_events", _additional_events)


# --- sqlitewal -----------------------------------------------------------------------------


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def install_sqlite_wal(patcher: Patcher) -> None:
    import rasa.core.tracker_store as rasa_stores
    import sqlalchemy as sa
    from sqlalchemy.pool import QueuePool

    original = rasa_stores.create_engine_kwargs

    def create_engine_kwargs(url: Any) -> Dict[str, Any]:
        kwargs = dict(original(url))
        parsed = sa.engine.make_url(str(url)) if isinstance(url, str) else url
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            # keep connections open (SQLAlchemy 1.4 opens a new one per session for SQLite
            # files, and closing the last one checkpoints the WAL with an fsync)
            kwargs.setdefault("poolclass", QueuePool)
            kwargs.setdefault("connect_args", {"check_same_thread": False})
        return kwargs

    # the strict store of assistant_runtime looks it up on Rasa's module too
    patcher.replace(rasa_stores, "create_engine_kwargs", create_engine_kwargs)
    patcher.listen(sa.engine.Engine, "connect", _on_sqlite_connect)


INSTALLERS: Dict[str, Callable[[Patcher], None]] = {
    "sqlfetch": install_sql_data_fetch,
    "sqlinsert": install_sql_bulk_insert,
    "savecount": install_save_with_counted_events,
    "sqlitewal": install_sqlite_wal,
}
