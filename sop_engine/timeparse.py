"""Indonesian date/time expressions -> timezone-aware datetimes in the agents' zone.

Agents type the event time the way customers say it: "kemarin jam 3 sore", "tadi pagi",
"22/11/2026 14.30", "tgl 20 jam 7 pagi", "senin kemarin". This module turns such text into a
datetime in the agents' zone (env AGENT_TZ, default Asia/Jakarta), independent of the server
clock's zone.

Division of labour: the relative parts (kemarin, tadi, N hari lalu, day names, day parts such
as "sore") and the clock time are read here with small regular expressions; absolute calendar
dates ("22/11/2026", "21 november", "22 Nov 2026") are handed to ``dateutil.parser`` with an
Indonesian ``parserinfo``; month/day arithmetic uses ``dateutil.relativedelta``.

Decisions on ambiguous expressions (also listed in the report of the change that added this):

* Day parts: pagi keeps 1-11 as is; siang maps 1-4 to 13-16 and keeps 10-12; sore adds 12 to
  1-11; "dini hari"/"subuh" keep 0-6 as is.
* malam: 6-11 malam -> 18-23 of the referenced day. The night of a day runs past midnight, so
  "12 malam" and 1-5 malam belong to the *following* calendar day: "kemarin jam 12 malam" is
  00:00 today (midnight at the end of yesterday), "kemarin jam 1 malam" is 01:00 today. Use
  "dini hari" for the early hours of the referenced day itself ("kemarin jam 2 dini hari" is
  02:00 yesterday). "jam 24.00" is midnight at the end of the referenced day too.
* A clock time without any date ("jam 9 malam", "21.30", "jam 12 malam") is the most recent
  occurrence of that clock time that is not in the future; if that is yesterday,
  ``assumed_yesterday`` is set.
* A day part without a clock time is approximate: pagi 09:00, siang 12:00, sore 16:00,
  malam 20:00, dini hari 02:00, subuh 04:30.
* "tadi pagi/siang/sore" is today; if the approximate hour has not come yet but the day part
  has begun ("tadi sore" said at 15:30) the time is capped at now; if the day part has not
  begun at all ("tadi siang" said at 10:00) the future estimate is kept and so refused.
* "tadi malam" is the most recent such evening that is not in the future (today's if now is
  at/after 20:00, otherwise yesterday's; with a clock time likewise); "semalam" is always
  yesterday evening.
* Explicit times that are still in the future ("hari ini jam 9 malam" said at 10:00) are
  returned as they are: the validator refuses them with a reason.
* "tgl 20" (day only): this month, or the previous month when that date is in the future or
  does not exist in this month ("tgl 31" in November -> 31 October).
* Day and month without a year ("20/11", "21 november"): the current year; only when that is
  more than 31 days ahead is the previous year used ("28/12" said on 5 January). A date a few
  days ahead is kept (and refused by the validator) since it is more likely a typo.
* Day names ("hari senin", "senin"): the most recent such day, today included; with
  "kemarin"/"lalu" ("senin kemarin", "kemarin senin") strictly before today.
  "minggu lalu"/"minggu kemarin" without "hari" is ambiguous (last week or last Sunday) and
  is not parsed.
* A clock hour 1-11 without any day part and without a leading zero ("jam 3") is read as a
  24-hour clock (03:00) and flagged ``ambiguous_hour`` so that the agent can double-check.
* WIB/WITA/WIT after the time are honoured and the result converted to the agents' zone.
* Text with numbers that were not understood is not parsed (returns None) rather than guessed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as du_parser
from dateutil.relativedelta import relativedelta

from sop_engine.normaliser import DIGIT_WORDS, spelling_rewriter

DEFAULT_AGENT_TZ = "Asia/Jakarta"

__all__ = [
    "DEFAULT_AGENT_TZ",
    "IndonesianParserInfo",
    "ParsedTime",
    "agent_timezone",
    "parse_indonesian_datetime",
    "zone_label",
]


def agent_timezone() -> ZoneInfo:
    """The agents' time zone: env AGENT_TZ (IANA name), default Asia/Jakarta."""
    name = os.environ.get("AGENT_TZ", "").strip() or DEFAULT_AGENT_TZ
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"AGENT_TZ={name!r} is not a known IANA time zone") from exc


_ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def zone_label(zone: ZoneInfo) -> str:
    """Indonesian label of a zone (WIB/WITA/WIT), else its IANA key."""
    return _ZONE_LABELS.get(zone.key, zone.key)


@dataclass(frozen=True)
class ParsedTime:
    value: datetime  # timezone-aware, in the agents' zone
    has_time: bool  # False: only a date was given, value is at 00:00
    approximate: bool  # time derived from a day part ("tadi pagi") or "sekitar"
    assumed_yesterday: bool  # time-only text whose time had not come yet today
    ambiguous_hour: bool = False  # "jam 3" without pagi/sore/...: read as 03:00
    daypart: Optional[str] = None  # the hour is only a day part's estimate ("tadi pagi")


class IndonesianParserInfo(du_parser.parserinfo):
    """dateutil parserinfo with Indonesian month and day names."""

    MONTHS = [
        ("jan", "januari", "january"),
        ("feb", "februari", "february"),
        ("mar", "maret", "march"),
        ("apr", "april"),
        ("mei", "may"),
        ("jun", "juni", "june"),
        ("jul", "juli", "july"),
        ("agu", "agustus", "agt"),
        ("sep", "september", "sept"),
        ("okt", "oktober", "oct"),
        ("nov", "november", "nop"),
        ("des", "desember", "dec"),
    ]
    WEEKDAYS = [
        ("sen", "senin"),
        ("sel", "selasa"),
        ("rab", "rabu"),
        ("kam", "kamis"),
        ("jum", "jumat"),
        ("sab", "sabtu"),
        ("min", "minggu"),
    ]
    JUMP = du_parser.parserinfo.JUMP + ["tanggal", "tgl", "pada", "hari", "bulan", "tahun"]

    # Further spellings that do not fit the (short, long, alt) tuples above.
    MONTH_ALIASES: Dict[str, str] = {
        "ags": "agu",
        "agus": "agu",
        "aug": "agu",
        "august": "agu",
        "agust": "agu",
        "nopember": "nov",
        "pebruari": "feb",
        "peb": "feb",
        "pebr": "feb",
        "febr": "feb",
        "juny": "jun",
        "july": "jul",
        "okto": "okt",
        "desem": "des",
        "decem": "des",
        "december": "des",
        "october": "okt",
    }
    WEEKDAY_ALIASES: Dict[str, str] = {"ahad": "minggu", "jum'at": "jumat"}

    def month(self, name: str) -> Optional[int]:
        key = name.lower().rstrip(".")
        return super().month(self.MONTH_ALIASES.get(key, key))

    def weekday(self, name: str) -> Optional[int]:
        key = name.lower()
        return super().weekday(self.WEEKDAY_ALIASES.get(key, key))


_PARSERINFO = IndonesianParserInfo(dayfirst=True)


def _month_words() -> List[str]:
    words = {w for forms in IndonesianParserInfo.MONTHS for w in forms}
    words.update(IndonesianParserInfo.MONTH_ALIASES)
    return sorted(words, key=len, reverse=True)


_MONTH_ALT = "|".join(_month_words())
_DAYPART_ALT = "pagi|siang|sore|malam|dinihari|subuh"
_NUMBER_WORDS = {
    **{word: n for word, n in DIGIT_WORDS.items() if n},
    "se": 1,
    "sepuluh": 10,
}
_COUNT_ALT = r"\d{1,3}|" + "|".join(w for w in _NUMBER_WORDS if w != "se")

_ISO_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.IGNORECASE,
)

