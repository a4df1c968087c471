"""The audit log's hash chain: it verifies when whole, names every kind of tampering, survives races, exports safely."""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.audit import (
    GENESIS,
    Actor,
    AuditConflict,
    AuditEntry,
    AuditLog,
    entry_hash,
    to_csv,
    verify_chain,
)
from tests.shared.fakes import FakeAuditStore

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
MINISTRY = Actor(sub="u-001", name="Nguyễn Thị Hạnh", role="survey_manager", agency=None)
HANOI = Actor(sub="u-042", name="Trần Văn Đức", role="agency_admin", agency="P01")


def no_sleep(_: float) -> None:
    return None


def build_chain(n: int = 10) -> tuple[FakeAuditStore, list[AuditEntry]]:
    store = FakeAuditStore()
    log = AuditLog(store, sleep=no_sleep)
    for i in range(1, n + 1):
        log.record(
            MINISTRY if i % 2 else HANOI,
            "survey.publish" if i % 3 else "content.edit",
            "survey",
            f"sipas-2026-v{i}",
            before={"status": "draft", "version": i},
            after={"status": "open", "version": i, "tiêu_đề": "Khảo sát mức độ hài lòng"},
            reason="Theo Quyết định 433/QĐ-BNV" if i == 4 else None,
            now=T0 + timedelta(minutes=i),
        )
    return store, store.chain()


def kinds(entries: list[AuditEntry], **kwargs: Any) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in verify_chain(entries, **kwargs).problems]


def rehash(entry: AuditEntry, **changes: Any) -> AuditEntry:
    """An entry changed by someone who also recomputed its hash (as a careful forger would)."""
    changed = dataclasses.replace(entry, **changes)
    return dataclasses.replace(changed, hash=entry_hash(changed.hashed_fields()))


# --------------------------------------------------------------------------- an intact chain


