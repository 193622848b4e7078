"""One message dict per bot utterance, and the history built from tracker events."""

from __future__ import annotations

from typing import Any, Dict

from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from channels.output import (
    BundlingOutputChannel,
    history_from_events,
    message_text,
    sop_result_text,
)

RESULT: Dict[str, Any] = {
    "type": "sop_result",
    "case_id": "pulsa_belum_masuk.fintech",
    "title": "Pulsa belum masuk",
    "steps": ["Cek saldo.", "Buat tiket."],
    "ticket": {"required": True, "fields": {}, "missing": [], "kip": "K"},
    "source": "SOP-001",
    "warnings": ["Cek ulang."],
    "escalation": "L2",
    "ticket_text": "KIP: K\nMSISDN: 0812",
}
BUTTONS = [{"title": "Ya", "payload": "/affirm"}, {"title": "Tidak", "payload": "/deny"}]


async def test_text_buttons_and_custom_of_one_utterance_stay_one_message() -> None:
    out = BundlingOutputChannel()
    event = BotUttered(
        "Paragraf satu.\n\nParagraf dua.", data={"buttons": BUTTONS, "custom": RESULT}
    )
    await out.send_response("agent1", event.message())
    assert out.messages == [
        {
            "recipient_id": "agent1",
            "text": "Paragraf satu.\n\nParagraf dua.",
            "buttons": BUTTONS,
            "custom": RESULT,
        }
    ]


async def test_quick_replies_become_buttons_and_empty_messages_are_dropped() -> None:
    out = BundlingOutputChannel()
    await out.send_response("a", {"text": "Pilih", "quick_replies": BUTTONS})
    await out.send_response("a", {"text": None, "buttons": None, "custom": None})
    await out.send_response("a", {"text": "   "})
    assert out.messages == [{"recipient_id": "a", "text": "Pilih", "buttons": BUTTONS}]


def test_text_of_a_custom_only_message() -> None:
    text = message_text({"custom": RESULT})
    assert text == sop_result_text(RESULT)
    assert "KIP: K\nMSISDN: 0812" in text
    assert "⚠️ Cek ulang." in text and "1. Cek saldo." in text and "Eskalasi: L2" in text
    assert message_text({"text": "halo", "custom": RESULT}) == "halo"
    assert message_text({"custom": {"other": 1}}) == ""


def test_history_from_tracker_events() -> None:
    events = [
        ActionExecuted("action_listen"),
        UserUttered("pulsa blm masuk"),
        BotUttered("Nomor?", data={"buttons": BUTTONS}),
        SlotSet("msisdn", None),
        UserUttered("/deny", metadata={"display": "Tidak"}),
        BotUttered("Hasil", data={"custom": RESULT}),
    ]
    tracker = DialogueStateTracker.from_events("w-12345678", events)
    serialised = tracker.current_state(EventVerbosity.ALL)["events"]
    assert history_from_events(serialised) == [
        {"role": "user", "text": "pulsa blm masuk"},
        {"role": "bot", "text": "Nomor?", "buttons": BUTTONS},
        {"role": "user", "text": "Tidak"},
        {"role": "bot", "text": "Hasil", "custom": RESULT},
    ]
