"""The drawn sample as field sheets: one row per household slot (main, then replacements in order), CSV or XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

from chalicelib.domain.sampling import HouseholdSlot, Sample
from chalicelib.reference.geography import load_geography

HEADERS = (
    "Mã tỉnh (province code)",
    "Tỉnh/thành phố (province)",
    "Mã xã (commune code)",
    "Xã/phường (commune)",
    "Mã thôn (village code)",
    "Thôn/tổ dân phố (village)",
    "Hộ số trong danh sách (household position in listing)",
    "Loại (kind)",
    "Thứ tự dự phòng (replacement order)",
    "Xã chọn chắc chắn (certainty commune)",
    "Xác suất chọn xã (commune probability)",
    "Xác suất chọn thôn (village probability)",
    "Xác suất chọn hộ (household probability)",
    "Xác suất chọn π (inclusion probability)",
    "Trọng số thiết kế (design weight)",
)


def _rows(sample: Sample) -> list[list[Any]]:
    geography = load_geography(sample.geography)
    return [_row(slot, geography) for slot in sample.households]


def _row(slot: HouseholdSlot, geography: Any) -> list[Any]:
    village = slot.village
    commune = village.commune
    province = geography.province(commune.province_code)
    unit = geography.commune(commune.commune_code)
    return [
        commune.province_code,
        province.name if province else "",
        commune.commune_code,
        unit.name if unit else "",
        village.village_code,
        village.village_name,
        slot.position,
        "Chính (main)" if slot.replacement == 0 else "Dự phòng (replacement)",
        slot.replacement or "",
        "Có (yes)" if commune.certainty else "Không (no)",
        round(commune.probability, 10),
        round(village.probability, 10),
        round(slot.probability, 10),
        round(slot.inclusion_probability, 12),
        round(slot.weight, 4),
    ]


def _design_lines(sample: Sample) -> list[list[Any]]:
    design = sample.design
    communes = design.communes if isinstance(design.communes, int) else dict(design.communes)
    return [
        ["Hạt giống ngẫu nhiên (seed)", sample.seed],
        ["Địa giới (geography)", sample.geography],
        ["Số xã mỗi tỉnh (communes per province)", str(communes)],
        ["Số thôn mỗi xã (villages per commune)", design.villages_per_commune],
        ["Số hộ mỗi thôn (households per village)", design.households_per_village],
        ["Số hộ dự phòng mỗi thôn (replacements per village)", design.replacements],
        ["Xã chọn chắc chắn (certainty communes)", ", ".join(sorted(design.certainty_communes))],
        ["Chỉ tiêu mỗi thôn (quotas per village)", ", ".join(f"{k}: {v}" for k, v in design.quotas.items())],
        ["Số xã (communes drawn)", len(sample.communes)],
        ["Số thôn (villages drawn)", len(sample.villages)],
        ["Số hộ chính (main households)", len(sample.main_households)],
    ]


def sample_csv(sample: Sample) -> bytes:
    """UTF-8 with a BOM (Excel then shows the diacritics), one header line, one line per household slot."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(_rows(sample))
    return out.getvalue().encode("utf-8-sig")


def sample_xlsx(sample: Sample) -> bytes:
    """A workbook: the sheet 'Mẫu (sample)' as in the CSV and 'Thiết kế (design)' with the seed and sizes."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Mẫu (sample)")
    sheet.freeze_panes = "A2"
    sheet.append(list(HEADERS))
    for row in _rows(sample):
        sheet.append(row)
    design = workbook.create_sheet("Thiết kế (design)")
    for line in _design_lines(sample):
        design.append(line)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
