"""`make nlu-review`: agent messages the NLU did not handle well, from the tracker store.

Reads the ``events`` table of Rasa's SQL tracker store (SQLite ``var/tracker.db`` by default,
PostgreSQL with the production variables) with SQLAlchemy only, and lists the agent
messages of the last N days that

* fell to ``nlu_fallback`` (``fallback``),
* were classified ``out_of_scope`` (``out_of_scope``),
* had an intent confidence below the threshold (``low_confidence``),
* carried an entity value the form refused (``refused_value``: the slot was reset to null in
  the same turn; the form's message to the agent is kept as ``reason``),
* came right before the agent stopped / restarted the case (``restarted``),

grouped by reason and predicted intent, identical texts merged with a count, MSISDNs, serial
numbers and e-mail addresses masked. The YAML is meant to be corrected by a person (``intent``
is the model's guess; fix it) and its ``example`` lines moved into ``data/nlu/``.
No Rasa import: the report runs where only the database is reachable.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple
from urllib.parse import quote_plus

from sop_engine.normaliser import mask_text

REASONS = ("fallback", "out_of_scope", "low_confidence", "refused_value", "restarted")
STOP_INTENTS = frozenset({"stop"})


_SHORT_VALUE = re.compile(r"^[^()\[\]{}:\"]+$")


def database_url(env: Mapping[str, str], default_sqlite: str = "var/tracker.db") -> str:
    """PostgreSQL from TRACKER_DB_* (endpoints.production.yml) when TRACKER_DB_HOST is set."""
    host = env.get("TRACKER_DB_HOST")
    if not host:
        return f"sqlite:///{default_sqlite}"
    user = quote_plus(env.get("TRACKER_DB_USER", ""))
    password = env.get("TRACKER_DB_PASSWORD", "")
    auth = f"{user}:{quote_plus(password)}@" if password else (f"{user}@" if user else "")
    port = env.get("TRACKER_DB_PORT", "5432")
    name = env.get("TRACKER_DB_NAME", "rasa")
    return f"postgresql://{auth}{host}:{port}/{name}"


def masked_url(url: str) -> str:
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


@dataclass
class Finding:
    reason: str
    text: str
    intent: str
    confidence: float
    entities: List[Dict[str, Any]] = field(default_factory=list)
    detail: Optional[str] = None  # refused value: the form's message; restarted: the stop text
    conversation: str = ""
    timestamp: float = 0.0


def read_events(url: str, since: float) -> List[Tuple[str, str, float, Dict[str, Any]]]:
    """(sender_id, type_name, timestamp, data) of the conversations active since ``since``."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            senders = [
                row[0]
                for row in connection.execute(
                    sa.text("SELECT DISTINCT sender_id FROM events WHERE timestamp >= :since"),
                    {"since": since},
                )
            ]
            rows: List[Tuple[str, str, float, Dict[str, Any]]] = []
            for sender in senders:
                result = connection.execute(
                    sa.text(
                        "SELECT sender_id, type_name, timestamp, data FROM events "
                        "WHERE sender_id = :sender ORDER BY id"
                    ),
                    {"sender": sender},
                )
                for sender_id, type_name, timestamp, data in result:
                    try:
                        payload = json.loads(data) if data else {}
                    except ValueError:
                        payload = {}
                    rows.append((sender_id, type_name, float(timestamp or 0), payload))
            return rows
    finally:
        engine.dispose()


def find(
    events: Iterable[Tuple[str, str, float, Dict[str, Any]]],
    since: float,
    min_confidence: float = 0.7,
) -> List[Finding]:
    """The findings of one or more conversations (events in store order)."""
    by_sender: Dict[str, List[Tuple[str, float, Dict[str, Any]]]] = OrderedDict()
    for sender, type_name, timestamp, data in events:
        by_sender.setdefault(sender, []).append((type_name, timestamp, data))
    findings: List[Finding] = []
    for sender, conversation in by_sender.items():
        findings.extend(_conversation(sender, conversation, since, min_confidence))
    return findings


