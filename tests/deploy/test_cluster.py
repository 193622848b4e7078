"""`make cluster` for real: scripts/cluster.sh starts Debian's nginx with TLS and agent logins
in front of two Rasa instances (and their action servers) on PostgreSQL + Redis; this module
talks to it only through https://127.0.0.1:<free port>, as a team would.

One cluster for the whole module (two model loads); the last test stops it with Ctrl-C
(SIGINT to its process group) and checks that nothing of it is left.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from testkit.assistant import server_env
from testkit.browser import chromium
from testkit.cluster import Cluster, add_agent, start_cluster
from testkit.conversations import FINTECH
from testkit.stores import RunStores, pg_events, user_texts

pytestmark = [
    pytest.mark.servers,
    # the cluster's certificate is self-signed, on purpose
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

AGENT, PASSWORD = "budi.cho", "rahasia-budi-123"
OTHER_AGENT, OTHER_PASSWORD = "siti", "rahasia-siti-456"
TL, TL_PASSWORD = "rina.tl", "rahasia-rina-789"


AUTH = (AGENT, PASSWORD)
BUTTONS = {"/affirm": "Ya", "/deny": "Tidak"}
# what one test leaves for a later one (the module's tests run in order)
NOTES: Dict[str, str] = {}


def _user_messages(dbname: str, sender: str) -> List[Dict[str, Any]]:
    """The user events of one conversation, in order, straight from PostgreSQL."""
    return [e for e in pg_events(dbname, sender) if e.get("event") == "user"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not Path("/usr/sbin/nginx").exists():
        pytest.fail("nginx missing: run `make test-deps` (scripts/install_test_deps.sh)")
    workdir = tmp_path_factory.mktemp("cluster")
    stores = RunStores("cluster")
    try:
        stores.create()
        for name, secret in ((AGENT, PASSWORD), (OTHER_AGENT, OTHER_PASSWORD)):
            add_agent(workdir, name, secret)
        add_agent(workdir, TL, TL_PASSWORD, tl=True)
        running = start_cluster(workdir, stores, server_env(), timeout=600)
        try:
            yield running
        finally:
            running.stop(signal.SIGTERM, timeout=60)
    finally:
        stores.remove()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_agent_completes_a_case_in_the_widget_through_nginx_on_both_instances(
    cluster: Cluster,
) -> None:
    from selenium.webdriver.common.by import By

    from tests.channels.test_widget_browser import PANEL_WIDTH, Widget

    with chromium(PANEL_WIDTH, self_signed=True) as driver:
        # the agent's login: nginx asks for it on every request (basic auth)
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.setExtraHTTPHeaders",
            {"headers": {"Authorization": _basic(AGENT, PASSWORD)}},
        )
        widget = Widget(driver, f"{cluster.url}/webhooks/widget/")
        widget.open()
        sender = driver.execute_script("return localStorage.getItem('asistenSop.sender')")
        assert sender and sender.startswith("w-")
        NOTES["widget_sender"] = sender
        for text in FINTECH.turns:  # the check questions answered with their buttons
            if text in BUTTONS:
                widget.click_choice(BUTTONS[text])
            else:
                widget.type(text)
        card = widget.last_card()
        assert card.find_element(By.TAG_NAME, "h2").text.startswith("Hasil SOP")
        ticket = card.find_element(By.CSS_SELECTOR, "pre.ticket-text").text
        assert "MSISDN: 081234567890" in ticket
        assert "Transaksi ID: TRX20261121ABC" in ticket

    # nginx's access log names the instance of every turn: they alternate
    turns = [line for line in cluster.access_log() if '"POST /webhooks/widget/webhook"' in line]
    assert len(turns) == 8, turns
    assert all(f"agent={AGENT} " in line and " 200 " in line for line in turns), turns
    upstreams = [line.rsplit("upstream=", 1)[1].split()[0] for line in turns]
    expected = {f"127.0.0.1:{port}" for port in cluster.rasa_ports}
    assert set(upstreams) == expected, upstreams
    assert all(a != b for a, b in zip(upstreams, upstreams[1:], strict=False)), upstreams

    # the conversation records the agent on every message
    events = _user_messages(cluster.stores.dbname, sender)
    assert len(events) == 8
    assert {(e.get("metadata") or {}).get("agent_id") for e in events} == {AGENT}


def test_logins_and_forged_agent_ids(cluster: Cluster) -> None:
    rest = f"{cluster.url}/webhooks/rest/webhook"
    body = {"sender": f"cl-{uuid.uuid4().hex[:8]}", "message": "halo"}
    for auth in (None, (AGENT, "salah"), ("tidak-ada", PASSWORD)):
        answer = requests.post(rest, json=body, auth=auth, verify=False, timeout=30)
        assert answer.status_code == 401, (auth, answer.status_code)
    page = requests.get(f"{cluster.url}/webhooks/widget/", verify=False, timeout=30)
    assert page.status_code == 401
    assert page.headers.get("WWW-Authenticate", "").startswith("Basic")

    # an agent who forges another agent's id (headers, metadata) is still recorded as himself
    forged = {
        "X-Agent-Id": OTHER_AGENT,
        "X-Agent-Proxy-Secret": "tebakan",
    }
    sender = f"cl-{uuid.uuid4().hex[:8]}"
    answer = requests.post(
        rest,
        json={"sender": sender, "message": "halo", "metadata": {"agent_id": OTHER_AGENT}},
        auth=AUTH,
        headers=forged,
        verify=False,
        timeout=60,
    )
    assert answer.status_code == 200
    assert answer.json() and answer.json()[0].get("text")
    recorded = _user_messages(cluster.stores.dbname, sender)
    assert [e["metadata"].get("agent_id") for e in recorded] == [AGENT]

    # another agent cannot read that agent's widget conversation back
    widget_sender = f"w-{uuid.uuid4().hex}"
    posted = requests.post(
        f"{cluster.url}/webhooks/widget/webhook",
        json={"sender": widget_sender, "message": "halo"},
        auth=AUTH,
        verify=False,
        timeout=60,
    )
    assert posted.status_code == 200
    history = f"{cluster.url}/webhooks/widget/history?sender={widget_sender}"
    own = requests.get(history, auth=AUTH, verify=False, timeout=30)
    assert own.status_code == 200 and own.json()["messages"]
    other = (OTHER_AGENT, OTHER_PASSWORD)
    assert requests.get(history, auth=other, verify=False, timeout=30).status_code == 403

    # around the proxy (straight to an instance), the agent id is never believed
    direct = f"http://127.0.0.1:{cluster.rasa_ports[0]}/webhooks/rest/webhook"
    for headers in ({}, forged, {"X-Agent-Id": AGENT, "X-Agent-Proxy-Secret": ""}):
        answer = requests.post(direct, json=body, headers=headers, timeout=30)
        assert answer.status_code == 403, headers
    assert _user_messages(cluster.stores.dbname, body["sender"]) == []


def _raw_https(cluster: Cluster, request: bytes, pause: float = 0.0, rest: bytes = b"") -> str:
    """Sends a raw request over TLS (optionally pausing mid-body); the status line back."""
    port = int(cluster.url.rsplit(":", 1)[1])
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        with context.wrap_socket(raw) as tls:
            tls.sendall(request)
            if pause:
                time.sleep(pause)
            try:
                if rest:
                    tls.sendall(rest)
                data = tls.recv(200)
            except OSError:
                return "closed"
    return data.split(b"\r\n", 1)[0].decode() if data else "closed"


def test_bad_input_gets_a_4xx_never_a_5xx(cluster: Cluster) -> None:
    rest = f"{cluster.url}/webhooks/rest/webhook"
    big = b'{"sender": "cl-big", "message": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    cases = {
        "oversized": requests.post(rest, data=big, auth=AUTH, verify=False, timeout=60),
        "not json": requests.post(rest, data=b"{", auth=AUTH, verify=False, timeout=60),
        "no sender": requests.post(
            rest, json={"message": "x"}, auth=AUTH, verify=False, timeout=60
        ),
        "socket.io": requests.get(
            f"{cluster.url}/socket.io/?EIO=4&transport=polling", verify=False, timeout=30
        ),
        "http api": requests.get(f"{cluster.url}/status", verify=False, timeout=30),
    }
    statuses = {name: answer.status_code for name, answer in cases.items()}
    assert statuses == {
        "oversized": 413,
        "not json": 400,
        "no sender": 400,
        "socket.io": 404,
        "http api": 404,
    }
    # a client that stops sending its body: nginx gives up on it (408 or closes), no 5xx
    auth = base64.b64encode(f"{AGENT}:{PASSWORD}".encode()).decode()
    head = (
        f"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"sender": '
    ).encode()
    status = _raw_https(cluster, head, pause=12)
    assert status == "closed" or " 408 " in status + " ", status
    # nothing of this reached an instance as a 5xx
    assert not [line for line in cluster.access_log() if '" 5' in line.split("]", 1)[1][:60]]


def _listening(port: int) -> List[str]:
    """Local addresses listening on ``port`` (IPv4 and IPv6), from /proc/net/tcp*."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


