"""XLSForm import and export: every construct of the survey model round-trips, broken files say where they break."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from chalicelib.contracts import load_schema, validator
from chalicelib.domain.survey import Survey
from chalicelib.domain.xlsform import XlsFormError, read_xlsform, write_xlsform
from tests.shared.model_survey import model_definition, opts, t
from tests.shared.xlsforms import workbook

SURVEY_HEADER = ["type", "name", "label::Tiếng Việt (vi)", "label::English (en)"]


def draft(definition: dict[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(definition), "status": "draft"}


def every_construct() -> dict[str, Any]:
    """The model survey (every question type and rule) plus every optional field the model has."""
    d = draft(model_definition())
    d.update(
        owner_agency="P01",
        topic=t("Dịch vụ công", "Public services"),
        description=t("Giới thiệu", "About"),
        opens_at="2026-01-01T00:00:00Z",
        closes_at="2026-12-31T16:59:59Z",
        retention_days=180,
        screening={"speeder_median_ratio": 0.4, "speeder_seconds_per_item": 1.5, "speeder_min_history": 20},
    )
    a, b, c = d["sections"]
    a["intro"] = t("Xin chào", "Hello")
    a["questions"][2]["appearance"] = "horizontal"
    a["questions"][2]["help"] = t("Chọn một", "Pick one")
    b["questions"][0]["appearance"] = "quick"
    b["questions"][1].update(help=t("Mỗi dòng một ý", "One per row"), relevant="${used} = 'yes'", appearance="no-ticks")
    b["questions"][1]["rows"].append({"id": "g3", "text": t("Dòng 3", "Row 3"), "required": False})
    b["questions"][2].update(required=True)  # a date: no bounds (the contract cannot compare dates)
    c["questions"][4].update(personal_data=True, max_length=20, help=t("Không bắt buộc", "Optional"))
    c["questions"][5]["appearance"] = "big"
    c["questions"][0]["options"][1]["not_applicable"] = True
    d["scoring"] = {
        "positive_values": ["4", "5"],
        "overall_rule": "mean_of_items",
        "parts": [
            {
                "id": "I",
                "label": t("Phần I", "Part I"),
                "elements": [
                    {"id": "I.1", "label": t("Lĩnh vực 1", "Element 1"), "items": ["g1", "g2"]},
                    {"id": "I.2", "label": t("Lĩnh vực 2", "Element 2"), "items": ["stars"]},
                ],
            }
        ],
    }
    return d


def problems(data: bytes, **kw: Any) -> list[tuple[str | None, int | None, str | None]]:
    with pytest.raises(XlsFormError) as caught:
        read_xlsform(data, **kw)
    assert caught.value.status == 422 and caught.value.code == "invalid_xlsform"
    for detail in caught.value.details:
        assert detail["message"] and detail["message_en"]  # Vietnamese and English
    return [(d["sheet"], d["row"], d["column"]) for d in caught.value.details]


# ------------------------------------------------------------------------------------------ round trip


def test_every_question_type_and_attribute_round_trips() -> None:
    # GIVEN a definition with every question type of the schema and every optional field
    definition = every_construct()
    types = {q["type"] for s in definition["sections"] for q in s["questions"]}
    assert types == set(load_schema("survey")["definitions"]["question"]["properties"]["type"]["enum"])
    # WHEN it is written as an XLSForm and read back THEN it is the same definition, and a valid one
    again = read_xlsform(write_xlsform(definition))
    assert again == definition
    validator("survey")(copy.deepcopy(again))
    Survey.from_definition(again)


def test_the_model_survey_round_trips_unchanged() -> None:
    definition = draft(model_definition())
    assert read_xlsform(write_xlsform(definition)) == definition


def test_the_exported_file_is_a_plain_xlsform_that_pyxform_converts() -> None:
    # GIVEN the exported workbook WHEN pyxform converts it (as ODK/Kobo would) THEN the XForm carries the logic
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    xform = convert(write_xlsform(every_construct()), warnings=warnings).xform
    assert '<translation lang="Tiếng Việt (vi)" default="true()">' in xform
    assert '<translation lang="English (en)">' in xform
    assert "instance('city')/root/item[region =  /data/c/region ]" in xform  # the cascading select
    assert "instance('place_commune')/root/item[province= /data/c/prov ]" in xform  # the commune picker
    assert "relevant=\" /data/a/used  = 'yes'\"" in xform
    assert "jr:constraintMsg=\"jr:itext('/data/a/spent:jr:constraintMsg')\"" in xform
    assert 'appearance="likert quick"' in xform
    assert 'appearance="field-list no-ticks"' in xform and 'appearance="list-nolabel"' in xform  # pyxform's table
    assert "<not_applicable>yes</not_applicable>" in xform


def test_written_sheets_use_the_xlsform_spellings() -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(write_xlsform(every_construct())))
    assert book.sheetnames == ["survey", "choices", "settings", "scoring"]
    survey = [[c.value for c in row] for row in book["survey"].iter_rows()]
    header = survey[0]
    assert header[:4] == SURVEY_HEADER
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in survey[1:] if r[1] and r[0] != "end_group"}
    assert rows["used"]["type"] == "select_one yes_no"
    assert rows["stars"]["type"].startswith("select_one ") and rows["stars"]["appearance"] == "likert quick"
    assert rows["grid"]["type"] == "begin_group" and rows["grid"]["appearance"] == "table-list no-ticks"
    assert rows["say"]["type"] == "text" and rows["say"]["appearance"] == "multiline big"
    assert rows["consent"]["type"] == "acknowledge"
    assert (rows["comm"]["type"], rows["comm"]["choice_filter"]) == ("select_one place_commune", "province=${prov}")
    assert rows["why"]["required"] == "${used} = 'no'" and rows["why"]["max_choices"] == "2"
    assert rows["a"]["type"] == "begin_group" and rows["a"]["appearance"] == "field-list"
    choices = [[c.value for c in row] for row in book["choices"].iter_rows()]
    assert choices[0][:5] == ["list_name", "name", "label::Tiếng Việt (vi)", "label::English (en)", "other_text"]
    assert ["city", "hcm"] in [r[:2] for r in choices]
    assert sum(r[0] == "place_province" for r in choices) == 34
    settings = [[c.value for c in row] for row in book["settings"].iter_rows()]
    assert dict(zip(*settings, strict=True))["default_language"] == "Tiếng Việt (vi)"


# ------------------------------------------------------------------------------------------ reading


def test_multilingual_columns_in_every_spelling() -> None:
    data = workbook(
        survey=[
            ["type", "name", "label::vi", "label::English", "label::Français (fr)", "hint::vi", "hint::en"],
            ["text", "ten", "Tên", "Name", "Nom", "Họ và tên", "Full name"],
        ],
        settings=[["form_title", "survey_title::English (en)", "form_id"], ["Phiếu", "Form", "phieu-1"]],
    )
    definition = read_xlsform(data)
    assert definition["languages"] == ["vi", "en", "fr"]
    assert definition["title"] == {"vi": "Phiếu", "en": "Form"}
    question = definition["sections"][0]["questions"][0]
    assert question["text"] == {"vi": "Tên", "en": "Name", "fr": "Nom"}
    assert question["help"] == {"vi": "Họ và tên", "en": "Full name"}


def test_an_untagged_label_is_the_default_language() -> None:
    survey = [["type", "name", "label", "label::Tiếng Việt (vi)"], ["text", "ten", "Name", "Tên"]]
    settings = [["form_id", "default_language"], ["phieu-1", "English (en)"]]
    definition = read_xlsform(workbook(survey=survey, settings=settings))
    assert definition["sections"][0]["questions"][0]["text"] == {"vi": "Tên", "en": "Name"}
    # Without a default_language the untagged column is Vietnamese, the platform's first language.
    plain = read_xlsform(workbook(survey=[["type", "name", "label"], ["integer", "tuoi", "Tuổi"]]), survey_id="abc")
    assert plain["languages"] == ["vi"]
    assert plain["sections"][0]["questions"][0] == {"id": "tuoi", "type": "integer", "text": {"vi": "Tuổi"}}


def test_cascading_selects_read_choice_columns_as_option_filters() -> None:
    data = workbook(
        survey=[
            ["type", "name", "label", "choice_filter", "required"],
            ["select_one region", "region", "Vùng", "", "yes"],
            ["select_one city", "city", "Thành phố", "region = ${region}", "${region} != ''"],
        ],
        choices=[
            ["list_name", "name", "label", "region"],
            ["region", "n", "Miền Bắc", ""],
            ["region", "s", "Miền Nam", ""],
            ["city", "hn", "Hà Nội", "n"],
            ["city", "hcm", "TP. Hồ Chí Minh", "s"],
        ],
    )
    city = read_xlsform(data, survey_id="cities")["sections"][0]["questions"][1]
    assert city["choice_filter"] == "region = ${region}"
    assert city["required_if"] == "${region} != ''" and "required" not in city
    assert city["options"] == [
        {"value": "hn", "label": {"vi": "Hà Nội"}, "filter": {"region": "n"}},
        {"value": "hcm", "label": {"vi": "TP. Hồ Chí Minh"}, "filter": {"region": "s"}},
    ]


def test_xlsform_idioms_become_the_models_types() -> None:
    data = workbook(
        survey=[
            ["type", "name", "label", "appearance", "relevant"],
            ["integer", "tuoi", "Tuổi", "", ""],  # outside any group: an implicit section
            ["begin group", "p1", "Phần 1", "", "${tuoi} >= 18"],
            ["select_one yn", "da_dung", "Đã dùng?", "", ""],
            ["select_one sao", "sao", "Chấm điểm", "likert", ""],
            ["select_multiple kenh or_other", "kenh", "Kênh", "", ""],
            ["begin group", "luoi", "Đánh giá", "table-list", "${da_dung} = 'yes'"],
            ["select_one sao", "l1", "Dòng 1", "", ""],
            ["select_one sao", "l2", "Dòng 2", "", ""],
            ["end group", "", "", "", ""],
            ["begin group", "nhom", "Thông tin thêm", "", "${sao} = '5'"],  # nested, no matrix: flattened
            ["text", "y_kien", "Ý kiến", "multiline", ""],
            ["end group", "", "", "", ""],
            ["acknowledge", "dong_y", "Đồng ý", "", ""],
            ["start", "started", "", "", ""],  # metadata: skipped
            ["end group", "", "", "", ""],
        ],
        choices=[
            ["list_name", "name", "label"],
            ["yn", "yes", "Có"],
            ["yn", "no", "Không"],
            ["sao", "1", "Tệ"],
            ["sao", "2", "Tốt"],
            ["kenh", "tv", "Ti vi"],
        ],
        settings=[["form_title", "form_id"], ["Phiếu", "phieu-2"]],
    )
    definition = read_xlsform(data)
    loose, part = definition["sections"]
    assert loose == {"id": "section_1", "title": {"vi": "Phiếu"}, "questions": [loose["questions"][0]]}
    assert part["relevant"] == "${tuoi} >= 18"
    by_id = {q["id"]: q for q in part["questions"]}
    assert list(by_id) == ["da_dung", "sao", "kenh", "luoi", "nhom", "y_kien", "dong_y"]
    assert by_id["da_dung"]["type"] == "yes_no" and "options" not in by_id["da_dung"]
    assert by_id["sao"]["type"] == "rating" and [o["value"] for o in by_id["sao"]["scale"]] == ["1", "2"]
    assert by_id["kenh"]["options"][-1] == {"value": "other", "label": {"vi": "Khác"}, "other_text": True}
    assert by_id["luoi"]["type"] == "matrix" and [r["id"] for r in by_id["luoi"]["rows"]] == ["l1", "l2"]
    assert by_id["luoi"]["relevant"] == "${da_dung} = 'yes'"
    assert by_id["nhom"] == {"id": "nhom", "type": "note", "text": {"vi": "Thông tin thêm"}, "relevant": "${sao} = '5'"}
    assert by_id["y_kien"]["type"] == "long_text" and by_id["y_kien"]["relevant"] == "${sao} = '5'"
    assert by_id["dong_y"]["type"] == "consent"
    assert definition["status"] == "draft" and definition["id"] == "phieu-2"


def test_survey_id_names_the_survey_when_given() -> None:
    data = workbook(survey=[["type", "name", "label"], ["text", "a", "A"]], settings=[["form_id"], ["My Form"]])
    assert problems(data) == [("settings", 2, "form_id")]
    assert read_xlsform(data, survey_id="my-form")["id"] == "my-form"


# ------------------------------------------------------------------------------------------ broken files


def test_a_file_that_is_no_workbook() -> None:
    assert problems(b"type,name,label\ntext,a,A\n") == [(None, None, None)]
    assert problems(workbook(questions=[["type"]])) == [(None, None, None)]  # no survey sheet


def test_every_problem_of_a_broken_file_is_reported_at_its_cell() -> None:
    data = workbook(
        survey=[
            ["type", "name", "label::Tiếng Việt (vi)", "label::Klingon", "relevant", "constraint", "calculation"],
            ["select_one nolist", "q1", "Câu 1", "", "", "", ""],  # row 2: unknown list
            ["text", "Q2", "Câu 2", "", "", "", ""],  # row 3: read as q2 (KoboToolbox's names are not refused)
            ["integer", "a", "A", "", "", "", ""],
            ["integer", "b", "B", "", "${a} + ${b} > 3", "", ""],  # row 5: arithmetic
            ["integer", "c", "C", "", "${zz} = 1", "", ""],  # row 6: unknown question
            ["integer", "d", "D", "", "", ". > ${a}", ""],  # row 7: two answers compared
            ["calculate", "e", "", "", "", "", "${a} * 2"],  # row 8: calculate
            ["geopoint", "f", "Vị trí", "", "", "", ""],  # row 9
            ["begin_repeat", "g", "Lặp", "", "", "", ""],  # row 10
            ["text", "g1", "Trong nhóm lặp", "", "", "", ""],
            ["end_repeat", "", "", "", "", "", ""],
            ["text", "a", "Trùng", "", "", "", ""],  # row 13: duplicate
            ["text", "h", "", "", "", "", ""],  # row 14: no Vietnamese label
            ["text", "i", "I", "", "", "", "${a}"],  # row 15: calculation column on a question
            ["begin_group", "k", "Nhóm", "", "", "", ""],  # row 16: never closed
            ["text", "k1", "K1", "", "", "", ""],
        ],
        choices=[["list_name", "name", "label::Tiếng Việt (vi)"], ["x", "a b", "AB"], ["x", "c", "C"], ["x", "c", "C"]],
        scoring=[["part", "element", "item", "part_label", "element_label"], ["I", "I.1", "nope", "P", "E"]],
    )
    found = problems(data, survey_id="broken")
    assert set(found) == {
        ("survey", 1, "label::Klingon"),
        ("survey", 2, "type"),
        ("survey", 5, "relevant"),
        ("survey", 6, "relevant"),
        ("survey", 7, "constraint"),
        ("survey", 8, "type"),
        ("survey", 9, "type"),
        ("survey", 10, "type"),
        ("survey", 13, "name"),
        ("survey", 14, "label::Tiếng Việt (vi)"),
        ("survey", 15, "calculation"),
        ("survey", 16, "type"),
        ("choices", 2, "name"),
        ("choices", 4, "name"),
        ("settings", 2, "scoring_positive_values"),
        ("scoring", 2, "item"),
    }


def test_an_expression_the_contract_cannot_hold_names_its_cell_and_why() -> None:
    data = workbook(
        survey=[["type", "name", "label", "relevant"], ["integer", "a", "A", ""], ["integer", "b", "B", "${a} + 1 > 3"]]
    )
    with pytest.raises(XlsFormError) as caught:
        read_xlsform(data, survey_id="expr")
    (detail,) = caught.value.details
    assert (detail["sheet"], detail["row"], detail["column"]) == ("survey", 3, "relevant")
    assert "Biểu thức" in detail["message"] and "position" in detail["message_en"]
    assert caught.value.to_dict()["error"]["details"] == caught.value.details


@pytest.mark.parametrize(
    ("rows", "choices", "where"),
    [
        ([["select_one l", "q", "Q", "likert"]], [["l", "1", "Một"]], ("survey", 2, "type")),  # a one-point scale
        ([["select_one place_commune", "q", "Q", ""]], [], None),  # a commune picker needs no list: accepted
        ([["text", "q", "Q", "table-list"], ["end_group", "", "", ""]], [], ("survey", 3, "type")),
        ([["select_one l or_other", "q", "Q", ""]], [["l", "other", "Khác"]], ("survey", 2, "type")),
        ([["text", "q", "Q", ""], ["integer", "n", "N", ""]], [["l", "1", "Một"]], None),
    ],
)
def test_single_mistakes(rows: list[list[str]], choices: list[list[str]], where: tuple[str, int, str] | None) -> None:
    data = workbook(
        survey=[["type", "name", "label", "appearance"], *rows],
        choices=[["list_name", "name", "label"], *choices] if choices else None,
    )
    if where is None:
        assert read_xlsform(data, survey_id="one-mistake")["sections"]
    else:
        assert problems(data, survey_id="one-mistake") == [where]


# ------------------------------------------------------------------------------------------ SIPAS


def test_the_sipas_questionnaire_is_its_xlsform() -> None:
    # GIVEN the XLSForm that is the SIPAS 2026 questionnaire's one source
    from infra.local.seed import SIPAS_2026_XLSX

    definition = read_xlsform(SIPAS_2026_XLSX.read_bytes())
    validator("survey")(copy.deepcopy(definition))
    survey = Survey.from_definition(definition)
    # THEN it has the questions it had as JSON: parts A-D, the same questions, rows and answer values
    expected = {
        "a": [(q, "single_choice") for q in ("a_sex", "a_age", "a_ethnicity", "a_education", "a_occupation")]
        + [("a_area", "single_choice"), ("a_terrain", "single_choice")],
        "b": [("q1", "matrix"), ("q2", "multi_choice")]
        + [(f"q{i}", "single_choice") for i in range(3, 8)]
        + [("q8", "matrix")],
        "c": [("q9_policy", "matrix"), ("q9_service", "matrix")],
        "d": [("q10", "matrix"), ("q10_other", "text")],
    }
    assert {s["id"]: [(q["id"], q["type"]) for q in s["questions"]] for s in definition["sections"]} == expected
    questions = {q["id"]: q for s in definition["sections"] for q in s["questions"]}
    rows = {qid: [r["id"] for r in q.get("rows", [])] for qid, q in questions.items()}
    assert rows["q1"] == [f"q1_{i:02d}" for i in range(1, 9)]
    assert rows["q8"] == [f"q8_{i:02d}" for i in range(1, 8)]
    assert rows["q9_policy"] == [f"q9_{i:02d}" for i in range(1, 15)]
    assert rows["q9_service"] == [f"q9_{i:02d}" for i in range(15, 34)]
    assert rows["q10"] == [f"q10_{i:02d}" for i in range(1, 11)]
    assert [o["value"] for o in questions["q2"]["options"]] == [str(i) for i in range(1, 8)]
    assert [item.id for item in survey.items if item.required][:7] == [
        "a_sex",
        "a_age",
        "a_ethnicity",
        "a_education",
        "a_occupation",
        "a_area",
        "a_terrain",
    ]
    assert [p["id"] for p in definition["scoring"]["parts"]] == ["I", "II"]
    assert definition["scoring"]["positive_values"] == ["4", "5"]
    assert definition["retention_days"] == 365 and definition["geography"] == "vn-2025"
    # AND the two methodology changes: Part II only after an administrative procedure, N/A on both scales
    assert questions["q9_service"]["relevant"] == "${q8_04} = '1'"
    not_applicable = {
        "value": "9",
        "label": {"vi": "Không áp dụng / không có ý kiến", "en": "Not applicable / no opinion"},
        "not_applicable": True,
    }
    for qid in ("q9_policy", "q9_service"):
        assert [o["value"] for o in questions[qid]["scale"]] == ["1", "2", "3", "4", "5", "9"]
        assert questions[qid]["scale"][-1] == not_applicable
    # AND writing it again gives the same questionnaire
    assert read_xlsform(write_xlsform(definition)) == definition


def test_the_seed_publishes_the_xlsform() -> None:
    from infra.local.seed import load_survey

    definition = load_survey()
    assert definition["status"] == "published" and definition["id"] == "sipas-2026"
    assert Survey.from_definition(definition).status == "published"


def test_option_lists_shared_by_questions_are_written_once() -> None:
    definition = draft(model_definition())
    scale = opts("1", "2", "3")
    definition["sections"][0]["questions"] += [
        {"id": "r1", "type": "rating", "text": t("R1"), "scale": scale},
        {"id": "r2", "type": "rating", "text": t("R2"), "scale": copy.deepcopy(scale)},
    ]
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(write_xlsform(definition)))
    types = {row[1].value: row[0].value for row in book["survey"].iter_rows(min_row=2)}
    assert types["r1"] == types["r2"] == "select_one r1"
    assert read_xlsform(write_xlsform(definition)) == definition


def test_vietnamese_is_read_in_its_usual_spellings() -> None:
    from chalicelib.domain.xlsform import language_code

    for spelling in ("Tiếng Việt", "Tiếng Việt (vi)", "Tieng Viet", "Vietnamese", "Vietnamese (vi-VN)", "vi-VN", "VI"):
        assert language_code(spelling) == "vi", spelling
    assert language_code("English (en)") == language_code("Tiếng Anh") == "en"
    assert language_code("Klingon") is None


@pytest.mark.parametrize(("written", "read"), [("2026113001", 1), ("v2", 1), ("1.3", 1), ("3", 3), ("", 1)])
def test_an_xlsforms_own_version_stamp_never_becomes_a_platform_version(written: str, read: int) -> None:
    data = workbook(
        survey=[["type", "name", "label"], ["text", "a", "A"]],
        settings=[["form_title", "form_id", "version"], ["Phiếu", "phieu-thu", written]],
    )
    assert read_xlsform(data)["version"] == read


def test_a_question_named_like_a_field_of_the_submission_is_renamed_with_its_references() -> None:
    # Forms from elsewhere often call their pickers `province` and `commune`, fields of our submission envelope.
    data = workbook(
        survey=[
            ["type", "name", "label", "relevant", "choice_filter"],
            ["select_one tinh", "province", "Tỉnh", "", ""],
            ["select_one xa", "commune", "Xã", "${province} != ''", "tinh=${ province }"],
            ["text", "id", "Mã hồ sơ", "${commune} = 'x1'", ""],
        ],
        choices=[["list_name", "name", "label", "tinh"], ["tinh", "hn", "Hà Nội", ""], ["xa", "x1", "Xã 1", "hn"]],
        settings=[["form_title", "form_id"], ["Phiếu", "phieu-tinh"]],
    )
    definition = read_xlsform(data)
    questions = definition["sections"][0]["questions"]
    assert [q["id"] for q in questions] == ["province_q", "commune_q", "id_q"]
    assert questions[1]["relevant"] == "${province_q} != ''" and questions[1]["choice_filter"] == "tinh=${province_q}"
    assert questions[2]["relevant"] == "${commune_q} = 'x1'"
    Survey.from_definition(definition)


def test_a_hostile_workbook_is_read_as_it_is_or_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import zipfile

    from openpyxl import Workbook

    from chalicelib.domain import xlsform_read

    # GIVEN a 5 KB workbook whose sheet claims to span A1:XFD1048576 with one cell at the very last row
    book = Workbook()
    book.active.title = "survey"
    book.active.append(["type", "name", "label"])
    book.active.append(["text", "a", "A"])
    raw = io.BytesIO()
    book.save(raw)
    patched = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source,
        zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for entry in source.infolist():
            body = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                text = body.decode()
                text = re.sub(r'<dimension ref="[^"]+"/>', '<dimension ref="A1:XFD1048576"/>', text)
                text = text.replace(
                    "</sheetData>",
                    '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
                )
                body = text.encode()
            out.writestr(entry, body)
    cells: list[Any] = []
    original = xlsform_read.cell_text
    monkeypatch.setattr(xlsform_read, "cell_text", lambda value: cells.append(value) or original(value))
    with pytest.raises(XlsFormError) as caught:
        read_xlsform(patched.getvalue(), survey_id="hostile")
    # THEN it is read as it is, not as it claims: never more than MAX_COLUMNS cells a row (padded to its
    # 16,384 columns, the same file took 18 s a sheet), and the row limit is reported at its sheet
    assert len(cells) <= (xlsform_read.MAX_ROWS + 1) * xlsform_read.MAX_COLUMNS
    assert any(d["sheet"] == "survey" for d in caught.value.details)

    # AND a zip bomb (a 100 MB entry of zeros) is refused before anything inflates it
    bomb = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in source.infolist():
            out.writestr(entry, source.read(entry.filename))
        out.writestr("xl/media/zeros.bin", b"\0" * (100 * 1024 * 1024))
    with pytest.raises(XlsFormError) as refused:
        read_xlsform(bomb.getvalue(), survey_id="bomb")
    assert refused.value.details[0]["sheet"] is None


def test_names_written_as_kobotoolbox_writes_them_are_read_with_their_references() -> None:
    data = workbook(
        survey=[
            ["type", "name", "label", "relevant", "constraint"],
            ["integer", "Q1", "Số người trong hộ", "", ". > 0"],
            ["integer", "hh-size", "Số trẻ em", "${Q1} > 1", ""],
            ["text", "respName", "Họ tên", "${hh-size} >= 1", ""],
            ["text", "q1", "Ghi chú", "", ""],  # already taken by Q1's lower-case spelling
        ],
        settings=[["form_title", "form_id"], ["Phiếu hộ", "phieu-ho"]],
    )
    questions = read_xlsform(data)["sections"][0]["questions"]
    assert [q["id"] for q in questions] == ["q12", "hh_size", "respname", "q1"]
    assert questions[1]["relevant"] == "${q12} > 1" and questions[2]["relevant"] == "${hh_size} >= 1"


def test_a_field_list_page_of_questions_sharing_a_list_is_read_as_questions_when_a_grid_cannot_hold_them() -> None:
    # a field-list page whose select_one questions share a list but carry a hint and a required rule: not a grid
    data = workbook(
        survey=[
            ["type", "name", "label", "hint", "required", "appearance"],
            ["begin_group", "trang1", "Trang 1", "", "", ""],
            ["begin_group", "co_khong", "Các câu có / không", "", "", "field-list"],
            ["select_one yn", "a", "Có con đi học?", "Trường công lập", "yes", ""],
            ["select_one yn", "b", "Có đi khám bệnh?", "", "${a} = 'yes'", ""],
            ["end_group", "", "", "", "", ""],
            ["end_group", "", "", "", "", ""],
        ],
        choices=[["list_name", "name", "label"], ["yn", "yes", "Có"], ["yn", "no", "Không"]],
        settings=[["form_title", "form_id"], ["Phiếu", "phieu-trang"]],
    )
    questions = read_xlsform(data)["sections"][0]["questions"]
    assert [(q["id"], q["type"]) for q in questions] == [("co_khong", "note"), ("a", "yes_no"), ("b", "yes_no")]
    assert questions[1]["help"] == {"vi": "Trường công lập"} and questions[2]["required_if"] == "${a} = 'yes'"
