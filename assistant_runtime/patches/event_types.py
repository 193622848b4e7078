"""Event classes looked up by name in a dictionary.

Speed only, same answers (docs/benchmarks.md); selected by ``ASSISTANT_SPEEDUPS``.

``eventtypes`` -- look event classes up by name in a dictionary.
    ``Event.resolve_by_type`` (rasa/shared/core/events.py) walks every subclass of ``Event``
    (``all_subclasses``, recursively) to find the class of one event name; it runs for every
    event of every conversation read from the tracker store and of every action server
    answer: 6 % of the server's CPU under load. The patch remembers the classes it found by
    name; a name not found yet (unknown names, ``topic``, a default) goes to Rasa's function,
    so errors and fallbacks are unchanged.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from assistant_runtime.patches.book import Patcher


def install_event_type_cache(patcher: Patcher) -> None:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    found: Dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = found.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    patcher.replace(Event, "resolve_by_type", staticmethod(resolve_by_type))


INSTALLERS: Dict[str, Callable[[Patcher], None]] = {
    "eventtypes": install_event_type_cache,
}
