"""XLSForm export: a survey definition spelled as an .xlsx that read_xlsform reads back and pyxform converts.

Conventions (the reader, chalicelib/domain/xlsform.py, undoes each one):
- a section is a top-level ``begin_group`` (appearance ``field-list``: one page), its intro the group hint;
- a matrix is a nested ``begin_group`` with appearance ``table-list`` whose rows are ``select_one`` of one
  list; a rating is ``select_one`` with appearance ``likert``; a yes/no question is ``select_one yes_no``;
  a long text is ``text`` with appearance ``multiline``; consent is ``acknowledge``;
- a place picker is ``select_one place_province`` or ``select_one place_commune`` with
  ``choice_filter`` ``province=${<province question>}``; both lists are filled from the geography so
  pyxform and ODK Collect show real pickers;
- the model's fields XLSForm has no column for go in extra columns other tools ignore: ``min``, ``max``,
  ``max_length``, ``max_choices``, ``personal_data`` (survey), ``other_text``, ``not_applicable`` (choices,
  next to the filter attributes), the survey's own fields in settings, scoring in a ``scoring`` sheet.
"""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

from chalicelib.domain.xlsform_sheets import (
    CHOICES,
    COMMUNE_LIST,
    PAR_QUESTION_COLUMNS,
    PROVINCE_LIST,
    SCORING,
    SCREENING_COLUMNS,
    SETTINGS,
    SURVEY,
    YES_NO_LABELS,
    YES_NO_LIST,
    language_column,
    language_label,
)

_SIMPLE = {"integer": "integer", "decimal": "decimal", "text": "text", "date": "date", "note": "note"}
_SURVEY_ORDER = ("type", "name", "label", "hint", "required", "relevant", "constraint", "constraint_message")
_SURVEY_TAIL = ("choice_filter", "appearance", *PAR_QUESTION_COLUMNS)
_TEXT_KEYS = frozenset({"label", "text", "title", "help", "intro", "description", "topic", "constraint_message"})
Cells = dict[tuple[str, str | None], str]  # (column, language or None) -> text


