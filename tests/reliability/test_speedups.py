"""Checks that the speed patches of :mod:`assistant_runtime.patches` change speed only, not
behaviour.

The model test needs the trained ``models/assistant.tar.gz`` (two model loads), so it runs
with the server tests (``-m servers``), after ``make train``.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from assistant_runtime import patches
from assistant_runtime.patches import http_session, slot_copy, sql_tracker_store

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "assistant.tar.gz"

VALID = [
    {},
    {"events": []},
    {
        "events": [
            {"event": "slot", "name": "msisdn", "value": "081234567890"},
            {"event": "slot", "name": "channel", "value": None, "timestamp": None},
            {"event": "active_loop", "name": None},
            {"event": "action", "name": "sop_form", "policy": None},
            {"event": "bot", "text": "x", "data": {}},
            {
                "event": "user",
                "text": "hi",
                "parse_data": {
                    "intent": {"name": "greet", "confidence": 0.9},
                    "entities": [{"entity": "msisdn", "value": "1", "start": 0, "end": 1}],
                },
            },
        ],
        "responses": [{"text": "halo"}, {"custom": {"type": "sop_result"}}],
    },
]
INVALID = [
    {"events": "not a list"},
    {"events": [5]},
    {"events": [{"name": "no event key"}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot", "name": 3, "value": 1}]},
    {"events": [{"event": "slot", "name": "a"}]},
    {"events": [{"event": "slot", "name": "a", "value": 1, "timestamp": "yesterday"}]},
    {"events": [{"event": "user", "parse_data": {"entities": [{"value": 1}]}}]},
    {"responses": [1]},
    {"responses": [{"text": 1}]},
]


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    patches.uninstall()
    yield
    patches.uninstall()


def _outcomes(answers: List[Dict[str, Any]]) -> List[Any]:
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    action = RemoteAction("action_test", None)
    outcomes: List[Any] = []
    for answer in answers:
        try:
            outcomes.append(action._validate_action_result(json.loads(json.dumps(answer))))
        except ValidationError as error:
            outcomes.append(error.message)
    return outcomes


def test_schema_patch_accepts_and_refuses_exactly_like_rasa() -> None:
    answers = VALID + INVALID
    stock = _outcomes(answers)
    assert stock[: len(VALID)] == [True] * len(VALID)
    patches.install(["schema"])
    assert _outcomes(answers) == stock  # same verdicts, same error messages
    patches.uninstall()
    assert _outcomes(answers) == stock


def test_formcache_returns_rasas_mappings_and_computes_once() -> None:
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(ROOT / "domain.yml"))
    form = FormAction("sop_form", None)
    stock = form._create_unique_entity_mappings(domain)
    patches.install(["formcache"])
    first = FormAction("sop_form", None)._create_unique_entity_mappings(domain)
    second = FormAction("sop_form", None)._create_unique_entity_mappings(domain)
    assert first == stock
    assert second is first


def test_keepalive_reuses_one_connection_and_closes() -> None:
    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    async def scenario() -> List[int]:
        peers: List[int] = []

        async def handler(request: web.Request) -> web.Response:
            peers.append(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
            return web.json_response({"events": [], "echo": await request.json()})

        app = web.Application()
        app.router.add_post("/webhook", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        try:
            for i in range(3):
                answer = await endpoint.request(json={"n": i}, method="post")
                assert answer == {"events": [], "echo": {"n": i}}
            await http_session.close_sessions()
            loop_id = id(asyncio.get_running_loop())
            assert not [key for key in http_session._sessions if key[0] == loop_id]
        finally:
            await runner.cleanup()
        return peers

    stock_peers = asyncio.run(scenario())
    patches.install(["keepalive"])
    kept_peers = asyncio.run(scenario())
    assert len(set(stock_peers)) == 3  # Rasa: a new connection per call
    assert len(set(kept_peers)) == 1  # patched: one kept-alive connection


def _heldout_texts(limit: int) -> List[str]:
    import yaml

    data = yaml.safe_load((ROOT / "tests" / "nlu" / "heldout.yml").read_text(encoding="utf-8"))
    texts: List[str] = []
    for block in data.get("nlu", []):
        for line in str(block.get("examples", "")).splitlines():
            text = line.strip()[2:]
            text = re.sub(r"\[([^\]]*)\]\{[^}]*\}", r"\1", text)
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
            if text:
                texts.append(text)
    return texts[:limit]


@pytest.mark.servers
def test_fastload_and_graphrun_give_identical_parses() -> None:
    assert MODEL.exists(), "needs the trained models/assistant.tar.gz: make train"
    from rasa.core.agent import Agent

    texts = _heldout_texts(150)

    def parse_all() -> List[Any]:
        agent = Agent.load(str(MODEL))

        async def run() -> List[Any]:
            results = []
            for text in texts:
                parsed = await agent.parse_message(text)
                results.append(
                    (
                        [(r["name"], r["confidence"]) for r in parsed.get("intent_ranking", [])],
                        [
                            (e["entity"], e["start"], e["end"], e.get("value"))
                            for e in parsed["entities"]
                        ],
                    )
                )
            return results

        return asyncio.run(run())

    stock = parse_all()
    patches.install(["fastload"])
    assert parse_all() == stock
    patches.install(["graphrun"])  # the NLU graph run without dask, on the fast-loaded model
    assert parse_all() == stock


def test_sqlfetch_reads_the_same_tracker(tmp_path: Path) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted,
        SessionStarted,
        SlotSet,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    tracker = DialogueStateTracker("agent", domain.slots)
    for event in [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("halo", {"name": "greet", "confidence": 1.0}),
        SlotSet("msisdn", "081234567890"),
        ActionExecuted("action_listen"),
    ]:
        tracker.update(event)

    async def read() -> Any:
        return await store.retrieve("agent"), await store.retrieve_full_tracker("agent")

    asyncio.run(store.save(tracker))
    stock = asyncio.run(read())
    patches.install(["sqlfetch"])
    patched = asyncio.run(read())
    for a, b in zip(stock, patched, strict=True):
        assert a is not None and b is not None
        assert list(a.events) == list(b.events)
        assert a.current_slot_values() == b.current_slot_values()
    assert asyncio.run(store.retrieve("nobody")) is None


def test_sqlitewal_pools_connections_and_keeps_conversations(tmp_path: Path) -> None:
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    patches.install(["sqlitewal"])
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "wal.db"))
    assert type(store.engine.pool).__name__ == "QueuePool"
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(sa.text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    tracker = DialogueStateTracker("agent", domain.slots)
    for event in [
        ActionExecuted("action_listen"),
        UserUttered("halo", {"name": "greet", "confidence": 1.0}),
        SlotSet("msisdn", "081234567890"),
    ]:
        tracker.update(event)
    asyncio.run(store.save(tracker))
    store.engine.dispose()  # as a restart: a new engine reads what was committed
    reopened = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "wal.db"))
    restored = asyncio.run(reopened.retrieve("agent"))
    assert restored is not None and restored.get_slot("msisdn") == "081234567890"
    patches.uninstall()
    plain = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "plain.db"))
    assert type(plain.engine.pool).__name__ != "QueuePool"


def test_eventtypes_resolves_every_event_like_rasa() -> None:
    from rasa.shared.core.events import Event, UserUttered
    from rasa.shared.utils.common import all_subclasses

    names = sorted({cls.type_name for cls in all_subclasses(Event) if cls.type_name})
    stock = {name: Event.resolve_by_type(name) for name in names}
    patches.install(["eventtypes"])
    for _ in range(2):  # first lookup fills the cache, second reads it
        assert {name: Event.resolve_by_type(name) for name in names} == stock
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=UserUttered) is UserUttered
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
    events = Event.from_parameters({"event": "slot", "name": "msisdn", "value": "0812"})
    assert events is not None and events.as_dict()["value"] == "0812"


def _stored_rows(db: Path) -> List[Any]:
    import sqlite3

    columns = "id, sender_id, type_name, timestamp, intent_name, action_name, data"
    with sqlite3.connect(db) as connection:
        rows = connection.execute(f"SELECT {columns} FROM events ORDER BY id").fetchall()
    result = []
    for index, (row_id, sender, kind, timestamp, intent, action, data) in enumerate(rows, 1):
        event = json.loads(data)
        assert row_id == index and timestamp == event.get("timestamp")
        event.pop("timestamp", None)  # the two runs differ only in time
        result.append((sender, kind, intent, action, event))
    return result


def _turns(store: Any, domain: Any) -> None:
    """Several turns of two conversations, a new session, saves with and without a read."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    async def scenario() -> None:
        for sender in ("a", "b"):
            tracker = DialogueStateTracker(sender, domain.slots)
            for event in [ActionExecuted("action_session_start"), SessionStarted()]:
                tracker.update(event)
            await store.save(tracker)  # never read: counted in the database
        for turn in range(3):
            for sender in ("a", "b"):
                tracker = await store.retrieve(sender)
                tracker.update(UserUttered(f"pesan {turn}", {"name": "inform", "confidence": 1}))
                tracker.update(SlotSet("msisdn", f"08123456789{turn}"))
                tracker.update(ActionExecuted("action_listen"))
                await store.save(tracker)
                await store.save(tracker)  # a second save of the same turn adds nothing
        tracker = await store.retrieve("a")  # a new session after expiry
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
        tracker = await store.retrieve("a")
        tracker.update(UserUttered("halo lagi", {"name": "greet", "confidence": 1}))
        await store.save(tracker)
        full = await store.retrieve_full_tracker("a")  # the whole history, not counted
        full.update(ActionExecuted("action_listen"))
        await store.save(full)

    asyncio.run(scenario())