def test_a_recorded_chain_verifies_and_links_from_genesis():
    # GIVEN ten actions recorded by two officials
    store, chain = build_chain(10)
    # WHEN the chain is verified against the store's head
    check = verify_chain(chain, head=store.head())
    # THEN it is intact, gapless, and each entry links to the one before
    assert check.ok, check.problems
    assert check.checked == 10
    assert [e.seq for e in chain] == list(range(1, 11))
    assert chain[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
    assert (check.last_seq, check.last_hash) == store.head()


def test_an_empty_log_verifies():
    assert verify_chain([]).ok
    assert verify_chain([], head=None).checked == 0


def test_the_hash_covers_every_field_canonically():
    # GIVEN an entry's fields in two different key orders
    _, chain = build_chain(2)
    fields = chain[1].hashed_fields()
    reordered = dict(reversed(list(fields.items())))
    # THEN the hash is the same, ignores a `hash` key, and is sha256 hex
    assert entry_hash(fields) == entry_hash(reordered) == entry_hash({**fields, "hash": "x"}) == chain[1].hash
    assert len(chain[1].hash) == 64
    int(chain[1].hash, 16)


def test_the_entry_holds_a_snapshot_not_the_callers_dict():
    # GIVEN a before-state the caller keeps mutating, with values read from DynamoDB (Decimal) and a datetime
    store = FakeAuditStore()
    state: dict[str, Any] = {"count": Decimal(3), "ratio": Decimal("0.5"), "closes": T0}
    entry = AuditLog(store).record(MINISTRY, "survey.close", "survey", "s1", state, None, now=T0)
    state["count"] = 99
    # THEN the recorded entry kept plain JSON values and still verifies
    assert entry.before == {"count": 3, "ratio": 0.5, "closes": "2026-03-01T02:00:00+00:00"}
    assert verify_chain(store.chain()).ok
    assert entry.at == "2026-03-01T02:00:00.000000Z"


def test_record_refuses_an_entry_without_actor_action_or_target():
    log = AuditLog(FakeAuditStore())
    with pytest.raises(ValueError, match="actor"):
        log.record(MINISTRY, "", "survey", "s1", None, None, now=T0)
    with pytest.raises(ValueError, match="actor"):
        log.record(dataclasses.replace(MINISTRY, sub=""), "survey.open", "survey", "s1", None, None, now=T0)


# --------------------------------------------------------------------------- tampering


EDITS: dict[str, Any] = {
    "seq": 99,
    "at": "2026-03-01T03:00:00.000000Z",
    "actor": Actor(sub="u-999", name="Người khác", role="system_admin"),
    "action": "survey.delete",
    "target_type": "content",
    "target_id": "other",
    "before": {"status": "open"},
    "after": {"status": "closed"},
    "reason": "sửa lại",
    "prev_hash": "f" * 64,
}


@pytest.mark.parametrize("field", sorted(EDITS))
@pytest.mark.parametrize("position", [0, 4, 9])
def test_editing_any_field_of_any_entry_is_detected_as_edited(field, position):
    # GIVEN an intact chain, WHEN one field of one entry is changed without recomputing its hash
    store, chain = build_chain(10)
    original = chain[position]
    chain[position] = dataclasses.replace(original, **{field: EDITS[field]})
    # THEN verify reports that entry as edited (at its stored seq; an edited seq also looks out of place)
    problems = verify_chain(chain, head=store.head()).problems
    assert (chain[position].seq, "edited") in [(p.seq, p.kind) for p in problems]
    assert not verify_chain(chain, head=store.head()).ok


def test_editing_the_actors_agency_is_detected():
    # GIVEN a national official's entry, WHEN someone gives it an agency after the fact
    store, chain = build_chain(6)
    chain[2] = dataclasses.replace(chain[2], actor=dataclasses.replace(chain[2].actor, agency="P79"))
    # THEN it is an edit at seq 3, and nothing else
    assert kinds(chain, head=store.head()) == [(3, "edited")]


def test_editing_the_hash_itself_is_detected():
    store, chain = build_chain(6)
    chain[3] = dataclasses.replace(chain[3], hash="0" * 64)
    # the entry no longer matches its hash, and the next one no longer links to it
    assert kinds(chain, head=store.head()) == [(4, "edited"), (5, "broken_link")]


def test_deleting_an_entry_is_a_gap_at_its_seq():
    # GIVEN an intact chain, WHEN entry 5 is deleted
    store, chain = build_chain(10)
    del chain[4]
    # THEN verify reports exactly one gap, at seq 5
    check = verify_chain(chain, head=store.head())
    assert [(p.seq, p.kind) for p in check.problems] == [(5, "gap")]
    assert "entry 5 is missing" in check.problems[0].detail


def test_deleting_a_run_of_entries_is_one_gap():
    store, chain = build_chain(10)
    del chain[3:6]
    check = verify_chain(chain, head=store.head())
    assert [(p.seq, p.kind) for p in check.problems] == [(4, "gap")]
    assert "4..6" in check.problems[0].detail


def test_deleting_the_first_entry_is_a_gap_at_one():
    store, chain = build_chain(5)
    assert kinds(chain[1:], head=store.head()) == [(1, "gap")]


def test_deleting_the_last_entries_is_a_gap_against_the_head():
    # GIVEN an intact chain, WHEN its last two entries are deleted (nothing else shows it but the head)
    store, chain = build_chain(10)
    assert verify_chain(chain[:8]).ok  # without the head, a truncated chain looks whole
    # THEN against the head, it is a gap from seq 9
    assert kinds(chain[:8], head=store.head()) == [(9, "gap")]


def test_swapping_two_entries_is_reordered():
    # GIVEN an intact chain, WHEN entries 4 and 5 come back in each other's place
    store, chain = build_chain(10)
    chain[3], chain[4] = chain[4], chain[3]
    # THEN verify reports the reordering once, not gaps or broken links
    assert kinds(chain, head=store.head()) == [(4, "reordered")]


def test_swapping_the_contents_under_the_same_seqs_is_detected():
    # GIVEN entries 4 and 5 whose contents (not numbers) were exchanged, each kept at its own seq
    store, chain = build_chain(10)
    a, b = chain[3], chain[4]
    chain[3] = dataclasses.replace(b, seq=4)
    chain[4] = dataclasses.replace(a, seq=5)
    # THEN both are edited
    assert {(4, "edited"), (5, "edited")} <= set(kinds(chain, head=store.head()))


def test_a_duplicated_entry_is_reported():
    store, chain = build_chain(6)
    chain.insert(3, chain[2])
    assert kinds(chain, head=store.head()) == [(3, "duplicate")]


def test_re_hashing_an_edited_entry_breaks_the_next_link():
    # GIVEN an intact chain, WHEN a forger edits entry 5's after-state and recomputes its hash
    store, chain = build_chain(10)
    chain[4] = rehash(chain[4], after={"status": "closed"})
    # THEN entry 5 looks whole, but entry 6 no longer links to it
    assert kinds(chain, head=store.head()) == [(6, "broken_link")]


def test_re_linking_the_whole_tail_still_shows_against_the_head():
    # GIVEN a forger who edits entry 5 and re-hashes and re-links every entry after it
    store, chain = build_chain(10)
    chain[4] = rehash(chain[4], reason="không có gì")
    for i in range(5, 10):
        chain[i] = rehash(chain[i], prev_hash=chain[i - 1].hash)
    # THEN the chain is self-consistent, yet the head recorded at write time no longer matches
    assert verify_chain(chain).ok
    assert kinds(chain, head=store.head()) == [(10, "broken_link")]


def test_rewriting_chain_and_head_still_shows_against_an_anchor_noted_earlier():
    # GIVEN an inspector who noted entry 7's hash, WHEN a forger rewrites entries 5..10 and the head too
    _, chain = build_chain(10)
    anchor = {7: chain[6].hash}
    chain[4] = rehash(chain[4], reason="không có gì")
    for i in range(5, 10):
        chain[i] = rehash(chain[i], prev_hash=chain[i - 1].hash)
    forged_head = (chain[-1].seq, chain[-1].hash)
    # THEN only the anchor betrays it, at seq 7
    assert kinds(chain, head=forged_head) == []
    assert kinds(chain, head=forged_head, anchors=anchor) == [(7, "broken_link")]


def test_a_first_entry_not_linked_to_genesis_is_a_broken_link():
    _, chain = build_chain(3)
    chain[0] = rehash(chain[0], prev_hash="a" * 64)
    assert kinds(chain) == [(1, "broken_link"), (2, "broken_link")]


# --------------------------------------------------------------------------- concurrent writers


def test_a_writer_that_loses_a_race_relinks_and_the_chain_stays_gapless():
    # GIVEN a chain of 3 and another official who appends between our read of the head and our append
    store, _ = build_chain(3)
    other = AuditLog(store, sleep=no_sleep)
    store.race.append(lambda s: other.record(HANOI, "content.publish", "content", "c-9", None, {"v": 1}, now=T0))
    # WHEN we record
    mine = AuditLog(store, sleep=no_sleep).record(
        MINISTRY, "survey.close", "survey", "s1", {"open": True}, {"open": False}
    )
    # THEN we got one conflict, retried, and landed after the other writer's entry
    assert store.conflicts == 1
    assert mine.seq == 5
    assert mine.prev_hash == store.entries[4].hash
    check = verify_chain(store.chain(), head=store.head())
    assert check.ok, check.problems
    assert [e.seq for e in store.chain()] == [1, 2, 3, 4, 5]


def test_many_interleaved_writers_produce_one_gapless_chain():
    # GIVEN 30 records, a third of which each race another official's record
    store = FakeAuditStore()
    log = AuditLog(store, sleep=no_sleep)
    for i in range(30):
        if i % 3 == 0:
            store.race.append(lambda s, i=i: AuditLog(s).record(HANOI, "qa.answer", "question", f"q{i}", None, {}))
        log.record(MINISTRY, "survey.edit", "survey", f"s{i}", {"n": i}, {"n": i + 1})
    # THEN every record landed exactly once, in one gapless verified chain
    assert store.conflicts == 10
    assert len(store.entries) == 40
    assert verify_chain(store.chain(), head=store.head()).ok


def test_a_writer_that_keeps_losing_gives_up_with_audit_conflict():
    # GIVEN a store where someone else always appends first
    store, _ = build_chain(1)
    racer = AuditLog(store, sleep=no_sleep)
    store.race.extend(
        (lambda s, k=k: racer.record(HANOI, "content.edit", "content", f"c{k}", None, None)) for k in range(5)
    )
    sleeps: list[float] = []
    # WHEN we try 5 times, THEN we give up with the busy error (a 503 at the edge), having backed off
    with pytest.raises(AuditConflict):
        AuditLog(store, attempts=5, sleep=sleeps.append).record(MINISTRY, "survey.open", "survey", "s1", None, None)
    assert len(sleeps) == 4
    assert sleeps == sorted(sleeps)
    assert AuditConflict().status == 503
    assert verify_chain(store.chain(), head=store.head()).ok


class LostAnswerStore(FakeAuditStore):
    """The first append lands but its answer is lost; the retry sees a moved head."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = False

    def append(self, entry: Any, expected_head_seq: int | None, alongside: Any = ()) -> None:
        super().append(entry, expected_head_seq, alongside)
        if not self.lost:
            self.lost = True
            raise AuditConflict()


def test_an_append_whose_answer_was_lost_is_not_written_twice():
    store = LostAnswerStore()
    entry = AuditLog(store, sleep=no_sleep).record(MINISTRY, "survey.open", "survey", "s1", None, {"open": True})
    assert store.appends == 1
    assert store.chain() == [entry]


# --------------------------------------------------------------------------- CSV export


def test_csv_has_a_bom_keeps_vietnamese_and_every_column():
    # GIVEN a chain with Vietnamese names and states
    _, chain = build_chain(4)
    # WHEN it is exported
    data = to_csv(chain)
    # THEN it starts with the UTF-8 BOM (Excel then reads UTF-8), and Vietnamese survives intact
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "seq",
        "at",
        "actor_sub",
        "actor_name",
        "actor_role",
        "actor_agency",
        "action",
        "target_type",
        "target_id",
        "before",
        "after",
        "reason",
        "prev_hash",
        "hash",
    ]
    assert [r["seq"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[0]["actor_name"] == "Nguyễn Thị Hạnh"
    assert rows[0]["actor_agency"] == ""  # national
    assert rows[1]["actor_agency"] == "P01"
    assert rows[3]["reason"] == "Theo Quyết định 433/QĐ-BNV"
    assert json.loads(rows[0]["after"])["tiêu_đề"] == "Khảo sát mức độ hài lòng"
    assert "Khảo sát mức độ hài lòng" in rows[0]["after"]  # not \u-escaped
    # AND an inspector can re-verify the chain from the file alone
    assert rows[1]["prev_hash"] == rows[0]["hash"] == chain[0].hash


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://x","bấm")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_csv_defuses_formula_injection(payload):
    # GIVEN an official whose name and reason start like a spreadsheet formula
    store = FakeAuditStore()
    AuditLog(store).record(
        Actor(sub="u-7", name=payload, role="agency_editor", agency="P79"),
        "content.edit",
        "content",
        payload,
        None,
        {"x": 1},
        reason=payload,
        now=T0,
    )
    # WHEN exported
    row = next(csv.DictReader(io.StringIO(to_csv(store.chain()).decode("utf-8-sig"))))
    # THEN each such cell starts with an apostrophe, so a spreadsheet shows it as text
    for column in ("actor_name", "target_id", "reason"):
        assert row[column] == "'" + payload, column
    assert row["after"] == '{"x":1}'
