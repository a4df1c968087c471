"""Coding of open answers: an analyst's categories applied in bulk, every change kept, the answer untouched."""

from __future__ import annotations

import pytest

from chalicelib.domain.coding import (
    AMBIGUOUS,
    UNCODED,
    Category,
    CodeFrame,
    CodingConflict,
    CodingLog,
    CodingRule,
    InvalidCoding,
    Matcher,
    apply_in_bulk,
    auto_code,
    clean_text,
    fold,
    open_answers,
    recode,
)

AT1, AT2, AT3 = "2026-12-01T08:00:00.000000Z", "2026-12-01T09:00:00.000000Z", "2026-12-01T10:00:00.000000Z"

ANSWERS = {
    "r1": "Cần giảm bớt thủ tục hành chính",
    "r2": "can giam thu tuc",  # typed without diacritics
    "r3": "Cán bộ  tiếp dân   nhiệt tình",
    "r4": "Đường sá xuống cấp",
    "r5": "Thủ tục rườm rà, cán bộ hách dịch",
    "r6": "   ",
    "r7": "không có ý kiến",
}


@pytest.fixture
def frame() -> CodeFrame:
    return CodeFrame.from_dict(
        {
            "survey_key": "sipas-2026#1",
            "question_id": "q10_other",
            "categories": [
                {"code": "procedures", "label_vi": "Thủ tục", "label_en": "Procedures", "keywords": ["thủ tục"]},
                {"code": "staff", "label_vi": "Cán bộ", "label_en": "Civil servants", "keywords": ["cán bộ"]},
                {"code": "roads", "label_vi": "Hạ tầng", "label_en": "Infrastructure", "pattern": r"\bđường\b"},
                {"code": "none", "label_vi": "Không ý kiến", "label_en": "No opinion"},
            ],
        }
    )


def test_fold_reads_vietnamese_without_accents_or_case():
    assert fold("  Thủ TỤC  Đường ") == "thu tuc duong"
    assert clean_text("Cán bộ \u200b tiếp\tdân  ") == "Cán bộ tiếp dân"


def test_bulk_coding_by_a_categorys_keywords_finds_answers_with_or_without_diacritics(frame):
    before = dict(ANSWERS)
    changes = apply_in_bulk(frame, ANSWERS, CodingRule("procedures"), who="analyst-1", why="từ khóa thủ tục", at=AT1)
    assert [c.response_id for c in changes] == ["r1", "r2", "r5"]
    assert all(c.before is None and c.after == "procedures" for c in changes)
    assert {(c.who, c.why, c.at) for c in changes} == {("analyst-1", "từ khóa thủ tục", AT1)}
    assert before == ANSWERS  # the answers themselves are never modified


def test_a_rules_own_pattern_and_a_list_of_responses(frame):
    by_pattern = apply_in_bulk(
        frame, ANSWERS, CodingRule("roads", Matcher(pattern="xuống cấp")), who="a", why="hư hỏng", at=AT1
    )
    assert [c.response_id for c in by_pattern] == ["r4"]
    by_list = apply_in_bulk(
        frame, ANSWERS, CodingRule("none", response_ids=frozenset({"r7", "r6"})), who="a", why="đọc từng phiếu", at=AT1
    )
    assert [c.response_id for c in by_list] == ["r7"]  # a blank answer is never coded