def test_sql_patches_store_exactly_the_rows_rasa_stores(tmp_path: Path) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(ROOT / "domain.yml"))
    stock_db, patched_db = tmp_path / "stock.db", tmp_path / "patched.db"
    _turns(SQLTrackerStore(domain, dialect="sqlite", db=str(stock_db)), domain)
    patches.install(["sqlfetch", "sqlinsert", "savecount"])
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(patched_db))
    _turns(store, domain)
    assert _stored_rows(patched_db) == _stored_rows(stock_db)
    # 27 rows of the turns, plus Rasa's own quirk kept as it is: saving a tracker read with
    # every session (retrieve_full_tracker) stores its older sessions' events again (12)
    assert len(_stored_rows(stock_db)) == 2 * 2 + 3 * 2 * 3 + 3 + 1 + 1 + 12
    assert not store.__dict__.get(sql_tracker_store._STORED_COUNTS)  # every count used once


def test_savecount_needs_sqlfetch() -> None:
    with pytest.raises(ValueError, match="needs 'sqlfetch'"):
        patches.install(["savecount"])


TRACKER_EVENT = {
    "event": "user",
    "text": "pulsa 50rb / via GoPay \u2713",
    "timestamp": 1732245600.123456,
}


@pytest.mark.parametrize(
    "value",
    [
        {"tracker": {"events": [TRACKER_EVENT]}},
        {"slots": {"msisdn": "081234567890", "nominal": 50000, "ok": True, "none": None}},
        {"nested": [[1.5, -0.0, 1e-12, 12345678901234567890], {"k": 'a"b\\c\n'}]},
        {"nan": float("nan")},  # ujson refuses: the standard library's text
        {"obj": object()},  # neither knows it: the same TypeError as before
    ],
)
def test_fast_json_dumps_gives_the_same_json_value(value: Any) -> None:
    try:
        expected = json.dumps(value)
    except TypeError:
        with pytest.raises(TypeError):
            http_session.fast_json_dumps(value)
        return
    text = http_session.fast_json_dumps(value)
    assert json.loads(text, parse_constant=str) == json.loads(expected, parse_constant=str)


