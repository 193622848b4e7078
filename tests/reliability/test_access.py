"""The HTTP API (/conversations, /model, /status, /domain) needs the token or a JWT whose
secret comes from the environment; without it 401/403. The secret is not on the server's
command line (``ps``) and not in its logs (tests/reliability/test_privacy.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Optional

import jwt
import pytest
import requests

from tests.reliability import harness as h
from tests.reliability.conftest import EmbeddedStack, Figures, ProductionStack

pytestmark = pytest.mark.servers


def _api_calls(sender: str) -> Dict[str, Any]:
    return {
        "GET tracker": ("get", f"/conversations/{sender}/tracker", None),
        "POST messages": (
            "post",
            f"/conversations/{sender}/messages",
            {"text": "halo", "sender": "user"},
        ),
        "POST model/parse": ("post", "/model/parse", {"text": "pulsa blm masuk"}),
        "GET status": ("get", "/status", None),
        "GET domain": ("get", "/domain", None),
    }


def _call(
    port: int,
    method: str,
    path: str,
    body: Optional[dict],
    params: Optional[dict] = None,
    headers: Optional[dict] = None,
) -> int:
    response = requests.request(
        method,
        f"http://127.0.0.1:{port}{path}",
        json=body,
        params=params,
        headers=dict(headers or {}, Accept="application/json"),
        timeout=30,
    )
    return response.status_code


def test_token_protects_the_http_api(embedded: EmbeddedStack, figures: Figures) -> None:
    port, token = embedded.rasa_port, embedded.token
    sender = h.new_sender("access")
    assert h.say(port, sender, "halo").status == 200  # the webhook itself is for agents
    refused = 0
    for name, (method, path, body) in _api_calls(sender).items():
        assert _call(port, method, path, body) == 401, f"{name} without token"
        assert _call(port, method, path, body, {"token": "wrong" + token}) == 401, name
        assert _call(port, method, path, body, {"token": token}) == 200, f"{name} with token"
        refused += 2
    cmdline = Path(f"/proc/{embedded.rasa.pid}/cmdline").read_bytes().decode(errors="replace")
    assert token not in cmdline and "--auth-token" not in cmdline
    figures.record(
        "access_token",
        api_endpoints=len(_api_calls(sender)),
        refused_without_or_wrong=refused,
        token_on_command_line=False,
    )


def _jwt(secret: str, role: str, username: str = "tl-01") -> str:
    payload = {"user": {"username": username, "role": role}, "exp": int(time.time()) + 300}
    return str(jwt.encode(payload, secret, algorithm="HS256"))


def test_jwt_protects_the_http_api(production: ProductionStack, figures: Figures) -> None:
    port, secret = production.ports[0], production.jwt_secret
    sender = h.new_sender("access-jwt")
    assert h.say(port, sender, "halo").status == 200
    checked = 0
    for name, (method, path, body) in _api_calls(sender).items():
        assert _call(port, method, path, body) in (401, 403), f"{name} without JWT"
        forged = {"Authorization": f"Bearer {_jwt('not-the-secret-' + secret, 'admin')}"}
        assert _call(port, method, path, body, headers=forged) in (401, 403), name
        assert _call(port, method, path, body, {"token": production.token}) in (401, 403), name
        admin = {"Authorization": f"Bearer {_jwt(secret, 'admin')}"}
        assert _call(port, method, path, body, headers=admin) == 200, f"{name} with JWT"
        checked += 3
    # role "user" may read only its own conversation
    own = {"Authorization": f"Bearer {_jwt(secret, 'user', username=sender)}"}
    other = {"Authorization": f"Bearer {_jwt(secret, 'user', username='someone-else')}"}
    path = f"/conversations/{sender}/tracker"
    assert _call(port, "get", path, None, headers=own) == 200
    assert _call(port, "get", path, None, headers=other) == 403
    figures.record("access_jwt", refused_without_or_forged=checked, user_role_scoped=True)
