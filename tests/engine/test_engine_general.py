"""General engine/schema features added for the five SOPs, tested on small synthetic SOP files:
tickets without a KIP category, lookups over list slots, and ``any_of`` derived facts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict

import pytest
from pydantic import ValidationError

from sop_engine.engine import NO_KIP_TEXT, NO_KIP_WARNING, Need, SopEngine, SopResult
from sop_engine.models import SopFile
from sop_engine.render import result_payload, result_text, ticket_text


def _sop(**overrides: Any) -> Dict[str, Any]:
    data: Dict[str, Any] = {
        "id": "demo",
        "intent": "demo",
        "title": "Demo",
        "page": "demo.txt",
        "source": "SOP-DEMO",
        "slots": [
            {
                "name": "kind",
                "validator": "choice",
                "ask": "Jenis?",
                "label": "Jenis",
                "ref": "A",
                "buttons": [{"value": "a", "title": "A"}, {"value": "b", "title": "B"}],
            },
            {
                "name": "event_time",
                "validator": "event_time",
                "ask": "Kapan?",
                "label": "Waktu",
                "ref": "B",
                "when": {"need_time": True},
            },
        ],
        "questions": [
            {"name": "check_first", "text": "Pertama?", "ref": "C"},
            {"name": "check_second", "text": "Kedua?", "ref": "C"},
        ],
        "derived": [
            {
                "name": "need_time",
                "op": "any_of",
                "conditions": [{"kind": "a"}, {"kind": "b", "check_first": True}],
            },
            {"name": "hours", "op": "hours_since", "of": "event_time"},
        ],
        "rules": [
            {"when": {"kind": "a", "hours": {"gt": 1}}, "outcome": "late"},
            {"when": {"kind": "a", "hours": {"lte": 1}}, "outcome": "early"},
            {"when": {"kind": "b", "check_first": True, "hours": {"gte": 0}}, "outcome": "b_timed"},
            {
                "when": {"kind": "b", "check_first": False, "check_second": True},
                "outcome": "b_untimed",
            },
        ],
        "outcomes": {
            "late": {
                "title": "Late",
                "ref": "D",
                "steps": [{"text": "late", "ref": "D"}],
                "ticket": {"kip": "K1-demo"},
            },
            "early": {
                "title": "Early",
                "ref": "D",
                "steps": [{"text": "early", "ref": "D"}],
                "ticket": {"extra_fields": [{"label": "Detail"}]},
            },
            "b_timed": {"title": "B timed", "ref": "E", "steps": [{"text": "b", "ref": "E"}]},
            "b_untimed": {"title": "B", "ref": "E", "steps": [{"text": "b", "ref": "E"}]},
        },
    }
    data.update(overrides)
    return data


def _engine(**overrides: Any) -> SopEngine:
    return SopEngine(SopFile.parse_obj(_sop(**overrides)))


# -- tickets without a KIP category ---------------------------------------------------------


def test_ticket_without_kip_is_null_in_payload_and_said_in_text(now: datetime) -> None:
    result = _engine().evaluate({"kind": "a", "event_time": "2026-11-22T09:30:00+07:00"}, now)
    assert isinstance(result, SopResult)
    assert result.case_id == "demo.early"
    assert result.ticket is not None
    assert not result.ticket.kip_on_page
    payload = result_payload(result)
    assert payload["ticket"]["kip"] is None
    assert payload["ticket"]["required"] is True
    assert payload["ticket"]["missing"] == ["Detail"]
    assert ticket_text(result.ticket).startswith(f"KIP: {NO_KIP_TEXT}")
    assert NO_KIP_WARNING in result.warnings
    assert "None" not in result_text(result)


def test_ticket_with_kip_is_unchanged(now: datetime) -> None:
    result = _engine().evaluate({"kind": "a", "event_time": "2026-11-22T07:00:00+07:00"}, now)
    assert result.case_id == "demo.late"
    assert result.ticket.kip == "K1-demo"
    assert result.ticket.kip_on_page
    assert result.as_payload()["ticket"]["kip"] == "K1-demo"
    assert NO_KIP_WARNING not in result.warnings


# -- any_of ---------------------------------------------------------------------------------


def test_any_of_makes_a_slot_required_by_either_alternative(now: datetime) -> None:
    engine = _engine()
    assert engine.evaluate({}, now) == Need("slot", "kind")
    # first alternative holds at once
    assert engine.evaluate({"kind": "a"}, now) == Need("slot", "event_time")
    # second alternative undecided: the time is not asked yet, the rules ask check_first
    assert engine.evaluate({"kind": "b"}, now) == Need("question", "check_first")
    facts = engine.facts({"kind": "b"}, now)
    assert facts["need_time"] is None
    assert "event_time" not in engine.required_slots(facts)
    # second alternative holds after the answer
    assert engine.evaluate({"kind": "b", "check_first": True}, now) == Need("slot", "event_time")
    # every alternative false: never asked
    facts = engine.facts({"kind": "b", "check_first": False}, now)
    assert facts["need_time"] is False
    assert engine.evaluate({"kind": "b", "check_first": False}, now) == Need(
        "question", "check_second"
    )
    result = engine.evaluate({"kind": "b", "check_first": False, "check_second": True}, now)
    assert result.case_id == "demo.b_untimed"


def test_rule_on_an_any_of_fact_asks_what_the_undecided_alternative_needs(now: datetime) -> None:
    rules = [
        {"when": {"kind": "b", "need_time": True}, "outcome": "b_timed"},
        {"when": {"kind": "b", "need_time": False}, "outcome": "b_untimed"},
    ]
    outcomes = {k: v for k, v in _sop()["outcomes"].items() if k.startswith("b_")}
    engine = _engine(rules=rules, outcomes=outcomes)
    assert engine.evaluate({"kind": "b"}, now) == Need("question", "check_first")


def test_any_of_schema_checks() -> None:
    bad_derived = [
        ({"name": "x", "op": "any_of", "conditions": [{"kind": "a"}]}, "at least two"),
        (
            {
                "name": "x",
                "op": "any_of",
                "of": "kind",
                "conditions": [{"kind": "a"}, {"kind": "b"}],
            },
            "not 'of'",
        ),
        ({"name": "x", "op": "lookup", "table": {"a": 1}}, "needs 'of'"),
        (
            {"name": "x", "op": "any_of", "conditions": [{"kind": "a"}, {"typo": True}]},
            "unknown fact 'typo'",
        ),
    ]
    for derived, message in bad_derived:
        with pytest.raises(ValidationError, match=message):
            SopFile.parse_obj(_sop(derived=_sop()["derived"] + [derived]))


def test_derived_fact_cannot_use_a_later_one() -> None:
    derived = _sop()["derived"] + [
        {"name": "early_one", "op": "any_of", "conditions": [{"kind": "a"}, {"later": True}]},
        {"name": "later", "op": "any_in", "of": "kind", "values": ["a"]},
    ]
    with pytest.raises(ValidationError, match="'later', which is derived later"):
        SopFile.parse_obj(_sop(derived=derived))
    itself = _sop()["derived"] + [{"name": "me", "op": "any_in", "of": "me", "values": [1]}]
    with pytest.raises(ValidationError, match="derived later"):
        SopFile.parse_obj(_sop(derived=itself))


# -- lookup over a list slot ----------------------------------------------------------------


def test_lookup_maps_every_value_of_a_list_slot(now: datetime) -> None:
    slots = _sop()["slots"] + [
        {
            "name": "layanan",
            "validator": "layanan",
            "ask": "Layanan?",
            "label": "Layanan",
            "ref": "F",
            "multiple": True,
        },
    ]
    derived = _sop()["derived"] + [
        {
            "name": "layanan_tampil",
            "op": "lookup",
            "of": "layanan",
            "table": {"voice": "VOICE", "sms": "SMS"},
            "default": "?",
        },
    ]
    outcomes = dict(_sop()["outcomes"])
    outcomes["early"] = {
        "title": "Early",
        "ref": "D",
        "steps": [{"text": "layanan: {layanan_tampil}", "ref": "D"}],
    }
    engine = _engine(slots=slots, derived=derived, outcomes=outcomes)
    base = {"kind": "a", "event_time": "2026-11-22T09:30:00+07:00"}
    many = engine.evaluate({**base, "layanan": ["voice", "sms", "mms"]}, now)
    assert many.steps == ["layanan: VOICE / SMS / ?"]
    one = engine.evaluate({**base, "layanan": ["sms"]}, now)
    assert one.steps == ["layanan: SMS"]
    assert engine.facts({**base, "layanan": "voice"}, now)["layanan_tampil"] == "VOICE"


# -- the real SOP files ---------------------------------------------------------------------


def test_shared_slots_and_question_names_are_consistent_across_sop_files() -> None:
    """All SOPs share the Rasa slot namespace: a data slot means the same in every file, and
    check questions carry a per-SOP prefix so that no two files declare the same one."""
    from sop_engine.loader import default_registry

    seen: Dict[str, Any] = {}
    questions: Dict[str, str] = {}
    for engine in default_registry().by_id.values():
        for slot in engine.sop.slots:
            spec = (slot.validator, slot.entity, slot.multiple)
            assert seen.setdefault(slot.name, spec) == spec, (engine.sop.id, slot.name)
        for question in engine.sop.questions:
            assert question.name not in questions, (question.name, questions.get(question.name))
            questions[question.name] = engine.sop.id
    prefixes = {
        "nomor_belum_aktif_setelah_bayar": "check_bayar_",
        "grapari_online": "check_gol_",
        "callback": "check_cb_",
        "imes_tagihan": "check_imes_",
    }
    for name, sop_id in questions.items():
        if sop_id in prefixes:
            assert name.startswith(prefixes[sop_id]), name
