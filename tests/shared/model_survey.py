"""A small survey that uses every question type and every kind of rule of docs/SURVEY_MODEL.md."""

from __future__ import annotations

from typing import Any


def t(vi: str, en: str = "") -> dict[str, str]:
    return {"vi": vi, "en": en or vi}


def opts(*values: str, **flags: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"value": v, "label": t(f"Phương án {v}", f"Option {v}"), **flags.get(f"o{v}", {})} for v in values]


def model_definition() -> dict[str, Any]:
    return {
        "id": "model-2026",
        "version": 1,
        "kind": "adhoc",
        "languages": ["vi", "en"],
        "methodology": {"id": "sipas", "version": "test"},
        "title": t("Phiếu mẫu", "Model survey"),
        "status": "published",
        "geography": "vn-2025",
        "sections": [
            {
                "id": "a",
                "title": t("Phần A", "Part A"),
                "questions": [
                    {"id": "consent", "type": "consent", "text": t("Đồng ý", "Consent"), "required": True},
                    {"id": "used", "type": "yes_no", "text": t("Đã dùng dịch vụ?", "Used?"), "required": True},
                    {
                        "id": "via",
                        "type": "single_choice",
                        "text": t("Kênh", "Channel"),
                        "options": opts("1", "2", "3", o3={"other_text": True}),
                        "relevant": "${used} = 'yes'",
                        "required": True,
                    },
                    {
                        "id": "why",
                        "type": "multi_choice",
                        "text": t("Lý do", "Why"),
                        "options": opts("1", "2", "3", "4", o4={"other_text": True}),
                        "max_choices": 2,
                        "required_if": "${used} = 'no'",
                    },
                    {"id": "age", "type": "integer", "text": t("Tuổi", "Age"), "min": 15, "max": 120},
                    {
                        "id": "spent",
                        "type": "decimal",
                        "text": t("Chi phí", "Cost"),
                        "constraint": ". >= 0 and . < 1000",
                        "constraint_message": t("Từ 0 đến dưới 1000.", "0 to below 1000."),
                        "relevant": "${age} >= 18",
                    },
                ],
            },
            {
                "id": "b",
                "title": t("Phần B", "Part B"),
                "relevant": "${used} = 'yes' and not(selected(${why}, '1'))",
                "questions": [
                    {
                        "id": "stars",
                        "type": "rating",
                        "text": t("Chấm điểm", "Rate"),
                        "scale": opts("1", "2", "3", "4", "5", "9", o9={"not_applicable": True}),
                    },
                    {
                        "id": "grid",
                        "type": "matrix",
                        "text": t("Lưới", "Grid"),
                        "required": True,
                        "scale": opts("1", "2", "3", "9", o9={"not_applicable": True}),
                        "rows": [
                            {"id": "g1", "text": t("Dòng 1", "Row 1")},
                            {"id": "g2", "text": t("Dòng 2", "Row 2"), "relevant": "${stars} > 3"},
                        ],
                    },
                    {"id": "when", "type": "date", "text": t("Ngày", "Date")},
                    {"id": "note1", "type": "note", "text": t("Cảm ơn", "Thanks")},
                ],
            },
            {
                "id": "c",
                "title": t("Phần C", "Part C"),
                "questions": [
                    {"id": "region", "type": "single_choice", "text": t("Vùng", "Region"), "options": opts("n", "s")},
                    {
                        "id": "city",
                        "type": "single_choice",
                        "text": t("Thành phố", "City"),
                        "choice_filter": "region = ${region}",
                        "options": [
                            {"value": "hn", "label": t("Hà Nội"), "filter": {"region": "n"}},
                            {"value": "hp", "label": t("Hải Phòng"), "filter": {"region": "n"}},
                            {"value": "hcm", "label": t("TP. Hồ Chí Minh"), "filter": {"region": "s"}},
                        ],
                    },
                    {"id": "prov", "type": "place", "level": "province", "text": t("Tỉnh", "Province")},
                    {"id": "comm", "type": "place", "level": "commune", "parent": "prov", "text": t("Xã", "Commune")},
                    {
                        "id": "name",
                        "type": "text",
                        "text": t("Mã hồ sơ", "File code"),
                        "constraint": "regex(., '^[A-Z]{2}[0-9]{3}$') and string-length(.) <= 5",
                    },
                    {"id": "say", "type": "long_text", "text": t("Ý kiến", "Comments"), "max_length": 50},
                ],
            },
        ],
    }
