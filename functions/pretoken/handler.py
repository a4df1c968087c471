"""Pre token generation trigger (Cognito, event V2_0): custom:agency into the ACCESS token (functions/pretoken/claims.py).

Cognito calls this synchronously on every sign-in and token refresh, and an error here fails the
sign-in, so: standard library and Powertools only, no I/O, and never an exception out of it.
"""

from __future__ import annotations

from typing import Any

from functions.observability import logger
from functions.pretoken.claims import add_scope_to_access_token


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return add_scope_to_access_token(event)
    except Exception:  # never fail a sign-in over this claim: without it the API just grants nothing
        logger.exception("Pre token generation failed; the tokens are issued without the agency claim")
        return event
