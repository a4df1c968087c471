"""The exactly-once counting rule: however Lambda redelivers, cuts or kills a batch, the aggregates equal a recount."""

from __future__ import annotations

import random
from typing import Any

import pytest

from chalicelib.domain.aggregation import contribution, merge
from chalicelib.domain.changes import ResponseChange
from chalicelib.domain.counting import Counted, CountingService, MarkerMoved
from chalicelib.domain.errors import SurveyNotFound
from chalicelib.domain.responses import MalformedResponse, Response
from chalicelib.domain.survey import Survey
from tests.shared.fakes import FakeAggregateStore, FakeCatalog, FakeResponseStore, WorkerKilled, sipas_definition
from tests.shared.responses import screen_all, submit

SURVEY = Survey.from_definition(sipas_definition())


def history(n: int = 8, seed: int = 11) -> FakeResponseStore:
    """n responses inserted and screened; then one withdrawn, one stripped of personal data, one purged."""
    table = FakeResponseStore()
    ids = submit(table, n, seed=seed)
    screen_all(table)
    table.set_verdict(ids[1], "flagged", ["speeder"], "x")  # refused: already screened, writes nothing
    table.withdraw(ids[0], "2026-06-02T00:00:00Z")
    table.strip_personal(ids[2], "2027-06-02T00:00:00Z")
    table.delete(ids[3])
    return table


def recount(table: FakeResponseStore) -> dict[Any, Any]:
    return merge(contribution(Response.from_item(item), SURVEY) for item in table.items.values())


def service(store: FakeAggregateStore) -> CountingService:
    return CountingService(FakeCatalog(sipas_definition()), store, transaction_items=store.limit)


def read_all(counting: CountingService, table: FakeResponseStore) -> list[Counted]:
    return [counting.read(change) for change in table.stream]


def test_a_batch_counts_what_a_recount_counts() -> None:
    table, store = history(), FakeAggregateStore()
    counting = service(store)
    outcome = counting.count(read_all(counting, table))
    assert store.nonzero() == recount(table)
    assert outcome.duplicates == 0
    assert outcome.counted == len(table.stream) - 1  # the stripping moves no counter
    assert outcome.transactions == len(store.committed)


def test_the_same_batch_delivered_twice_counts_once() -> None:
    table, store = history(), FakeAggregateStore()
    counting = service(store)
    records = read_all(counting, table)
    counting.count(records)
    again = counting.count(records)
    assert (again.counted, again.transactions, again.duplicates) == (0, 0, len(records) - 1)
    assert store.nonzero() == recount(table)


def test_a_bisected_redelivery_counts_once() -> None:
    # GIVEN a batch whose first transaction landed before the worker was killed
    table, store = history(12), FakeAggregateStore(transaction_items=25)
    counting = service(store)
    records = read_all(counting, table)
    store.crash[2] = "before_commit"
    with pytest.raises(WorkerKilled):
        counting.count(records)
    assert store.committed  # the first run landed
    # WHEN Lambda bisects it and delivers both halves THEN every record is counted once
    half = len(records) // 2
    counting.count(records[:half])
    counting.count(records[half:])
    assert store.nonzero() == recount(table)


@pytest.mark.parametrize("when", ["before_commit", "after_commit"])
def test_a_worker_killed_between_transactions_then_retried_counts_once(when: str) -> None:
    table, store = history(12), FakeAggregateStore(transaction_items=25)
    counting = service(store)
    records = read_all(counting, table)
    store.crash[2] = when
    with pytest.raises(WorkerKilled):
        counting.count(records)
    retry = counting.count(records)
    assert store.nonzero() == recount(table)
    assert retry.duplicates > 0  # the runs that landed are skipped, not counted again