def test_slotcopy_copies_every_slot_like_copy_copy() -> None:
    import copy

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    stock = DialogueStateTracker("a", domain.slots)
    patches.install(["slotcopy"])
    patched = DialogueStateTracker("a", domain.slots)
    assert list(patched.slots) == list(stock.slots)
    for name, slot in patched.slots.items():
        original = next(s for s in domain.slots if s.name == name)
        assert type(slot) is type(stock.slots[name])
        assert vars(slot) == vars(stock.slots[name])
        assert vars(slot_copy.shallow_copy(original)) == vars(copy.copy(original))
        assert slot is not original
    patched.slots["msisdn"].value = "081234567890"  # a copy, not the domain's slot
    assert next(s for s in domain.slots if s.name == "msisdn").value is None


def test_slotcopy_leaves_objects_with_their_own_copying_to_copy_copy() -> None:
    class WithSlots:
        __slots__ = ("a",)

        def __init__(self) -> None:
            self.a = 1

    class WithCopy:
        def __init__(self) -> None:
            self.copied = False

        def __copy__(self) -> WithCopy:
            duplicate = WithCopy()
            duplicate.copied = True
            return duplicate

    class Plain:
        def __init__(self) -> None:
            self.items = [1]

    assert slot_copy.shallow_copy(WithSlots()).a == 1
    assert slot_copy.shallow_copy(WithCopy()).copied is True
    plain = Plain()
    duplicate = slot_copy.shallow_copy(plain)
    assert duplicate is not plain and duplicate.items is plain.items  # shallow, as copy.copy


