"""Two Rasa instances behind one webhook URL (no sticky sessions), as in production:
PostgreSQL tracker store, Redis lock store, and the channels' state in the same Redis
(:mod:`channels.state`). Telegram and WhatsApp are the local API stub; payload sources are
cited in :mod:`tests.channels.stubs`.

* a Telegram button pressed after the instance that sent it was killed works on the other;
* a double tap reaching both instances at once counts once, in every channel;
* WhatsApp username (no phone number) and group payloads are served;
* rate-limited sends are retried; an update redelivered to the other instance is skipped.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List

import pytest
import requests

from channels.questions import STALE_REPLY
from testkit.assistant import ROOT, action_server, rasa_server, server_env
from testkit.conversations import FINTECH
from testkit.processes import ManagedProcess, free_port, wait_ready
from testkit.stores import RunStores
from tests.channels import stubs
from tests.channels.stubs import ApiCall, ApiStub
from tests.channels.test_e2e_channels import TITLES, ticket_fields
from tests.channels.webhooks import TG_BOT, channel_env, telegram_post, whatsapp_post

pytestmark = pytest.mark.servers


@dataclass
class Pair:
    stub: ApiStub
    rasa: List[ManagedProcess]
    ports: List[int]

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index]}"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    workdir = tmp_path_factory.mktemp("two_instances")
    run_stores = RunStores("channels")
    stub = ApiStub().start()
    servers: List[ManagedProcess] = []
    try:
        run_stores.create()
        action_port = free_port()
        env = server_env(
            {
                **channel_env(stub.url),
                "WHATSAPP_RETRY_DELAYS": "0.3,0.3",
                **run_stores.env(f"http://127.0.0.1:{action_port}/webhook"),
            }
        )
        ports = [free_port(), free_port()]
        rasa = [
            rasa_server(
                port,
                ROOT / "endpoints.production.yml",
                workdir / f"rasa{n}.log",
                env,
                credentials=ROOT / "credentials.channels.yml",
            )
            for n, port in enumerate(ports)
        ]
        servers = [action_server(action_port, workdir / "actions.log", env), *rasa]
        for server in servers:
            server.spawn()
        wait_ready(servers)
        yield Pair(stub, rasa, ports)
    finally:
        for server in servers:
            server.stop()
        stub.stop()
        run_stores.remove()


def tg_post(pair: Pair, index: int, update: Dict[str, Any]) -> None:
    assert telegram_post(pair.url(index), update) == 200


def wa_post(pair: Pair, index: int, body: Dict[str, Any]) -> None:
    assert whatsapp_post(pair.url(index), body) == 200


def tg_sent(stub: ApiStub, chat_id: int) -> List[ApiCall]:
    return stub.take(lambda c: c.method == "sendMessage" and c.body.get("chat_id") == chat_id)


def wa_sent(stub: ApiStub, key: str, value: str) -> List[ApiCall]:
    return stub.take(lambda c: c.method == "messages" and c.body.get(key) == value)


class TgAgent:
    """An agent in a private chat whose updates alternate between the two instances."""

    def __init__(self, pair: Pair, user_id: int) -> None:
        self.pair, self.user = pair, stubs.tg_user(user_id, f"Agen{user_id}")
        self.chat = stubs.tg_chat(user_id, "private")
        self.question: ApiCall | None = None
        self.turns = 0

    def send(self, update: Dict[str, Any], index: int | None = None) -> List[ApiCall]:
        self.turns += 1
        tg_post(self.pair, self.turns % 2 if index is None else index, update)
        calls = tg_sent(self.pair.stub, self.chat["id"])
        if calls and stubs.inline_buttons(calls[-1]):
            self.question = calls[-1]
        return calls

    def press_update(self, title: str) -> Dict[str, Any]:
        assert self.question is not None
        data = next(
            b["callback_data"] for b in stubs.inline_buttons(self.question) if b["text"] == title
        )
        return stubs.tg_callback(
            self.user, stubs.tg_bot_message(self.question, self.chat, TG_BOT), data
        )

    def turn(self, text: str) -> List[ApiCall]:
        if text in TITLES:
            return self.send(self.press_update(TITLES[text]))
        return self.send(stubs.tg_message(self.chat, self.user, text))


def test_double_press_on_both_instances_counts_once_in_every_channel(pair: Pair) -> None:
    # Telegram: the same button tapped twice, the taps reaching different instances at once
    agent = TgAgent(pair, 920001)
    for text in FINTECH.turns[:4]:
        assert agent.turn(text)
    taps = [agent.press_update("Tidak"), agent.press_update("Tidak")]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda n: tg_post(pair, n, taps[n]), [0, 1]))
    answers = pair.stub.take(lambda c: c.method == "answerCallbackQuery")
    assert sorted(a.body.get("text") or "" for a in answers) == ["", STALE_REPLY]
    texts = [c.body["text"] for c in tg_sent(pair.stub, agent.chat["id"])]
    assert sum(t.startswith(STALE_REPLY) for t in texts) == 1
    # WhatsApp: the same reply button twice, one to each instance
    wa_id = "6281290001001"
    last: List[ApiCall] = []
    for n, text in enumerate(FINTECH.turns[:4]):
        wa_post(pair, n % 2, stubs.wa_text(wa_id, text))
        last = wa_sent(pair.stub, "to", wa_id)
    no = next(b for b in stubs.wa_reply_buttons(last[-1]) if b["title"] == "Tidak")
    bodies = [stubs.wa_button_reply(wa_id, no["id"], "Tidak") for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda n: wa_post(pair, n, bodies[n]), [0, 1]))
    shown = [stubs.wa_shown_text(c) for c in wa_sent(pair.stub, "to", wa_id)]
    assert sum(s.startswith(STALE_REPLY) for s in shown) == 1
    # widget: a press on instance A, the same press again on instance B
    sender = f"w-{uuid.uuid4()}"
    widget = [f"{pair.url(n)}/webhooks/widget/webhook" for n in (0, 1)]
    reply: List[Dict[str, Any]] = []
    for n, text in enumerate(FINTECH.turns[:4]):
        reply = requests.post(
            widget[n % 2], json={"sender": sender, "message": text}, timeout=120
        ).json()
    token = reply[-1]["question"]
    press = {
        "sender": sender,
        "message": "/deny",
        "metadata": {"display": "Tidak", "question": token},
    }
    first = requests.post(widget[0], json=press, timeout=120).json()
    second = requests.post(widget[1], json=press, timeout=120).json()
    assert first[0]["text"] != STALE_REPLY
    assert second[0]["text"] == STALE_REPLY
    assert second[-1]["text"] == first[-1]["text"]  # the current question, asked again


def test_whatsapp_username_and_group_payloads(pair: Pair) -> None:
    bsuid = "ID.1502576394655843"
    wa_post(pair, 0, stubs.wa_username_text(bsuid, FINTECH.turns[0]))
    calls = wa_sent(pair.stub, "recipient", bsuid)
    assert calls and "MSISDN" in "\n".join(stubs.wa_shown_text(c) for c in calls)
    wa_post(
        pair, 1, stubs.wa_username_text(bsuid, FINTECH.turns[1])
    )  # the other instance continues
    assert wa_sent(pair.stub, "recipient", bsuid)
    group, member = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD", "6281290001002"
    wa_post(pair, 0, stubs.wa_group_text(group, member, "siang semua"))
    assert wa_sent(pair.stub, "to", group) == []
    wa_post(pair, 1, stubs.wa_group_text(group, member, "/tanya " + FINTECH.turns[0]))
    calls = wa_sent(pair.stub, "to", group)
    assert calls and all(c.body["recipient_type"] == "group" for c in calls)
    assert "MSISDN" in "\n".join(stubs.wa_shown_text(c) for c in calls)


def test_rate_limited_sends_are_retried_and_redelivery_skipped(pair: Pair) -> None:
    agent = TgAgent(pair, 920002)
    pair.stub.telegram_rate_limit(1, retry_after=1)
    update = stubs.tg_message(agent.chat, agent.user, FINTECH.turns[0])
    calls = agent.send(update, 0)
    texts = [c.body["text"] for c in calls]
    assert len(texts) >= 2 and texts[0] == texts[1]  # the refused message, sent again
    assert agent.send(update, 1) == []  # the same update_id on the other instance: skipped
    wa_id = "6281290001003"
    pair.stub.whatsapp_rate_limit(1, 131056)
    wa_post(pair, 1, stubs.wa_text(wa_id, FINTECH.turns[0]))
    shown = [stubs.wa_shown_text(c) for c in wa_sent(pair.stub, "to", wa_id)]
    assert len(shown) >= 2 and shown[0] == shown[1]
    assert "MSISDN" in shown[-1]


def test_telegram_start_mid_case_shows_help_and_keeps_the_case(pair: Pair) -> None:
    agent = TgAgent(pair, 920004)
    for text in FINTECH.turns[:2]:
        agent.turn(text)
    calls = agent.send(stubs.tg_message(agent.chat, agent.user, "/start", command=True))
    texts = [c.body["text"] for c in calls]
    assert texts[0].startswith("Saya membantu menjalankan Pansol")
    assert len(texts) >= 2  # the case's question again: the case goes on
    for text in FINTECH.turns[2:]:
        calls = agent.turn(text)
    assert ticket_fields("\n".join(c.body["text"] for c in calls))["MSISDN"] == "081234567890"


def test_telegram_button_works_after_the_instance_that_sent_it_was_killed(pair: Pair) -> None:
    agent = TgAgent(pair, 920003)
    for text in FINTECH.turns[:4]:
        agent.send(stubs.tg_message(agent.chat, agent.user, text), 0)  # everything on instance A
    assert agent.question is not None and agent.question.body["text"]
    pair.rasa[0].kill9()
    for text in FINTECH.turns[4:]:
        calls = agent.send(agent.press_update(TITLES[text]), 1)  # instance B only
        assert calls and not calls[0].body["text"].startswith(STALE_REPLY)
    final = "\n".join(c.body["text"] for c in calls)
    assert "Hasil SOP" in final
    assert ticket_fields(final)["MSISDN"] == "081234567890"
    assert ticket_fields(final)["Transaksi ID"] == "TRX20261121ABC"
