"""The citizen's form for every question type of docs/SURVEY_MODEL.md: its HTML without JavaScript, the hint of
when to answer a conditional question, the browser's logic block, and the no-JavaScript post read back."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chalicelib.domain.survey import Survey
from chalicelib.reference.geography import Geography, load_geography
from chalicelib.web import forms, pages
from tests.shared.model_survey import model_definition
from tests.unit.test_pages import Tags

RESPONSE_ID = "01JXQ8Z3M4N5P6Q7R8S9T0V1W2"
STARTED_AT = "2026-06-01T07:00:00.000Z"


def form_model() -> dict[str, Any]:
    """The model survey (tests/shared/model_survey.py)."""
    return model_definition()


@pytest.fixture(scope="module")
def survey() -> Survey:
    return Survey.from_definition(form_model())


@pytest.fixture(scope="module")
def geography() -> Geography:
    return load_geography("vn-2025")


def render(survey: Survey, geography: Geography, **kwargs: Any) -> str:
    return pages.render_survey_form(survey, geography, response_id=RESPONSE_ID, started_at=STARTED_AT, **kwargs)


@pytest.fixture(scope="module")
def html(survey: Survey, geography: Geography) -> str:
    return render(survey, geography)


def box(html: str, qid: str) -> str:
    """The HTML of one question's container (data-q or, for a matrix, data-g)."""
    found = re.search(rf'<(fieldset|div) class="q[^"]*" data-[qg]="{qid}".*?</\1>', html, re.DOTALL)
    assert found, qid
    return found.group(0)


def post(survey: Survey, **fields: str | list[str]) -> dict[str, Any]:
    form = {"id": [RESPONSE_ID], "survey_version": ["1"], "channel": ["web"], "province": ["01"]}
    form.update({k: v if isinstance(v, list) else [v] for k, v in fields.items()})
    return forms.form_to_submission(survey, form)


# --- rendering ---------------------------------------------------------------------------------------
def test_choice_questions(html: str) -> None:
    tags = Tags(html)
    # yes/no: two radios Có / Không, side by side
    used = tags.find("input", name="used")
    assert [(a["type"], a["value"]) for a in used] == [("radio", "yes"), ("radio", "no")]
    assert '<div class="opts row">' in box(html, "used")
    assert "<span>Có<small" in box(html, "used")
    # single choice with "other, please specify"
    assert [a["value"] for a in tags.find("input", name="via")] == ["1", "2", "3"]
    assert tags.find("input", name="via__other", type="text", maxlength="500")
    # multi choice with a maximum
    assert [a["type"] for a in tags.find("input", name="why")] == ["checkbox"] * 4
    assert 'data-max="2"' in box(html, "why")
    assert "Chọn tối đa 2 phương án." in box(html, "why")
    # rating: labelled points, the N/A point set apart
    stars = box(html, "stars")
    assert re.findall(r'value="(\w+)"', stars) == ["1", "2", "3", "4", "5", "9"]
    assert '<label class="opt na"><input type="radio" name="stars" value="9"' in stars


def test_matrix_has_a_column_per_point_and_marks_not_applicable(html: str) -> None:
    grid = box(html, "grid")
    assert '<th scope="col" class="na">Phương án 9' in grid
    assert re.search(r'<td class="na"><label><input type="radio" name="g1" value="9"', grid)
    assert '<tr data-q="g2" data-t="row" data-r>' in grid


def test_number_date_text_fields(html: str) -> None:
    tags = Tags(html)
    age = tags.find("input", name="age")[0]
    assert (age["type"], age["inputmode"], age["step"], age["min"], age["max"]) == (
        "number",
        "numeric",
        "1",
        "15",
        "120",
    )
    assert "Từ 15 đến 120." in box(html, "age")
    spent = tags.find("input", name="spent")[0]
    assert (spent["inputmode"], spent["step"]) == ("decimal", "any")
    assert tags.find("input", name="when", type="date")
    assert tags.find("input", name="name", type="text")[0]["maxlength"] == "255"  # a one-line text's default
    say = tags.find("textarea", name="say")[0]
    assert say["maxlength"] == "50"
    assert say["aria-describedby"] == "l-say"
    assert "Tối đa 50 ký tự." in html


