"""Survey authoring: the lifecycle rules, versions, refusals with their field, permissions, and the audit log."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.auth.permissions import NATIONAL, Grant
from chalicelib.auth.principal import Forbidden, Principal
from chalicelib.domain.audit import AuditLog
from chalicelib.domain.authoring import (
    AuthoringService,
    DraftExists,
    InvalidSchedule,
    MissingLanguage,
    SurveyExists,
    VersionClosed,
    VersionNotDraft,
    VersionNotPublished,
)
from chalicelib.domain.errors import EditConflict, InvalidDefinition
from chalicelib.domain.survey import Survey
from tests.shared.fakes import FakeAuditStore, FakeSurveyVersions

START = datetime(2026, 6, 1, 1, 0, tzinfo=timezone.utc)
MANAGER = Principal("sub-khaosat", "Quản lý khảo sát", (Grant("survey_manager", NATIONAL),), username="khaosat")
EDITOR_HANOI = Principal("sub-bientap", "Biên tập Hà Nội", (Grant("agency_editor", "P01"),), username="bientap.hanoi")
ANALYST_HANOI = Principal("sub-phantich", "Phân tích", (Grant("analyst", "P01"),), username="phantich.hanoi")


def t(vi: str, en: str | None) -> dict[str, str]:
    return {"vi": vi, "en": en} if en is not None else {"vi": vi}


def definition(survey_id: str = "dvc-hanoi-2026", agency: str | None = "P01", kind: str = "adhoc") -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": survey_id,
        "version": 1,
        "status": "draft",
        "kind": kind,
        "languages": ["vi", "en"],
        "methodology": {"id": "adhoc", "version": "1"},
        "title": t("Khảo sát dịch vụ công trực tuyến", "Online public services survey"),
        "sections": [
            {
                "id": "s1",
                "title": t("Đánh giá", "Rating"),
                "questions": [
                    {
                        "id": "q1",
                        "type": "single_choice",
                        "required": True,
                        "text": t("Ông/Bà có hài lòng không?", "Are you satisfied?"),
                        "options": [
                            {"value": "1", "label": t("Có", "Yes")},
                            {"value": "2", "label": t("Không", "No")},
                        ],
                    },
                    {"id": "q2", "type": "text", "text": t("Góp ý thêm", "Other comments")},
                ],
            }
        ],
    }
    if kind == "adhoc":
        found["owner_agency"] = agency
        found["topic"] = t("Dịch vụ công trực tuyến", "Online public services")
    return found


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world() -> Any:
    class World:
        store = FakeSurveyVersions()
        audit_store = FakeAuditStore()
        clock = Clock()
        service = AuthoringService(
            store=store,
            audit=AuditLog(audit_store, clock=clock, sleep=lambda _: None),
            known_agency=lambda code: code in ("P01", "P46", "P79"),
            clock=clock,
        )

        def actions(self) -> list[str]:
            return [e.action for e in self.audit_store.chain()]

    return World()


def _published(world: Any, principal: Principal = MANAGER, **kwargs: Any) -> Any:
    draft = world.service.create(principal, definition(**kwargs))
    return world.service.publish(principal, draft.survey_id, 1, draft.etag)


# --- drafts and versions --------------------------------------------------------------------------
def test_a_new_survey_is_a_draft_version_1_whatever_the_body_says_and_is_audited(world):
    body = {**definition(), "version": 7, "status": "published"}
    draft = world.service.create(MANAGER, body)
    assert (draft.version, draft.status, draft.definition["status"]) == (1, "draft", "draft")
    assert draft.created_by == "khaosat"
    assert world.actions() == ["survey.create"]
    entry = world.audit_store.chain()[0]
    assert (entry.target_type, entry.target_id, entry.before) == ("survey", "dvc-hanoi-2026", None)
    assert entry.after["status"] == "draft" and len(entry.after["definition_sha256"]) == 64
    with pytest.raises(SurveyExists):
        world.service.create(MANAGER, definition())


def test_a_draft_is_replaced_whole_with_its_etag_and_a_stale_etag_is_a_conflict(world):
    draft = world.service.create(MANAGER, definition())
    changed = copy.deepcopy(definition())
    changed["title"] = t("Khảo sát mới", "New survey")
    saved = world.service.replace_draft(MANAGER, draft.survey_id, 1, changed, draft.etag)
    assert saved.definition["title"]["vi"] == "Khảo sát mới" and saved.etag != draft.etag
    with pytest.raises(EditConflict) as conflict:
        world.service.replace_draft(MANAGER, draft.survey_id, 1, definition(), draft.etag)
    assert conflict.value.status == 409 and conflict.value.details[0]["current_etag"] == saved.etag
    # the same content again changes nothing and writes nothing
    again = world.service.replace_draft(MANAGER, draft.survey_id, 1, changed, saved.etag)
    assert again.etag == saved.etag
    assert world.actions() == ["survey.create", "survey.edit"]


def test_a_published_version_is_immutable_and_editing_starts_the_next_version_copied_from_it(world):
    v1 = _published(world)
    with pytest.raises(VersionNotDraft) as refused:
        world.service.replace_draft(MANAGER, v1.survey_id, 1, definition(), v1.etag)
    assert refused.value.status == 409
    v2 = world.service.new_version(MANAGER, v1.survey_id, from_version=1)
    assert (v2.version, v2.status) == (2, "draft")
    assert {k: v for k, v in v2.definition.items() if k not in ("version", "status")} == {
        k: v for k, v in v1.definition.items() if k not in ("version", "status")
    }
    with pytest.raises(DraftExists):
        world.service.new_version(MANAGER, v1.survey_id, from_version=1)
    assert world.service.version(MANAGER, v1.survey_id, 1).definition == v1.definition  # v1 untouched
    assert world.actions() == ["survey.create", "survey.publish", "survey.new_version"]


def test_publishing_n_plus_1_keeps_n_open_for_the_grace_period_only(world):
    v1 = _published(world)
    assert world.service.version(MANAGER, v1.survey_id, 1).accepting(START)
    v2 = world.service.new_version(MANAGER, v1.survey_id, from_version=1)
    published = world.service.publish(MANAGER, v1.survey_id, 2, v2.etag)
    old = world.service.version(MANAGER, v1.survey_id, 1)
    assert old.superseded_by == 2 and old.status == "published"
    assert old.accepting(START + timedelta(hours=23)) and not old.accepting(START + timedelta(hours=25))
    assert published.accepting(START + timedelta(hours=25))
    overview = world.service.survey(MANAGER, v1.survey_id)
    assert overview["current_version"] == 2 and overview["draft_version"] is None
    entry = world.audit_store.chain()[-1]
    assert entry.action == "survey.publish" and entry.after["superseded"][0]["version"] == 1


def test_a_grace_of_zero_closes_n_at_once_and_an_earlier_closing_is_kept(world):
    v1 = _published(world)
    world.service.schedule(MANAGER, v1.survey_id, 1, v1.etag, None, "2026-06-01T05:00:00Z")
    v2 = world.service.new_version(MANAGER, v1.survey_id, from_version=1)
    world.service.publish(MANAGER, v1.survey_id, 2, v2.etag, grace_hours=48)
    assert world.service.version(MANAGER, v1.survey_id, 1).definition["closes_at"] == "2026-06-01T05:00:00.000000Z"
    v3 = world.service.new_version(MANAGER, v1.survey_id, from_version=2)
    world.clock.now = START + timedelta(hours=1)
    world.service.publish(MANAGER, v1.survey_id, 3, v3.etag, grace_hours=0)
    assert not world.service.version(MANAGER, v1.survey_id, 2).accepting(START + timedelta(hours=1, seconds=1))


# --- refusals -------------------------------------------------------------------------------------
def test_publishing_is_refused_when_a_text_lacks_a_listed_language_naming_each_place(world):
    body = definition()
    body["sections"][0]["questions"][1]["text"] = {"vi": "Góp ý thêm"}
    body["sections"][0]["questions"][0]["options"][1]["label"] = {"vi": "Không", "en": "  "}
    draft = world.service.create(MANAGER, body)  # a draft may be incomplete
    with pytest.raises(MissingLanguage) as refused:
        world.service.publish(MANAGER, draft.survey_id, 1, draft.etag)
    assert refused.value.status == 400
    assert refused.value.field == "/sections/0/questions/0/options/1/label"
    assert [d["field"] for d in refused.value.details] == [
        "/sections/0/questions/0/options/1/label",
        "/sections/0/questions/1/text",
    ]
    assert refused.value.details[1]["missing"] == ["en"]
    assert world.service.version(MANAGER, draft.survey_id, 1).status == "draft"
    assert world.actions() == ["survey.create"]  # a refusal writes nothing


def test_vietnamese_must_come_first_among_the_languages(world):
    draft = world.service.create(MANAGER, {**definition(), "languages": ["en", "vi"]})
    with pytest.raises(MissingLanguage) as refused:
        world.service.publish(MANAGER, draft.survey_id, 1, draft.etag)
    assert refused.value.field == "/languages"


def test_an_invalid_definition_is_refused_with_its_json_pointer(world):
    body = definition()
    body["sections"][0]["questions"][1]["type"] = "essay"
    with pytest.raises(InvalidDefinition) as refused:
        world.service.create(MANAGER, body)
    assert refused.value.field.startswith("/sections/0/questions/1")
    body = definition()
    del body["sections"][0]["questions"][0]["text"]
    with pytest.raises(InvalidDefinition) as missing:
        world.service.create(MANAGER, body)
    assert missing.value.field == "/sections/0/questions/0/text"
    body = definition()
    body["sections"][0]["questions"][1]["id"] = "q1"  # a rule the schema cannot say
    with pytest.raises(InvalidDefinition) as duplicate:
        world.service.create(MANAGER, body)
    assert duplicate.value.field == "/sections/0/questions/1/id"


def test_kinds_only_an_ad_hoc_survey_belongs_to_an_agency_and_a_known_one(world):
    with pytest.raises(InvalidDefinition) as unknown:
        world.service.create(MANAGER, definition(agency="P99"))
    assert unknown.value.field == "/owner_agency"
    with pytest.raises(InvalidDefinition) as national:
        world.service.create(MANAGER, {**definition(kind="regular"), "owner_agency": "P01"})
    assert national.value.field == "/owner_agency"
    assert world.service.create(MANAGER, definition("tham-van-2026", kind="consultation")).kind == "consultation"
    ministry = definition("chuyen-de-bnv")
    del ministry["owner_agency"]  # the Ministry's own ad hoc survey: national
    assert world.service.create(MANAGER, ministry).owner_agency is None
    with pytest.raises(Forbidden):
        world.service.create(EDITOR_HANOI, {**ministry, "id": "chuyen-de-khac"})


def test_publishing_a_window_that_already_ended_is_refused(world):
    draft = world.service.create(MANAGER, {**definition(), "closes_at": "2026-05-01T00:00:00Z"})
    with pytest.raises(InvalidSchedule) as refused:
        world.service.publish(MANAGER, draft.survey_id, 1, draft.etag)
    assert refused.value.field == "/closes_at"


# --- schedule and close ---------------------------------------------------------------------------
def test_scheduling_sets_the_window_and_a_published_survey_accepts_only_inside_it(world):
    v1 = _published(world)
    with pytest.raises(InvalidSchedule):
        world.service.schedule(MANAGER, v1.survey_id, 1, v1.etag, "2026-07-01T00:00:00Z", "2026-06-30T00:00:00Z")
    saved = world.service.schedule(
        MANAGER, v1.survey_id, 1, v1.etag, "2026-06-02T00:00:00+07:00", "2026-07-01T00:00:00Z"
    )
    survey = Survey.from_definition(saved.definition)
    assert not survey.is_open(START)  # 1 June 01:00 UTC is before 2 June 00:00 in Vietnam (1 June 17:00 UTC)
    assert survey.is_open(datetime(2026, 6, 15, tzinfo=timezone.utc))
    assert not survey.is_open(datetime(2026, 7, 2, tzinfo=timezone.utc))
    assert world.actions()[-1] == "survey.schedule"
    entry = world.audit_store.chain()[-1]
    assert entry.before["opens_at"] is None and entry.after["opens_at"] == "2026-06-02T00:00:00+07:00"


def test_closing_ends_a_published_version_for_good_with_its_reason_audited(world):
    v1 = _published(world)
    closed = world.service.close(MANAGER, v1.survey_id, 1, v1.etag, "Đủ mẫu khảo sát")
    assert closed.status == "closed" and not closed.accepting(START)
    assert not Survey.from_definition(closed.definition).is_open(START)
    entry = world.audit_store.chain()[-1]
    assert (entry.action, entry.reason) == ("survey.close", "Đủ mẫu khảo sát")
    with pytest.raises(VersionClosed):
        world.service.schedule(MANAGER, v1.survey_id, 1, closed.etag, None, "2027-01-01T00:00:00Z")
    with pytest.raises(VersionNotPublished):
        world.service.close(MANAGER, v1.survey_id, 1, closed.etag, "again")
    draft = world.service.new_version(MANAGER, v1.survey_id, from_version=1)
    with pytest.raises(VersionNotPublished):
        world.service.close(MANAGER, v1.survey_id, 2, draft.etag, "a draft")


def test_every_change_is_audited_in_order(world):
    v1 = _published(world)
    v1 = world.service.schedule(MANAGER, v1.survey_id, 1, v1.etag, None, "2026-12-31T00:00:00Z")
    v2 = world.service.new_version(MANAGER, v1.survey_id, from_version=1)
    v2 = world.service.replace_draft(
        MANAGER, v1.survey_id, 2, {**definition(), "description": t("Mô tả", "About")}, v2.etag
    )
    world.service.publish(MANAGER, v1.survey_id, 2, v2.etag)
    world.service.create(MANAGER, definition("khac-2026"), source="xlsform")
    assert world.actions() == [
        "survey.create",
        "survey.publish",
        "survey.schedule",
        "survey.new_version",
        "survey.edit",
        "survey.publish",
        "survey.import",
    ]
    assert {e.actor.role for e in world.audit_store.chain()} == {"survey_manager"}


# --- permissions ----------------------------------------------------------------------------------
def test_an_agency_editor_manages_its_own_ad_hoc_surveys_only(world):
    # an agency's editor names its survey under the agency: the Ministry's names stay the Ministry's
    with pytest.raises(InvalidDefinition) as unprefixed:
        world.service.create(EDITOR_HANOI, definition("sipas-2027", "P01"))
    assert unprefixed.value.field == "/id" and "p01-" in unprefixed.value.message_vi
    own = world.service.create(EDITOR_HANOI, definition("p01-dvc-2026", "P01"))
    world.service.publish(EDITOR_HANOI, own.survey_id, 1, own.etag)
    assert world.audit_store.chain()[0].actor.agency == "P01"
    for body in (definition("dvc-hcm-2026", "P79"), definition("sipas-2027", kind="regular")):
        with pytest.raises(Forbidden):
            world.service.create(EDITOR_HANOI, body)
    national = world.service.create(MANAGER, definition("chung-2026", kind="regular"))
    other = world.service.create(MANAGER, definition("dvc-hue-2026", "P46"))
    for survey_id, etag in ((national.survey_id, national.etag), (other.survey_id, other.etag)):
        with pytest.raises(Forbidden):
            world.service.version(EDITOR_HANOI, survey_id, 1)
        with pytest.raises(Forbidden):
            world.service.publish(EDITOR_HANOI, survey_id, 1, etag)
    # nor can it hand its own survey to another agency
    draft = world.service.new_version(EDITOR_HANOI, own.survey_id, from_version=1)
    with pytest.raises(Forbidden):
        world.service.replace_draft(EDITOR_HANOI, own.survey_id, 2, definition("p01-dvc-2026", "P79"), draft.etag)
    assert [s["id"] for s in world.service.overview(EDITOR_HANOI)] == ["p01-dvc-2026"]
    assert [s["id"] for s in world.service.overview(MANAGER)] == ["chung-2026", "dvc-hue-2026", "p01-dvc-2026"]
    assert world.service.target("p01-dvc-2026") == "P01"
    assert world.service.target("chung-2026") is None and world.service.target("unknown") is None


def test_roles_without_survey_manage_cannot_author(world):
    with pytest.raises(Forbidden):
        world.service.create(ANALYST_HANOI, definition())
    assert world.service.overview(ANALYST_HANOI) == []


def test_a_draft_cannot_hand_a_published_survey_to_another_agency(world):
    # GIVEN Hà Nội's published ad hoc survey
    v1 = _published(world)
    v2 = world.service.new_version(MANAGER, v1.survey_id, from_version=1)
    # WHEN a national manager's draft names another owner THEN it is refused where it is written
    moved = {**definition(), "owner_agency": "P46"}
    with pytest.raises(InvalidDefinition) as refused:
        world.service.replace_draft(MANAGER, v1.survey_id, 2, moved, v2.etag)
    assert refused.value.field == "/owner_agency"
    # AND whose survey it is stays what its published version says, for the route guard too
    assert world.service.target(v1.survey_id) == "P01"
    assert (
        world.service.close(EDITOR_HANOI, v1.survey_id, 1, v1_etag(world, v1.survey_id), "Kết thúc sớm").status
        == "closed"
    )


def v1_etag(world: Any, survey_id: str) -> str:
    return str(world.service.version(MANAGER, survey_id, 1).etag)


def test_a_version_scheduled_to_open_later_leaves_the_current_one_open_until_then(world):
    from chalicelib.domain.authoring import VersionSuperseded

    v1 = _published(world)
    v2 = world.service.new_version(MANAGER, v1.survey_id, from_version=1)
    opens = START + timedelta(days=30)
    v2 = world.service.schedule(MANAGER, v1.survey_id, 2, v2.etag, opens.isoformat(), None)
    with pytest.raises(InvalidSchedule) as refused:
        world.service.publish(MANAGER, v1.survey_id, 2, v2.etag, grace_hours=100_000)
    assert refused.value.field == "grace_hours"
    world.service.publish(MANAGER, v1.survey_id, 2, v2.etag)
    old = world.service.version(MANAGER, v1.survey_id, 1)
    # v1 accepts until v2 opens, and for the grace period after
    assert old.accepting(opens - timedelta(days=1)) and old.accepting(opens + timedelta(hours=23))
    assert not old.accepting(opens + timedelta(hours=25))
    # and its window follows v2's from now on: it cannot be stretched to keep two versions open
    with pytest.raises(VersionSuperseded):
        world.service.schedule(MANAGER, v1.survey_id, 1, old.etag, None, None)
