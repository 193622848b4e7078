"""Agent-facing text for an SOP result, and the copyable ticket.

Lines are separated by single newlines on purpose: Rasa's collecting output channel splits a
text on blank lines into several messages, and the answer must stay one message.
"""

from __future__ import annotations

from typing import Any, Dict, List

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
    lines: List[str] = []
    for warning in result.warnings:
        lines.append(f"⚠️ {warning}")
    lines.append(f"Hasil SOP: {result.title}")
    for number, step in enumerate(result.steps, start=1):
        lines.append(f"{number}. {step}")
    if result.escalation:
        lines.append(f"Eskalasi: {result.escalation}")
    if result.ticket is None:
        lines.append("Tiket: tidak perlu menurut SOP.")
    else:
        lines.append("Template tiket (salin):")
        lines.append(ticket_text(result.ticket))
        if result.ticket.missing:
            lines.append("Lengkapi manual: " + ", ".join(result.ticket.missing) + ".")
    lines.append(f"{NOTE_LABEL}: {interaction_note(result)}")
    lines.append(f"Sumber: {result.source}")
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
