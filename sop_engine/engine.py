"""Decision engine: facts gathered in the conversation -> what to ask next, or the SOP result.

Plain Python on purpose (no Rasa import): the same engine serves the action server, the tests
and any future channel, and it can be reasoned about branch by branch.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Literal, Mapping, Optional, Union

from sop_engine.kinds import slot_kinds
from sop_engine.kinds.base import SlotKind, show_plain
from sop_engine.kinds.event_hour import at_hour
from sop_engine.kinds.event_time import format_span, is_time_range, parse_time_span
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
_TIME_OPS = ("hours_since", "minutes_since", "minutes_of_day", "add_minutes", "add_days")
# The value of any data slot when the customer has none or does not know it ("tidak punya",
# "tidak tahu", "SN kehapus"). Rules may match it; where none does, the answer says so.
NO_VALUE = "tidak_ada"
NO_VALUE_TEXT = "(tidak ada / pelanggan tidak tahu)"
_HOUR_ASSUMED = "__hour_assumed__"


@dataclass(frozen=True)
class Span:
    """A number known only within bounds (e.g. hours since an event known to the day)."""

    lo: float
    hi: float


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


def format_value(value: Any, kind: Optional[SlotKind] = None) -> str:
    """A fact's value as the agent reads it; ``kind`` is the slot's kind, if it is a slot."""
    if value == NO_VALUE:
        return NO_VALUE_TEXT
    span = parse_time_span(value)
    if span is not None:
        return format_for_agent(span[0]) if span[0] == span[1] else format_span(*span)
    if isinstance(value, Span):
        return f"{value.lo:.1f}-{value.hi:.1f}"
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, list):
        return " / ".join(format_value(v, kind) for v in value)
    return kind.show(value) if kind is not None else show_plain(value)


def match(matcher: Matcher, value: Any) -> Tri:
    if matcher.known is not None:
        return (value is not None) == matcher.known
    if value is None:
        return None
    if isinstance(value, Span):
        # decided only when both bounds agree (the comparisons are monotone)
        if any(op is not None for op in (matcher.equals, matcher.in_, matcher.not_in)):
            return None
        low, high = match(matcher, value.lo), match(matcher, value.hi)
        return low if low == high else None
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


def _takes_no_value(matcher: Matcher) -> bool:
    """A rule written for the "tidak ada / tidak tahu" answer itself."""
    return matcher.equals == NO_VALUE or NO_VALUE in (matcher.in_ or [])


def _any_of(spec: DerivedFact, facts: Mapping[str, Any]) -> Tri:
    verdicts = [holds(condition, facts) for condition in spec.conditions]
    if any(v is True for v in verdicts):
        return True
    if all(v is False for v in verdicts):
        return False
    return None


def _lookup(spec: DerivedFact, value: Any) -> Any:
    key = str(value)
    if key in spec.table:
        return spec.table[key]
    if value != NO_VALUE:
        words = f" {re.sub(r'[^0-9a-z]+', ' ', key.lower()).strip()} "
        for result, keywords in spec.keywords.items():
            if any(f" {k.lower()} " in words for k in keywords):
                return result
    return spec.default


def _derive(spec: DerivedFact, facts: Mapping[str, Any], now: datetime) -> Any:
    if spec.op == "any_of":
        return _any_of(spec, facts)
    source = facts.get(spec.of) if spec.of is not None else None
    if source is None:
        return None
    if spec.op == "lookup":
        if isinstance(source, list):  # a list slot: look every value up
            return [_lookup(spec, item) for item in source]
        return _lookup(spec, source)
    if spec.op == "any_in":
        items = source if isinstance(source, list) else [source]
        return any(item in spec.values for item in items)
    span = parse_time_span(source)
    if span is None:
        return None
    start, end = span

    def spread(low: float, high: float) -> Union[float, Span]:
        return low if low == high else Span(low, high)

    if spec.op == "hours_since":
        return spread((now - end).total_seconds() / 3600, (now - start).total_seconds() / 3600)
    if spec.op == "minutes_since":
        return spread((now - end).total_seconds() / 60, (now - start).total_seconds() / 60)
    if spec.op == "minutes_of_day":
        first, last = start.astimezone(agent_timezone()), end.astimezone(agent_timezone())
        if first.date() != last.date():
            return Span(0, 24 * 60 - 1)
        return spread(first.hour * 60 + first.minute, last.hour * 60 + last.minute)
    amount = spec.amount or 0.0
    delta = timedelta(minutes=amount) if spec.op == "add_minutes" else timedelta(days=amount)
    if start == end:
        return (start + delta).isoformat()
    return f"{(start + delta).isoformat()}/{(end + delta).isoformat()}"


# Spellings of the words check answers are told with, folded before the SOP's patterns.
_SAID_WORDS = {
    "blm": "belum",
    "blom": "belum",
    "lom": "belum",
    "udh": "sudah",
    "udah": "sudah",
    "sdh": "sudah",
    "dah": "sudah",
    "tdk": "tidak",
    "gak": "tidak",
    "ga": "tidak",
    "gk": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "enggak": "tidak",
    "g": "tidak",
    "tiket": "tiket",
    "ticket": "tiket",
    "tkt": "tiket",
    "kepotong": "terpotong",
    "kpotong": "terpotong",
    "dipotong": "terpotong",
    "potong": "terpotong",
    "ad": "ada",
}


def _plain(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return " ".join(_SAID_WORDS.get(w, w) for w in words)


def local_date(now: datetime) -> date:
    """Today in the agents' zone (page expiry and every "today" are judged there)."""
    return now.astimezone(agent_timezone()).date()


