"""No SOP data file can make the assistant print a login or an internal address.

The source pages had them replaced by [DIHAPUS] / [URL internal]; these tests prove that none
of those markers, nor a password, username or link, is in any text the engine can output:
every string of every SOP file (titles, questions, buttons, steps, warnings, ticket labels,
KIP, source) and every answer reachable by walking all branches of every SOP.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Dict, Iterator, List, Tuple
from zoneinfo import ZoneInfo

import pytest

from sop_engine.engine import Need, SopEngine, SopResult
from sop_engine.loader import NON_SOP_FILES, SOP_DIR, default_registry
from sop_engine.render import result_payload, result_text

BANNED = ("password", "username", "[dihapus]", "[url internal]", "http")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
SOP_IDS = sorted(default_registry().by_id)

# One valid value per free-text slot, and a spread of event times around the page's limits.
SLOT_VALUES: Dict[str, List[Any]] = {
    "msisdn": ["081234567890"],
    "nominal": [50000],
    "serial_number": ["0215123456789012345678901", "tidak_ada"],
    "transaction_id": ["TRX12345678"],
    "email": ["budi@gmail.com"],
    "order_id": ["GOL123456"],
    "sid": ["1192187997"],
    "account_number": ["4861675"],
    "courier": ["jne"],
    "event_time": [
        (NOW - delta).isoformat()
        for delta in (
            timedelta(minutes=10),
            timedelta(minutes=45),
            timedelta(hours=7),
            timedelta(hours=13, minutes=30),  # 20:30 the evening before
            timedelta(hours=30),
            timedelta(days=6),
        )
    ]
    # known only to the day: today (up to now) and yesterday
    + ["2026-11-22T00:00:00+07:00/2026-11-22T10:00:00+07:00"]
    + ["2026-11-21T00:00:00+07:00/2026-11-21T23:59:00+07:00"],
    "event_hour": ["08:00", "tidak_ada"],
}


def _candidates(engine: SopEngine, need: Need) -> List[Any]:
    if need.kind == "question":
        question = next(q for q in engine.sop.questions if q.name == need.name)
        return [True, False] if question.kind == "yes_no" else [o.value for o in question.options]
    spec = next(s for s in engine.sop.slots if s.name == need.name)
    if spec.buttons:
        return [b.value for b in spec.buttons]
    return SLOT_VALUES[need.name]


def explore(engine: SopEngine, now: datetime = NOW) -> Iterator[Tuple[Dict[str, Any], SopResult]]:
    """Every (answers, result) pair reachable by answering the engine's questions."""
    stack: List[Dict[str, Any]] = [{}]
    while stack:
        slots = stack.pop()
        decision = engine.evaluate(slots, now)
        if isinstance(decision, SopResult):
            yield slots, decision
            continue
        assert decision.name not in slots, f"{engine.sop.id}: asks {decision.name} again"
        assert len(slots) < 15, f"{engine.sop.id}: too many questions: {slots}"
        for value in _candidates(engine, decision):
            stack.append({**slots, decision.name: value})


@cache
def _results(sop_id: str) -> Tuple[Tuple[str, str], ...]:
    """(case_id, everything the agent sees: text + payload) of every reachable result."""
    engine = default_registry().by_id[sop_id]
    return tuple(
        (r.case_id, result_text(r) + "\n" + json.dumps(result_payload(r), ensure_ascii=False))
        for _, r in explore(engine)
    )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _offending(text: str) -> List[str]:
    lowered = text.lower()
    return [word for word in BANNED if word in lowered]


@pytest.mark.parametrize("sop_id", SOP_IDS)
def test_no_banned_word_in_any_string_of_the_sop_file(sop_id: str) -> None:
    sop = default_registry().by_id[sop_id].sop
    for text in _strings(sop.dict(by_alias=True)):
        assert not _offending(text), (sop_id, text)


def test_no_banned_word_in_the_raw_files_either() -> None:
    files = [p for p in SOP_DIR.glob("*.yaml") if p.name not in NON_SOP_FILES]
    assert len(files) == len(SOP_IDS)
    for path in files:
        assert not _offending(path.read_text(encoding="utf-8")), path.name


@pytest.mark.parametrize("sop_id", SOP_IDS)
def test_no_banned_word_in_any_reachable_answer(sop_id: str) -> None:
    results = _results(sop_id)
    assert results
    for case_id, shown in results:
        assert not _offending(shown), case_id


@pytest.mark.parametrize("sop_id", SOP_IDS)
def test_every_outcome_of_the_file_is_reachable(sop_id: str) -> None:
    sop = default_registry().by_id[sop_id].sop
    reached = {case_id.split(".", 1)[1] for case_id, _ in _results(sop_id)}
    assert set(sop.outcomes) <= reached, sorted(set(sop.outcomes) - reached)


def test_the_banned_word_check_works() -> None:
    assert _offending("Username : [DIHAPUS]") == ["username", "[dihapus]"]
    assert _offending("buka https://x") == ["http"]
    assert not _offending("Cek invoice di aplikasi TOS")
    assert re.search("http", "tsel.me/aktifkankartu") is None
