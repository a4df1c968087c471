"""A citizen-facing text of a definition ({"vi": ..., "en": ...}) read in one language."""

from __future__ import annotations

from typing import Any


def text_vi(text: Any) -> str:
    """The Vietnamese of a text (or the text itself). A draft may lack Vietnamese (publishing is refused until
    it has it): then the language it has."""
    if isinstance(text, dict):
        return str(text.get("vi") or text.get("en") or next((v for v in text.values() if v), ""))
    return "" if text is None else str(text)


def text_en(text: Any) -> str:
    """The English of a text, or "" when it has none or repeats the Vietnamese."""
    if isinstance(text, dict):
        en = text.get("en") or ""
        return "" if en == text.get("vi") else str(en)
    return ""