class _TemplateFacts(dict):  # type: ignore[type-arg]
    """Formatting namespace: unknown facts are recorded instead of raising KeyError."""

    def __init__(self, facts: Mapping[str, Any], kinds: Mapping[str, SlotKind]) -> None:
        super().__init__()
        self.facts = facts
        self.kinds = kinds
        self.unknown: List[str] = []

    def __missing__(self, key: str) -> str:
        value = self.facts.get(key)
        if value is None:
            self.unknown.append(key)
            return "[belum diketahui]"
        return format_value(value, self.kinds.get(key))


def render_template(
    template: str, facts: Mapping[str, Any], kinds: Optional[Mapping[str, SlotKind]] = None
) -> tuple[str, List[str]]:
    """``template`` with its ``{fact}`` placeholders filled; ``kinds`` (slot name -> kind)
    say how a slot's value reads. Also the names of the facts not known yet."""
    namespace = _TemplateFacts(facts, kinds or {})
    text = string.Formatter().vformat(template, (), namespace)
    return text, namespace.unknown


class SopEngine:
    """Evaluates one SOP file against the facts of a conversation."""

    def __init__(self, sop: SopFile) -> None:
        self.sop = sop
        self.slot_names = [s.name for s in sop.slots]
        self.question_names = [q.name for q in sop.questions]
        self._derived = {d.name: d for d in sop.derived}
        self.kinds = slot_kinds(sop)
        # the event's time, and the hour asked on demand when only its day is known
        # ("tidak_ada" = the customer does not know the hour)
        self.time_slots = [name for name, kind in self.kinds.items() if kind.holds_time]
        self.hour_slot = next((n for n, k in self.kinds.items() if k.holds_hour), None)

    def show(self, name: str, value: Any) -> str:
        """The value of fact ``name`` as the agent reads it (a slot's kind formats it)."""
        return format_value(value, self.kinds.get(name))

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
        self._apply_hour(facts)
        for spec in self.sop.derived:  # in file order, so a derived fact may use earlier ones
            facts[spec.name] = _derive(spec, facts, now)
        assumed = facts.get(_HOUR_ASSUMED)
        if assumed is not None:  # shown as what is known; only the limits used the latest end
            name, start, end = assumed
            facts[name] = f"{start.isoformat()}/{end.isoformat()}"
        return facts

    def said_answers(self, text: str) -> Dict[str, Any]:
        """Check answers stated in an agent's message ("blm ada tiket", "saldo udh kepotong")."""
        lowered = f" {_plain(text)} "
        found: Dict[str, Any] = {}
        for question in self.sop.questions:
            for said in question.said:
                if any(re.search(p, lowered) for p in said.patterns):
                    found[question.name] = said.value
                    break
        return found

    def _apply_hour(self, facts: Dict[str, Any]) -> None:
        """A time known to the day (or day part) plus the hour asked afterwards -> the moment.

        Without the hour ("tidak tahu") the latest possible moment is used: a time limit is
        then never counted as passed unless it surely has, and the answer says so."""
        hour = facts.get(self.hour_slot) if self.hour_slot else None
        if hour is None:
            return
        for name in self.time_slots:
            span = parse_time_span(facts.get(name))
            if span is None or span[0] == span[1]:
                continue
            start, end = span
            if hour == NO_VALUE:
                facts[name] = end.isoformat()
                facts[_HOUR_ASSUMED] = (name, start, end)
                continue
            moment = at_hour(start, str(hour))
            if moment is not None and start <= moment <= end + timedelta(minutes=1):
                facts[name] = moment.isoformat()

    def required_slots(self, facts: Mapping[str, Any]) -> List[str]:
        """Data slots the SOP asks for, given what is known (conditional slots included).

        Slots marked ``on_demand`` (the hour of an event known only to the day) are asked only
        when a rule needs them, never up front."""
        return [s.name for s in self.sop.slots if not s.on_demand and holds(s.when, facts) is True]

    def _hour_need(self, facts: Mapping[str, Any]) -> Optional[Need]:
        """Ask the hour: it is not known, and only the day (or day part) of the event is."""
        if self.hour_slot is None or facts.get(self.hour_slot) is not None:
            return None
        if not any(is_time_range(facts.get(name)) for name in self.time_slots):
            return None
        return Need("slot", self.hour_slot)

    def _askable(self, fact: str, facts: Mapping[str, Any]) -> Optional[Need]:
        if fact in self.question_names:
            return Need("question", fact)
        if fact in self.slot_names:
            # a slot the SOP does not ask for in this situation is not applicable
            return Need("slot", fact) if fact in self.required_slots(facts) else None
        spec = self._derived.get(fact)
        if spec is None:
            return None
        if spec.op in _TIME_OPS and spec.of and is_time_range(facts.get(spec.of)):
            # known to the day only and the rule would differ within it: ask the hour
            return self._hour_need(facts)
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
        required = self.required_slots(facts)
        hour_always = [s.name for s in self.sop.slots if s.needs_hour and s.name in required]
        if any(is_time_range(facts.get(n)) for n in hour_always):
            hour_need = self._hour_need(facts)
            if hour_need is not None:
                return hour_need
        not_known = self._not_known(facts)
        for rule in self.sop.rules:
            # an answer "tidak tahu / belum bisa dicek" (or a value the customer does not
            # have) decides no branch: a rule that depends on it, and no longer on anything
            # else, cannot be chosen, and neither can a later rule in its place
            unknown = [f for f, m in rule.when.items() if f in not_known and not _takes_no_value(m)]
            # "any answer" (``in`` every value of the check): the rule holds whatever it is
            lenient = [f for f in unknown if self._any_answer(f, rule.when)]
            blocked = [f for f in unknown if f not in lenient]
            rest = Condition(__root__={f: m for f, m in rule.when.items() if f not in unknown})
            if blocked:
                if holds(rest, facts) is True:
                    return self._not_known_result(blocked[0], facts, now, notes)
                continue  # decided by other facts (or not yet): as if False
            verdict = holds(rest if lenient else rule.when, facts)
            if verdict is True:
                warnings = [self._not_known_warning(f) for f in lenient]
                return self._result(
                    rule.outcome,
                    self.sop.outcomes[rule.outcome],
                    facts,
                    now,
                    [*filter(None, warnings), *(notes or [])],
                    uncertain=bool(lenient),
                )
            if verdict is None:
                sources: List[str] = []
                for fact, matcher in (rest if lenient else rule.when).items():
                    if match(matcher, facts.get(fact)) is None:
                        need = self._askable(fact, facts)
                        if need is not None:
                            return need
                        source = self._not_known_source(fact, facts, not_known)
                        if source is None:
                            sources = []
                            break  # undecidable rule (e.g. a derived fact without data): skip
                        sources.append(source)
                if sources:  # e.g. a time limit counted from a time nobody knows
                    return self._not_known_result(sources[0], facts, now, notes)
        return self._result(UNCERTAIN_OUTCOME, self._uncertain_outcome(), facts, now, notes)

    def outcome_result(self, key: str, facts: Mapping[str, Any], now: datetime) -> SopResult:
        """The answer of one outcome for these facts, as ``evaluate`` gives it (the preview of
        `make sop-check` shows every branch this way)."""
        outcome = self._uncertain_outcome() if key == UNCERTAIN_OUTCOME else self.sop.outcomes[key]
        return self._result(key, outcome, facts, now, None)

    def _not_known(self, facts: Mapping[str, Any]) -> List[str]:
        """Checks answered "tidak tahu" and values the customer does not have, for which no
        rule says what the page does then."""
        names = [
            q.name
            for q in self.sop.questions
            if facts.get(q.name) == NO_VALUE and NO_VALUE not in (o.value for o in q.options)
        ]
        with_rule = self._no_value_rules()
        names += [n for n in self.slot_names if facts.get(n) == NO_VALUE and n not in with_rule]
        return names

    def _not_known_source(
        self, fact: str, facts: Mapping[str, Any], not_known: List[str], depth: int = 0
    ) -> Optional[str]:
        """The unknown answer a derived fact cannot be computed without, if any."""
        if fact in not_known:
            return fact
        spec = self._derived.get(fact)
        if spec is None or depth > len(self._derived):
            return None
        names = [spec.of] if spec.of else [n for c in spec.conditions for n, _ in c.items()]
        for name in names:
            source = self._not_known_source(name, facts, not_known, depth + 1) if name else None
            if source is not None:
                return source
        return None

    def _any_answer(self, name: str, when: Condition) -> bool:
        question = next((q for q in self.sop.questions if q.name == name), None)
        matcher = dict(when.items()).get(name)
        if question is None or matcher is None or matcher.in_ is None:
            return False
        values = [True, False] if question.kind == "yes_no" else [o.value for o in question.options]
        return all(v in matcher.in_ for v in values)

    def _not_known_warning(self, name: str) -> Optional[str]:
        question = next((q for q in self.sop.questions if q.name == name), None)
        if question is None:  # data slots are named by _result's "tidak punya" warning
            return None
        what = " ".join((question.short or question.text).split())
        return (
            f"Hasil cek belum diketahui: {what} Halaman SOP tidak mengatur kondisi ini: "
            "konfirmasi ke TL, atau lakukan cek ini lalu ulangi kasusnya."
        )

    def _not_known_result(
        self, name: str, facts: Mapping[str, Any], now: datetime, notes: Optional[List[str]]
    ) -> SopResult:
        extra = [w for w in [self._not_known_warning(name)] if w]
        return self._result(
            UNCERTAIN_OUTCOME, self._uncertain_outcome(), facts, now, [*extra, *(notes or [])]
        )

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
        uncertain: bool = False,
    ) -> SopResult:
        steps = [
            render_template(s.text, facts, self.kinds)[0]
            for s in outcome.steps
            if holds(s.when, facts) is True
        ]
        warnings = [
            render_template(w.text, facts, self.kinds)[0]
            for w in outcome.warnings
            if holds(w.when, facts) is True
        ]
        if self.sop.expired_at is not None and local_date(now) > self.sop.expired_at:
            warnings.insert(
                0,
                f"Halaman sumber sudah kedaluwarsa sejak {format_date(self.sop.expired_at)}: "
                "pastikan ke TL bahwa alur ini masih berlaku.",
            )
        uncertain = uncertain or outcome.uncertain
        assumed = facts.get(_HOUR_ASSUMED)
        if assumed is not None:
            name, start, end = assumed
            label = next(s.label for s in self.sop.slots if s.name == name)
            warnings.append(
                f"{label}: jamnya tidak diketahui, hanya {format_span(start, end)}. Batas waktu "
                f"dihitung dari jam paling akhir yang mungkin ({format_for_agent(end)}), jadi "
                "belum dianggap terlewati bila belum pasti. Ini penafsiran, bukan tertulis di "
                "SOP: konfirmasi ke TL."
            )
            uncertain = True
        for spec in self.sop.slots:
            if spec.name == self.hour_slot and assumed is not None:
                continue  # said above, with what it means for the time limits
            if facts.get(spec.name) == NO_VALUE and spec.name not in self._no_value_rules():
                warnings.append(
                    f"{spec.label}: pelanggan tidak punya/tidak tahu. Halaman SOP tidak "
                    "mengatur kondisi ini: konfirmasi ke TL."
                )
                uncertain = True
        if uncertain:
            warnings.append("Cabang ini tidak pasti menurut SOP: konfirmasi ke TL.")
        ticket = self._ticket(outcome, facts)
        if ticket is not None and not ticket.kip_on_page:
            warnings.append(NO_KIP_WARNING)
        warnings.extend(notes or [])
        warnings = list(dict.fromkeys(warnings))  # each message once
        refs = [outcome.ref] + [s.ref for s in outcome.steps if s.ref != outcome.ref]
        return SopResult(
            case_id=f"{self.sop.intent}.{key}",
            title=outcome.title,
            steps=steps,
            ticket=ticket,
            source=self.sop.cite(outcome.ref),
            warnings=warnings,
            escalation=outcome.escalation,
            uncertain=uncertain,
            refs=list(dict.fromkeys(refs)),
        )

    def _no_value_rules(self) -> List[str]:
        """Slots for which a rule states what the page says when the value is missing."""
        names: List[str] = []
        for rule in self.sop.rules:
            for fact, matcher in rule.when.items():
                if matcher.equals == NO_VALUE or NO_VALUE in (matcher.in_ or []):
                    names.append(fact)
        return names

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
            text, unknown = render_template(spec.value, facts, self.kinds)
            if unknown:
                missing.append(spec.label)
            else:
                fields[spec.label] = text
        if outcome.ticket.kip is None:
            return Ticket(
                kip=NO_KIP_TEXT, fields=fields, missing=missing, labels=labels, kip_on_page=False
            )
        kip, _ = render_template(outcome.ticket.kip, facts, self.kinds)
        return Ticket(kip=kip, fields=fields, missing=missing, labels=labels)
