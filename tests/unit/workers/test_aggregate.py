"""The aggregate handler on recorded stream batches: counts once, stops at a poison record, bisects one at the head."""

from __future__ import annotations

import pytest

from chalicelib.domain.aggregation import contribution, merge
from chalicelib.domain.counting import CountingService
from functions.aggregate.handler import handler
from functions.batch import PoisonRecordAtHead
from tests.shared.fakes import FakeAggregateStore, FakeCatalog, WorkerKilled, sipas_definition
from tests.shared.streams import batch_of, changes, final_states, sequences

CATALOG = FakeCatalog(sipas_definition())
SURVEY = CATALOG.get("sipas-2026", 1)


def counting(store: FakeAggregateStore) -> CountingService:
    return CountingService(CATALOG, store, transaction_items=store.limit)


def recount(event: dict) -> dict:
    return merge(contribution(response, SURVEY) for response in final_states(event).values())


def test_a_batch_is_counted_as_a_recount_and_a_redelivery_changes_nothing(stream, context):
    store = FakeAggregateStore()
    assert handler(stream, context, counting=counting(store)) == {"batchItemFailures": []}
    assert store.nonzero() == recount(stream)  # the withdrawn and the removed response count nowhere
    assert handler(stream, context, counting=counting(store)) == {"batchItemFailures": []}
    assert store.nonzero() == recount(stream)


def test_a_poison_record_mid_batch_is_reported_and_the_records_before_it_are_counted(poisoned, context):
    store = FakeAggregateStore()
    answer = handler(poisoned, context, counting=counting(store))
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequences(poisoned)[1]}]}
    assert store.nonzero() == merge(contribution(c.new, SURVEY) for c in changes(batch_of(poisoned, 0)))
    # Lambda retries from the poison record: the record after it is counted once it is alone in the DLQ
    assert handler(batch_of(poisoned, 2), context, counting=counting(store)) == {"batchItemFailures": []}
    assert store.nonzero() == merge(contribution(c.new, SURVEY) for c in changes(batch_of(poisoned, 0, 2)))


def test_a_poison_record_at_the_head_fails_the_invocation_so_lambda_bisects(poisoned, context):
    store = FakeAggregateStore()
    with pytest.raises(PoisonRecordAtHead):
        handler(batch_of(poisoned, 1, 0, 2), context, counting=counting(store))
    assert store.committed == []
    # bisected down to the poison record alone, it is reported (and goes to the DLQ after the retries)
    alone = batch_of(poisoned, 1)
    assert handler(alone, context, counting=counting(store)) == {
        "batchItemFailures": [{"itemIdentifier": sequences(alone)[0]}]
    }


def test_a_batch_of_poison_records_only_bisects_then_reports_each(poisoned, context):
    store = FakeAggregateStore()
    every = batch_of(poisoned, 1, 1, 1)
    with pytest.raises(PoisonRecordAtHead):
        handler(every, context, counting=counting(store))
    assert store.committed == []


def test_a_worker_killed_mid_batch_is_retried_and_counts_once(stream, context):
    # 12: one accepted response touches up to 11 items (scopes' pages, attribution, its marker)
    store = FakeAggregateStore(transaction_items=12)
    store.crash[2] = "after_commit"
    with pytest.raises(WorkerKilled):
        handler(stream, context, counting=counting(store))
    assert handler(stream, context, counting=counting(store)) == {"batchItemFailures": []}
    assert store.nonzero() == recount(stream)
