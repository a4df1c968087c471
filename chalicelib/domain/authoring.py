"""Survey authoring for officials ("soạn và phát hành phiếu"): drafts, versions, publishing, schedules, closing.

The life of one version: draft -> published -> closed ("open" is the former word for published).
- A draft is edited by replacing it whole. A published version's instrument never changes again:
  editing starts the next version as a draft, copied from the latest one. Only its window
  (opens_at, closes_at) may still move, and closing ends it for good.
- Publishing version N+1 supersedes N: N keeps accepting answers for a grace period (24 h unless the
  publisher says otherwise, 0 to 720 h), so a citizen who opened N's form can still send it; then N
  closes by its schedule. Every response keeps the version it answered (its survey_key): nothing in
  flight is refused early or re-labelled, and N's counts stay N's.
- The public reads only published (or closed) versions; drafts are for officials.

Who may: `survey.manage` on the survey's target (`target_of`): a national grant reaches every survey;
an agency grant (agency_editor) reaches only its agency's own ad hoc surveys (kind adhoc,
owner_agency = the agency). Every change is written in one transaction with its audit entry, as
agency settings are (chalicelib/domain/agencies.py): a change is never stored without its entry, and
each write names the revision it read (an `etag`), so two officials cannot overwrite each other.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.audit import AuditLog, canonical_json
from chalicelib.domain.clock import stamp, utcnow
from chalicelib.domain.errors import DomainError, EditConflict, InvalidDefinition, NotFound, SurveyNotFound
from chalicelib.domain.survey import Survey, parse_time

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

DRAFT, PUBLISHED, CLOSED = "draft", "published", "closed"
LEGACY_STATUS = {"open": PUBLISHED}
PERMISSION = "survey.manage"
DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 720
MAX_DEFINITION_BYTES = 350 * 1024  # a DynamoDB item holds 400 KB; the rest is the item's own attributes
# Keys whose value is a citizen-facing text ({"vi": ..., "en": ...}) wherever they appear in a definition.
TEXT_KEYS = frozenset({"title", "description", "topic", "intro", "text", "help", "constraint_message", "label"})


# --- errors ---------------------------------------------------------------------------------------
class MissingLanguage(DomainError):
    code = "missing_language"
    status = 400
    message_vi = "Phiếu còn nội dung chưa dịch đủ các ngôn ngữ đã khai báo (languages)."
    message_en = "Some texts lack a language listed in 'languages'."


class VersionNotDraft(DomainError):
    code = "version_not_draft"
    status = 409
    message_vi = "Phiên bản này đã phát hành nên không sửa được nữa; hãy tạo phiên bản mới để sửa."
    message_en = "This version is published and cannot change; start a new version to edit it."


class VersionNotPublished(DomainError):
    code = "version_not_published"
    status = 409
    message_vi = "Chỉ đóng được phiên bản đang phát hành."
    message_en = "Only a published version can be closed."


class VersionClosed(DomainError):
    code = "version_closed"
    status = 409
    message_vi = "Phiên bản này đã đóng; không đổi được lịch nhận phiếu."
    message_en = "This version is closed; its window cannot change."


class VersionSuperseded(DomainError):
    code = "version_superseded"
    status = 409
    message_vi = "Phiên bản này đã được thay bằng phiên bản mới; lịch nhận phiếu của nó không đổi được nữa."
    message_en = "A newer version superseded this one; its window can no longer change."


class SurveyExists(DomainError):
    code = "survey_exists"
    status = 409
    message_vi = "Mã khảo sát này đã được dùng; hãy chọn mã khác hoặc tạo phiên bản mới của khảo sát đó."
    message_en = "That survey id is taken; choose another, or start a new version of that survey."


class DraftExists(DomainError):
    code = "draft_exists"
    status = 409
    message_vi = "Khảo sát này đang có một bản nháp; hãy sửa bản nháp đó thay vì tạo bản mới."
    message_en = "This survey already has a draft; edit that draft instead."


class InvalidSchedule(DomainError):
    code = "invalid_schedule"
    status = 400
    message_vi = "Thời gian nhận phiếu không hợp lệ: thời điểm đóng phải sau thời điểm mở (dạng ISO 8601, có múi giờ)."
    message_en = "Invalid window: closes_at must come after opens_at (ISO 8601 with a time zone)."


# --- one stored version ---------------------------------------------------------------------------
def lifecycle_status(value: Any) -> str:
    text = str(value or DRAFT)
    return LEGACY_STATUS.get(text, text)


def target_of(definition: dict[str, Any]) -> str | None:
    """The agency a survey belongs to for permissions: its owner if it is an ad hoc survey, else none (national)."""
    if definition.get("kind") == "adhoc" and definition.get("owner_agency"):
        return str(definition["owner_agency"])
    return None


@dataclass(frozen=True)
class SurveyVersion:
    """One stored version: its definition and its life (who made it, when it was published or closed)."""

    survey_id: str
    version: int
    status: str
    definition: dict[str, Any]
    revision: int = 0  # +1 with every stored change; part of the etag
    created_at: str | None = None
    created_by: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None
    published_at: str | None = None
    closed_at: str | None = None
    superseded_by: int | None = None

    @property
    def key(self) -> str:
        return f"{self.survey_id}#{self.version}"

    @property
    def kind(self) -> str:
        return str(self.definition.get("kind") or "regular")

    @property
    def owner_agency(self) -> str | None:
        return target_of(self.definition)

    @property
    def etag(self) -> str:
        """What a writer must send back: changes with every stored change (a stale page gets 409)."""
        body = canonical_json([self.survey_id, self.version, self.revision, self.status, self.definition])
        return hashlib.sha256(body.encode("utf-8")).hexdigest()[:24]

    def accepting(self, now: datetime) -> bool:
        return self.status == PUBLISHED and Survey(definition=self.definition).is_open(now)

    def summary(self, now: datetime) -> dict[str, Any]:
        return {
            "version": self.version,
            "status": self.status,
            "etag": self.etag,
            "accepting": self.accepting(now),
            "opens_at": self.definition.get("opens_at"),
            "closes_at": self.definition.get("closes_at"),
            "languages": list(self.definition.get("languages") or ["vi"]),
            "title": self.definition.get("title"),
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
            "published_at": self.published_at,
            "closed_at": self.closed_at,
            "superseded_by": self.superseded_by,
        }


class SurveyVersions(Protocol):
    """Where versions are kept (chalicelib/store/surveys.py); writes happen only in the audit entry's transaction."""

    def versions(self, survey_id: str) -> list[SurveyVersion]:
        """Every version of one survey, oldest first, read consistently ([] for an unknown survey)."""
        ...

    def all_versions(self) -> list[SurveyVersion]: ...

    def save_change(self, record: SurveyVersion, expected_revision: int | None) -> Any:
        """The write of one version, conditional on its stored revision (None: the version must not exist yet)."""
        ...


