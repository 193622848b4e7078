"""Which values survive when a case starts (sop_engine.case_switch), without Rasa: the same
case again, a switch away from an unfinished form, a new case after a finished one, the first
case, memory restore, and a negated entity."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence

import pytest

from sop_engine.case_switch import CaseStart, plan_case_start
from sop_engine.engine import SopEngine
from sop_engine.loader import default_registry

NOW = datetime(2026, 3, 10, 5, 0, tzinfo=timezone.utc)
MSISDN = "081234567890"


def _engine(sop_id: str) -> SopEngine:
    return default_registry().by_id[sop_id]


def _start(
    old: Optional[str],
    *,
    form_was_active: bool = False,
    current: Optional[Dict[str, Any]] = None,
    before: Optional[Dict[str, Any]] = None,
    fresh: Optional[Dict[str, Any]] = None,
    memory: Optional[Dict[str, Dict[str, Any]]] = None,
    negated: Optional[List[str]] = None,
) -> CaseStart:
    earlier = dict(before or {})

    def values_before(names: Sequence[str]) -> Dict[str, Any]:
        return {k: earlier[k] for k in names if earlier.get(k) is not None}

    return CaseStart(
        old=_engine(old) if old else None,
        form_was_active=form_was_active,
        memory=dict(memory or {}),
        current=dict(current or {}),
        fresh=dict(fresh or {}),
        negated=list(negated or []),
        values_before=values_before,
    )


def test_first_case_keeps_everything_already_said() -> None:
    plan = plan_case_start(
        _engine("pulsa_belum_masuk"), _start(None, current={"msisdn": MSISDN}), NOW
    )
    assert plan.values["msisdn"] == MSISDN
    assert plan.lines == [] and plan.memory == {}


def test_same_case_again_mid_form_resets_nothing() -> None:
    current = {"msisdn": MSISDN, "nominal": 50000, "channel": "gopay"}
    plan = plan_case_start(
        _engine("pulsa_belum_masuk"),
        _start("pulsa_belum_masuk", form_was_active=True, current=current),
        NOW,
    )
    assert {k: plan.values.get(k) for k in current} == current
    assert plan.lines == []


def test_switch_mid_form_puts_the_old_case_aside_with_its_validated_values() -> None:
    plan = plan_case_start(
        _engine("callback"),
        _start(
            "pulsa_belum_masuk",
            form_was_active=True,
            # the switching message carried a stray nominal never validated for the old case
            current={"msisdn": MSISDN, "nominal": 999},
            before={"msisdn": MSISDN, "nominal": 50000},
        ),
        NOW,
    )
    assert plan.memory == {"pulsa_belum_masuk": {"msisdn": MSISDN, "nominal": 50000}}
    assert plan.values.get("msisdn") is None  # the new case starts empty
    assert plan.lines[0].startswith('Kasus "') and "saya simpan" in plan.lines[0]


def test_coming_back_restores_the_case_put_aside() -> None:
    plan = plan_case_start(
        _engine("pulsa_belum_masuk"),
        _start(
            "callback",
            form_was_active=True,
            memory={"pulsa_belum_masuk": {"msisdn": MSISDN, "nominal": 50000}},
            before={"callback_case": "call_terputus"},
        ),
        NOW,
    )
    assert plan.values["msisdn"] == MSISDN and plan.values["nominal"] == 50000
    assert "pulsa_belum_masuk" not in plan.memory
    assert plan.memory["callback"] == {"callback_case": "call_terputus"}
    assert plan.lines[-1].startswith("Melanjutkan kasus")
    assert "MSISDN" in plan.lines[-1]


def test_after_a_finished_case_only_the_identity_survives() -> None:
    plan = plan_case_start(
        _engine("nomor_belum_aktif_setelah_bayar"),
        _start("pulsa_belum_masuk", current={"msisdn": MSISDN, "nominal": 50000}),
        NOW,
    )
    assert plan.values.get("msisdn") == MSISDN
    assert plan.values.get("nominal") is None
    assert "0812" in plan.lines[0] and MSISDN not in plan.lines[0]  # masked


def test_after_a_finished_case_without_msisdn_no_note() -> None:
    plan = plan_case_start(
        _engine("callback"), _start("imes_tagihan", current={"sid": "12345"}), NOW
    )
    assert plan.lines == []
    assert plan.values.get("sid") is None


def test_fresh_values_win_and_are_validated() -> None:
    plan = plan_case_start(
        _engine("pulsa_belum_masuk"),
        _start(None, current={"msisdn": MSISDN}, fresh={"msisdn": "+62 812-9999-8888"}),
        NOW,
    )
    assert plan.values["msisdn"] == "081299998888"


def test_a_refused_value_gives_the_reason() -> None:
    plan = plan_case_start(_engine("pulsa_belum_masuk"), _start(None, fresh={"msisdn": "12"}), NOW)
    assert plan.values.get("msisdn") in (None, "12") and plan.values.get("msisdn") != MSISDN
    assert plan.messages, "a refused MSISDN must be explained to the agent"


@pytest.mark.parametrize("before, expected", [({"msisdn": MSISDN}, MSISDN), ({}, None)])
def test_negated_entity_keeps_the_value_from_before(
    before: Dict[str, Any], expected: Optional[str]
) -> None:
    plan = plan_case_start(
        _engine("pulsa_belum_masuk"),
        _start(None, fresh={"msisdn": "blm ada"}, before=before, negated=["msisdn"]),
        NOW,
    )
    assert plan.values.get("msisdn") == expected
