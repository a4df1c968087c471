"""A small paper survey as printed (questions c1..c5, options keyed by their codes, 9 = không áp dụng)."""

from __future__ import annotations

import csv
import io
from typing import Any


def _t(vi: str, en: str) -> dict[str, str]:
    return {"vi": vi, "en": en}


def paper_definition(survey_id: str = "giay-2026", status: str = "published") -> dict[str, Any]:
    scale = [{"value": str(v), "label": _t(f"Mức {v}", f"Level {v}")} for v in range(1, 6)]
    scale.append({"value": "9", "label": _t("Không áp dụng", "Not applicable"), "not_applicable": True})
    return {
        "id": survey_id,
        "version": 1,
        "kind": "regular",
        "languages": ["vi", "en"],
        "methodology": {"id": "sipas", "version": "test"},
        "title": _t("Phiếu giấy thử", "Test paper form"),
        "status": status,
        "geography": "vn-2025",
        "sections": [
            {
                "id": "a",
                "title": _t("Phần A", "Part A"),
                "questions": [
                    {
                        "id": "c1",
                        "type": "single_choice",
                        "text": _t("Hài lòng", "Satisfied"),
                        "options": scale,
                        "required": True,
                    },
                    {"id": "c2", "type": "integer", "text": _t("Tuổi", "Age"), "min": 18, "max": 99, "required": True},
                    {"id": "c3", "type": "yes_no", "text": _t("Có nộp phí?", "Paid a fee?")},
                    {
                        "id": "c4",
                        "type": "integer",
                        "text": _t("Số tiền (nghìn đồng)", "Amount (thousand dong)"),
                        "relevant": "${c3} = 'yes'",
                        "min": 0,
                        "max": 100000,
                        "required": True,
                    },
                    {"id": "c5", "type": "text", "text": _t("Góp ý", "Comments")},
                ],
            }
        ],
    }


def good_answers(n: int) -> dict[str, str]:
    """Answers of form n as a clerk keys them (text), valid for paper_definition."""
    answers = {"c1": str(1 + n % 5), "c2": str(20 + n % 60), "c3": "yes" if n % 2 else "no"}
    if n % 2:
        answers["c4"] = str(10 * n)
    return answers


def forms_csv(
    rows: list[dict[str, str]], columns: tuple[str, ...] = ("form_number", "c1", "c2", "c3", "c4", "c5")
) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
