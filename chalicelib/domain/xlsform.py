"""XLSForm import: an .xlsx in the XLSForm convention read into a survey definition (docs/SURVEY_MODEL.md).

The reader is a small, strict subset of XLSForm (https://xlsform.org): everything it accepts means the same
to pyxform/ODK and to this platform, and everything it cannot represent is reported with the sheet, the
1-based spreadsheet row and the column where it was found, all problems of a file at once
(:class:`XlsFormError`). The conventions (which XLSForm construct becomes which question type, the extra
PAR columns other tools ignore, the place pickers) are listed in docs/XLSFORM.md and in
``chalicelib/domain/xlsform_write.py``, which spells a definition back as an XLSForm.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from io import BytesIO
from typing import Any

from chalicelib.domain.errors import DomainError

SURVEY, CHOICES, SETTINGS, SCORING = "survey", "choices", "settings", "scoring"
# Place pickers are select_one questions from these two lists; write_xlsform fills them from the survey's
# geography (code as name, a `province` column on communes) so pyxform/ODK Collect can show them, and
# read_xlsform ignores their rows: the platform's own reference data is what answers are checked against.
PROVINCE_LIST, COMMUNE_LIST = "place_province", "place_commune"
COMMUNE_FILTER_RE = re.compile(r"^\s*province\s*=\s*\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}\s*$")
YES_NO_LIST = "yes_no"
YES_NO_LABELS = {"yes": {"vi": "Có", "en": "Yes"}, "no": {"vi": "Không", "en": "No"}}
OTHER_LABEL = {"vi": "Khác", "en": "Other"}  # the option an XLSForm "or_other" adds

# Column names of the languages this platform names; any other language is written "code (code)".
LANGUAGE_NAMES = {
    "vi": "Tiếng Việt",
    "en": "English",
    "fr": "Français",
    "zh": "中文",
    "ja": "日本語",
    "ko": "한국어",
    "km": "ខ្មែរ",
    "lo": "ລາວ",
}
_NAME_TO_CODE = {
    **{name.casefold(): code for code, name in LANGUAGE_NAMES.items()},
    "vietnamese": "vi",
    "tiếng anh": "en",
    "french": "fr",
    "chinese": "zh",
    "japanese": "ja",
    "korean": "ko",
    "khmer": "km",
    "lao": "lo",
}
_CODE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_CODE_IN_NAME_RE = re.compile(r"\(\s*([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)\s*\)\s*$")

ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SURVEY_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
VALUE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REFERENCE_RE = re.compile(r"\$\{([^}]*)\}")

MAX_ROWS = 20_000  # per sheet: the commune list of a place picker is ~3,300 rows
MAX_PROBLEMS = 200

TRUE_WORDS = frozenset({"yes", "true", "true()", "1"})
FALSE_WORDS = frozenset({"no", "false", "false()", "0"})

# Survey-sheet column aliases of pyxform (pyxform/aliases.py: survey_header, list_header).
_SURVEY_ALIASES = {
    "caption": "label",
    "relevance": "relevant",
    "constraining_message": "constraint_message",
    "requiredmsg": "required_message",
    "calculate": "calculation",
    "command": "type",
    "tag": "name",
    "value": "name",
    "readonly": "read_only",
    "repeat_count": "repeat_count",
    "jr:count": "repeat_count",
    "count": "repeat_count",
}
_CHOICES_ALIASES = {"list name": "list_name", "value": "name", "caption": "label"}
TRANSLATABLE = frozenset({"label", "hint", "constraint_message", "required_message", "guidance_hint"})
MEDIA = frozenset({"image", "big-image", "audio", "video", "media"})
# Survey columns whose XLSForm meaning the model cannot hold: a non-empty cell is a problem.
_UNSUPPORTED_COLUMNS = {
    "calculation": ("phép tính (calculation)", "calculations"),
    "default": ("giá trị mặc định (default)", "default values"),
    "read_only": ("câu hỏi chỉ đọc (read_only)", "read-only questions"),
    "repeat_count": ("số lần lặp (repeat_count)", "repeat counts"),
    "trigger": ("trigger", "triggers"),
    "parameters": ("tham số (parameters)", "parameters"),
}
# Extra PAR columns of the survey sheet (ignored by pyxform/ODK): the model's fields XLSForm has no column for.
PAR_QUESTION_COLUMNS = ("min", "max", "max_length", "max_choices", "personal_data")
# Metadata "questions" (pyxform's question types that the form fills itself): they ask nothing, and the
# platform records its own timing and never the device or phone, so they are skipped.
_METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "imei",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "start-geopoint",
        "background-audio",
    }
)
_SELECT_RE = re.compile(
    r"^(select_one|select one|select1|select_multiple|select multiple|select all that apply)\s+(\S+)(\s+or_other)?$"
)
_SIMPLE_TYPES = {
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "text": "text",
    "string": "text",
    "date": "date",
    "note": "note",
    "acknowledge": "consent",
}

SCREENING_COLUMNS = {
    "screening_speeder_median_ratio": ("speeder_median_ratio", float),
    "screening_speeder_seconds_per_item": ("speeder_seconds_per_item", float),
    "screening_speeder_min_history": ("speeder_min_history", int),
    "screening_straightline_min_items": ("straightline_min_items", int),
}


class XlsFormError(DomainError):
    """An XLSForm that cannot become a survey definition; ``details`` lists every problem found."""

    code = "invalid_xlsform"
    status = 422
    message_vi = "Tệp XLSForm có lỗi; hãy sửa các ô được liệt kê (trang tính, dòng, cột) rồi tải lên lại."
    message_en = "The XLSForm has errors; fix the listed cells (sheet, row, column) and upload it again."


def problem(sheet: str | None, row: int | None, column: str | None, message_vi: str, message_en: str) -> dict[str, Any]:
    """One entry of XlsFormError.details."""
    return {"sheet": sheet, "row": row, "column": column, "message": message_vi, "message_en": message_en}


def language_code(spec: str) -> str | None:
    """'Tiếng Việt (vi)', 'vi', 'English' -> the language code, or None when it cannot be told."""
    spec = spec.strip()
    if _CODE_RE.match(spec):
        return spec
    found = _CODE_IN_NAME_RE.search(spec)
    if found:
        return found.group(1)
    return _NAME_TO_CODE.get(spec.casefold())


def language_column(base: str, code: str) -> str:
    """The header of a translated column, e.g. label::Tiếng Việt (vi)."""
    return f"{base}::{language_label(code)}"


def language_label(code: str) -> str:
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


def cell_text(value: Any) -> str:
    """A cell as the text it shows: whole numbers without '.0', dates in ISO, text stripped and NFC."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


