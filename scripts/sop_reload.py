"""`make sop-reload`: asks the running action server to re-read sop/*.yaml (no restart).

Needs SOP_RELOAD_TOKEN, the same value the running assistant was started with; ACTION_PORT
(default 5055) as for `make run`. Prints the answer in Indonesian; exit 1 when refused.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    token = os.environ.get("SOP_RELOAD_TOKEN", "")
    port = os.environ.get("ACTION_PORT", "5055")
    if not token:
        print(
            "SOP_RELOAD_TOKEN belum diisi. Isi dengan nilai yang sama seperti saat asisten "
            "dijalankan, atau kirim sinyal: kill -HUP <pid action server> (hasilnya di "
            "var/log/actions.log).",
            file=sys.stderr,
        )
        return 2
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/admin/sop/reload",
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read() or b"{}")
        if exc.code in (401, 403):
            print(f"Ditolak ({exc.code}): token salah atau reload lewat HTTP tidak aktif.")
            return 1
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


if __name__ == "__main__":
    raise SystemExit(main())
