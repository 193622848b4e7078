"""Decision engine: facts gathered in the conversation -> what to ask next, or the SOP result.

Plain Python on purpose (no Rasa import): the same engine serves the action server, the tests
and any future channel, and it can be reasoned about branch by branch.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Dict, List, Literal, Mapping, Optional, Union

from sop_engine.models import Condition, DerivedFact, Matcher, Outcome, SopFile, TicketField
from sop_engine.timeparse import agent_timezone, format_date, format_for_agent

Tri = Optional[bool]  # three-valued logic: True, False, None (= not known yet)

UNCERTAIN_OUTCOME = "tidak_tercakup"
NO_KIP_TEXT = "(tidak ada di halaman SOP)"
NO_KIP_WARNING = (
    "Halaman SOP tidak mencantumkan kategori KIP untuk kasus ini: jangan mengarang kategori, "
    "konfirmasi kategori tiket ke TL."
)
_DATETIME_OPS = ("add_minutes", "add_days")
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@dataclass(frozen=True)
class Need:
    """The engine cannot decide yet: the form must ask for this slot or check question."""

    kind: Literal["slot", "question"]
    name: str


@dataclass(frozen=True)
class Ticket:
    kip: str  # the category as shown to the agent; NO_KIP_TEXT when the page gives none
    fields: Dict[str, str]
    missing: List[str]
    labels: List[str] = field(default_factory=list)  # every field, in the SOP's order
    kip_on_page: bool = True  # False: the page names no KIP category (payload kip: null)

    def as_payload(self) -> Dict[str, Any]:
        return {
            "required": True,
            "fields": dict(self.fields),
            "missing": list(self.missing),
            "kip": self.kip if self.kip_on_page else None,
        }


@dataclass(frozen=True)
class SopResult:
    case_id: str
    title: str
    steps: List[str]
    ticket: Optional[Ticket]
    source: str
    warnings: List[str]
    escalation: Optional[str] = None
    uncertain: bool = False
    refs: List[str] = field(default_factory=list)

    def as_payload(self) -> Dict[str, Any]:
        """The contract's ``sop_result`` custom payload."""
        return {
            "type": "sop_result",
            "case_id": self.case_id,
            "title": self.title,
            "steps": list(self.steps),
            "ticket": self.ticket.as_payload() if self.ticket else None,
            "source": self.source,
            "warnings": list(self.warnings),
            "escalation": self.escalation,
        }


Decision = Union[Need, SopResult]


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


def format_value(name: str, value: Any) -> str:
    moment = parse_iso(value)
    if moment is not None:
        return format_for_agent(moment)
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, list):
        return " / ".join(format_value(name, v) for v in value)
    if name == "nominal" and isinstance(value, (int, float)):
        return "Rp" + f"{int(value):,}".replace(",", ".")
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def match(matcher: Matcher, value: Any) -> Tri:
    if matcher.known is not None:
        return (value is not None) == matcher.known
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    if matcher.equals is not None:
        return any(v == matcher.equals for v in values)
    if matcher.in_ is not None:
        return any(v in matcher.in_ for v in values)
    if matcher.not_in is not None:
        return all(v not in matcher.not_in for v in values)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    if matcher.gt is not None:
        return value > matcher.gt
    if matcher.gte is not None:
        return value >= matcher.gte
    if matcher.lt is not None:
        return value < matcher.lt
    if matcher.lte is not None:
        return value <= matcher.lte
    return False  # pragma: no cover - the schema guarantees one operator


def holds(condition: Optional[Condition], facts: Mapping[str, Any]) -> Tri:
    """True/False when decided; None when some fact is unknown and none is False."""
    if condition is None:
        return True
    unknown = False
    for fact, matcher in condition.items():
        result = match(matcher, facts.get(fact))
        if result is False:
            return False
        if result is None:
            unknown = True
    return None if unknown else True


def _any_of(spec: DerivedFact, facts: Mapping[str, Any]) -> Tri:
    verdicts = [holds(condition, facts) for condition in spec.conditions]
    if any(v is True for v in verdicts):
        return True
    if all(v is False for v in verdicts):
        return False
    return None


