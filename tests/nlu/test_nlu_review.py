"""make nlu-review on a tracker store written by Rasa's own SQLTrackerStore (real events).

The same extraction on a store filled by a real Rasa server conversation is in
tests/e2e/test_nlu_review.py.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from nlu_components import review

pytest.importorskip("rasa")

from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import (  # noqa: E402
    ActionExecuted,
    BotUttered,
    Restarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _user(text: str, intent: str, confidence: float, entities: List[Dict[str, Any]] = ()):
    return UserUttered(
        text,
        intent={"name": intent, "confidence": confidence},
        entities=list(entities),
        parse_data={
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": list(entities),
        },
    )


def _fill(db: Path, now: float) -> None:
    domain = Domain.load(str(ROOT / "domain.yml"))
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(db))
    events = [
        ActionExecuted("action_listen", timestamp=now - 60),
        _user("halo", "greet", 0.99),
        _user("zzqx blorp 0812 3456 7890", "nlu_fallback", 0.41),
        _user("resep rendang dong kak", "out_of_scope", 0.93),
        _user("plg kartunya error pas dipake", "grapari_online", 0.52),
        _user(
            "nomor plg 0812345",
            "inform",
            0.97,
            [{"entity": "msisdn", "value": "0812345", "start": 10, "end": 17}],
        ),
        ActionExecuted("sop_form"),
        SlotSet("msisdn", None),
        BotUttered("Nomor HP terlalu pendek (7 digit; seharusnya 10-13 digit)."),
        _user("email plg budi.santoso@gmail.com pulsa ga masuk", "pulsa_belum_masuk", 0.95),
        _user("batal", "stop", 0.99),
        Restarted(),
        _user("resep rendang dong kak", "out_of_scope", 0.91),
    ]
    tracker = DialogueStateTracker.from_events("agent-1", events, domain.slots)
    asyncio.run(store.save(tracker))
    old = DialogueStateTracker.from_events(
        "agent-old",
        [
            UserUttered(
                "xx old",
                intent={"name": "nlu_fallback", "confidence": 0.2},
                parse_data={"intent": {"name": "nlu_fallback", "confidence": 0.2}},
                timestamp=now - 30 * 86400,
            )
        ],
        domain.slots,
    )
    asyncio.run(store.save(old))
    store.engine.dispose()


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    db = tmp_path / "tracker.db"
    _fill(db, time.time())
    return db


def _entries(result: Dict[str, Any], reason: str) -> List[Dict[str, Any]]:
    return [e for entries in result["groups"][reason].values() for e in entries]


def test_review_lists_each_reason_masked_and_grouped(store: Path):
    result = review.review(f"sqlite:///{store}", days=7)
    fallback = _entries(result, "fallback")
    assert [e["text"] for e in fallback] == ["zzqx blorp 0812 **** *890"]  # old one is out
    oos = _entries(result, "out_of_scope")
    assert len(oos) == 1 and oos[0]["count"] == 2
    low = _entries(result, "low_confidence")
    assert [e["text"] for e in low] == ["plg kartunya error pas dipake"]
    assert low[0]["intent"] == "grapari_online" and low[0]["confidence"] == 0.52
    refused = _entries(result, "refused_value")
    assert refused[0]["example"] == "nomor plg [0812345](msisdn)"
    assert refused[0]["detail"].startswith("msisdn: Nomor HP terlalu pendek")
    restarted = _entries(result, "restarted")
    assert [e["text"] for e in restarted] == ["email plg b***@gmail.com pulsa ga masuk"]
    assert restarted[0]["detail"] == "batal"
    dumped = yaml.safe_dump(result, allow_unicode=True)
    assert "budi.santoso" not in dumped and "3456 7890" not in dumped
    # the greeting with high confidence is not listed
    assert "halo" not in [e["text"] for r in review.REASONS for e in _entries(result, r)]


def test_review_days_window(store: Path):
    result = review.review(f"sqlite:///{store}", days=60)
    texts = [e["text"] for e in _entries(result, "fallback")]
    assert "xx old" in texts


def test_cli_writes_yaml(store: Path, tmp_path: Path):
    out = tmp_path / "review.yml"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "nlu_review.py"),
            "--db-url",
            f"sqlite:///{store}",
            "--days",
            "3",
            "--out",
            str(out),
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["counts"]["fallback"] == 1 and data["counts"]["out_of_scope"] == 2


def test_cli_missing_store(tmp_path: Path):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "nlu_review.py"),
            "--db-url",
            f"sqlite:///{tmp_path / 'none.db'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "no tracker store" in proc.stderr


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "sqlite:///var/tracker.db"),
        (
            {
                "TRACKER_DB_HOST": "db",
                "TRACKER_DB_USER": "rasa",
                "TRACKER_DB_PASSWORD": "p@ss",
                "TRACKER_DB_NAME": "tracker",
                "TRACKER_DB_PORT": "5433",
            },
            "postgresql://rasa:p%40ss@db:5433/tracker",
        ),
    ],
)
def test_database_url_from_environment(env: Dict[str, str], url: str):
    assert review.database_url(env) == url
    assert "p%40ss" not in review.masked_url(review.database_url(env))
