"""A crash in the middle of a form loses nothing the agent already typed.

kill -9 (no shutdown code runs) the Rasa server after the MSISDN and the time were given,
start it again, send the SN: the form goes on with the check questions, and the SOP answer
carries the MSISDN and the time given before the crash. Same for the action server, and for
SQLite (embedded) and PostgreSQL (production).
"""

from __future__ import annotations

import time
from typing import List

import pytest

from testkit import stores
from testkit.conversations import SN, pulsa_turns
from tests.reliability import harness as h
from tests.reliability.conftest import EmbeddedStack, Figures, ProductionStack

pytestmark = pytest.mark.servers

BUSY = "sistem sedang sibuk"


def _assert_pulsa_answer(reply: h.Reply, msisdn_digits: str) -> None:
    result = reply.sop_result()
    assert result is not None, reply.body
    assert result["case_id"] == "pulsa_belum_masuk.non_fintech"
    fields = result["ticket"]["fields"]
    assert fields["MSISDN"] == msisdn_digits
    assert fields["Serial Number"] == SN
    assert fields["Waktu kendala (hari, tanggal, jam)"] == "Sabtu, 21 Nov 2026 15.00 WIB"


def _before_sn(port: int, sender: str, msisdn: str) -> List[h.Reply]:
    replies = [h.say(port, sender, text) for text in pulsa_turns(msisdn)[:3]]
    assert all(r.status == 200 for r in replies)
    assert "SN" in replies[-1].text or "Serial" in replies[-1].text, replies[-1].body
    return replies


def _after_sn(port: int, sender: str) -> List[h.Reply]:
    replies = [h.say(port, sender, text) for text in pulsa_turns()[3:]]
    assert all(r.status == 200 for r in replies)
    return replies


def test_sqlite_rasa_server_killed_mid_form_resumes(
    embedded: EmbeddedStack, figures: Figures
) -> None:
    sender = h.new_sender("dur-sqlite")
    _before_sn(embedded.rasa_port, sender, "0812-3456-7890")
    embedded.rasa.kill9()
    restart = embedded.rasa.start()
    tracker = embedded.tracker(sender)
    assert tracker["slots"]["msisdn"] == "081234567890"
    assert tracker["active_loop"].get("name") == "sop_form"
    replies = _after_sn(embedded.rasa_port, sender)
    _assert_pulsa_answer(replies[-1], "081234567890")
    texts = stores.user_texts(embedded.tracker(sender)["events"])
    assert texts == pulsa_turns("0812-3456-7890")
    figures.record(
        "durability_sqlite_rasa_kill9",
        messages=7,
        messages_before_kill=3,
        restart_seconds=round(restart, 1),
        events_lost=0,
    )


def test_postgres_rasa_server_killed_mid_form_resumes(
    production: ProductionStack, figures: Figures
) -> None:
    first, second = production.ports
    sender = h.new_sender("dur-pg")
    other = h.new_sender("dur-pg-failover")
    _before_sn(first, sender, "0812-3456-7890")
    _before_sn(first, other, "0813-1111-2222")
    production.rasa[0].kill9()
    # While instance 1 is down, instance 2 serves the other conversation to its end.
    _assert_pulsa_answer(_after_sn(second, other)[-1], "081311112222")
    restart = production.rasa[0].start()
    replies = _after_sn(first, sender)
    _assert_pulsa_answer(replies[-1], "081234567890")
    for conversation, msisdn in ((sender, "0812-3456-7890"), (other, "0813-1111-2222")):
        stored = [text for _, text in h.pg_user_events(production.dbname)[conversation]]
        assert stored == pulsa_turns(msisdn)
    figures.record(
        "durability_postgres_rasa_kill9",
        conversations=2,
        messages=14,
        restart_seconds=round(restart, 1),
        events_lost=0,
        failover="second conversation finished on instance 2 while instance 1 was down",
    )


def test_action_server_killed_mid_form_busy_then_resumes(
    production: ProductionStack, figures: Figures
) -> None:
    port = production.ports[1]
    sender = h.new_sender("dur-actions")
    _before_sn(port, sender, "0812-3456-7890")
    production.actions.kill9()
    down = h.say(port, sender, SN)
    assert down.status == 200
    assert BUSY in down.text, down.body
    assert production.tracker(sender)["slots"]["serial_number"] is None  # turn undone
    started = time.monotonic()
    production.actions.start()
    restart = time.monotonic() - started
    replies = _after_sn(port, sender)  # the agent resends the SN, then answers the checks
    _assert_pulsa_answer(replies[-1], "081234567890")
    stored = [text for _, text in h.pg_user_events(production.dbname)[sender]]
    assert stored == pulsa_turns()[:4] + pulsa_turns()[3:]  # the SN twice: sent twice
    figures.record(
        "durability_action_server_kill9",
        messages=8,
        busy_answers_while_down=1,
        busy_answer_seconds=round(down.seconds, 2),
        action_server_restart_seconds=round(restart, 1),
        events_lost=0,
    )