# --- checking a definition ------------------------------------------------------------------------
def check_definition(definition: dict[str, Any]) -> Survey:
    """The contract (schemas/survey.schema.json) and the rules it cannot say (ids, scoring, expressions).

    The first problem found is raised as InvalidDefinition with its JSON pointer in `field`.
    """
    from fastjsonschema import JsonSchemaValueException

    from chalicelib.contracts import validator

    try:
        validator("survey")(definition)
    except JsonSchemaValueException as exc:
        path = "/" + "/".join(str(p) for p in exc.path[1:]) if len(exc.path) > 1 else "/"
        if exc.rule == "required":
            missing = [m for m in exc.rule_definition or [] if m not in (exc.value or {})]
            path = f"{path.rstrip('/')}/{missing[0] if missing else ''}"
        raise InvalidDefinition(
            f"Định nghĩa phiếu không hợp lệ tại {path}: {exc.message}.",
            f"The survey definition is not valid at {path}: {exc.message}.",
            field=path,
            details=[{"rule": str(exc.rule), "message": str(exc.message)[:300]}],
        ) from None
    _check_kind(definition)
    return Survey.from_definition(definition)


def _check_kind(definition: dict[str, Any]) -> None:
    """An ad hoc survey may belong to an agency (owner_agency; without one it is the Ministry's); no other kind does."""
    if (definition.get("kind") or "regular") != "adhoc" and definition.get("owner_agency"):
        raise InvalidDefinition(
            "Chỉ khảo sát chuyên đề (adhoc) mới thuộc một cơ quan (owner_agency).",
            "Only an ad hoc survey belongs to an agency (owner_agency).",
            field="/owner_agency",
        )


