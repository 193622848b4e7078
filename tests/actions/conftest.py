"""Tracker fixtures for action tests (as in RasaHQ's financial-demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", params=["selective", "full"])
def domain(request: pytest.FixtureRequest) -> Dict[str, Any]:
    """What the action server receives: nothing (endpoints.yml enable_selective_domain, as
    shipped) or the whole domain (an endpoints file without it); same answers either way."""
    if request.param == "selective":
        return {}
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_FIXED_NOW", "2026-11-22T10:00:00+07:00")


def make_tracker(
    slots: Optional[Dict[str, Any]] = None,
    intent: str = "inform",
    text: str = "",
    confidence: float = 0.99,
    events: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    latest = {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": entities or [],
        "text": text,
    }
    user_event = {"event": "user", "text": text, "parse_data": latest}
    return Tracker(
        sender_id="test",
        slots=dict(slots or {}),
        latest_message=latest,
        events=[user_event] + list(events or []),
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )
