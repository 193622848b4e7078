"""Event time: when the event happened, in the agents' zone, never in the future.

The value is an ISO 8601 moment with the agents' UTC offset, or an ISO 8601 interval
'start/end' when only the day ("kemarin", "21/11") or a day part ("tadi pagi") is known: never
00:00 or a guessed hour. The engine asks the hour (kinds/event_hour.py) when a rule's outcome
depends on it. This module also reads that value back (``parse_time_span``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from dateutil.relativedelta import relativedelta

from sop_engine.kinds.base import Given, Invalid, SlotKind, Valid, ValidationResult, prepare, short
from sop_engine.timeparse import (
    DAYPART_RANGES,
    agent_timezone,
    format_for_agent,
    parse_indonesian_datetime,
    zone_label,
)

NOUN = "waktu kejadian"
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def parse_iso(value: Any) -> Optional[datetime]:
    if not isinstance(value, str) or not _ISO_RE.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=agent_timezone())
    return parsed


def parse_time_span(value: Any) -> Optional[tuple[datetime, datetime]]:
    """(earliest, latest) of a time slot value: an exact ISO datetime gives the same moment
    twice; an ISO interval 'start/end' (a date or a day part without the hour) gives both ends."""
    if not isinstance(value, str):
        return None
    if "/" in value:
        first, _, second = value.partition("/")
        start, end = parse_iso(first), parse_iso(second)
        return (start, end) if start is not None and end is not None else None
    moment = parse_iso(value)
    return (moment, moment) if moment is not None else None


def is_time_range(value: Any) -> bool:
    span = parse_time_span(value)
    return span is not None and span[0] != span[1]


def format_span(start: datetime, end: datetime) -> str:
    zone = agent_timezone()
    a, b = start.astimezone(zone), end.astimezone(zone)
    if a.date() == b.date():
        day = format_for_agent(a).rsplit(" ", 2)[0]
        return (
            f"{day} antara {a.hour:02d}.{a.minute:02d}-{b.hour:02d}.{b.minute:02d} "
            f"{zone_label(zone)} (jam pasti belum diketahui)"
        )
    return f"antara {format_for_agent(a)} dan {format_for_agent(b)} (jam pasti belum diketahui)"


def _fmt(value: datetime) -> str:
    return f"{value:%d-%m-%Y %H:%M}"


def _range_value(start: datetime, end: datetime) -> str:
    """ISO 8601 interval of a time known only to the day or day part."""
    return f"{start.isoformat(timespec='seconds')}/{end.isoformat(timespec='seconds')}"


def validate(text: str, now: datetime) -> ValidationResult:
    """Date/time of the event -> ISO 8601 with the agents' UTC offset; never in the future.

    A date without the hour ("kemarin", "tadi", "21/11") or a day part without a clock time
    ("tadi pagi") is an interval 'start/end' (ISO 8601), never 00:00 or a guessed hour: the
    engine asks the hour when a rule's outcome depends on it. A clock time without a date
    that has not come yet today is refused with a question (was it yesterday?), not guessed.
    """
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    zone = agent_timezone()
    now_local = now.astimezone(zone)
    parsed = parse_indonesian_datetime(cleaned, now_local)
    if parsed is None:
        return Invalid(
            f"Waktu kejadian '{short(cleaned)}' tidak terbaca. Tanyakan tanggal dan jam "
            "kejadian, lalu tulis misalnya '21/11/2026 15:30', 'kemarin jam 3 sore' atau "
            "'tadi pagi'."
        )
    value = parsed.value
    label = zone_label(zone)
    if parsed.assumed_yesterday:
        return Invalid(
            f"Jam {value:%H:%M} belum lewat hari ini (sekarang {now_local:%H:%M} {label}). "
            f"Kejadiannya kemarin? Tulis dengan harinya, misalnya 'kemarin jam {value:%H.%M}'."
        )
    if parsed.has_time:
        future = value > now_local + timedelta(minutes=1)
        shown = f"{_fmt(value)} {label}"
    else:
        future = value.date() > now_local.date()
        shown = f"{value:%d-%m-%Y}"
    if future:
        return Invalid(
            f"Waktu kejadian {shown} masih di masa depan (sekarang {_fmt(now_local)} {label}). "
            "Pastikan ulang tanggal dan jam kejadian ke pelanggan."
        )
    one_year_ago = now_local - relativedelta(years=1)
    if value.date() < one_year_ago.date():
        return Invalid(
            f"Tanggal kejadian {value:%d-%m-%Y} sudah lebih dari 1 tahun yang lalu. Pastikan "
            "ulang tanggal kejadian ke pelanggan."
        )
    local = value.astimezone(zone)
    if not parsed.has_time or parsed.daypart is not None:
        first, last = (0, 24) if not parsed.has_time else DAYPART_RANGES[parsed.daypart or "pagi"]
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        start = day + timedelta(hours=first)
        end = min(day + timedelta(hours=last) - timedelta(minutes=1), now_local)
        end = end.replace(second=0, microsecond=0)
        if start > now_local:
            return Invalid(
                f"Waktu kejadian {start:%d-%m-%Y %H:%M} {label} masih di masa depan (sekarang "
                f"{_fmt(now_local)} {label}). Pastikan ulang waktu kejadian ke pelanggan."
            )
        what = "Hanya tanggal" if not parsed.has_time else f"Hanya bagian hari ({parsed.daypart})"
        return Valid(
            _range_value(start, end),
            note=f"{what}, jam pastinya belum diketahui ({start:%H:%M}-{end:%H:%M}). Bila "
            "aturan SOP bergantung pada jam, jamnya akan ditanyakan.",
        )
    notes: List[str] = []
    if parsed.approximate:
        notes.append(f"Jam diperkirakan ({value:%H:%M}); tanyakan jam pastinya bila bisa.")
    if parsed.ambiguous_hour:
        notes.append(
            f"Jam dibaca {value:%H:%M} (format 24 jam); pastikan pagi/sore/malam ke pelanggan."
        )
    return Valid(value.isoformat(timespec="seconds"), note=" ".join(notes) or None)


class EventTime(SlotKind):
    def validate_several(self, items: List[Any], now: datetime) -> ValidationResult:
        """A time said in pieces ("kemarin" + "jam 3 sore") is first read joined."""
        if all(isinstance(i, str) for i in items):
            joined = self.validate(" ".join(items), now)
            if isinstance(joined, Valid):
                return joined
            # a stray short number read as a time ("block 1") next to a real time expression
            words = [i for i in items if re.search(r"[A-Za-z]", i)]
            if words and len(words) < len(items):
                return self.validate_value(words, now)
        return super().validate_several(items, now)

    def fill(self, name: str, value: Any, given: Given) -> Dict[str, Any]:
        """A new time: an hour given for another day no longer applies."""
        out: Dict[str, Any] = {name: value}
        if value == given.previous.get(name):
            return out
        for hour, kind in given.kinds.items():
            if kind.holds_hour and given.values.get(hour) is None:
                out[hour] = None
        return out


KIND = EventTime("event_time", NOUN, validate, holds_time=True)