# The words this grammar knows; how agents spell them ("tgl", "jm", "sktr", "dini hari")
# comes from the project's one slang table (sop_engine/slang.yaml).
TIME_WORDS = frozenset(
    {
        "kemarin", "tanggal", "jam", "hari", "yang", "pukul", "tadi", "malam", "pagi",
        "siang", "sore", "semalam", "bulan", "minggu", "menit", "sekitar", "dinihari",
        "besok", "tahun",
    }
)  # fmt: skip

_GREETING_RE = re.compile(rf"\b(?:selamat|met|slmt)\s+(?:{_DAYPART_ALT})\b")
_ZONE_RE = re.compile(r"\b(wita|wib|wit)\b")
_ZONES = {"wib": "Asia/Jakarta", "wita": "Asia/Makassar", "wit": "Asia/Jayapura"}
_APPROX_RE = re.compile(r"\b(?:sekitar|an)\b")

_AGO_RE = re.compile(rf"\b(?:({_COUNT_ALT})\s*(jam|menit)|se(jam|menit))\s+(?:yang\s+)?lalu\b")
_KEYWORD_TIME_RE = re.compile(
    r"\b(?:jam|pukul)\s*(setengah\s*)?(\d{1,2})(?:[.:](\d{2}))?(?::(\d{2}))?"
    rf"(?:\s+({_DAYPART_ALT}))?\b"
)
_BARE_TIME_RE = re.compile(
    r"(?<![\d./:-])(\d{1,2})[.:](\d{2})(?::(\d{2}))?(?!\d|[.:/-]\d)"
    rf"(?:\s+({_DAYPART_ALT})\b)?"
)
_HOUR_DAYPART_RE = re.compile(rf"(?<![\d./:-])\b(setengah\s*)?(\d{{1,2}})\s+({_DAYPART_ALT})\b")
_YMD_RE = re.compile(r"(?<![\d./:-])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d]|[.:/-]\d)")
_DMY_RE = re.compile(r"(?<![\d./:-])(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?![\d]|[.:/-]\d)")
_DM_RE = re.compile(r"(?<![\d./:-])(\d{1,2})[-/](\d{1,2})(?![\d]|[.:/-]\d)")
_DMONTH_RE = re.compile(
    rf"(?<![\d./:-])(\d{{1,2}})\s*[-/]?\s*({_MONTH_ALT})\b\.?(?:\s*[-/,]?\s*(\d{{4}})\b)?"
)
_DAY_ONLY_RE = re.compile(r"\btanggal\s*(\d{1,2})\b(?!\s*[-/.]\s*\d)")
_COUNT_AGO_RE = re.compile(
    rf"\b(?:({_COUNT_ALT})\s*(hari|minggu|bulan|tahun)|se(hari|minggu|bulan|tahun))"
    r"\s+(?:yang\s+)?(?:lalu|kemarin|sebelumnya|kebelakang)\b"
)
_WEEK_AMBIGUOUS_RE = re.compile(r"(?<!hari )\bminggu\s+(?:yang\s+)?(?:lalu|kemarin)\b")
_DAY_NAME_RE = re.compile(
    r"\b(kemarin\s+)?(?:hari\s+)?(senin|selasa|rabu|kamis|jumat|sabtu|minggu|ahad)\b"
    r"(?:\s+(?:yang\s+)?(kemarin|lalu))?"
)
_RELATIVE_WORDS: List[Tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bkemarin\s+lusa\b"), "-2"),
    (re.compile(r"\b(?:besok\s+)?lusa\b"), "+2"),
    (re.compile(r"\bbesok\b"), "+1"),
    (re.compile(r"\bkemarin(?:nya)?\b"), "-1"),
    (re.compile(r"\bsemalam\b"), "semalam"),
    (re.compile(rf"\b(?:{_DAYPART_ALT})\s+ini\b"), "today_part"),
    (re.compile(r"\bhari\s+ini\b"), "today"),
    (re.compile(r"\btadi\b"), "tadi"),
]
_DAYPART_RE = re.compile(rf"\b({_DAYPART_ALT})\b")