def texts(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every citizen-facing text of a definition with its JSON pointer."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}/{key}"
            if key in TEXT_KEYS and isinstance(value, dict):
                yield where, value
            else:
                yield from texts(value, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from texts(value, f"{path}/{index}")


def check_languages(definition: dict[str, Any]) -> None:
    """Every text has every language of `languages` (a non-blank string), and Vietnamese comes first."""
    languages = list(definition.get("languages") or ["vi"])
    if languages[0] != "vi":
        raise MissingLanguage(
            "Tiếng Việt (vi) phải là ngôn ngữ đầu tiên trong languages.",
            "Vietnamese (vi) must be the first of 'languages'.",
            field="/languages",
        )
    gaps: list[dict[str, Any]] = [
        {"field": where, "missing": missing}
        for where, text in texts(definition)
        if (missing := [lang for lang in languages if not str(text.get(lang) or "").strip()])
    ]
    if gaps:
        first = gaps[0]
        raise MissingLanguage(
            f"{len(gaps)} nội dung chưa có đủ ngôn ngữ; đầu tiên: {first['field']} thiếu {', '.join(first['missing'])}.",
            f"{len(gaps)} texts lack a language; first: {first['field']} lacks {', '.join(first['missing'])}.",
            field=str(first["field"]),
            details=gaps[:100],
        )


def check_window(opens_at: Any, closes_at: Any, now: datetime | None = None) -> None:
    """ISO instants with a zone, closes after opens (and, when `now` is given, closes in the future)."""
    moments: dict[str, datetime] = {}
    for name, value in (("opens_at", opens_at), ("closes_at", closes_at)):
        if value is None:
            continue
        try:
            moment = parse_time(str(value))
        except ValueError:
            raise InvalidSchedule(field=f"/{name}") from None
        if moment.tzinfo is None or "T" not in str(value):
            raise InvalidSchedule(field=f"/{name}")
        moments[name] = moment
    if "opens_at" in moments and "closes_at" in moments and moments["closes_at"] <= moments["opens_at"]:
        raise InvalidSchedule(field="/closes_at")
    if now is not None and "closes_at" in moments and moments["closes_at"] <= now:
        raise InvalidSchedule(
            "Thời điểm đóng đã qua: phiếu sẽ không nhận được câu trả lời nào.",
            "closes_at is in the past: the survey would accept nothing.",
            field="/closes_at",
        )


def _digest(definition: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(definition).encode("utf-8")).hexdigest()


def _instrument(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition without its life (status, window): what publishing freezes."""
    return {k: v for k, v in definition.items() if k not in ("status", "opens_at", "closes_at", "version")}


def _audited(record: SurveyVersion) -> dict[str, Any]:
    """A version as the audit log keeps it: its state and a digest of its definition (the table keeps the text)."""
    return {
        "version": record.version,
        "status": record.status,
        "revision": record.revision,
        "kind": record.kind,
        "owner_agency": record.owner_agency,
        "opens_at": record.definition.get("opens_at"),
        "closes_at": record.definition.get("closes_at"),
        "definition_sha256": _digest(record.definition),
    }


def _agency_prefix(principal: Principal, draft: dict[str, Any]) -> None:
    """An agency's own survey, created by that agency's editor, is named under the agency (p01-...): an editor
    cannot take a name the Ministry will want (sipas-2027) for a survey published on the national portal."""
    owner = target_of(draft)
    if owner is None or principal.can(PERMISSION, None):
        return
    prefix = f"{owner.lower()}-"
    if not str(draft["id"]).startswith(prefix):
        raise InvalidDefinition(
            f"Mã khảo sát của cơ quan phải bắt đầu bằng “{prefix}” (ví dụ {prefix}dvc-2026).",
            f"An agency's survey id must start with “{prefix}” (e.g. {prefix}dvc-2026).",
            field="/id",
        )


def _keeps_its_owner(versions: list[SurveyVersion], draft: dict[str, Any]) -> None:
    """Once published, a survey stays whose it is: a later version keeps its kind's owner (agency or national)."""
    public = [r for r in versions if r.status != DRAFT]
    if public and target_of(draft) != target_of(public[-1].definition):
        raise InvalidDefinition(
            "Phiên bản mới phải giữ cơ quan chủ quản của khảo sát (owner_agency và loại khảo sát).",
            "A new version keeps the survey's owner (owner_agency and kind).",
            field="/owner_agency",
        )


# --- the service ----------------------------------------------------------------------------------
class AuthoringService:
    def __init__(
        self,
        store: SurveyVersions,
        audit: AuditLog,
        known_agency: Callable[[str], bool],
        clock: Callable[[], datetime] = utcnow,
        response_count: Callable[[str], int] | None = None,
    ) -> None:
        self._store = store
        self._audit = audit
        self._known_agency = known_agency
        self._clock = clock
        self._response_count = response_count

    # --- reading --------------------------------------------------------------------------------
    def target(self, survey_id: str) -> str | None:
        """The agency a stored survey belongs to (the route guard's target); None for a national or unknown one.

        Read from its latest public version: a draft cannot hand a published survey to another agency (and a
        survey never published yet belongs to whom its draft says)."""
        found = self._store.versions(survey_id)
        public = [r for r in found if r.status != DRAFT]
        return target_of((public or found)[-1].definition) if found else None

    def overview(self, principal: Principal) -> list[dict[str, Any]]:
        """Every survey this official manages, with its versions, newest survey version last."""
        by_survey: dict[str, list[SurveyVersion]] = {}
        for record in self._store.all_versions():
            by_survey.setdefault(record.survey_id, []).append(record)
        return [
            self._describe(sorted(found, key=lambda r: r.version))
            for survey_id, found in sorted(by_survey.items())
            if principal.can(PERMISSION, target_of(max(found, key=lambda r: r.version).definition))
        ]

    def survey(self, principal: Principal, survey_id: str) -> dict[str, Any]:
        return self._describe(self._versions(principal, survey_id))

    def version(self, principal: Principal, survey_id: str, version: int) -> SurveyVersion:
        return self._pick(self._versions(principal, survey_id), version)

    def preview(self, principal: Principal, survey_id: str, version: int) -> Survey:
        """Any version, drafts included, as the citizens' form renders it."""
        return Survey.from_definition(self.version(principal, survey_id, version).definition)

    # --- changing -------------------------------------------------------------------------------
    def create(self, principal: Principal, definition: dict[str, Any], source: str = "json") -> SurveyVersion:
        """A new survey's first version, as a draft (version 1, status draft, whatever the body said)."""
        draft = self._as_draft(definition, 1)
        self._check_draft(draft)  # first: whose survey it is is read from a valid definition
        principal.require(PERMISSION, target_of(draft))
        survey_id = str(draft["id"])
        _agency_prefix(principal, draft)
        if self._store.versions(survey_id):
            raise SurveyExists(field="/id")
        record = self._new_record(principal, draft, 1)
        action = "survey.import" if source == "xlsform" else "survey.create"
        return self._write(principal, action, None, record, None)

    def replace_draft(
        self,
        principal: Principal,
        survey_id: str,
        version: int,
        definition: dict[str, Any],
        etag: str,
        source: str = "json",
    ) -> SurveyVersion:
        """A draft replaced whole. The survey id stays; an ad hoc survey stays with its agency."""
        versions = self._versions(principal, survey_id)
        before = self._current(versions, version, etag)
        if before.status != DRAFT:
            raise VersionNotDraft(field="version")
        draft = self._as_draft({**definition, "id": survey_id}, version)
        principal.require(PERMISSION, target_of(draft))  # an editor cannot hand the survey to another agency
        _keeps_its_owner(versions, draft)
        self._check_draft(draft)
        if draft == before.definition:
            return before  # nothing changed: no write, no audit entry
        after = self._changed(principal, before, definition=draft)
        action = "survey.import" if source == "xlsform" else "survey.edit"
        return self._write(principal, action, before, after, before.revision)

    def new_version(
        self,
        principal: Principal,
        survey_id: str,
        from_version: int | None = None,
        definition: dict[str, Any] | None = None,
        source: str = "json",
    ) -> SurveyVersion:
        """The next version as a draft: a copy of `from_version` (default the latest), or an imported definition."""
        versions = self._versions(principal, survey_id)
        drafts = [r for r in versions if r.status == DRAFT]
        if drafts:
            raise DraftExists(field="version", details=[{"draft_version": drafts[-1].version}])
        number = versions[-1].version + 1
        base = self._pick(versions, from_version or versions[-1].version)
        content = definition if definition is not None else copy.deepcopy(base.definition)
        content = (
            {k: v for k, v in content.items() if k not in ("opens_at", "closes_at")} if definition is None else content
        )
        draft = self._as_draft({**content, "id": survey_id}, number)
        principal.require(PERMISSION, target_of(draft))
        _keeps_its_owner(versions, draft)
        self._check_draft(draft)
        record = self._new_record(principal, draft, number)
        action = "survey.import" if source == "xlsform" else "survey.new_version"
        return self._write(principal, action, None, record, None, reason=f"from version {base.version}")

    def publish(
        self, principal: Principal, survey_id: str, version: int, etag: str, grace_hours: int | None = None
    ) -> SurveyVersion:
        """Publish a draft: every check passes, then the earlier published versions close after the grace period."""
        versions = self._versions(principal, survey_id)
        before = self._current(versions, version, etag)
        if before.status != DRAFT:
            raise VersionNotDraft(field="version")
        definition = {**before.definition, "status": PUBLISHED}
        check_definition(definition)
        check_languages(definition)
        now = self._clock()
        check_window(definition.get("opens_at"), definition.get("closes_at"), now)
        hours = DEFAULT_GRACE_HOURS if grace_hours is None else grace_hours
        if not 0 <= hours <= MAX_GRACE_HOURS:
            raise InvalidSchedule(
                f"Thời gian gia hạn cho phiên bản cũ phải từ 0 đến {MAX_GRACE_HOURS} giờ.",
                f"The grace period for earlier versions must be 0 to {MAX_GRACE_HOURS} hours.",
                field="grace_hours",
            )
        grace = timedelta(hours=hours)
        # the earlier versions keep accepting until the new one opens, then for the grace period
        opens = definition.get("opens_at")
        start = max(now, parse_time(str(opens))) if opens else now
        after = self._changed(principal, before, definition=definition, status=PUBLISHED, published_at=stamp(now))
        superseded = []
        for older in versions:
            if older.status != PUBLISHED or older.version >= version:
                continue
            ends = start + grace
            closes = older.definition.get("closes_at")
            if closes and parse_time(str(closes)) < ends:
                ends = parse_time(str(closes))
            window = {**older.definition, "closes_at": stamp(ends)}
            superseded.append((older, self._changed(principal, older, definition=window, superseded_by=version)))
        writes = [self._store.save_change(new, old.revision) for old, new in superseded]
        audit_after = {**_audited(after), "superseded": [_audited(new) for _, new in superseded]}
        self._audit.record(
            principal.actor(PERMISSION),
            "survey.publish",
            "survey",
            survey_id,
            _audited(before),
            audit_after,
            reason=f"grace {int(grace.total_seconds() // 3600)} h for earlier versions" if superseded else None,
            alongside=[self._store.save_change(after, before.revision), *writes],
        )
        return after

    def schedule(
        self,
        principal: Principal,
        survey_id: str,
        version: int,
        etag: str,
        opens_at: str | None,
        closes_at: str | None,
    ) -> SurveyVersion:
        """Set a version's window (a draft's or a published one's; a closed version's is final)."""
        versions = self._versions(principal, survey_id)
        before = self._current(versions, version, etag)
        if before.status == CLOSED:
            raise VersionClosed(field="version")
        if before.superseded_by is not None:  # its closing follows the newer version's opening
            raise VersionSuperseded(field="version")
        check_window(opens_at, closes_at, self._clock() if before.status == PUBLISHED else None)
        definition = {k: v for k, v in before.definition.items() if k not in ("opens_at", "closes_at")}
        definition.update({k: v for k, v in (("opens_at", opens_at), ("closes_at", closes_at)) if v})
        if definition == before.definition:
            return before
        after = self._changed(principal, before, definition=definition)
        return self._write(principal, "survey.schedule", before, after, before.revision)

    def close(self, principal: Principal, survey_id: str, version: int, etag: str, reason: str) -> SurveyVersion:
        """Stop a published version now, for good (the reason goes to the audit log)."""
        versions = self._versions(principal, survey_id)
        before = self._current(versions, version, etag)
        if before.status != PUBLISHED:
            raise VersionNotPublished(field="version")
        now = stamp(self._clock())
        closes = before.definition.get("closes_at")
        ends = closes if closes and parse_time(str(closes)) < parse_time(now) else now
        definition = {**before.definition, "status": CLOSED, "closes_at": ends}
        after = self._changed(principal, before, definition=definition, status=CLOSED, closed_at=now)
        return self._write(principal, "survey.close", before, after, before.revision, reason=reason.strip()[:500])

    # --- helpers --------------------------------------------------------------------------------
    def _versions(self, principal: Principal, survey_id: str) -> list[SurveyVersion]:
        versions = self._store.versions(survey_id)
        if not versions:
            raise SurveyNotFound(field="survey_id")
        principal.require(PERMISSION, target_of(versions[-1].definition))
        return versions

    @staticmethod
    def _pick(versions: Iterable[SurveyVersion], version: int) -> SurveyVersion:
        for record in versions:
            if record.version == version:
                return record
        raise NotFound("Phiên bản này không tồn tại.", "No such version.", field="version")

    def _current(self, versions: list[SurveyVersion], version: int, etag: str) -> SurveyVersion:
        record = self._pick(versions, version)
        if etag != record.etag:
            raise EditConflict(field="etag", details=[{"current_etag": record.etag, "status": record.status}])
        return record

    def _as_draft(self, definition: dict[str, Any], version: int) -> dict[str, Any]:
        if not isinstance(definition, dict):
            raise InvalidDefinition(field="/")
        return {**copy.deepcopy(definition), "version": version, "status": DRAFT}

    def _check_draft(self, draft: dict[str, Any]) -> None:
        """What a draft must already be: readable by the form (schema and rules), small enough, a known owner."""
        if len(canonical_json(draft).encode("utf-8")) > MAX_DEFINITION_BYTES:
            raise InvalidDefinition(
                "Định nghĩa phiếu quá lớn (tối đa 350 KB).", "The definition is too large (350 KB at most).", field="/"
            )
        check_definition(draft)
        owner = draft.get("owner_agency")
        if owner and not self._known_agency(str(owner)):
            raise InvalidDefinition("Không có cơ quan với mã này.", "No agency with that code.", field="/owner_agency")
        check_window(draft.get("opens_at"), draft.get("closes_at"))

    def _new_record(self, principal: Principal, draft: dict[str, Any], version: int) -> SurveyVersion:
        now = stamp(self._clock())
        return SurveyVersion(
            survey_id=str(draft["id"]),
            version=version,
            status=DRAFT,
            definition=draft,
            revision=1,
            created_at=now,
            created_by=principal.login,
            updated_at=now,
            updated_by=principal.login,
        )

    def _changed(self, principal: Principal, before: SurveyVersion, **changes: Any) -> SurveyVersion:
        return replace(
            before, revision=before.revision + 1, updated_at=stamp(self._clock()), updated_by=principal.login, **changes
        )

    def _write(
        self,
        principal: Principal,
        action: str,
        before: SurveyVersion | None,
        after: SurveyVersion,
        expected_revision: int | None,
        reason: str | None = None,
    ) -> SurveyVersion:
        self._audit.record(
            principal.actor(PERMISSION),
            action,
            "survey",
            after.survey_id,
            None if before is None else _audited(before),
            _audited(after),
            reason=reason,
            alongside=[self._store.save_change(after, expected_revision)],
        )
        return after

    def _describe(self, versions: list[SurveyVersion]) -> dict[str, Any]:
        now = self._clock()
        latest = versions[-1]
        public = [r for r in versions if r.status != DRAFT]
        rows = []
        for record in versions:
            row = record.summary(now)
            if self._response_count is not None and record.status != DRAFT:
                row["responses"] = self._response_count(record.key)
            rows.append(row)
        return {
            "id": latest.survey_id,
            "title": latest.definition.get("title"),
            "kind": latest.kind,
            "owner_agency": latest.owner_agency,
            "current_version": public[-1].version if public else None,
            "draft_version": latest.version if latest.status == DRAFT else None,
            "accepting": any(r.accepting(now) for r in versions),
            "versions": rows,
        }
