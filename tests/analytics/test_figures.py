"""Cases and figures from broker events, the ops query and auth, feedback parsing: pure
functions, table-driven, bad input included."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Dict, List
from zoneinfo import ZoneInfo

import pytest

from analytics.figures import cases_csv, extract, figures, mask
from analytics.ops import OpsError, check_auth, parse_period
from channels.feedback import (
    FeedbackError,
    agent_messages_before,
    case_values,
    parse_feedback,
    tl_message,
)

WIB = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=WIB).timestamp()
TOKEN = "t" * 24


def user(sender: str, ts: float, text: str, intent: str = "inform", channel: str = "rest"):
    return {
        "sender_id": sender,
        "event": "user",
        "timestamp": ts,
        "text": text,
        "input_channel": channel,
        "parse_data": {"intent": {"name": intent}},
    }


def answer(sender: str, ts: float, case_id: str, answer_id: str, uncertain: bool = False):
    return {
        "sender_id": sender,
        "event": "bot",
        "timestamp": ts,
        "text": "Hasil SOP",
        "data": {
            "custom": {
                "type": "sop_result",
                "case_id": case_id,
                "answer_id": answer_id,
                "uncertain": uncertain,
                "ticket": {"fields": {"MSISDN": "081234567890"}},
            }
        },
    }


def fb(sender: str, ts: float, answer_id: str, kind: str, **extra: Any) -> Dict[str, Any]:
    value = {"kind": kind, "answer_id": answer_id, **extra}
    return {
        "sender_id": sender,
        "event": "slot",
        "timestamp": ts,
        "name": "feedback_event",
        "value": value,
    }


def conversation() -> List[Dict[str, Any]]:
    return [
        user("a1", T0, "pulsa 0812-3456-7890 blm masuk", "pulsa_belum_masuk"),
        user("a1", T0 + 10, "kemarin"),
        answer("a1", T0 + 30, "pulsa_belum_masuk.fintech", "a" * 12),
        fb("a1", T0 + 40, "a" * 12, "down"),
        fb("a1", T0 + 45, "a" * 12, "reason", reason="SLA salah utk 081234567890"),
        user("w-12345678", T0 + 100, "asdfgh", "nlu_fallback", "widget"),
        {
            "sender_id": "w-12345678",
            "event": "action",
            "timestamp": T0 + 101,
            "name": "action_offer_cases",
        },
        user("w-12345678", T0 + 110, "resep nasi goreng", "out_of_scope", "widget"),
        user("w-12345678", T0 + 120, "imes tidak bisa bayar", "imes_tagihan", "widget"),
        answer("w-12345678", T0 + 125, "imes_tagihan.tidak_tercakup", "b" * 12, True),
        fb("w-12345678", T0 + 130, "b" * 12, "ask_tl"),
        fb("w-12345678", T0 + 131, "b" * 12, "copy_ticket"),
        {
            "sender_id": "a1",
            "event": "bot",
            "timestamp": T0 + 200,
            "text": "Maaf, sistem sedang sibuk. Coba kirim lagi sebentar lagi.",
            "metadata": {"utter_action": "utter_action_unavailable"},
        },
        # another day: outside the period below
        user("a1", T0 + 86400 * 3, "pulsa", "pulsa_belum_masuk"),
        answer("a1", T0 + 86400 * 3 + 5, "pulsa_belum_masuk.fintech", "c" * 12),
    ]


def test_figures_of_a_day() -> None:
    data = extract(conversation())
    day = date(2026, 11, 22)
    got = figures(data, day, day, WIB)
    assert got["totals"]["cases"] == 2
    assert got["totals"]["messages"] == 5
    assert got["totals"]["fallback"] == 1 and got["totals"]["fallback_rate"] == 0.2
    assert got["totals"]["out_of_scope"] == 1
    assert got["totals"]["uncertain"] == 1 and got["totals"]["tidak_tercakup"] == 1
    assert got["totals"]["busy"] == 1
    assert got["per_sop"] == {"pulsa_belum_masuk": 1, "imes_tagihan": 1}
    assert got["per_channel"] == {"rest": 1, "widget": 1}
    assert got["cases_per_day"] == [{"day": "2026-11-22", "cases": 2}]
    assert got["feedback"]["down"] == 1 and got["feedback"]["ask_tl"] == 1
    assert got["feedback"]["copy_ticket"] == 1 and got["feedback"]["up"] == 0
    # turns and seconds from the first message after the previous answer
    assert got["turns"]["max"] == 3.0  # the widget case: 3 messages
    assert got["seconds"] == {"mean": 27.5, "median": 27.5, "max": 30.0}
    down = got["thumbs_down"]
    assert len(down) == 1 and down[0]["case_id"] == "pulsa_belum_masuk.fintech"
    assert down[0]["reason"] == "SLA salah utk 0812****7890"
    assert down[0]["messages"][0] == "pulsa 0812****7890 blm masuk"
    assert [m["text"] for m in got["fallback_messages"]] == ["asdfgh"]
    assert "081234567890" not in repr(got)


def test_figures_of_a_longer_period_and_an_empty_one() -> None:
    data = extract(conversation())
    week = figures(data, date(2026, 11, 20), date(2026, 11, 26), WIB)
    assert week["totals"]["cases"] == 3 and len(week["cases_per_day"]) == 7
    empty = figures(data, date(2025, 1, 1), date(2025, 1, 2), WIB)
    assert empty["totals"]["cases"] == 0 and empty["turns"]["mean"] is None


def test_cases_csv_masks_and_counts() -> None:
    text = cases_csv(extract(conversation()), date(2026, 11, 22), date(2026, 11, 22), WIB)
    lines = text.strip().split("\n")
    assert lines[0] == "time,agent,channel,sop,case_id,uncertain,feedback,turns,seconds,msisdn"
    assert len(lines) == 3
    assert "0812****7890" in text and "081234567890" not in text
    assert ",pulsa_belum_masuk.fintech,tidak,down,2,30.0," in lines[1]


def test_cases_behind_the_proxy_are_counted_with_the_agent_id() -> None:
    events = [
        {
            **user("w-1", T0, "pulsa blm masuk", "pulsa_belum_masuk", "widget"),
            "metadata": {"agent_id": "budi.cho"},
        },
        answer("w-1", T0 + 5, "pulsa_belum_masuk.fintech", "d" * 12),
        user("w-2", T0 + 60, "pulsa blm masuk", "pulsa_belum_masuk", "widget"),
        answer("w-2", T0 + 65, "pulsa_belum_masuk.fintech", "e" * 12),
    ]
    text = cases_csv(extract(events), date(2026, 11, 22), date(2026, 11, 22), WIB)
    agents = [line.split(",")[1] for line in text.strip().split("\n")[1:]]
    assert agents == ["budi.cho", "w-2"]  # without the proxy: the conversation


def test_events_that_are_not_ours_are_ignored() -> None:
    junk = [
        {"event": "user"},
        {"sender_id": "x", "event": "slot", "name": "feedback_event", "value": "nope"},
        {"sender_id": "x", "event": "slot", "name": "feedback_event", "value": {"kind": "??"}},
        {"sender_id": "x", "event": "bot", "data": {"custom": {"type": "other"}}},
    ]
    data = extract(junk)
    assert data.cases == [] and data.feedback == []


@pytest.mark.parametrize(
    "text, masked",
    [
        ("0812-3456-7890", "0812****7890"),
        ("+62 812 3456 7890", "6281*****7890"),
        ("sn 0215123456789012345678901", "sn *********************8901"),
        ("budi@example.com", "b***@example.com"),
        ("tg:-100155:700001", "tg:-100155:700001"),
    ],
)
def test_mask(text: str, masked: str) -> None:
    assert mask(text) == masked


TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    "args, expected",
    [
        ({}, (date(2026, 11, 16), TODAY)),
        ({"from": ["2026-11-01"], "to": ["2026-11-02"]}, (date(2026, 11, 1), date(2026, 11, 2))),
        ({"to": ["2026-11-10"]}, (date(2026, 11, 4), date(2026, 11, 10))),
        ({"from": ["2026-11-22"], "to": ["2026-11-22"]}, (TODAY, TODAY)),
    ],
)
def test_period(args: Dict[str, Any], expected: Any) -> None:
    assert parse_period(args, TODAY) == expected


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"x": ["1"]}, "tidak dikenal"),
        ({"from": ["2026-11-01", "2026-11-02"]}, "sekali"),
        ({"from": ["22/11/2026"]}, "YYYY-MM-DD"),
        ({"from": ["2026-02-30"]}, "bukan tanggal"),
        ({"from": ["2026-11-03"], "to": ["2026-11-02"]}, "sebelum"),
        ({"from": ["2024-01-01"], "to": ["2026-01-01"]}, "maksimal"),
        ({"from": ["' OR 1=1 --"]}, "YYYY-MM-DD"),
    ],
)
def test_bad_period_is_400(args: Dict[str, Any], fragment: str) -> None:
    with pytest.raises(OpsError) as error:
        parse_period(args, TODAY)
    assert error.value.status == 400 and fragment in error.value.message


def assert_auth(headers: Dict[str, str], status: Any) -> None:
    """check_auth lets ``headers`` through (``status`` None) or refuses them with ``status``."""
    if status is None:
        check_auth(headers)
        return
    with pytest.raises(OpsError) as error:
        check_auth(headers)
    assert error.value.status == status


@pytest.mark.parametrize(
    "env_token, header, status",
    [
        ("", f"Bearer {TOKEN}", 404),
        ("short", "Bearer short", 404),  # a token under 16 characters leaves the page off
        (TOKEN, "", 401),
        (TOKEN, "Bearer wrong-token-of-24-chars!", 403),
        (TOKEN, f"Basic {TOKEN}", 403),
        (TOKEN, f"Bearer {TOKEN}", None),
        (TOKEN, f"bearer {TOKEN}", None),
    ],
)
def test_auth(monkeypatch: pytest.MonkeyPatch, env_token: str, header: str, status: Any) -> None:
    monkeypatch.setenv("OPS_TOKEN", env_token)
    monkeypatch.delenv("AGENT_PROXY_SECRET", raising=False)
    headers = {"authorization": header} if header else {}
    assert_auth(headers, status)


PROXY_SECRET = "s" * 32
TL = {"X-Agent-Proxy-Secret": PROXY_SECRET, "X-Agent-Id": "tl.rina", "X-Agent-Role": "tl"}


@pytest.mark.parametrize(
    "env_token, secret, headers, status",
    [
        ("", "", TL, 404),  # neither OPS_TOKEN nor the proxy identity: the page is off
        ("", PROXY_SECRET, TL, None),
        (TOKEN, PROXY_SECRET, TL, None),
        ("", PROXY_SECRET, {}, 401),
        ("", PROXY_SECRET, {**TL, "X-Agent-Role": ""}, 403),  # an agent's login
        ("", PROXY_SECRET, {k: v for k, v in TL.items() if k != "X-Agent-Role"}, 403),
        ("", PROXY_SECRET, {**TL, "X-Agent-Role": "agent"}, 403),
        ("", PROXY_SECRET, {**TL, "X-Agent-Proxy-Secret": "x" * 32}, 403),  # forged
        ("", PROXY_SECRET, {**TL, "X-Agent-Id": "bad name!"}, 403),
        ("", PROXY_SECRET, {**TL, "X-Agent-Id": ""}, 403),
        ("", PROXY_SECRET, {"authorization": f"Bearer {TOKEN}"}, 401),  # no OPS_TOKEN
        (TOKEN, PROXY_SECRET, {"authorization": f"Bearer {TOKEN}"}, None),
        (TOKEN, PROXY_SECRET, {"authorization": "Bearer wrong-token-of-24-chars!"}, 403),
        (TOKEN, "", TL, 401),  # proxy headers without AGENT_PROXY_SECRET count for nothing
    ],
)
def test_auth_by_the_proxy_identity_is_for_tls_only(
    monkeypatch: pytest.MonkeyPatch,
    env_token: str,
    secret: str,
    headers: Dict[str, str],
    status: Any,
) -> None:
    monkeypatch.setenv("OPS_TOKEN", env_token)
    monkeypatch.setenv("AGENT_PROXY_SECRET", secret)
    assert_auth(headers, status)


GOOD = {"sender": "agent1", "answer_id": "0123456789ab", "kind": "up"}


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({**GOOD, "sender": ""}, "sender"),
        ({**GOOD, "sender": 5}, "sender"),
        ({**GOOD, "sender": "x" * 129}, "sender"),
        ({**GOOD, "answer_id": "../../etc"}, "answer_id"),
        ({**GOOD, "answer_id": None}, "answer_id"),
        ({**GOOD, "kind": "like"}, "kind"),
        ({**GOOD, "kind": "tl_reply"}, "kind"),  # only the TL chat makes these
        ({**GOOD, "kind": "reason"}, "kosong"),
        ({**GOOD, "kind": "reason", "reason": "  \x00 "}, "kosong"),
        ({**GOOD, "kind": "reason", "reason": "x" * 501}, "panjang"),
        ({**GOOD, "reason": 3}, "teks"),
    ],
)
def test_bad_feedback_is_400(body: Dict[str, Any], fragment: str) -> None:
    with pytest.raises(FeedbackError) as error:
        parse_feedback(body)
    assert error.value.status == 400 and fragment in error.value.message


def test_good_feedback() -> None:
    assert parse_feedback(GOOD) == ("agent1", "0123456789ab", "up", None)
    reason = parse_feedback({**GOOD, "kind": "reason", "reason": " SLA salah\x07 "})
    assert reason[3] == "SLA salah"
    # a reason only travels with kind "reason"
    assert parse_feedback({**GOOD, "reason": "x"})[3] is None


def test_tl_message_masks_the_customer() -> None:
    events = [
        user("a1", T0, "plg 081234567890 pulsa blm masuk"),
        answer("a1", T0 + 5, "pulsa_belum_masuk.tidak_tercakup", "d" * 12, True),
    ]
    messages = agent_messages_before(events, "d" * 12, 3)
    payload = events[1]["data"]["custom"]
    text = tl_message("tg:-1001:7", payload, messages, case_values(events, payload))
    assert "pulsa_belum_masuk.tidak_tercakup" in text and "tg:-1001:7" in text
    assert "081234567890" not in text and "0812****7890" in text
    assert messages == ["plg 0812****7890 pulsa blm masuk"]
    assert text.endswith("Balas (reply) pesan ini untuk menjawab agen.")


def _result(steps: List[str], kip: str = "K22", uncertain: bool = False) -> Any:
    from sop_engine.engine import SopResult, Ticket

    return SopResult(
        case_id="pulsa_belum_masuk." + ("tidak_tercakup" if uncertain else "fintech"),
        title="Isi ulang fintech",
        steps=steps,
        ticket=Ticket(kip=kip, fields={}, missing=[]),
        source="SOP-001",
        warnings=[],
        escalation="Tiket",
        uncertain=uncertain,
    )


@pytest.mark.parametrize(
    "steps, kip, uncertain, expected",
    [
        (
            ["Create tiket.", "Cek lagi."],
            "K22",
            False,
            "Isi ulang fintech. Solusi: Create tiket. Eskalasi: Tiket. Tiket KIP K22.",
        ),
        (
            ["Jangan menebak."],
            "K1",
            True,
            "Isi ulang fintech. Solusi: Jangan menebak. Eskalasi: Tiket. Tiket KIP K1. "
            "Konfirmasi ke TL.",
        ),
        ([], "K2", False, "Isi ulang fintech. Eskalasi: Tiket. Tiket KIP K2."),
    ],
)
def test_interaction_note(steps: List[str], kip: str, uncertain: bool, expected: str) -> None:
    from sop_engine.render import interaction_note, result_payload, result_text

    result = _result(steps, kip, uncertain)
    assert interaction_note(result) == expected
    assert result_payload(result)["interaction_note"] == expected
    assert result_payload(result)["uncertain"] is uncertain
    assert f"Catatan interaksi (IRMA MyCX): {expected}" in result_text(result)


def test_a_long_note_drops_whole_parts_and_keeps_the_tl_warning() -> None:
    from sop_engine.render import NOTE_MAX_CHARS, interaction_note

    note = interaction_note(_result(["langkah " * 60], "K" * 80, uncertain=True))
    assert len(note) <= NOTE_MAX_CHARS and "\n" not in note
    assert note.endswith("… Konfirmasi ke TL.") and "KIP" not in note
    medium = interaction_note(_result(["Create tiket " * 15], "(DE)AKTIVASI " * 10))
    assert "Eskalasi: Tiket." in medium and "KIP" not in medium  # the KIP did not fit whole


def test_senders_of_agent_reads_the_agent_id_of_user_messages() -> None:
    import json

    import sqlalchemy as sa

    from analytics.store import create_table, insert_event, senders_of_agent

    engine = sa.create_engine("sqlite://")
    create_table(engine)

    def store(event: Dict[str, Any]) -> None:
        assert insert_event(engine, json.dumps(event).encode())

    mine = {"agent_id": "budi_cho"}
    store({**user("w-aaaaaaaa", T0, "pulsa"), "metadata": mine})
    store({**user("w-bbbbbbbb", T0 + 1, "pulsa"), "metadata": {"agent_id": "siti"}})
    # "_" is no wildcard: budixcho is someone else
    store({**user("w-cccccccc", T0 + 2, "pulsa"), "metadata": {"agent_id": "budixcho"}})
    # the id in a bot text or in a REST conversation does not count
    store({**answer("w-dddddddd", T0 + 3, "x.y", "f" * 12), "text": "budi_cho"})
    store({**user("rest-1", T0 + 4, "pulsa"), "metadata": mine})
    store({**user("w-eeeeeeee", T0 + 5, "halo budi_cho")})
    store({**user("w-ffffffff", T0 + 6, "pulsa"), "metadata": mine})
    store({**user("w-aaaaaaaa", T0 + 7, "lagi"), "metadata": mine})
    assert senders_of_agent(engine, "budi_cho") == ["w-aaaaaaaa", "w-ffffffff"]
    assert senders_of_agent(engine, "budi_cho", limit=1) == ["w-aaaaaaaa"]
    assert senders_of_agent(engine, "nobody") == []


def test_consumer_takes_rabbitmq_settings_from_the_environment_only() -> None:
    from analytics.consumer import amqp_url

    env = {
        "RABBITMQ_HOST": "127.0.0.1",
        "RABBITMQ_PORT": "5672",
        "RABBITMQ_USER": "ops user",
        "RABBITMQ_PASSWORD": "p@ss",
    }
    assert amqp_url(env) == "amqp://ops%20user:p%40ss@127.0.0.1:5672/"
    for missing in env:
        with pytest.raises(SystemExit, match=missing):
            amqp_url({k: v for k, v in env.items() if k != missing})
