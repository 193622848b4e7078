"""The TLs' ops page on the Rasa server (same port): ``GET /ops/``, ``/ops/data.json``,
``/ops/cases.csv`` and the page's own script and style.

Protected by ``OPS_TOKEN`` (at least 16 characters), sent as ``Authorization: Bearer …``
(by the page after the TL types it once, or by a reverse proxy), or by the reverse proxy's
identity (README "The team deployment"): with ``AGENT_PROXY_SECRET`` set, a request carrying
the right ``X-Agent-Proxy-Secret``, a valid ``X-Agent-Id`` and ``X-Agent-Role: tl`` (nginx
sets the role only after a TL login) is let in; an agent's login or a wrong secret -> 403.
Without ``OPS_TOKEN`` and ``AGENT_PROXY_SECRET`` every ``/ops/`` URL answers 404: the page is
off. No credentials -> 401, wrong ones -> 403 (the page itself answers 401 with its sign-in
form and no figures).

Query: ``from`` and ``to`` (``YYYY-MM-DD``, inclusive, in the agents' zone ``AGENT_TZ``;
default the last 7 days). Any other parameter, a repeated one, a bad date, ``from`` after
``to`` or more than 366 days -> 400. Figures come from the stored broker events
(:mod:`analytics.store`); the page draws its charts itself (SVG, no CDN).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Dict, Optional, Tuple
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILES = {
    "ops.js": "text/javascript; charset=utf-8",
    "ops.css": "text/css; charset=utf-8",
}
MIN_TOKEN_CHARS = 16
MAX_DAYS = 366
DEFAULT_DAYS = 7
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class OpsError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def agent_zone() -> tzinfo:
    try:
        return ZoneInfo(os.environ.get("AGENT_TZ") or "Asia/Jakarta")
    except Exception:  # an unknown zone name: the project's default
        return ZoneInfo("Asia/Jakarta")


def ops_token() -> str:
    token = os.environ.get("OPS_TOKEN", "")
    return token if len(token) >= MIN_TOKEN_CHARS else ""


ROLE_HEADER = "X-Agent-Role"
TL_ROLE = "tl"
OFF_TEXT = "Halaman ops tidak aktif (OPS_TOKEN belum diatur)."


def proxy_identity_on() -> bool:
    from channels.agent_identity import SECRET_ENV

    return bool(os.environ.get(SECRET_ENV, ""))


def enabled() -> bool:
    return bool(ops_token()) or proxy_identity_on()


def _proxy_tl(headers: Any) -> None:
    """A TL logged in at the proxy, or OpsError 403."""
    from channels.agent_identity import identify

    identity = identify(headers)
    if identity.refused or identity.agent_id is None:
        raise OpsError(403, "Akses ditolak: buka halaman ops melalui alamat tim.")
    if str(headers.get(ROLE_HEADER) or "").strip().lower() != TL_ROLE:
        raise OpsError(403, "Halaman ops hanya untuk TL.")


def check_auth(headers: Any) -> None:
    """Raises OpsError 404 (off), 401 (no credentials) or 403 (wrong ones)."""
    from channels.agent_identity import SECRET_HEADER

    token = ops_token()
    if not token and not proxy_identity_on():
        raise OpsError(404, OFF_TEXT)
    header = str(headers.get("authorization") or "")
    if proxy_identity_on() and (not token or not header) and headers.get(SECRET_HEADER):
        _proxy_tl(headers)
        return
    if not header or not token:
        raise OpsError(401, "Perlu token TL (Authorization: Bearer …).")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
        raise OpsError(403, "Token TL salah.")


def parse_period(args: Dict[str, Any], today: date) -> Tuple[date, date]:
    """``from`` / ``to`` of a query (Sanic's ``request.args``: name -> list of values)."""
    unknown = sorted(set(args) - {"from", "to"})
    if unknown:
        raise OpsError(400, "Parameter tidak dikenal: " + ", ".join(unknown[:5]) + ".")
    values: Dict[str, date] = {}
    for name in ("from", "to"):
        given = args.get(name)
        if given is None:
            continue
        if not isinstance(given, list) or len(given) != 1:
            raise OpsError(400, f'Parameter "{name}" hanya boleh sekali.')
        text = str(given[0])
        if not DATE_RE.match(text):
            raise OpsError(400, f'"{name}" harus tanggal YYYY-MM-DD.')
        try:
            values[name] = date.fromisoformat(text)
        except ValueError:
            raise OpsError(400, f'"{name}" bukan tanggal yang ada.') from None
    end = values.get("to", today)
    start = values.get("from", end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise OpsError(400, '"from" harus sebelum atau sama dengan "to".')
    if (end - start).days + 1 > MAX_DAYS:
        raise OpsError(400, f"Periode maksimal {MAX_DAYS} hari.")
    return start, end


def _engine(app: Any) -> Any:
    from analytics.store import broker_engine, engine_from_env

    engine = getattr(app.ctx, "ops_engine", None)
    if engine is None:
        engine = engine_from_env() or broker_engine(getattr(app.ctx, "agent", None))
        if engine is None:
            raise OpsError(503, "Belum ada penyimpanan event (event_broker / ANALYTICS_DB_URL).")
        app.ctx.ops_engine = engine
    return engine


async def _extracted(app: Any, start: date, zone: tzinfo) -> Any:
    from analytics.figures import extract
    from analytics.store import load_events

    since = datetime.combine(start - timedelta(days=1), datetime.min.time(), zone).timestamp()
    engine = _engine(app)
    loop = asyncio.get_running_loop()
    events = await loop.run_in_executor(None, load_events, engine, since)
    return extract(events)


def add_ops_routes(routes: Any) -> None:
    """Adds the ``/ops/`` routes to a Sanic app or blueprint (the Rasa server's routes
    connector, :mod:`assistant_runtime.routes`)."""
    from sanic import response

    def error(err: OpsError, html: bool = False) -> Any:
        headers = dict(HEADERS)
        if err.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="ops"'
        if html and err.status in (401, 403):
            return page(err.status, headers)
        return response.json({"error": err.message}, status=err.status, headers=headers)

    def page(status: int, headers: Optional[Dict[str, str]] = None) -> Any:
        body = (STATIC_DIR / "ops.html").read_bytes()
        return response.raw(
            body,
            status=status,
            content_type="text/html; charset=utf-8",
            headers=headers or dict(HEADERS),
        )

    async def guarded(request: Any, handler: Any, html: bool = False) -> Any:
        try:
            check_auth(request.headers)
            return await handler()
        except OpsError as err:
            return error(err, html)
        except Exception:  # a broken store: a clear answer, never a 5xx page
            logger.exception("ops: reading the analytics failed")
            return response.json({"error": "Data analitik tidak bisa dibaca saat ini."}, status=503)

    @routes.get("/ops/", strict_slashes=False)
    async def ops_page(request: Any) -> Any:
        async def run() -> Any:
            return page(200)

        return await guarded(request, run, html=True)

    @routes.get("/ops/<name:str>")
    async def ops_file(request: Any, name: str) -> Any:
        if not name:  # "/ops/" may reach this route in Sanic 21.12
            return await ops_page(request)
        if name in ("data.json", "cases.csv"):
            return await ops_data(request, name)
        if not enabled():
            return error(OpsError(404, OFF_TEXT))
        if name not in STATIC_FILES:
            return response.json({"error": "Tidak ditemukan."}, status=404)
        return response.raw(
            (STATIC_DIR / name).read_bytes(),
            content_type=STATIC_FILES[name],
            headers=dict(HEADERS),
        )

    async def ops_data(request: Any, name: str) -> Any:
        async def run() -> Any:
            from analytics.figures import cases_csv, figures

            zone = agent_zone()
            start, end = parse_period(dict(request.args), datetime.now(zone).date())
            data = await _extracted(request.app, start, zone)
            if name == "cases.csv":
                filename = f"kasus-{start.isoformat()}-{end.isoformat()}.csv"
                headers = dict(HEADERS)
                headers["Content-Disposition"] = f'attachment; filename="{filename}"'
                return response.text(
                    cases_csv(data, start, end, zone),
                    content_type="text/csv; charset=utf-8",
                    headers=headers,
                )
            return response.json(figures(data, start, end, zone), headers=dict(HEADERS))

        return await guarded(request, run)
