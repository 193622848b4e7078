"""Action server answers validated with a schema checked once.

Speed only, same answers (docs/benchmarks.md); selected by ``ASSISTANT_SPEEDUPS``.

``schema`` -- validate action server answers with a validator built once.
    ``RemoteAction._validate_action_result`` (rasa/core/actions/action.py) calls
    ``jsonschema.validate(result, schema)`` on every answer of the action server, and
    ``jsonschema.validate`` first checks the schema itself against the JSON-Schema meta-schema
    (``check_schema``). For Rasa's large event schema that check is most of the work: a
    profile (py-spy) of this assistant's Rasa server under load showed 54 % of its CPU time
    in ``check_schema``. The patch checks the schema once and keeps the validator. What is
    left is validating the events themselves against a ``oneOf`` of 23 event types (about
    1 ms per event; ``action_start_case`` returns 60 of them), so valid answers take a fast
    path that validates each event against its own type only (see
    :class:`_ResponseValidators` for why that is exact); anything else goes through the
    full validator as ``jsonschema.validate`` does (same validator class, same ``best_match``
    error, same message suffix as Rasa's), so invalid answers fail exactly as before.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from assistant_runtime.patches.book import Patcher


class _ResponseValidators:
    """The full validator of Rasa's action response schema, checked once, plus a fast path.

    The event schema is ``oneOf`` 23 event types, each pinned by ``event: {const: ...}``, so
    an event can only ever match the branch of its own ``event`` value. The fast path
    validates the answer without its events, then each event against the base event schema
    plus its own branch only. When that passes, the full schema passes too (exactly one
    branch can match); in every other case -- unknown event type, a schema without
    ``const`` per branch, any error -- the full validator decides and reports, so accepted
    and refused answers and their error messages are exactly Rasa's.
    """

    def __init__(self, schema: Dict[str, Any]) -> None:
        from jsonschema.validators import validator_for

        validator_class = validator_for(schema)
        validator_class.check_schema(schema)  # once, instead of on every answer
        self.full = validator_class(schema)
        self.without_events: Any = None
        self.per_type: Dict[str, Any] = {}
        properties = schema.get("properties", {})
        events = properties.get("events", {})
        event = events.get("items", {})
        branches = event.get("oneOf")
        if events.get("type") != "array" or not isinstance(branches, list):
            return
        base = {k: v for k, v in event.items() if k != "oneOf"}
        per_type: Dict[str, Any] = {}
        for branch in branches:
            const = branch.get("properties", {}).get("event", {}).get("const")
            if not isinstance(const, str) or const in per_type:
                return  # not dispatchable by type: always use the full validator
            per_type[const] = validator_class({**base, "allOf": [branch]})
        outer = {**schema, "properties": {**properties, "events": {"type": "array"}}}
        self.without_events = validator_class(outer)
        self.per_type = per_type

    def fast_valid(self, result: Any) -> bool:
        if self.without_events is None or not self.without_events.is_valid(result):
            return False
        for event in result.get("events", []) if isinstance(result, dict) else []:
            kind = event.get("event") if isinstance(event, dict) else None
            validator = self.per_type.get(kind) if isinstance(kind, str) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True


def install_cached_response_validation(patcher: Patcher) -> None:
    from jsonschema import ValidationError, exceptions
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    cache: Dict[str, _ResponseValidators] = {}

    def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
        if "validators" not in cache:
            cache["validators"] = _ResponseValidators(RemoteAction.action_response_format_spec())
        validators = cache["validators"]
        if validators.fast_valid(result):
            return True
        error = exceptions.best_match(validators.full.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    patcher.replace(RemoteAction, "_validate_action_result", _validate_action_result)


INSTALLERS: Dict[str, Callable[[Patcher], None]] = {
    "schema": install_cached_response_validation,
}
