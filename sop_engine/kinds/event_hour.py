"""Event hour: the hour 'HH:MM' (agents' zone) of an event whose day is already known, asked
only when a rule's outcome depends on it. It must fall within what is known of the event."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Mapping, Optional

from sop_engine.kinds.base import Given, Invalid, SlotKind, Valid, ValidationResult, prepare, short
from sop_engine.kinds.event_time import format_span, parse_time_span
from sop_engine.timeparse import agent_timezone, parse_indonesian_datetime

NOUN = "jam kejadian"


def at_hour(day_start: datetime, hour: str) -> Optional[datetime]:
    """'HH:MM' on the (local) day of ``day_start``."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", hour)
    if m is None:
        return None
    local = day_start.astimezone(agent_timezone())
    return local.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0, microsecond=0)


def validate(text: str, now: datetime) -> ValidationResult:
    """The hour of an event whose day is already known: 'HH:MM' (agents' zone)."""
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    zone = agent_timezone()
    parsed = parse_indonesian_datetime(cleaned, now.astimezone(zone))
    if parsed is None or not parsed.has_time or parsed.daypart is not None:
        return Invalid(
            f"Jam '{short(cleaned)}' tidak terbaca. Tulis jamnya, misalnya '14.30' atau "
            "'jam 9 malam'."
        )
    local = parsed.value.astimezone(zone)
    note = None
    if parsed.ambiguous_hour:
        note = f"Jam dibaca {local:%H:%M} (format 24 jam); pastikan pagi/sore/malam ke pelanggan."
    return Valid(f"{local:%H:%M}", note=note)


class EventHour(SlotKind):
    def check_with(self, result: Valid, known: Mapping[str, Any], given: Given) -> ValidationResult:
        """The hour must fall in the range already known for the event (not later than now)."""
        for name, kind in given.kinds.items():
            if not kind.holds_time:
                continue
            span = parse_time_span(known.get(name))
            if span is None or span[0] == span[1]:
                continue
            start, end = span
            moment = at_hour(start, str(result.value))
            if moment is not None and not start <= moment <= end + timedelta(minutes=1):
                shown = format_span(start, end)
                return Invalid(
                    f"Jam {result.value} di luar waktu yang sudah diketahui ({shown}). Pastikan "
                    "ulang jamnya ke pelanggan."
                )
        return result


KIND = EventHour("event_hour", NOUN, validate, holds_hour=True)