def read_xlsform(data: bytes, *, survey_id: str | None = None) -> dict[str, Any]:
    """The survey definition (status "draft") an XLSForm spells; raise XlsFormError listing every problem.

    ``survey_id`` names the survey when the file's settings have no usable form_id (or overrides it).
    """
    reader = _Reader(survey_id)
    definition = reader.read(data)
    if reader.problems:
        raise XlsFormError(details=reader.problems[:MAX_PROBLEMS])
    return definition


def write_xlsform(definition: dict[str, Any]) -> bytes:
    """The .xlsx that spells a survey definition; read_xlsform gives the definition back."""
    from chalicelib.domain.xlsform_write import write_workbook

    return write_workbook(definition)


# ------------------------------------------------------------------------------------------ sheets


@dataclass
class _Row:
    number: int  # 1-based spreadsheet row
    cells: dict[str, str]  # header as written -> text of the cell (non-empty cells only)


@dataclass
class _Sheet:
    title: str
    headers: list[str]
    rows: list[_Row]
    # canonical column name -> headers: untranslated columns have one, translatable ones one per language
    columns: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)

    def header(self, base: str) -> str | None:
        """The header of an untranslated column, as written."""
        found = self.columns.get(base)
        return found[0][0] if found else None

    def value(self, row: _Row, base: str) -> str:
        header = self.header(base)
        return row.cells.get(header, "") if header else ""


def _load_sheets(data: bytes, problems: list[dict[str, Any]]) -> dict[str, _Sheet] | None:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        problems.append(
            problem(
                None,
                None,
                None,
                "Tệp không phải là bảng tính .xlsx (Excel 2007 trở lên); hãy lưu lại dưới dạng .xlsx.",
                "The file is not an .xlsx workbook (Excel 2007 or later); save it as .xlsx.",
            )
        )
        return None
    sheets: dict[str, _Sheet] = {}
    try:
        for worksheet in workbook.worksheets:
            name = worksheet.title.strip().lower()
            if name not in (SURVEY, CHOICES, SETTINGS, SCORING):
                continue  # other sheets (external_choices, entities, notes of the author) are not read
            sheet = _Sheet(title=worksheet.title, headers=[], rows=[])
            for number, values in enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1):
                texts = [cell_text(v) for v in values]
                if number == 1:
                    sheet.headers = texts
                    continue
                if number > MAX_ROWS + 1:
                    problems.append(
                        problem(
                            worksheet.title,
                            number,
                            None,
                            f"Trang tính có quá nhiều dòng (tối đa {MAX_ROWS}).",
                            f"The sheet has too many rows (at most {MAX_ROWS}).",
                        )
                    )
                    break
                cells = {
                    sheet.headers[i]: text
                    for i, text in enumerate(texts)
                    if text and i < len(sheet.headers) and sheet.headers[i]
                }
                if cells:
                    sheet.rows.append(_Row(number, cells))
            sheets[name] = sheet
    finally:
        workbook.close()
    return sheets


def _canonical(header: str, aliases: dict[str, str]) -> tuple[str, str | None]:
    """'label::English (en)' -> ('label', 'English (en)'); 'media::image' -> ('image', None)."""
    base, separator, rest = header.partition("::")
    base = base.strip().lower()
    if base == "media" and separator:
        kind, _, rest = rest.partition("::")
        return kind.strip().lower() or "media", None
    base = aliases.get(base, base)
    return base, (rest.strip() if separator else None)


def _index_columns(
    sheet: _Sheet, aliases: dict[str, str], default_language: str, problems: list[dict[str, Any]]
) -> None:
    for header in sheet.headers:
        if not header:
            continue
        base, spec = _canonical(header, aliases)
        code: str | None = default_language
        if spec is not None:
            code = language_code(spec)
            if code is None:
                problems.append(
                    problem(
                        sheet.title,
                        1,
                        header,
                        f"Không nhận ra ngôn ngữ «{spec}»; hãy ghi theo dạng «Tên (mã)», ví dụ label::Tiếng Việt (vi).",
                        f"Unknown language «{spec}»; write it as «Name (code)», e.g. label::English (en).",
                    )
                )
                continue
        sheet.columns.setdefault(base, []).append((header, code))


def _parse_bool(text: str) -> bool | None:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS or not word:
        return False
    return None


# ------------------------------------------------------------------------------------------ reader


@dataclass
class _Node:
    row: _Row
    type: str
    name: str
    children: list[_Node] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return self.type == "begin_group"


