"""The agent id behind the proxy: believed only with the proxy's secret, stored with each
message, never taken from the client's own metadata."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from channels import agent_identity as ai
from tests.channels.fakebot import FakeServer

SECRET = "test-proxy-secret-0123456789"
REFUSED = ai.Identity(refused=True)


@pytest.mark.parametrize(
    "secret, headers, expected",
    [
        # no proxy configured: headers ignored, nobody refused
        ("", {ai.AGENT_HEADER: "budi"}, ai.Identity()),
        ("", {ai.AGENT_HEADER: "budi", ai.SECRET_HEADER: "x"}, ai.Identity()),
        # proxy configured
        (SECRET, {ai.AGENT_HEADER: "budi", ai.SECRET_HEADER: SECRET}, ai.Identity("budi")),
        (
            SECRET,
            {ai.AGENT_HEADER: " siti.r@cho.example ", ai.SECRET_HEADER: SECRET},
            ai.Identity("siti.r@cho.example"),
        ),
        (SECRET, {ai.AGENT_HEADER: "budi"}, REFUSED),
        (SECRET, {ai.AGENT_HEADER: "budi", ai.SECRET_HEADER: "wrong"}, REFUSED),
        (SECRET, {ai.AGENT_HEADER: "budi", ai.SECRET_HEADER: SECRET[:-1]}, REFUSED),
        (SECRET, {ai.SECRET_HEADER: SECRET}, REFUSED),
        (SECRET, {ai.AGENT_HEADER: "", ai.SECRET_HEADER: SECRET}, REFUSED),
        (SECRET, {ai.AGENT_HEADER: "a b", ai.SECRET_HEADER: SECRET}, REFUSED),
        (SECRET, {ai.AGENT_HEADER: "x" * 129, ai.SECRET_HEADER: SECRET}, REFUSED),
        (SECRET, {ai.AGENT_HEADER: "-rm", ai.SECRET_HEADER: SECRET}, REFUSED),
        (SECRET, {ai.AGENT_HEADER: "budi\x00", ai.SECRET_HEADER: SECRET}, REFUSED),
        (SECRET, {}, REFUSED),
    ],
)
def test_identify(secret: str, headers: Dict[str, str], expected: ai.Identity) -> None:
    assert ai.identify(headers, secret) == expected


@pytest.mark.parametrize(
    "metadata, identity, expected",
    [
        (None, ai.Identity(), None),
        ({}, ai.Identity(), None),
        ({"agent_id": "forged"}, ai.Identity(), None),
        ({"agent_id": "forged", "display": "Ya"}, ai.Identity(), {"display": "Ya"}),
        ({"agent_id": "forged"}, ai.Identity("budi"), {"agent_id": "budi"}),
        (None, ai.Identity("budi"), {"agent_id": "budi"}),
    ],
)
def test_stamp(
    metadata: Optional[Dict[str, Any]], identity: ai.Identity, expected: Optional[Dict[str, Any]]
) -> None:
    assert ai.stamp(metadata, identity) == expected


def _user(agent: Optional[str]) -> Dict[str, Any]:
    return {"event": "user", "text": "x", "metadata": {"agent_id": agent} if agent else {}}


@pytest.mark.parametrize(
    "identity, agents, allowed",
    [
        (ai.Identity(), ["budi", "siti"], True),  # no proxy: one person on the machine
        (ai.Identity("budi"), [], True),  # a new conversation
        (ai.Identity("budi"), ["budi", None, "budi"], True),
        (ai.Identity("budi"), ["budi", "siti"], False),
        (ai.Identity("budi"), ["siti"], False),
    ],
)
def test_an_agent_reads_back_only_conversations_no_other_agent_wrote_in(
    identity: ai.Identity, agents: List[Optional[str]], allowed: bool
) -> None:
    events = [_user(a) for a in agents] + [{"event": "bot", "text": "y", "metadata": {}}]
    assert ai.may_read(identity, events) is allowed


@pytest.fixture
def proxied(fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    monkeypatch.setenv(ai.SECRET_ENV, SECRET)  # the fake server runs in this process
    yield fake_server


def test_rest_and_widget_store_the_proxy_agent_and_refuse_requests_around_it(
    proxied: FakeServer,
) -> None:
    received = proxied.bot.received
    before = len(received)  # the fake server is shared by the session
    ok = {ai.SECRET_HEADER: SECRET, ai.AGENT_HEADER: "budi"}
    body = {"sender": "r-ident", "message": "halo", "metadata": {"agent_id": "siti"}}
    answer = requests.post(f"{proxied.url}/webhooks/rest/webhook", json=body, timeout=10)
    # without the secret (a request that went around the proxy): refused, nothing reaches NLU
    assert answer.status_code == 403 and answer.json()["error"] == ai.REFUSED_TEXT
    forged = requests.post(
        f"{proxied.url}/webhooks/rest/webhook",
        json=body,
        headers={ai.AGENT_HEADER: "siti", ai.SECRET_HEADER: "guess"},
        timeout=10,
    )
    assert forged.status_code == 403
    assert received[before:] == []

    rest = requests.post(f"{proxied.url}/webhooks/rest/webhook", json=body, headers=ok, timeout=10)
    assert rest.status_code == 200
    widget_body = {"sender": "w-0123456789ab", "message": "halo", "metadata": {"agent_id": "x"}}
    widget = requests.post(
        f"{proxied.url}/webhooks/widget/webhook", json=widget_body, headers=ok, timeout=10
    )
    assert widget.status_code == 200
    assert [m.metadata for m in received[before:]] == [{"agent_id": "budi"}] * 2

    def history(headers: Dict[str, str]) -> requests.Response:
        return requests.get(
            f"{proxied.url}/webhooks/widget/history",
            params={"sender": "w-0123456789ab"},
            headers=headers,
            timeout=10,
        )

    assert history({ai.AGENT_HEADER: "budi"}).status_code == 403  # around the proxy
    own = history(ok)
    assert own.status_code == 200
    assert [m.get("text") for m in own.json()["messages"] if m["role"] == "user"] == ["halo"]
    other = history({ai.SECRET_HEADER: SECRET, ai.AGENT_HEADER: "siti"})
    assert other.status_code == 403 and other.json()["error"] == ai.OTHER_AGENT_TEXT


def test_without_a_proxy_secret_the_agent_header_is_ignored(fake_server: FakeServer) -> None:
    before = len(fake_server.bot.received)
    answer = requests.post(
        f"{fake_server.url}/webhooks/rest/webhook",
        json={"sender": "r-noproxy", "message": "halo", "metadata": {"agent_id": "siti"}},
        headers={ai.AGENT_HEADER: "budi"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert [m.metadata for m in fake_server.bot.received[before:]] == [None]
