"""The quality desk: who sees which province, what a national grant alone may do, every change audited first."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.api.field_quality_pages import frame_lines, frame_text
from chalicelib.auth.permissions import Grant
from chalicelib.auth.principal import Forbidden, Principal
from chalicelib.domain.coding import InvalidCoding
from chalicelib.domain.field_quality import FieldQualityService, RecheckNotDrawn
from chalicelib.domain.field_quality_desk import FieldQualityDesk, QuestionNotFound, coding_rule, province_scope
from chalicelib.domain.field_recheck import HAPPENED
from chalicelib.domain.field_risk import RECHECK_NOT_HAPPENED
from chalicelib.store.field_quality import FieldQualityStore
from tests.shared.fakes import FakeCatalog, FakeResponseStore
from tests.shared.field_interviews import FakeFieldTable, as_response, interviews

OPTIONS = [{"value": v, "label": {"vi": f"Mức {v}", "en": f"Level {v}"}} for v in "12345"]
DEFINITION = {
    "id": "sipas-2026",
    "version": 1,
    "languages": ["vi", "en"],
    "title": {"vi": "Thử", "en": "Test"},
    "status": "published",
    "sections": [
        {
            "id": "a",
            "title": {"vi": "A", "en": "A"},
            "questions": [
                {
                    "id": "sex",
                    "type": "single_choice",
                    "text": {"vi": "Giới tính", "en": "Sex"},
                    "options": OPTIONS[:2],
                },
                {"id": "age", "type": "single_choice", "text": {"vi": "Tuổi", "en": "Age"}, "options": OPTIONS},
                {"id": "q11_other", "type": "text", "text": {"vi": "Ý kiến khác", "en": "Other"}},
            ],
        }
    ],
}


class Recorder:
    def __init__(self) -> None:
        self.entries: list[tuple[Any, ...]] = []

    def record(self, actor, action, target_type, target_id, before, after, reason=None):
        self.entries.append((actor.sub, action, target_type, target_id, before, after, reason))


def who(role: str, scope: str, name: str) -> Principal:
    return Principal(sub=name, name=name, grants=(Grant(role, scope),), username=name)


@pytest.fixture
def world():
    responses, table = FakeResponseStore(), FakeFieldTable()
    records = interviews(honest=6, per_enumerator=20, seed=3)
    for record in records:
        responses.create(as_response(record))
    # enum03..enum05 interviewed in province 46
    for rid, item in responses.items.items():
        if item["paradata"] and rid.split("-")[0] in ("enum03", "enum04", "enum05"):
            item["province"] = "46"
    recorder = Recorder()
    service = FieldQualityService(responses, FieldQualityStore(table))
    return responses, recorder, FieldQualityDesk(service, FakeCatalog(DEFINITION), recorder)


NATIONAL = who("survey_manager", "national", "khaosat")
HANOI = who("agency_admin", "P01", "quantri.hanoi")


def test_scope_is_national_or_the_managers_province():
    assert province_scope(NATIONAL, "national") is None
    assert province_scope(HANOI, "P01") == "01"
    with pytest.raises(Forbidden):
        province_scope(who("analyst", "P46", "phantich.hue"), "P46")


def test_a_province_manager_sees_and_draws_only_their_province(world):
    _, recorder, desk = world
    mine = desk.draw(HANOI, "P01", "sipas-2026", 1, {"rate": 0.1, "seed": "s1"})
    assert mine["province"] == "01" and {d["province"] for d in mine["draws"]} == {"01"}
    assert {d["enumerator"] for d in mine["draws"]} == {"enum00", "enum01", "enum02"}
    everyone = desk.draw(NATIONAL, "national", "sipas-2026", 1, {"rate": 0.1, "seed": "s1"})
    # the same seed: the province's draw is the national draw restricted to it
    assert {d["response_id"] for d in mine["draws"]} < {d["response_id"] for d in everyone["draws"]}
    assert [e[1] for e in recorder.entries] == ["recheck.draw", "recheck.draw"]
    assert recorder.entries[0][3] == "sipas-2026#1@01" and recorder.entries[0][5]["drawn"] == len(mine["draws"])
    risk = desk.risk(HANOI, "P01", "sipas-2026", 1)
    assert {e["enumerator"] for e in risk["enumerators"]} == {"enum00", "enum01", "enum02"}
    assert len(desk.risk(NATIONAL, "national", "sipas-2026", 1)["enumerators"]) == 6


def test_the_form_is_national_and_a_recheck_is_audited_and_scoped(world):
    responses, recorder, desk = world
    with pytest.raises(Forbidden):
        desk.set_recheck_form(HANOI, "sipas-2026", 1, {"questions": ["sex"]})
    desk.set_recheck_form(NATIONAL, "sipas-2026", 1, {"questions": ["sex", "age"], "ask_duration": False})
    assert recorder.entries[-1][1:4] == ("recheck.form", "recheck_form", "sipas-2026#1")
    view = desk.rechecks(HANOI, "P01", "sipas-2026", 1)
    assert [q["id"] for q in view["questions"]] == [HAPPENED, "sex", "age"]
    assert view["questions"][1]["options"][0] == {"value": "1", "label": "Mức 1"}

    drawn = desk.draw(NATIONAL, "national", "sipas-2026", 1, {"rate": 0.1, "seed": "s"})["draws"]
    hue = next(d for d in drawn if d["province"] == "46")
    with pytest.raises(Forbidden):  # a drawn household of another province
        desk.record(HANOI, "P01", "sipas-2026", 1, hue["response_id"], {"answers": {HAPPENED: "no"}})
    target = next(d for d in drawn if d["province"] == "01")
    original = dict(responses.items[target["response_id"]]["answers"])
    result = desk.record(HANOI, "P01", "sipas-2026", 1, target["response_id"], {"answers": {HAPPENED: "no"}})
    assert result["not_happened"] and result["disagreement_rate"] == 1.0
    assert recorder.entries[-1][1] == "recheck.record" and recorder.entries[-1][5]["not_happened"] is True
    assert responses.items[target["response_id"]]["answers"] == original
    assert [d["rechecked"] for d in desk.rechecks(HANOI, "P01", "sipas-2026", 1)["draws"]].count(True) == 1
    assert len(desk.rechecks(HANOI, "P01", "sipas-2026", 1)["results"]) == 1
    assert desk.rechecks(who("agency_admin", "P46", "quantri.hue"), "P46", "sipas-2026", 1)["results"] == []
    top = desk.risk(NATIONAL, "national", "sipas-2026", 1)["enumerators"][0]
    assert top["enumerator"] == target["enumerator"] and top["reasons"][0]["code"] == RECHECK_NOT_HAPPENED
    undrawn = next(r for r in responses.items if r not in {d["response_id"] for d in drawn})
    with pytest.raises(RecheckNotDrawn):
        desk.record(NATIONAL, "national", "sipas-2026", 1, undrawn, {"answers": {HAPPENED: "yes"}})


def test_coding_needs_an_open_question_and_keeps_who_and_why(world):
    responses, recorder, desk = world
    with pytest.raises(QuestionNotFound):
        desk.coding("sipas-2026", 1, "sex")
    assert desk.coding("sipas-2026", 1, "q11_other")["frame"] is None
    frame = {"categories": frame_lines("thu-tuc | Thủ tục | Procedures | thủ tục\ncan-bo | Cán bộ | | cán bộ")}
    desk.save_frame(NATIONAL, "sipas-2026", 1, "q11_other", frame)
    assert recorder.entries[-1][1:4] == ("coding.frame", "code_frame", "sipas-2026#1/q11_other")
    with pytest.raises(InvalidCoding):
        desk.apply(NATIONAL, "sipas-2026", 1, "q11_other", {"code": "thu-tuc", "keywords": ["thủ tục"], "why": " "})
    made = desk.apply(NATIONAL, "sipas-2026", 1, "q11_other", {"auto": True, "why": "từ khóa của khung mã"})
    assert made["changes"] and recorder.entries[-1][1] == "coding.apply"
    assert recorder.entries[-1][6] == "từ khóa của khung mã" and recorder.entries[-1][5]["changed"] == len(
        made["changes"]
    )
    one = made["changes"][0]["response_id"]
    before = dict(responses.items[one]["answers"])
    change = desk.recode(NATIONAL, "sipas-2026", 1, "q11_other", one, {"code": "can-bo", "why": "đọc lại"})
    assert change["before"] == made["changes"][0]["after"] and change["after"] == "can-bo"
    assert recorder.entries[-1][4:] == ({"code": change["before"]}, {"code": "can-bo", "cleaned_text": None}, "đọc lại")
    row = next(r for r in desk.coding("sipas-2026", 1, "q11_other")["answers"] if r["response_id"] == one)
    assert row["code"] == "can-bo" and [c["why"] for c in row["changes"]] == ["từ khóa của khung mã", "đọc lại"]
    assert responses.items[one]["answers"] == before
    again = frame_lines(frame_text(desk.coding("sipas-2026", 1, "q11_other")["frame"]))  # the textarea round trip
    assert again[0] == frame["categories"][0] and again[1]["label_en"] == "Cán bộ"  # English defaults to Vietnamese


def test_a_bulk_body_becomes_a_rule():
    assert coding_rule({"auto": True, "why": "x"}) is None
    rule = coding_rule({"code": "a", "keywords": ["x"], "response_ids": ["01"], "recode": True, "why": "y"})
    assert rule is not None and rule.code == "a" and rule.matcher.keywords == ("x",) and rule.recode
    assert rule.response_ids == frozenset({"01"})
