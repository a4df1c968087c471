"""The console's sampling page: frames, the design form, samples with their downloads."""

from __future__ import annotations

from typing import Any

from chalicelib.web.pages import _render

MEASURES = {"households": "hộ", "population": "nhân khẩu"}


def render_admin_sampling(
    overview: dict[str, Any],
    *,
    csrf: str,
    console: Any,
    error: Any = None,
    notice: str = "",
    posted: dict[str, list[str]] | None = None,
) -> str:
    details = list(getattr(error, "details", None) or [])
    problems = [d for d in details if isinstance(d, dict) and "row" in d]
    form = {name: values[0] for name, values in (posted or {}).items() if values and name != "csrf"}
    return _render(
        "admin_sampling.html",
        year=overview["year"],
        frames=overview["frames"],
        samples=overview["samples"],
        measures=MEASURES,
        csrf=csrf,
        console=console,
        error=error,
        notice=notice,
        problems=problems,
        form=form,
    )
