"""The embedded event broker and the strict tracker store's publishing store exactly the
events Rasa's SQL broker stores, with one transaction per save and no second read of the
conversation. No server is started."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import sqlalchemy as sa

from assistant_runtime import patches
from assistant_runtime.event_broker import BatchingSQLEventBroker
from assistant_runtime.tracker_store import StrictSQLTrackerStore
from tests.reliability.test_speedups import _turns

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    patches.uninstall()
    yield
    patches.uninstall()


@pytest.fixture(scope="module")
def domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


def _published(db: Path) -> List[Tuple[int, str, Dict[str, Any]]]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT id, sender_id, data FROM events ORDER BY id").fetchall()
    result = []
    for row_id, sender, data in rows:
        event = json.loads(data)
        event.pop("timestamp", None)  # the two runs differ only in time
        result.append((row_id, sender, event))
    return result


def _strict_store(domain: Any, tmp_path: Path, name: str) -> StrictSQLTrackerStore:
    broker = BatchingSQLEventBroker(db=str(tmp_path / f"{name}-events.db"))
    return StrictSQLTrackerStore(domain, db=str(tmp_path / f"{name}.db"), event_broker=broker)


@pytest.mark.parametrize(
    "speed_patches", [[], list(patches.SPEED_PATCHES)], ids=["stock-rasa", "speed-patches"]
)
def test_the_same_events_as_rasas_sql_broker(
    domain: Any, tmp_path: Path, speed_patches: List[str]
) -> None:
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.tracker_store import SQLTrackerStore

    stock_broker = SQLEventBroker(db=str(tmp_path / "stock-events.db"))
    _turns(
        SQLTrackerStore(domain, db=str(tmp_path / "stock.db"), event_broker=stock_broker), domain
    )
    patches.install(speed_patches)
    store = _strict_store(domain, tmp_path, "strict")
    _turns(store, domain)
    published = _published(tmp_path / "strict-events.db")
    assert published == _published(tmp_path / "stock-events.db")
    # as the tracker store's rows: Rasa publishes the older sessions' events of a tracker read
    # with every session (retrieve_full_tracker) again when it is saved (12)
    assert len(published) == 2 * 2 + 3 * 2 * 3 + 3 + 1 + 1 + 12
    assert not store._stored_event_counts  # every count served one save


def test_a_save_after_a_read_publishes_without_reading_again(
    domain: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

    store = _strict_store(domain, tmp_path, "reads")
    reads: List[str] = []
    stock_retrieve = SQLTrackerStore.retrieve

    async def counted_retrieve(self: Any, sender_id: str) -> Any:
        reads.append(sender_id)
        return await stock_retrieve(self, sender_id)

    monkeypatch.setattr(SQLTrackerStore, "retrieve", counted_retrieve)

    async def turn(text: str) -> None:
        tracker = await store.get_or_create_tracker("agent", append_action_listen=False)
        tracker.update(UserUttered(text, {"name": "inform", "confidence": 1.0}))
        tracker.update(SlotSet("msisdn", "081234567890"))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)

    asyncio.run(turn("pertama"))
    # a new conversation: read (none), created and saved, then its first turn's save reads
    assert reads == ["agent", "agent"]
    reads.clear()
    asyncio.run(turn("kedua"))
    assert reads == ["agent"]  # the turn's read only (Rasa reads again before the save)
    published = _published(tmp_path / "reads-events.db")
    assert [event.get("text") for _, _, event in published if event["event"] == "user"] == [
        "pertama",
        "kedua",
    ]


def test_one_commit_per_save_on_a_kept_sqlite_connection(tmp_path: Path) -> None:
    broker = BatchingSQLEventBroker(db=str(tmp_path / "var" / "events.db"))  # folder created
    assert isinstance(broker.engine.pool, sa.pool.QueuePool)
    commits: List[int] = []
    connects: List[int] = []
    sa.event.listen(broker.engine, "commit", lambda _connection: commits.append(1))
    sa.event.listen(broker.engine, "connect", lambda *_: connects.append(1))
    events = [{"sender_id": "a", "event": "action", "name": f"a{i}"} for i in range(10)]
    for _ in range(3):
        broker.publish_batch(events)
    broker.publish({"sender_id": "b", "event": "action", "name": "single"})
    broker.publish_batch([])  # nothing to store: no transaction
    assert len(commits) == 4
    assert len(connects) == 1
    with broker.engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(sa.text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    stored = _published(tmp_path / "var" / "events.db")
    assert [row_id for row_id, _, _ in stored] == list(range(1, 32))
    assert [event for _, _, event in stored[:30]] == events * 3
    assert stored[30][1:] == ("b", {"sender_id": "b", "event": "action", "name": "single"})


def test_the_ops_page_reads_the_brokers_engine_from_a_worker_thread(tmp_path: Path) -> None:
    from analytics.store import broker_engine, load_events

    broker = BatchingSQLEventBroker(db=str(tmp_path / "events.db"))
    broker.publish({"sender_id": "a", "event": "user", "text": "halo", "timestamp": 1.0})
    agent = type("Agent", (), {"tracker_store": type("Store", (), {"event_broker": broker})()})
    engine = broker_engine(agent)
    assert engine is broker.engine
    loaded: List[Any] = []
    worker = threading.Thread(target=lambda: loaded.extend(load_events(engine)))
    worker.start()
    worker.join()
    assert loaded == [{"sender_id": "a", "event": "user", "text": "halo", "timestamp": 1.0}]
    asyncio.run(broker.close())


def test_endpoints_name_a_broker_rasa_can_load() -> None:
    import yaml
    from rasa.core.brokers.broker import EventBroker
    from rasa.utils.endpoints import EndpointConfig

    config = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))["event_broker"]
    broker = asyncio.run(EventBroker.create(EndpointConfig.from_dict({**config, "db": ":memory:"})))
    assert isinstance(broker, BatchingSQLEventBroker)
