"""Rasa's SQL event broker, writing the events of one save in one transaction.

Rasa's ``SQLEventBroker.publish`` (rasa/core/brokers/sql.py) stores each event in its own
session and commit. With SQLite under SQLAlchemy 1.4 every such session also opens a new
connection to the file and closes it again, and closing the last connection of a WAL file
checkpoints it with an fsync. A form turn of this assistant publishes about ten events, so
the embedded default spent more of the server's time storing analytics events than
answering, inside the event loop that serves every conversation (docs/benchmarks.md).

:class:`BatchingSQLEventBroker` (``type: assistant_runtime.event_broker.BatchingSQLEventBroker``
in endpoints.yml, Rasa's extension point for custom brokers) keeps Rasa's table, columns,
rows and their order, and its ``publish``:

* :meth:`BatchingSQLEventBroker.publish_batch` stores the events of one tracker save with
  one ``INSERT`` and one commit; the strict tracker store
  (:meth:`assistant_runtime.tracker_store.StrictSQLTrackerStore.stream_events`) hands them
  over that way, any other caller's ``publish`` is a batch of one;
* a SQLite file keeps its connections open in a pool and is written in WAL mode with
  ``synchronous=NORMAL``, as the tracker store's file is: a commit appends to the WAL
  without an fsync. After an operating-system crash or power loss the last events may be
  missing (the file stays consistent); a crash or restart of the server loses nothing.

Other databases (PostgreSQL) keep Rasa's engine as it is.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker

logger = logging.getLogger(__name__)


def _is_sqlite_file(url: Any) -> bool:
    return bool(url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"))


def _set_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class BatchingSQLEventBroker(SQLEventBroker):
    engine: Any  # set by SQLEventBroker.__init__ (declared for mypy)

    def __init__(
        self,
        dialect: str = "sqlite",
        host: Optional[str] = None,
        port: Optional[int] = None,
        db: str = "events.db",
        username: Optional[str] = None,
        password: Optional[str] = None,
    ) -> None:
        if dialect.lower() == "sqlite" and db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)  # as the tracker store does
        super().__init__(dialect, host, port, db, username, password)  # creates the table
        url = self.engine.url
        if _is_sqlite_file(url):
            self.engine.dispose()
            # the ops page reads through this engine from a worker thread (analytics/ops.py)
            self.engine = sa.create_engine(
                url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
            )
            sa.event.listen(self.engine, "connect", _set_wal)
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    def publish(self, event: Dict[str, Any]) -> None:
        """Publishes a json-formatted Rasa Core event into an event queue."""
        self.publish_batch([event])

    def publish_batch(self, events: Sequence[Dict[str, Any]]) -> None:
        """Stores ``events`` in their order, in one transaction (the rows Rasa's ``publish``
        stores one by one)."""
        if not events:
            return
        rows = [{"sender_id": e.get("sender_id"), "data": json.dumps(e)} for e in events]
        with self.session_scope() as session:
            session.execute(self.SQLBrokerEvent.__table__.insert(), rows)
            session.commit()

    async def close(self) -> None:
        """Closes the pooled connections when the server stops (checkpoints the WAL)."""
        self.engine.dispose()
