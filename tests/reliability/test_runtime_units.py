"""Unit level: masking, logging config, API secrets, strict stores, the busy-answer patches.
No Rasa server is started; PostgreSQL/Redis "down" cases use a closed port."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, List

import pytest
import yaml

from assistant_runtime import patches
from assistant_runtime.__main__ import ConfigurationError, api_arguments
from assistant_runtime.busy import FALLBACK_BUSY_TEXT, busy_messages, busy_text
from assistant_runtime.masking import MaskingFilter, mask_text
from assistant_runtime.patches import action_calls
from testkit.assistant import ROOT
from testkit.processes import free_port

SN = "0215123456789012345678901"


@pytest.fixture(autouse=True)
def _restore_rasa() -> Iterator[None]:
    """The patches change Rasa process-wide; other tests of the session get it back as it was."""
    yield
    patches.uninstall()


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("msisdn 081234567890", "msisdn 0812****7890"),
        ("0812-3456-7890", "0812****7890"),
        ("0812 3456 7890", "0812****7890"),
        ("+62 812-3456-7890", "6281*****7890"),
        ("6281234567890", "6281*****7890"),
        ("tel:0812\u200b3456\u200b7890", "tel:0812****7890"),
        (f"SN {SN}", "SN *********************8901"),
        ("SN 0215123456\u200b789012345678901", "SN *********************8901"),
        (
            json.dumps({"t": "0215123456\u200b789012345678901"}),
            '{"t": "*********************8901"}',
        ),
        ("mail budi.santoso@example.co.id ok", "mail b***@example.co.id ok"),
        (
            "GET /conversations/a/tracker?token=s3cr3t-t0k3n&x=1",
            "GET /conversations/a/tracker?token=***&x=1",
        ),
        ("{'auth_token': 'abcdefghijklmnop'}", "{'auth_token': '***'}"),
        ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer ***"),
        ("postgresql://rasa:pw123@db:5432/x", "postgresql://rasa:***@db:5432/x"),
        ("--auth-token abcdef --port 5005", "--auth-token *** --port 5005"),
        (
            "POST http://x/bot123456:TEST-token/sendMessage",
            "POST http://x/bot123456:***/sendMessage",
        ),
        ("tok 1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0", "tok 1234567890:***"),
    ],
)
def test_mask_text(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked
    assert mask_text(masked) == masked  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "timestamp 1763780000.123456",
        '"confidence_entity": 0.99999999999990247',
        "2026-11-22 10:00:00 pid 12345",
        "Rp50.000 nominal 50rb, TRX20261121ABC",
        "conversation agent-1a2b3c4d",
    ],
)
def test_mask_text_leaves_ordinary_values(text: str) -> None:
    assert mask_text(text) == text


def test_logging_config_applies_through_rasa_and_masks_everything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from rasa.utils.common import configure_logging_from_file

    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogRecordFactory())
    try:
        configure_logging_from_file(str(ROOT / "logging.yml"))  # swallows errors: check it
        assert any(
            isinstance(f, MaskingFilter) for handler in root.handlers for f in handler.filters
        ), "logging.yml was not applied"
        root.setLevel(logging.DEBUG)
        log = logging.getLogger("rasa.core.processor")
        log.debug("Received user message '%s' from %s", "0812-3456-7890", "budi@example.com")
        log.info("access", extra={"request": "GET /x?token=topsecretvalue"})
        try:
            raise ValueError(f"bad SN {SN}")
        except ValueError:
            log.exception("failed")
        other = logging.StreamHandler(sys.stdout)  # a handler added later by a library
        logging.getLogger("sanic.error").addHandler(other)
        logging.getLogger("sanic.error").error("late handler 081234567890")
        logging.getLogger("sanic.error").removeHandler(other)
        out = capsys.readouterr().out
        for raw in ("0812-3456-7890", "081234567890", "budi@example.com", SN):
            assert raw not in out
        assert "0812****7890" in out and "b***@example.com" in out and "*8901" in out
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.setLogRecordFactory(saved[2])


def test_api_needs_a_secret_from_the_environment() -> None:
    assert api_arguments(["run"], {}) == ["run"]
    with pytest.raises(ConfigurationError):
        api_arguments(["run", "--enable-api"], {})
    with pytest.raises(ConfigurationError):
        api_arguments(["run", "--enable-api"], {"RASA_AUTH_TOKEN": "short"})
    with pytest.raises(ConfigurationError):
        api_arguments(["run", "--auth-token", "x" * 32], {})
    token = "t" * 24
    assert api_arguments(["run", "--enable-api"], {"RASA_AUTH_TOKEN": token})[-2:] == [
        "--auth-token",
        token,
    ]
    jwt_args = api_arguments(["run", "--enable-api"], {"RASA_JWT_SECRET": "j" * 24})
    assert jwt_args[-4:] == ["--jwt-secret", "j" * 24, "--jwt-method", "HS256"]


def test_open_api_refused_before_rasa_starts() -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "assistant_runtime", "run", "--enable-api"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "RASA_AUTH_TOKEN or RASA_JWT_SECRET" in result.stderr


def test_endpoint_files() -> None:
    embedded = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    assert embedded["tracker_store"] == {
        "type": "assistant_runtime.tracker_store.StrictSQLTrackerStore",
        "dialect": "sqlite",
        "db": "var/tracker.db",
    }
    assert embedded["lock_store"]["type"] == "in_memory"
    production_text = (ROOT / "endpoints.production.yml").read_text()
    production = yaml.safe_load(production_text)
    assert production["tracker_store"]["dialect"] == "postgresql"
    assert production["lock_store"]["type"] == "assistant_runtime.lock_store.StrictRedisLockStore"
    for section in ("tracker_store", "lock_store"):
        for key in ("url", "port", "db", "password"):
            assert str(production[section][key]).startswith("${"), (section, key)
    assert (
        action_calls.action_timeout(type("E", (), {"kwargs": production["action_endpoint"]})())
        == 10
    )
    assert embedded["event_broker"] == {
        "type": "assistant_runtime.event_broker.BatchingSQLEventBroker",
        "dialect": "sqlite",
        "db": "var/events.db",
    }
    assert production["event_broker"]["type"] == "pika"
    for key in ("url", "port", "username", "password"):
        assert str(production["event_broker"][key]).startswith("${"), key


def test_busy_text_comes_from_the_domain() -> None:
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(ROOT / "domain.yml"))
    text = domain.responses["utter_action_unavailable"][0]["text"]
    assert busy_text(domain) == text
    assert busy_text(None) == FALLBACK_BUSY_TEXT
    assert busy_messages("a1", domain) == [{"recipient_id": "a1", "text": text}]


# -- strict tracker store ----------------------------------------------------------------


def _domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


def test_strict_sqlite_store_raises_instead_of_falling_back(tmp_path: Path) -> None:
    from rasa.core.agent import Agent
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from assistant_runtime.health import STATUS
    from assistant_runtime.tracker_store import StrictSQLTrackerStore, TrackerStoreUnavailable

    patches.install()  # as the server entry point does; building the store patches nothing
    domain = _domain()
    store = StrictSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    assert Agent._create_tracker_store(store, domain) is store  # no FailSafe wrapper
    tracker = DialogueStateTracker.from_events("s1", [UserUttered("halo")], domain.slots)
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("s1")) is not None
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE events")
    # a turn always adds events (with the speedups, a save with nothing new writes nothing)
    tracker.update(UserUttered("lagi"))
    with pytest.raises(TrackerStoreUnavailable, match="save of conversation 's1' failed") as error:
        asyncio.run(store.save(tracker))
    assert str(tmp_path) not in str(error.value)  # where the database is: only in the log
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(store.retrieve("s1"))
    assert STATUS.get("tracker_store").ok is False


def test_postgres_down_at_start_names_the_database() -> None:
    from assistant_runtime.tracker_store import StrictSQLTrackerStore, TrackerStoreUnavailable

    port = free_port()
    with pytest.raises(TrackerStoreUnavailable) as error:
        StrictSQLTrackerStore(
            domain=_domain(),
            dialect="postgresql",
            host="127.0.0.1",
            port=port,
            db="assistant",
            username="rasa",
            password="pw-not-logged",
            connect_timeout=1,
        )
    message = str(error.value)
    assert f"cannot connect to PostgreSQL database 'assistant' at 127.0.0.1:{port}" in message
    assert "pw-not-logged" not in message


def test_redis_down_at_start_names_it() -> None:
    from rasa.utils.endpoints import EndpointConfig

    from assistant_runtime.lock_store import LockStoreUnavailable, StrictRedisLockStore

    port = free_port()
    config = EndpointConfig(
        url="127.0.0.1", type="x", port=port, db=3, password="", connect_timeout=1
    )
    with pytest.raises(LockStoreUnavailable, match=f"Redis lock store at 127.0.0.1:{port} db 3"):
        StrictRedisLockStore(endpoint_config=config)


# -- the busy answer when the action server fails ------------------------------------------


def _tracker_and_nlg(form_completed: bool = False) -> Any:
    """A conversation in the form, waiting for the MSISDN, that just got it (and, with
    ``form_completed``, whose form already ended in this turn)."""
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = _domain()
    events = [
        ActionExecuted("action_listen"),
        UserUttered("pulsa blm masuk", {"name": "pulsa_belum_masuk", "confidence": 1.0}),
        ActionExecuted("action_start_case"),
        SlotSet("active_sop", "pulsa_belum_masuk"),
        ActionExecuted("sop_form"),
        ActiveLoop("sop_form"),
        SlotSet("requested_slot", "msisdn"),
        ActionExecuted("action_listen"),
        UserUttered("0812-3456-7890", {"name": "inform", "confidence": 1.0}),
        SlotSet("msisdn", "081234567890"),
        ActionExecuted("sop_form"),
    ]
    if form_completed:
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
    tracker = DialogueStateTracker.from_events("s1", events, domain.slots)
    return domain, tracker, TemplatedNaturalLanguageGenerator(domain.responses)


@pytest.mark.parametrize("form_completed", [False, True])
def test_unreachable_action_server_becomes_busy_answer_and_undone_turn(
    form_completed: bool,
) -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.shared.core.events import ActionExecuted, BotUttered
    from rasa.utils.endpoints import EndpointConfig

    patches.install()
    domain, tracker, nlg = _tracker_and_nlg(form_completed)
    endpoint = EndpointConfig(url=f"http://127.0.0.1:{free_port()}/webhook", timeout=2)
    guarded = action_calls.GuardedAction(RemoteAction("action_sop_result", endpoint))
    events: List[Any] = asyncio.run(guarded.run(CollectingOutputChannel(), nlg, tracker, domain))
    assert guarded.unavailable is not None
    assert isinstance(events[-2], BotUttered) and events[-2].text == busy_text(domain)
    assert isinstance(events[-1], ActionExecuted) and events[-1].action_name == "action_listen"
    for event in events:
        tracker.update(event, domain)
    assert tracker.get_slot("msisdn") is None  # the value of the failed turn is undone
    assert tracker.get_slot("requested_slot") == "msisdn"
    assert tracker.get_slot("active_sop") == "pulsa_belum_masuk"  # earlier turns kept
    assert tracker.active_loop_name == "sop_form"
    assert tracker.latest_action_name == "action_listen"


def test_slow_action_server_times_out_at_the_endpoint_timeout() -> None:
    import time

    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.utils.endpoints import EndpointConfig

    patches.install()
    domain, tracker, nlg = _tracker_and_nlg()

    async def scenario() -> float:
        async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(30)
            writer.close()

        server = await asyncio.start_server(slow, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook", timeout=1)
        started = time.monotonic()
        with pytest.raises(action_calls.ActionServerUnavailable, match="no answer within 1 s"):
            await RemoteAction("action_start_case", endpoint).run(
                CollectingOutputChannel(), nlg, tracker, domain
            )
        server.close()
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 5
