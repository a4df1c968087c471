"""The data lake and personal data: no row holds any, and a withdrawal or the retention job reaches every copy."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib.domain.audit import AuditLog
from chalicelib.domain.privacy import PrivacyService
from chalicelib.lake import TOMBSTONE_FIELDS, LakeArchive, PartitionBusy, decode, encode, latest_rows, partition_of
from tests.shared.fakes import (
    FakeAuditStore,
    FakeCatalog,
    FakeObjectStore,
    FakeResponseStore,
    WorkerKilled,
    sipas_definition,
)
from tests.shared.responses import FREE_TEXT, USER_AGENT, screen_all, submit

SURVEY = FakeCatalog(sipas_definition()).get("sipas-2026", 1)
LATER = datetime(2027, 6, 3, tzinfo=timezone.utc)  # past the survey's 365 days of retention


class Lake:
    """A fake responses table with its stream, the archive worker reading it batch by batch into a fake bucket."""

    def __init__(self, n: int = 4) -> None:
        self.table, self.bucket = FakeResponseStore(), FakeObjectStore()
        self.ids = submit(self.table, n)
        self.archive = LakeArchive(self.bucket)
        self.privacy = PrivacyService(self.table, AuditLog(FakeAuditStore()), clock=lambda: LATER)
        self.done = 0

    def run(self, start: int | None = None) -> Any:
        """Archive the stream's records from `start` (default: where the last run stopped) as one batch."""
        batch = self.table.stream[self.done if start is None else start :]
        self.done = len(self.table.stream)
        return self.archive.archive(batch)

    def rows(self, every_version: bool = False) -> list[dict[str, Any]]:
        if every_version:
            return [row for _, body in self.bucket.every_version() for row in decode(body)]
        return [row for key in self.bucket.keys("responses/") for row in decode(self.bucket.get(key) or b"")]

    def text(self) -> str:
        """Everything the bucket holds, earlier versions included, as one text."""
        return "\n".join(json.dumps(decode(body), ensure_ascii=False) for _, body in self.bucket.every_version())


def legacy_object(lake: Lake) -> None:
    """An object as the archive wrote them before this rule: full rows, user agent and content hash included."""
    rows = []
    for change in lake.table.stream:
        if change.new is not None and change.new.status != "received":
            row = change.new.to_item()
            row.pop("identifiers", None)
            row.pop("honeypot", None)
            rows.append({**row, "_sequence": change.sequence})
    partition = partition_of(lake.table.stream[0].new)  # type: ignore[arg-type]
    lake.bucket.put(f"{partition}/0-legacy.jsonl.gz", encode(rows), "application/gzip")


def test_a_lake_row_holds_the_microdata_and_no_personal_data() -> None:
    lake = Lake()
    screen_all(lake.table)
    assert lake.run().rows == 4
    rows = lake.rows()
    assert all(r["answers"]["q10_other"] == FREE_TEXT and r["commune"] and r["paradata"]["started_at"] for r in rows)
    text = lake.text()
    for personal in ("identifiers", "user_agent", USER_AGENT, "honeypot", "hmac_key_id", "content_hash"):
        assert personal not in text
    hashes = [h for item in lake.table.items.values() for h in item["identifiers"].values()]
    assert hashes and not any(h in text for h in hashes)


def test_a_withdrawal_leaves_only_a_tombstone_in_every_object_and_version() -> None:
    lake = Lake()
    screen_all(lake.table)
    lake.run()
    withdrawn = lake.ids[1]
    lake.privacy.withdraw(withdrawn)
    outcome = lake.run()
    assert outcome.rewritten == 1 and outcome.forgotten >= 1
    mine = [r for r in lake.rows(every_version=True) if r["response_id"] == withdrawn]
    assert len(mine) == 1 and set(mine[0]) == set(TOMBSTONE_FIELDS) and mine[0]["status"] == "withdrawn"
    others = [r for r in lake.rows(every_version=True) if r["response_id"] != withdrawn]
    assert {r["response_id"] for r in others} == set(lake.ids) - {withdrawn}
    assert all(r["answers"]["q10_other"] == FREE_TEXT for r in others)  # the others' microdata stays
    assert lake.rows(every_version=True) == lake.rows()  # no earlier version left behind
    latest = latest_rows(lake.bucket.get(key) or b"" for key in lake.bucket.keys("responses/"))
    assert latest[withdrawn]["status"] == "withdrawn"


def test_a_response_accepted_and_withdrawn_in_one_batch_never_has_its_answers_written() -> None:
    lake = Lake(2)
    screen_all(lake.table)
    lake.table.withdraw(lake.ids[0], "2026-06-01T09:00:00Z")
    lake.run()
    assert [r["status"] for r in lake.rows(every_version=True) if r["response_id"] == lake.ids[0]] == ["withdrawn"]


