"""Administrative actions without an HTTP route yet (seeding, operators' scripts): publish a survey version."""

from __future__ import annotations

from typing import Any

from chalicelib import wiring
from chalicelib.contracts import validator
from chalicelib.domain.errors import InvalidDefinition
from chalicelib.domain.survey import Survey


def check_definition(definition: dict[str, Any]) -> Survey:
    """Validate against schemas/survey.schema.json and the rules a schema cannot say (unique ids, scored items)."""
    from fastjsonschema import JsonSchemaValueException

    try:
        validator("survey")(definition)
    except JsonSchemaValueException as exc:
        raise InvalidDefinition(
            field="/" + "/".join(str(p) for p in exc.path[1:]), details=[{"message": exc.message}]
        ) from None
    return Survey.from_definition(definition)


def publish_survey(definition: dict[str, Any]) -> Survey:
    survey = check_definition(definition)
    wiring.surveys().put(definition)
    return survey