def _toy_runner(tmp_path: Path) -> Any:
    from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    class Add(GraphComponent):
        """Adds its config's ``n`` to the sum of its inputs."""

        calls: List[str] = []

        def __init__(self, config: Dict[str, Any]) -> None:
            self.config = config

        @classmethod
        def create(
            cls, config: Dict[str, Any], model_storage: Any, resource: Any, execution_context: Any
        ) -> Add:
            return cls(config)

        def add(self, **values: int) -> int:
            Add.calls.append(self.config["name"])
            if self.config.get("fail"):
                raise RuntimeError("component failed")
            return sum(values.values()) + self.config["n"]

    def node(name: str, needs: Dict[str, str], n: int, **extra: Any) -> SchemaNode:
        config = {"name": name, "n": n, **extra}
        return SchemaNode(needs, Add, "create", "add", config, eager=True)

    schema = GraphSchema(
        {
            "a": node("a", {"x": "__input__"}, 1),
            "b": node("b", {"x": "a"}, 10),
            "c": node("c", {"x": "a"}, 100),
            "d": node("d", {"x": "b", "y": "c"}, 1000, is_target=True),
            "e": node("e", {"x": "__input__"}, 5, fail=True),
            "unused": node("unused", {"x": "__input__"}, 7),
        }
    )
    context = ExecutionContext(graph_schema=schema, model_id="toy")
    storage = LocalModelStorage(tmp_path)
    return DaskGraphRunner.create(schema, storage, context), Add


def test_graphrun_gives_dasks_results_and_errors(tmp_path: Path) -> None:
    from rasa.engine.exceptions import GraphComponentException, GraphRunError

    def outcomes(runner: Any) -> List[Any]:
        results: List[Any] = []
        for kwargs in (
            {"inputs": {"__input__": 1}, "targets": ["d"]},  # diamond: 1+1, +10, +100, +1000
            {"inputs": {"__input__": 2}, "targets": ["b", "c"]},
            {"inputs": {"__input__": 1, "a": 50}, "targets": ["d"]},  # an input replaces a
        ):
            results.append(runner.run(**kwargs))
        for kwargs, error in (
            ({"inputs": {"__input__": 1}, "targets": ["e"]}, GraphComponentException),
            ({"inputs": {"__input__": "b"}, "targets": ["d"]}, GraphRunError),  # name clash
        ):
            with pytest.raises(error) as info:
                runner.run(**kwargs)
            results.append((type(info.value), str(info.value).split("\n")[0]))
        return results

    stock_runner, stock_component = _toy_runner(tmp_path / "stock")
    stock = outcomes(stock_runner)
    stock_calls = sorted(stock_component.calls)
    patches.install(["graphrun"])
    patched_runner, patched_component = _toy_runner(tmp_path / "patched")
    patched = outcomes(patched_runner)
    assert patched == stock
    assert stock[0] == {"d": (2 + 10) + (2 + 100) + 1000}  # a = 1 + 1
    assert sorted(patched_component.calls) == stock_calls  # the same nodes ran


def test_slotcopy_takes_the_plain_path_for_rasas_slots() -> None:
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(ROOT / "domain.yml"))
    kinds = {type(slot) for slot in domain.slots}
    assert kinds and all(slot_copy._copies_plainly(kind) for kind in kinds)


def test_an_unknown_speedup_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown patch 'turbo'; known: .*schema, keepalive"):
        patches.install(["turbo"])
    assert patches.install([]) == []  # nothing installed by the refused call
