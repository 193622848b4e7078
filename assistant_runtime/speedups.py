"""Eleven runtime patches on Rasa 3.6.21 for speed, not behaviour (docs/benchmarks.md).

:func:`assistant_runtime.hooks.install` calls :func:`install` before the Rasa server is
configured, so ``python -m assistant_runtime run`` (``make run``, the e2e and reliability
tests) always runs with them. ``ASSISTANT_SPEEDUPS`` (comma-separated, default all, see
:data:`ALL`; ``none`` for none) selects them, for before/after measurements (``make bench``
runs the assistant both ways).
``tests/reliability/test_speedups.py`` checks that answers, predictions and stored
conversations stay the same; only ``sqlitewal`` trades something (durability on power loss,
see there).

``schema`` -- validate action server answers with a validator built once.
    ``RemoteAction._validate_action_result`` (rasa/core/actions/action.py) calls
    ``jsonschema.validate(result, schema)`` on every answer of the action server, and
    ``jsonschema.validate`` first checks the schema itself against the JSON-Schema meta-schema
    (``check_schema``). For Rasa's large event schema that check is most of the work: a
    profile (py-spy) of this assistant's Rasa server under load showed 54 % of its CPU time
    in ``check_schema``. The patch checks the schema once and keeps the validator. What is
    left is validating the events themselves against a ``oneOf`` of 23 event types (about
    1 ms per event; ``action_start_case`` returns 60 of them), so valid answers take a fast
    path that validates each event against its own type only (see
    :class:`_ResponseValidators` for why that is exact); anything else goes through the
    full validator as ``jsonschema.validate`` does (same validator class, same ``best_match``
    error, same message suffix as Rasa's), so invalid answers fail exactly as before.

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

``formcache`` -- compute the form's unique entity mappings once per domain.
    While a form is active, ``action_extract_slots`` asks for every ``from_entity`` mapping
    of every slot whether it is unique to the form
    (``ActionExtractSlots._fails_unique_entity_mapping_check``); each check builds a new
    ``FormAction`` whose ``_create_unique_entity_mappings`` serialises the whole domain
    (``domain.as_dict()``) and every mapping again -- for this assistant's 60 slots, 8 % of
    the Rasa server's CPU. The result depends only on the domain and the form, so the patch
    keeps it on the domain object (a new model brings a new domain, hence a new cache).

``fastload`` -- load TensorFlow models without a training step.
    ``RasaModel.load`` (rasa/utils/tensorflow/models.py) builds the model by running one
    training step (``model.fit`` on one example: tracing the whole training graph and
    creating the optimizer), then loads the weights and traces the prediction graph. For
    this assistant's DIET that training step is most of the server's start time and about
    0.5 GB of its memory. The patch loads the weights first (TF-format checkpoints restore
    each variable when it is created) and lets the prediction on the example, which Rasa runs
    anyway, create the variables. Predictions are identical (checked on the held-out set:
    same intents, confidences and entities, ``tests/reliability/test_speedups.py``). Fine-tuning
    (``finetune_mode``) keeps Rasa's way.

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

``eventtypes`` -- look event classes up by name in a dictionary.
    ``Event.resolve_by_type`` (rasa/shared/core/events.py) walks every subclass of ``Event``
    (``all_subclasses``, recursively) to find the class of one event name; it runs for every
    event of every conversation read from the tracker store and of every action server
    answer: 6 % of the server's CPU under load. The patch remembers the classes it found by
    name; a name not found yet (unknown names, ``topic``, a default) goes to Rasa's function,
    so errors and fallbacks are unchanged.

``graphrun`` -- run the model's graph in a fixed order instead of through dask.
    Rasa runs its model graph for every message twice or three times (NLU, then each dialogue
    prediction) with ``dask.get`` (rasa/engine/runner/dask.py): each call rebuilds the
    minimal graph, lets dask order it and schedules every node through dask's local
    executor -- about 7 % of the server's CPU, for a graph of a dozen nodes that always runs
    the same way. The patch computes, per set of targets, the same minimal graph once and a
    topological order of it, then calls the same ``GraphNode`` objects one after the other
    with the same arguments (a node's output, or the name of a node that has none, as dask
    passes it; inputs that replace a node replace it). Errors are raised as Rasa raises them
    (``RuntimeError`` becomes ``GraphRunError``). Training (``rasa train``) is untouched.

``slotcopy`` -- copy a tracker's slots without ``copy.copy``'s generic machinery.
    Every ``DialogueStateTracker`` copies each slot of the domain (``copy.copy(slot)``,
    rasa/shared/core/trackers.py), and Rasa creates many trackers per message (reading the
    conversation, the rule policy's prior states, the form's temporary trackers): with this
    assistant's 60 slots, 8 % of the server's CPU went to ``copy._reconstruct``. For an
    ordinary object ``copy.copy`` makes a new instance of the class and copies its
    ``__dict__``; the patch does exactly that directly for objects whose class does not
    customise copying (``__copy__``, ``__reduce__``/``__reduce_ex__``, ``__getstate__``,
    ``__setstate__``, ``__slots__``) and leaves every other object to ``copy.copy``. Only
    the ``copy`` name inside rasa/shared/core/trackers.py is affected.

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

import asyncio
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

from assistant_runtime.rasa_seam import PatchBook

IDLE_SECONDS = 2.0
ALL = (
    "schema",
    "keepalive",
    "formcache",
    "fastload",
    "sqlfetch",
    "sqlinsert",
    "savecount",
    "eventtypes",
    "graphrun",
    "slotcopy",
    "sqlitewal",
)

_installed: List[str] = []
_listeners: List[Tuple[Any, str, Any]] = []  # SQLAlchemy event listeners to remove again
_book = PatchBook()  # every patch is also registered in rasa_seam.PATCHES
_originals = _book.originals  # (owner, attribute, value before the patch)
# (id of the event loop, endpoint key) -> (the loop, its session)
_sessions: Dict[Tuple[int, str], Tuple[Any, Any]] = {}


_replace = _book.replace


# --- schema ---------------------------------------------------------------------------------


class _ResponseValidators:
    """The full validator of Rasa's action response schema, checked once, plus a fast path.

    The event schema is ``oneOf`` 23 event types, each pinned by ``event: {const: ...}``, so
    an event can only ever match the branch of its own ``event`` value. The fast path
    validates the answer without its events, then each event against the base event schema
    plus its own branch only. When that passes, the full schema passes too (exactly one
    branch can match); in every other case -- unknown event type, a schema without
    ``const`` per branch, any error -- the full validator decides and reports, so accepted
    and refused answers and their error messages are exactly Rasa's.
    """

    def __init__(self, schema: Dict[str, Any]) -> None:
        from jsonschema.validators import validator_for

        validator_class = validator_for(schema)
        validator_class.check_schema(schema)  # once, instead of on every answer
        self.full = validator_class(schema)
        self.without_events: Any = None
        self.per_type: Dict[str, Any] = {}
        properties = schema.get("properties", {})
        events = properties.get("events", {})
        event = events.get("items", {})
        branches = event.get("oneOf")
        if events.get("type") != "array" or not isinstance(branches, list):
            return
        base = {k: v for k, v in event.items() if k != "oneOf"}
        per_type: Dict[str, Any] = {}
        for branch in branches:
            const = branch.get("properties", {}).get("event", {}).get("const")
            if not isinstance(const, str) or const in per_type:
                return  # not dispatchable by type: always use the full validator
            per_type[const] = validator_class({**base, "allOf": [branch]})
        outer = {**schema, "properties": {**properties, "events": {"type": "array"}}}
        self.without_events = validator_class(outer)
        self.per_type = per_type

    def fast_valid(self, result: Any) -> bool:
        if self.without_events is None or not self.without_events.is_valid(result):
            return False
        for event in result.get("events", []) if isinstance(result, dict) else []:
            kind = event.get("event") if isinstance(event, dict) else None
            validator = self.per_type.get(kind) if isinstance(kind, str) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True


def install_cached_response_validation() -> None:
    from jsonschema import ValidationError, exceptions
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    cache: Dict[str, _ResponseValidators] = {}

    def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
        if "validators" not in cache:
            cache["validators"] = _ResponseValidators(RemoteAction.action_response_format_spec())
        validators = cache["validators"]
        if validators.fast_valid(result):
            return True
        error = exceptions.best_match(validators.full.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    _replace(RemoteAction, "_validate_action_result", _validate_action_result)


# --- keepalive ------------------------------------------------------------------------------


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


def install_keepalive() -> None:
    import rasa.core.run
    from rasa.utils.endpoints import EndpointConfig

    def session(self: EndpointConfig) -> Any:
        return _BorrowedSession(shared_session(self))

    original_close = rasa.core.run.close_resources

    async def close_resources(app: Any, loop: Any) -> None:
        await close_sessions()
        await original_close(app, loop)

    _replace(EndpointConfig, "session", session)
    # serve_application looks the listener up by name when it registers it
    _replace(rasa.core.run, "close_resources", close_resources)


# --- formcache -----------------------------------------------------------------------------


def install_form_mapping_cache() -> None:
    from rasa.core.actions.forms import FormAction

    original = FormAction._create_unique_entity_mappings

    def _create_unique_entity_mappings(self: Any, domain: Any) -> Any:
        cache = domain.__dict__.setdefault("_speedups_unique_entity_mappings", {})
        if self.name() not in cache:
            cache[self.name()] = original(self, domain)
        return cache[self.name()]

    _replace(FormAction, "_create_unique_entity_mappings", _create_unique_entity_mappings)


# --- fastload ------------------------------------------------------------------------------


def install_fast_model_load() -> None:
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.models import RasaModel

    original = vars(RasaModel)["load"].__func__

    def load(
        cls: Any,
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if finetune_mode or predict_data_example is None:
            return original(
                cls,
                model_file_name,
                model_data_example,
                predict_data_example,
                finetune_mode,
                *args,
                **kwargs,
            )
        model = cls(*args, **kwargs)
        config = kwargs.get("config", {})
        model.compile(
            optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
            run_eagerly=config.get(RUN_EAGERLY),
        )
        # TF-format checkpoints restore a variable when it is created, so the weights are
        # loaded by the first prediction, which also traces the prediction graph; the
        # optimizer's slots (only needed to train further) stay unrestored on purpose
        model.load_weights(model_file_name).expect_partial()
        model.run_inference(predict_data_example)
        return model

    _replace(RasaModel, "load", classmethod(load))


# --- sqlfetch ------------------------------------------------------------------------------


def _event_statement(store: Any, fetch_events_from_all_sessions: bool) -> Any:
    """Rasa's ``_event_query`` as one SQLAlchemy Core statement, built once per store.

    Same filters and order: the events of ``:sender_id`` ordered by id; for the latest
    session only, those at or after its last ``session_started`` event (all events when
    there is none). Rasa joins a one-row aggregate sub-query; a scalar sub-query of the same
    aggregate selects the same rows."""
    import sqlalchemy as sa
    from rasa.shared.core.events import SessionStarted

    cache = store.__dict__.setdefault("_speedups_event_statements", {})
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


def install_sql_data_fetch() -> None:
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

    _replace(SQLTrackerStore, "_retrieve", _retrieve)


# --- sqlinsert -----------------------------------------------------------------------------


def install_sql_bulk_insert() -> None:
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

    _replace(SQLTrackerStore, "save", save)


# --- savecount -----------------------------------------------------------------------------

_STORED_COUNTS = "_speedups_stored_event_counts"


def install_save_with_counted_events() -> None:
    import itertools

    from rasa.core.tracker_store import SQLTrackerStore

    original = SQLTrackerStore._additional_events

    def _additional_events(self: Any, session: Any, tracker: Any) -> Any:
        stored = self.__dict__.get(_STORED_COUNTS, {}).pop(tracker.sender_id, None)
        if stored is None:
            return original(self, session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    _replace(SQLTrackerStore, "_additional_events", _additional_events)


# --- eventtypes ----------------------------------------------------------------------------


def install_event_type_cache() -> None:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    found: Dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = found.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    _replace(Event, "resolve_by_type", staticmethod(resolve_by_type))


# --- graphrun ------------------------------------------------------------------------------


def _run_order(graph: Dict[str, Any]) -> List[Tuple[str, Any, Tuple[str, ...]]]:
    """(name, node, dependency names) of every task of a dask-style graph, dependencies
    first (the order of ``graph`` among independent nodes)."""
    order: List[Tuple[str, Any, Tuple[str, ...]]] = []
    state: Dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str) -> None:
        if state.get(name) == 2 or name not in graph:
            return
        if state.get(name) == 1:
            raise ValueError(f"the graph has a cycle through '{name}'")
        state[name] = 1
        node, *dependencies = graph[name]
        for dependency in dependencies:
            visit(dependency)
        state[name] = 2
        order.append((name, node, tuple(dependencies)))

    for name in graph:
        visit(name)
    return order


def install_sequential_graph_runner() -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    def run(
        self: Any, inputs: Optional[Dict[str, Any]] = None, targets: Optional[List[str]] = None
    ) -> Dict[str, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        plans = self.__dict__.setdefault("_speedups_run_plans", {})
        plan = plans.get(tuple(run_targets))
        if plan is None:
            minimal_schema = self._graph_schema.minimal_graph_schema(run_targets)
            plan = _run_order(self._build_dask_graph(minimal_schema))
            plans[tuple(run_targets)] = plan
        results: Dict[str, Any] = {}
        for input_name, input_value in (inputs or {}).items():
            # Rasa's check (_add_inputs_to_graph): an input value naming a node is refused
            if isinstance(input_value, str) and (
                input_value in results or any(input_value == name for name, _, _ in plan)
            ):
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure "
                    f"that none of the input names passed to the `run` method are the "
                    f"same as node names in the graph schema."
                )
            results[input_name] = (input_name, input_value)
        try:
            for name, node, dependencies in plan:
                if name in results:  # an input replaces the node, as in the dask graph
                    continue
                results[name] = node(*(results.get(d, d) for d in dependencies))
            return dict(results.get(target, target) for target in run_targets)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    _replace(DaskGraphRunner, "run", run)


# --- slotcopy ------------------------------------------------------------------------------

_COPY_HOOKS = ("__copy__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__")
_plain_classes: Dict[type, bool] = {}


def _copies_plainly(cls: type) -> bool:
    """True when ``copy.copy`` of an instance is: new instance, same ``__dict__`` items.

    That is ``copy``'s default path (``object.__reduce_ex__``) for a class that defines none
    of the copy hooks and no named ``__slots__`` (an empty ``__slots__``, as ``abc.ABC``
    has, adds no state)."""
    plain = _plain_classes.get(cls)
    if plain is None:
        plain = not any(
            attribute in vars(klass)
            for klass in cls.__mro__
            if klass is not object
            for attribute in _COPY_HOOKS
        ) and not any(vars(klass).get("__slots__") for klass in cls.__mro__)
        _plain_classes[cls] = plain
    return plain


def shallow_copy(value: Any) -> Any:
    """``copy.copy(value)``, without its generic path for plain objects."""
    import copy

    cls: Any = type(value)
    if _copies_plainly(cls) and isinstance(getattr(value, "__dict__", None), dict):
        duplicate = cls.__new__(cls)
        duplicate.__dict__.update(value.__dict__)
        return duplicate
    return copy.copy(value)


class _CopyModule:
    """Stands in for the ``copy`` module inside rasa/shared/core/trackers.py."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.copy = shallow_copy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def install_slot_copy() -> None:
    import rasa.shared.core.trackers as trackers

    _replace(trackers, "copy", _CopyModule(trackers.copy))


