"""Schema of an SOP data file (sop/*.yaml).

Every SOP page becomes one YAML file validated by these pydantic (v1, as Rasa 3.6 pins it)
models when it loads, so a broken file fails at start with the file and the field named.

Vocabulary used across the schema:
- a *fact* is anything the engine reasons on: a form slot (``msisdn``), the answer to a check
  question (``check_recharge_visible``) or a derived value (``hours_since_event``);
- a *condition* maps fact names to matchers; all matchers must hold;
- *rules* are tried in order; the first rule whose conditions hold gives the outcome. A rule
  whose conditions cannot be decided yet makes the engine ask the first unknown question.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Literal, Optional, Union

from pydantic import (
    BaseModel,
    Extra,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    root_validator,
    validator,
)

from sop_engine.timeparse import format_date

# Strict types: pydantic would otherwise turn `true` into the string 'True'.
FactValue = Union[StrictBool, StrictInt, StrictFloat, StrictStr]


class StrictModel(BaseModel):
    class Config:
        extra = Extra.forbid
        allow_mutation = False


class Matcher(StrictModel):
    """How a fact is compared. Exactly one operator should be given."""

    equals: Optional[FactValue] = None
    in_: Optional[List[FactValue]] = Field(None, alias="in")
    not_in: Optional[List[FactValue]] = None
    gt: Optional[float] = None
    gte: Optional[float] = None
    lt: Optional[float] = None
    lte: Optional[float] = None
    known: Optional[bool] = None

    class Config:
        allow_population_by_field_name = True

    @root_validator(skip_on_failure=True)
    def _one_operator(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        given = [k for k, v in values.items() if v is not None]
        if len(given) != 1:
            raise ValueError(f"a matcher needs exactly one operator, got {given or 'none'}")
        return values


def _coerce_matcher(raw: Any) -> Any:
    # A bare scalar (``check_x: true``) is shorthand for ``{equals: true}``.
    if isinstance(raw, (str, int, float, bool)):
        return {"equals": raw}
    return raw


class Condition(StrictModel):
    """All listed facts must match. Order matters: unknown facts are asked in this order."""

    __root__: Dict[str, Matcher]

    @validator("__root__", pre=True)
    def _shorthand(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise ValueError("a condition is a mapping of fact name to matcher")
        return {k: _coerce_matcher(v) for k, v in raw.items()}

    def items(self) -> List[tuple[str, Matcher]]:
        return list(self.__root__.items())


class Step(StrictModel):
    """One line of guidance, traceable to the SOP page."""

    text: str
    ref: str = Field(..., description="section of the page the text comes from")
    when: Optional[Condition] = None


class Option(StrictModel):
    value: str
    title: str
    synonyms: List[str] = []


class SlotSpec(StrictModel):
    """A value the form collects, read and checked by its kind (sop_engine/kinds)."""

    name: str
    validator: str = Field(..., description="the slot's kind: a name registered in kinds/")
    ask: str
    label: str
    ref: str
    when: Optional[Condition] = None
    buttons: List[Option] = []
    entity: Optional[str] = Field(None, description="NLU entity that fills it from any message")
    multiple: bool = Field(False, description="list slot: several values in one message")
    on_demand: bool = Field(
        False, description="asked only when a rule needs it (the hour of a day-only time)"
    )
    needs_hour: bool = Field(
        False, description="a time slot whose steps always need the hour: ask it when missing"
    )


class SaidAnswer(StrictModel):
    """Wording in the agent's own messages that already answers a check question
    ("blm ada tiket" -> no ticket history). Regular expressions on the lower-cased text."""

    value: FactValue
    patterns: List[str]

    @validator("patterns", each_item=True)
    def _compiles(cls, pattern: str) -> str:
        re.compile(pattern)
        return pattern


class Question(StrictModel):
    """A check the agent performs in a tool and answers (yes/no or one of options)."""

    name: str
    text: str
    ref: str
    kind: Literal["yes_no", "choice"] = "yes_no"
    options: List[Option] = []
    said: List[SaidAnswer] = Field(
        [], description="answers the agent may already have typed, taken with a note"
    )
    short: Optional[str] = Field(None, description="short name of the check, shown in notes")

    @validator("name")
    def _prefixed(cls, name: str) -> str:
        if not name.startswith("check_"):
            raise ValueError("question names start with 'check_' (they are form slots)")
        return name

    @root_validator(skip_on_failure=True)
    def _options_for_choice(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values["kind"] == "choice" and len(values["options"]) < 2:
            raise ValueError("a choice question needs at least two options")
        if values["kind"] == "yes_no" and values["options"]:
            raise ValueError("a yes_no question takes no options")
        return values


class DerivedFact(StrictModel):
    """A fact computed from other facts and the current time, in the agents' zone.

    ops:
      hours_since / minutes_since   -> float, from an ISO datetime slot to now
      minutes_of_day                -> int, minutes after local midnight of a datetime slot
      add_minutes / add_days        -> ISO datetime, ``of`` + ``amount``
      lookup                        -> value of ``table[of]``; else the first ``keywords`` key
                                       whose words occur in the value; else ``default``; when
                                       ``of`` holds a list, the list of the looked-up values
      any_in                        -> True if ``of`` (str or list) contains any of ``values``
      any_of                        -> True if any of ``conditions`` holds, False if none can,
                                       unknown otherwise (an "or" of conditions; no ``of``)

    A derived fact may use facts derived before it in the file, never later ones.
    """

    name: str
    op: Literal[
        "hours_since",
        "minutes_since",
        "minutes_of_day",
        "add_minutes",
        "add_days",
        "lookup",
        "any_in",
        "any_of",
    ]
    of: Optional[str] = None
    amount: Optional[float] = None
    table: Dict[str, FactValue] = {}
    # lookup of a value outside the table (an open list accepted as written): the first
    # result whose words occur in the value, e.g. {non_fintech: [konter, kios]}
    keywords: Dict[str, List[str]] = {}
    default: Optional[FactValue] = None
    values: List[FactValue] = []
    conditions: List[Condition] = []

    @root_validator(skip_on_failure=True)
    def _arguments(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        op = values["op"]
        if op == "any_of":
            if len(values["conditions"]) < 2:
                raise ValueError("op any_of needs at least two 'conditions'")
            if values["of"] is not None:
                raise ValueError("op any_of takes 'conditions', not 'of'")
        else:
            if values["of"] is None:
                raise ValueError(f"op {op} needs 'of'")
            if values["conditions"]:
                raise ValueError(f"op {op} takes no 'conditions'")
        if op in ("add_minutes", "add_days") and values["amount"] is None:
            raise ValueError(f"op {op} needs 'amount'")
        if op == "lookup" and not values["table"]:
            raise ValueError("op lookup needs 'table'")
        if op == "any_in" and not values["values"]:
            raise ValueError("op any_in needs 'values'")
        return values

    def inputs(self) -> List[str]:
        """Facts this one is computed from, in order."""
        if self.of is not None:
            return [self.of]
        return list(dict.fromkeys(fact for c in self.conditions for fact, _ in c.items()))


class TicketField(StrictModel):
    """A mandatory ticket field. ``value`` is a template over facts, e.g. '{msisdn}'.

    Without a value (or when the template's facts are unknown) the agent fills it by hand and
    the field is listed in ``missing``.
    """

    label: str
    value: Optional[str] = None
    when: Optional[Condition] = None


class OutcomeTicket(StrictModel):
    """A ticket the page prescribes. ``kip`` is None when the page names no KIP category for
    the case: the engine then says so (warning, payload ``kip: null``) instead of guessing."""

    kip: Optional[str] = None
    extra_fields: List[TicketField] = []


class Outcome(StrictModel):
    title: str
    ref: str
    steps: List[Step]
    escalation: Optional[str] = None
    ticket: Optional[OutcomeTicket] = None
    warnings: List[Step] = []
    uncertain: bool = False


class Rule(StrictModel):
    when: Condition
    outcome: str


class Menu(StrictModel):
    """How the assistant offers this SOP in its fixed texts (generated into domain.yml by
    scripts/sync_domain.py): the help button, the line in the help and out-of-scope lists,
    the example phrase of the greeting, and the position in those lists."""

    button: str = Field(..., description="help button title (WhatsApp shows 20 characters)")
    summary: str = Field(..., description="one line in the help and out-of-scope lists")
    example: str = Field(..., description="what an agent might type, quoted in the greeting")
    order: int = Field(100, description="position in the lists; ties by file name")

    @validator("button")
    def _short_button(cls, button: str) -> str:
        if len(button) > 24:
            raise ValueError("a button title has at most 24 characters")
        return button


class SopFile(StrictModel):
    id: str
    intent: str
    title: str
    page: str = Field(..., description="file name of the source page in ../shared/sop")
    # The page's own identity, as printed on it; null when the page shows none. Every file in
    # sop/ writes all four keys (tests/engine/test_loader.py), so a null is a statement about
    # the page, and `make sop-check` lists it.
    page_id: Optional[str] = Field(None, description="content id of the page, e.g. KM1229082304")
    version: Optional[str] = Field(None, description="version or update note of the page")
    updated: Optional[date] = Field(None, description="date the page was last updated")
    expires: Optional[date] = Field(None, description="date the page expires (Expired at)")
    menu: Optional[Menu] = Field(None, description="required for the files in sop/")
    source: str
    scope_note: Optional[Step] = None
    checks: List[Step] = []
    slots: List[SlotSpec]
    questions: List[Question] = []
    derived: List[DerivedFact] = []
    ticket_fields: List[TicketField] = []
    rules: List[Rule]
    outcomes: Dict[str, Outcome]

    @property
    def expired_at(self) -> Optional[date]:
        """The page's expiry date (the file's ``expires``)."""
        return self.expires

    def cite(self, section: str) -> str:
        """The source of an answer: the page's reference, id, version and section."""
        identity = [
            f"ID {self.page_id}" if self.page_id else "ID halaman tidak tercantum",
            f"versi {self.version}" if self.version else "versi tidak tercantum",
        ]
        if self.updated:
            identity.append(f"diperbarui {format_date(self.updated)}")
        return f"{self.source} ({'; '.join(identity)}; halaman: {self.page}; bagian: {section})"

    @root_validator(skip_on_failure=True)
    def _references_exist(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        slots = [s.name for s in values["slots"]]
        questions = [q.name for q in values["questions"]]
        derived = [d.name for d in values["derived"]]
        known = set(slots) | set(questions) | set(derived) | {"active_sop"}
        for kind, names in (("slot", slots), ("question", questions), ("derived", derived)):
            dupes = {n for n in names if names.count(n) > 1}
            if dupes:
                raise ValueError(f"duplicate {kind} names: {sorted(dupes)}")

        def check(cond: Optional[Condition], where: str) -> None:
            if cond is None:
                return
            for fact, _ in cond.items():
                if fact not in known:
                    raise ValueError(f"{where}: unknown fact '{fact}'")

        for slot in values["slots"]:
            check(slot.when, f"slot {slot.name}")
        derived_so_far: set[str] = set()
        for d in values["derived"]:
            for fact in d.inputs():
                if fact not in known:
                    raise ValueError(f"derived {d.name}: unknown fact '{fact}'")
                if fact in derived and fact not in derived_so_far:
                    raise ValueError(
                        f"derived {d.name}: uses '{fact}', which is derived later in the file"
                    )
            derived_so_far.add(d.name)
        outcomes = values["outcomes"]
        for i, rule in enumerate(values["rules"]):
            check(rule.when, f"rules[{i}]")
            if rule.outcome not in outcomes:
                raise ValueError(f"rules[{i}]: unknown outcome '{rule.outcome}'")
        for name, outcome in outcomes.items():
            for step in outcome.steps + outcome.warnings:
                check(step.when, f"outcomes.{name}")
            if outcome.ticket:
                for tf in outcome.ticket.extra_fields:
                    check(tf.when, f"outcomes.{name}.ticket")
        for tf in values["ticket_fields"]:
            check(tf.when, f"ticket_fields.{tf.label}")
        unused = set(outcomes) - {r.outcome for r in values["rules"]}
        if unused:
            raise ValueError(f"outcomes never reached by a rule: {sorted(unused)}")
        return values
