"""The seam between this assistant and Rasa's internals: the pinned Rasa version and the one
registry of every Rasa function the runtime replaces.

Rasa 3.6 offers no extension point for these (docs/ARCHITECTURE.md, "The Rasa seam"), so they
are patched, and a patch is only correct for the source it was written against. Hence:

* :func:`check_rasa_version` -- the servers refuse to start on any Rasa but
  :data:`PINNED_RASA_VERSION` (``python -m assistant_runtime`` calls it before anything is
  patched, :func:`assistant_runtime.hooks.install` again as a guard);
* :data:`PATCHES` -- every replaced Rasa attribute: where the replacement lives, why it
  exists, the test that proves it answers as stock Rasa does, and the SHA-256 of the Rasa
  source it was written against. ``tests/unit/test_rasa_seam.py`` fails when an installed
  patch is missing here, when a named test no longer exists, and when the Rasa source under
  a patch changed: after an upgrade its failure is the to-do list.

Plain data, no Rasa import at module level: reading it patches nothing.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Dict, List, Optional, Tuple

PINNED_RASA_VERSION = "3.6.21"

logger = logging.getLogger(__name__)


class UnsupportedRasaVersion(RuntimeError):
    pass


def warn_without_hooks(component: str) -> None:
    """The strict stores rely on the hooks (no fail-safe wrapper, the busy answer), which
    only the server entry point installs: building a store must not patch the process."""
    hooks = sys.modules.get("assistant_runtime.hooks")
    if hooks is None or not hooks.is_installed():
        logger.warning(
            "%s: the assistant_runtime hooks are not installed (start the server with "
            "`python -m assistant_runtime run`); a store failure will not get the busy answer",
            component,
        )


def installed_rasa_version() -> str:
    return metadata.version("rasa")


def check_rasa_version(found: Optional[str] = None) -> None:
    """Raises :class:`UnsupportedRasaVersion` unless Rasa is the pinned version."""
    version = installed_rasa_version() if found is None else found
    if version != PINNED_RASA_VERSION:
        raise UnsupportedRasaVersion(
            f"Rasa {version} is installed, but the runtime patches of assistant_runtime "
            f"were written for Rasa {PINNED_RASA_VERSION} only, so the server does not start. "
            f"Install rasa=={PINNED_RASA_VERSION} (`make setup`), or, to upgrade Rasa, run "
            "`pytest tests/unit/test_rasa_seam.py` and follow the list it prints "
            "(assistant_runtime/rasa_seam.py)."
        )


@dataclass(frozen=True)
class Patch:
    name: str  # speedup name (ASSISTANT_SPEEDUPS) or hook name
    target: str  # "module:Qualified.name" of the replaced Rasa attribute
    module: str  # where the replacement lives
    why: str
    equality_test: str  # pytest node id proving the patched behaviour equals stock Rasa's
    source_sha256: str  # of the watched Rasa source, as written against
    watched: str = ""  # the Rasa source the patch depends on, when not the target itself

    def watched_target(self) -> str:
        return self.watched or self.target


_SPEED = "assistant_runtime/speedups.py"
_HOOKS = "assistant_runtime/hooks.py"
_SPEED_TESTS = "tests/reliability/test_speedups.py::"
_UNIT_TESTS = "tests/reliability/test_runtime_units.py::"

PATCHES: Tuple[Patch, ...] = (
    # -- failure handling (hooks.py): the agent sees a busy answer, never an empty reply --
    Patch(
        "busy-action-server",
        "rasa.core.actions.action:RemoteAction.run",
        _HOOKS,
        "action server down or slow: busy answer and the turn undone, not an empty 200",
        _UNIT_TESTS + "test_unreachable_action_server_becomes_busy_answer_and_undone_turn",
        "ccabf6f1160d527a157fad5bd285ce69e8221b1bcad23f8a61499b4360a1c17e",
    ),
    Patch(
        "guarded-action",
        "rasa.core.processor:MessageProcessor._run_action",
        _HOOKS,
        "an action that raises ActionServerUnavailable ends the turn with the busy answer",
        _UNIT_TESTS + "test_slow_action_server_times_out_at_the_endpoint_timeout",
        "6d383d0179ef1187639887289168959a5a82f94e6949e4e27bb83b2165094995",
    ),
    Patch(
        "strict-store",
        "rasa.core.agent:Agent._create_tracker_store",
        _HOOKS,
        "the strict SQL store is not wrapped into the fail-safe in-memory store",
        _UNIT_TESTS + "test_strict_sqlite_store_raises_instead_of_falling_back",
        "97499b594b45581b2c6d8ff7adb9083af24eba85654995a40350de65633ca574",
    ),
    Patch(
        "one-truth-per-turn",
        "rasa.core.agent:Agent.handle_message",
        _HOOKS,
        "store failure -> busy answer alone; a resent message gets the saved reply",
        "tests/reliability/test_turns_units.py::"
        "test_a_new_message_is_answered_as_stock_rasa_answers_it",
        "ba53507e4d5532a38d3615aa1968deba6a8086e4fb9601b1526749b132c06308",
    ),
    Patch(
        "store-type-import",
        "rasa.core.tracker_store:_load_from_module_name_in_endpoint_config",
        _HOOKS,
        "a tracker store type that cannot be imported stops the server (no in-memory store)",
        "tests/reliability/test_failures.py::"
        "test_stores_down_at_start_stop_the_server_with_a_clear_error",
        "ffd9d0b30fd73ea8a017bb01d2af49a8c25c0c3e5bf13f6787756c39351c870b",
    ),
    Patch(
        "routes",
        "rasa.server:add_root_route",
        _HOOKS,
        "GET /health, the /ops/ page and log masking on Rasa's Sanic app",
        "tests/reliability/test_failures.py::test_health_reports_action_server_down_as_degraded",
        "acc5f7c278af32f8409cc50874afe80b4d603aa567f9d300b6ffe38a37148001",
    ),
    # -- speed (speedups.py, docs/benchmarks.md): same answers, less CPU --
    Patch(
        "schema",
        "rasa.core.actions.action:RemoteAction._validate_action_result",
        _SPEED,
        "jsonschema meta-schema check once instead of on every action server answer",
        _SPEED_TESTS + "test_schema_patch_accepts_and_refuses_exactly_like_rasa",
        "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42",
    ),
    Patch(
        "keepalive",
        "rasa.utils.endpoints:EndpointConfig.session",
        _SPEED,
        "one HTTP session per endpoint and loop instead of a new connection per call",
        _SPEED_TESTS + "test_keepalive_reuses_one_connection_and_closes",
        "e55aa13d9d4fb4bc440ac33b870a97ee162b76dda7ccb6bf68433567475fdffb",
    ),
    Patch(
        "keepalive",
        "rasa.core.run:close_resources",
        _SPEED,
        "closes the shared sessions when the server stops",
        _SPEED_TESTS + "test_keepalive_reuses_one_connection_and_closes",
        "bc3d36e8149e84cd906082694203f0f78bbdb09544be8753af472ff59cc284e9",
    ),
    Patch(
        "formcache",
        "rasa.core.actions.forms:FormAction._create_unique_entity_mappings",
        _SPEED,
        "the form's unique entity mappings computed once per domain",
        _SPEED_TESTS + "test_formcache_returns_rasas_mappings_and_computes_once",
        "ee4657bb319daa68ae6ebb0ad78afbc3ae0aabdb216ead3a5f90f9b7871d0cf0",
    ),
    Patch(
        "fastload",
        "rasa.utils.tensorflow.models:RasaModel.load",
        _SPEED,
        "TensorFlow models loaded without a training step",
        _SPEED_TESTS + "test_fastload_and_graphrun_give_identical_parses",
        "84fd81c0fdd01a8048de2d9b5b3022bdbf1e155f7b4d67737eb51ecb0787d292",
    ),
    Patch(
        "sqlfetch",
        "rasa.core.tracker_store:SQLTrackerStore._retrieve",
        _SPEED,
        "one query for a conversation's events",
        _SPEED_TESTS + "test_sqlfetch_reads_the_same_tracker",
        "c8adbf6f4b61ddd1124690944ebdf2ebc82d0723bd07c6704caab0b80120a0ef",
    ),
    Patch(
        "sqlinsert",
        "rasa.core.tracker_store:SQLTrackerStore.save",
        _SPEED,
        "new events inserted in one statement",
        _SPEED_TESTS + "test_sql_patches_store_exactly_the_rows_rasa_stores",
        "57165e46eab3de0866e77f03df0bf7fd5eac2c1de617ed431b934c9a4edfeef6",
    ),
    Patch(
        "savecount",
        "rasa.core.tracker_store:SQLTrackerStore._additional_events",
        _SPEED,
        "new events found by count instead of re-reading the stored ones",
        _SPEED_TESTS + "test_sql_patches_store_exactly_the_rows_rasa_stores",
        "d22f99eb863acb07afee63d9fe3a04ca8464251e67a43eb7d36c2d65ffc1653f",
    ),
    Patch(
        "eventtypes",
        "rasa.shared.core.events:Event.resolve_by_type",
        _SPEED,
        "event class by type name from a cache instead of walking all subclasses",
        _SPEED_TESTS + "test_eventtypes_resolves_every_event_like_rasa",
        "b5cf570fa7f286c7059ec73d8880528d03a78b28cf4e80285a46079c0fa65968",
    ),
    Patch(
        "graphrun",
        "rasa.engine.runner.dask:DaskGraphRunner.run",
        _SPEED,
        "the inference graph run in order without dask",
        _SPEED_TESTS + "test_graphrun_gives_dasks_results_and_errors",
        "45f0f52f574f3aa9546a552bf671183e171092c18b66e97f5771a7fa295de37e",
    ),
    Patch(
        "slotcopy",
        "rasa.shared.core.trackers:copy",
        _SPEED,
        "slots copied without copy.copy's generic path",
        _SPEED_TESTS + "test_slotcopy_copies_every_slot_like_copy_copy",
        "33eababde59f2ef873e27bd13cfd7842e1e2df07e09f17ebd6521d323a547e50",
        # the module's every use of copy.copy is what the replacement stands in for
        watched="rasa.shared.core.trackers",
    ),
    Patch(
        "sqlitewal",
        "rasa.core.tracker_store:create_engine_kwargs",
        _SPEED,
        "SQLite in WAL mode with pooled connections",
        _SPEED_TESTS + "test_sqlitewal_pools_connections_and_keeps_conversations",
        "dff5f092362096da88a6e62b71480d3d085fd321fef756b53fc822ab31526faa",
    ),
)


class PatchBook:
    """The bookkeeping of one installer module (hooks.py, speedups.py): what it replaced, in
    order, so that uninstall puts Rasa back exactly as it was."""

    def __init__(self) -> None:
        self.originals: List[Tuple[Any, str, Any]] = []  # (owner, attribute, value before)

    def replace(self, owner: Any, attribute: str, value: Any) -> None:
        # a class's own __dict__ entry keeps classmethods/staticmethods as they were defined
        own = vars(owner).get(attribute) if isinstance(owner, type) else None
        before = own if own is not None else getattr(owner, attribute)
        self.originals.append((owner, attribute, before))
        setattr(owner, attribute, value)


def resolve(target: str) -> Any:
    """The object a ``module:Qualified.name`` (or a bare module name) refers to, as Rasa
    defines it (class attributes read from the class ``__dict__``, so a staticmethod or
    classmethod is unwrapped to its function)."""
    module_name, _, qualname = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split(".") if qualname else []:
        raw = obj.__dict__[part] if isinstance(obj, type) and part in obj.__dict__ else None
        obj = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else getattr(obj, part)
    return obj


def source_sha256(target: str) -> str:
    return hashlib.sha256(inspect.getsource(resolve(target)).encode("utf-8")).hexdigest()


def by_target() -> Dict[str, Patch]:
    return {patch.target: patch for patch in PATCHES}
