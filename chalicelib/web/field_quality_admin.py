"""The console's quality pages: re-check and risk per enumerator, and coding of open answers."""

from __future__ import annotations

from typing import Any

from chalicelib.web.pages import _render


def render_admin_risk(view: dict[str, Any], *, csrf: str, console: Any, error: Any = None, notice: str = "") -> str:
    return _render("admin_risk.html", view=view, csrf=csrf, console=console, error=error, notice=notice)


def render_admin_coding(
    view: dict[str, Any],
    *,
    csrf: str,
    console: Any,
    error: Any = None,
    notice: str = "",
    posted: dict[str, list[str]] | None = None,
) -> str:
    form = {name: values[0] for name, values in (posted or {}).items() if values and name != "csrf"}
    return _render("admin_coding.html", view=view, csrf=csrf, console=console, error=error, notice=notice, form=form)
