"""Helpers of the TL-loop server tests: conversations, feedback, the ops figures."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any, Dict, List, Optional

import requests

from testkit.assistant import say
from testkit.conversations import Sample, checked_answer


def new_sender(prefix: str = "agent") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def run_case(base_url: str, sender: str, sample: Sample) -> Dict[str, Any]:
    """The sample's conversation through REST; its answer, checked to be the expected one."""
    replies = [say(base_url, sender, text) for text in sample.turns]
    return checked_answer(sample, replies[-1])


def give(base_url: str, body: Any = None, raw: Optional[bytes] = None) -> requests.Response:
    url = f"{base_url}/webhooks/feedback/"
    if raw is not None:
        return requests.post(url, data=raw, timeout=60)
    return requests.post(url, json=body, timeout=60)


def ops_get(base_url: str, path: str, token: Optional[str], **params: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{base_url}/ops/{path}", headers=headers, params=params, timeout=60)


def figures(base_url: str, token: str) -> Dict[str, Any]:
    response = ops_get(base_url, "data.json", token)
    assert response.status_code == 200, response.text
    return dict(response.json())


def csv_rows(base_url: str, token: str) -> List[Dict[str, str]]:
    response = ops_get(base_url, "cases.csv", token)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))
