"""The form's unique entity mappings computed once per domain.

Speed only, same answers (docs/benchmarks.md); selected by ``ASSISTANT_SPEEDUPS``.

``formcache`` -- compute the form's unique entity mappings once per domain.
    While a form is active, ``action_extract_slots`` asks for every ``from_entity`` mapping
    of every slot whether it is unique to the form
    (``ActionExtractSlots._fails_unique_entity_mapping_check``); each check builds a new
    ``FormAction`` whose ``_create_unique_entity_mappings`` serialises the whole domain
    (``domain.as_dict()``) and every mapping again -- for this assistant's 60 slots, 8 % of
    the Rasa server's CPU. The result depends only on the domain and the form, so the patch
    keeps it on the domain object (a new model brings a new domain, hence a new cache).
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from assistant_runtime.patches.book import Patcher


def install_form_mapping_cache(patcher: Patcher) -> None:
    from rasa.core.actions.forms import FormAction

    original = FormAction._create_unique_entity_mappings

    def _create_unique_entity_mappings(self: Any, domain: Any) -> Any:
        cache = domain.__dict__.setdefault("_patch_unique_entity_mappings", {})
        if self.name() not in cache:
            cache[self.name()] = original(self, domain)
        return cache[self.name()]

    patcher.replace(FormAction, "_create_unique_entity_mappings", _create_unique_entity_mappings)


INSTALLERS: Dict[str, Callable[[Patcher], None]] = {
    "formcache": install_form_mapping_cache,
}
