"""The sample conversations of the common cases, one copy for the server tests and the
benchmark: what the agent types (``/affirm``, ``/deny`` and ``/inform{...}`` are button
presses) and the SOP answer it ends in. The clock is :data:`testkit.assistant.FIXED_NOW`
(Sunday 22 Nov 2026 10:00 WIB), so "kemarin jam 3 sore" is Saturday 15.00."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

SN = "0215123456789012345678901"
TRANSACTION_ID = "TRX20261121ABC"
YESTERDAY_3PM = "Sabtu, 21 Nov 2026 15.00 WIB"  # "kemarin jam 3 sore" on the ticket
PULSA_OPENING = "plg isi pulsa 50rb di indomaret blm masuk"


@dataclass(frozen=True)
class Sample:
    """``ticket``: fields the answer's ticket must show (a subset of them)."""

    name: str
    turns: Tuple[str, ...]
    case_id: str
    ticket: Mapping[str, str] = field(default_factory=dict)


def pulsa_turns(msisdn: str = "0812-3456-7890", sn: str = SN) -> List[str]:
    """The non-fintech pulsa case of the issue: 7 messages ending in the SOP answer (the
    reliability tests cut it and send its parts to different instances)."""
    return [PULSA_OPENING, msisdn, "kemarin jam 3 sore", sn, "/deny", "/deny", "/deny"]


# the case of the message: nominal and channel are taken from the opening
FINTECH = Sample(
    "pulsa fintech (gopay in MyTelkomsel)",
    (
        "pelanggan isi pulsa 50rb via gopay di mytelkomsel tp blm masuk",
        "0812-3456-7890",
        "kemarin jam 3 sore",
        TRANSACTION_ID,
        "/deny",
        "/deny",
        "/deny",
        "/affirm",
    ),
    "pulsa_belum_masuk.fintech",
    {
        "MSISDN": "081234567890",
        "Nominal isi ulang": "Rp50.000",
        "Transaksi ID": TRANSACTION_ID,
        "Waktu kendala (hari, tanggal, jam)": YESTERDAY_3PM,
    },
)
NON_FINTECH = Sample(
    "pulsa non-fintech (indomaret 25rb)",
    (
        "plg beli pulsa 25rb di indomaret blm masuk",
        "0813 1111 2222",
        "21/11/2026 09.30",
        SN,
        "/deny",
        "/deny",
        "/deny",
    ),
    "pulsa_belum_masuk.non_fintech",
    {"MSISDN": "081311112222", "Serial Number": SN},
)
INDOMARET = Sample(
    "pulsa non-fintech (indomaret)",
    tuple(pulsa_turns("081234567890")),
    "pulsa_belum_masuk.non_fintech",
    {
        "MSISDN": "081234567890",
        "Serial Number": SN,
        "Waktu kendala (hari, tanggal, jam)": YESTERDAY_3PM,
    },
)
# a 24-digit SN is refused ("25 digit") and typed again
BANK_INVALID_SN = Sample(
    "pulsa via ATM, invalid SN first",
    (
        "cust topup pulsa lewat atm bca 100rb blm nambah",
        "081298765432",
        "21/11/2026 09.30",
        "021512345678901234567890",
        SN,
        "/deny",
        "/deny",
        "/deny",
    ),
    "pulsa_belum_masuk.non_fintech",
    {"Serial Number": SN},
)
# a payment method the page does not cover: an uncertain answer
NOT_COVERED = Sample(
    "pulsa paid another way (not covered)",
    (
        "pelanggan isi pulsa 50rb di mytelkomsel bayar pakai metode lain tp blm masuk",
        "0812-3456-7890",
        "kemarin jam 3 sore",
        '/inform{"choice": "lainnya"}',
        "/deny",
        "/deny",
        "/deny",
        "/affirm",
    ),
    "pulsa_belum_masuk.tidak_tercakup",
)


def sop_result(messages: Sequence[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The ``sop_result`` payload (CONTRACT.md) among one reply's messages, if any."""
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "sop_result":
            return custom
    return None


def ending_problem(sample: Sample, last_reply: Sequence[Dict[str, Any]]) -> Optional[str]:
    """What is wrong with the last reply of ``sample``'s conversation (None: it is the
    expected SOP answer)."""
    result = sop_result(last_reply)
    if result is None:
        texts = " | ".join(str(m.get("text", ""))[:80] for m in last_reply)
        return f"last reply has no sop_result payload: {texts}"
    if result.get("case_id") != sample.case_id:
        return f"answer {result.get('case_id')}, expected {sample.case_id}"
    fields = (result.get("ticket") or {}).get("fields") or {}
    wrong = {k: fields.get(k) for k, v in sample.ticket.items() if fields.get(k) != v}
    return f"ticket fields {wrong}, expected {dict(sample.ticket)}" if wrong else None


def checked_answer(sample: Sample, last_reply: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """The ``sop_result`` of ``sample``'s last reply, asserted to be the expected answer."""
    problem = ending_problem(sample, last_reply)
    assert problem is None, f"{sample.name}: {problem}"
    result = sop_result(last_reply)
    assert result is not None
    return result
