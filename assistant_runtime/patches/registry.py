"""The one registry of the Rasa attributes the runtime replaces, and the Rasa version they
were written for.

Each :class:`Patch` names the replaced Rasa attribute, the concern module whose
``INSTALLERS[name]`` replaces it, why, the test proving the patched Rasa answers as stock Rasa
does, and the SHA-256 of the Rasa source it was written against.
``tests/unit/test_rasa_seam.py`` fails when an installer replaces something not registered
here (or the reverse), when a named test is gone, and when the Rasa source under a patch
changed: after an upgrade its failure is the to-do list.

Plain data, no Rasa import at module level: reading it patches nothing.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Optional, Tuple

PINNED_RASA_VERSION = "3.6.21"

# kinds: FAILURE patches are always installed (what the agent sees when a dependency fails);
# SPEED patches give the same answers with less CPU and are selected by ASSISTANT_SPEEDUPS
FAILURE = "failure"
SPEED = "speed"


class UnsupportedRasaVersion(RuntimeError):
    pass


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
            "(assistant_runtime/patches/registry.py)."
        )


@dataclass(frozen=True)
class Patch:
    name: str  # the installer's name (ASSISTANT_SPEEDUPS names the SPEED ones)
    kind: str  # FAILURE or SPEED
    target: str  # "module:Qualified.name" of the replaced Rasa attribute
    module: str  # the concern module whose INSTALLERS[name] replaces it
    why: str
    equality_test: str  # pytest node id proving the patched behaviour equals stock Rasa's
    source_sha256: str  # of the watched Rasa source, as written against
    watched: str = ""  # the Rasa source the patch depends on, when not the target itself

    def watched_target(self) -> str:
        return self.watched or self.target


_PKG = "assistant_runtime.patches."
_SPEED_TESTS = "tests/reliability/test_speedups.py::"
_UNIT_TESTS = "tests/reliability/test_runtime_units.py::"

PATCHES: Tuple[Patch, ...] = (
    # -- failure handling: the agent sees a busy answer, never an empty reply --
    Patch(
        "busy-action-server",
        FAILURE,
        "rasa.core.actions.action:RemoteAction.run",
        _PKG + "action_calls",
        "action server down or slow: busy answer and the turn undone, not an empty 200",
        _UNIT_TESTS + "test_unreachable_action_server_becomes_busy_answer_and_undone_turn",
        "ccabf6f1160d527a157fad5bd285ce69e8221b1bcad23f8a61499b4360a1c17e",
    ),
    Patch(
        "guarded-action",
        FAILURE,
        "rasa.core.processor:MessageProcessor._run_action",
        _PKG + "action_calls",
        "an action that raises ActionServerUnavailable ends the turn with the busy answer",
        _UNIT_TESTS + "test_slow_action_server_times_out_at_the_endpoint_timeout",
        "6d383d0179ef1187639887289168959a5a82f94e6949e4e27bb83b2165094995",
    ),
    Patch(
        "one-truth-per-turn",
        FAILURE,
        "rasa.core.agent:Agent.handle_message",
        _PKG + "agent_turn",
        "store failure -> busy answer alone; a resent message gets the saved reply",
        "tests/reliability/test_turns_units.py::"
        "test_a_new_message_is_answered_as_stock_rasa_answers_it",
        "ba53507e4d5532a38d3615aa1968deba6a8086e4fb9601b1526749b132c06308",
    ),
    Patch(
        "strict-store",
        FAILURE,
        "rasa.core.agent:Agent._create_tracker_store",
        _PKG + "store_loading",
        "the strict SQL store is not wrapped into the fail-safe in-memory store",
        _UNIT_TESTS + "test_strict_sqlite_store_raises_instead_of_falling_back",
        "97499b594b45581b2c6d8ff7adb9083af24eba85654995a40350de65633ca574",
    ),
    Patch(
        "store-type-import",
        FAILURE,
        "rasa.core.tracker_store:_load_from_module_name_in_endpoint_config",
        _PKG + "store_loading",
        "a tracker store type that cannot be imported stops the server (no in-memory store)",
        "tests/reliability/test_failures.py::"
        "test_stores_down_at_start_stop_the_server_with_a_clear_error",
        "ffd9d0b30fd73ea8a017bb01d2af49a8c25c0c3e5bf13f6787756c39351c870b",
    ),
    # -- speed (docs/benchmarks.md): same answers, less CPU --
    Patch(
        "schema",
        SPEED,
        "rasa.core.actions.action:RemoteAction._validate_action_result",
        _PKG + "response_validation",
        "jsonschema meta-schema check once instead of on every action server answer",
        _SPEED_TESTS + "test_schema_patch_accepts_and_refuses_exactly_like_rasa",
        "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42",
    ),
    Patch(
        "keepalive",
        SPEED,
        "rasa.utils.endpoints:EndpointConfig.session",
        _PKG + "http_session",
        "one HTTP session per endpoint and loop instead of a new connection per call",
        _SPEED_TESTS + "test_keepalive_reuses_one_connection_and_closes",
        "e55aa13d9d4fb4bc440ac33b870a97ee162b76dda7ccb6bf68433567475fdffb",
    ),
    Patch(
        "keepalive",
        SPEED,
        "rasa.core.run:close_resources",
        _PKG + "http_session",
        "closes the shared sessions when the server stops",
        _SPEED_TESTS + "test_keepalive_reuses_one_connection_and_closes",
        "bc3d36e8149e84cd906082694203f0f78bbdb09544be8753af472ff59cc284e9",
    ),
    Patch(
        "formcache",
        SPEED,
        "rasa.core.actions.forms:FormAction._create_unique_entity_mappings",
        _PKG + "form_mappings",
        "the form's unique entity mappings computed once per domain",
        _SPEED_TESTS + "test_formcache_returns_rasas_mappings_and_computes_once",
        "ee4657bb319daa68ae6ebb0ad78afbc3ae0aabdb216ead3a5f90f9b7871d0cf0",
    ),
    Patch(
        "fastload",
        SPEED,
        "rasa.utils.tensorflow.models:RasaModel.load",
        _PKG + "model_loading",
        "TensorFlow models loaded without a training step",
        _SPEED_TESTS + "test_fastload_and_graphrun_give_identical_parses",
        "84fd81c0fdd01a8048de2d9b5b3022bdbf1e155f7b4d67737eb51ecb0787d292",
    ),
    Patch(
        "sqlfetch",
        SPEED,
        "rasa.core.tracker_store:SQLTrackerStore._retrieve",
        _PKG + "sql_tracker_store",
        "one query for a conversation's events",
        _SPEED_TESTS + "test_sqlfetch_reads_the_same_tracker",
        "c8adbf6f4b61ddd1124690944ebdf2ebc82d0723bd07c6704caab0b80120a0ef",
    ),
    Patch(
        "sqlinsert",
        SPEED,
        "rasa.core.tracker_store:SQLTrackerStore.save",
        _PKG + "sql_tracker_store",
        "new events inserted in one statement",
        _SPEED_TESTS + "test_sql_patches_store_exactly_the_rows_rasa_stores",
        "57165e46eab3de0866e77f03df0bf7fd5eac2c1de617ed431b934c9a4edfeef6",
    ),
    Patch(
        "savecount",
        SPEED,
        "rasa.core.tracker_store:SQLTrackerStore._additional_events",
        _PKG + "sql_tracker_store",
        "new events found by count instead of re-reading the stored ones",
        _SPEED_TESTS + "test_sql_patches_store_exactly_the_rows_rasa_stores",
        "d22f99eb863acb07afee63d9fe3a04ca8464251e67a43eb7d36c2d65ffc1653f",
    ),
    Patch(
        "eventtypes",
        SPEED,
        "rasa.shared.core.events:Event.resolve_by_type",
        _PKG + "event_types",
        "event class by type name from a cache instead of walking all subclasses",
        _SPEED_TESTS + "test_eventtypes_resolves_every_event_like_rasa",
        "b5cf570fa7f286c7059ec73d8880528d03a78b28cf4e80285a46079c0fa65968",
    ),
    Patch(
        "graphrun",
        SPEED,
        "rasa.engine.runner.dask:DaskGraphRunner.run",
        _PKG + "graph_runner",
        "the inference graph run in order without dask",
        _SPEED_TESTS + "test_graphrun_gives_dasks_results_and_errors",
        "45f0f52f574f3aa9546a552bf671183e171092c18b66e97f5771a7fa295de37e",
    ),
    Patch(
        "slotcopy",
        SPEED,
        "rasa.shared.core.trackers:copy",
        _PKG + "slot_copy",
        "slots copied without copy.copy's generic path",
        _SPEED_TESTS + "test_slotcopy_copies_every_slot_like_copy_copy",
        "33eababde59f2ef873e27bd13cfd7842e1e2df07e09f17ebd6521d323a547e50",
        # the module's every use of copy.copy is what the replacement stands in for
        watched="rasa.shared.core.trackers",
    ),
    Patch(
        "sqlitewal",
        SPEED,
        "rasa.core.tracker_store:create_engine_kwargs",
        _PKG + "sql_tracker_store",
        "SQLite in WAL mode with pooled connections",
        _SPEED_TESTS + "test_sqlitewal_pools_connections_and_keeps_conversations",
        "dff5f092362096da88a6e62b71480d3d085fd321fef756b53fc822ab31526faa",
    ),
)


def names(kind: Optional[str] = None) -> Tuple[str, ...]:
    """Patch names in registry order (installation order), of one kind or all."""
    found = [p.name for p in PATCHES if kind is None or p.kind == kind]
    return tuple(dict.fromkeys(found))


def module_of(name: str) -> str:
    return next(p.module for p in PATCHES if p.name == name)


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