_APPROX_TIMES: Dict[str, Tuple[int, int]] = {
    "pagi": (9, 0),
    "siang": (12, 0),
    "sore": (16, 0),
    "malam": (20, 0),
    "dinihari": (2, 0),
    "subuh": (4, 30),
}

_DAYPART_STARTS: Dict[str, Tuple[int, int]] = {
    "dinihari": (0, 0),
    "subuh": (4, 0),
    "pagi": (5, 0),
    "siang": (11, 0),
    "sore": (15, 0),
    "malam": (18, 0),
}


def _normalise(text: str) -> str:
    s = text.lower().replace("\u2019", "'").replace("jum'at", "jumat")
    s = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", s)  # kira-kira, dini-hari
    s = re.sub(r"(?<=\d)-(?=an\b)", " ", s)  # jam 3-an
    s = re.sub(r"\bkira2\b", "sekitar", s)
    s = re.sub(r"\b([a-z]{4,})2\b", r"\1", s)  # reduplication: sore2, kemarin2 (not jam2)
    s = re.sub(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)", " ", s)  # jam3 -> jam 3, 3sore -> 3 sore
    s = re.sub(r"[,;!?()\"]", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = spelling_rewriter(TIME_WORDS)(s)
    s = _GREETING_RE.sub(" ", s)
    return re.sub(r"\s+", " ", s).strip()


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _apply_daypart(hour: int, daypart: Optional[str]) -> Optional[Tuple[int, int]]:
    """(hour on the 24 h clock, day offset) of 'hour' said with a day part."""
    if hour == 24:
        return 0, 1
    if hour > 24:
        return None
    if daypart is None:
        return hour, 0
    if hour >= 13:
        # Already on the 24 h clock; refuse contradictions such as "15 pagi".
        return None if daypart in ("pagi", "dinihari", "subuh") else (hour, 0)
    if daypart == "pagi":
        return hour, 0
    if daypart == "siang":
        return (hour + 12, 0) if 1 <= hour <= 4 else (hour, 0)
    if daypart == "sore":
        return (hour + 12, 0) if 1 <= hour <= 11 else (hour, 0)
    if daypart == "malam":
        if 6 <= hour <= 11:
            return hour + 12, 0
        if hour in (0, 12):
            return 0, 1
        return hour, 1  # 1-5 malam: after midnight, i.e. the next calendar day
    # dini hari / subuh
    return (0, 0) if hour == 12 else (hour, 0)


@dataclass
class _Clock:
    hour: int
    minute: int
    second: int
    daypart: Optional[str]
    ambiguous: bool


@dataclass
class _State:
    text: str
    clock: Optional[_Clock] = None
    date_value: Optional[date] = None
    date_kind: str = "none"  # none | explicit | relative | tadi | semalam
    daypart: Optional[str] = None
    approximate: bool = False
    failed: bool = False


def _consume(state: _State, match: re.Match[str]) -> None:
    state.text = state.text[: match.start()] + " " + state.text[match.end() :]


def _read_clock(
    hour_s: str,
    minute_s: Optional[str],
    second_s: Optional[str],
    half: bool,
    daypart: Optional[str],
) -> Optional[_Clock]:
    hour = int(hour_s)
    minute = int(minute_s) if minute_s else 0
    second = int(second_s) if second_s else 0
    if minute > 59 or second > 59:
        return None
    if half:  # "setengah 3" = 2:30
        if minute_s or hour == 0:
            return None
        hour, minute = (12 if hour == 1 else hour - 1), 30
    if hour == 24 and (minute or second):
        return None
    ambiguous = daypart is None and 1 <= hour <= 11 and not hour_s.startswith("0")
    return _Clock(hour, minute, second, daypart, ambiguous)


def _extract_clock(state: _State) -> None:
    matches = list(_KEYWORD_TIME_RE.finditer(state.text))
    groups: Optional[Tuple[Optional[str], ...]] = None
    if len(matches) > 1:
        state.failed = True
        return
    if matches:
        m = matches[0]
        groups = (m.group(2), m.group(3), m.group(4), m.group(1), m.group(5))
        _consume(state, m)
    else:
        bare = list(_BARE_TIME_RE.finditer(state.text))
        if len(bare) > 1:
            state.failed = True
            return
        if bare:
            m = bare[0]
            groups = (m.group(1), m.group(2), m.group(3), None, m.group(4))
            _consume(state, m)
    if groups is None:
        return
    hour_s, minute_s, second_s, half, daypart = groups
    assert hour_s is not None
    clock = _read_clock(hour_s, minute_s, second_s, bool(half), daypart)
    if clock is None:
        state.failed = True
    state.clock = clock


def _parse_calendar(fragment: str, default: datetime) -> Optional[date]:
    try:
        return du_parser.parse(fragment, parserinfo=_PARSERINFO, default=default).date()
    except (ValueError, OverflowError):
        return None


def _extract_explicit_date(state: _State, today: date) -> None:
    default = datetime.combine(today, time(0))
    found: List[Tuple[re.Match[str], bool]] = []
    for regex, has_year in ((_YMD_RE, True), (_DMY_RE, True), (_DMONTH_RE, False), (_DM_RE, False)):
        for m in regex.finditer(state.text):
            found.append((m, has_year or (regex is _DMONTH_RE and m.group(3) is not None)))
        if found:
            break
    if not found:
        return
    if len(found) > 1:
        state.failed = True
        return
    m, has_year = found[0]
    if m.re is _DMONTH_RE:
        fragment = " ".join(g for g in m.groups() if g)
    else:
        fragment = m.group(0)
    _consume(state, m)
    parsed = _parse_calendar(fragment, default)
    if parsed is None:
        state.failed = True
        return
    if not has_year and parsed > today + timedelta(days=31):
        parsed = parsed - relativedelta(years=1)
    state.date_value = parsed
    state.date_kind = "explicit"


def _extract_day_only(state: _State, today: date) -> None:
    m = _DAY_ONLY_RE.search(state.text)
    if not m:
        return
    _consume(state, m)
    day = int(m.group(1))
    if not 1 <= day <= 31:
        state.failed = True
        return
    month_start = today.replace(day=1)
    for back in range(13):
        first = month_start - relativedelta(months=back)
        try:
            candidate = first.replace(day=day)
        except ValueError:
            continue
        if candidate <= today:
            state.date_value = candidate
            state.date_kind = "explicit"
            return
    state.failed = True


def _extract_relative(state: _State, today: date) -> None:
    m = _COUNT_AGO_RE.search(state.text)
    if m:
        _consume(state, m)
        if any(r.search(state.text) for r, _ in _RELATIVE_WORDS):
            state.failed = True
            return
        n = 1 if m.group(3) else _count(m.group(1))
        unit = m.group(3) or m.group(2)
        delta = {
            "hari": relativedelta(days=n),
            "minggu": relativedelta(weeks=n),
            "bulan": relativedelta(months=n),
            "tahun": relativedelta(years=n),
        }[unit]
        state.date_value = today - delta
        state.date_kind = "relative"
        return
    if _WEEK_AMBIGUOUS_RE.search(state.text):
        state.failed = True
        return
    m = _DAY_NAME_RE.search(state.text)
    if m:
        _consume(state, m)
        if _DAY_NAME_RE.search(state.text) or any(r.search(state.text) for r, _ in _RELATIVE_WORDS):
            state.failed = True
            return
        weekday = _PARSERINFO.weekday(m.group(2))
        assert weekday is not None
        start = today - timedelta(days=1) if m.group(1) or m.group(3) else today
        state.date_value = start - timedelta(days=(start.weekday() - weekday) % 7)
        state.date_kind = "relative"
        return
    for regex, kind in _RELATIVE_WORDS:
        m = regex.search(state.text)
        if not m:
            continue
        _consume(state, m)
        if any(other.search(state.text) for other, _ in _RELATIVE_WORDS):
            state.failed = True  # "kemarin ... tadi": two different days
            return
        if kind in ("-2", "+2", "+1", "-1"):
            state.date_value = today + timedelta(days=int(kind))
            state.date_kind = "relative"
        elif kind == "semalam":
            state.date_value = today - timedelta(days=1)
            state.date_kind = "semalam"
            state.daypart = state.daypart or "malam"
        elif kind == "today_part":
            state.date_value = today
            state.date_kind = "tadi"
            part = _DAYPART_RE.search(m.group(0))
            state.daypart = part.group(1) if part else None
        elif kind == "today":
            state.date_value = today
            state.date_kind = "relative"
        else:  # tadi
            state.date_value = today
            state.date_kind = "tadi"
        return


def _extract_hour_daypart(state: _State) -> None:
    if state.clock is not None:
        return
    matches = list(_HOUR_DAYPART_RE.finditer(state.text))
    if len(matches) > 1:
        state.failed = True
        return
    if matches:
        m = matches[0]
        _consume(state, m)
        state.clock = _read_clock(m.group(2), None, None, bool(m.group(1)), m.group(3))
        if state.clock is None:
            state.failed = True


def _extract_daypart(state: _State) -> None:
    parts = {m.group(1) for m in _DAYPART_RE.finditer(state.text)}
    parts |= {p for p in (state.daypart, state.clock.daypart if state.clock else None) if p}
    if len(parts) > 1:
        state.failed = True  # "tadi pagi ... jam 3 sore": contradicting day parts
        return
    m = _DAYPART_RE.search(state.text)
    if m:
        state.text = _DAYPART_RE.sub(" ", state.text)
        if state.daypart is None:
            state.daypart = m.group(1)
    if state.clock is not None and state.clock.daypart is None and state.daypart is not None:
        state.clock.daypart = state.daypart
        state.clock.ambiguous = False


def _at(day: date, hour: int, minute: int, second: int, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)


def _parse_iso(text: str, zone: ZoneInfo) -> Optional[ParsedTime]:
    try:
        value = du_parser.isoparse(text.upper().replace(" ", "T"))
    except ValueError:
        return None
    has_time = len(text) > 10
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return ParsedTime(value.astimezone(zone), has_time, False, False)


def parse_indonesian_datetime(text: str, now: datetime) -> Optional[ParsedTime]:
    """Parse an Indonesian date/time expression relative to ``now`` (timezone-aware).

    Returns None when the text holds no date/time or cannot be read unambiguously.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    zone = agent_timezone()
    stripped = text.strip()
    if not stripped:
        return None
    if _ISO_RE.fullmatch(stripped):
        return _parse_iso(stripped, zone)

    state = _State(text=_normalise(stripped))
    zones = {m.group(1) for m in _ZONE_RE.finditer(state.text)}
    if len(zones) > 1:
        return None
    source_zone = ZoneInfo(_ZONES[zones.pop()]) if zones else zone
    state.text = _ZONE_RE.sub(" ", state.text)
    if _APPROX_RE.search(state.text):
        state.approximate = True
        state.text = _APPROX_RE.sub(" ", state.text)

    now_src = now.astimezone(source_zone)
    today = now_src.date()

    ago = _AGO_RE.search(state.text)
    if ago:
        _consume(state, ago)
        if re.search(r"\d", state.text):
            return None
        n = 1 if ago.group(3) else _count(ago.group(1))
        unit = ago.group(3) or ago.group(2)
        delta = timedelta(hours=n) if unit == "jam" else timedelta(minutes=n)
        value = (now_src - delta).replace(second=0, microsecond=0)
        return ParsedTime(value.astimezone(zone), True, True, False)

    _extract_clock(state)
    if not state.failed:
        _extract_explicit_date(state, today)
    if not state.failed and state.date_value is None:
        _extract_day_only(state, today)
    if not state.failed and state.date_value is None:
        _extract_relative(state, today)
    if not state.failed:
        _extract_hour_daypart(state)
    if not state.failed:
        _extract_daypart(state)
    if state.failed:
        return None
    if re.search(r"\d", state.text):
        return None
    if state.date_value is None and state.clock is None and state.daypart is None:
        return None
    return _resolve(state, now_src, zone, source_zone)


def _resolve(
    state: _State, now_src: datetime, zone: ZoneInfo, source_zone: ZoneInfo
) -> Optional[ParsedTime]:
    today = now_src.date()
    base = state.date_value if state.date_value is not None else today
    approximate = state.approximate
    ambiguous = False
    daypart: Optional[str] = None

    if state.clock is not None:
        mapped = _apply_daypart(state.clock.hour, state.clock.daypart)
        if mapped is None:
            return None
        hour, offset = mapped
        minute, second = state.clock.minute, state.clock.second
        ambiguous = state.clock.ambiguous
    elif state.daypart is not None:
        hour, minute = _APPROX_TIMES[state.daypart]
        second, offset = 0, 0
        approximate = True
        daypart = state.daypart
    else:
        # Date only: 00:00 in the agents' zone, no zone conversion for a bare date.
        return ParsedTime(_at(base, 0, 0, 0, zone), False, approximate, False)

    assumed_yesterday = False
    if state.date_kind == "none":
        # Time only: the most recent occurrence of that clock time (day offset ignored:
        # "jam 12 malam" said at 10:00 is the midnight that started today).
        value = _at(today, hour, minute, second, source_zone)
        if value > now_src:
            value -= timedelta(days=1)
            assumed_yesterday = True
    else:
        value = _at(base + timedelta(days=offset), hour, minute, second, source_zone)
        is_evening = (state.clock.daypart if state.clock else state.daypart) == "malam"
        if state.date_kind == "tadi" and is_evening and value > now_src:
            value -= timedelta(days=1)  # "tadi malam" said in the morning: last night
        elif state.date_kind == "tadi" and state.clock is None and value > now_src:
            start_hour, start_minute = _DAYPART_STARTS[state.daypart or "pagi"]
            if _at(base, start_hour, start_minute, 0, source_zone) <= now_src:
                # "tadi sore" said at 15:30: the day part has begun, cap the estimate at now.
                value = now_src.replace(second=0, microsecond=0)
            # else ("tadi siang" said at 10:00) the estimate stays in the future: refused.
    return ParsedTime(
        value.astimezone(zone), True, approximate, assumed_yesterday, ambiguous, daypart
    )


# The hours a day part covers (end exclusive), for a time known only by its day part.
DAYPART_RANGES: Dict[str, Tuple[int, int]] = {
    "dinihari": (0, 4),
    "subuh": (4, 6),
    "pagi": (5, 11),
    "siang": (11, 15),
    "sore": (15, 18),
    "malam": (18, 24),
}


_DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_MONTH_SHORT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def format_date(day: date) -> str:
    """'30 Jun 2025'."""
    return f"{day.day} {_MONTH_SHORT[day.month - 1]} {day.year}"


def format_for_agent(moment: datetime) -> str:
    """'Sabtu, 21 Nov 2026 15.00 WIB' in the agents' zone, whatever the server's zone."""
    zone = agent_timezone()
    local = moment.astimezone(zone)
    return (
        f"{_DAY_NAMES[local.weekday()]}, {format_date(local.date())} "
        f"{local.hour:02d}.{local.minute:02d} {zone_label(zone)}"
    )