def test_servers_listen_on_loopback_only(cluster: Cluster) -> None:
    loopback = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
    for port in cluster.rasa_ports + cluster.action_ports:
        assert _listening(port) == [loopback], (port, _listening(port))


def _analytics_user_texts(cluster: Cluster, sender: str) -> List[str]:
    return user_texts(pg_events(cluster.stores.analytics_db, sender))


def test_one_analytics_consumer_stores_the_events_of_both_instances(cluster: Cluster) -> None:
    """Both instances publish to the cluster's own RabbitMQ exchange; the one consumer
    cluster.sh starts stores every event in the analytics database (not the tracker's)."""
    consumers = [
        pid
        for pid in cluster.session_pids()
        if b"analytics.consumer" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert len(consumers) == 1, consumers
    sender = f"cl-{uuid.uuid4().hex[:8]}"
    texts = ["plg isi pulsa 50rb di indomaret blm masuk", "081234567890", "kemarin jam 3 sore"]
    for text in texts:
        answer = requests.post(
            f"{cluster.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            auth=AUTH,
            verify=False,
            timeout=60,
        )
        assert answer.status_code == 200 and answer.json(), answer.text
    assert "SN" in answer.json()[0]["text"]
    deadline = time.monotonic() + 30
    while _analytics_user_texts(cluster, sender) != texts and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _analytics_user_texts(cluster, sender) == texts
    # nginx sent the turns to both instances (round robin), so both published
    turns = [line for line in cluster.access_log() if "POST /webhooks/rest/webhook" in line]
    upstreams = {line.rsplit("upstream=", 1)[1].split()[0] for line in turns[-3:]}
    assert upstreams == {f"127.0.0.1:{port}" for port in cluster.rasa_ports}, turns[-3:]


def _get(cluster: Cluster, path: str, auth: Any = None, **headers: str) -> requests.Response:
    return requests.get(
        f"{cluster.url}{path}", auth=auth, headers=headers, verify=False, timeout=60
    )


def _wait_for(check: Any, timeout: float = 30) -> Any:
    """The consumer stores the events a moment after the answer: poll, never sleep blindly."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_ops_page_behind_the_proxy_is_for_tl_logins_only(cluster: Cluster) -> None:
    """No OPS_TOKEN in the cluster: the TL logs in at nginx (htpasswd-tl), nginx passes the TL
    with the shared secret; an agent's login gets 403, no login 401."""
    tl = (TL, TL_PASSWORD)
    assert _get(cluster, "/ops/").status_code == 401
    assert _get(cluster, "/ops/cases.csv").status_code == 401
    assert _get(cluster, "/ops/", (TL, "wrong-password")).status_code == 401
    for path in ("/ops/", "/ops/cases.csv", "/ops/data.json"):
        assert _get(cluster, path, AUTH).status_code == 403, path
        # a role header of the agent's own is dropped by nginx
        assert _get(cluster, path, AUTH, **{"X-Agent-Role": "tl"}).status_code == 403
    page = _get(cluster, "/ops/", tl)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]

    def agent_rows() -> List[Dict[str, str]]:
        import csv
        import io

        answer = _get(cluster, "/ops/cases.csv", tl)
        assert answer.status_code == 200, answer.text
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        return [row for row in rows if row["agent"] == AGENT and row["channel"] == "widget"]

    # the case the agent completed in the widget (first test), counted with the agent id
    rows = _wait_for(agent_rows)
    assert len(rows) == 1, rows
    assert rows[0]["sop"] and rows[0]["case_id"].startswith(rows[0]["sop"] + ".")
    assert rows[0]["msisdn"] == "0812****7890"
    # the figures too, for the TL only
    data = _get(cluster, "/ops/data.json", tl)
    assert data.status_code == 200 and data.json()


