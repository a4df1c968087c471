"""The quality service over the fieldwork table: re-check draws and results, risk, coding kept as a log."""

from __future__ import annotations

import pytest

from chalicelib.domain.coding import CodeFrame, CodingRule, Matcher
from chalicelib.domain.field_quality import CodeFrameMissing, FieldQualityService, RecheckFormMissing, RecheckNotDrawn
from chalicelib.domain.field_recheck import HAPPENED, RecheckForm
from chalicelib.domain.field_risk import RECHECK_NOT_HAPPENED
from chalicelib.store.field_quality import FieldQualityStore
from tests.shared.fakes import FakeResponseStore
from tests.shared.field_interviews import SURVEY, FakeFieldTable, as_response, interviews

AT, LATER = "2026-12-01T08:00:00.000000Z", "2026-12-02T08:00:00.000000Z"


@pytest.fixture
def world():
    responses, table = FakeResponseStore(), FakeFieldTable()
    for record in interviews(honest=8, per_enumerator=30, seed=12):
        responses.create(as_response(record))
    return responses, table, FieldQualityService(responses, FieldQualityStore(table))


def test_a_draw_is_stored_once_and_a_second_draw_keeps_the_first(world):
    _, table, service = world
    first = service.draw_rechecks(SURVEY, 0.1, "seed-1", "supervisor", AT)
    assert len(first) == 8 * 3
    again = service.draw_rechecks(SURVEY, 0.1, "seed-2", "someone", LATER)  # another seed adds, never replaces
    assert {d["response_id"] for d in first} <= {d["response_id"] for d in again}
    assert all(d["who"] == "supervisor" for d in again if d["response_id"] in {x["response_id"] for x in first})
    assert all(pk == f"recheck#{SURVEY}" and sk.startswith("draw#") for pk, sk in table.items)


def test_a_recheck_needs_a_form_and_a_drawn_interview_and_feeds_the_risk(world):
    responses, _, service = world
    drawn = service.draw_rechecks(SURVEY, 0.1, "s", "supervisor", AT)
    target = drawn[0]["response_id"]
    with pytest.raises(RecheckFormMissing):
        service.record_recheck(SURVEY, target, {HAPPENED: "no"}, "supervisor", AT)
    service.set_recheck_form(RecheckForm(SURVEY, ("sex", "age")), "analyst", AT)
    not_drawn = next(rid for rid in responses.items if rid not in {d["response_id"] for d in drawn})
    with pytest.raises(RecheckNotDrawn):
        service.record_recheck(SURVEY, not_drawn, {HAPPENED: "yes"}, "supervisor", AT)
    original = dict(responses.items[target]["answers"])
    result = service.record_recheck(SURVEY, target, {HAPPENED: "no"}, "supervisor", AT)
    assert result.not_happened
    assert responses.items[target]["answers"] == original  # the interview itself is never changed
    top = service.risk(SURVEY)[0]
    assert top.enumerator == drawn[0]["enumerator"]
    assert top.reasons[0].code == RECHECK_NOT_HAPPENED


def test_coding_is_a_log_beside_the_answers(world):
    responses, table, service = world
    texts = {rid: item["answers"].get("q11_other") for rid, item in responses.items.items()}
    with pytest.raises(CodeFrameMissing):
        service.apply_coding(SURVEY, "q11_other", None, "analyst", "tự động", AT)
    frame = CodeFrame.from_dict(
        {
            "survey_key": SURVEY,
            "question_id": "q11_other",
            "categories": [
                {"code": "procedures", "label_vi": "Thủ tục", "label_en": "Procedures", "keywords": ["thu tuc"]},
                {"code": "staff", "label_vi": "Cán bộ", "label_en": "Civil servants", "keywords": ["can bo"]},
                {"code": "roads", "label_vi": "Hạ tầng", "label_en": "Roads", "keywords": ["duong"]},
                {"code": "none", "label_vi": "Không ý kiến", "label_en": "None"},
            ],
        }
    )
    service.save_code_frame(frame, "analyst", AT)
    auto = service.apply_coding(SURVEY, "q11_other", None, "analyst", "mã hóa tự động theo từ khóa", AT)
    assert auto and {c.after for c in auto} == {"procedures", "staff", "roads"}
    rule = CodingRule("none", Matcher(keywords=("không có",)))
    manual = service.apply_coding(SURVEY, "q11_other", rule, "analyst", "không có ý kiến", LATER)
    assert manual and all(c.before is None for c in manual)
    one = manual[0].response_id
    service.recode_one(SURVEY, "q11_other", one, "staff", "analyst-2", "đọc lại", "2026-12-03T08:00:00.000000Z")
    rows = {row["response_id"]: row for row in service.coding(SURVEY, "q11_other")}
    assert rows[one]["code"] == "staff" and [c["after"] for c in rows[one]["changes"]] == ["none", "staff"]
    assert rows[one]["text"] == texts[one]  # the answer as given
    assert {rid: item["answers"].get("q11_other") for rid, item in responses.items.items()} == texts
    coded = sum(1 for row in rows.values() if row["code"])
    assert coded == len(auto) + len(manual)
    # the changes are append-only items of their own
    changes = [sk for pk, sk in table.items if pk == f"coding#{SURVEY}#q11_other" and sk.startswith("change#")]
    assert len(changes) == len(auto) + len(manual) + 1