def _derive(spec: DerivedFact, facts: Mapping[str, Any], now: datetime) -> Any:
    if spec.op == "any_of":
        return _any_of(spec, facts)
    source = facts.get(spec.of) if spec.of is not None else None
    if source is None:
        return None
    if spec.op == "lookup":
        if isinstance(source, list):  # a list slot: look every value up
            return [spec.table.get(str(item), spec.default) for item in source]
        return spec.table.get(str(source), spec.default)
    if spec.op == "any_in":
        items = source if isinstance(source, list) else [source]
        return any(item in spec.values for item in items)
    moment = parse_iso(source)
    if moment is None:
        return None
    if spec.op == "hours_since":
        return (now - moment).total_seconds() / 3600
    if spec.op == "minutes_since":
        return (now - moment).total_seconds() / 60
    if spec.op == "minutes_of_day":
        local = moment.astimezone(agent_timezone())
        return local.hour * 60 + local.minute
    amount = spec.amount or 0.0
    delta = timedelta(minutes=amount) if spec.op == "add_minutes" else timedelta(days=amount)
    return (moment + delta).isoformat()


class _TemplateFacts(dict):  # type: ignore[type-arg]
    """Formatting namespace: unknown facts are recorded instead of raising KeyError."""

    def __init__(self, facts: Mapping[str, Any]) -> None:
        super().__init__()
        self.facts = facts
        self.unknown: List[str] = []

    def __missing__(self, key: str) -> str:
        value = self.facts.get(key)
        if value is None:
            self.unknown.append(key)
            return "[belum diketahui]"
        return format_value(key, value)


def render_template(template: str, facts: Mapping[str, Any]) -> tuple[str, List[str]]:
    namespace = _TemplateFacts(facts)
    text = string.Formatter().vformat(template, (), namespace)
    return text, namespace.unknown


