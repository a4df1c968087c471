"""The audit log over real DynamoDB (moto server, HTTP): appends chain, racing writers stay gapless,
and tampering done around the system (edit, delete) is caught by `python -m chalicelib.audit_cli verify`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from chalicelib import audit_cli, wiring
from chalicelib.domain.audit import Actor, AuditConflict, build_entry
from chalicelib.store.audit import HEAD_KEY, AuditRepository, seq_key, to_item

ROOT = Path(__file__).resolve().parents[2]
OFFICIALS = [
    Actor(sub="u-001", name="Nguyễn Thị Hạnh", role="survey_manager"),
    Actor(sub="u-042", name="Trần Văn Đức", role="agency_admin", agency="P01"),
    Actor(sub="u-079", name="Lê Minh Châu", role="agency_editor", agency="P79"),
]


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = audit_cli.main(list(args), out=out)
    return code, out.getvalue()


def verify_json() -> tuple[int, dict[str, Any]]:
    code, text = run_cli("verify", "--json")
    return code, json.loads(text)


def record_many(n: int, start: int = 0) -> None:
    log = wiring.audit()
    for i in range(start, start + n):
        log.record(
            OFFICIALS[i % 3],
            "survey.publish",
            "survey",
            f"sipas-2026#{i}",
            before={"status": "draft", "version": i},
            after={"status": "open", "version": i, "ghi_chú": "Phiếu khảo sát SIPAS"},
            reason="Phê duyệt theo kế hoạch" if i % 5 == 0 else None,
        )


@pytest.fixture
def audit_table(live_stack) -> dict[str, Any]:
    """The deployed audit table: the one PAR_AUDIT_TABLE names, and a raw client to tamper with it."""
    name = live_stack.physical_id("AuditTable")
    assert os.environ["PAR_AUDIT_TABLE"] == name
    return {"name": name, "ddb": live_stack.client("dynamodb")}


def test_appends_chain_and_verify_reports_intact_then_catches_an_edit_and_a_deletion(live_stack, audit_table):
    # GIVEN twenty actions recorded through the service, after whatever the log already held
    repository = AuditRepository()
    base = (repository.head() or (0, ""))[0]
    record_many(20)
    assert repository.head()[0] == base + 20
    # WHEN the verification command runs, THEN it reports the chain intact and exits 0
    code, text = run_cli("verify")
    assert code == 0, text
    assert "INTACT" in text
    assert f"{base + 20} entries checked" in text
    _, report = verify_json()
    anchor = f"{report['last_seq']}:{report['last_hash']}"

    # GIVEN someone with table access edits entry 7's after-state and deletes entry 12, around the service
    ddb, table = audit_table["ddb"], audit_table["name"]
    edited, deleted = base + 7, base + 12
    keys = {seq: {"pk": {"S": "chain"}, "sk": {"S": seq_key(seq)}} for seq in (edited, deleted)}
    originals = {seq: ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"] for seq, key in keys.items()}
    try:
        ddb.update_item(
            TableName=table,
            Key=keys[edited],
            UpdateExpression="SET #after = :after",
            ExpressionAttributeNames={"#after": "after"},
            ExpressionAttributeValues={":after": {"S": json.dumps({"status": "closed"})}},
        )
        ddb.delete_item(TableName=table, Key=keys[deleted])
        # WHEN the command runs again
        code, report = verify_json()
        # THEN it exits 1 and names both problems where they are
        assert code == 1
        assert report["ok"] is False
        problems = [(p["seq"], p["kind"]) for p in report["problems"]]
        assert problems == [(edited, "edited"), (deleted, "gap")]
        code, text = run_cli("verify")
        assert code == 1
        assert "BROKEN" in text
        assert f"seq {edited}: edited" in text
        assert f"seq {deleted}: gap" in text
        # AND the anchor noted while it was intact points at the same damage
        code, _ = run_cli("verify", "--anchor", anchor)
        assert code == 1
    finally:
        # Put the two items back as they were, so a later test finds an intact log to append to.
        for item in originals.values():
            ddb.put_item(TableName=table, Item=item)
    assert verify_json()[0] == 0


def test_the_command_runs_as_a_module_with_the_stacks_environment(live_stack, audit_table, tmp_path):
    # GIVEN a few entries, one of them with a name that looks like a spreadsheet formula
    record_many(2, start=100)
    wiring.audit().record(
        Actor(sub="u-x", name='=HYPERLINK("http://evil")', role="agency_editor", agency="P79"),
        "content.edit",
        "content",
        "bai-viet-1",
        None,
        {"tiêu_đề": "Cải cách hành chính"},
    )
    env = {**os.environ, **live_stack.environment(), "PYTHONPATH": str(ROOT)}
    # WHEN `python -m chalicelib.audit_cli verify` runs in its own process
    verify = subprocess.run(
        [sys.executable, "-m", "chalicelib.audit_cli", "verify"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # THEN it reports the chain intact
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "INTACT" in verify.stdout
    # AND `export --out` writes a CSV an inspector can open in Excel
    out = tmp_path / "audit.csv"
    export = subprocess.run(
        [sys.executable, "-m", "chalicelib.audit_cli", "export", "--out", str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert export.returncode == 0, export.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    head = AuditRepository().head()
    assert head is not None
    assert [int(r["seq"]) for r in rows] == list(range(1, head[0] + 1))
    assert rows[-1]["hash"] == head[1]
    assert rows[-1]["actor_name"] == '\'=HYPERLINK("http://evil")'
    assert "Cải cách hành chính" in rows[-1]["after"]


def test_racing_writers_produce_one_gapless_chain(live_stack, audit_table):
    # GIVEN four officials saving at the same moment, five actions each
    repository = AuditRepository()
    base = (repository.head() or (0, ""))[0]
    errors: list[BaseException] = []

    def official(k: int) -> None:
        try:
            record_many(5, start=1000 + 10 * k)
        except BaseException as exc:  # surfaced below: a thread's exception would vanish
            errors.append(exc)

    threads = [threading.Thread(target=official, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # THEN every action landed once, and the chain is gapless and verifies
    assert errors == []
    assert repository.head()[0] == base + 20
    targets = [e.target_id for e in repository.entries(from_seq=base + 1)]
    assert sorted(targets) == sorted(f"sipas-2026#{1000 + 10 * k + i}" for k in range(4) for i in range(5))
    code, report = verify_json()
    assert code == 0, report["problems"][:5]


def test_an_append_behind_the_head_is_refused_and_overwrites_nothing(live_stack, audit_table):
    # GIVEN the current head, WHEN a writer appends with a stale view of it (another official was faster)
    record_many(1, start=2000)
    repository = AuditRepository()
    seq, last_hash = repository.head()
    stale = build_entry(
        seq, "0" * 64, "2026-03-01T00:00:00.000000Z", OFFICIALS[0], "survey.open", "survey", "x", None, None
    )
    # THEN the transaction is refused as a conflict, and neither entry seq nor the head moved
    with pytest.raises(AuditConflict):
        repository.append(stale, expected_head_seq=seq - 1)
    assert repository.head() == (seq, last_hash)
    assert verify_json()[0] == 0


def test_verify_is_not_fooled_by_an_official_appending_while_it_reads(live_stack, audit_table):
    # GIVEN a verification whose reading is overtaken by two new appends (officials keep working)
    record_many(2, start=3000)

    class AppendsWhileRead(AuditRepository):
        def entries(self, from_seq: int = 1, to_seq: int | None = None) -> Any:
            for i, entry in enumerate(super().entries(from_seq, to_seq)):
                if i == 0 and from_seq == 1:
                    record_many(2, start=3100)
                yield entry

    # WHEN it runs, THEN the chain is intact: the new entries are simply after the head it read
    check, head_seq = audit_cli.verify(AppendsWhileRead())
    assert check.ok, check.problems
    assert AuditRepository().head()[0] == head_seq + 2


def test_verify_catches_an_entry_slipped_in_beyond_the_head_or_a_deleted_head(live_stack, audit_table):
    ddb, table = audit_table["ddb"], audit_table["name"]
    record_many(1, start=4000)
    repository = AuditRepository()
    seq, last_hash = repository.head()
    head_item = ddb.get_item(TableName=table, Key=HEAD_KEY, ConsistentRead=True)["Item"]
    # GIVEN a well-formed next entry written straight into the table, bypassing the head
    forged = build_entry(
        seq + 1,
        last_hash,
        "2026-03-01T00:00:00.000000Z",
        OFFICIALS[2],
        "user.grant",
        "user",
        "u-x",
        None,
        {"role": "system_admin"},
    )
    try:
        ddb.put_item(TableName=table, Item=to_item(forged))
        # THEN verify names it
        code, report = verify_json()
        assert code == 1
        assert [(p["seq"], p["kind"]) for p in report["problems"]] == [(seq + 1, "broken_link")]
    finally:
        ddb.delete_item(TableName=table, Key={"pk": {"S": "chain"}, "sk": {"S": seq_key(seq + 1)}})
    # GIVEN instead the head item deleted (which would hide a truncated tail)
    try:
        ddb.delete_item(TableName=table, Key=HEAD_KEY)
        # THEN verify says the head is missing
        code, report = verify_json()
        assert code == 1
        assert report["problems"][-1]["kind"] == "broken_link"
        assert "head item is missing" in report["problems"][-1]["detail"]
    finally:
        ddb.put_item(TableName=table, Item=head_item)
    assert verify_json()[0] == 0
