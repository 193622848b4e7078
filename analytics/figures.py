"""Cases and figures from the events of the event broker (pure Python, no Rasa import).

An event is Rasa's serialised event plus ``sender_id`` (what every broker publishes). A
*case* is one SOP answer (a bot event whose ``custom`` is a ``sop_result``); its turns and
seconds count from the first agent message after the previous answer of that conversation.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Dict, Iterable, List, Optional

from assistant_runtime.masking import mask_text

FEEDBACK_SLOT = "feedback_event"
VERDICTS = ("up", "down", "wrong_case")
FEEDBACK_KINDS = VERDICTS + ("reason", "copy_ticket", "copy_note", "ask_tl", "tl_reply")
FALLBACK_INTENTS = ("nlu_fallback",)
FALLBACK_ACTIONS = ("action_offer_cases", "action_default_fallback")
OUT_OF_SCOPE_INTENT = "out_of_scope"
BUSY_RESPONSE = "utter_action_unavailable"
BUSY_TEXT = "Maaf, sistem sedang sibuk."
UNCERTAIN_BRANCH = "tidak_tercakup"
MAX_LISTED = 200


def mask(text: str) -> str:
    """MSISDNs (0812****7890), SNs and other long digit runs, e-mail addresses, secrets: the
    masking of the logs (one place for it)."""
    return mask_text(text)


@dataclass
class Case:
    time: float
    sender: str
    channel: str
    sop: str
    case_id: str
    answer_id: str
    uncertain: bool
    turns: int
    seconds: float
    msisdn: Optional[str] = None
    feedback: Optional[str] = None
    reason: Optional[str] = None
    copied: bool = False
    asked_tl: bool = False
    messages: List[str] = field(default_factory=list)
    agent: Optional[str] = None  # the proxy's agent id (metadata.agent_id), when known


@dataclass
class Message:
    time: float
    sender: str
    channel: str
    text: str
    fallback: bool = False
    out_of_scope: bool = False


@dataclass
class Extracted:
    cases: List[Case] = field(default_factory=list)
    messages: List[Message] = field(default_factory=list)
    busy: List[float] = field(default_factory=list)
    feedback: List[Dict[str, Any]] = field(default_factory=list)


def _masked_msisdn(custom: Dict[str, Any]) -> Optional[str]:
    fields = ((custom.get("ticket") or {}).get("fields")) or {}
    for label, value in fields.items():
        if value and "msisdn" in str(label).lower():
            return mask(str(value))
    return None


def _user_text(event: Dict[str, Any]) -> str:
    metadata = event.get("metadata") or {}
    display = metadata.get("display") if isinstance(metadata, dict) else None
    return str(display or event.get("text") or "")


def extract(events: Iterable[Dict[str, Any]]) -> Extracted:
    """Cases, agent messages, busy answers and feedback of a stream of broker events (in the
    order they were published)."""
    out = Extracted()
    by_sender: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for event in events:
        sender = event.get("sender_id")
        if isinstance(sender, str):
            by_sender[sender].append(event)
    for sender, stream in by_sender.items():
        # stable: events of one turn share the order they were published in
        stream.sort(key=lambda e: float(e.get("timestamp") or 0.0))
        _extract_conversation(sender, stream, out)
    out.cases.sort(key=lambda c: c.time)
    out.messages.sort(key=lambda m: m.time)
    return out


def _agent_of(events: List[Dict[str, Any]]) -> Optional[str]:
    """The agent the proxy recorded on the last of these user messages (None without one)."""
    for event in reversed(events):
        metadata = event.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("agent_id"), str):
            return str(metadata["agent_id"])
    return None


def _extract_conversation(sender: str, stream: List[Dict[str, Any]], out: Extracted) -> None:
    channel = "-"
    pending: List[Dict[str, Any]] = []  # agent messages since the previous answer
    last_message: Optional[Message] = None
    cases: Dict[str, Case] = {}
    for event in stream:
        kind = event.get("event")
        ts = float(event.get("timestamp") or 0.0)
        if kind == "user":
            channel = str(event.get("input_channel") or channel)
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            last_message = Message(
                ts,
                sender,
                channel,
                mask(_user_text(event)),
                fallback=intent in FALLBACK_INTENTS,
                out_of_scope=intent == OUT_OF_SCOPE_INTENT,
            )
            out.messages.append(last_message)
            pending.append(event)
        elif kind == "action" and event.get("name") in FALLBACK_ACTIONS:
            if last_message is not None:
                last_message.fallback = True
        elif kind == "bot":
            data = event.get("data") or {}
            custom = data.get("custom")
            metadata = event.get("metadata") or {}
            if metadata.get("utter_action") == BUSY_RESPONSE or str(
                event.get("text") or ""
            ).startswith(BUSY_TEXT):
                out.busy.append(ts)
            if isinstance(custom, dict) and custom.get("type") == "sop_result":
                case_id = str(custom.get("case_id") or "")
                first = float(pending[0].get("timestamp") or ts) if pending else ts
                case = Case(
                    time=ts,
                    sender=sender,
                    channel=channel,
                    sop=case_id.split(".", 1)[0],
                    case_id=case_id,
                    answer_id=str(custom.get("answer_id") or ""),
                    uncertain=bool(custom.get("uncertain"))
                    or case_id.endswith("." + UNCERTAIN_BRANCH),
                    turns=len(pending),
                    seconds=round(max(0.0, ts - first), 3),
                    msisdn=_masked_msisdn(custom),
                    messages=[mask(_user_text(e)) for e in pending[-3:]],
                    agent=_agent_of(pending),
                )
                out.cases.append(case)
                if case.answer_id:
                    cases[case.answer_id] = case
                pending = []
        elif kind == "slot" and event.get("name") == FEEDBACK_SLOT:
            value = event.get("value")
            if not isinstance(value, dict) or value.get("kind") not in FEEDBACK_KINDS:
                continue
            out.feedback.append({"time": ts, "sender": sender, **value})
            target = cases.get(str(value.get("answer_id")))
            if target is None:
                continue
            if value["kind"] in VERDICTS:
                target.feedback = value["kind"]
            elif value["kind"] == "reason":
                target.reason = mask(str(value.get("reason") or ""))
            elif value["kind"] in ("copy_ticket", "copy_note"):
                target.copied = True
            elif value["kind"] == "ask_tl":
                target.asked_tl = True
        elif kind in ("restart", "session_started"):
            pending = []


def local_day(ts: float, zone: tzinfo) -> date:
    return datetime.fromtimestamp(ts, zone).date()


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _spread(values: List[float]) -> Dict[str, Optional[float]]:
    if not values:
        return {"mean": None, "median": None, "max": None}
    return {
        "mean": round(statistics.fmean(values), 2),
        "median": round(statistics.median(values), 2),
        "max": round(max(values), 2),
    }


def figures(data: Extracted, start: date, end: date, zone: tzinfo) -> Dict[str, Any]:
    """Everything the ops page shows for the days ``start``..``end`` (inclusive, agent zone)."""

    def within(ts: float) -> bool:
        return start <= local_day(ts, zone) <= end

    cases = [c for c in data.cases if within(c.time)]
    messages = [m for m in data.messages if within(m.time)]
    busy = [t for t in data.busy if within(t)]
    answers = {c.answer_id for c in cases}
    feedback = [f for f in data.feedback if f.get("answer_id") in answers]
    per_day = Counter(local_day(c.time, zone).isoformat() for c in cases)
    days = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    fallback = [m for m in messages if m.fallback]
    out_of_scope = [m for m in messages if m.out_of_scope]
    kinds = Counter(f["kind"] for f in feedback)
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "totals": {
            "cases": len(cases),
            "messages": len(messages),
            "uncertain": sum(c.uncertain for c in cases),
            "tidak_tercakup": sum(c.case_id.endswith("." + UNCERTAIN_BRANCH) for c in cases),
            "fallback": len(fallback),
            "fallback_rate": _share(len(fallback), len(messages)),
            "out_of_scope": len(out_of_scope),
            "out_of_scope_rate": _share(len(out_of_scope), len(messages)),
            "busy": len(busy),
        },
        "cases_per_day": [{"day": d, "cases": per_day.get(d, 0)} for d in days],
        "per_sop": dict(Counter(c.sop for c in cases).most_common()),
        "per_channel": dict(Counter(c.channel for c in cases).most_common()),
        "case_ids": dict(Counter(c.case_id for c in cases).most_common()),
        "turns": _spread([float(c.turns) for c in cases]),
        "seconds": _spread([c.seconds for c in cases]),
        "feedback": {k: kinds.get(k, 0) for k in FEEDBACK_KINDS},
        "uncertain_answers": [_case_row(c, zone) for c in cases if c.uncertain][-MAX_LISTED:],
        "thumbs_down": [
            {**_case_row(c, zone), "reason": c.reason, "messages": c.messages}
            for c in cases
            if c.feedback in ("down", "wrong_case")
        ][-MAX_LISTED:],
        "fallback_messages": [
            {"time": _iso(m.time, zone), "agent": mask(m.sender), "text": m.text} for m in fallback
        ][-MAX_LISTED:],
    }


def _iso(ts: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(ts, zone).isoformat(timespec="seconds")


def _case_row(case: Case, zone: tzinfo) -> Dict[str, Any]:
    return {
        "time": _iso(case.time, zone),
        "agent": mask(case.agent or case.sender),
        "channel": case.channel,
        "sop": case.sop,
        "case_id": case.case_id,
        "uncertain": case.uncertain,
        "feedback": case.feedback or "",
        "turns": case.turns,
        "seconds": case.seconds,
        "msisdn": case.msisdn or "",
    }


CSV_COLUMNS = (
    "time",
    "agent",
    "channel",
    "sop",
    "case_id",
    "uncertain",
    "feedback",
    "turns",
    "seconds",
    "msisdn",
)


def cases_csv(data: Extracted, start: date, end: date, zone: tzinfo) -> str:
    """One row per answered case in the period; agent ids and MSISDNs masked."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for case in data.cases:
        if start <= local_day(case.time, zone) <= end:
            row = _case_row(case, zone)
            row["uncertain"] = "ya" if case.uncertain else "tidak"
            writer.writerow({k: _csv_safe(row[k]) for k in CSV_COLUMNS})
    return buffer.getvalue()


def _csv_safe(value: Any) -> Any:
    # a cell starting with = + - @ is a formula in spreadsheet programs
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


__all__ = ["Case", "Extracted", "cases_csv", "extract", "figures", "mask", "asdict"]
