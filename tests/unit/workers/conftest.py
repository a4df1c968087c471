"""Fixtures of the handler tests: recorded events and a Lambda context."""

from __future__ import annotations

from typing import Any

import pytest

from tests.events import load_event
from tests.shared.fakes import LambdaContext


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def stream() -> dict[str, Any]:
    """Three responses: INSERTs, screening MODIFYs, a withdrawal, personal data stripped, a REMOVE."""
    return load_event("responses_stream")


@pytest.fixture
def poisoned() -> dict[str, Any]:
    """Two good INSERTs with an unreadable item between them (its answers are not a map)."""
    return load_event("responses_stream_poison")
