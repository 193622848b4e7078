"""Talks to the real servers through the REST channel until the SOP answer and ticket."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Optional

import pytest

from tests.e2e.servers import Servers

pytestmark = pytest.mark.servers
SN = "0215123456789012345678901"


def payload_of(messages: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "sop_result":
            return custom
    return None


def converse(servers: Servers, turns: List[str]) -> List[List[Dict[str, Any]]]:
    sender = f"agent-{uuid.uuid4().hex[:8]}"
    return [servers.say(sender, text) for text in turns]


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def test_fintech_branch_from_the_issue_message(servers: Servers) -> None:
    replies = converse(
        servers,
        [
            "pelanggan isi pulsa 50rb via gopay di mytelkomsel tp blm masuk",
            "0812-3456-7890",
            "kemarin jam 3 sore",
            "TRX20261121ABC",
            "/deny",
            "/deny",
            "/deny",
            "/affirm",
        ],
    )
    assert "MSISDN" in texts(replies[0])  # nominal and channel were taken from the message
    result = payload_of(replies[-1])
    assert result is not None, replies[-1]
    assert result["case_id"] == "pulsa_belum_masuk.fintech"
    assert result["ticket"]["fields"]["MSISDN"] == "081234567890"
    assert result["ticket"]["fields"]["Nominal isi ulang"] == "Rp50.000"
    assert result["ticket"]["fields"]["Transaksi ID"] == "TRX20261121ABC"
    assert result["ticket"]["fields"]["Waktu kendala (hari, tanggal, jam)"] == (
        "Sabtu, 21 Nov 2026 15.00 WIB"
    )
    assert any("SLA 1x24 jam" in step for step in result["steps"])


def test_bank_branch_with_an_invalid_sn_first(servers: Servers) -> None:
    replies = converse(
        servers,
        [
            "cust topup pulsa lewat atm bca 100rb blm nambah",
            "081298765432",
            "21/11/2026 09.30",
            "021512345678901234567890",
            SN,
            "/deny",
            "/deny",
            "/deny",
        ],
    )
    assert "25 digit" in texts(replies[3])
    result = payload_of(replies[-1])
    assert result is not None, replies[-1]
    assert result["case_id"] == "pulsa_belum_masuk.non_fintech"
    assert result["ticket"]["fields"]["Serial Number"] == SN
    assert any("Bukti 081298765432" in step for step in result["steps"])


def test_non_fintech_branch_and_stop(servers: Servers) -> None:
    replies = converse(
        servers,
        ["pulsa blm masuk", "batal"],
    )
    assert "dibatalkan" in texts(replies[-1])
    replies = converse(
        servers,
        [
            "plg beli pulsa 25rb di indomaret blm masuk",
            "0813 1111 2222",
            "tadi pagi",
            SN,
            "/deny",
            "/deny",
            "/deny",
        ],
    )
    result = payload_of(replies[-1])
    assert result is not None, replies[-1]
    assert result["case_id"] == "pulsa_belum_masuk.non_fintech"
    assert not any("cs@telkomsel.com" in step for step in result["steps"])
