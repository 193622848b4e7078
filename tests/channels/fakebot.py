"""The connectors on a real Sanic server, with a scripted bot instead of a trained model.

Fast (no model, no action server): the connectors' HTTP behaviour, per-sender conversations
and the rendering of buttons and of the ``sop_result`` payload are tested against it. The
bot keeps one small form per sender::

    "mulai ..."   -> "Nomor MSISDN pelanggan?"
    <msisdn>      -> "Sudah cek saldo?" + buttons Ya (/affirm) / Tidak (/deny)
    /affirm|/deny -> result text + sop_result (ticket_text with this sender's MSISDN)
    /help         -> 5 case buttons, one title longer than 20 characters
    "panjang"     -> a 9,000-character answer whose ticket must not be cut
    "meledak"     -> raises (the connectors answer with the busy text)

Every text the bot received is kept in ``FakeBot.received`` (so a test sees when the guard
kept a message away from "NLU").
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import InputChannel, UserMessage, register
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from testkit.processes import free_port

HELP_BUTTONS = [
    {"title": "Pulsa belum masuk", "payload": "/pulsa_belum_masuk"},
    {"title": "Bayar, nomor blm aktif", "payload": "/nomor_belum_aktif_setelah_bayar"},
    {"title": "GraPARI Online", "payload": "/grapari_online"},
    {"title": "Callback", "payload": "/callback"},
    {"title": "IMES tagihan", "payload": "/imes_tagihan"},
]
YES_NO = [{"title": "Ya", "payload": "/affirm"}, {"title": "Tidak", "payload": "/deny"}]


def ticket_text(msisdn: str, answer: str, extra_fields: int = 0) -> str:
    lines = ["KIP: Pulsa belum masuk", f"MSISDN: {msisdn}", f"Sudah cek saldo: {answer}"]
    lines += [f"Catatan {n}: " + "isi " * 20 for n in range(extra_fields)]
    return "\n".join(lines)


def result_message(msisdn: str, answer: str, filler_steps: int = 0, extra: int = 0) -> Dict:
    ticket = ticket_text(msisdn, answer, extra)
    steps = ["Cek riwayat isi ulang.", "Buat tiket <b>bila</b> perlu."]
    steps += [
        f"Langkah tambahan {n}: " + "periksa data pelanggan " * 8 for n in range(filler_steps)
    ]
    text = "\n".join(
        ["Hasil SOP: Pulsa belum masuk"]
        + [f"{n}. {s}" for n, s in enumerate(steps, start=1)]
        + ["Template tiket (salin):", ticket, "Sumber: SOP-001"]
    )
    custom = {
        "type": "sop_result",
        "case_id": "pulsa_belum_masuk.test",
        "title": "Pulsa belum masuk",
        "steps": steps,
        "ticket": {"required": True, "fields": {"MSISDN": msisdn}, "missing": [], "kip": "X"},
        "source": "SOP-001",
        "warnings": ["Cek ulang nominal."],
        "escalation": None,
        "ticket_text": ticket,
    }
    return {"text": text, "custom": custom}


class FakeTrackerStore:
    def __init__(self) -> None:
        self.events: Dict[str, List[Any]] = {}

    async def retrieve_full_tracker(self, sender: str) -> Optional[DialogueStateTracker]:
        if sender not in self.events:
            return None
        return DialogueStateTracker.from_events(sender, self.events[sender])


class FakeAgent:
    def __init__(self) -> None:
        self.tracker_store = FakeTrackerStore()


class FakeBot:
    def __init__(self, agent: FakeAgent) -> None:
        self.agent = agent
        self.state: Dict[str, Dict[str, str]] = {}
        self.received: List[UserMessage] = []

    async def reply(self, message: UserMessage, sender: str, **data: Any) -> None:
        text = data.pop("text", None)
        event = BotUttered(text, data=data)
        self.agent.tracker_store.events.setdefault(sender, []).append(event)
        await message.output_channel.send_response(sender, event.message())

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        sender = message.sender_id
        self.agent.tracker_store.events.setdefault(sender, []).append(
            UserUttered(message.text, metadata=message.metadata)
        )
        state = self.state.setdefault(sender, {})
        text = message.text or ""
        if text == "meledak":
            raise RuntimeError("the bot failed (test)")
        if text == "/help":
            await self.reply(message, sender, text="Pilih kasus:", buttons=HELP_BUTTONS)
        elif text == "panjang":
            await self.reply(
                message, sender, **result_message("081200000000", "Ya", filler_steps=40)
            )
        elif text == "tiket panjang":
            await self.reply(message, sender, **result_message("081200000000", "Ya", extra=80))
        elif text.startswith("mulai"):
            state.clear()
            state["step"] = "msisdn"
            await self.reply(message, sender, text="Kasus: Pulsa belum masuk.")
            await self.reply(message, sender, text="Nomor MSISDN pelanggan?")
        elif state.get("step") == "msisdn":
            state["msisdn"] = text
            state["step"] = "check"
            await self.reply(message, sender, text="Sudah cek saldo?", buttons=YES_NO)
        elif state.get("step") == "check" and text in ("/affirm", "/deny"):
            state["step"] = ""
            answer = "Ya" if text == "/affirm" else "Tidak"
            await self.reply(message, sender, **result_message(state["msisdn"], answer))
        else:
            await self.reply(message, sender, text=f"Diterima: {text}")


class FakeServer:
    """Sanic with the given input channels and a :class:`FakeBot`, in a background thread."""

    def __init__(self, channels: List[InputChannel], name: str) -> None:
        self.port = free_port()
        self.channels = channels
        self.app = Sanic(name)
        self.app.ctx.agent = FakeAgent()
        self.bot = FakeBot(self.app.ctx.agent)
        self.app.ctx.agent.handle_message = self.bot  # what register()'s handler calls
        register(channels, self.app, route="/webhooks/")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()
        self._server: Any = None
        self.startup_calls: List[Any] = []  # API calls the connectors made at start

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._server = self.loop.run_until_complete(
            self.app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True)
        )
        self.loop.run_until_complete(self._server.startup())
        self.loop.run_until_complete(self._server.after_start())
        self._ready.set()
        self.loop.run_forever()

    def start(self) -> FakeServer:
        self.thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("fake server did not start")
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            await self._server.before_stop()
            self._server.close()
            await self._server.wait_closed()
            await self._server.after_stop()

        future = asyncio.run_coroutine_threadsafe(shutdown(), self.loop)
        try:
            future.result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
