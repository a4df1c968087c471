"""The request being served, reached through one accessor that app.py binds once (no module imports app.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice import Chalice
    from chalice.app import Request

    from chalicelib.domain.submissions import ClientInfo

_app: Chalice | None = None


def bind(app: Chalice) -> None:
    """app.py calls this once, at import: the app whose current request and route table the edge reads."""
    global _app  # noqa: PLW0603 - bound once per process, like the app object itself
    _app = app


def current() -> Request:
    request = _app.current_request if _app is not None else None
    if request is None:  # only outside a request, which no route is
        raise RuntimeError("no current request (is the app bound with chalicelib.api.request.bind?)")
    return request


def current_app_routes() -> dict[str, dict[str, Any]]:
    """The bound app's route table (path -> method -> Chalice RouteEntry), for the OpenAPI document."""
    if _app is None:
        raise RuntimeError("no app bound (chalicelib.api.request.bind)")
    return _app.routes


def query(name: str) -> str | None:
    """A query parameter as sent (an empty value stays ''; absent is None): its documented schema judges it."""
    params: Any = current().query_params or {}
    value = params.get(name)
    return None if value is None else str(value)


def query_names() -> list[str]:
    """The names of the query parameters sent, in the order they came."""
    return [str(name) for name in (current().query_params or {})]


def flag(name: str) -> bool:
    return (query(name) or "").lower() in ("1", "true", "yes", "on")


def header(name: str) -> str | None:
    value = current().headers.get(name)
    return None if value is None else str(value)


def raw_body() -> bytes:
    raw = current().raw_body
    return raw.encode() if isinstance(raw, str) else (raw or b"")


def method() -> str:
    return str(current().method)


def client() -> ClientInfo:
    from chalicelib.domain.submissions import ClientInfo

    request = current()
    identity = (request.context or {}).get("identity") or {}
    return ClientInfo(source_ip=identity.get("sourceIp"), user_agent=request.headers.get("user-agent"))


def base_url() -> str:
    """This deployment's public address (PAR_PUBLIC_URL), or the request's host."""
    from chalicelib.settings import settings

    configured = settings().public_url
    if configured:
        return configured.rstrip("/")
    host = header("host") or "127.0.0.1"
    return f"{'https' if secure() else 'http'}://{host}"


def secure() -> bool:
    """HTTPS everywhere but on this machine's loopback (make run)."""
    return not (header("host") or "").startswith(("127.0.0.1", "localhost"))