def test_the_current_code_is_the_last_change_and_history_keeps_every_one(frame):
    log = CodingLog()
    log.append(apply_in_bulk(frame, ANSWERS, CodingRule("procedures"), who="a", why="từ khóa", at=AT1))
    # a second rule does not take answers already coded unless told to recode
    assert [
        c.response_id for c in apply_in_bulk(frame, ANSWERS, CodingRule("staff"), who="b", why="x", at=AT2, log=log)
    ] == ["r3"]
    recoded = apply_in_bulk(
        frame,
        ANSWERS,
        CodingRule("staff", response_ids=frozenset({"r5"}), recode=True),
        who="b",
        why="ý chính là cán bộ",
        at=AT2,
        log=log,
    )
    assert [(c.before, c.after) for c in recoded] == [("procedures", "staff")]
    log.append(recoded)
    log.append([recode(frame, "r5", None, who="c", why="trả về chưa mã hóa", at=AT3, log=log)])
    assert log.code("r5", "q10_other") is None
    assert [(c.after, c.who) for c in log.history("r5", "q10_other")] == [
        ("procedures", "a"),
        ("staff", "b"),
        (None, "c"),
    ]
    # a log rebuilt from the stored changes in any order reads the same
    stored = [c.to_dict() for key in ("r1", "r2", "r5") for c in log.history(key, "q10_other")]
    rebuilt = CodingLog(reversed([type(log.history("r1", "q10_other")[0]).from_dict(d) for d in stored]))
    assert rebuilt.current("r5", "q10_other") == log.current("r5", "q10_other")
    assert log.counts("q10_other", ANSWERS) == {"procedures": 2, UNCODED: 5}  # r5 went back to uncoded


def test_a_change_made_against_a_stale_view_is_a_conflict(frame):
    log = CodingLog()
    stale = recode(frame, "r1", "procedures", who="a", why="đọc", at=AT1, log=log)
    log.append([recode(frame, "r1", "staff", who="b", why="đọc", at=AT1, log=log)])
    with pytest.raises(CodingConflict):
        log.append([stale])


def test_cleaning_is_recorded_beside_the_answer_not_over_it(frame):
    changes = apply_in_bulk(frame, ANSWERS, CodingRule("staff", clean=True), who="a", why="làm sạch", at=AT1)
    r3 = next(c for c in changes if c.response_id == "r3")
    assert r3.cleaned_text == "Cán bộ tiếp dân nhiệt tình"
    assert ANSWERS["r3"] == "Cán bộ  tiếp dân   nhiệt tình"
    log = CodingLog(changes)
    assert log.current("r3", "q10_other").cleaned_text == "Cán bộ tiếp dân nhiệt tình"  # type: ignore[union-attr]
    # applying the same rule again changes nothing
    assert apply_in_bulk(frame, ANSWERS, CodingRule("staff", clean=True), who="a", why="lại", at=AT2, log=log) == []


def test_automatic_coding_leaves_ambiguous_and_unmatched_answers_to_a_person(frame):
    changes, left = auto_code(frame, ANSWERS, who="a", why="mã hóa tự động", at=AT1)
    assert {c.response_id: c.after for c in changes} == {
        "r1": "procedures",
        "r2": "procedures",
        "r3": "staff",
        "r4": "roads",
    }
    assert left == {AMBIGUOUS: ["r5"], UNCODED: ["r7"]}


def test_bad_frames_and_rules_are_refused_with_a_reason(frame):
    with pytest.raises(InvalidCoding) as raised:
        CodeFrame("s#1", "q", (Category("Bad Code", "x", "x"),))
    assert "Mã" in raised.value.message_vi
    with pytest.raises(InvalidCoding):
        CodeFrame("s#1", "q", (Category("a", "x", "x"), Category("a", "y", "y")))
    with pytest.raises(InvalidCoding) as raised:
        Matcher(pattern="(a+)+b")  # would hang the server: the survey rules for regex() apply
    assert raised.value.field == "pattern"
    with pytest.raises(InvalidCoding):
        apply_in_bulk(frame, ANSWERS, CodingRule("nope"), who="a", why="x", at=AT1)
    with pytest.raises(InvalidCoding) as raised:
        apply_in_bulk(frame, ANSWERS, CodingRule("procedures"), who="a", why=" ", at=AT1)
    assert raised.value.field == "why"
    with pytest.raises(InvalidCoding):
        apply_in_bulk(frame, ANSWERS, CodingRule("none"), who="a", why="x", at=AT1)  # nothing selects answers
    assert CodeFrame.from_dict(frame.to_dict()) == frame


def test_open_answers_reads_one_questions_texts():
    responses = [("r1", {"q10_other": "abc", "q1": "2"}), ("r2", {"q1": "3"}), ("r3", {"q10_other": ["x"]})]
    assert open_answers(responses, "q10_other") == {"r1": "abc"}
