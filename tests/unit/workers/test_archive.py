"""The archive handler on recorded stream batches: screened states into lake objects by partition."""

from __future__ import annotations

import pytest

from chalicelib.lake import LakeArchive, decode
from functions.archive.handler import handler
from functions.batch import PoisonRecordAtHead
from tests.shared.fakes import FakeObjectStore
from tests.shared.streams import batch_of, changes, sequences


def rows(bucket: FakeObjectStore) -> list[dict]:
    return [row for key in bucket.keys("responses/") for row in decode(bucket.get(key) or b"")]


def test_screened_states_land_in_their_partition_and_a_redelivery_rewrites_the_same_object(stream, context):
    bucket = FakeObjectStore()
    assert handler(stream, context, archive=LakeArchive(bucket)) == {"batchItemFailures": []}
    keys = bucket.keys()
    assert keys and all(k.startswith("responses/survey=sipas-2026/version=1/date=2026-") for k in keys)
    assert {r["status"] for r in rows(bucket)} >= {"accepted", "flagged"}  # received states are not archived
    handler(stream, context, archive=LakeArchive(bucket))
    assert bucket.keys() == keys


def test_a_poison_record_is_reported_and_nothing_after_it_is_archived(poisoned, context):
    bucket = FakeObjectStore()
    answer = handler(poisoned, context, archive=LakeArchive(bucket))
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequences(poisoned)[1]}]}
    with pytest.raises(PoisonRecordAtHead):
        handler(batch_of(poisoned, 1, 2), context, archive=LakeArchive(bucket))


def test_the_recorded_withdrawal_leaves_a_tombstone_and_no_row_holds_personal_data(stream, context):
    bucket = FakeObjectStore()
    handler(stream, context, archive=LakeArchive(bucket))
    withdrawn = next(c.new.response_id for c in changes(stream) if c.new and c.new.status == "withdrawn")
    versions = [row for _, body in bucket.every_version() for row in decode(body)]
    assert [r["status"] for r in versions if r["response_id"] == withdrawn] == ["withdrawn"]
    assert not any({"identifiers", "honeypot", "content_hash"} & set(r) for r in versions)
    assert not any("user_agent" in r.get("paradata", {}) for r in versions)