def test_a_batch_is_cut_into_runs_that_fit_one_transaction_and_chain_their_markers() -> None:
    table, store = history(12), FakeAggregateStore(transaction_items=12)
    counting = service(store)
    counting.count(read_all(counting, table))
    assert len(store.committed) > 2
    assert all(len(delta) + len(markers) <= 12 for delta, markers in store.committed)
    # each run moves a marker from the value the previous run set (the twin refuses anything else)
    last: dict[str, str] = {}
    chained = 0
    for _, markers in store.committed:
        for response_id, (previous, new) in markers.items():
            assert previous == last.get(response_id)
            chained += previous is not None
            last[response_id] = new
    assert chained  # some response's records fell into two runs
    assert store.nonzero() == recount(table)


def test_a_change_that_moves_no_counter_writes_nothing() -> None:
    table, store = FakeResponseStore(), FakeAggregateStore()
    ids = submit(table, 3)
    screen_all(table)
    counting = service(store)
    counting.count(read_all(counting, table))
    committed, seen = len(store.committed), dict(store.seen)
    # WHEN the retention job strips personal data (identifiers are never counted)
    for response_id in ids:
        table.strip_personal(response_id, "2027-06-02T00:00:00Z")
    stripped = [counting.read(change) for change in table.stream[-3:]]
    outcome = counting.count(stripped)
    # THEN no transaction and no marker
    assert all(not record.delta for record in stripped)
    assert (outcome.counted, outcome.transactions, outcome.requests) == (0, 0, 0)
    assert (len(store.committed), store.seen) == (committed, seen)


def test_an_old_record_redelivered_alone_is_skipped() -> None:
    table, store = history(), FakeAggregateStore()
    counting = service(store)
    records = read_all(counting, table)
    counting.count(records)
    assert counting.count(records[:1]).duplicates == 1
    assert store.nonzero() == recount(table)


def test_a_marker_moved_by_another_writer_fails_the_whole_transaction() -> None:
    class StaleReads(FakeAggregateStore):
        def markers(self, response_ids: Any) -> dict[str, str]:
            return {}  # as if read before a concurrent replay moved them

    table, store = history(), StaleReads()
    counting = service(store)
    records = read_all(counting, table)
    counting.count(records[:4])
    before = store.nonzero()
    with pytest.raises(MarkerMoved):
        counting.count(records[:6])
    assert store.nonzero() == before


def test_a_record_it_cannot_count_raises() -> None:
    counting = service(FakeAggregateStore())
    with pytest.raises(MalformedResponse):
        counting.read(ResponseChange("1", "MODIFY", None, None))
    table = FakeResponseStore()
    submit(table, 1)
    stranger = table.stream[0].new
    assert stranger is not None
    stranger.survey_id = "no-such-survey"
    with pytest.raises(SurveyNotFound):
        counting.read(table.stream[0])


@pytest.mark.parametrize("seed", range(20))
def test_any_delivery_lambda_can_make_counts_once(seed: int) -> None:
    """Random batch sizes, workers killed before or after a commit, bisected retries, old windows replayed."""
    rng = random.Random(seed)
    table, store = history(10, seed=seed), FakeAggregateStore(transaction_items=rng.choice([10, 20, 100]))
    counting = service(store)
    records = read_all(counting, table)

    def deliver(batch: list[Counted]) -> None:
        if rng.random() < 0.3:
            store.crash[store.calls + rng.randint(1, 3)] = rng.choice(["before_commit", "after_commit"])
        try:
            counting.count(batch)
        except WorkerKilled:
            if len(batch) > 1 and rng.random() < 0.5:
                deliver(batch[: len(batch) // 2])
                deliver(batch[len(batch) // 2 :])
            else:
                deliver(batch)

    position = 0
    while position < len(records):
        batch = records[position : position + rng.randint(1, 12)]
        deliver(batch)
        position += len(batch)
        if rng.random() < 0.3:
            start = rng.randrange(position)
            deliver(records[start:position])  # at-least-once: an earlier window again
    store.crash.clear()
    assert store.nonzero() == recount(table)
