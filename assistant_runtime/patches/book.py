"""The one bookkeeping of the runtime patches: what each patch replaced, so that uninstalling
puts Rasa back exactly as it was (tests and ``bench/ab.py`` switch patches in one process)."""

from __future__ import annotations

from typing import Any, Callable, Collection, List, Tuple


def target_of(owner: Any, attribute: str) -> str:
    """``module:Qualified.name`` of ``owner.attribute``, as :mod:`.registry` spells targets."""
    if isinstance(owner, type):
        return f"{owner.__module__}:{owner.__qualname__}.{attribute}"
    return f"{getattr(owner, '__name__', type(owner).__name__)}:{attribute}"


class Patcher:
    """What one patch's installer may do; every change is recorded under the patch's name."""

    def __init__(self, book: PatchBook, name: str) -> None:
        self._book = book
        self.name = name

    def replace(self, owner: Any, attribute: str, value: Any) -> None:
        # a class's own __dict__ entry keeps a classmethod/staticmethod as it was defined
        own = vars(owner).get(attribute) if isinstance(owner, type) else None
        before = own if own is not None else getattr(owner, attribute)
        setattr(owner, attribute, value)
        self._book.record(
            self.name, target_of(owner, attribute), lambda: setattr(owner, attribute, before)
        )

    def listen(self, target: Any, event: str, listener: Callable[..., Any]) -> None:
        """A SQLAlchemy event listener, removed again on uninstall."""
        import sqlalchemy as sa

        sa.event.listen(target, event, listener)
        self._book.record(self.name, "", lambda: sa.event.remove(target, event, listener))


class PatchBook:
    def __init__(self) -> None:
        self._entries: List[Tuple[str, str, Callable[[], None]]] = []  # (patch, target, undo)

    def patcher(self, name: str) -> Patcher:
        return Patcher(self, name)

    def record(self, name: str, target: str, undo: Callable[[], None]) -> None:
        self._entries.append((name, target, undo))

    def undo(self, names: Collection[str]) -> None:
        """Undoes what the named patches changed, latest first."""
        kept: List[Tuple[str, str, Callable[[], None]]] = []
        for entry in reversed(self._entries):
            if entry[0] in names:
                entry[2]()
            else:
                kept.append(entry)
        self._entries = kept[::-1]

    def replaced(self) -> List[Tuple[str, str]]:
        """``(patch name, target)`` of every attribute replaced now, in order."""
        return [(name, target) for name, target, _ in self._entries if target]