def test_a_redelivered_withdrawal_batch_changes_nothing_more() -> None:
    lake = Lake()
    screen_all(lake.table)
    lake.run()
    lake.privacy.withdraw(lake.ids[0])
    start = lake.done
    lake.run()
    before = sorted(lake.bucket.every_version())
    again = lake.run(start)
    assert again.rewritten == 0
    assert sorted(lake.bucket.every_version()) == before


def test_retention_adds_no_row_and_cleans_rows_written_before_the_rule() -> None:
    lake = Lake()
    screen_all(lake.table)
    lake.run()
    legacy_object(lake)
    assert USER_AGENT in lake.text()
    # WHEN the retention job strips personal data a year later and the archive worker sees it
    (run,) = lake.privacy.strip_all_expired([SURVEY])
    assert run.stripped == 4
    outcome = lake.run()
    # THEN no line is added (the lake held none of it), and no copy of a user agent or key is left
    assert outcome.rows == 0 and outcome.rewritten == 1
    text = lake.text()
    assert USER_AGENT not in text and "user_agent" not in text and "content_hash" not in text
    assert all(r["answers"]["q10_other"] == FREE_TEXT for r in lake.rows())  # the answers stay


def test_a_withdrawal_also_reaches_a_full_row_written_before_the_rule() -> None:
    lake = Lake()
    screen_all(lake.table)
    legacy_object(lake)
    lake.done = len(lake.table.stream)
    lake.privacy.withdraw(lake.ids[2])
    lake.run()
    mine = [r for r in lake.rows(every_version=True) if r["response_id"] == lake.ids[2]]
    assert [set(r) for r in mine] == [set(TOMBSTONE_FIELDS)]
    assert USER_AGENT not in lake.text()


def crash_setup() -> Lake:
    """A partition of two objects holding the withdrawn-to-be response: one batch, and its duplicate from a retry."""
    lake = Lake(3)
    screen_all(lake.table)
    lake.run()
    lake.run(start=len(lake.table.stream) - 1)  # the last screening again, as a bisected retry writes it
    lake.privacy.withdraw(lake.ids[2])
    return lake


@pytest.mark.parametrize("crash", [("put", 1), ("put", 2), ("delete", 1), ("forget_history", 1)])
def test_a_worker_killed_between_the_writes_of_a_rewrite_is_finished_by_the_retry(crash: tuple[str, int]) -> None:
    lake = crash_setup()
    start = lake.done
    lake.bucket.calls.clear()
    lake.bucket.crash = dict([crash])
    with pytest.raises(WorkerKilled):
        lake.run()
    lake.bucket.crash = {}
    lake.run(start)
    mine = [r for r in lake.rows(every_version=True) if r["response_id"] == lake.ids[2]]
    assert [r["status"] for r in mine] == ["withdrawn"]
    assert lake.rows(every_version=True) == lake.rows()


def test_two_workers_rewriting_one_partition_at_once_converge() -> None:
    # GIVEN two responses of one partition withdrawn on two shards, whose workers rewrite it at the same moment
    lake = Lake(4)
    screen_all(lake.table)
    lake.run()
    first, second = lake.ids[0], lake.ids[1]
    lake.privacy.withdraw(first)
    batch_a = lake.table.stream[-1:]
    lake.privacy.withdraw(second)
    batch_b = lake.table.stream[-1:]

    fresh = {f"{b[0].sequence}-{b[0].sequence}.jsonl.gz" for b in (batch_a, batch_b)}  # the batches' own objects
    ran: list[bool] = []

    class Interleaved(FakeObjectStore):
        """B's whole run slips in between A's read of an existing object and A's write of it."""

        def put(self, key: str, body: bytes, content_type: str, metadata: Any = None) -> None:
            if key.rsplit("/", 1)[-1] not in fresh and not ran:
                ran.append(True)
                LakeArchive(self).archive(batch_b)
            super().put(key, body, content_type)  # A's write, from a read made before B's tombstone existed

    bucket = Interleaved()
    bucket.versions = lake.bucket.versions
    LakeArchive(bucket).archive(batch_a)
    assert ran
    # THEN neither withdrawn response keeps more than its tombstone, in any version
    for withdrawn in (first, second):
        statuses = [r["status"] for _, b in bucket.every_version() for r in decode(b) if r["response_id"] == withdrawn]
        assert statuses == ["withdrawn"]


def test_a_partition_that_keeps_changing_fails_the_batch_for_a_retry() -> None:
    lake = Lake(2)
    screen_all(lake.table)
    lake.run()
    legacy_object(lake)

    class Clobbering(FakeObjectStore):
        def put(self, key: str, body: bytes, content_type: str, metadata: Any = None) -> None:
            if key.endswith("0-legacy.jsonl.gz"):
                return  # another writer keeps putting the old rows back
            super().put(key, body, content_type)

    bucket = Clobbering()
    bucket.versions = lake.bucket.versions
    lake.privacy.withdraw(lake.ids[0])
    with pytest.raises(PartitionBusy):
        LakeArchive(bucket, max_passes=3).archive(lake.table.stream[-1:])
