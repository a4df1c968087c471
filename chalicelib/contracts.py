"""The one JSON-Schema loader: reads schemas/ (or the copy packaged into chalicelib/) and compiles validators."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
# In a Lambda bundle only chalicelib/ exists, so packaging copies schemas/ to chalicelib/schemas/
# (git-ignored); the repository's own schemas/ wins wherever it exists, so a stale copy is never read.
# tests/infra/test_package.py keeps the packaged copy honest.
_CANDIDATES = (_HERE.parent / "schemas", _HERE / "schemas")


def schema_dir() -> Path:
    for candidate in _CANDIDATES:
        if (candidate / "survey.schema.json").is_file():
            return candidate
    raise FileNotFoundError("schemas/ not found beside chalicelib/ nor inside it")


@cache
def _schema_text(name: str) -> str:
    return (schema_dir() / f"{name}.schema.json").read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """A fresh copy of schemas/<name>.schema.json: fastjsonschema rewrites the refs of what it compiles in place."""
    return json.loads(_schema_text(name))


def compile_validator(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """fastjsonschema turns a schema into Python code once; validation is then ~50x faster than jsonschema."""
    import fastjsonschema

    return fastjsonschema.compile(schema, formats={"date-time": _is_datetime})


@cache
def validator(name: str) -> Callable[[Any], Any]:
    return compile_validator(load_schema(name))


def _is_datetime(value: str) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value


@cache
def part_validator(name: str, part: str) -> Callable[[Any], Any]:
    """A validator for one of the `$defs` of schemas/<name>.schema.json (e.g. user / new_user)."""
    schema = load_schema(name)
    schema.pop("oneOf", None)
    schema["$ref"] = f"#/$defs/{part}"
    return compile_validator(schema)
