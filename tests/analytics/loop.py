"""Helpers of the TL-loop server tests: conversations, feedback, the ops figures."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any, Dict, List, Optional

import requests

SN = "0215123456789012345678901"
ANI_CASE = [
    "pelanggan isi pulsa 50rb via gopay di mytelkomsel tp blm masuk",
    "0812-3456-7890",
    "kemarin jam 3 sore",
    "TRX20261121ABC",
    "/deny",
    "/deny",
    "/deny",
    "/affirm",
]
BUDI_CASE = [
    "plg beli pulsa 25rb di indomaret blm masuk",
    "0813 1111 2222",
    "21/11/2026 09.30",
    SN,
    "/deny",
    "/deny",
    "/deny",
]
# a payment method the page does not cover: pulsa_belum_masuk.tidak_tercakup
UNCERTAIN_CASE = [
    "pelanggan isi pulsa 50rb di mytelkomsel bayar pakai metode lain tp blm masuk",
    "0812-3456-7890",
    "kemarin jam 3 sore",
    '/inform{"choice": "lainnya"}',
    "/deny",
    "/deny",
    "/deny",
    "/affirm",
]


def new_sender(prefix: str = "agent") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def say(base_url: str, sender: str, text: str) -> List[Dict[str, Any]]:
    response = requests.post(
        f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    response.raise_for_status()
    return list(response.json())


def sop_result(messages: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "sop_result":
            return custom
    return None


def run_case(base_url: str, sender: str, turns: List[str]) -> Dict[str, Any]:
    replies = [say(base_url, sender, text) for text in turns]
    result = sop_result(replies[-1])
    assert result is not None, replies[-1]
    return result


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
