"""The short Indonesian "system busy" answer the agent gets instead of an empty reply.

The text is the domain response ``utter_action_unavailable`` (domain.yml); the constant
below is only used when a domain lacks it.

For connectors (channels/): when a turn raised and nothing was collected, answer with
:func:`busy_messages` instead of an empty list, e.g.::

    from assistant_runtime.busy import busy_messages
    messages = collector.messages or busy_messages(sender)
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

BUSY_RESPONSE = "utter_action_unavailable"
FALLBACK_BUSY_TEXT = "Maaf, sistem sedang sibuk. Coba kirim lagi sebentar lagi."


def busy_text(domain: Optional[Any] = None) -> str:
    """The first text variant of ``utter_action_unavailable`` in ``domain``, else the
    built-in constant."""
    responses = getattr(domain, "responses", None) or {}
    for variant in responses.get(BUSY_RESPONSE, []) or []:
        text = variant.get("text") if isinstance(variant, dict) else None
        if text:
            return str(text)
    return FALLBACK_BUSY_TEXT


def busy_messages(recipient_id: str, domain: Optional[Any] = None) -> List[Dict[str, Any]]:
    """REST-style reply list with the busy message, for a connector's error path."""
    return [{"recipient_id": recipient_id, "text": busy_text(domain)}]
