"""The TL loop against the real servers with the embedded stores (SQLite tracker store,
Rasa's SQL event broker in SQLite): feedback through REST and Telegram, "Tanya TL" through
the Bot API stub, /riwayat, and the figures read back from /ops/ and /ops/cases.csv."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests

from analytics.figures import mask
from testkit.assistant import Servers, say
from testkit.browser import chromium
from testkit.conversations import FINTECH, NON_FINTECH, NOT_COVERED, sop_result
from tests.analytics.conftest import TL_CHAT, sent_message
from tests.analytics.loop import (
    csv_rows,
    figures,
    give,
    new_sender,
    ops_get,
    run_case,
)
from tests.channels import stubs
from tests.channels.stubs import ApiCall, ApiStub
from tests.channels.webhooks import TG_BOT, telegram_post, whatsapp_post

pytestmark = pytest.mark.servers


def thumbs_down_of(data: Dict[str, Any], sender: str) -> List[Dict[str, Any]]:
    return [row for row in data["thumbs_down"] if row["agent"] == mask(sender)]


def test_rest_answer_carries_answer_id_and_interaction_note(tl_servers: Servers) -> None:
    result = run_case(tl_servers.base_url, new_sender(), FINTECH)
    assert len(result["answer_id"]) == 12
    note = result["interaction_note"]
    assert "\n" not in note and note.startswith(result["title"])
    assert "Solusi:" in note and "K22" in note
    assert result["uncertain"] is False
    # the contract's fields are all still there
    for key in ("type", "case_id", "title", "steps", "ticket", "source", "warnings"):
        assert key in result


def test_feedback_is_counted_and_does_not_move_the_dialogue(
    tl_servers: Servers, ops_token: str
) -> None:
    base, sender = tl_servers.base_url, new_sender()
    first = run_case(base, sender, FINTECH)
    before = figures(base, ops_token)
    # feedback between every turn of the next case: the form goes on as without it
    replies = []
    for number, text in enumerate(NON_FINTECH.turns):
        kind = ("up", "down", "copy_ticket", "copy_note")[number % 4]
        answer = give(base, {"sender": sender, "answer_id": first["answer_id"], "kind": kind})
        assert answer.status_code == 200, answer.text
        replies.append(say(base, sender, text))
    reason = give(
        base,
        {
            "sender": sender,
            "answer_id": first["answer_id"],
            "kind": "reason",
            "reason": "SLA salah untuk 0812-3456-7890",
        },
    )
    assert reason.status_code == 200 and "alasan" in reason.json()["message"]
    second = sop_result(replies[-1])
    assert second is not None and second["case_id"] == "pulsa_belum_masuk.non_fintech"
    assert second["ticket"]["fields"]["Serial Number"] == NON_FINTECH.turns[3]
    assert second["ticket"]["fields"]["MSISDN"] == "081311112222"
    after = figures(base, ops_token)
    assert after["totals"]["cases"] == before["totals"]["cases"] + 1
    # 7 messages of the second case; feedback added no user message
    assert after["totals"]["messages"] == before["totals"]["messages"] + len(NON_FINTECH.turns)
    for kind, count in (("up", 2), ("down", 2), ("copy_ticket", 2), ("copy_note", 1)):
        assert after["feedback"][kind] == before["feedback"][kind] + count, kind
    assert after["feedback"]["reason"] == before["feedback"]["reason"] + 1
    down = thumbs_down_of(after, sender)
    assert len(down) == 1 and down[0]["case_id"] == "pulsa_belum_masuk.fintech"
    assert down[0]["reason"] == "SLA salah untuk 0812****7890"
    assert down[0]["msisdn"] == "0812****7890"
    rows = [r for r in csv_rows(base, ops_token) if r["agent"] == sender]
    assert [(r["case_id"], r["feedback"]) for r in rows] == [
        ("pulsa_belum_masuk.fintech", "down"),
        ("pulsa_belum_masuk.non_fintech", ""),
    ]
    assert rows[0]["turns"] == str(len(FINTECH.turns)) and float(rows[0]["seconds"]) > 0
    assert rows[1]["channel"] == "rest" and rows[1]["msisdn"] == "0813****2222"


def test_bad_feedback_is_4xx_and_changes_nothing(tl_servers: Servers, ops_token: str) -> None:
    base, sender, other = tl_servers.base_url, new_sender(), new_sender()
    mine = run_case(base, sender, FINTECH)
    before = figures(base, ops_token)
    cases = [
        ({"sender": sender, "answer_id": "0" * 12, "kind": "up"}, 404),  # no such answer
        ({"sender": other, "answer_id": mine["answer_id"], "kind": "up"}, 404),  # not theirs
        ({"sender": new_sender(), "answer_id": mine["answer_id"], "kind": "down"}, 404),
        ({"sender": sender, "answer_id": mine["answer_id"], "kind": "tl_reply"}, 400),
        ({"sender": sender, "answer_id": "x'; DROP TABLE events;--", "kind": "up"}, 400),
        ({"sender": sender, "answer_id": mine["answer_id"], "kind": "reason"}, 400),
        ({"sender": sender, "kind": "up"}, 400),
        (["not", "an", "object"], 400),
    ]
    say(base, other, "halo")
    for body, status in cases:
        response = give(base, body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]
    assert give(base, raw=b"{not json").status_code == 400
    assert give(base, raw=b'{"sender": "' + b"x" * 2_000_000 + b'"}').status_code == 413 or 400
    after = figures(base, ops_token)
    assert after["feedback"] == before["feedback"]
    assert after["totals"]["cases"] == before["totals"]["cases"]


def test_ops_is_protected_and_odd_queries_are_400(tl_servers: Servers, ops_token: str) -> None:
    base = tl_servers.base_url
    page = ops_get(base, "", None)
    assert page.status_code == 401 and page.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'id="signin"' in page.text and "data-figure" not in page.text
    assert ops_get(base, "", "wrong-" + ops_token).status_code == 403
    assert ops_get(base, "", ops_token).status_code == 200
    for path in ("data.json", "cases.csv"):
        assert ops_get(base, path, None).status_code == 401
        assert ops_get(base, path, ops_token[:-1]).status_code == 403
        for params in (
            {"from": "kemarin"},
            {"from": "2026-02-30"},
            {"from": "2026-11-22", "to": "2026-11-01"},
            {"from": "2020-01-01", "to": "2026-01-01"},
            {"format": "xlsx"},
        ):
            response = ops_get(base, path, ops_token, **params)
            assert response.status_code == 400, (path, params, response.text)
            assert response.json()["error"]
    repeated = requests.get(
        f"{base}/ops/cases.csv?from=2026-11-01&from=2026-11-02",
        headers={"Authorization": f"Bearer {ops_token}"},
        timeout=30,
    )
    assert repeated.status_code == 400
    assert ops_get(base, "nothing.txt", ops_token).status_code == 404
    # the page's own files, no CDN
    script = requests.get(f"{base}/ops/ops.js", timeout=30)
    assert script.status_code == 200 and "http" not in script.text.replace(SVG_NS, "")
    assert "script-src 'self'" in script.headers["Content-Security-Policy"]


SVG_NS = "http://www.w3.org/2000/svg"


def test_fallback_and_out_of_scope_are_counted(tl_servers: Servers, ops_token: str) -> None:
    base, sender = tl_servers.base_url, new_sender()
    before = figures(base, ops_token)
    say(base, sender, "resep rendang padang yang enak gimana")
    say(base, sender, "qwzx plmk vbnrt")
    after = figures(base, ops_token)
    assert after["totals"]["messages"] == before["totals"]["messages"] + 2
    gained = (
        after["totals"]["fallback"]
        + after["totals"]["out_of_scope"]
        - before["totals"]["fallback"]
        - before["totals"]["out_of_scope"]
    )
    assert gained == 2
    listed = [m["text"] for m in after["fallback_messages"] if m["agent"] == sender]
    assert after["totals"]["fallback"] == before["totals"]["fallback"] + len(listed)


# -- Telegram: feedback row, Tanya TL round trip, /riwayat --------------------------------

GROUP = stubs.tg_chat(-1001555000222, "supergroup")
# the buttons of the cases' questions, by payload
TITLES = {"/affirm": "Ya", "/deny": "Tidak", '/inform{"choice": "lainnya"}': "Lainnya"}


class TelegramAgent:
    def __init__(self, servers: Servers, stub: ApiStub, user: Dict[str, Any]) -> None:
        self.servers, self.stub, self.user = servers, stub, user
        self.last: List[ApiCall] = []

    def post(self, update: Dict[str, Any]) -> List[ApiCall]:
        self.stub.clear()
        assert telegram_post(self.servers.base_url, update) == 200
        self.last = list(self.stub.calls)
        return self.last

    def sent(self, chat_id: Any = None) -> List[ApiCall]:
        chat_id = GROUP["id"] if chat_id is None else chat_id
        return [
            c
            for c in self.last
            if c.method == "sendMessage" and str(c.body["chat_id"]) == str(chat_id)
        ]

    def question(self) -> ApiCall:
        return [c for c in self.sent() if c.body.get("reply_markup") or c.body.get("text")][-1]

    def turn(self, text: str, first: bool) -> None:
        if first:
            self.post(stubs.tg_message(GROUP, self.user, f"/tanya {text}", command=True))
            return
        last = self.question()
        if text in TITLES:  # a button press, by the button's title
            matching = [b for b in stubs.inline_buttons(last) if b["text"] == TITLES[text]]
            assert matching, (text, last.body)
            bot_message = sent_message(last, GROUP, TG_BOT)
            self.post(stubs.tg_callback(self.user, bot_message, matching[0]["callback_data"]))
        else:
            bot_message = sent_message(last, GROUP, TG_BOT)
            self.post(stubs.tg_message(GROUP, self.user, text, reply_to=bot_message))

    def run(self, turns: List[str]) -> None:
        for number, text in enumerate(turns):
            self.turn(text, number == 0)

    def press(self, row: ApiCall, label: str) -> List[ApiCall]:
        button = [b for b in stubs.inline_buttons(row) if b["text"] == label]
        assert button, (label, row.body)
        message = sent_message(row, GROUP, TG_BOT)
        return self.post(stubs.tg_callback(self.user, message, button[0]["callback_data"]))


def feedback_row(calls: List[ApiCall]) -> ApiCall:
    rows = [c for c in calls if c.body.get("text") == "Jawaban ini membantu?"]
    assert len(rows) == 1, [c.body.get("text") for c in calls]
    return rows[0]


def test_telegram_feedback_row_and_reason(
    tl_servers: Servers, tl_stub: ApiStub, ops_token: str
) -> None:
    ani = TelegramAgent(tl_servers, tl_stub, stubs.tg_user(710001, "Ani"))
    ani.run(FINTECH.turns)
    assert any("Hasil SOP" in c.body["text"] for c in ani.sent())
    assert any("Catatan interaksi (IRMA MyCX):" in c.body["text"] for c in ani.sent())
    row = feedback_row(ani.sent())
    # a certain answer: no "Tanya TL"
    assert [b["text"] for b in stubs.inline_buttons(row)] == ["👍", "👎", "Salah kasus"]
    before = figures(tl_servers.base_url, ops_token)
    # another agent's press is refused and stores nothing
    budi = TelegramAgent(tl_servers, tl_stub, stubs.tg_user(710002, "Budi"))
    budi.press(row, "👍")
    refused = [c for c in budi.last if c.method == "answerCallbackQuery"]
    assert refused and refused[0].body.get("show_alert") is True
    ani.press(row, "👎")
    prompt = [c for c in ani.sent() if c.body["text"].startswith("Apa yang salah?")]
    assert prompt and prompt[0].body["reply_markup"]["force_reply"] is True
    edited = [c for c in ani.last if c.method == "editMessageText"]
    assert edited and "👎 tercatat" in edited[0].body["text"]
    ani.post(
        stubs.tg_message(
            GROUP, ani.user, "eskalasinya salah", reply_to=sent_message(prompt[0], GROUP, TG_BOT)
        )
    )
    assert [c.body["text"] for c in ani.sent()] == ["Terima kasih, alasannya tercatat."]
    after = figures(tl_servers.base_url, ops_token)
    assert after["feedback"]["down"] == before["feedback"]["down"] + 1
    assert after["feedback"]["up"] == before["feedback"]["up"]
    down = thumbs_down_of(after, f"tg:{GROUP['id']}:710001")
    assert down and down[-1]["reason"] == "eskalasinya salah" and down[-1]["channel"] == "telegram"


def test_telegram_tanya_tl_round_trip_and_riwayat(
    tl_servers: Servers, tl_stub: ApiStub, ops_token: str
) -> None:
    citra = TelegramAgent(tl_servers, tl_stub, stubs.tg_user(710003, "Citra"))
    citra.run(NOT_COVERED.turns)
    row = feedback_row(citra.sent())
    assert "Tanya TL" in [b["text"] for b in stubs.inline_buttons(row)]
    citra.press(row, "Tanya TL")
    to_tl = citra.sent(TL_CHAT["id"])
    assert len(to_tl) == 1
    case_text = to_tl[0].body["text"]
    assert "pulsa_belum_masuk.tidak_tercakup" in case_text
    assert mask(f"tg:{GROUP['id']}:710003") in case_text
    assert "0812****7890" in case_text and "081234567890" not in case_text
    assert "Pesan agen terakhir:" in case_text
    assert "MSISDN" in case_text and "→ ya" in case_text  # the values and the check answers
    assert any("terkirim ke TL" in c.body["text"] for c in citra.sent())
    # the TL answers by replying to the bot's message in the TL chat
    tl = stubs.tg_user(719999, "TL Dewi")
    tl_message = sent_message(to_tl[0], TL_CHAT, TG_BOT)
    citra.post(
        stubs.tg_message(TL_CHAT, tl, "Eskalasi ke SOO dengan bukti bayar.", reply_to=tl_message)
    )
    back = citra.sent()
    assert [c.body["text"] for c in back] == ["💬 Jawaban TL: Eskalasi ke SOO dengan bukti bayar."]
    assert any(c.body["text"] == "Terkirim ke agen." for c in citra.sent(TL_CHAT["id"]))
    # a TL reply to something else is not delivered anywhere
    other = stubs.tg_message(TL_CHAT, tl, "ok", reply_to=sent_message(back[0], TL_CHAT, TG_BOT))
    citra.post(other)
    assert citra.sent() == []
    data = figures(tl_servers.base_url, ops_token)
    assert data["feedback"]["ask_tl"] >= 1 and data["feedback"]["tl_reply"] >= 1
    agent = mask(f"tg:{GROUP['id']}:710003")
    uncertain = [r for r in data["uncertain_answers"] if r["agent"] == agent]
    assert uncertain and uncertain[-1]["case_id"] == "pulsa_belum_masuk.tidak_tercakup"
    # /riwayat lists the agent's cases in this chat, the MSISDN masked
    citra.post(stubs.tg_message(GROUP, citra.user, "/riwayat", command=True))
    history = [c.body["text"] for c in citra.sent()]
    assert len(history) == 1 and history[0].startswith("Kasus terakhir Anda (1):")
    assert "0812****7890" in history[0] and "081234567890" not in history[0]


# -- the widget and the ops page in headless Chromium --------------------------------------

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def widget_say(base_url: str, sender: str, text: str) -> List[Dict[str, Any]]:
    response = requests.post(
        f"{base_url}/webhooks/widget/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    assert response.status_code == 200, response.text
    return list(response.json())


def test_widget_feedback_copy_and_history_in_chromium(tl_servers: Servers, ops_token: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base = tl_servers.base_url
    sender = f"w-{uuid.uuid4()}"
    for text in FINTECH.turns:  # the conversation of this browser, through the widget's endpoint
        last = widget_say(base, sender, text)
    assert sop_result(last) is not None
    before = figures(base, ops_token)
    with chromium(360) as driver:
        driver.get(f"{base}/webhooks/widget/")
        driver.execute_script("localStorage.setItem('asistenSop.sender', arguments[0])", sender)
        driver.refresh()
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#log .card .feedback button"))
        card = driver.find_elements(By.CSS_SELECTOR, "#log .card")[-1]
        note = card.find_element(By.CSS_SELECTOR, "pre.note-text").text
        assert note == sop_result(last)["interaction_note"]  # type: ignore[index]
        labels = [b.text for b in card.find_elements(By.CSS_SELECTOR, ".feedback button")]
        assert labels == ["👍 Membantu", "👎 Salah", "Salah kasus"]  # certain: no "Tanya TL"
        assert not card.find_element(By.CSS_SELECTOR, ".feedback-reason").is_displayed()
        status = card.find_element(By.CSS_SELECTOR, ".feedback-status")
        card.find_element(By.CSS_SELECTOR, "button.fb-down").click()
        wait.until(lambda d: "👎 tercatat" in status.text)
        reason = card.find_element(By.CSS_SELECTOR, ".feedback-reason input")
        assert reason.is_displayed()
        reason.send_keys("SLA untuk gopay beda <b>x</b>")
        card.find_element(By.CSS_SELECTOR, ".feedback-reason button").click()
        wait.until(lambda d: "alasannya tercatat" in status.text)
        card.find_element(By.CSS_SELECTOR, "button.copy").click()  # Salin tiket
        card.find_element(By.CSS_SELECTOR, "button.copy-note").click()
        data = eventually_figures(
            base, ops_token, lambda d: d["feedback"]["copy_note"] > before["feedback"]["copy_note"]
        )
        assert data["feedback"]["down"] == before["feedback"]["down"] + 1
        assert data["feedback"]["copy_ticket"] == before["feedback"]["copy_ticket"] + 1
        down = thumbs_down_of(data, sender)
        assert down and down[0]["reason"] == "SLA untuk gopay beda <b>x</b>"
        assert down[0]["channel"] == "widget"
        # history: a new conversation, then the list reopens the old one
        driver.find_element(By.ID, "new-conversation").click()
        driver.find_element(By.ID, "history-button").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#history .history-item"))
        item = driver.find_elements(By.CSS_SELECTOR, "#history .history-item")[0]
        assert "0812****7890" in item.text and "081234567890" not in item.text
        assert "Isi ulang" in item.text
        item.click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#log .card"))
        assert driver.execute_script("return localStorage.getItem('asistenSop.sender')") == sender


def eventually_figures(base: str, token: str, done: Any) -> Dict[str, Any]:
    """The widget sends feedback without waiting: read until it is counted."""
    import time

    deadline = time.monotonic() + 30
    while True:
        data = figures(base, token)
        if done(data) or time.monotonic() > deadline:
            return data
        time.sleep(0.3)


def test_ops_page_in_chromium(tl_servers: Servers, ops_token: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, sender = tl_servers.base_url, new_sender()
    result = run_case(base, sender, FINTECH)
    for kind, reason in (("down", None), ("reason", "SLA salah untuk 0812-3456-7890")):
        body = {"sender": sender, "answer_id": result["answer_id"], "kind": kind}
        assert give(base, {**body, "reason": reason} if reason else body).status_code == 200
    expected = figures(base, ops_token)
    with chromium(1280, 1600) as driver:
        driver.get(f"{base}/ops/")
        wait = WebDriverWait(driver, 30)
        signin = driver.find_element(By.ID, "signin")
        wait.until(lambda d: signin.is_displayed())
        assert not driver.find_element(By.ID, "report").is_displayed()
        box = driver.find_element(By.ID, "token")
        box.send_keys("salah-" + ops_token)
        signin.find_element(By.TAG_NAME, "button").click()
        wait.until(lambda d: "Token salah" in d.find_element(By.ID, "signin-error").text)
        box.send_keys(ops_token)
        signin.find_element(By.TAG_NAME, "button").click()
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        assert not signin.is_displayed()

        def tile(name: str) -> str:
            css = f'.tile[data-figure="{name}"] .value'
            return str(driver.find_element(By.CSS_SELECTOR, css).text)

        assert tile("cases") == str(expected["totals"]["cases"])
        assert tile("down") == str(expected["feedback"]["down"])
        assert tile("tidak_tercakup") == str(expected["totals"]["tidak_tercakup"])
        # the charts are the page's own SVG, one bar per SOP
        bars = driver.find_elements(By.CSS_SELECTOR, "#chart-sop svg rect.bar")
        assert len(bars) == len(expected["per_sop"])
        assert len(driver.find_elements(By.CSS_SELECTOR, "#chart-days svg rect.bar")) == 7
        down_table = driver.find_element(By.ID, "down").text
        assert "SLA salah untuk 0812****7890" in down_table and "081234567890" not in down_table
        # no request left the machine (no CDN): every resource is from the server itself
        urls = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert urls and all(u.startswith(base) for u in urls), urls
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "ops-page.png"))


# -- WhatsApp: feedback buttons, reason, Tanya TL from a list ------------------------------


class WhatsAppAgent:
    def __init__(self, servers: Servers, stub: ApiStub, wa_id: str) -> None:
        self.servers, self.stub, self.wa_id = servers, stub, wa_id
        self.last: List[ApiCall] = []

    def post(self, body: Dict[str, Any]) -> List[ApiCall]:
        self.stub.clear()
        assert whatsapp_post(self.servers.base_url, body) == 200
        self.last = list(self.stub.calls)
        return self.last

    def sent(self) -> List[ApiCall]:
        return [c for c in self.last if c.method == "messages" and c.body["to"] == self.wa_id]

    def run(self, turns: List[str]) -> None:
        for text in turns:
            if text not in TITLES:
                self.post(stubs.wa_text(self.wa_id, text))
                continue
            # a button press: the reply button with that title, else the option's number
            question = [c for c in self.sent() if c.body.get("type") in ("interactive", "text")][-1]
            buttons = stubs.wa_reply_buttons(question)
            if buttons:
                reply = next(b for b in buttons if b["title"] == TITLES[text])
                self.post(stubs.wa_button_reply(self.wa_id, reply["id"], reply["title"]))
                continue
            found = re.search(rf"^(\d+)\. {TITLES[text]}$", stubs.wa_shown_text(question), re.M)
            assert found, stubs.wa_shown_text(question)
            self.post(stubs.wa_text(self.wa_id, found.group(1)))

    def feedback_message(self) -> ApiCall:
        rows = [c for c in self.sent() if stubs.wa_shown_text(c) == "Jawaban ini membantu?"]
        assert len(rows) == 1, [stubs.wa_shown_text(c) for c in self.sent()]
        return rows[0]


def wa_options(call: ApiCall) -> List[Dict[str, str]]:
    interactive = call.body["interactive"]
    if interactive["type"] == "button":
        return [b["reply"] for b in interactive["action"]["buttons"]]
    return [row for s in interactive["action"]["sections"] for row in s["rows"]]


def test_whatsapp_feedback_buttons_reason_and_tanya_tl(
    tl_servers: Servers, tl_stub: ApiStub, ops_token: str
) -> None:
    base = tl_servers.base_url
    dewi = WhatsAppAgent(tl_servers, tl_stub, "6281299990001")
    dewi.run(FINTECH.turns)
    assert any("Catatan interaksi (IRMA MyCX):" in stubs.wa_shown_text(c) for c in dewi.sent())
    row = dewi.feedback_message()
    options = wa_options(row)
    assert row.body["interactive"]["type"] == "button"
    assert [o["title"] for o in options] == ["👍 Membantu", "👎 Salah", "Salah kasus"]
    assert all(len(o["title"]) <= 20 for o in options)
    before = figures(base, ops_token)
    down = [o for o in options if o["title"] == "👎 Salah"][0]
    dewi.post(stubs.wa_button_reply(dewi.wa_id, down["id"], down["title"]))
    prompt = [c for c in dewi.sent() if "Apa yang salah?" in stubs.wa_shown_text(c)]
    assert len(prompt) == 1
    prompt_id = prompt[0].response["messages"][0]["id"]
    reason = stubs.wa_body(
        dewi.wa_id,
        {"type": "text", "text": {"body": "langkah 2 kurang"}, "context": {"id": prompt_id}},
    )
    dewi.post(reason)
    assert [stubs.wa_shown_text(c) for c in dewi.sent()] == ["Terima kasih, alasannya tercatat."]
    # a forged feedback id: a clear answer, nothing stored, no dialogue turn
    dewi.post(stubs.wa_button_reply(dewi.wa_id, "fb:0123456789ab:u", "👍 Membantu"))
    assert [stubs.wa_shown_text(c) for c in dewi.sent()] == [
        "Jawaban tidak ditemukan di percakapan ini."
    ]
    after = figures(base, ops_token)
    assert after["feedback"]["down"] == before["feedback"]["down"] + 1
    assert after["feedback"]["up"] == before["feedback"]["up"]
    assert after["totals"]["messages"] == before["totals"]["messages"]
    rows = thumbs_down_of(after, "wa:6281299990001")
    assert rows and rows[-1]["reason"] == "langkah 2 kurang" and rows[-1]["channel"] == "whatsapp"
    assert "6281299990001" not in json.dumps(after)

    # an uncertain answer: four options, so a list with "Tanya TL"
    eko = WhatsAppAgent(tl_servers, tl_stub, "6281299990002")
    eko.run(NOT_COVERED.turns)
    row = eko.feedback_message()
    assert row.body["interactive"]["type"] == "list"
    ask = [o for o in wa_options(row) if o["title"] == "Tanya TL"]
    assert ask
    eko.post(stubs.wa_list_reply(eko.wa_id, ask[0]["id"], "Tanya TL"))
    to_tl = [
        c
        for c in eko.last
        if c.method == "sendMessage" and str(c.body["chat_id"]) == str(TL_CHAT["id"])
    ]
    assert len(to_tl) == 1 and mask("wa:6281299990002") in to_tl[0].body["text"]
    assert any("terkirim ke TL" in stubs.wa_shown_text(c) for c in eko.sent())
    tl = stubs.tg_user(719998, "TL Fajar")
    question = sent_message(to_tl[0], TL_CHAT, TG_BOT)
    answer = stubs.tg_message(TL_CHAT, tl, "Cek dulu ke SOO, jangan janji SLA.", reply_to=question)
    assert telegram_post(base, answer) == 200
    delivered = [c for c in tl_stub.calls if c.method == "messages" and c.body["to"] == eko.wa_id]
    assert [stubs.wa_shown_text(c) for c in delivered][-1] == (
        "💬 Jawaban TL: Cek dulu ke SOO, jangan janji SLA."
    )
