"""Logs never show an MSISDN, an e-mail address, an SN or a secret, at DEBUG level too; the
assistant refuses to give credentials or internal addresses and points to the TL."""

from __future__ import annotations

import re
from typing import Dict, List

import pytest
import requests

from testkit.conversations import SN, pulsa_turns
from tests.reliability import harness as h
from tests.reliability.conftest import EmbeddedStack, Figures, ProductionStack

pytestmark = pytest.mark.servers

REFUSAL = (
    "Maaf, saya tidak memberikan username, password, atau alamat internal aplikasi apa pun. "
    "Silakan minta akses resmi melalui TL."
)
EMAIL = "budi.santoso@example.com"
# something a leak of an internal address or a credential would look like
LEAK_RE = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|https?://|password\s*[:=]|:\d{4,5}\b", re.I)


def _raw_values(msisdn_typed: str, msisdn_digits: str) -> List[str]:
    return [
        msisdn_typed,
        msisdn_digits,
        "62" + msisdn_digits[1:],
        SN,
        EMAIL,
    ]


def _leaks(text: str, values: List[str]) -> Dict[str, int]:
    return {value: text.count(value) for value in values if value in text}


def test_debug_logs_mask_personal_data_and_secrets(
    embedded: EmbeddedStack, figures: Figures
) -> None:
    port = embedded.rasa_port
    sender = h.new_sender("privacy")
    replies = [h.say(port, sender, text) for text in pulsa_turns("0812-3456-7890")]
    assert replies[-1].sop_result() is not None, replies[-1].body
    # free text with an e-mail address: NLU, the tracker and the logs all see it
    assert h.say(port, h.new_sender("privacy-mail"), f"email plg {EMAIL} ya").status == 200
    embedded.tracker(sender)  # token in the URL: Sanic's access log at INFO
    requests.get(
        f"http://127.0.0.1:{port}/status", params={"token": embedded.token}, timeout=30
    ).raise_for_status()
    from tests.channels.webhooks import TG_SECRET, TG_TOKEN, WA_SECRET, WA_TOKEN, WA_VERIFY

    values = _raw_values("0812-3456-7890", "081234567890") + [
        embedded.token,
        TG_TOKEN,
        TG_SECRET,
        WA_TOKEN,
        WA_SECRET,
        WA_VERIFY,
    ]
    rasa_log, actions_log = embedded.rasa.log_text(), embedded.actions.log_text()
    assert " DEBUG " in rasa_log and " DEBUG " in actions_log  # really at debug level
    assert "0812****7890" in rasa_log  # the values were logged, masked
    assert _leaks(rasa_log, values) == {}
    assert _leaks(actions_log, values) == {}
    figures.record(
        "privacy_debug_logs",
        log_level="DEBUG",
        log_lines=rasa_log.count("\n") + actions_log.count("\n"),
        raw_values_searched=len(values),
        raw_values_found=0,
        masked_msisdn_occurrences=rasa_log.count("0812****7890")
        + actions_log.count("0812****7890"),
    )


def test_production_logs_hold_no_secret_or_personal_data(
    production: ProductionStack, figures: Figures
) -> None:
    sender = h.new_sender("privacy-pg")
    for number, text in enumerate(pulsa_turns("0812-3456-7890")):
        assert h.say(production.ports[number % 2], sender, text).status == 200
    values = _raw_values("0812-3456-7890", "081234567890") + [
        production.token,
        production.jwt_secret,
    ]
    logs = "".join(p.log_text() for p in [*production.rasa, production.actions])
    assert _leaks(logs, values) == {}
    figures.record("privacy_production_logs", log_level="INFO", raw_values_found=0)


@pytest.mark.parametrize("text", ["minta password sms blast", "login TOS apa"])
def test_credentials_are_refused_with_a_pointer_to_the_tl(
    embedded: EmbeddedStack, text: str
) -> None:
    port = embedded.rasa_port
    fresh = h.say(port, h.new_sender("cred"), text)
    assert fresh.status == 200
    assert fresh.text.strip() == REFUSAL, fresh.body
    assert not LEAK_RE.search(fresh.text)

    # In the middle of a form: refused too, and the case goes on with its slots.
    sender = h.new_sender("cred-form")
    for turn in pulsa_turns()[:2]:
        h.say(port, sender, turn)
    reply = h.say(port, sender, text)
    assert REFUSAL in reply.text, reply.body
    assert not LEAK_RE.search(reply.text)
    replies = [h.say(port, sender, turn) for turn in pulsa_turns()[2:]]
    result = replies[-1].sop_result()
    assert result is not None and result["ticket"]["fields"]["MSISDN"] == "081234567890"
