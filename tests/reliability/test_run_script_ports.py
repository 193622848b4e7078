"""scripts/run.sh refuses to start when a port it needs is held by another process.

Without the check the health polls would reach the other process and "ready" would be
printed for servers that never bound their port.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another process holds: something listens on it for the whole test."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def _run(tmp_path: Path, rasa_port: int, action_port: int) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "ASSISTANT_LOG_DIR": str(tmp_path),
        # empty: run.sh takes the newest file in models/ (none in a fresh clone before
        # `make train`: a start that gets past the port check then stops at the model check)
        "ASSISTANT_MODEL": "",
    }
    for name in ("TELEGRAM_TOKEN", "WHATSAPP_TOKEN", "ASSISTANT_STORES"):
        env.pop(name, None)
    return subprocess.run(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("which", ["rasa", "actions"])
def test_a_held_port_stops_the_start_with_its_number(
    tmp_path: Path, held_port: int, which: str
) -> None:
    port = held_port
    other = _free_port()
    rasa_port, action_port = (port, other) if which == "rasa" else (other, port)
    result = _run(tmp_path, rasa_port, action_port)
    assert result.returncode == 1
    assert f"port {port} is already in use" in result.stderr
    assert "ready" not in result.stdout
    assert "starting the action server" not in result.stdout


def test_free_ports_pass_the_check(tmp_path: Path) -> None:
    # free ports: the script goes on to the next check (here: the model, which is missing
    # when models/ is empty; otherwise it would start the servers, so only the port message
    # is asserted absent)
    if any((ROOT / "models").glob("*.tar.gz")):
        pytest.skip("a trained model exists: run.sh would start the servers")
    result = _run(tmp_path, _free_port(), _free_port())
    assert "already in use" not in result.stderr
    assert "no trained model" in result.stderr
