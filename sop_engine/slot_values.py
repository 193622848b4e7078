"""Validation of one form value against the SOP that asks for it.

Thin layer over the pure validators: it picks the validator named in the SOP file, handles
answers to choice questions and splits several channel mentions ("gopay di mytelkomsel") into
the channel and the payment method.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sop_engine import validators
from sop_engine.engine import NO_VALUE, at_hour, format_span, parse_time_span
from sop_engine.models import Option, SlotSpec, SopFile
from sop_engine.validators import Invalid, Valid, ValidationResult

CHOICE_VALIDATOR = "choice"
_NON_WORD = re.compile(r"[^0-9a-z]+")
# Validators whose value is a case criterion: a phrase that only negates ("blm ada") is never
# one of their values (only an explicit "tidak tahu" is the way out).
CRITERION_VALIDATORS = {"callback_case", "gol_case", "delivery_type", "layanan", "imes_product"}
NO_VALUE_HINT = (
    "Bila pelanggan tidak punya/tidak tahu, pilih 'Tidak ada/tidak tahu' atau ketik 'tidak tahu'."
)


# A check the agent cannot do or the customer cannot answer ("ga tau", "blm bisa dicek"):
# never Ya or Tidak. Narrower than the data slots' way out: "tidak ada" answers a check.
_NOT_YET = r"(?:tidak|tdk|tak|gak|ga|gk|g|nggak|ngga|enggak|engga|ndak|nda|belum|blm|blom|blum)"
_CHECK_NOT_KNOWN_RE = re.compile(
    rf"\b(?:{_NOT_YET}|kurang) (?:tau|tahu|taw|tw|ingat|inget|yakin|pasti)\b"
    rf"|\b{_NOT_YET} (?:(?:bisa|bs|sempat|sempet) )?(?:di ?)?"
    r"(?:cek|cek2|ceck|check|periksa|lihat|liat)\b"
    r"|\b(?:gatau|gatw|gtau|gataw|gktau|gaktau|ngatau|entah|unknown)\b"
)


def check_not_known(raw: Any) -> bool:
    """True when an answer to a check question says it is not known / cannot be checked:
    typed text, or the way-out button's payload."""
    if not isinstance(raw, str) or not raw.strip():
        return False
    if _payload_value(raw) == NO_VALUE:
        return True
    return bool(_CHECK_NOT_KNOWN_RE.search(_simplify(raw)))


def known_validators() -> List[str]:
    return sorted(set(validators.VALIDATORS) | {CHOICE_VALIDATOR})


