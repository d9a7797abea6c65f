"""Speed-ups for Rasa 3.6 internals, installed in the Rasa process by ``bot.rasa_server``.

Each one replaces a single attribute of Rasa and keeps its behaviour; tests/perf checks that
Rasa still has the code each replacement assumes, so an upgrade that changes it fails loudly.

* **Action responses validated with a compiled validator.** Rasa 3.6's
  ``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result, schema)`` on every
  custom action's response. ``jsonschema.validate`` first checks the *schema* against the JSON
  Schema meta-schema (``check_schema``) and builds a new validator — ~90 ms per call here, for a
  schema that never changes (``action_response_format_spec`` is a constant). The replacement
  checks each schema once, keeps its validator and validates only the response (~2 ms). An
  invalid response still raises the same ``jsonschema.ValidationError`` (the best match, as
  ``validate`` picks it) with Rasa's hint appended.
"""

from __future__ import annotations

import json
import logging
from typing import Any

logger = logging.getLogger(__name__)

_validators: dict[str, Any] = {}


def _compiled(schema: dict[str, Any]) -> Any:
    """The validator of ``schema``, built (and the schema checked) once per distinct schema."""
    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _validators.get(key)
    if validator is None:
        from jsonschema.validators import validator_for

        cls = validator_for(schema)
        cls.check_schema(schema)
        validator = _validators[key] = cls(schema)
    return validator


_by_spec: dict[Any, Any] = {}


def _validator(action: Any) -> Any:
    """The compiled validator for ``action``'s response schema (one per schema function)."""
    spec = type(action).action_response_format_spec
    validator = _by_spec.get(spec)
    if validator is None:
        validator = _by_spec[spec] = _compiled(action.action_response_format_spec())
    return validator


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Drop-in for ``RemoteAction._validate_action_result`` (same errors, same hint)."""
    from jsonschema import exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    validator = _validator(self)
    if validator.is_valid(result):
        return True
    error = exceptions.best_match(validator.iter_errors(result))
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install_action_validation() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = validate_action_result


def install() -> None:
    """Every speed-up of this module (idempotent)."""
    install_action_validation()