def write_workbook(definition: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    writer = _Writer(definition)
    workbook = Workbook()
    survey_sheet = workbook.active
    assert survey_sheet is not None
    survey_sheet.title = SURVEY
    _fill(survey_sheet, writer.survey_columns(), writer.survey_rows)
    _fill(workbook.create_sheet(CHOICES), writer.choice_columns(), writer.choice_rows)
    settings_columns, settings_row = writer.settings()
    _fill(workbook.create_sheet(SETTINGS), settings_columns, [settings_row])
    if definition.get("scoring"):
        columns, rows = writer.scoring()
        _fill(workbook.create_sheet(SCORING), columns, rows)
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def _fill(sheet: Any, columns: list[tuple[str, str | None]], rows: list[Cells]) -> None:
    from openpyxl.styles import Font

    sheet.append([language_column(base, lang) if lang else base for base, lang in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for number, row in enumerate(rows, start=2):
        for index, key in enumerate(columns, start=1):
            text = row.get(key)
            if text:
                cell = sheet.cell(row=number, column=index, value=text)
                cell.data_type = "s"  # a label that starts with '=' is text, not a formula
    for index, (base, _) in enumerate(columns, start=1):
        width = 40 if base in ("label", "hint", "part_label", "element_label", "constraint_message") else 16
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width


class _Writer:
    def __init__(self, definition: dict[str, Any]) -> None:
        self.definition = definition
        self.languages = _languages(definition)
        self.survey_rows: list[Cells] = []
        self.choice_rows: list[Cells] = []
        self.lists: dict[str, str] = {}  # canonical JSON of an option list -> list name
        self.list_names: set[str] = {YES_NO_LIST, PROVINCE_LIST, COMMUNE_LIST}
        self.filter_keys: list[str] = []
        self.flags: list[str] = []
        self.places: set[str] = set()
        self.yes_no = False
        for section in definition["sections"]:
            self._section(section)
        if self.yes_no:
            self._yes_no_list()
        if self.places:
            self._place_lists()

    # ------------------------------------------------------------------ helpers
    def text(self, cells: Cells, column: str, text: dict[str, str] | None) -> None:
        for code, value in (text or {}).items():
            cells[(column, code)] = value

    def list_name(self, preferred: str, options: list[dict[str, Any]]) -> str:
        key = json.dumps(options, sort_keys=True, ensure_ascii=False)
        if key in self.lists:
            return self.lists[key]
        name, n = preferred, 1
        while name in self.list_names:
            n += 1
            name = f"{preferred}_{n}"
        self.list_names.add(name)
        self.lists[key] = name
        for option in options:
            cells: Cells = {("list_name", None): name, ("name", None): option["value"]}
            self.text(cells, "label", option["label"])
            for flag in ("other_text", "not_applicable"):
                if option.get(flag):
                    cells[(flag, None)] = "yes"
                    if flag not in self.flags:
                        self.flags.append(flag)
            for key_name, value in (option.get("filter") or {}).items():
                cells[(key_name, None)] = value
                if key_name not in self.filter_keys:
                    self.filter_keys.append(key_name)
            self.choice_rows.append(cells)
        return name

    # ------------------------------------------------------------------ survey sheet
    def _section(self, section: dict[str, Any]) -> None:
        cells: Cells = {
            ("type", None): "begin_group",
            ("name", None): section["id"],
            ("appearance", None): "field-list",
        }
        self.text(cells, "label", section["title"])
        self.text(cells, "hint", section.get("intro"))
        if section.get("relevant"):
            cells[("relevant", None)] = section["relevant"]
        self.survey_rows.append(cells)
        for question in section["questions"]:
            self._question(question)
        self.survey_rows.append({("type", None): "end_group", ("name", None): section["id"]})

    def _common(self, question: dict[str, Any]) -> Cells:
        cells: Cells = {("name", None): question["id"]}
        self.text(cells, "label", question["text"])
        self.text(cells, "hint", question.get("help"))
        if question.get("required"):
            cells[("required", None)] = "yes"
        elif question.get("required_if"):
            cells[("required", None)] = question["required_if"]
        for column in ("relevant", "constraint", "choice_filter"):
            if question.get(column):
                cells[(column, None)] = question[column]
        self.text(cells, "constraint_message", question.get("constraint_message"))
        for column in PAR_QUESTION_COLUMNS:
            value = question.get(column)
            if value is True:
                cells[(column, None)] = "yes"
            elif value is not None and value is not False:
                cells[(column, None)] = str(value)
        return cells

    def _question(self, question: dict[str, Any]) -> None:
        qtype = question["type"]
        appearance = [question["appearance"]] if question.get("appearance") else []
        if qtype == "matrix":
            self._matrix(question, appearance)
            return
        cells = self._common(question)
        if qtype in ("single_choice", "multi_choice"):
            verb = "select_one" if qtype == "single_choice" else "select_multiple"
            cells[("type", None)] = f"{verb} {self.list_name(question['id'], question['options'])}"
        elif qtype == "rating":
            cells[("type", None)] = f"select_one {self.list_name(question['id'], question['scale'])}"
            appearance.insert(0, "likert")
        elif qtype == "yes_no":
            cells[("type", None)] = f"select_one {YES_NO_LIST}"
            self.yes_no = True
        elif qtype == "long_text":
            cells[("type", None)] = "text"
            appearance.insert(0, "multiline")
        elif qtype == "consent":
            cells[("type", None)] = "acknowledge"
        elif qtype == "place":
            level = question["level"]
            cells[("type", None)] = f"select_one {PROVINCE_LIST if level == 'province' else COMMUNE_LIST}"
            self.places.add(level)
            if level == "commune" and question.get("parent"):
                cells[("choice_filter", None)] = f"province=${{{question['parent']}}}"
        else:
            cells[("type", None)] = _SIMPLE[qtype]
        if appearance:
            cells[("appearance", None)] = " ".join(appearance)
        self.survey_rows.append(cells)

    def _matrix(self, question: dict[str, Any], appearance: list[str]) -> None:
        cells = self._common(question)
        cells[("type", None)] = "begin_group"
        cells[("appearance", None)] = " ".join(["table-list", *appearance])
        self.survey_rows.append(cells)
        list_name = self.list_name(question["id"], question["scale"])
        for row in question["rows"]:
            row_cells: Cells = {("type", None): f"select_one {list_name}", ("name", None): row["id"]}
            self.text(row_cells, "label", row["text"])
            if row.get("required", bool(question.get("required"))):
                row_cells[("required", None)] = "yes"
            if row.get("relevant"):
                row_cells[("relevant", None)] = row["relevant"]
            self.survey_rows.append(row_cells)
        self.survey_rows.append({("type", None): "end_group", ("name", None): question["id"]})

    def _yes_no_list(self) -> None:
        for value, label in YES_NO_LABELS.items():
            cells: Cells = {("list_name", None): YES_NO_LIST, ("name", None): value}
            self.text(cells, "label", {code: label[code] for code in self.languages if code in label})
            self.choice_rows.append(cells)

    def _place_lists(self) -> None:
        from chalicelib.reference.geography import load_geography

        geography = load_geography(self.definition.get("geography", "vn-2025"))
        for province in geography.provinces:
            cells: Cells = {("list_name", None): PROVINCE_LIST, ("name", None): province.code}
            self.text(cells, "label", dict.fromkeys(self.languages, province.name))
            self.choice_rows.append(cells)
        if "commune" in self.places:
            if "province" not in self.filter_keys:
                self.filter_keys.append("province")
            for province in geography.provinces:
                for commune in province.communes:
                    cells = {
                        ("list_name", None): COMMUNE_LIST,
                        ("name", None): commune.code,
                        ("province", None): province.code,
                    }
                    self.text(cells, "label", dict.fromkeys(self.languages, commune.name))
                    self.choice_rows.append(cells)

    def survey_columns(self) -> list[tuple[str, str | None]]:
        return self._columns(self.survey_rows, [*_SURVEY_ORDER, *_SURVEY_TAIL], always=("type", "name", "label"))

    def choice_columns(self) -> list[tuple[str, str | None]]:
        order = ["list_name", "name", "label", *self.flags, *self.filter_keys]
        return self._columns(self.choice_rows, order, always=("list_name", "name", "label"))

    def _columns(self, rows: list[Cells], order: list[str], always: tuple[str, ...]) -> list[tuple[str, str | None]]:
        used = {key for row in rows for key in row}
        columns: list[tuple[str, str | None]] = []
        for base in order:
            if base in ("label", "hint", "constraint_message"):
                if base in always or any(key[0] == base for key in used):
                    columns.extend((base, code) for code in self.languages)
            elif base in always or (base, None) in used:
                columns.append((base, None))
        return columns

    # ------------------------------------------------------------------ settings and scoring
    def settings(self) -> tuple[list[tuple[str, str | None]], Cells]:
        d = self.definition
        row: Cells = {
            ("form_title", None): d["title"].get("vi", ""),  # a draft may lack Vietnamese
            ("form_id", None): d["id"],
            ("version", None): str(d["version"]),
            ("default_language", None): language_label("vi"),
        }
        columns: list[tuple[str, str | None]] = [("form_title", None)]
        for code in self.languages[1:]:
            if code in d["title"]:
                row[("survey_title", code)] = d["title"][code]
                columns.append(("survey_title", code))
        columns += [("form_id", None), ("version", None), ("default_language", None)]

        def plain(column: str, value: Any) -> None:
            if value is not None:
                row[(column, None)] = str(value)
                columns.append((column, None))

        def texts(column: str, value: dict[str, str] | None) -> None:
            for code in self.languages:
                if value and code in value:
                    row[(column, code)] = value[code]
                    columns.append((column, code))

        plain("kind", d.get("kind"))
        plain("owner_agency", d.get("owner_agency"))
        texts("topic", d.get("topic"))
        texts("description", d.get("description"))
        plain("methodology", d["methodology"]["id"])
        plain("methodology_version", d["methodology"]["version"])
        plain("geography", d.get("geography"))
        plain("opens_at", d.get("opens_at"))
        plain("closes_at", d.get("closes_at"))
        plain("retention_days", d.get("retention_days"))
        for column, (key, _) in SCREENING_COLUMNS.items():
            plain(column, (d.get("screening") or {}).get(key))
        scoring = d.get("scoring")
        if scoring:
            plain("scoring_positive_values", " ".join(scoring["positive_values"]))
            plain("scoring_overall_rule", scoring.get("overall_rule"))
        return columns, row

    def scoring(self) -> tuple[list[tuple[str, str | None]], list[Cells]]:
        columns: list[tuple[str, str | None]] = [("part", None)]
        columns += [("part_label", code) for code in self.languages]
        columns.append(("element", None))
        columns += [("element_label", code) for code in self.languages]
        columns.append(("item", None))
        rows: list[Cells] = []
        for part in self.definition["scoring"]["parts"]:
            for element in part["elements"]:
                for item in element["items"]:
                    cells: Cells = {("part", None): part["id"], ("element", None): element["id"], ("item", None): item}
                    self.text(cells, "part_label", part["label"])
                    self.text(cells, "element_label", element["label"])
                    rows.append(cells)
        return columns, rows


def _languages(definition: dict[str, Any]) -> list[str]:
    """The survey's languages, Vietnamese first: as declared, else every language its texts use."""
    declared = list(definition.get("languages") or [])
    found: list[str] = ["vi"]

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in _TEXT_KEYS and isinstance(inner, dict) and all(isinstance(v, str) for v in inner.values()):
                    found.extend(code for code in inner if code not in found)
                    continue
                visit(inner)
        elif isinstance(value, list):
            for inner in value:
                visit(inner)

    visit(definition)
    return ["vi", *[code for code in declared if code != "vi"], *[c for c in found if c != "vi" and c not in declared]]
