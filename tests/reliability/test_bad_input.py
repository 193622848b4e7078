"""Bad input through the JSON webhooks (REST and the agent widget): each kind gets a clear
answer (HTTP 200 with a non-empty Indonesian text) or a 4xx with an error message, never a
5xx or a stack trace, and the conversation keeps its slots and reaches its SOP answer.

The input guard of the channels (channels/guard.py) caps the length before NLU, so 10,000
and 100,000 characters cost milliseconds and no memory (stock Rasa: 43 s and +15 GB for
100,000). Telegram and WhatsApp need signed platform requests; their bad-input cases are in
tests/channels/.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Tuple

import pytest

from tests.reliability import harness as h
from tests.reliability.conftest import EmbeddedStack, Figures

pytestmark = pytest.mark.servers

ZWSP_SN = "0215123456\u200b789012345678901"


def _body(sender: str, message: Any) -> bytes:
    return json.dumps({"sender": sender, "message": message}).encode("utf-8")


def bad_inputs(sender: str) -> List[Tuple[str, bytes]]:
    """(kind, raw request body); the conversation is waiting for the SN meanwhile."""
    return [
        ("empty text", _body(sender, "")),
        ("whitespace only", _body(sender, "   \n\t  \u3000 ")),
        ("null message", _body(sender, None)),
        ("10,000 characters", _body(sender, "pulsa blm masuk " * 625)),
        ("100,000 characters", _body(sender, "x" * 100_000)),
        ("emoji only", _body(sender, "🙏🙏😭📱")),
        ("control characters and NUL", _body(sender, "\x00\x01\x02\x07\x08\x0b\x1b\x7f\x00")),
        ("NUL inside text", _body(sender, "ok\x00 sip\x1b[31m")),
        ("invalid UTF-8", b'{"sender": "' + sender.encode() + b'", "message": "\xff\xfe\xfa"}'),
        ("invalid JSON", b'{"sender": "' + sender.encode() + b'", "message": '),
        ("JSON array", b"[]"),
        ("JSON string", b'"pulsa blm masuk"'),
        ("sender not a string", json.dumps({"sender": 123, "message": "halo"}).encode()),
        ("message a list", _body(sender, ["pulsa", "blm", "masuk"])),
        ("message an object", _body(sender, {"text": "halo"})),
        ("message a number", _body(sender, 12345)),
        (
            "metadata a string",
            json.dumps({"sender": sender, "message": "x", "metadata": "x"}).encode(),
        ),
        ("missing sender", json.dumps({"message": "pulsa blm masuk"}).encode()),
        (
            "HTML and script",
            _body(sender, "<script>alert('x')</script><img src=x onerror=alert(1)>"),
        ),
        ("SQL-looking", _body(sender, "'; DROP TABLE events; -- 1' OR '1'='1")),
        ("right-to-left text", _body(sender, "\u202eلا يوجد رصيد\u202c שלום")),
    ]


def _check(kind: str, reply: h.Reply) -> Dict[str, Any]:
    raw = reply.raw.decode("utf-8", errors="replace")
    assert reply.status < 500, f"{kind}: HTTP {reply.status} {raw[:300]}"
    assert "Traceback" not in raw and 'File "' not in raw, f"{kind}: {raw[:300]}"
    if reply.status == 200:
        assert reply.messages and reply.text.strip(), f"{kind}: empty answer {raw[:300]}"
        assert "<script" not in reply.text, f"{kind}: script echoed {reply.text[:300]}"
    else:
        assert 400 <= reply.status < 500
        assert isinstance(reply.body, dict) and reply.body.get("error"), f"{kind}: {raw[:300]}"
    return {"kind": kind, "status": reply.status, "seconds": round(reply.seconds, 3)}


@pytest.mark.parametrize("channel", ["rest", "widget"])
def test_bad_input_gets_an_answer_or_4xx_and_keeps_the_conversation(
    embedded: EmbeddedStack, figures: Figures, channel: str
) -> None:
    port = embedded.rasa_port
    url = f"http://127.0.0.1:{port}/webhooks/{channel}/webhook"
    sender = f"w-{h.new_sender('bad')}" if channel == "widget" else h.new_sender("bad")
    for text in h.pulsa_turns()[:3]:
        reply = h.post_raw(url, _body(sender, text))
        assert reply.status == 200, reply.raw[:300]
    expected = {
        k: embedded.tracker(sender)["slots"][k] for k in ("msisdn", "nominal", "event_time")
    }
    assert expected["msisdn"] == "081234567890"

    rss_before = h.rss_mb(embedded.rasa.pid)
    outcomes = []
    for kind, body in bad_inputs(sender):
        started = time.monotonic()
        outcomes.append(_check(kind, h.post_raw(url, body)))
        if kind.endswith("characters"):
            assert time.monotonic() - started < 3.0, f"{kind} reached NLU?"
        tracker = embedded.tracker(sender)
        kept = {k: tracker["slots"][k] for k in expected}
        assert kept == expected, f"slots changed by {kind}: {kept}"
        assert tracker["slots"]["serial_number"] is None, kind
    rss_growth = h.rss_mb(embedded.rasa.pid) - rss_before
    assert rss_growth < 150, f"server grew by {rss_growth:.0f} MB"

    # The SN with a zero-width space inside is the SN; then the checks and the SOP answer.
    outcomes.append(
        _check("25-digit SN with a zero-width space", h.post_raw(url, _body(sender, ZWSP_SN)))
    )
    assert embedded.tracker(sender)["slots"]["serial_number"] == h.SN
    replies = [h.post_raw(url, _body(sender, "/deny")) for _ in range(3)]
    result = replies[-1].sop_result()
    assert result is not None, replies[-1].body
    assert result["case_id"] == "pulsa_belum_masuk.non_fintech"
    assert result["ticket"]["fields"]["Serial Number"] == h.SN
    assert result["ticket"]["fields"]["MSISDN"] == "081234567890"

    figures.record(
        f"bad_input_{channel}",
        kinds=len(outcomes),
        answered_200=sum(1 for o in outcomes if o["status"] == 200),
        refused_4xx=sum(1 for o in outcomes if 400 <= o["status"] < 500),
        server_errors_5xx=sum(1 for o in outcomes if o["status"] >= 500),
        slowest_seconds=max(o["seconds"] for o in outcomes),
        rss_growth_mb=round(rss_growth, 1),
        outcomes=outcomes,
        slots_lost=0,
    )