# --- sqlitewal -----------------------------------------------------------------------------


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def install_sqlite_wal() -> None:
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

    _replace(rasa_stores, "create_engine_kwargs", create_engine_kwargs)
    strict = sys.modules.get("assistant_runtime.tracker_store")
    if strict is not None and getattr(strict, "create_engine_kwargs", None) is original:
        _replace(strict, "create_engine_kwargs", create_engine_kwargs)
    sa.event.listen(sa.engine.Engine, "connect", _on_sqlite_connect)
    _listeners.append((sa.engine.Engine, "connect", _on_sqlite_connect))


# --- entry points ---------------------------------------------------------------------------


def _installers() -> Dict[str, Callable[[], None]]:
    """Each patch of :data:`ALL` by name, in that order."""
    installers: Dict[str, Callable[[], None]] = {
        "schema": install_cached_response_validation,
        "keepalive": install_keepalive,
        "formcache": install_form_mapping_cache,
        "fastload": install_fast_model_load,
        "sqlfetch": install_sql_data_fetch,
        "sqlinsert": install_sql_bulk_insert,
        "savecount": install_save_with_counted_events,
        "eventtypes": install_event_type_cache,
        "graphrun": install_sequential_graph_runner,
        "slotcopy": install_slot_copy,
        "sqlitewal": install_sqlite_wal,
    }
    assert tuple(installers) == ALL
    return installers


def install(names: Optional[List[str]] = None) -> List[str]:
    """Installs the named patches (default: ``ASSISTANT_SPEEDUPS`` or all). Idempotent."""
    if names is None:
        wanted = os.environ.get("ASSISTANT_SPEEDUPS", ",".join(ALL))
        names = [n.strip() for n in wanted.split(",") if n.strip() and n.strip() != "none"]
    installers = _installers()
    for name in names:
        if name in _installed:
            continue
        if name not in installers:
            raise ValueError(f"unknown speedup {name!r}; known: {', '.join(ALL)}")
        if name == "savecount" and "sqlfetch" not in names and "sqlfetch" not in _installed:
            raise ValueError("speedup 'savecount' needs 'sqlfetch' (it counts what that reads)")
        installers[name]()
        _installed.append(name)
    return list(_installed)


def uninstall() -> None:
    """Restores Rasa's own functions (for in-process before/after measurements and tests).
    Shared sessions stay open until :func:`close_sessions`."""
    while _originals:
        owner, attribute, value = _originals.pop()
        setattr(owner, attribute, value)
    if _listeners:
        import sqlalchemy as sa

        while _listeners:
            sa.event.remove(*_listeners.pop())
    _installed.clear()
