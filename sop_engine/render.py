"""Agent-facing text for an SOP result, and the copyable ticket.

Lines are separated by single newlines on purpose: Rasa's collecting output channel splits a
text on blank lines into several messages, and the answer must stay one message.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from sop_engine.engine import SopResult, Ticket

MISSING_MARK = "(isi manual)"
NOTE_MAX_CHARS = 300
NOTE_LABEL = "Catatan interaksi (IRMA MyCX)"


def ticket_text(ticket: Ticket) -> str:
    """Copyable ticket: every mandatory field on one line, in the SOP's order."""
    lines = [f"KIP: {ticket.kip}"]
    for label in ticket.labels:
        value = ticket.fields.get(label)
        lines.append(f"{label}: {value if value is not None else MISSING_MARK}")
    return "\n".join(lines)


def result_text(result: SopResult) -> str:
    return payload_text(result_payload(result))


def payload_text(payload: Mapping[str, Any]) -> str:
    """The agent text of a ``sop_result`` payload: the one rendering of an SOP answer.

    The action sends it next to the payload; a channel that receives the payload alone
    (channels/output.py) shows the same text. Keys beyond the contract (``ticket_text``,
    ``interaction_note``) are used when present, so a payload from elsewhere still renders.
    """
    lines: List[str] = []
    lines += [f"⚠️ {warning}" for warning in payload.get("warnings") or []]
    lines.append(f"Hasil SOP: {payload.get('title', '')}")
    lines += [f"{n}. {step}" for n, step in enumerate(payload.get("steps") or [], start=1)]
    if payload.get("escalation"):
        lines.append(f"Eskalasi: {payload['escalation']}")
    ticket = payload.get("ticket")
    if ticket is None:
        lines.append("Tiket: tidak perlu menurut SOP.")
    elif payload.get("ticket_text"):
        lines.append("Template tiket (salin):")
        lines.append(str(payload["ticket_text"]))
        missing = ticket.get("missing") if isinstance(ticket, Mapping) else None
        if missing:
            lines.append("Lengkapi manual: " + ", ".join(map(str, missing)) + ".")
    if payload.get("interaction_note") is not None:
        lines.append(f"{NOTE_LABEL}: {payload['interaction_note']}")
    if payload.get("source") is not None:
        lines.append(f"Sumber: {payload['source']}")
    return "\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return cut + "…"


def interaction_note(result: SopResult) -> str:
    """One line for the solution summary the SOP pages ask agents to write in IRMA MyCX:
    the case, the first step given, the escalation and the ticket's KIP, taken from the
    result as is (nothing added that the page does not say). A part that no longer fits in
    :data:`NOTE_MAX_CHARS` is left out whole rather than cut."""
    uncertain = result.uncertain or result.case_id.endswith(".tidak_tercakup")
    ending = " Konfirmasi ke TL." if uncertain else ""
    note = f"{result.title}."
    if result.steps:
        note += f" Solusi: {result.steps[0].rstrip('.')}."
    note = _shorten(" ".join(note.split()), NOTE_MAX_CHARS - len(ending))
    extras: List[str] = []
    if result.escalation:
        extras.append(f"Eskalasi: {result.escalation.rstrip('.')}.")
    if result.ticket is not None and result.ticket.kip:
        extras.append(f"Tiket KIP {result.ticket.kip}.")
    for extra in extras:
        candidate = f"{note} {' '.join(extra.split())}"
        if len(candidate) + len(ending) <= NOTE_MAX_CHARS:
            note = candidate
    return note + ending


def result_payload(result: SopResult) -> Dict[str, Any]:
    payload = result.as_payload()
    if result.ticket is not None:
        payload["ticket_text"] = ticket_text(result.ticket)
    # fields beyond the contract, used by the channels and the analytics
    payload["interaction_note"] = interaction_note(result)
    payload["uncertain"] = bool(result.uncertain)
    return payload
