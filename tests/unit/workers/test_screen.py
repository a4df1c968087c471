"""The screen handler on recorded stream batches: each received response screened once, a poison record reported."""

from __future__ import annotations

import pytest

from chalicelib.domain.screening import DurationStats, ScreeningService
from functions.batch import PoisonRecordAtHead
from functions.screen.handler import handler
from tests.shared.fakes import FakeCatalog, FakeResponseStore, sipas_definition
from tests.shared.streams import batch_of, changes, sequences


class NoHistory:
    def durations(self, survey_key: str) -> DurationStats:
        return DurationStats({})


def table_of(event: dict) -> FakeResponseStore:
    """The responses table as the INSERTs left it (the screen function's filter passes only INSERTs)."""
    table = FakeResponseStore()
    for change in changes(event):
        if change.event_name == "INSERT" and change.new:
            table.create(change.new)
    return table


def screening(table: FakeResponseStore) -> ScreeningService:
    return ScreeningService(FakeCatalog(sipas_definition()), NoHistory(), table)


def statuses(table: FakeResponseStore) -> list[str]:
    return [item["status"] for _, item in sorted(table.items.items())]


def test_every_received_response_is_screened_once(stream, context):
    inserts = batch_of(stream, 0, 1, 2)
    table = table_of(inserts)
    assert handler(inserts, context, screening=screening(table)) == {"batchItemFailures": []}
    assert "received" not in statuses(table)
    writes = table.writes
    assert handler(inserts, context, screening=screening(table)) == {"batchItemFailures": []}
    assert table.writes == writes  # a redelivered record finds its response screened


def test_a_poison_record_mid_batch_is_reported_after_the_records_before_it(poisoned, context):
    good = batch_of(poisoned, 0, 2)
    table = table_of(good)
    answer = handler(poisoned, context, screening=screening(table))
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequences(poisoned)[1]}]}
    assert statuses(table).count("received") == 1  # the record after the poison one waits for its retry


def test_a_poison_record_at_the_head_screens_nothing_and_bisects(poisoned, context):
    table = table_of(batch_of(poisoned, 0, 2))
    with pytest.raises(PoisonRecordAtHead):
        handler(batch_of(poisoned, 1, 0, 2), context, screening=screening(table))
    assert statuses(table) == ["received", "received"]
    with pytest.raises(PoisonRecordAtHead):
        handler(batch_of(poisoned, 1, 1), context, screening=screening(table))
