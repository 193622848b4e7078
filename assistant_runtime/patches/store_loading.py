"""How Rasa builds the tracker store: no silent fall-back to memory.

``strict-store`` (``Agent._create_tracker_store``): stock wraps every store in
``FailSafeTrackerStore``, which on a database error saves to memory and reads "no
conversation"; :class:`assistant_runtime.tracker_store.StrictSQLTrackerStore` is used as it
is, so its failures reach the agent as the busy answer.

``store-type-import`` (``_load_from_module_name_in_endpoint_config``): a tracker store
``type`` that cannot be imported stops the server instead of silently using the in-memory
store.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from assistant_runtime.patches.book import Patcher


def install_strict_store(patcher: Patcher) -> None:
    from rasa.core.agent import Agent

    original_create = Agent._create_tracker_store

    def _create_tracker_store(store: Any, domain: Any) -> Any:
        from assistant_runtime.tracker_store import StrictSQLTrackerStore

        if isinstance(store, StrictSQLTrackerStore):
            store.domain = domain
            return store  # no FailSafeTrackerStore: failures must surface
        return original_create(store, domain)

    patcher.replace(Agent, "_create_tracker_store", staticmethod(_create_tracker_store))


def install_store_type_import(patcher: Patcher) -> None:
    import rasa.core.tracker_store as tracker_store_module
    import rasa.shared.utils.common
    from rasa.shared.exceptions import RasaException

    def _load_from_module_name_in_endpoint_config(
        domain: Any, store: Any, event_broker: Any = None
    ) -> Any:
        try:
            store_class = rasa.shared.utils.common.class_from_module_path(store.type)
        except (AttributeError, ImportError) as error:
            raise RasaException(
                f"tracker store: type '{store.type}' cannot be imported ({error}); "
                "refusing to fall back to the in-memory store. Start the server from the "
                "project root (PYTHONPATH) or fix the endpoints file."
            ) from error
        return store_class(host=store.url, domain=domain, event_broker=event_broker, **store.kwargs)

    patcher.replace(
        tracker_store_module,
        "_load_from_module_name_in_endpoint_config",
        _load_from_module_name_in_endpoint_config,
    )


INSTALLERS: Dict[str, Callable[[Patcher], None]] = {
    "strict-store": install_strict_store,
    "store-type-import": install_store_type_import,
}