def _conversation(
    sender: str,
    events: List[Tuple[str, float, Dict[str, Any]]],
    since: float,
    min_confidence: float,
) -> List[Finding]:
    findings: List[Finding] = []
    # split into turns: a user message and the events up to the next one
    turns: List[
        Tuple[Tuple[str, float, Dict[str, Any]], List[Tuple[str, float, Dict[str, Any]]]]
    ] = []
    for event in events:
        if event[0] == "user":
            turns.append((event, []))
        elif turns:
            turns[-1][1].append(event)
    previous: Optional[Finding] = None
    for (_, timestamp, data), after in turns:
        parse = data.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name") or ""
        confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
        text = str(data.get("text") or "")
        entities = [
            {
                "entity": e.get("entity"),
                "value": e.get("value"),
                "start": e.get("start"),
                "end": e.get("end"),
            }
            for e in parse.get("entities") or []
        ]
        current = Finding("", text, intent, confidence, entities, None, sender, timestamp)
        recent = timestamp >= since
        if recent and text.startswith("/"):
            previous = None  # a button payload, not typed text
            continue
        if recent:
            if intent == "nlu_fallback":
                findings.append(_as(current, "fallback"))
            elif intent == "out_of_scope":
                findings.append(_as(current, "out_of_scope"))
            elif confidence < min_confidence:
                findings.append(_as(current, "low_confidence"))
            refused = _refused(entities, after)
            for name, reason in refused:
                finding = _as(current, "refused_value")
                finding.detail = f"{name}: {reason}" if reason else name
                findings.append(finding)
            restarted = intent in STOP_INTENTS or any(e[0] == "restart" for e in after)
            if restarted and previous is not None:
                finding = _as(previous, "restarted")
                finding.detail = text
                findings.append(finding)
        previous = current
    return findings


def _as(finding: Finding, reason: str) -> Finding:
    return Finding(
        reason,
        finding.text,
        finding.intent,
        finding.confidence,
        finding.entities,
        finding.detail,
        finding.conversation,
        finding.timestamp,
    )


def _refused(
    entities: List[Dict[str, Any]], after: List[Tuple[str, float, Dict[str, Any]]]
) -> List[Tuple[str, Optional[str]]]:
    """Entities of this turn whose slot the form reset to null, with the bot's message."""
    names = {e["entity"] for e in entities}
    reset = [
        str(data.get("name"))
        for type_name, _, data in after
        if type_name == "slot" and data.get("name") in names and data.get("value") is None
    ]
    if not reset:
        return []
    texts = [str(data.get("text")) for type_name, _, data in after if type_name == "bot"]
    reason = texts[0] if texts else None
    return [(name, reason) for name in dict.fromkeys(reset)]


def example_line(text: str, entities: List[Dict[str, Any]]) -> str:
    """The message in Rasa's training format, entity spans annotated, then masked."""
    spans = sorted(
        (e for e in entities if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)),
        key=lambda e: e["start"],
    )
    out, position = [], 0
    for entity in spans:
        if entity["start"] < position:
            continue
        out.append(text[position : entity["start"]])
        span = text[entity["start"] : entity["end"]]
        value = entity.get("value")
        if isinstance(value, str) and value != span and _SHORT_VALUE.match(value):
            # the short form: training data in JSON form is schema-checked example by example
            # at every load, several times per training (docs/nlu-report.md, annotation guide)
            out.append(f"[{span}]({entity['entity']}:{value})")
        elif isinstance(value, str) and value != span:
            out.append(f'[{span}]{{"entity": "{entity["entity"]}", "value": {json.dumps(value)}}}')
        else:
            out.append(f"[{span}]({entity['entity']})")
        position = entity["end"]
    out.append(text[position:])
    return mask_text(" ".join("".join(out).split()))


def report(findings: List[Finding], days: float, source: str) -> Dict[str, Any]:
    """YAML-ready structure: reason -> predicted intent -> entries (masked, merged)."""
    groups: Dict[str, Dict[str, Dict[str, Dict[str, Any]]]] = {r: {} for r in REASONS}
    for finding in sorted(findings, key=lambda f: f.timestamp):
        text = mask_text(" ".join(finding.text.split()))
        if not text:
            continue
        bucket = groups[finding.reason].setdefault(finding.intent or "(none)", {})
        entry = bucket.get(text)
        if entry is None:
            entry = {
                "text": text,
                "intent": finding.intent,
                "confidence": round(finding.confidence, 3),
                "count": 0,
                "example": example_line(finding.text, finding.entities),
            }
            if finding.detail:
                entry["detail"] = mask_text(finding.detail)
            bucket[text] = entry
        entry["count"] += 1
        entry["last_seen"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime(finding.timestamp))
    return {
        "source": source,
        "days": days,
        "generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "how_to_use": (
            "Correct `intent` (and the annotations in `example`), then move the example under "
            "that intent in data/nlu/. Texts are masked (MSISDN, SN, e-mail)."
        ),
        "counts": {
            r: sum(e["count"] for b in groups[r].values() for e in b.values()) for r in REASONS
        },
        "groups": {
            reason: {intent: list(entries.values()) for intent, entries in sorted(buckets.items())}
            for reason, buckets in groups.items()
        },
    }


def review(
    url: str, days: float, min_confidence: float = 0.7, now: Optional[float] = None
) -> Dict[str, Any]:
    since = (now if now is not None else time.time()) - days * 86400
    findings = find(read_events(url, since), since, min_confidence)
    return report(findings, days, masked_url(url))


def default_url() -> str:
    return os.environ.get("NLU_REVIEW_DB_URL") or database_url(os.environ)
