"""Shared fixtures: a live local stack (moto server over HTTP, the API, the in-process Lambda runner)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIPAS = ROOT / "infra" / "local" / "seed" / "sipas-2026.xlsx"  # the questionnaire's one source, an XLSForm


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The whole system on 127.0.0.1 with the SIPAS survey published; workers run when a test calls drain()."""
    import os

    from chalicelib import wiring
    from chalicelib.admin import publish_survey
    from infra.local.idp import LocalIdentityProvider
    from infra.local.seed import load_survey
    from infra.local.stack import LocalStack

    state = tmp_path_factory.mktemp("stack")
    idp = LocalIdentityProvider(state)
    idp.start()
    saved = {k: os.environ.get(k) for k in idp.environment()}
    os.environ.update(idp.environment())
    stack = LocalStack(state_dir=state)
    stack.start()
    # Again after start(), which set the template's Globals (PAR_IDENTITY_DIRECTORY: cognito): the local
    # provider is the identity directory here. wiring.reset() below makes the app read them.
    os.environ.update(idp.environment())
    stack.idp = idp  # type: ignore[attr-defined]
    wiring.reset()
    try:
        stack.start_api()
        idp.register_redirect_uri(f"{stack.api_url}/admin/callback")  # the console's, known once the API runs
        publish_survey(load_survey(SIPAS))
        yield stack
    finally:
        stack.stop()
        idp.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        wiring.reset()


@pytest.fixture(scope="session")
def sipas() -> dict[str, Any]:
    from infra.local.seed import load_survey

    return load_survey(SIPAS)
