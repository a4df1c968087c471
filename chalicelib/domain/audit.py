"""The audit log ("nhật ký thao tác"): officials' state-changing actions, append-only and hash-chained.

Each entry carries the hash of the one before it, and its own hash covers every field (its sequence
number and that link included). Editing an entry changes its hash; deleting one leaves a gap in the
sequence; re-hashing an edited entry breaks the link of the next one; rewriting the whole tail moves
the head away from the value an inspector noted. `verify_chain` names each of these.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from chalicelib.domain.clock import stamp, utcnow
from chalicelib.domain.errors import DomainError

GENESIS = "0" * 64  # prev_hash of the first entry
RECORD_ATTEMPTS = 8  # a loser backs off 0.02, 0.04, ... s with jitter: 2.5-5 s at worst, inside an API call

ProblemKind = Literal["gap", "edited", "broken_link", "reordered", "duplicate"]


class AuditConflict(DomainError):
    """Another writer appended first (the head moved since we read it); the service re-reads and retries."""

    code = "audit_busy"
    status = 503
    message_vi = "Hệ thống đang bận ghi nhật ký; vui lòng thử lại sau giây lát."
    message_en = "The audit log is busy; try again in a moment."


@dataclass(frozen=True)
class Actor:
    """Who acted: the identity provider's subject, a display name, the role used and its agency (None: national)."""

    sub: str
    name: str
    role: str
    agency: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"sub": self.sub, "name": self.name, "role": self.role, "agency": self.agency}


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str  # ISO-8601 UTC, e.g. 2026-03-01T02:15:30.123456Z
    actor: Actor
    action: str  # e.g. "survey.publish"
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    prev_hash: str
    hash: str

    def hashed_fields(self) -> dict[str, Any]:
        """Every field except `hash`: what `entry_hash` covers."""
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor.to_dict(),
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "prev_hash": self.prev_hash,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.hashed_fields(), "hash": self.hash}

    @property
    def intact(self) -> bool:
        return entry_hash(self.hashed_fields()) == self.hash


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, Vietnamese kept as is (the hash input and the stored text)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(fields: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON of an entry's fields; a `hash` key, if present, is left out."""
    body = {k: v for k, v in fields.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _jsonable(value: Any) -> Any:
    # Values read from DynamoDB (Decimal) or domain objects (datetime) become plain JSON here, once,
    # so that the entry we return hashes exactly like the one read back later.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON: audit snapshots hold plain data")


def snapshot(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A deep, JSON-only copy of a before/after state (a later change to the caller's dict cannot alter it)."""
    if value is None:
        return None
    return json.loads(json.dumps(dict(value), default=_jsonable, allow_nan=False))


def utc_timestamp(moment: datetime) -> str:
    return stamp(moment)


def build_entry(
    seq: int,
    prev_hash: str,
    at: str,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    reason: str | None = None,
) -> AuditEntry:
    """The entry that follows (seq - 1, prev_hash), its hash computed."""
    fields: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "actor": actor.to_dict(),
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "before": snapshot(before),
        "after": snapshot(after),
        "reason": reason,
        "prev_hash": prev_hash,
    }
    return AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=fields["before"],
        after=fields["after"],
        reason=reason,
        prev_hash=prev_hash,
        hash=entry_hash(fields),
    )


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: ProblemKind
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "detail": self.detail}


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    last_seq: int | None = None  # highest sequence number seen
    last_hash: str | None = None  # its hash: what an inspector notes down as an anchor
    problems: list[ChainProblem] = field(default_factory=list)


def _missing(first: int, last: int) -> str:
    return f"entry {first} is missing" if first == last else f"entries {first}..{last} are missing"


def verify_chain(
    entries: Iterable[AuditEntry],
    head: tuple[int, str] | None = None,
    anchors: Mapping[int, str] | None = None,
) -> ChainCheck:
    """Check a whole chain in stored order (seq 1 first).

    Reports, each with the sequence number where it shows:
    - "edited": an entry's hash does not match its fields;
    - "gap": sequence numbers are missing (in the middle, or at the end when `head` says more exist);
    - "broken_link": an entry's prev_hash is not the hash of the entry before it (an edited entry was
      re-hashed), or `head` names a hash the last entry does not have (the tail was rewritten);
    - "reordered": an entry comes after one with a higher sequence number;
    - "duplicate": a sequence number appears twice.
    `head` is the (seq, hash) the store's head item holds. `anchors` are {seq: hash} pairs noted
    earlier outside the system (a printed report, an inspector's notebook): a rewrite of the whole
    chain from genesis, head item included, still shows as a "broken_link" at the first anchor it moved.
    """
    problems: list[ChainProblem] = []
    # Only (hash, prev_hash) per seq is kept: years of entries with their states need not fit in memory.
    by_seq: dict[int, tuple[str, str]] = {}
    checked = 0
    highest = 0
    for entry in entries:
        checked += 1
        if not entry.intact:
            problems.append(ChainProblem(entry.seq, "edited", f"entry {entry.seq}'s hash does not match its content"))
        if entry.seq in by_seq:
            problems.append(ChainProblem(entry.seq, "duplicate", f"sequence number {entry.seq} appears twice"))
            continue  # the first copy stays the one links are checked against
        if entry.seq < highest:
            problems.append(ChainProblem(entry.seq, "reordered", f"entry {entry.seq} is stored after entry {highest}"))
        highest = max(highest, entry.seq)
        by_seq[entry.seq] = (entry.hash, entry.prev_hash)

    # Gaps and links are judged in sequence order, so a reordering is reported once, not as gaps too.
    previous: int | None = None
    for seq in sorted(by_seq):
        prev_hash = by_seq[seq][1]
        expected = 1 if previous is None else previous + 1
        if seq < 1:
            problems.append(ChainProblem(seq, "reordered", f"sequence number {seq} is below 1"))
        elif seq > expected:
            problems.append(ChainProblem(expected, "gap", _missing(expected, seq - 1)))
        elif previous is None and prev_hash != GENESIS:
            problems.append(ChainProblem(seq, "broken_link", "the first entry does not start from the genesis hash"))
        elif previous is not None and prev_hash != by_seq[previous][0]:
            problems.append(ChainProblem(seq, "broken_link", f"entry {seq} does not link to entry {previous}'s hash"))
        previous = seq

    last = previous
    if head is not None:
        head_seq, head_hash = head
        if last is None or head_seq > last:
            first_missing = 1 if last is None else last + 1
            problems.append(
                ChainProblem(first_missing, "gap", _missing(first_missing, head_seq) + " (the head is further)")
            )
        elif head_seq in by_seq and by_seq[head_seq][0] != head_hash:
            problems.append(
                ChainProblem(head_seq, "broken_link", f"the head records another hash for entry {head_seq}")
            )
        elif head_seq < last:
            # Entries beyond the head were written around the service (it moves both in one transaction).
            problems.append(ChainProblem(head_seq + 1, "broken_link", f"entries after the head ({head_seq}) exist"))

    for seq, noted in sorted((anchors or {}).items()):
        if seq in by_seq and by_seq[seq][0] != noted:
            problems.append(ChainProblem(seq, "broken_link", f"entry {seq} no longer has the hash noted for it"))
        elif seq not in by_seq and (last is None or seq > last) and (head is None or seq > head[0]):
            problems.append(ChainProblem(seq, "gap", f"entry {seq}, noted earlier, is missing"))
        # an anchor inside a gap (in the middle, or up to the head) is already reported by that gap

    problems.sort(key=lambda p: p.seq)
    return ChainCheck(
        ok=not problems,
        checked=checked,
        last_seq=last,
        last_hash=None if last is None else by_seq[last][0],
        problems=problems,
    )


# --------------------------------------------------------------------------- the service


class AuditStore(Protocol):
    """Where entries are kept: append-only, with a head (last seq, last hash) moved atomically with each append."""

    def head(self) -> tuple[int, str] | None: ...

    def append(self, entry: AuditEntry, expected_head_seq: int | None, alongside: Sequence[Any] = ()) -> None:
        """Add the entry and move the head to it, only if the head is still at expected_head_seq (None: empty).

        `alongside` are the audited change's own writes (from another repository of the same store),
        committed in the same transaction: the change and its entry land together or not at all.
        Raises AuditConflict when another writer appended first, EditConflict when a write alongside
        failed its own condition (someone else changed the object first).
        """
        ...


class AuditLog:
    """Records who did what to which object, with the before and after, as the next link of the chain."""

    def __init__(
        self,
        store: AuditStore,
        clock: Callable[[], datetime] = utcnow,
        attempts: int = RECORD_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._clock = clock
        self._attempts = attempts
        self._sleep = sleep

    def record(
        self,
        actor: Actor,
        action: str,
        target_type: str,
        target_id: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        reason: str | None = None,
        now: datetime | None = None,
        alongside: Sequence[Any] = (),
    ) -> AuditEntry:
        """Append one entry; on a concurrent append, re-read the head and link to the new one (a few tries)."""
        if not (actor.sub and action and target_type and target_id):
            raise ValueError("an audit entry needs an actor, an action and a target")
        at = utc_timestamp(now or self._clock())
        mine: AuditEntry | None = None
        for attempt in range(self._attempts):
            head = self._store.head()
            if mine is not None and head == (mine.seq, mine.hash):
                return mine  # our earlier attempt landed although its answer was lost
            seq, prev_hash = (1, GENESIS) if head is None else (head[0] + 1, head[1])
            mine = build_entry(seq, prev_hash, at, actor, action, target_type, target_id, before, after, reason)
            try:
                self._store.append(mine, None if head is None else head[0], alongside)
                return mine
            except AuditConflict:
                if attempt == self._attempts - 1:
                    raise
                # Jitter keeps two officials saving at the same moment from colliding again in step.
                self._sleep(0.02 * 2**attempt * (1 + random.random()))  # noqa: S311 (not cryptographic)
        raise AuditConflict()  # unreachable with attempts >= 1; keeps the return type honest


# --------------------------------------------------------------------------- export

CSV_COLUMNS = (
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
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run "=HYPERLINK(...)" typed into a name or reason: make it plain text.
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _json_cell(value: dict[str, Any] | None) -> str:
    return "" if value is None else canonical_json(value)


def to_csv(entries: Iterable[AuditEntry]) -> bytes:
    """The log for inspectors: UTF-8 with a BOM (Excel then shows Vietnamese), formulas defused."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        row = (
            e.seq,
            e.at,
            e.actor.sub,
            e.actor.name,
            e.actor.role,
            e.actor.agency,
            e.action,
            e.target_type,
            e.target_id,
            _json_cell(e.before),
            _json_cell(e.after),
            e.reason,
            e.prev_hash,
            e.hash,
        )
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


class AuditEntries(Protocol):
    def head(self) -> tuple[int, str] | None: ...

    def entries(self, from_seq: int = 1, to_seq: int | None = None) -> Iterable[AuditEntry]: ...


class AuditReader:
    """The audit log for inspectors: pages in sequence order, the latest entries, the whole log as CSV."""

    MAX_PAGE = 500

    def __init__(self, store: AuditEntries) -> None:
        self._store = store

    def page(self, from_seq: str | None, limit: str | None) -> dict[str, Any]:
        """from_seq and limit as sent in a query (their documented schemas already checked them)."""
        start = int(from_seq) if from_seq and from_seq.isdigit() else 1
        size = min(int(limit), self.MAX_PAGE) if limit and limit.isdigit() and int(limit) > 0 else 100
        entries = []
        for entry in self._store.entries(from_seq=start):
            entries.append(entry.to_dict())
            if len(entries) >= size:
                break
        next_seq = entries[-1]["seq"] + 1 if len(entries) == size else None
        return {"entries": entries, "next_from_seq": next_seq}

    def latest(self, count: int = 10) -> list[dict[str, Any]]:
        """The newest entries first, read from the head back (not the whole log)."""
        head = self._store.head()
        if head is None:
            return []
        first = max(1, head[0] - count + 1)
        return [e.to_dict() for e in self._store.entries(from_seq=first, to_seq=head[0])][::-1]

    def csv(self) -> bytes:
        return to_csv(self._store.entries())
