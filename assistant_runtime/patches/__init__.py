"""Every replacement of a Rasa 3.6.21 internal, in one package (docs/ARCHITECTURE.md, "The
Rasa seam").

Rasa has no extension point for these, so they are patched, and a patch is only correct for
the source it was written against. The rules of this package:

* :mod:`.registry` lists every replaced Rasa attribute (name, target, why, the test proving
  it answers as stock Rasa does, the SHA-256 of the Rasa source) and pins the Rasa version;
* one module per concern, each with ``INSTALLERS`` (patch name -> installer). Failure
  handling, always installed: :mod:`.action_calls` (a failed or slow action server call:
  timeout, busy answer, turn undone), :mod:`.agent_turn` (one truth per turn: resends, a
  store failure answered busy alone), :mod:`.store_loading` (the strict tracker store not
  wrapped into the fail-safe one, a ``type`` that cannot be imported). Speed, same answers,
  selected by ``ASSISTANT_SPEEDUPS``: :mod:`.response_validation`, :mod:`.http_session`,
  :mod:`.form_mappings`, :mod:`.model_loading`, :mod:`.sql_tracker_store`,
  :mod:`.event_types`, :mod:`.graph_runner`, :mod:`.slot_copy`;
* :mod:`.book` is the one bookkeeping: every replacement is recorded under its patch's name,
  so :func:`uninstall` puts Rasa back as it was;
* only the server entry point (``python -m assistant_runtime``) calls :func:`install`, after
  its checks before start; importing this package or building a store patches nothing.

Importing this package imports no Rasa: the concern modules are imported by :func:`install`.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Iterable, List, Mapping, Optional, Tuple

from assistant_runtime.patches.book import PatchBook
from assistant_runtime.patches.registry import FAILURE, SPEED, check_rasa_version, module_of, names

logger = logging.getLogger(__name__)

FAILURE_PATCHES = names(FAILURE)
SPEED_PATCHES = names(SPEED)
SPEED_ENV = "ASSISTANT_SPEEDUPS"  # comma-separated speed patches, default all, "none" for none

_book = PatchBook()
_installed: List[str] = []


def selected(environ: Mapping[str, str] = os.environ) -> List[str]:
    """Every failure patch and the speed patches ``ASSISTANT_SPEEDUPS`` selects."""
    wanted = environ.get(SPEED_ENV, ",".join(SPEED_PATCHES))
    speed = [n.strip() for n in wanted.split(",") if n.strip() and n.strip() != "none"]
    return [*FAILURE_PATCHES, *speed]


def install(patch_names: Optional[Iterable[str]] = None) -> List[str]:
    """Installs the named patches (default :func:`selected`), each once, in registry order;
    returns every installed name. Refuses a Rasa other than the pinned one first."""
    check_rasa_version()
    wanted = selected() if patch_names is None else list(patch_names)
    known = names()
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ValueError(f"unknown patch {unknown[0]!r}; known: {', '.join(known)}")
    if "savecount" in wanted and "sqlfetch" not in wanted and "sqlfetch" not in _installed:
        raise ValueError("patch 'savecount' needs 'sqlfetch' (it counts what that reads)")
    for name in known:
        if name in wanted and name not in _installed:
            installer = importlib.import_module(module_of(name)).INSTALLERS[name]
            installer(_book.patcher(name))
            _installed.append(name)
    logger.debug("assistant_runtime patches installed: %s", ",".join(_installed) or "none")
    return installed()


def uninstall(patch_names: Optional[Iterable[str]] = None) -> None:
    """Puts back what the named patches (default all) replaced. Shared HTTP sessions stay
    open until :func:`.http_session.close_sessions`."""
    remove = set(names() if patch_names is None else patch_names)
    _book.undo(remove)
    _installed[:] = [name for name in _installed if name not in remove]


def installed() -> List[str]:
    return list(_installed)


def replaced() -> List[Tuple[str, str]]:
    """``(patch name, "module:Qualified.name")`` of every attribute replaced now."""
    return _book.replaced()


def is_installed() -> bool:
    """True when every failure patch is installed (what the strict stores rely on)."""
    return all(name in _installed for name in FAILURE_PATCHES)


def warn_unless_installed(component: str) -> None:
    """The strict stores rely on the failure patches (no fail-safe wrapper, the busy answer),
    which only the server entry point installs: building a store must not patch the process."""
    if not is_installed():
        logger.warning(
            "%s: the assistant_runtime patches are not installed (start the server with "
            "`python -m assistant_runtime run`); a store failure will not get the busy answer",
            component,
        )