def test_history_lists_the_agents_own_conversations_only(cluster: Cluster) -> None:
    """Behind the proxy the widget's history comes from the agent id, not only from the
    browser's own list; another agent's conversation never shows, even when asked for."""
    sender = NOTES.get("widget_sender")
    assert sender, "the widget test runs first"
    cases = "/webhooks/feedback/cases"

    def own() -> List[Dict[str, Any]]:
        answer = _get(cluster, cases, AUTH)  # a new browser: no senders of its own
        assert answer.status_code == 200, answer.text
        return [c for c in answer.json()["conversations"] if c["sender"] == sender]

    listed = _wait_for(own)
    assert len(listed) == 1 and listed[0]["msisdn"] == "0812****7890", listed
    other = (OTHER_AGENT, OTHER_PASSWORD)
    theirs = _get(cluster, f"{cases}?sender={sender}", other)
    assert theirs.status_code == 200 and theirs.json()["conversations"] == [], theirs.text
    assert _get(cluster, cases).status_code == 401
    # nor can the other agent give feedback on that answer
    answer_id = str(listed[0]["answer_id"])
    forged = requests.post(
        f"{cluster.url}/webhooks/feedback/",
        json={"sender": sender, "answer_id": answer_id, "kind": "down"},
        auth=other,
        verify=False,
        timeout=60,
    )
    assert forged.status_code == 403, forged.text
    assert own()[0]["feedback"] is None