def test_place_pickers_and_consent_and_note(survey: Survey, geography: Geography, html: str) -> None:
    tags = Tags(html)
    prov = re.search(r'<select id="i-prov" name="prov"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert prov
    assert len(re.findall(r'<option value="\d\d"', prov.group(1))) == 34
    comm = tags.find("select", name="comm")[0]
    assert comm["data-parent"] == "prov"  # form.js loads the communes of the chosen province
    assert re.findall(r"<option[^>]*>", box(html, "comm")) == ['<option value="">']
    again = render(survey, geography, values={"prov": "01", "comm": "00004"})
    assert '<option value="00004" selected>Phường Ba Đình</option>' in box(again, "comm")
    consent = tags.find("input", name="consent")[0]
    assert (consent["type"], consent["value"]) == ("checkbox", "true")
    assert "required" in consent
    assert '<span class="req" aria-hidden="true">*</span>' in box(html, "consent")
    note = box(html, "note1")
    assert "<strong>Cảm ơn</strong>" in note
    assert "<input" not in note
    assert not tags.find("input", name="note1")


def test_required_marks(html: str) -> None:
    assert '<span class="req" aria-hidden="true">*</span>' in box(html, "used")
    assert "(bắt buộc trong một số trường hợp)" in box(html, "why")  # required_if
    assert 'class="req"' not in box(html, "age")


def test_conditional_questions_say_when_to_answer(html: str) -> None:
    assert '<p class="when" id="w-via">Chỉ trả lời nếu Ông/Bà chọn “Có” ở “Đã dùng dịch vụ?”.' in html
    assert 'lang="en" class="en">Answer only if you chose “Yes” at “Đã dùng dịch vụ?”.</small>' in html
    assert "Chỉ trả lời nếu “Tuổi” từ 18 trở lên." in box(html, "spent")
    # a section whose condition has a not(): the generic wording, under the section's heading
    assert re.search(r'<h2 id="s-b"[^>]*>.*?</h2>\n<p class="when" id="w-b">Chỉ trả lời nếu câu này phù hợp', html)
    assert "Chỉ trả lời nếu “Phương án 4” lớn hơn 3" not in html
    assert "Chỉ trả lời nếu “Chấm điểm” lớn hơn 3." in box(html, "grid")  # row g2, under its text
    # the hint describes the question's controls
    assert Tags(html).find("fieldset", **{"data-q": "via"})[0]["aria-describedby"] == "w-via"


def test_the_page_carries_the_survey_logic_for_the_browser(survey: Survey, html: str) -> None:
    block = re.search(r'<script type="application/json" id="logic">(.*?)</script>', html, re.DOTALL)
    assert block
    assert json.loads(block.group(1)) == survey.client_logic()
    assert "</" not in block.group(1)


def test_sipas_hint_of_part_two() -> None:
    from chalicelib.web.hints import when_to_answer

    labels = {"q8_04": "Câu 8. Trong 12 tháng qua, Ông/Bà … đã: — Thực hiện thủ tục hành chính"}
    choices = {"q8_04": {"1": {"vi": "Có", "en": "Yes"}, "2": {"vi": "Không", "en": "No"}}}
    hint = when_to_answer("${q8_04} = '1'", labels, choices)
    assert hint == {
        "vi": "Chỉ trả lời nếu Ông/Bà chọn “Có” ở “Câu 8 — Thực hiện thủ tục hành chính”.",
        "en": "Answer only if you chose “Yes” at “Câu 8 — Thực hiện thủ tục hành chính”.",
    }
    both = when_to_answer("${q8_04} = '1' or selected(${q8_04}, '2')", labels, choices)
    assert both
    assert " hoặc Ông/Bà có chọn “Không”" in both["vi"]
    assert when_to_answer("${q8_04} = ${q8_04}", labels, choices) == when_to_answer("x(", labels, choices)
    assert when_to_answer(None, labels, choices) is None


# --- the no-JavaScript post ----------------------------------------------------------------------------
def test_answers_are_read_by_type(survey: Survey) -> None:
    body = post(
        survey,
        consent="true",
        used="yes",
        via="3",
        via__other="Qua Zalo",
        why=["2", "2", "3"],
        age="30",
        spent="12,5",
        stars="9",
        g1="2",
        g2="1",
        when="2026-05-01",
        note1="ignored",
        region="n",
        city="hn",
        prov="01",
        comm="00004",
        name="AB123",
        say="  ",
    )
    answers = body["answers"]
    assert answers["consent"] is True
    assert answers["age"] == 30
    assert answers["spent"] == 12.5
    assert answers["via__other"] == "Qua Zalo"
    assert "note1" not in answers
    assert "say" not in answers  # blank text is no answer
    assert answers["stars"] == "9"
    assert forms.form_errors(survey, body) == {}


def test_answers_the_conditions_hide_are_dropped_before_the_check(survey: Survey) -> None:
    # "no": channel is hidden (its answer dropped); section b is hidden (stars, grid dropped); why becomes required
    body = post(survey, consent="true", used="no", via="1", stars="5", g1="3", g2="3", age="16", spent="4")
    answers = body["answers"]
    assert "via" not in answers
    assert "stars" not in answers
    assert "g1" not in answers
    assert "spent" not in answers  # relevant only from 18
    assert forms.form_errors(survey, body) == {"why": forms.REQUIRED_MESSAGE}


def test_form_errors_carry_the_survey_messages(survey: Survey) -> None:
    body = post(survey, used="yes", age="ba mươi", spent="5000", name="xx")
    errors = forms.form_errors(survey, body)
    assert errors["consent"] == forms.REQUIRED_MESSAGE
    assert errors["age"] == "Vui lòng nhập một số nguyên."
    assert errors["via"] == forms.REQUIRED_MESSAGE
    assert errors["g1"] == forms.REQUIRED_MESSAGE
    assert errors["name"] == "Câu trả lời chưa đúng yêu cầu của câu hỏi."
    spent = forms.form_errors(survey, post(survey, used="no", why="2", consent="true", age="40", spent="5000"))
    assert spent == {"spent": "Từ 0 đến dưới 1000."}
    assert forms.form_errors(survey, post(survey, consent="", used="no", why="2"))["consent"] == forms.REQUIRED_MESSAGE


def test_errors_render_in_place_and_in_the_summary(survey: Survey, geography: Geography) -> None:
    body = post(survey, used="yes", age="x", spent="1")
    errors = forms.form_errors(survey, body)
    html = render(survey, geography, values={"used": "yes", "age": "x"}, errors=errors)
    summary = re.search(r'<div id="errsum"[^>]*>(.*?)</div>', html, re.DOTALL)
    assert summary
    links = re.findall(r'<a href="#i-(\w+)">', summary.group(1))
    assert links == ["consent", "via", "age", "g1"]  # form order
    assert '<p class="err" id="e-age">Vui lòng nhập một số nguyên.</p>' in box(html, "age")
    assert Tags(html).find("input", name="age")[0]["aria-invalid"] == "true"
    assert Tags(html).find("input", name="age")[0]["value"] == "x"
    assert 'aria-describedby="e-consent"' in box(html, "consent")
