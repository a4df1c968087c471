"""The console's fieldwork page: a sample's progress and the enumerators' assignments."""

from __future__ import annotations

from typing import Any

from chalicelib.web.pages import _render

COUNTS = (
    ("completed", "Hoàn thành"),
    ("replaced", "Trong đó hộ thay thế"),
    ("refused", "Từ chối"),
    ("not_at_home", "Vắng nhà"),
    ("vacant", "Không có người ở"),
)


def render_admin_fieldwork(
    view: dict[str, Any],
    *,
    csrf: str,
    console: Any,
    error: Any = None,
    notice: str = "",
    posted: dict[str, list[str]] | None = None,
) -> str:
    chosen = set((posted or {}).get("village") or [])
    form = {name: values[0] for name, values in (posted or {}).items() if values and name not in ("csrf", "village")}
    return _render(
        "admin_fieldwork.html",
        view=view,
        counts=COUNTS,
        csrf=csrf,
        console=console,
        error=error,
        notice=notice,
        form=form,
        chosen=chosen,
    )
