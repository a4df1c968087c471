"""Public XLSForms we did not write (tests/fixtures/xlsform/README.md): import or located errors."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from chalicelib.domain.xlsform import XlsFormError, read_xlsform
from tests.shared.xlsforms import workbook_from_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "xlsform"


def translated(data: bytes, translations: dict[str, dict[int, str]]) -> bytes:
    """The workbook with a Vietnamese label column added to each sheet named, row by row.

    The column is spelled as the sheet spells its other languages: a sheet with no '::' header splits
    'label:English' on one colon (pyxform's rule, and ours), so its Vietnamese column is 'label:Tiếng Việt (vi)'.
    """
    book = load_workbook(BytesIO(data))
    for sheet_name, rows in translations.items():
        sheet = book[sheet_name]
        column = sheet.max_column + 1
        delimiter = "::" if any("::" in str(c.value or "") for c in sheet[1]) else ":"
        sheet.cell(row=1, column=column, value=f"label{delimiter}Tiếng Việt (vi)")
        for row, text in rows.items():
            sheet.cell(row=row, column=column, value=text)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def located(data: bytes) -> set[tuple[str | None, int | None, str | None]]:
    with pytest.raises(XlsFormError) as caught:
        read_xlsform(data, survey_id="public-form")
    return {(d["sheet"], d["row"], d["column"]) for d in caught.value.details}


def test_a_form_written_in_english_imports_as_a_draft_that_asks_for_its_vietnamese() -> None:
    from chalicelib.domain.survey import Survey

    definition = read_xlsform(workbook_from_text(FIXTURES / "yes_or_no_question.md"), survey_id="yes-or-no")
    assert definition["status"] == "draft" and definition["languages"] == ["vi", "en"]
    (question,) = definition["sections"][0]["questions"]
    assert question["text"] == {"en": "have you had a good day today?"}
    # publishing is refused until every text has its Vietnamese
    missing = Survey.from_definition(definition).missing_translations()
    assert "/sections/0/questions/0/text/vi" in missing and "/title/vi" not in missing


def test_text_and_integer_imports_once_translated() -> None:
    data = translated(
        workbook_from_text(FIXTURES / "text_and_integer.md"),
        {"survey": {2: "Tên của bạn là gì?", 3: "Bạn bao nhiêu tuổi?"}},
    )
    definition = read_xlsform(data, survey_id="text-and-integer")
    assert definition["languages"] == ["vi", "en"]
    (section,) = definition["sections"]
    assert [(q["id"], q["type"], q["text"]) for q in section["questions"]] == [
        ("your_name", "text", {"vi": "Tên của bạn là gì?", "en": "What is your name?"}),
        ("your_age", "integer", {"vi": "Bạn bao nhiêu tuổi?", "en": "How many years old are you?"}),
    ]


def test_a_yes_no_list_imports_as_yes_no() -> None:
    data = translated(
        workbook_from_text(FIXTURES / "yes_or_no_question.md"),
        {"survey": {2: "Hôm nay của bạn có tốt không?"}, "choices": {2: "có", 3: "không"}},
    )
    (question,) = read_xlsform(data, survey_id="yes-or-no")["sections"][0]["questions"]
    assert question == {
        "id": "good_day",
        "type": "yes_no",
        "text": {"vi": "Hôm nay của bạn có tốt không?", "en": "have you had a good day today?"},
    }


def test_or_specify_other_adds_an_other_option_with_free_text() -> None:
    data = translated(
        workbook_from_text(FIXTURES / "specify_other.md"),
        {"survey": {2: "Giới tính của bạn?"}, "choices": {2: "Nam", 3: "Nữ"}},
    )
    (question,) = read_xlsform(data, survey_id="specify-other")["sections"][0]["questions"]
    assert question["type"] == "single_choice"
    assert [(o["value"], o.get("other_text", False)) for o in question["options"]] == [
        ("male", False),
        ("female", False),
        ("other", True),
    ]
    assert question["options"][2]["label"] == {"vi": "Khác", "en": "Other"}


@pytest.mark.parametrize(
    ("name", "translations", "expected"),
    [
        (
            "group.md",
            {"survey": {2: "Họ", 3: "Cha", 4: "Số điện thoại của cha", 5: "Tuổi của cha"}},
            {("survey", 4, "type")},  # phone number
        ),
        (
            "loop.md",
            {"survey": {2: "Loại nhà vệ sinh?", 4: "Bao nhiêu?"}, "choices": {2: "a", 3: "b", 4: "c"}},
            {("survey", 3, "type")},  # begin loop over: a repeat
        ),
        (
            "case_insensitivity.md",
            {"SURVEY": {2: "Bạn khỏe không?", 3: "Bạn ở đâu?", 4: "Chính xác ở đâu?"}, "CHOICES": {2: "a", 3: "b"}},
            {("SURVEY", 3, "TYPE"), ("SURVEY", 4, "TYPE")},  # an English-only title imports (a draft)
        ),
    ],
)
def test_unsupported_constructs_are_located(name: str, translations: dict[str, dict[int, str]], expected: set) -> None:
    data = translated(workbook_from_text(FIXTURES / name), translations)
    assert located(data) == expected


def test_the_odk_widget_tour_fails_at_every_unsupported_cell() -> None:
    found = located(workbook_from_text(FIXTURES / "widgets.csv"))
    unsupported_types = {("survey", row, "type") for row in (6, 11, 12, 13, 14, 15, 17, 18)}
    assert unsupported_types <= found  # time, geopoint, barcode, image, audio, video, geopoint, dateTime
    assert ("survey", 16, "name") not in found  # numberAsString: renamed numberasstring, as a lower-case name
    assert {("survey", 4, "default"), ("survey", 10, "bind:relevant"), ("survey", 19, "control:appearance")} <= found
    assert {column for _, _, column in found} <= {
        "type",
        "name",
        "default",
        "bind:constraint",
        "bind:jr:constraintMsg",
        "bind:readonly",
        "bind:relevant",
        "control:appearance",
    }
    # The questions it has that the platform knows (string, int, decimal, date, selects, trigger) raise nothing.
    assert not {("survey", row, "type") for row in (2, 3, 4, 5, 7, 8, 9, 10)} & found
