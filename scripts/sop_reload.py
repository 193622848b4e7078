"""`make sop-reload`: the running action server re-reads sop/*.yaml (no restart).

With SOP_RELOAD_TOKEN (the value the assistant was started with): POST /admin/sop/reload on
127.0.0.1:$ACTION_PORT (default 5055). Without it: SIGHUP to the action server that
`make run` started (var/actions-<port>.pid), and its answer read from the action log.
Prints the result in Indonesian; exit 1 when the files were refused.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict

ROOT = Path(__file__).resolve().parent.parent
MARK = "sop reload: "


def _by_http(token: str, port: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/admin/sop/reload",
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            body: Dict[str, Any] = json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            print(f"Ditolak ({exc.code}): token salah atau reload lewat HTTP tidak aktif.")
            return 1
        body = json.loads(exc.read() or b"{}")
    except urllib.error.URLError as exc:
        print(f"Action server di port {port} tidak menjawab ({exc.reason}). Sudah make run?")
        return 1
    if body.get("status") != "reloaded":
        print(body.get("error") or body)
        return 1
    print("SOP dimuat ulang. Yang sekarang dipakai:")
    for sop in body["sops"]:
        expiry = f", berlaku s.d. {sop['expires']}" if sop["expires"] else ""
        print(f"- {sop['id']}: ID {sop['page_id'] or '-'}, versi {sop['version'] or '-'}{expiry}")
    for note in body.get("notes") or []:
        print(f"Catatan: {note}")
    return 0


def _by_signal(port: str) -> int:
    pid_file = ROOT / "var" / f"actions-{port}.pid"
    log = ROOT / "var" / "log" / ("actions.log" if port == "5055" else f"actions-{port}.log")
    if not pid_file.exists():
        print(f"Tidak ada asisten yang berjalan dari make run di port {port} ({pid_file}).")
        return 1
    seen = log.read_text(errors="replace").count(MARK) if log.exists() else 0
    try:
        os.kill(int(pid_file.read_text().strip()), signal.SIGHUP)
    except (ProcessLookupError, ValueError):
        print("Action server tidak berjalan lagi. Jalankan make run.")
        return 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = [line for line in log.read_text(errors="replace").splitlines() if MARK in line]
        results = [line for line in lines[seen:] if "SIGHUP received" not in line]
        if results:
            line = results[-1].split(MARK, 1)[1]
            print(("SOP dimuat ulang: " if line.startswith("serving") else "") + line)
            return 0 if line.startswith("serving") else 1
        time.sleep(0.2)
    print(f"Belum ada jawaban dari action server; lihat {log}.")
    return 1


def main() -> int:
    port = os.environ.get("ACTION_PORT", "5055")
    token = os.environ.get("SOP_RELOAD_TOKEN", "")
    return _by_http(token, port) if token else _by_signal(port)


if __name__ == "__main__":
    raise SystemExit(main())