class SopEngine:
    """Evaluates one SOP file against the facts of a conversation."""

    def __init__(self, sop: SopFile) -> None:
        self.sop = sop
        self.slot_names = [s.name for s in sop.slots]
        self.question_names = [q.name for q in sop.questions]
        self._derived = {d.name: d for d in sop.derived}

    # -- facts -------------------------------------------------------------------------
    def facts(self, slots: Mapping[str, Any], now: datetime) -> Dict[str, Any]:
        names = set(self.slot_names) | set(self.question_names)
        facts: Dict[str, Any] = {}
        for key, value in slots.items():
            if key not in names or value is None or value == []:
                continue
            # list slots (channel, layanan) hold one value most of the time
            facts[key] = value[0] if isinstance(value, list) and len(value) == 1 else value
        facts["active_sop"] = self.sop.id
        for spec in self.sop.derived:  # in file order, so a derived fact may use earlier ones
            facts[spec.name] = _derive(spec, facts, now)
        return facts

    def required_slots(self, facts: Mapping[str, Any]) -> List[str]:
        """Data slots the SOP asks for, given what is known (conditional slots included)."""
        return [s.name for s in self.sop.slots if holds(s.when, facts) is True]

    def _askable(self, fact: str, facts: Mapping[str, Any]) -> Optional[Need]:
        if fact in self.question_names:
            return Need("question", fact)
        if fact in self.slot_names:
            # a slot the SOP does not ask for in this situation is not applicable
            return Need("slot", fact) if fact in self.required_slots(facts) else None
        spec = self._derived.get(fact)
        if spec is None:
            return None
        if spec.op == "any_of":
            # ask what the first undecided alternative still needs
            for condition in spec.conditions:
                if holds(condition, facts) is not None:
                    continue
                for name, matcher in condition.items():
                    if match(matcher, facts.get(name)) is None:
                        need = self._askable(name, facts)
                        if need is not None:
                            return need
            return None
        if spec.of is not None and facts.get(spec.of) is None:
            return self._askable(spec.of, facts)
        return None

    # -- decision ----------------------------------------------------------------------
    def evaluate(
        self, slots: Mapping[str, Any], now: datetime, notes: Optional[List[str]] = None
    ) -> Decision:
        facts = self.facts(slots, now)
        for name in self.required_slots(facts):
            if facts.get(name) is None:
                return Need("slot", name)
        for rule in self.sop.rules:
            verdict = holds(rule.when, facts)
            if verdict is True:
                return self._result(
                    rule.outcome, self.sop.outcomes[rule.outcome], facts, now, notes
                )
            if verdict is None:
                for fact, matcher in rule.when.items():
                    if match(matcher, facts.get(fact)) is None:
                        need = self._askable(fact, facts)
                        if need is not None:
                            return need
                        break  # undecidable rule (e.g. a derived fact without data): skip
        return self._result(UNCERTAIN_OUTCOME, self._uncertain_outcome(), facts, now, notes)

    def outcome_result(self, key: str, facts: Mapping[str, Any], now: datetime) -> SopResult:
        """The answer of one outcome for these facts, as ``evaluate`` gives it (the preview of
        `make sop-check` shows every branch this way)."""
        outcome = self._uncertain_outcome() if key == UNCERTAIN_OUTCOME else self.sop.outcomes[key]
        return self._result(key, outcome, facts, now, None)

    def _uncertain_outcome(self) -> Outcome:
        return Outcome.parse_obj(
            {
                "title": "Kondisi ini tidak diatur di SOP",
                "ref": "seluruh halaman",
                "uncertain": True,
                "steps": [
                    {
                        "text": "Kombinasi hasil pengecekan ini tidak tercantum di halaman SOP. "
                        "Jangan menebak solusi: koordinasikan dengan TL sebelum menjawab "
                        "pelanggan.",
                        "ref": "seluruh halaman",
                    }
                ],
            }
        )

    def _result(
        self,
        key: str,
        outcome: Outcome,
        facts: Mapping[str, Any],
        now: datetime,
        notes: Optional[List[str]],
    ) -> SopResult:
        steps = [
            render_template(s.text, facts)[0] for s in outcome.steps if holds(s.when, facts) is True
        ]
        warnings = [
            render_template(w.text, facts)[0]
            for w in outcome.warnings
            if holds(w.when, facts) is True
        ]
        if self.sop.expired_at is not None and now.date() > self.sop.expired_at:
            warnings.insert(
                0,
                f"Halaman sumber sudah kedaluwarsa sejak {format_date(self.sop.expired_at)}: "
                "pastikan ke TL bahwa alur ini masih berlaku.",
            )
        if outcome.uncertain:
            warnings.append("Cabang ini tidak pasti menurut SOP: konfirmasi ke TL.")
        ticket = self._ticket(outcome, facts)
        if ticket is not None and not ticket.kip_on_page:
            warnings.append(NO_KIP_WARNING)
        warnings.extend(notes or [])
        refs = [outcome.ref] + [s.ref for s in outcome.steps if s.ref != outcome.ref]
        return SopResult(
            case_id=f"{self.sop.intent}.{key}",
            title=outcome.title,
            steps=steps,
            ticket=ticket,
            source=self.sop.cite(outcome.ref),
            warnings=warnings,
            escalation=outcome.escalation,
            uncertain=outcome.uncertain,
            refs=list(dict.fromkeys(refs)),
        )

    def _ticket(self, outcome: Outcome, facts: Mapping[str, Any]) -> Optional[Ticket]:
        if outcome.ticket is None:
            return None
        fields: Dict[str, str] = {}
        missing: List[str] = []
        labels: List[str] = []
        specs: List[TicketField] = list(self.sop.ticket_fields) + list(outcome.ticket.extra_fields)
        for spec in specs:
            if holds(spec.when, facts) is not True:
                continue
            labels.append(spec.label)
            if spec.value is None:
                missing.append(spec.label)
                continue
            text, unknown = render_template(spec.value, facts)
            if unknown:
                missing.append(spec.label)
            else:
                fields[spec.label] = text
        if outcome.ticket.kip is None:
            return Ticket(
                kip=NO_KIP_TEXT, fields=fields, missing=missing, labels=labels, kip_on_page=False
            )
        kip, _ = render_template(outcome.ticket.kip, facts)
        return Ticket(kip=kip, fields=fields, missing=missing, labels=labels)