def _rasa_pid(cluster: Cluster, port: int) -> int:
    for pid in cluster.session_pids():
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"assistant_runtime" in argv and b"run" in argv and str(port).encode() in argv:
            return pid
    raise AssertionError(f"no Rasa server on port {port} in the cluster")


def test_an_instance_that_crashes_is_bypassed_and_started_again(cluster: Cluster) -> None:
    """kill -9 of instance 1: once it is gone, agents keep getting answers (nginx tries
    instance 2), and its run.sh starts it again. (A message in flight on an instance at the
    moment it dies gets 502: nginx does not send a POST twice.)"""
    pid = _rasa_pid(cluster, cluster.rasa_ports[0])
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while pid in cluster.session_pids() and time.monotonic() < deadline:
        time.sleep(0.1)  # a 1 GB process takes a moment to go
    time.sleep(0.5)  # nginx closes its kept-alive connections to it as it sees them close
    sender = f"cl-{uuid.uuid4().hex[:8]}"
    rest = f"{cluster.url}/webhooks/rest/webhook"
    for text in ("plg isi pulsa 50rb di indomaret blm masuk", "081234567890", "kemarin jam 3 sore"):
        answer = requests.post(
            rest,
            json={"sender": sender, "message": text},
            auth=AUTH,
            verify=False,
            timeout=60,
        )
        assert answer.status_code == 200 and answer.json() and answer.json()[0].get("text")
    assert "SN" in answer.json()[0]["text"]  # the form went on: the serial number is asked
    deadline = time.monotonic() + 30
    while "the rasa server exited" not in cluster.log() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "the rasa server exited (status 137); starting it again" in cluster.log()


def test_ctrl_c_stops_the_whole_cluster(cluster: Cluster) -> None:
    """Also while instance 1 is still loading its model after the crash above."""
    # cluster.sh, 2 x (run.sh, rasa, actions), nginx, the analytics consumer
    assert len(cluster.session_pids()) >= 6
    before = len(cluster.log())
    os.killpg(cluster.process.pid, signal.SIGINT)
    try:
        cluster.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"cluster.sh still running 60 s after Ctrl-C:\n{cluster.log()}"
        ) from None
    deadline = time.monotonic() + 10
    while cluster.session_pids() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert cluster.session_pids() == [], cluster.log()[-2000:]
    assert "starting it again" not in cluster.log()[before:]
    assert "cluster: stopped" in cluster.log()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{cluster.url}/health", verify=False, timeout=5)
    print(f"cluster started in {cluster.started_in:.0f}s")