class _Reader:
    def __init__(self, survey_id: str | None) -> None:
        self.survey_id = survey_id
        self.problems: list[dict[str, Any]] = []
        self.languages: list[str] = ["vi"]
        self.default_language = "vi"
        self.lists: dict[str, list[dict[str, Any]]] = {}
        self.list_rows: dict[str, int] = {}
        self.ids: dict[str, int] = {}  # question and matrix-row ids -> survey row
        self.group_names: set[str] = set()
        self.expressions: list[tuple[_Row, str, str]] = []  # (row, header, expression) to check
        self.survey: _Sheet | None = None

    def add(self, sheet: _Sheet | str | None, row: int | None, column: str | None, vi: str, en: str) -> None:
        title = sheet.title if isinstance(sheet, _Sheet) else sheet
        self.problems.append(problem(title, row, column, vi, en))

    # ----------------------------------------------------------------------- whole file
    def read(self, data: bytes) -> dict[str, Any]:
        sheets = _load_sheets(data, self.problems)
        if sheets is None:
            return {}
        survey = sheets.get(SURVEY)
        if survey is None:
            self.add(
                None,
                None,
                None,
                "Tệp không có trang tính «survey».",
                "The workbook has no «survey» sheet.",
            )
            return {}
        self.survey = survey
        settings = sheets.get(SETTINGS)
        settings_row = self._settings_row(settings)
        if settings is not None and settings_row is not None:
            spec = settings_row.cells.get(settings.header("default_language") or "", "")
            if spec:
                code = language_code(spec)
                if code is None:
                    self.add(
                        settings,
                        settings_row.number,
                        "default_language",
                        f"Không nhận ra ngôn ngữ mặc định «{spec}»; ghi theo dạng «Tiếng Việt (vi)».",
                        f"Unknown default language «{spec}»; write it as «English (en)».",
                    )
                else:
                    self.default_language = code
        _index_columns(survey, _SURVEY_ALIASES, self.default_language, self.problems)
        choices = sheets.get(CHOICES)
        if choices is not None:
            _index_columns(choices, _CHOICES_ALIASES, self.default_language, self.problems)
        if settings is not None:
            _index_columns(settings, {}, self.default_language, self.problems)
        scoring_sheet = sheets.get(SCORING)
        if scoring_sheet is not None:
            _index_columns(scoring_sheet, {}, self.default_language, self.problems)
        self._collect_languages([survey, choices, settings, scoring_sheet])
        if "type" not in survey.columns or "name" not in survey.columns:
            self.add(
                survey,
                1,
                None,
                "Trang tính «survey» phải có cột «type» và cột «name».",
                "The «survey» sheet needs a «type» and a «name» column.",
            )
            return {}
        if not any(code == "vi" for header, code in survey.columns.get("label", [])):
            self.add(
                survey,
                1,
                "label",
                "Không có cột nội dung tiếng Việt: thêm cột «label::Tiếng Việt (vi)» (hoặc «label» khi tiếng Việt là ngôn ngữ mặc định).",
                "No Vietnamese label column: add «label::Tiếng Việt (vi)» (or «label» when Vietnamese is the default language).",
            )
        if choices is not None:
            self._read_choices(choices)

        definition: dict[str, Any] = self._read_settings(settings, settings_row)
        definition["status"] = "draft"
        definition["sections"] = self._read_survey(survey, definition["title"])
        if scoring_sheet is not None:
            scoring = self._read_scoring(scoring_sheet, settings, settings_row)
            if scoring:
                definition["scoring"] = scoring
        self._check_expressions()
        if not self.problems:
            self._check_definition(definition)
        return definition

    def _collect_languages(self, sheets: Iterable[_Sheet | None]) -> None:
        for sheet in sheets:
            if sheet is None:
                continue
            for base, columns in sheet.columns.items():
                if (
                    base not in TRANSLATABLE
                    and base not in ("survey_title", "description", "topic")
                    and not (base.endswith("_label"))
                ):
                    continue
                for _, code in columns:
                    if code and code not in self.languages:
                        self.languages.append(code)

    def text(self, sheet: _Sheet, row: _Row, base: str) -> dict[str, str]:
        """The translations of a translatable column in one row: {"vi": ..., "en": ...} (empty cells left out)."""
        found: dict[str, str] = {}
        for header, code in sheet.columns.get(base, []):
            value = row.cells.get(header, "")
            if value and code and code not in found:
                found[code] = value
        return {code: found[code] for code in self.languages if code in found}

    def required_text(self, sheet: _Sheet, row: _Row, base: str, what_vi: str, what_en: str) -> dict[str, str]:
        text = self.text(sheet, row, base)
        if "vi" not in text:
            header = next((h for h, code in sheet.columns.get(base, []) if code == "vi"), base)
            self.add(
                sheet,
                row.number,
                header,
                f"Thiếu {what_vi} bằng tiếng Việt.",
                f"The {what_en} has no Vietnamese text.",
            )
        return text

    # ----------------------------------------------------------------------- settings
    def _settings_row(self, settings: _Sheet | None) -> _Row | None:
        if settings is None or not settings.rows:
            return None
        if len(settings.rows) > 1:
            self.add(
                settings,
                settings.rows[1].number,
                None,
                "Trang tính «settings» chỉ có một dòng giá trị (dòng 2).",
                "The «settings» sheet has a single row of values (row 2).",
            )
        return settings.rows[0]

    def _read_settings(self, settings: _Sheet | None, row: _Row | None) -> dict[str, Any]:
        def value(column: str) -> str:
            if settings is None or row is None:
                return ""
            return settings.value(row, column)

        where = (settings, row.number if row else 2)

        def bad(column: str, vi: str, en: str) -> None:
            self.add(where[0] or SETTINGS, where[1], column, vi, en)

        definition: dict[str, Any] = {}
        survey_id = self.survey_id or value("form_id")
        if not survey_id:
            bad(
                "form_id",
                "Thiếu mã phiếu (form_id) trong trang tính «settings».",
                "No survey id: fill form_id in the «settings» sheet.",
            )
        elif not SURVEY_ID_RE.match(survey_id):
            bad(
                "form_id",
                f"Mã phiếu «{survey_id}» không hợp lệ: chỉ dùng chữ thường không dấu, chữ số và dấu gạch ngang (3–63 ký tự).",
                f"Survey id «{survey_id}» is not valid: use lowercase letters, digits and hyphens (3-63 characters).",
            )
        definition["id"] = survey_id
        version = value("version") or "1"
        if not version.isdigit() or int(version) < 1:
            bad(
                "version",
                f"Phiên bản «{version}» phải là số nguyên dương.",
                f"Version «{version}» must be a positive whole number.",
            )
            definition["version"] = 1
        else:
            definition["version"] = int(version)
        for key in ("kind", "owner_agency"):
            if value(key):
                definition[key] = value(key)
        if definition.get("kind", "regular") not in ("regular", "adhoc", "consultation"):
            bad(
                "kind",
                "Loại phiếu (kind) phải là regular, adhoc hoặc consultation.",
                "kind must be regular, adhoc or consultation.",
            )
        if settings is not None and row is not None:
            topic = self.text(settings, row, "topic")
            if topic:
                definition["topic"] = topic
        definition["languages"] = list(self.languages)
        methodology = {"id": value("methodology") or "custom", "version": value("methodology_version") or "1"}
        definition["methodology"] = methodology
        title: dict[str, str] = {}
        if value("form_title"):
            title[self.default_language] = value("form_title")
        if settings is not None and row is not None:
            for code, text in self.text(settings, row, "survey_title").items():
                title.setdefault(code, text)
        if "vi" not in title:
            if title or not survey_id:
                bad(
                    "form_title",
                    "Thiếu tên phiếu bằng tiếng Việt (form_title).",
                    "The survey has no Vietnamese title (form_title).",
                )
            title["vi"] = survey_id or "?"
        definition["title"] = {code: title[code] for code in self.languages if code in title}
        if settings is not None and row is not None:
            description = self.text(settings, row, "description")
            if description:
                if "vi" not in description:
                    bad(
                        "description",
                        "Thiếu phần giới thiệu bằng tiếng Việt.",
                        "The description has no Vietnamese text.",
                    )
                definition["description"] = description
        for key in ("opens_at", "closes_at"):
            if value(key):
                definition[key] = value(key)
                if "T" not in value(key):
                    bad(
                        key,
                        f"«{value(key)}» không phải thời điểm ISO 8601, ví dụ 2026-01-01T00:00:00Z.",
                        f"«{value(key)}» is not an ISO 8601 instant, e.g. 2026-01-01T00:00:00Z.",
                    )
        if value("geography"):
            definition["geography"] = value("geography")
        if value("retention_days"):
            days = value("retention_days")
            if days.isdigit() and 1 <= int(days) <= 3650:
                definition["retention_days"] = int(days)
            else:
                bad(
                    "retention_days",
                    "Số ngày lưu giữ (retention_days) phải là số nguyên từ 1 đến 3650.",
                    "retention_days must be a whole number from 1 to 3650.",
                )
        screening: dict[str, Any] = {}
        for column, (key, kind) in SCREENING_COLUMNS.items():
            if value(column):
                try:
                    screening[key] = kind(value(column))
                except ValueError:
                    bad(column, f"«{value(column)}» không phải là số.", f"«{value(column)}» is not a number.")
        if screening:
            definition["screening"] = screening
        return definition

    # ----------------------------------------------------------------------- choices
    def _read_choices(self, choices: _Sheet) -> None:
        reserved = {"list_name", "name", "label", "not_applicable", "other_text", *MEDIA}
        filter_columns = [
            header for base, columns in choices.columns.items() if base not in reserved for header, _ in columns
        ]
        for base in MEDIA:
            for header, _ in choices.columns.get(base, []):
                if any(header in row.cells for row in choices.rows):
                    self.add(
                        choices,
                        1,
                        header,
                        "Hình ảnh, âm thanh, video trong phương án chưa được hỗ trợ.",
                        "Images, audio and video in choices are not supported.",
                    )
        if "list_name" not in choices.columns or "name" not in choices.columns:
            self.add(
                choices,
                1,
                None,
                "Trang tính «choices» phải có cột «list_name» và «name».",
                "The «choices» sheet needs «list_name» and «name» columns.",
            )
            return
        names: dict[str, set[str]] = {}
        for row in choices.rows:
            list_name = choices.value(row, "list_name")
            name = choices.value(row, "name")
            if not list_name:
                self.add(
                    choices,
                    row.number,
                    choices.header("list_name"),
                    "Thiếu tên danh sách (list_name).",
                    "The list name is empty.",
                )
                continue
            self.list_rows.setdefault(list_name, row.number)
            if list_name in (PROVINCE_LIST, COMMUNE_LIST):
                self.lists.setdefault(list_name, [])
                continue  # generated from the geography; see PROVINCE_LIST
            options = self.lists.setdefault(list_name, [])
            if not name:
                self.add(choices, row.number, choices.header("name"), "Thiếu giá trị (name).", "The name is empty.")
                continue
            if not VALUE_RE.match(name):
                self.add(
                    choices,
                    row.number,
                    choices.header("name"),
                    f"Giá trị «{name}» không hợp lệ: chỉ dùng chữ không dấu, chữ số, «_», «.», «-» (tối đa 64 ký tự).",
                    f"Name «{name}» is not valid: use letters, digits, '_', '.', '-' (at most 64).",
                )
                continue
            if name in names.setdefault(list_name, set()):
                self.add(
                    choices,
                    row.number,
                    choices.header("name"),
                    f"Giá trị «{name}» bị trùng trong danh sách «{list_name}».",
                    f"Name «{name}» appears twice in list «{list_name}».",
                )
                continue
            names[list_name].add(name)
            option: dict[str, Any] = {
                "value": name,
                "label": self.required_text(choices, row, "label", "nhãn phương án", "choice label"),
            }
            for flag in ("other_text", "not_applicable"):
                raw = choices.value(row, flag)
                parsed = _parse_bool(raw)
                if parsed is None:
                    self.add(
                        choices,
                        row.number,
                        choices.header(flag),
                        f"«{raw}» phải là yes hoặc no.",
                        f"«{raw}» must be yes or no.",
                    )
                elif parsed:
                    option[flag] = True
            attributes = {header: row.cells[header] for header in filter_columns if header in row.cells}
            for header, text in attributes.items():
                if len(text) > 200:
                    self.add(
                        choices,
                        row.number,
                        header,
                        "Giá trị thuộc tính lọc dài quá 200 ký tự.",
                        "A filter attribute is longer than 200 characters.",
                    )
            if len(attributes) > 20:
                self.add(
                    choices,
                    row.number,
                    None,
                    "Một phương án có nhiều nhất 20 thuộc tính lọc.",
                    "A choice has at most 20 filter attributes.",
                )
            if attributes:
                option["filter"] = attributes
            options.append(option)

    # ----------------------------------------------------------------------- survey
    def _tree(self, survey: _Sheet) -> list[_Node]:
        root: list[_Node] = []
        stack: list[_Node] = []
        skipping = 0  # depth inside an unsupported repeat
        for row in survey.rows:
            raw_type = survey.value(row, "type")
            kind = " ".join(raw_type.lower().split()).replace("begin group", "begin_group")
            kind = kind.replace("end group", "end_group").replace("begin repeat", "begin_repeat")
            kind = kind.replace("end repeat", "end_repeat")
            name = survey.value(row, "name")
            if not kind:
                self.add(
                    survey,
                    row.number,
                    survey.header("type"),
                    "Dòng có nội dung nhưng thiếu loại câu hỏi (type).",
                    "The row has content but no type.",
                )
                continue
            if kind in ("begin_repeat", "begin_loop", "begin loop"):
                if not skipping:
                    self.add(
                        survey,
                        row.number,
                        survey.header("type"),
                        "Nhóm lặp (repeat) chưa được hỗ trợ.",
                        "Repeats are not supported.",
                    )
                skipping += 1
                continue
            if kind in ("end_repeat", "end_loop", "end loop"):
                if skipping:
                    skipping -= 1
                else:
                    self.add(
                        survey,
                        row.number,
                        survey.header("type"),
                        "end_repeat không có begin_repeat tương ứng.",
                        "end_repeat without a matching begin_repeat.",
                    )
                continue
            if skipping:
                if kind == "begin_group":
                    skipping += 1
                elif kind == "end_group":
                    skipping -= 1
                continue
            if kind == "end_group":
                if not stack:
                    self.add(
                        survey,
                        row.number,
                        survey.header("type"),
                        "end_group không có begin_group tương ứng.",
                        "end_group without a matching begin_group.",
                    )
                else:
                    stack.pop()
                continue
            node = _Node(row=row, type=kind, name=name)
            (stack[-1].children if stack else root).append(node)
            if kind == "begin_group":
                stack.append(node)
        for node in stack:
            self.add(
                survey,
                node.row.number,
                survey.header("type"),
                f"Nhóm «{node.name}» không có end_group.",
                f"Group «{node.name}» has no end_group.",
            )
        return root

    def _read_survey(self, survey: _Sheet, title: dict[str, str]) -> list[dict[str, Any]]:
        tree = self._tree(survey)
        self._collect_ids(survey, tree)
        sections: list[dict[str, Any]] = []
        loose: list[_Node] = []

        def flush() -> None:
            if loose:
                section_id = f"section_{len(sections) + 1}"
                questions = self._questions(survey, loose, None)
                if questions:
                    sections.append({"id": section_id, "title": dict(title), "questions": questions})
                loose.clear()

        for node in tree:
            if not node.is_group:
                loose.append(node)
                continue
            flush()
            section = self._section(survey, node)
            if section is not None:
                sections.append(section)
        flush()
        if not sections:
            self.add(survey, None, None, "Phiếu chưa có câu hỏi nào.", "The form has no questions.")
        return sections

    def _collect_ids(self, survey: _Sheet, nodes: list[_Node]) -> None:
        for node in nodes:
            if node.is_group:
                self.group_names.add(node.name)
                self._collect_ids(survey, node.children)
                continue
            if not node.name or node.type in _METADATA_TYPES:
                continue
            if node.name in self.ids:
                self.add(
                    survey,
                    node.row.number,
                    survey.header("name"),
                    f"Mã câu hỏi «{node.name}» bị trùng (dòng {self.ids[node.name]}).",
                    f"Question name «{node.name}» is used twice (row {self.ids[node.name]}).",
                )
            else:
                self.ids[node.name] = node.row.number

    def _check_name(self, survey: _Sheet, node: _Node, what_vi: str, what_en: str) -> bool:
        if not node.name:
            self.add(
                survey,
                node.row.number,
                survey.header("name"),
                f"Thiếu mã {what_vi} (name).",
                f"The {what_en} has no name.",
            )
            return False
        if not ID_RE.match(node.name):
            self.add(
                survey,
                node.row.number,
                survey.header("name"),
                f"Mã «{node.name}» không hợp lệ: bắt đầu bằng chữ thường, chỉ gồm chữ thường không dấu, chữ số và «_» (tối đa 63 ký tự).",
                f"Name «{node.name}» is not valid: a lowercase letter, then lowercase letters, digits or '_' (at most 63).",
            )
            return False
        return True

    def _section(self, survey: _Sheet, group: _Node) -> dict[str, Any] | None:
        self._check_name(survey, group, "phần", "group")
        label = self.text(survey, group.row, "label")
        if label and "vi" not in label:
            self.required_text(survey, group.row, "label", "tiêu đề phần", "group label")
        section: dict[str, Any] = {"id": group.name, "title": label or {"vi": group.name or "?"}}
        intro = self.text(survey, group.row, "hint")
        if intro:
            section["intro"] = intro
        relevant = self._expression(survey, group.row, "relevant")
        if relevant:
            section["relevant"] = relevant
        self._refuse_group_columns(survey, group.row, ("required", "constraint", "choice_filter"))
        section["questions"] = self._questions(survey, group.children, None)
        if not section["questions"]:
            self.add(
                survey,
                group.row.number,
                survey.header("type"),
                f"Nhóm «{group.name}» không có câu hỏi nào.",
                f"Group «{group.name}» has no questions.",
            )
            return None
        return section

    def _refuse_group_columns(self, survey: _Sheet, row: _Row, columns: Iterable[str]) -> None:
        for column in columns:
            if survey.value(row, column):
                self.add(
                    survey,
                    row.number,
                    survey.header(column),
                    f"Cột «{column}» không dùng được cho nhóm này.",
                    f"The «{column}» column cannot be used on this group.",
                )

    def _questions(self, survey: _Sheet, nodes: list[_Node], inherited: str | None) -> list[dict[str, Any]]:
        """The questions of a section; a nested group is a matrix, or else flattened into the section."""
        questions: list[dict[str, Any]] = []
        for node in nodes:
            if not node.is_group:
                question = self._question(survey, node)
                if question is not None:
                    if inherited:
                        own = question.get("relevant")
                        question["relevant"] = f"({inherited}) and ({own})" if own else inherited
                    questions.append(question)
                continue
            matrix_list = self._matrix_list(survey, node)
            if matrix_list is not None:
                matrix = self._matrix(survey, node, matrix_list)
                if matrix is not None:
                    if inherited:
                        own = matrix.get("relevant")
                        matrix["relevant"] = f"({inherited}) and ({own})" if own else inherited
                    questions.append(matrix)
                continue
            # A nested group that is no matrix: its questions join the section, its relevant with them, and
            # its label (if any) becomes a note so the respondent still reads it.
            relevant = self._expression(survey, node.row, "relevant")
            self._refuse_group_columns(survey, node.row, ("required", "constraint", "choice_filter"))
            combined = relevant
            if inherited and relevant:
                combined = f"({inherited}) and ({relevant})"
            elif inherited:
                combined = inherited
            label = self.text(survey, node.row, "label")
            if label and node.name and node.name not in self.ids and ID_RE.match(node.name):
                note: dict[str, Any] = {"id": node.name, "type": "note", "text": label}
                if combined:
                    note["relevant"] = combined
                questions.append(note)
            questions.extend(self._questions(survey, node.children, combined))
        return questions

    def _select(self, survey: _Sheet, node: _Node) -> tuple[str, str, bool] | None:
        """('select_one'|'select_multiple', list name, or_other) of a select type, else None."""
        found = _SELECT_RE.match(node.type)
        if not found:
            return None
        verb = "select_one" if found.group(1) in ("select_one", "select one", "select1") else "select_multiple"
        return verb, survey.value(node.row, "type").split()[-2 if found.group(3) else -1], bool(found.group(3))

    def _matrix_list(self, survey: _Sheet, group: _Node) -> str | None:
        appearance = survey.value(group.row, "appearance").split()
        if not ({"table-list", "field-list"} & set(appearance)) or not group.children:
            return None
        lists = set()
        for child in group.children:
            select = None if child.is_group else self._select(survey, child)
            if select is None or select[0] != "select_one" or select[1] in (PROVINCE_LIST, COMMUNE_LIST):
                return None
            lists.add(select[1])
        return lists.pop() if len(lists) == 1 else None

    def _matrix(self, survey: _Sheet, group: _Node, list_name: str) -> dict[str, Any] | None:
        ok = self._check_name(survey, group, "ma trận", "matrix")
        if group.name in self.ids:
            self.add(
                survey,
                group.row.number,
                survey.header("name"),
                f"Mã «{group.name}» đã được dùng cho một câu hỏi khác.",
                f"Name «{group.name}» is already used by a question.",
            )
        question: dict[str, Any] = {
            "id": group.name,
            "type": "matrix",
            "text": self.required_text(survey, group.row, "label", "nội dung câu hỏi ma trận", "matrix label"),
        }
        help_text = self.text(survey, group.row, "hint")
        if help_text:
            question["help"] = help_text
        required, required_if = self._required(survey, group.row)
        if required:
            question["required"] = True
        if required_if:
            question["required_if"] = required_if
        relevant = self._expression(survey, group.row, "relevant")
        if relevant:
            question["relevant"] = relevant
        self._refuse_group_columns(survey, group.row, ("constraint", "choice_filter"))
        appearance = [a for a in survey.value(group.row, "appearance").split() if a not in ("table-list", "field-list")]
        if appearance:
            question["appearance"] = " ".join(appearance)
        scale = self._options(survey, group.children[0], list_name)
        if scale is not None:
            question["scale"] = scale
            if len(scale) < 2:
                self._too_few(survey, group.row, list_name)
        rows: list[dict[str, Any]] = []
        for child in group.children:
            if not self._check_name(survey, child, "hàng", "row"):
                ok = False
                continue
            if self._select(survey, child) == ("select_one", list_name, True):
                self.add(
                    survey,
                    child.row.number,
                    survey.header("type"),
                    "Hàng của ma trận không dùng được or_other.",
                    "A matrix row cannot use or_other.",
                )
            row: dict[str, Any] = {
                "id": child.name,
                "text": self.required_text(survey, child.row, "label", "nội dung hàng", "row label"),
            }
            row_required, row_required_if = self._required(survey, child.row)
            if row_required_if:
                self.add(
                    survey,
                    child.row.number,
                    survey.header("required"),
                    "Hàng của ma trận chỉ nhận required là yes hoặc no.",
                    "A matrix row's required is yes or no, not an expression.",
                )
            if row_required != bool(question.get("required")):
                row["required"] = row_required
            row_relevant = self._expression(survey, child.row, "relevant")
            if row_relevant:
                row["relevant"] = row_relevant
            for column in ("hint", "constraint", "choice_filter", *PAR_QUESTION_COLUMNS):
                if (column == "hint" and self.text(survey, child.row, "hint")) or survey.value(child.row, column):
                    self.add(
                        survey,
                        child.row.number,
                        survey.header(column) or column,
                        f"Hàng của ma trận không dùng được cột «{column}».",
                        f"A matrix row cannot use the «{column}» column.",
                    )
            self._refuse_unsupported_columns(survey, child.row)
            rows.append(row)
        question["rows"] = rows
        return question if ok else None

    def _too_few(self, survey: _Sheet, row: _Row, list_name: str) -> None:
        self.add(
            survey,
            row.number,
            survey.header("type"),
            f"Thang đo «{list_name}» cần ít nhất hai mức.",
            f"Scale «{list_name}» needs at least two points.",
        )

    def _options(self, survey: _Sheet, node: _Node, list_name: str) -> list[dict[str, Any]] | None:
        if list_name not in self.lists:
            self.add(
                survey,
                node.row.number,
                survey.header("type"),
                f"Không có danh sách «{list_name}» trong trang tính «choices».",
                f"List «{list_name}» is not in the «choices» sheet.",
            )
            return None
        options = self.lists[list_name]
        if not options:
            self.add(
                survey,
                node.row.number,
                survey.header("type"),
                f"Danh sách «{list_name}» không có phương án nào.",
                f"List «{list_name}» has no choices.",
            )
            return None
        return [
            {**o, "label": dict(o["label"]), **({"filter": dict(o["filter"])} if "filter" in o else {})}
            for o in options
        ]

    def _required(self, survey: _Sheet, row: _Row) -> tuple[bool, str | None]:
        raw = survey.value(row, "required")
        parsed = _parse_bool(raw)
        if parsed is not None:
            return parsed, None
        self.expressions.append((row, survey.header("required") or "required", raw))
        return False, raw

    def _expression(self, survey: _Sheet, row: _Row, column: str) -> str | None:
        raw = survey.value(row, column)
        if not raw:
            return None
        self.expressions.append((row, survey.header(column) or column, raw))
        return raw

    def _refuse_unsupported_columns(self, survey: _Sheet, row: _Row) -> None:
        for column, (vi, en) in _UNSUPPORTED_COLUMNS.items():
            if survey.value(row, column):
                self.add(
                    survey,
                    row.number,
                    survey.header(column),
                    f"Chưa hỗ trợ {vi}.",
                    f"{en.capitalize()} are not supported.",
                )
        for base in (*MEDIA, "guidance_hint"):
            for header, _ in survey.columns.get(base, []):
                if header in row.cells:
                    self.add(
                        survey,
                        row.number,
                        header,
                        "Chưa hỗ trợ cột này (hình ảnh, âm thanh, video, guidance_hint).",
                        "This column is not supported (media, guidance_hint).",
                    )

    def _question(self, survey: _Sheet, node: _Node) -> dict[str, Any] | None:
        row = node.row
        type_header = survey.header("type")
        if node.type in _METADATA_TYPES:
            return None
        select = self._select(survey, node)
        base_type = _SIMPLE_TYPES.get(node.type)
        if select is None and not base_type:
            self.add(
                survey,
                row.number,
                type_header,
                f"Loại câu hỏi «{survey.value(row, 'type')}» chưa được hỗ trợ.",
                f"Question type «{survey.value(row, 'type')}» is not supported.",
            )
            return None
        if not self._check_name(survey, node, "câu hỏi", "question"):
            return None
        self._refuse_unsupported_columns(survey, row)
        appearance = survey.value(row, "appearance").split()
        question: dict[str, Any] = {"id": node.name, "type": base_type or "single_choice"}
        question["text"] = self.required_text(survey, row, "label", "nội dung câu hỏi", "question label")
        help_text = self.text(survey, row, "hint")
        if help_text:
            question["help"] = help_text
        required, required_if = self._required(survey, row)
        if required:
            question["required"] = True
        if required_if:
            question["required_if"] = required_if
        relevant = self._expression(survey, row, "relevant")
        if relevant:
            question["relevant"] = relevant
        constraint = self._expression(survey, row, "constraint")
        if constraint:
            question["constraint"] = constraint
        message = self.text(survey, row, "constraint_message")
        if message:
            question["constraint_message"] = message
        choice_filter = survey.value(row, "choice_filter")

        if select is not None:
            verb, list_name, or_other = select
            if verb == "select_one" and list_name in (PROVINCE_LIST, COMMUNE_LIST):
                question["type"] = "place"
                question["level"] = "province" if list_name == PROVINCE_LIST else "commune"
                if or_other:
                    self.add(
                        survey,
                        row.number,
                        type_header,
                        "Ô chọn địa bàn không dùng được or_other.",
                        "A place picker cannot use or_other.",
                    )
                if list_name == COMMUNE_LIST and choice_filter:
                    parent = COMMUNE_FILTER_RE.match(choice_filter)
                    if parent is None:
                        self.add(
                            survey,
                            row.number,
                            survey.header("choice_filter"),
                            "Ô chọn xã/phường chỉ nhận choice_filter dạng province=${câu_hỏi_tỉnh}.",
                            "A commune picker's choice_filter is province=${province_question}.",
                        )
                    else:
                        question["parent"] = parent.group(1)
                elif choice_filter:
                    self.add(
                        survey,
                        row.number,
                        survey.header("choice_filter"),
                        "Ô chọn tỉnh/thành phố không dùng choice_filter.",
                        "A province picker takes no choice_filter.",
                    )
            else:
                options = self._options(survey, node, list_name)
                values = [o["value"] for o in options or []]
                if or_other:
                    if "other" in values:
                        self.add(
                            survey,
                            row.number,
                            type_header,
                            f"Danh sách «{list_name}» đã có giá trị «other»; bỏ or_other hoặc đổi giá trị đó.",
                            f"List «{list_name}» already has «other»; drop or_other or rename that choice.",
                        )
                    elif options is not None:
                        label = {code: OTHER_LABEL[code] for code in self.languages if code in OTHER_LABEL}
                        options.append({"value": "other", "label": label, "other_text": True})
                if verb == "select_multiple":
                    question["type"] = "multi_choice"
                elif sorted(values) == ["no", "yes"] and not or_other:
                    question["type"] = "yes_no"
                elif "likert" in appearance:
                    question["type"] = "rating"
                    appearance = [a for a in appearance if a != "likert"]
                if question["type"] == "rating":
                    if options is not None:
                        question["scale"] = options
                        if len(options) < 2:
                            self._too_few(survey, row, list_name)
                elif question["type"] != "yes_no" and options is not None:
                    question["options"] = options
                if choice_filter:
                    question["choice_filter"] = choice_filter
                    self.expressions.append((row, survey.header("choice_filter") or "choice_filter", choice_filter))
        elif choice_filter:
            self.add(
                survey,
                row.number,
                survey.header("choice_filter"),
                "choice_filter chỉ dùng cho câu hỏi lựa chọn.",
                "choice_filter applies to select questions only.",
            )
        if question["type"] == "text" and "multiline" in appearance:
            question["type"] = "long_text"
            appearance = [a for a in appearance if a != "multiline"]
        if appearance:
            question["appearance"] = " ".join(appearance)
        self._par_columns(survey, row, question)
        return question

    def _par_columns(self, survey: _Sheet, row: _Row, question: dict[str, Any]) -> None:
        allowed = {
            "min": ("integer", "decimal", "date"),
            "max": ("integer", "decimal", "date"),
            "max_length": ("text", "long_text"),
            "max_choices": ("multi_choice",),
            "personal_data": ("text",),
        }
        qtype = question["type"]
        for column, types in allowed.items():
            raw = survey.value(row, column)
            if not raw:
                continue
            header = survey.header(column)
            if qtype not in types:
                self.add(
                    survey,
                    row.number,
                    header,
                    f"Cột «{column}» không dùng cho loại câu hỏi này.",
                    f"The «{column}» column does not apply to this question type.",
                )
                continue
            if column == "personal_data":
                flag = _parse_bool(raw)
                if flag is None:
                    self.add(survey, row.number, header, f"«{raw}» phải là yes hoặc no.", f"«{raw}» must be yes or no.")
                elif flag:
                    question["personal_data"] = True
            elif column in ("max_length", "max_choices"):
                limit = 5000 if column == "max_length" else 10_000
                if raw.isdigit() and 1 <= int(raw) <= limit:
                    question[column] = int(raw)
                else:
                    self.add(
                        survey,
                        row.number,
                        header,
                        f"«{raw}» phải là số nguyên từ 1 đến {limit}.",
                        f"«{raw}» must be a whole number from 1 to {limit}.",
                    )
            elif qtype == "date":
                if DATE_RE.match(raw):
                    question[column] = raw
                else:
                    self.add(
                        survey,
                        row.number,
                        header,
                        f"«{raw}» không phải ngày YYYY-MM-DD.",
                        f"«{raw}» is not a YYYY-MM-DD date.",
                    )
            else:
                number = _number(raw, integer=qtype == "integer")
                if number is None:
                    self.add(survey, row.number, header, f"«{raw}» không phải là số.", f"«{raw}» is not a number.")
                else:
                    question[column] = number

    # ----------------------------------------------------------------------- scoring
    def _read_scoring(self, sheet: _Sheet, settings: _Sheet | None, settings_row: _Row | None) -> dict[str, Any] | None:
        if not sheet.rows:
            return None
        for column in ("part", "element", "item"):
            if column not in sheet.columns:
                self.add(
                    sheet,
                    1,
                    None,
                    "Trang tính «scoring» cần các cột part, element, item.",
                    "The «scoring» sheet needs part, element and item columns.",
                )
                return None
        positive = settings.value(settings_row, "scoring_positive_values") if settings and settings_row else ""
        if not positive:
            self.add(
                settings.title if settings else SETTINGS,
                settings_row.number if settings_row else 2,
                "scoring_positive_values",
                "Có trang tính «scoring» nhưng thiếu scoring_positive_values (các giá trị tính là hài lòng, ví dụ «4 5»).",
                "A «scoring» sheet needs scoring_positive_values in settings (the satisfied answers, e.g. «4 5»).",
            )
        scoring: dict[str, Any] = {"positive_values": positive.replace(",", " ").split()}
        rule = settings.value(settings_row, "scoring_overall_rule") if settings and settings_row else ""
        if rule:
            if rule not in ("mean_of_parts", "mean_of_elements", "mean_of_items"):
                self.add(
                    settings.title if settings else SETTINGS,
                    settings_row.number if settings_row else 2,
                    "scoring_overall_rule",
                    "scoring_overall_rule là mean_of_parts, mean_of_elements hoặc mean_of_items.",
                    "scoring_overall_rule is mean_of_parts, mean_of_elements or mean_of_items.",
                )
            scoring["overall_rule"] = rule
        parts: dict[str, dict[str, Any]] = {}
        elements: dict[tuple[str, str], dict[str, Any]] = {}
        for row in sheet.rows:
            part_id, element_id, item = (sheet.value(row, c) for c in ("part", "element", "item"))
            if not (part_id and element_id and item):
                self.add(
                    sheet,
                    row.number,
                    None,
                    "Mỗi dòng cần đủ part, element và item.",
                    "Every row needs a part, an element and an item.",
                )
                continue
            if item not in self.ids:
                self.add(
                    sheet,
                    row.number,
                    sheet.header("item"),
                    f"Không có câu hỏi hay hàng ma trận «{item}» trong trang tính survey.",
                    f"No question or matrix row «{item}» in the survey sheet.",
                )
            part = parts.get(part_id)
            if part is None:
                label = self.required_text(sheet, row, "part_label", "tên phần chỉ số", "part label")
                part = parts[part_id] = {"id": part_id, "label": label, "elements": []}
            element = elements.get((part_id, element_id))
            if element is None:
                label = self.required_text(sheet, row, "element_label", "tên lĩnh vực", "element label")
                element = elements[(part_id, element_id)] = {"id": element_id, "label": label, "items": []}
                part["elements"].append(element)
            element["items"].append(item)
        scoring["parts"] = list(parts.values())
        return scoring

    # ----------------------------------------------------------------------- checks
    def _check_expressions(self) -> None:
        assert self.survey is not None
        for row, header, expression in self.expressions:
            for name in _REFERENCE_RE.findall(expression):
                if name in self.ids:
                    continue
                why_vi, why_en = "không có câu hỏi này", "no such question"
                if name in self.group_names:
                    why_vi, why_en = "đó là một nhóm, không phải câu hỏi", "that is a group, not a question"
                self.add(
                    self.survey,
                    row.number,
                    header,
                    f"Biểu thức nhắc tới ${{{name}}}: {why_vi}.",
                    f"The expression refers to ${{{name}}}: {why_en}.",
                )

    def _check_definition(self, definition: dict[str, Any]) -> None:
        """The schema and the domain's own checks, as a last guard: what the reader let through still must hold."""
        from chalicelib.contracts import validator
        from chalicelib.domain.errors import InvalidDefinition
        from chalicelib.domain.survey import Survey

        try:
            validator("survey")(copy.deepcopy(definition))  # fastjsonschema fills in defaults in place
        except Exception as error:  # fastjsonschema.JsonSchemaException: one message for the first fault
            self.add(
                None,
                None,
                None,
                f"Định nghĩa phiếu không hợp lệ: {getattr(error, 'message', error)}",
                f"The survey definition is not valid: {getattr(error, 'message', error)}",
            )
            return
        try:
            Survey.from_definition(definition)
        except InvalidDefinition as error:
            row = self.ids.get(str(error.field or "").rsplit("/", 1)[-1])
            self.add(SURVEY if row else None, row, None, error.message_vi, error.message_en)


def _number(raw: str, *, integer: bool) -> int | float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    if value.is_integer() and re.fullmatch(r"-?\d+(\.0*)?", raw.strip()):
        return int(value)
    return None if integer else value
