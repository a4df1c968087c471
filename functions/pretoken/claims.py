"""The official's agency scope copied into the access token of a pre token generation event (V2_0).

Cognito writes custom attributes into ID tokens only; the API (chalicelib/auth/tokens.py) takes the
grant's scope from custom:agency and the roles from cognito:groups, which both tokens already carry.
With this rule API clients can send the access token. The ID token is left as Cognito builds it.
Nothing an event holds can make it raise: a user without the attribute, or with a value that is not
a scope, gets no claim (and so no grants).
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.auth.permissions import NATIONAL
from chalicelib.auth.tokens import AGENCY_CLAIM
from functions.observability import logger

AGENCY_CODE = re.compile(r"[A-Z][A-Z0-9-]{1,15}")  # e.g. "P01"; always matched whole (fullmatch)
ACCESS_TOKEN_VERSIONS = frozenset({"2", "3"})  # a V1_0 event cannot customise the access token


def is_scope(value: Any) -> bool:
    return isinstance(value, str) and (value == NATIONAL or AGENCY_CODE.fullmatch(value) is not None)


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def add_scope_to_access_token(event: dict[str, Any]) -> dict[str, Any]:
    """The event with custom:agency added to the access token's claims, when the user has a valid one.

    The event is changed by one assignment at the end, so a failure part-way leaves it as Cognito sent it.
    """
    if str(event.get("version")) not in ACCESS_TOKEN_VERSIONS:
        logger.warning("Not a V2_0 event: the access token is left as is", extra={"version": event.get("version")})
        return event
    request = _dict(event.get("request"))
    raw = _dict(request.get("userAttributes")).get(AGENCY_CLAIM)
    scope = raw.strip() if isinstance(raw, str) else raw  # the API strips it too (principal_from_claims)
    if scope is None or scope == "":
        return event  # no agency yet: no claim, and the API grants nothing
    if not is_scope(scope):
        logger.warning(
            "Refused a custom:agency value that is not a scope; no claim added",
            extra={"value": repr(raw)[:40], "trigger": event.get("triggerSource")},
        )
        return event
    response = _dict(event.get("response"))
    details = _dict(response.get("claimsAndScopeOverrideDetails"))
    access = _dict(details.get("accessTokenGeneration"))
    access["claimsToAddOrOverride"] = {**_dict(access.get("claimsToAddOrOverride")), AGENCY_CLAIM: scope}
    details["accessTokenGeneration"] = access
    # The Cognito guide: an empty or missing group override suppresses the groups; "to leave the existing
    # group configuration as is, copy the value of the request's groupConfiguration". cognito:groups are the roles.
    groups = request.get("groupConfiguration")
    if isinstance(groups, dict) and "groupOverrideDetails" not in details:
        details["groupOverrideDetails"] = groups
    event["response"] = {**response, "claimsAndScopeOverrideDetails": details}
    return event
