"""Re-reads sop/*.yaml in the running action server, without a restart of either server.

Two triggers, both attached to rasa_sdk's server through its plugin hook
(``attach_sanic_app_extensions``):

* ``kill -HUP <action server pid>`` (``make sop-reload`` sends it);
* ``POST /admin/sop/reload`` with ``Authorization: Bearer $SOP_RELOAD_TOKEN``: 403 while no
  token is configured, 401 for a missing or wrong one.

A new set of files replaces the old one only when every file loads and the trained model can
serve it: a new or removed intent, slot or check question needs `make domain` + `make train`
and a restart, so such a change is refused and the old files keep serving. A changed menu
text (greeting, help) is accepted with a note: those texts live in the model's domain and
change with the next training. Wording, steps, rules, tickets and page dates go live at once.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import pluggy
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from sop_engine import derive
from sop_engine.loader import SopLoadError, SopRegistry, default_registry, replace_default_registry

logger = logging.getLogger(__name__)

TOKEN_ENV = "SOP_RELOAD_TOKEN"
ROUTE = "/admin/sop/reload"
# Messages for the SOP owner (make sop-reload prints them): Indonesian.
REFUSED = "File SOP ditolak, versi lama tetap dipakai"
_hookimpl = pluggy.HookimplMarker("rasa_sdk")


@dataclass
class ReloadResult:
    reloaded: bool
    error: Optional[str] = None
    notes: List[str] = field(default_factory=list)
    sops: List[Dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> Dict[str, Any]:
        return {
            "status": "reloaded" if self.reloaded else "refused",
            "error": self.error,
            "notes": self.notes,
            "sops": self.sops,
        }


def _summary(registry: SopRegistry) -> List[Dict[str, Any]]:
    return [
        {
            "id": e.sop.id,
            "page_id": e.sop.page_id,
            "version": e.sop.version,
            "expires": e.sop.expires.isoformat() if e.sop.expires else None,
        }
        for e in registry.by_id.values()
    ]


def _flow_intents() -> List[str]:
    # part of the slot mappings the model was trained with, so part of the comparison
    from actions.common import FLOW_INTENTS

    return list(FLOW_INTENTS)


def reload_sops(directory: Optional[Path] = None) -> ReloadResult:
    """Loads the SOP files again; replaces the served set only if all of them are usable."""
    try:
        current = default_registry()
        new = SopRegistry.from_directory(directory) if directory else SopRegistry.from_directory()
        old_sig = derive.model_signature(current, _flow_intents())
        new_sig = derive.model_signature(new, _flow_intents())
    except (SopLoadError, ValueError) as exc:
        result = ReloadResult(False, error=f"{REFUSED}: {exc}")
        logger.error("sop reload: %s", result.error)
        return result
    if old_sig["intents"] != new_sig["intents"] or old_sig["domain"] != new_sig["domain"]:
        added = sorted(set(new_sig["domain"]["slots"]) - set(old_sig["domain"]["slots"]))
        removed = sorted(set(old_sig["domain"]["slots"]) - set(new_sig["domain"]["slots"]))
        intents = sorted(set(new_sig["intents"]) ^ set(old_sig["intents"]))
        detail = "; ".join(
            part
            for part in (
                f"intent baru/hilang: {intents}" if intents else "",
                f"slot/pertanyaan baru: {added}" if added else "",
                f"slot/pertanyaan hilang: {removed}" if removed else "",
            )
            if part
        )
        result = ReloadResult(
            False,
            error=f"{REFUSED}: perubahan ini butuh model baru (make domain, make train, lalu "
            f"jalankan ulang asisten): {detail or 'pemetaan slot berubah'}",
        )
        logger.error("sop reload: %s", result.error)
        return result
    replace_default_registry(new)
    result = ReloadResult(True, sops=_summary(new))
    if old_sig["responses"] != new_sig["responses"]:
        result.notes.append(
            "teks menu (sapaan, bantuan, di luar cakupan) baru berubah setelah make domain dan "
            "make train"
        )
    logger.info(
        "sop reload: serving %s%s",
        ", ".join(f"{s['id']} ({s['version'] or 'no version'})" for s in result.sops),
        f" ({'; '.join(result.notes)})" if result.notes else "",
    )
    return result


def _authorised(request: Request) -> Optional[HTTPResponse]:
    """None when the request may reload, else the refusal."""
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        return response.json({"error": f"reload over HTTP is off: {TOKEN_ENV} is not set"}, 403)
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer ") or not hmac.compare_digest(
        given[len("Bearer ") :].encode(), token.encode()
    ):
        return response.json({"error": "missing or wrong token"}, 401)
    return None


class SopReloadPlugin:
    """rasa_sdk plugin: the reload route and the SIGHUP handler."""

    @_hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        @app.post(ROUTE)
        async def reload(request: Request) -> HTTPResponse:
            refused = _authorised(request)
            if refused is not None:
                return refused
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(None, reload_sops)
            return response.json(result.as_json(), 200 if result.reloaded else 422)

        async def on_hangup(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
            def hangup() -> None:
                logger.info("sop reload: SIGHUP received")
                loop.run_in_executor(None, reload_sops)

            loop.add_signal_handler(signal.SIGHUP, hangup)

        async def load_now(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
            # a broken file stops the start with the file, line and field named, instead of
            # failing the first conversation; and a reload compares with what was served
            default_registry()

        app.register_listener(load_now, "before_server_start")
        app.register_listener(on_hangup, "after_server_start")


def install() -> None:
    """Registers the plugin with rasa_sdk (before its server starts)."""
    from rasa_sdk.plugin import plugin_manager

    manager = plugin_manager()
    if not any(isinstance(p, SopReloadPlugin) for p in manager.get_plugins()):
        manager.register(SopReloadPlugin())
