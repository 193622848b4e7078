"""The page's id, version and expiry reach the agent: the source names them, an expired page
keeps warning."""

from __future__ import annotations

from datetime import datetime

from sop_engine.engine import SopResult
from sop_engine.loader import default_registry
from sop_engine.render import result_payload, result_text


def _pelurusan(now: datetime) -> SopResult:
    engine = default_registry().by_intent["callback"]
    decision = engine.evaluate(
        {"callback_case": "pelurusan_informasi", "event_time": "2026-11-22T09:50:00+07:00"}, now
    )
    assert isinstance(decision, SopResult)
    return decision


def test_the_source_names_page_id_and_version(now: datetime) -> None:
    payload = result_payload(_pelurusan(now))
    assert payload["source"].startswith(
        "New Callback - Complaint Handling (ID KM1229082304; versi Update 29 April 2025; "
        "diperbarui 30 Apr 2025; halaman: new-callback.txt; bagian: "
    )


def test_a_page_without_id_or_version_says_so(now: datetime) -> None:
    imes = default_registry().by_intent["imes_tagihan"].sop
    assert "ID halaman tidak tercantum; versi tidak tercantum" in imes.cite("A")


def test_an_expired_page_keeps_warning(now: datetime) -> None:
    result = _pelurusan(now)
    assert result.warnings[0].startswith("Halaman sumber sudah kedaluwarsa sejak 30 Jun 2025")
    assert result_text(result).startswith("⚠️ Halaman sumber sudah kedaluwarsa sejak 30 Jun 2025")


def test_a_page_before_its_expiry_does_not_warn() -> None:
    from zoneinfo import ZoneInfo

    before = datetime(2025, 6, 30, 23, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    assert not any("kedaluwarsa" in w for w in _pelurusan(before).warnings)