def _simplify(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def _payload_value(raw: str) -> str:
    # Buttons send '/inform{"choice": "x"}'; a value typed by hand is plain text.
    if raw.startswith("/") and "{" in raw:
        try:
            data = json.loads(raw[raw.index("{") :])
        except ValueError:
            return raw
        if isinstance(data, dict) and data:
            return str(next(iter(data.values())))
    return raw


def validate_choice(options: Sequence[Option], raw: Any) -> ValidationResult:
    """Maps an answer to one option: exact value/title/synonym first, then a whole-word hit."""
    if isinstance(raw, list):
        raw = raw[-1] if raw else None
    if raw is None or not str(raw).strip():
        return Invalid(_choice_reason(options))
    text = _simplify(_payload_value(str(raw))[:500])
    if not text:
        return Invalid(_choice_reason(options))
    padded = f" {text} "
    for option in options:
        names = [option.value, option.title, *option.synonyms]
        if any(_simplify(n) == text for n in names):
            return Valid(option.value)
    hits = []
    for option in options:
        names = [option.title, *option.synonyms, option.value.replace("_", " ")]
        if any(f" {_simplify(n)} " in padded for n in names if _simplify(n)):
            hits.append(option.value)
    if len(set(hits)) == 1:
        return Valid(hits[0])
    return Invalid(_choice_reason(options))


def _choice_reason(options: Sequence[Option]) -> str:
    titles = ", ".join(o.title for o in options)
    return f"Jawaban belum saya kenali. Pilih salah satu: {titles}."


def validate_slot(
    validator: str, raw: Any, now: datetime, options: Sequence[Option] = ()
) -> ValidationResult:
    if validator == CHOICE_VALIDATOR:
        return validate_choice(options, raw)
    return validators.validate(validator, raw, now)


def split_channel_mentions(channels: Sequence[str]) -> Dict[str, Any]:
    """Several channels in one message: where the recharge was made and how it was paid.

    "gopay di mytelkomsel" -> channel mytelkomsel, payment_method gopay (SOP 4.b);
    "tokopedia pakai gopay" -> channel tokopedia (the app that sold it, SOP 4.c).
    """
    unique = list(dict.fromkeys(channels))
    if not unique:
        return {}
    if len(unique) == 1:
        return {"channel": unique[0]}
    if "mytelkomsel" in unique:
        others = [c for c in unique if c != "mytelkomsel"]
        fintech = [c for c in others if validators.known_channel_group(c) == "fintech"]
        return {"channel": "mytelkomsel", "payment_method": (fintech or others)[0]}
    apps = [c for c in unique if validators.known_channel_group(c) == "app"]
    return {"channel": (apps or unique)[0]}


def validate_values(
    sop: SopFile,
    values: Dict[str, Any],
    now: datetime,
    previous: Optional[Dict[str, Any]] = None,
) -> Tuple[Dict[str, Any], List[str]]:
    """Validates candidate slot values for one SOP.

    Returns the normalised values and the messages for the agent: the reason of each refusal
    and notes such as an approximate time. A refused value falls back to the slot's
    ``previous`` (already validated) value, so a stray entity in a later message never wipes
    what the agent gave. Values of slots the SOP does not use are left out, to be validated
    when a case that uses them starts.
    """
    previous = previous or {}
    specs = {s.name: s for s in sop.slots}
    questions = {q.name: q for q in sop.questions}
    out: Dict[str, Any] = {}
    messages: List[str] = []
    for name, value in values.items():
        if value is None:
            continue
        result: ValidationResult
        if name in questions:
            question = questions[name]
            if question.kind == "yes_no":
                out[name] = value if isinstance(value, bool) or value == NO_VALUE else None
                continue
            if check_not_known(_text_of(value)):
                out[name] = NO_VALUE
                continue
            result = validate_choice(question.options, value)
            label = "Jawaban"
        elif name in specs:
            spec = specs[name]
            label = spec.label
            way_out = _no_value(spec, value)
            other = validators.other_kind_named(_text_of(value), spec.validator)
            if way_out is True and other is not None:
                # "ga punya SN" typed while the channel is asked: it answers another question
                other_label = next(
                    (s.label for s in sop.slots if s.validator == other), other.replace("_", " ")
                )
                result = Invalid(
                    f"'{_text_of(value)}' menyebut {other_label}, bukan {label.lower()}. "
                    f"Jawab dulu {label.lower()}-nya."
                )
            elif way_out is True:
                out[name] = NO_VALUE
                continue
            elif way_out is None:
                result = Invalid(
                    f"'{_text_of(value)}' hanya penyangkalan, bukan {label.lower()}. "
                    f"{NO_VALUE_HINT}"
                )
            else:
                result = validate_slot(spec.validator, value, now, spec.buttons)
            if isinstance(result, Valid) and spec.validator == "event_hour":
                result = _hour_within(result, {**previous, **values, **out}, sop, now)
        else:
            continue
        if isinstance(result, Invalid):
            kept = previous.get(name)
            if kept is None:
                # data slots have the way-out button; check questions have their own options
                way_out = name in specs and NO_VALUE_HINT not in result.reason
                hint = f" {NO_VALUE_HINT}" if way_out else ""
                messages.append(f"{label} belum valid: {result.reason}{hint}")
            else:
                messages.append(
                    f"{label} baru belum valid, tetap memakai yang tadi. {result.reason}"
                )
            out[name] = kept
            continue
        if result.note:
            messages.append(f"Catatan {label}: {result.note}")
        if name == "channel":
            out.update(_channel_values(specs, result.value, now))
        else:
            out[name] = result.value
        if spec_validator(specs, name) == "event_time" and "event_hour" in specs:
            if values.get("event_hour") is None and result.value != previous.get(name):
                out["event_hour"] = None  # an hour given for another day no longer applies
    return out, messages


def spec_validator(specs: Dict[str, SlotSpec], name: str) -> Optional[str]:
    spec = specs.get(name)
    return spec.validator if spec is not None else None


def _text_of(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _no_value(spec: SlotSpec, value: Any) -> Optional[bool]:
    """True: the honest way out (no value / not known); None: a bare negation given as a
    criterion (refused); False: an ordinary value to validate."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) for i in items):
        return False
    if all(_payload_value(i) == NO_VALUE for i in items):
        return True
    text = " ".join(items)
    if spec.validator in CRITERION_VALIDATORS or spec.validator == CHOICE_VALIDATOR:
        if validators.only_negation(text):
            return None
        return True if validators.is_no_value(text) else False
    return True if validators.is_no_value(text) else False


def _hour_within(
    result: Valid, values: Dict[str, Any], sop: SopFile, now: datetime
) -> ValidationResult:
    """The hour must fall in the range already known for the event (not later than now)."""
    for spec in sop.slots:
        if spec.validator != "event_time":
            continue
        span = parse_time_span(values.get(spec.name))
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


def _channel_values(specs: Dict[str, SlotSpec], value: Any, now: datetime) -> Dict[str, Any]:
    channels = value if isinstance(value, list) else [value]
    split = split_channel_mentions([str(c) for c in channels])
    out: Dict[str, Any] = {"channel": split.get("channel")}
    payment = split.get("payment_method")
    spec = specs.get("payment_method")
    if payment and spec is not None:
        checked = validate_slot(spec.validator, payment, now, spec.buttons)
        out["payment_method"] = checked.value if isinstance(checked, Valid) else None
    return out
