"""Protected routes: one decorator authenticates the bearer token and checks the permission matrix.

The registry it fills is read by the OpenAPI document (which role may call what) and by the
generated route x role x scope test, so the three can never disagree.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from chalicelib.auth.tokens import Principal


class Protection(NamedTuple):  # not a dataclass: app.py imports this module, and its cold start counts
    permission: str
    agency_param: str | None  # the route parameter naming the agency the resource belongs to
    any_scope: bool = False  # the resource is the caller's own (e.g. who am I): any grant of the permission


PROTECTED: dict[str, Protection] = {}  # view function name -> its protection


def protected(
    permission: str, agency_param: str | None = None, any_scope: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view receives the verified Principal first; a missing/invalid token is 401, a missing grant 403."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        PROTECTED[view.__name__] = Protection(permission, agency_param, any_scope)

        @functools.wraps(view)
        def wrapped(**kwargs: Any) -> Any:
            from chalicelib.auth.permissions import NATIONAL

            principal = current_principal()
            if any_scope:
                principal.require(permission, principal.agency or NATIONAL)
            else:
                principal.require(permission, kwargs.get(agency_param) if agency_param else None)
            return view(principal, **kwargs)

        return wrapped

    return decorate


def current_principal() -> Principal:
    from app import app
    from chalicelib import wiring
    from chalicelib.auth.tokens import authenticate

    request = app.current_request
    return wiring.still_valid(authenticate(request.headers if request is not None else {}, wiring.token_config()))
