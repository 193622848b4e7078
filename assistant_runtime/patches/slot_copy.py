"""A tracker's slots copied without ``copy.copy``'s generic path.

Speed only, same answers (docs/benchmarks.md); selected by ``ASSISTANT_SPEEDUPS``.

``slotcopy`` -- copy a tracker's slots without ``copy.copy``'s generic machinery.
    Every ``DialogueStateTracker`` copies each slot of the domain (``copy.copy(slot)``,
    rasa/shared/core/trackers.py), and Rasa creates many trackers per message (reading the
    conversation, the rule policy's prior states, the form's temporary trackers): with this
    assistant's 60 slots, 8 % of the server's CPU went to ``copy._reconstruct``. For an
    ordinary object ``copy.copy`` makes a new instance of the class and copies its
    ``__dict__``; the patch does exactly that directly for objects whose class does not
    customise copying (``__copy__``, ``__reduce__``/``__reduce_ex__``, ``__getstate__``,
    ``__setstate__``, ``__slots__``) and leaves every other object to ``copy.copy``. Only
    the ``copy`` name inside rasa/shared/core/trackers.py is affected.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from assistant_runtime.patches.book import Patcher

_COPY_HOOKS = ("__copy__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__")
_plain_classes: Dict[type, bool] = {}


def _copies_plainly(cls: type) -> bool:
    """True when ``copy.copy`` of an instance is: new instance, same ``__dict__`` items.

    That is ``copy``'s default path (``object.__reduce_ex__``) for a class that defines none
    of the copy hooks and no named ``__slots__`` (an empty ``__slots__``, as ``abc.ABC``
    has, adds no state)."""
    plain = _plain_classes.get(cls)
    if plain is None:
        plain = not any(
            attribute in vars(klass)
            for klass in cls.__mro__
            if klass is not object
            for attribute in _COPY_HOOKS
        ) and not any(vars(klass).get("__slots__") for klass in cls.__mro__)
        _plain_classes[cls] = plain
    return plain


def shallow_copy(value: Any) -> Any:
    """``copy.copy(value)``, without its generic path for plain objects."""
    import copy

    cls: Any = type(value)
    if _copies_plainly(cls) and isinstance(getattr(value, "__dict__", None), dict):
        duplicate = cls.__new__(cls)
        duplicate.__dict__.update(value.__dict__)
        return duplicate
    return copy.copy(value)


class _CopyModule:
    """Stands in for the ``copy`` module inside rasa/shared/core/trackers.py."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.copy = shallow_copy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def install_slot_copy(patcher: Patcher) -> None:
    import rasa.shared.core.trackers as trackers

    patcher.replace(trackers, "copy", _CopyModule(trackers.copy))


INSTALLERS: Dict[str, Callable[[Patcher], None]] = {
    "slotcopy": install_slot_copy,
}
