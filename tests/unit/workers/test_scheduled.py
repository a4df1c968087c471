"""The scheduled and requested jobs (reports, reconcile, retention) on recorded EventBridge events, with fakes."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timezone

import pytest

from chalicelib.domain.audit import AuditLog
from chalicelib.domain.counting import CountingService
from chalicelib.domain.privacy import PrivacyService
from chalicelib.domain.reconciliation import ReconcileService
from functions.reconcile.handler import handler as reconcile
from functions.reports.build import ReportBuilder
from functions.reports.handler import handler as reports
from functions.retention.handler import handler as retention
from tests.events import load_event
from tests.shared.fakes import (
    FakeAggregateStore,
    FakeAuditStore,
    FakeCatalog,
    FakeObjectStore,
    FakeResponseStore,
    sipas_definition,
)
from tests.shared.responses import screen_all, submit

NOW = datetime(2026, 6, 2, 3, 12, 45, tzinfo=timezone.utc)


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog(sipas_definition())


@pytest.fixture
def table() -> FakeResponseStore:
    table = FakeResponseStore()
    submit(table, 6)
    screen_all(table)
    return table


@pytest.fixture
def aggregates(catalog: FakeCatalog, table: FakeResponseStore) -> FakeAggregateStore:
    store = FakeAggregateStore()
    counting = CountingService(catalog, store)
    counting.count([counting.read(change) for change in table.stream])
    return store


def test_a_requested_report_is_written_with_its_manifest_last(catalog, aggregates, context):
    bucket = FakeObjectStore()
    service = ReportBuilder(catalog, aggregates, bucket, clock=lambda: NOW)
    out = reports(load_event("report_requested"), context, service=service)
    (report,) = out["reports"]
    assert report["prefix"] == "reports/sipas-2026/v1/20260602T031245Z"
    assert report["manifest"]["inputs"]["responses_counted"] == 6
    assert list(bucket.versions)[-1] == f"{report['prefix']}/manifest.json"
    for entry in report["manifest"]["outputs"]:
        assert hashlib.sha256(bucket.get(entry["key"]) or b"").hexdigest() == entry["sha256"]


def test_the_nightly_schedule_reports_every_open_or_closed_survey(aggregates, context):
    draft = {**sipas_definition(), "id": "draft-2027", "status": "draft"}
    service = ReportBuilder(FakeCatalog(sipas_definition(), draft), aggregates, FakeObjectStore(), clock=lambda: NOW)
    out = reports(load_event("scheduled_event"), context, service=service)
    assert [r["manifest"]["survey_id"] for r in out["reports"]] == ["sipas-2026"]


def test_reconcile_finds_no_difference_then_the_one_a_lost_write_makes(catalog, table, aggregates, context):
    bucket = FakeObjectStore()
    service = ReconcileService(catalog, table, aggregates, bucket, clock=lambda: NOW)
    (result,) = reconcile(load_event("scheduled_event"), context, reconcile=service)["surveys"]
    assert (result["responses"], result["difference_count"]) == (6, 0)
    assert bucket.keys() == ["reconcile/sipas-2026/v1/20260602T031245Z.json"]
    # WHEN a counter lost one write THEN the recount names that cell
    key = next(k for k in aggregates.counters if k[0].endswith("#all") and "n" in aggregates.counters[k])
    aggregates.counters[key]["n"] -= 1
    (result,) = reconcile(load_event("scheduled_event"), context, reconcile=service)["surveys"]
    assert result["differences"] == [{"pk": key[0], "sk": key[1], "cell": "n", "expected": 6, "actual": 5}]


def test_retention_strips_what_the_period_allows_and_is_audited_once(catalog, table, context):
    audit = FakeAuditStore()
    privacy = PrivacyService(table, AuditLog(audit, clock=lambda: NOW), clock=lambda: NOW)
    event = load_event("scheduled_event")
    assert retention(copy.deepcopy(event), context, privacy=privacy, catalog=catalog)["runs"][0]["stripped"] == 0
    event["detail"] = {"now": "2027-06-03T00:00:00Z"}  # a year and a day later, as an operator may ask
    (run,) = retention(copy.deepcopy(event), context, privacy=privacy, catalog=catalog)["runs"]
    assert (run["survey"], run["stripped"]) == ("sipas-2026#1", 6)
    assert not any("identifiers" in item or "user_agent" in json.dumps(item) for item in table.items.values())
    assert retention(event, context, privacy=privacy, catalog=catalog)["runs"][0]["stripped"] == 0
    assert [e.action for e in audit.chain()] == ["personal_data.strip"]
