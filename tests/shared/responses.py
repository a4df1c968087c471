"""Realistic responses for unit tests: generated SIPAS submissions through the real SubmissionService, into the fake table."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

from chalicelib.domain.submissions import ClientInfo, IdentifierHasher, SubmissionService
from chalicelib.reference.geography import load_geography
from infra.local.seed.responses import generate_submissions
from tests.shared.fakes import AllLocations, FakeCatalog, FakeResponseStore, sipas_definition

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
USER_AGENT = "Mozilla/5.0 (Linux; Android 14; SM-A546E) Zalo/24.06"
FREE_TEXT = "Cán bộ phường hướng dẫn rất tận tình, nhưng phải chờ lâu"


def submit(store: FakeResponseStore, n: int, seed: int = 11, now: datetime = NOW) -> list[str]:
    """n citizens answer SIPAS (with a phone number, a user agent and a free-text answer): their response ids."""
    definition = sipas_definition()
    service = SubmissionService(
        FakeCatalog(definition), store, AllLocations(), IdentifierHasher(b"k", "k1"), 65536, clock=lambda: now
    )
    ids = []
    for generated in generate_submissions(definition, load_geography("vn-2025"), n, seed=seed, now=now):
        body = copy.deepcopy(generated)
        body["answers"]["q10_other"] = FREE_TEXT
        body["contact"] = {"phone": "0912345678"}
        parsed = service.parse_body(json.dumps(body).encode(), "application/json")
        ids.append(service.submit("sipas-2026", parsed, ClientInfo("203.0.113.9", USER_AGENT)).response_id)
    return ids


def screen_all(store: FakeResponseStore, status: str = "accepted", at: str = "2026-06-01T08:01:00.000000Z") -> None:
    for response_id in sorted(store.items):
        store.set_verdict(response_id, status, [], at)
