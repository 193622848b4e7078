"""Documented platform payloads the first channel tests did not cover, found in review.

Sources:
* WhatsApp unsupported messages webhook reference (developers.facebook.com/documentation/
  business-messaging/whatsapp/webhooks/reference/messages/unsupported/): ``type:
  "unsupported"`` with ``unsupported.type`` (``reaction``, ``pin``, ``keep_in_chat``,
  ``poll_update``, ...) and error 131051; the edit webhook reference says edited messages
  are "currently delivered as an unsupported message type webhook".
* Telegram Bot API Message (core.telegram.org/bots/api#message): ``message_thread_id`` and
  ``is_topic_message`` ("True, if the message is sent to a forum topic"); sendMessage's
  ``message_thread_id`` ("target message thread (topic) of the forum; for forum
  supergroups only").
"""

from __future__ import annotations

from typing import Any, Dict

import pytest

from tests.channels.fakebot import FakeServer
from tests.channels.stubs import ApiStub, wa_text, wa_value
from tests.channels.test_connectors_http import wa_post, wa_sent


def wa_unsupported(wa_id: str, kind: str, message_id: str) -> Dict[str, Any]:
    return wa_value(
        {
            "contacts": [{"profile": {"name": "Agen"}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": message_id,
                    "timestamp": "1739321024",
                    "errors": [
                        {
                            "code": 131051,
                            "title": "Message type unknown",
                            "message": "Message type unknown",
                            "error_data": {"details": "Message type is currently not supported."},
                        }
                    ],
                    "type": "unsupported",
                    "unsupported": {"type": kind},
                }
            ],
        }
    )


@pytest.mark.parametrize("kind", ["reaction", "pin", "keep_in_chat", "poll_update", "edit"])
def test_whatsapp_unsupported_notices_get_no_reply(
    fake_server: FakeServer, api_stub: ApiStub, kind: str
) -> None:
    user = "6281277770001"
    api_stub.clear()
    before = len(fake_server.bot.received)
    assert wa_post(fake_server, wa_unsupported(user, kind, f"wamid.unsup.{kind}")) == 200
    assert wa_sent(api_stub, user) == []
    assert len(fake_server.bot.received) == before


def test_whatsapp_unsupported_content_is_still_answered(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    user = "6281277770002"
    api_stub.clear()
    assert wa_post(fake_server, wa_unsupported(user, "location", "wamid.unsup.loc")) == 200
    (reply,) = wa_sent(api_stub, user)
    assert reply.body["text"]["body"] == "Maaf, saya hanya membaca pesan teks."
    assert wa_post(fake_server, wa_text(user, "masih jalan")) == 200
    assert fake_server.bot.received[-1].text == "masih jalan"
