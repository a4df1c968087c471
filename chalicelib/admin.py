"""Operators' scripts and seeding: store a survey version as it is, without an official or an audit entry.

Officials publish through the console or the API (chalicelib/domain/authoring.py), which checks,
versions and audits every change; this stays for seeding the local stack and the tests.
"""

from __future__ import annotations

from typing import Any

from chalicelib import wiring
from chalicelib.domain.authoring import check_definition
from chalicelib.domain.survey import Survey

__all__ = ["check_definition", "publish_survey"]


def publish_survey(definition: dict[str, Any]) -> Survey:
    survey = check_definition(definition)
    wiring.surveys().put(definition)
    return survey
