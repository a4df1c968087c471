"""Events recorded in the shapes Lambda delivers them (stream batches, EventBridge, Cognito), loaded by name."""

import json
from pathlib import Path
from typing import Any


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of tests/events/<name>.json: a handler may change what it is given."""
    return json.loads((Path(__file__).parent / f"{name}.json").read_text(encoding="utf-8"))
