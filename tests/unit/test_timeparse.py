"""Indonesian date/time parsing (sop_engine.timeparse) with fixed 'now' values."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional
from zoneinfo import ZoneInfo

import pytest

from sop_engine.timeparse import (
    IndonesianParserInfo,
    ParsedTime,
    agent_timezone,
    parse_indonesian_datetime,
)

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=WIB)  # Sunday
NOW_EARLY = datetime(2026, 11, 22, 0, 10, tzinfo=WIB)  # just after midnight
NOW_EVENING = datetime(2026, 11, 22, 22, 0, tzinfo=WIB)


@pytest.fixture(autouse=True)
def _agent_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TZ", "Asia/Jakarta")


def _parse(text: str, now: datetime = NOW) -> ParsedTime:
    parsed = parse_indonesian_datetime(text, now)
    assert parsed is not None, text
    return parsed


# (text, expected ISO value, has_time, approximate, assumed_yesterday)
CASES_NOW = [
    ("22/11/2026 14:30", "2026-11-22T14:30:00+07:00", True, False, False),
    ("22-11-2026 jam 14.30", "2026-11-22T14:30:00+07:00", True, False, False),
    ("22.11.2026 08:05", "2026-11-22T08:05:00+07:00", True, False, False),
    ("22 Nov 2026 jam 2 siang", "2026-11-22T14:00:00+07:00", True, False, False),
    ("21 november jam 21.30", "2026-11-21T21:30:00+07:00", True, False, False),
    ("21 nov 21.30", "2026-11-21T21:30:00+07:00", True, False, False),
    ("Sabtu, 21 November 2026", "2026-11-21T00:00:00+07:00", False, False, False),
    ("tanggal 21 nov 2026 pukul 15.45", "2026-11-21T15:45:00+07:00", True, False, False),
    ("1 Januari 2026", "2026-01-01T00:00:00+07:00", False, False, False),
    ("14 Februari 2026", "2026-02-14T00:00:00+07:00", False, False, False),
    ("3 Maret 2026", "2026-03-03T00:00:00+07:00", False, False, False),
    ("5 Mei 2026", "2026-05-05T00:00:00+07:00", False, False, False),
    ("17 Agustus 2026 pukul 10.00", "2026-08-17T10:00:00+07:00", True, False, False),
    ("17 Agt 2026", "2026-08-17T00:00:00+07:00", False, False, False),
    ("17 Ags 2026", "2026-08-17T00:00:00+07:00", False, False, False),
    ("17 agu 2026", "2026-08-17T00:00:00+07:00", False, False, False),
    ("3 Okt 2026", "2026-10-03T00:00:00+07:00", False, False, False),
    ("10 Des 2025", "2025-12-10T00:00:00+07:00", False, False, False),
    ("10 Nopember 2026", "2026-11-10T00:00:00+07:00", False, False, False),
    ("2026-11-21", "2026-11-21T00:00:00+07:00", False, False, False),
    ("kemarin jam 3 sore", "2026-11-21T15:00:00+07:00", True, False, False),
    ("kmrn jam 10 pagi", "2026-11-21T10:00:00+07:00", True, False, False),
    ("kmrin jam 1 siang", "2026-11-21T13:00:00+07:00", True, False, False),
    ("kemaren jm 11 siang", "2026-11-21T11:00:00+07:00", True, False, False),
    ("kemarin jam 12 siang", "2026-11-21T12:00:00+07:00", True, False, False),
    ("kemarin jam 5 sore", "2026-11-21T17:00:00+07:00", True, False, False),
    ("kemarin jam 7 malam", "2026-11-21T19:00:00+07:00", True, False, False),
    ("kemarin jam 11 malam", "2026-11-21T23:00:00+07:00", True, False, False),
    ("kemarin jam 3 dini hari", "2026-11-21T03:00:00+07:00", True, False, False),
    ("kemarin jam 12 malam", "2026-11-22T00:00:00+07:00", True, False, False),
    ("kemarin jam 1 malam", "2026-11-22T01:00:00+07:00", True, False, False),
    ("kemarin jam setengah 3 sore", "2026-11-21T14:30:00+07:00", True, False, False),
    ("kemarin 3 sore", "2026-11-21T15:00:00+07:00", True, False, False),
    ("kemarin jam3sore", "2026-11-21T15:00:00+07:00", True, False, False),
    ("sore kemarin jam 4", "2026-11-21T16:00:00+07:00", True, False, False),
    ("sekitar jam 3 sore kemarin", "2026-11-21T15:00:00+07:00", True, True, False),
    ("kemarin jam 3an sore", "2026-11-21T15:00:00+07:00", True, True, False),
    ("kira2 jam2 siang kmrn", "2026-11-21T14:00:00+07:00", True, True, False),
    ("kemarin sore2", "2026-11-21T16:00:00+07:00", True, True, False),
    ("kemarin", "2026-11-21T00:00:00+07:00", False, False, False),
    ("kemarin pagi", "2026-11-21T09:00:00+07:00", True, True, False),
    ("kemarin malam", "2026-11-21T20:00:00+07:00", True, True, False),
    ("tadi pagi", "2026-11-22T09:00:00+07:00", True, True, False),
    ("tadi pagi jam 8", "2026-11-22T08:00:00+07:00", True, False, False),
    ("pagi ini", "2026-11-22T09:00:00+07:00", True, True, False),
    ("tadi malam", "2026-11-21T20:00:00+07:00", True, True, False),
    ("tdi mlm jam 9", "2026-11-21T21:00:00+07:00", True, False, False),
    ("semalam", "2026-11-21T20:00:00+07:00", True, True, False),
    ("semalam jam 11", "2026-11-21T23:00:00+07:00", True, False, False),
    ("hari ini jam 9 malam", "2026-11-22T21:00:00+07:00", True, False, False),
    ("hari ini jam 08.30", "2026-11-22T08:30:00+07:00", True, False, False),
    ("jam 9 malam", "2026-11-21T21:00:00+07:00", True, False, True),
    ("21.30", "2026-11-21T21:30:00+07:00", True, False, True),
    ("21:30", "2026-11-21T21:30:00+07:00", True, False, True),
    ("09:15", "2026-11-22T09:15:00+07:00", True, False, False),
    ("jam 12 malam", "2026-11-22T00:00:00+07:00", True, False, False),
    ("jam 24.00", "2026-11-22T00:00:00+07:00", True, False, False),
    ("3 sore", "2026-11-21T15:00:00+07:00", True, False, True),
    ("pukul 08.15 WIB", "2026-11-22T08:15:00+07:00", True, False, False),
    ("pkl 08.15 wib", "2026-11-22T08:15:00+07:00", True, False, False),
    ("pukul 09.15 WITA", "2026-11-22T08:15:00+07:00", True, False, False),
    ("pukul 10.15 WIT", "2026-11-22T08:15:00+07:00", True, False, False),
    ("2 hari lalu", "2026-11-20T00:00:00+07:00", False, False, False),
    ("2 hr lalu", "2026-11-20T00:00:00+07:00", False, False, False),
    ("dua hari yang lalu", "2026-11-20T00:00:00+07:00", False, False, False),
    ("2 hari yang lalu jam 8", "2026-11-20T08:00:00+07:00", True, False, False),
    ("3 hari yg lalu jam 7 malam", "2026-11-19T19:00:00+07:00", True, False, False),
    ("seminggu lalu", "2026-11-15T00:00:00+07:00", False, False, False),
    ("2 minggu lalu", "2026-11-08T00:00:00+07:00", False, False, False),
    ("sebulan yang lalu", "2026-10-22T00:00:00+07:00", False, False, False),
    ("2 jam lalu", "2026-11-22T08:00:00+07:00", True, True, False),
    ("30 menit yang lalu", "2026-11-22T09:30:00+07:00", True, True, False),
    ("kemarin lusa", "2026-11-20T00:00:00+07:00", False, False, False),
    ("kmrn lusa jam 10 pagi", "2026-11-20T10:00:00+07:00", True, False, False),
    ("senin kemarin", "2026-11-16T00:00:00+07:00", False, False, False),
    ("hari senin", "2026-11-16T00:00:00+07:00", False, False, False),
    ("kemarin hari senin", "2026-11-16T00:00:00+07:00", False, False, False),
    ("senin lalu jam 2 siang", "2026-11-16T14:00:00+07:00", True, False, False),
    ("hari sabtu", "2026-11-21T00:00:00+07:00", False, False, False),
    ("hari jumat jam 9 malam", "2026-11-20T21:00:00+07:00", True, False, False),
    ("jum'at", "2026-11-20T00:00:00+07:00", False, False, False),
    ("hari minggu", "2026-11-22T00:00:00+07:00", False, False, False),  # today is Sunday
    ("hari minggu kemarin", "2026-11-15T00:00:00+07:00", False, False, False),
    ("tgl 20 jam 7 pagi", "2026-11-20T07:00:00+07:00", True, False, False),
    ("tanggal 20", "2026-11-20T00:00:00+07:00", False, False, False),
    ("tgl 25", "2026-10-25T00:00:00+07:00", False, False, False),  # future -> last month
    ("tgl 31", "2026-10-31T00:00:00+07:00", False, False, False),  # no 31 Nov
    ("20/11", "2026-11-20T00:00:00+07:00", False, False, False),
    ("20/11 jam 13:05", "2026-11-20T13:05:00+07:00", True, False, False),
    ("25/11", "2026-11-25T00:00:00+07:00", False, False, False),  # kept: refused later
    ("28/12", "2025-12-28T00:00:00+07:00", False, False, False),  # > 31 days ahead
    ("2026-11-21T15:00:00+07:00", "2026-11-21T15:00:00+07:00", True, False, False),
    ("2026-11-21T08:00:00Z", "2026-11-21T15:00:00+07:00", True, False, False),
    ("2026-11-21T16:00:00+08:00", "2026-11-21T15:00:00+07:00", True, False, False),
    ("2026-11-21 15:00", "2026-11-21T15:00:00+07:00", True, False, False),
    ("besok", "2026-11-23T00:00:00+07:00", False, False, False),  # refused by validator
    ("selamat pagi, kemarin jam 3", "2026-11-21T03:00:00+07:00", True, False, False),
    # spellings from the one slang table (sop_engine/slang.yaml), words and phrases
    ("kmrin jem 3 sre", "2026-11-21T15:00:00+07:00", True, False, False),
    ("tangal 20 nov pkl 8 pgi", "2026-11-20T08:00:00+07:00", True, False, False),
    ("kmrn kurang lebih jam 7 mlm", "2026-11-21T19:00:00+07:00", True, True, False),
    ("bsk", "2026-11-23T00:00:00+07:00", False, False, False),  # refused by validator
]


@pytest.mark.parametrize(("text", "iso", "has_time", "approximate", "yesterday"), CASES_NOW)
def test_parse_at_ten_in_the_morning(
    text: str, iso: str, has_time: bool, approximate: bool, yesterday: bool
) -> None:
    parsed = _parse(text)
    assert parsed.value.isoformat() == iso
    assert parsed.value.tzinfo is not None
    assert (parsed.has_time, parsed.approximate, parsed.assumed_yesterday) == (
        has_time,
        approximate,
        yesterday,
    )


CASES_EARLY = [
    ("jam 23.50", "2026-11-21T23:50:00+07:00", True),
    ("23:50", "2026-11-21T23:50:00+07:00", True),
    ("jam 00.15", "2026-11-21T00:15:00+07:00", True),
    ("jam 00.05", "2026-11-22T00:05:00+07:00", False),
    ("jam 12 malam", "2026-11-22T00:00:00+07:00", False),
    ("kemarin jam 12 malam", "2026-11-22T00:00:00+07:00", False),
    ("hari ini jam 00.05", "2026-11-22T00:05:00+07:00", False),
    ("tadi malam", "2026-11-21T20:00:00+07:00", False),
    ("semalam", "2026-11-21T20:00:00+07:00", False),
    ("kemarin jam 3 sore", "2026-11-21T15:00:00+07:00", False),
    ("kemarin", "2026-11-21T00:00:00+07:00", False),
    ("jam 9 malam", "2026-11-21T21:00:00+07:00", True),
]


@pytest.mark.parametrize(("text", "iso", "yesterday"), CASES_EARLY)
def test_parse_just_after_midnight(text: str, iso: str, yesterday: bool) -> None:
    parsed = _parse(text, NOW_EARLY)
    assert parsed.value.isoformat() == iso
    assert parsed.assumed_yesterday is yesterday


@pytest.mark.parametrize(
    ("text", "now", "iso"),
    [
        ("tadi malam", NOW_EVENING, "2026-11-22T20:00:00+07:00"),
        ("tadi malam jam 9", NOW_EVENING, "2026-11-22T21:00:00+07:00"),
        ("semalam", NOW_EVENING, "2026-11-21T20:00:00+07:00"),
        ("tadi siang", datetime(2026, 11, 22, 14, 0, tzinfo=WIB), "2026-11-22T12:00:00+07:00"),
        ("tadi sore", datetime(2026, 11, 22, 17, 0, tzinfo=WIB), "2026-11-22T16:00:00+07:00"),
        # the day part has begun but the estimate is later: capped at now
        ("tadi sore", datetime(2026, 11, 22, 15, 30, tzinfo=WIB), "2026-11-22T15:30:00+07:00"),
        # the day part has not begun: the estimate stays in the future (the validator refuses)
        ("tadi siang", NOW, "2026-11-22T12:00:00+07:00"),
        ("tadi sore", NOW, "2026-11-22T16:00:00+07:00"),
        # "tgl 20" at the start of a month: previous month
        ("tgl 20", datetime(2026, 3, 5, 9, 0, tzinfo=WIB), "2026-02-20T00:00:00+07:00"),
        ("tgl 30", datetime(2026, 3, 5, 9, 0, tzinfo=WIB), "2026-01-30T00:00:00+07:00"),
        ("28/12", datetime(2027, 1, 5, 9, 0, tzinfo=WIB), "2026-12-28T00:00:00+07:00"),
        ("21 november", datetime(2027, 1, 5, 9, 0, tzinfo=WIB), "2026-11-21T00:00:00+07:00"),
    ],
)
def test_parse_day_parts_relative_to_now(text: str, now: datetime, iso: str) -> None:
    assert _parse(text, now).value.isoformat() == iso


def test_tadi_values_are_approximate() -> None:
    for text in ("tadi pagi", "tadi siang", "tadi sore", "tadi malam", "semalam"):
        assert _parse(text).approximate, text


@pytest.mark.parametrize(
    ("text", "ambiguous"),
    [
        ("jam 3", True),
        ("kemarin jam 8", True),
        ("kemarin jam 08.00", False),
        ("kemarin jam 15", False),
        ("kemarin jam 3 sore", False),
        ("tadi pagi jam 8", False),
    ],
)
def test_hour_without_day_part_is_flagged(text: str, ambiguous: bool) -> None:
    assert _parse(text).ambiguous_hour is ambiguous


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "pulsa belum masuk",
        "jam 25",
        "jam 10.75",
        "jam 15 pagi",
        "jam 3 atau jam 4",
        "32/11/2026",
        "31/02/2026",
        "kemarin 50rb",
        "tgl 40",
        "minggu lalu",  # last week or last Sunday: ambiguous
        "minggu kemarin",
        "0812-3456-7890",
        "21/11 atau 22/11",
        "kemarin jam 3 sore tadi pagi",  # two different days
        "tadi pagi jam 3 sore",  # contradicting day parts
        "senin kemarin jam 8 tadi",
        "2 hari lalu kemarin",
    ],
)
def test_unreadable_or_ambiguous_text_gives_none(text: str) -> None:
    assert parse_indonesian_datetime(text, NOW) is None


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_indonesian_datetime("kemarin", datetime(2026, 11, 22, 10, 0))


def test_agent_timezone_default_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENT_TZ", raising=False)
    assert agent_timezone().key == "Asia/Jakarta"
    monkeypatch.setenv("AGENT_TZ", "Asia/Makassar")
    assert agent_timezone().key == "Asia/Makassar"
    monkeypatch.setenv("AGENT_TZ", "Mars/Olympus")
    with pytest.raises(ValueError):
        agent_timezone()


@pytest.fixture
def utc_server_clock() -> Iterator[None]:
    """Run with the process clock zone set to UTC (as on most servers)."""
    old: Optional[str] = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.mark.usefixtures("utc_server_clock")
@pytest.mark.parametrize(
    ("text", "now_utc", "iso"),
    [
        # 03:00 UTC = 10:00 WIB
        ("kemarin jam 3 sore", datetime(2026, 11, 22, 3, 0), "2026-11-21T15:00:00+07:00"),
        ("jam 9 malam", datetime(2026, 11, 22, 3, 0), "2026-11-21T21:00:00+07:00"),
        # 18:00 UTC on the 21st is already the 22nd (01:00) in Jakarta
        ("kemarin", datetime(2026, 11, 21, 18, 0), "2026-11-21T00:00:00+07:00"),
        ("hari ini jam 00.30", datetime(2026, 11, 21, 18, 0), "2026-11-22T00:30:00+07:00"),
        ("tadi malam", datetime(2026, 11, 21, 18, 0), "2026-11-21T20:00:00+07:00"),
    ],
)
def test_server_clock_zone_is_irrelevant(text: str, now_utc: datetime, iso: str) -> None:
    assert time.strftime("%Z") == "UTC"
    parsed = _parse(text, now_utc.replace(tzinfo=timezone.utc))
    assert parsed.value.isoformat() == iso


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("kemarin jam 3 sore", "2026-11-21T15:00:00+08:00"),
        ("jam 9 malam", "2026-11-21T21:00:00+08:00"),
        ("pukul 08.15 WIB", "2026-11-22T09:15:00+08:00"),
        ("2026-11-21T15:00:00+07:00", "2026-11-21T16:00:00+08:00"),
        ("20/11", "2026-11-20T00:00:00+08:00"),
    ],
)
def test_agent_zone_makassar(monkeypatch: pytest.MonkeyPatch, text: str, iso: str) -> None:
    monkeypatch.setenv("AGENT_TZ", "Asia/Makassar")
    now = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)  # 10:00 WITA
    assert _parse(text, now).value.isoformat() == iso


def test_parserinfo_reads_indonesian_names() -> None:
    info = IndonesianParserInfo()
    assert info.month("Mei") == 5
    assert info.month("agustus") == 8
    assert info.month("Ags") == 8
    assert info.month("Des") == 12
    assert info.weekday("senin") == 0
    assert info.weekday("Minggu") == 6
    assert info.weekday("ahad") == 6


def test_time_spellings_come_from_the_slang_table(tmp_path: Path) -> None:
    """timeparse keeps the words its grammar knows; their spellings live in slang.yaml."""
    import re as _re

    from sop_engine import normaliser, timeparse

    source = Path(timeparse.__file__).read_text(encoding="utf-8")
    assert not _re.search(r"\bkmrn\b|\bbarusan\b|\bkurleb\b", source)
    rewrite = normaliser.spelling_rewriter(timeparse.TIME_WORDS)
    assert rewrite("brusan jm 3 kira kira") == "tadi jam 3 sekitar"
    assert rewrite("dini hri") == "dinihari"
    assert rewrite("pgilan") == "pgilan"  # whole words only
