"""In-memory twins of the repositories, for unit tests without a network."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.domain.errors import SurveyNotFound, SurveyVersionMismatch
from chalicelib.domain.responses import Response
from chalicelib.domain.survey import Survey

ROOT = Path(__file__).resolve().parents[2]
SIPAS_PATH = ROOT / "infra" / "local" / "seed" / "sipas-2026.xlsx"


def sipas_definition() -> dict[str, Any]:
    from infra.local.seed import load_survey

    return load_survey(SIPAS_PATH)


class FakeCatalog:
    def __init__(self, *definitions: dict[str, Any]) -> None:
        self.surveys = {(d["id"], d["version"]): Survey.from_definition(d) for d in definitions}

    def get(self, survey_id: str, version: int | None = None) -> Survey:
        versions = [v for (sid, v) in self.surveys if sid == survey_id]
        if not versions:
            raise SurveyNotFound()
        if version is None:
            version = max(versions)
        if (survey_id, version) not in self.surveys:
            raise SurveyVersionMismatch(field="/survey_version")
        return self.surveys[(survey_id, version)]

    def list_current(self) -> list[Survey]:
        latest: dict[str, Survey] = {}
        for (survey_id, _), survey in sorted(self.surveys.items()):
            latest[survey_id] = survey  # versions in order: the last one stays
        return [latest[survey_id] for survey_id in sorted(latest)]


class FakeResponseStore:
    """The responses table in memory, with its stream: every write appends a ResponseChange (old and new
    images, a rising sequence number), as DynamoDB Streams with NEW_AND_OLD_IMAGES would. The updates
    mirror chalicelib/store/responses.py, attribute for attribute and condition for condition."""

    FIRST_SEQUENCE = 4421584500000000017450439000  # the size of a real stream sequence number

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.writes = 0
        self.stream: list[Any] = []  # ResponseChange, in order
        self.images: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []  # raw (old, new) items

    def _record(self, event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        from chalicelib.domain.changes import ResponseChange

        sequence = str(self.FIRST_SEQUENCE + len(self.stream) + 1)
        image = lambda item: Response.from_item(copy.deepcopy(item)) if item else None
        self.stream.append(ResponseChange(sequence, event, image(old), image(new)))
        self.images.append((copy.deepcopy(old), copy.deepcopy(new)))

    def _update(self, response_id: str, change: Any) -> None:
        old = copy.deepcopy(self.items[response_id])
        change(self.items[response_id])
        self.writes += 1
        self._record("MODIFY", old, self.items[response_id])

    def create(self, response: Response) -> bool:
        if response.response_id in self.items:
            return False
        self.writes += 1
        self.items[response.response_id] = copy.deepcopy(response.to_item())
        self._record("INSERT", None, self.items[response.response_id])
        return True

    def get(self, response_id: str) -> Response | None:
        item = self.items.get(response_id)
        return Response.from_item(copy.deepcopy(item)) if item else None

    def set_verdict(self, response_id: str, status: str, reasons: list[str], screened_at: str) -> bool:
        item = self.items.get(response_id)
        if not item or item["status"] != "received":
            return False
        self._update(response_id, lambda i: i.update(status=status, reasons=reasons, screened_at=screened_at))
        return True

    def withdraw(self, response_id: str, at: str) -> bool:
        item = self.items.get(response_id)
        if not item or item["status"] == "withdrawn":
            return False

        def change(i: dict[str, Any]) -> None:
            i.update(status="withdrawn", answers={}, withdrawn_at=at)
            for name in ("identifiers", "honeypot", "paradata"):
                i.pop(name, None)

        self._update(response_id, change)
        return True

    def strip_personal(self, response_id: str, at: str) -> bool:
        if response_id not in self.items:
            return False

        def change(i: dict[str, Any]) -> None:
            i["personal_data_removed_at"] = at
            i.pop("identifiers", None)
            i.pop("honeypot", None)
            (i.get("paradata") or {}).pop("user_agent", None)

        self._update(response_id, change)
        return True

    def delete(self, response_id: str) -> None:
        """An item removed around the API (a purge, or a test's clean-up): a REMOVE record."""
        old = self.items.pop(response_id)
        self._record("REMOVE", old, None)

    def iter_survey(self, survey_key: str) -> Any:
        return [copy.deepcopy(i) for _, i in sorted(self.items.items()) if i.get("survey_key") == survey_key]

    def iter_field(self, survey_key: str) -> Any:
        """The sparse index by_field: items that carry field_key (field interviews) only."""
        return [copy.deepcopy(i) for _, i in sorted(self.items.items()) if i.get("field_key") == survey_key]


class AllLocations:
    """Accepts the seeded geography's real provinces and communes (loaded from the committed file)."""

    def __call__(self, name: str) -> Any:
        from chalicelib.reference.geography import load_geography

        return load_geography(name)


class FakeAuditStore:
    """The audit table in memory: entries by seq and a head, appended under the same condition as DynamoDB's.

    `race` lets a test slip other writers' entries in between a record()'s read of the head and its
    append, as a concurrent official would.
    """

    def __init__(self) -> None:
        from chalicelib.domain.audit import AuditEntry

        self.entries: dict[int, AuditEntry] = {}
        self._head: tuple[int, str] | None = None
        self.appends = 0
        self.conflicts = 0
        self.race: list[Any] = []  # callables run (once each) just before an append
        self._racing = False

    def head(self) -> tuple[int, str] | None:
        return self._head

    def append(self, entry: Any, expected_head_seq: int | None, alongside: Any = ()) -> None:
        """`alongside`: FakeWrite objects of fake repositories, checked and applied with the entry."""
        from chalicelib.domain.audit import AuditConflict

        if self.race and not self._racing:
            self._racing = True  # the racer's own append must not set off the next race
            try:
                self.race.pop(0)(self)
            finally:
                self._racing = False
        current = None if self._head is None else self._head[0]
        if current != expected_head_seq or entry.seq in self.entries:
            self.conflicts += 1
            raise AuditConflict()
        for write in alongside:
            write.check()  # raises EditConflict, as DynamoDB cancels the whole transaction
        for write in alongside:
            write.apply()
        self.appends += 1
        self.entries[entry.seq] = entry
        self._head = (entry.seq, entry.hash)

    def chain(self) -> list[Any]:
        return [self.entries[seq] for seq in sorted(self.entries)]


class FakeWrite:
    """A conditional write of a fake repository, run inside the fake audit store's 'transaction'."""

    def __init__(self, check: Any, apply: Any) -> None:
        self.check = check
        self.apply = apply


class FakeAgencySettingsStore:
    def __init__(self) -> None:
        self.items: dict[str, Any] = {}

    def get(self, agency: str) -> Any:
        from chalicelib.domain.agencies import AgencySettings

        return self.items.get(agency) or AgencySettings(agency)

    def cached(self, agency: str) -> Any:
        return self.get(agency)

    def all(self) -> dict[str, Any]:
        return dict(self.items)

    def save_change(self, settings: Any, expected_version: int) -> FakeWrite:
        from chalicelib.domain.errors import EditConflict

        def check() -> None:
            if self.get(settings.agency).version != expected_version:
                raise EditConflict()

        def apply() -> None:
            self.items[settings.agency] = settings

        return FakeWrite(check, apply)


class FakeDirectory:
    """The officials' identity directory in memory: an IdentityDirectory (chalicelib/domain/users.py).

    `calls` logs every call as (method, username or None), in order. `on_call`, when set, runs at the
    start of each call with the method's name (a test reads what the audit log held at that moment).
    `fail_next(error, method)` makes the next call (of that method, when one is named) raise `error`
    without changing anything, as a directory that refuses or is down would.
    """

    def __init__(self, *users: Any) -> None:
        self.users: dict[str, Any] = {u.username: u for u in users}
        self.calls: list[tuple[str, str | None]] = []
        self.on_call: Any = None
        self._failure: tuple[str | None, BaseException] | None = None
        self._created = 0

    def fail_next(self, error: BaseException, method: str | None = None) -> None:
        self._failure = (method, error)

    def _enter(self, method: str, username: str | None = None) -> None:
        self.calls.append((method, username))
        if self.on_call is not None:
            self.on_call(method)
        if self._failure is not None and self._failure[0] in (None, method):
            error = self._failure[1]
            self._failure = None
            raise error

    def _existing(self, username: str) -> Any:
        from chalicelib.domain.users import UserNotFound

        user = self.users.get(username)
        if user is None:
            raise UserNotFound(field="username")
        return user

    def list_users(self) -> list[Any]:
        self._enter("list_users")
        return [self.users[name] for name in sorted(self.users)]

    def get_user(self, username: str) -> Any:
        self._enter("get_user", username)
        return self._existing(username)

    def create_user(self, user: Any) -> Any:
        from chalicelib.domain.users import Created, DirectoryUser, UserExists

        self._enter("create_user", user.username)
        if user.username in self.users:
            raise UserExists(field="username")
        self._created += 1
        created = DirectoryUser(
            username=user.username,
            name=user.name,
            email=user.email,
            roles=tuple(sorted(set(user.roles))),
            agency=user.agency,
            enabled=True,
            status="FORCE_CHANGE_PASSWORD",
            created_at="2026-03-01T02:00:00Z",
        )
        self.users[user.username] = created
        return Created(created, temporary_password=f"temp-{self._created:04d}-{user.username}")

    def set_access(self, username: str, roles: tuple[str, ...], agency: str) -> Any:
        import dataclasses

        self._enter("set_access", username)
        user = dataclasses.replace(self._existing(username), roles=tuple(sorted(set(roles))), agency=agency)
        self.users[username] = user
        return user

    def set_enabled(self, username: str, enabled: bool) -> Any:
        import dataclasses

        self._enter("set_enabled", username)
        user = dataclasses.replace(self._existing(username), enabled=enabled)
        self.users[username] = user
        return user


class WorkerKilled(RuntimeError):
    """A fake store's stand-in for a Lambda killed (timeout, out of memory) at a chosen moment."""


class FakeAggregateStore:
    """The aggregates table in memory, with the real store's transaction rules (chalicelib/store/aggregates.py).

    One apply() is one TransactWriteItems: its counters and markers land together or not at all; more
    than `transaction_items` actions are refused; a marker that does not hold the value the caller read
    fails the whole transaction (MarkerMoved), unless every marker already holds the value this one sets
    (an earlier attempt of it landed). `crash[n] = "before_commit" | "after_commit"` kills the n-th
    apply() call (counted from 1) on that side of its commit.
    """

    def __init__(self, transaction_items: int | None = None) -> None:
        from chalicelib.domain.counting import TRANSACTION_ITEMS

        self.limit = transaction_items or TRANSACTION_ITEMS
        self.counters: dict[tuple[str, str], dict[str, int]] = {}
        self.seen: dict[str, str] = {}
        self.committed: list[tuple[Any, Any]] = []  # (delta, markers) of every transaction that landed
        self.crash: dict[int, str] = {}
        self.calls = 0

    def markers(self, response_ids: Any) -> dict[str, str]:
        return {r: self.seen[r] for r in set(response_ids) if r in self.seen}

    def apply(self, delta: Any, markers: Any) -> int:
        from chalicelib.domain.counting import MarkerMoved

        self.calls += 1
        crash = self.crash.pop(self.calls, None)
        if crash == "before_commit":
            raise WorkerKilled("killed before the transaction")
        if len(delta) + len(markers) > self.limit:
            raise ValueError(f"{len(delta) + len(markers)} items do not fit one transaction")
        if not delta and not markers:
            return 0
        if any(self.seen.get(rid) != previous for rid, (previous, _) in markers.items()):
            if all(self.seen.get(rid) == new for rid, (_, new) in markers.items()):
                return 1
            raise MarkerMoved(", ".join(sorted(markers)))
        for key, cells in delta.items():
            item = self.counters.setdefault(key, {})
            for cell, value in cells.items():
                item[cell] = item.get(cell, 0) + value  # DynamoDB's ADD: a counter at zero stays, as 0
        self.seen.update({rid: new for rid, (_, new) in markers.items()})
        self.committed.append((copy.deepcopy(delta), dict(markers)))
        if crash == "after_commit":
            raise WorkerKilled("killed after the transaction")
        return 1

    def nonzero(self) -> dict[tuple[str, str], dict[str, int]]:
        """The counters as a recount would give them (merge() drops zeros too)."""
        out = {key: {c: v for c, v in cells.items() if v} for key, cells in self.counters.items()}
        return {key: cells for key, cells in out.items() if cells}

    def scope_items(self, pk: str) -> list[dict[str, Any]]:
        return [{"pk": p, "sk": sk, **cells} for (p, sk), cells in sorted(self.counters.items()) if p == pk]

    def scan_prefix(self, prefix: str) -> list[dict[str, Any]]:
        return [
            {"pk": p, "sk": sk, **cells} for (p, sk), cells in sorted(self.counters.items()) if p.startswith(prefix)
        ]


class FakeObjectStore:
    """An S3 bucket in memory, versioned like the lake bucket: an overwrite or a delete keeps the earlier
    version (a delete leaves a delete marker) until forget_history removes every non-current version.

    `crash = {"put": n}` (or "delete") kills the n-th call of that method, counted from 1, before it
    writes: a worker dying between the writes of one batch.
    """

    def __init__(self) -> None:
        self.versions: dict[str, list[bytes | None]] = {}  # key -> versions, oldest first; None: a delete marker
        self.content_types: dict[str, str] = {}
        self.calls: dict[str, int] = {}
        self.crash: dict[str, int] = {}

    def _enter(self, method: str) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1
        if self.crash.get(method) == self.calls[method]:
            raise WorkerKilled(f"killed before {method} #{self.calls[method]}")

    def put(self, key: str, body: bytes, content_type: str, metadata: dict[str, str] | None = None) -> None:
        self._enter("put")
        self.versions.setdefault(key, []).append(bytes(body))
        self.content_types[key] = content_type

    def get(self, key: str) -> bytes | None:
        versions = self.versions.get(key)
        return versions[-1] if versions else None

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(k for k, v in self.versions.items() if k.startswith(prefix) and v and v[-1] is not None)

    def list(self, prefix: str = "") -> list[Any]:
        from chalicelib.store.objects import StoredObject

        return [StoredObject(k, len(self.get(k) or b""), "2026-06-01T19:00:00+00:00") for k in self.keys(prefix)]

    def delete(self, key: str) -> None:
        self._enter("delete")
        if self.versions.get(key):
            self.versions[key].append(None)

    def forget_history(self, prefix: str) -> int:
        self._enter("forget_history")
        forgotten = 0
        for key in [k for k in self.versions if k.startswith(prefix)]:
            versions = self.versions[key]
            forgotten += len(versions) - (versions[-1] is not None)
            if versions[-1] is None:
                del self.versions[key]
            else:
                self.versions[key] = versions[-1:]
        return forgotten

    def every_version(self, prefix: str = "") -> list[tuple[str, bytes]]:
        """Every stored body under the prefix, earlier versions included: all a reader of the bucket could find."""
        return [(k, v) for k, vs in sorted(self.versions.items()) if k.startswith(prefix) for v in vs if v is not None]


@dataclass
class LambdaContext:
    """What Powertools' inject_lambda_context reads from the Lambda context."""

    function_name: str = "par-dev-Worker-Ab12"
    memory_limit_in_mb: str = "512"
    invoked_function_arn: str = "arn:aws:lambda:ap-southeast-1:123456789012:function:par-dev-Worker-Ab12"
    aws_request_id: str = "5f2d1a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"


class FakeSurveyVersions:
    """The surveys table's authoring port in memory (chalicelib/store/surveys.py: versions, save_change)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, int], Any] = {}

    def versions(self, survey_id: str) -> list[Any]:
        return [copy.deepcopy(self.items[k]) for k in sorted(self.items) if k[0] == survey_id]

    def all_versions(self) -> list[Any]:
        return [copy.deepcopy(self.items[k]) for k in sorted(self.items)]

    def save_change(self, record: Any, expected_revision: int | None) -> FakeWrite:
        from chalicelib.domain.errors import EditConflict

        key = (record.survey_id, record.version)

        def check() -> None:
            stored = self.items.get(key)
            if (expected_revision is None) != (stored is None):
                raise EditConflict()
            if stored is not None and stored.revision != expected_revision:
                raise EditConflict()

        def apply() -> None:
            self.items[key] = copy.deepcopy(record)

        return FakeWrite(check, apply)


class FakePaperStore:
    """The fieldwork table's paper# items and the responses they created, in memory (chalicelib/store/paper.py)."""

    def __init__(self) -> None:
        self._copy = copy.deepcopy
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.responses: dict[str, Any] = {}

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        found = self.items.get((pk, sk))
        return self._copy(found) if found else None

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        keys = sorted(k for k in self.items if k[0] == pk and k[1].startswith(sk_prefix))
        return [self._copy(self.items[k]) for k in keys]

    def put_new(self, item: dict[str, Any]) -> bool:
        key = (item["pk"], item["sk"])
        if key in self.items:
            return False
        self.items[key] = self._copy(item)
        return True

    def put_with_response(self, item: dict[str, Any], response: Any) -> bool:
        if (item["pk"], item["sk"]) in self.items or response.response_id in self.responses:
            return False
        self.items[(item["pk"], item["sk"])] = self._copy(item)
        self.responses[response.response_id] = response
        return True
