"""Sampling for household surveys: sizes, systematic PPS with certainty units, the multi-stage draw, the frame, the export."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter

import pytest

from chalicelib.domain.sampling import (
    Design,
    InvalidSamplingDesign,
    allocate,
    design_size,
    draw_sample,
    legacy_size,
    systematic_pps,
)
from chalicelib.domain.sampling_export import HEADERS, sample_csv, sample_xlsx
from chalicelib.domain.sampling_frame import FrameError, read_frame
from chalicelib.reference.geography import load_geography
from tests.shared.sampling_frames import HEADER, frame_csv, frame_of, frame_rows, frame_xlsx

GEO = load_geography("vn-2025")
HANOI, HUE = "01", "46"


@pytest.fixture(scope="module")
def frame():  # type: ignore[no-untyped-def]
    return frame_of(GEO, seed=3, provinces=[HANOI, HUE])


# ------------------------------------------------------------------------------------------ sizes


def test_legacy_size_is_n_over_one_plus_n_e_squared_rounded_up() -> None:
    assert legacy_size(10_000) == 385  # 10000 / 26 = 384.6
    assert legacy_size(1_000) == 286  # 1000 / 3.5 = 285.7
    assert legacy_size(400, e=0.1) == 80  # 400 / 5 exactly: no rounding up past a whole number


def test_design_size_inflates_for_design_effect_and_non_response() -> None:
    assert design_size(1.0, response_rate=1.0) == 385  # 1.96² × 0.25 / 0.0025 = 384.16
    assert design_size(1.5, response_rate=0.8) == 721  # 1.5 × 384.16 / 0.8 = 720.3
    assert design_size(1.5, p=0.84, e=0.037, response_rate=1.0) == 566  # METHODOLOGY §3: ~580 gives ±3.7


def test_design_size_applies_the_finite_population_correction() -> None:
    # n0 = 384.16 / (1 + 383.16 / 1000) = 277.75; × 1.5 / 0.8 = 520.8
    assert design_size(1.5, response_rate=0.8, N=1000) == 521
    assert design_size(1.0, response_rate=1.0, N=10**9) == 385


def test_sizes_refuse_impossible_parameters() -> None:
    with pytest.raises(InvalidSamplingDesign):
        legacy_size(0)
    with pytest.raises(InvalidSamplingDesign):
        design_size(1.5, response_rate=0)


def test_allocation_sums_to_the_total_with_minimums() -> None:
    sizes = {"01": 3_000_000, "46": 400_000, "12": 150_000}
    proportional = allocate(10_000, sizes)
    assert sum(proportional.values()) == 10_000 and proportional["01"] > proportional["46"] > proportional["12"]
    assert allocate(900, sizes, power=0) == {"01": 300, "46": 300, "12": 300}
    floor = allocate(3_000, sizes, minimum=600)
    assert sum(floor.values()) == 3_000 and min(floor.values()) >= 600


# ------------------------------------------------------------------------------------------ systematic PPS

UNITS = [(f"U{i:02d}", s) for i, s in enumerate([120, 30, 45, 80, 10, 25, 60, 15, 35, 50, 20, 5])]  # total 495


def test_systematic_pps_inclusion_probabilities_are_n_times_size_over_total() -> None:
    draws = systematic_pps(UNITS, 4, random.Random(1))
    # interval 495/4 = 123.75: nothing is a certainty unit
    assert len(draws) == 4 and len({d.key for d in draws}) == 4
    for d in draws:
        assert not d.certainty
        assert d.probability == pytest.approx(4 * d.size / 495)


def test_units_at_least_the_interval_are_certain_and_the_interval_is_recomputed() -> None:
    units = [("A", 50), ("B", 30), ("C", 10), ("D", 5), ("E", 5)]
    # interval 100/3: A certain; then 2 left over 50, interval 25: B certain; then 1 left over 20
    draws = {d.key: d for d in systematic_pps(units, 3, random.Random(5))}
    assert draws["A"].probability == draws["B"].probability == 1.0 and draws["A"].certainty and draws["B"].certainty
    (third,) = [d for k, d in draws.items() if k not in ("A", "B")]
    assert third.probability == pytest.approx(third.size / 20)


def test_named_certainty_units_are_taken_with_probability_one() -> None:
    draws = systematic_pps(UNITS, 3, random.Random(2), certain=["U04"])
    named = [d for d in draws if d.key == "U04"]
    assert named and named[0].probability == 1.0
    others = [d for d in draws if d.key != "U04"]
    assert len(others) == 2
    for d in others:
        assert d.probability == pytest.approx(2 * d.size / (495 - 10))
    with pytest.raises(InvalidSamplingDesign):
        systematic_pps(UNITS, 1, random.Random(2), certain=["U01", "U02"])
    with pytest.raises(InvalidSamplingDesign):
        systematic_pps(UNITS, 3, random.Random(2), certain=["nowhere"])


def test_monte_carlo_selection_frequencies_match_the_inclusion_probabilities() -> None:
    units = [*UNITS, ("BIG", 400)]  # total 895, n 5: BIG ≥ 179 is certain, then 4 over 495
    runs = 4000
    counts: Counter[str] = Counter()
    for seed in range(runs):
        counts.update(d.key for d in systematic_pps(units, 5, random.Random(seed)))
    assert counts["BIG"] == runs
    for key, size in UNITS:
        expected = 4 * size / 495
        # binomial standard error ≤ 0.008 at 4,000 runs: 0.03 is more than 3.5 of them
        assert counts[key] / runs == pytest.approx(expected, abs=0.03), key


def test_n_covering_every_unit_takes_all_and_empty_units_never() -> None:
    draws = systematic_pps([("A", 5), ("B", 0), ("C", 7)], 5, random.Random(1))
    assert sorted(d.key for d in draws) == ["A", "C"] and all(d.probability == 1.0 for d in draws)


# ------------------------------------------------------------------------------------------ the multi-stage draw


def test_same_seed_same_sample_and_another_seed_another(frame) -> None:  # type: ignore[no-untyped-def]
    design = Design(communes=6, villages_per_commune=2, households_per_village=8, replacements=3)
    first, again, other = (draw_sample(frame, design, seed) for seed in (11, 11, 12))
    assert first.households == again.households
    assert [c.commune_code for c in first.communes] != [c.commune_code for c in other.communes]


def test_every_stage_records_its_probability_and_weight_is_one_over_pi(frame) -> None:  # type: ignore[no-untyped-def]
    design = Design(communes=6, villages_per_commune=2, households_per_village=8, replacements=3)
    sample = draw_sample(frame, design, seed=4)
    assert len(sample.communes) == 12 and len(sample.villages) == 24
    for province in (HANOI, HUE):
        communes = [c for c in sample.communes if c.province_code == province]
        certain = [c for c in communes if c.certainty]
        assert all(c.probability == 1.0 for c in certain)
        # the rest share n minus the certainty units over the households outside them (exact formula)
        rest = sum(v.size for v in frame.villages if v.province_code == province) - sum(c.size for c in certain)
        for commune in communes:
            if not commune.certainty:
                assert commune.probability == pytest.approx((6 - len(certain)) * commune.size / rest)
    for slot in sample.households:
        village = slot.village
        assert slot.probability == pytest.approx(8 / village.size)
        assert slot.inclusion_probability == pytest.approx(
            village.commune.probability * village.probability * 8 / village.size
        )
        assert slot.weight == pytest.approx(1 / slot.inclusion_probability)


def test_pps_then_pps_then_fixed_take_is_self_weighting_without_certainty_units(frame) -> None:  # type: ignore[no-untyped-def]
    design = Design(communes=4, villages_per_commune=2, households_per_village=10, replacements=0)
    sample = draw_sample(frame, design, seed=9, provinces=[HUE])
    total = sum(v.size for v in frame.villages if v.province_code == HUE)
    uneven = {v.commune.commune_code for v in sample.villages if v.commune.certainty or v.probability == 1.0}
    plain = [h for h in sample.households if h.village.commune.commune_code not in uneven]
    assert plain
    for slot in plain:
        # π = (n M_c / M) × (v M_v / M_c) × (m / M_v) = n v m / M: the same for every household
        assert slot.inclusion_probability == pytest.approx(4 * 2 * 10 / total)


def test_households_have_main_slots_then_replacements_in_order(frame) -> None:  # type: ignore[no-untyped-def]
    design = Design(communes=3, villages_per_commune=2, households_per_village=8, replacements=4)
    sample = draw_sample(frame, design, seed=21, provinces=[HANOI])
    by_village: dict[int, list] = {}  # type: ignore[type-arg]
    for slot in sample.households:
        by_village.setdefault(id(slot.village), []).append(slot)
    for slots in by_village.values():
        assert [s.replacement for s in slots] == [0] * 8 + [1, 2, 3, 4]
        positions = [s.position for s in slots]
        assert len(set(positions)) == 12 and all(1 <= p <= slots[0].village.size for p in positions)


def test_the_provincial_seat_commune_is_always_taken(frame) -> None:  # type: ignore[no-untyped-def]
    seat = GEO.communes_of(HUE)[-1].code
    design = Design(communes=3, certainty_communes=frozenset({seat}))
    for seed in range(5):
        communes = {c.commune_code: c for c in draw_sample(frame, design, seed, provinces=[HUE]).communes}
        assert communes[seat].probability == 1.0 and communes[seat].certainty and len(communes) == 3


def test_household_positions_are_equally_likely() -> None:
    rows = [[HUE, GEO.communes_of(HUE)[0].code, "001", "Thôn 1", "20"]]
    small = read_frame(frame_csv(rows), "f.csv", GEO)
    counts: Counter[int] = Counter()
    for seed in range(2000):
        sample = draw_sample(small, Design(communes=1, villages_per_commune=1, households_per_village=5), seed)
        counts.update(s.position for s in sample.main_households)
    for position in range(1, 21):
        assert counts[position] / 2000 == pytest.approx(5 / 20, abs=0.05)


# ------------------------------------------------------------------------------------------ the frame file


def test_a_realistic_csv_frame_reads_and_an_xlsx_with_lost_leading_zeros_too() -> None:
    rows = frame_rows(GEO, seed=2, provinces=[HUE])
    frame = read_frame(frame_csv(rows), "khung-mau.csv", GEO)
    assert len(frame.villages) == len(rows) and frame.measure == "households"
    numeric = [[int(p), int(c), v, n, int(h)] for p, c, v, n, h in rows[:50]]  # as Excel stores typed codes
    xlsx = read_frame(frame_xlsx(numeric), "khung-mau.xlsx", GEO)  # type: ignore[arg-type]
    assert [v.commune_code for v in xlsx.villages] == [r[1] for r in rows[:50]]


def test_a_population_column_serves_when_households_are_not_given() -> None:
    hue = GEO.communes_of(HUE)[0].code
    data = frame_xlsx(
        [[HUE, hue, "001", "Thôn 1", 812]],
        ["province_code", "commune_code", "village_code", "village_name", "population"],
    )
    assert read_frame(data, "f.xlsx", GEO).measure == "population"


def test_every_problem_is_reported_at_once_with_row_column_and_both_languages() -> None:
    hue, hanoi = GEO.communes_of(HUE)[0].code, GEO.communes_of(HANOI)[0].code
    rows = [
        [HUE, hue, "001", "Thôn 1", "120"],
        ["99", hue, "002", "Thôn 2", "80"],  # no such province
        [HUE, hanoi, "003", "Thôn 3", "80"],  # commune of another province
        [HUE, "99999", "004", "Thôn 4", "80"],  # no such commune
        [HUE, hue, "005", "Thôn 5", "nhiều"],  # not a number
        [HUE, hue, "001", "Thôn 1 bis", "60"],  # duplicate village
        [HUE, hue, "", "Thôn 7", "0"],  # empty code and a zero size
    ]
    with pytest.raises(FrameError) as raised:
        read_frame(frame_csv(rows), "f.csv", GEO)
    error = raised.value
    assert error.status == 422 and error.code == "invalid_sampling_frame"
    found = {(d["row"], d["column"]) for d in error.details}
    assert found == {
        (3, "province_code"),
        (4, "commune_code"),
        (5, "commune_code"),
        (6, "households"),
        (7, "village_code"),
        (8, "village_code"),
        (8, "households"),
    }
    for detail in error.details:
        assert detail["message"] and detail["message_en"] and detail["message"] != detail["message_en"]
    assert "7 lỗi" in error.message_vi


def test_missing_columns_and_unreadable_files_are_refused() -> None:
    with pytest.raises(FrameError) as raised:
        read_frame(b"province_code,commune_code\n01,00004\n", "f.csv", GEO)
    assert {d["column"] for d in raised.value.details} == {"village_code", "village_name", "households"}
    for data, name in ((b"x", "f.pdf"), (b"\xff\xfe\x00bad", "f.csv"), (b"not a zip", "f.xlsx"), (b"", "f.csv")):
        with pytest.raises(FrameError):
            read_frame(data, name, GEO)


# ------------------------------------------------------------------------------------------ export


def test_csv_and_xlsx_list_every_slot_with_probabilities_and_weights(frame) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    sample = draw_sample(
        frame, Design(communes=2, villages_per_commune=2, households_per_village=5, replacements=2), seed=1
    )
    text = sample_csv(sample)
    assert text.startswith(b"\xef\xbb\xbf")  # Excel shows the diacritics
    lines = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert lines[0] == list(HEADERS) and len(lines) == 1 + len(sample.households) == 1 + 4 * 2 * 7
    first = dict(zip(HEADERS, lines[1], strict=True))
    assert first["Tỉnh/thành phố (province)"] == "Thành phố Hà Nội"
    assert float(first["Trọng số thiết kế (design weight)"]) == pytest.approx(
        1 / float(first["Xác suất chọn π (inclusion probability)"]), rel=1e-6
    )
    kinds = Counter(line[7] for line in lines[1:])
    assert kinds == {"Chính (main)": 40, "Dự phòng (replacement)": 16}

    workbook = load_workbook(io.BytesIO(sample_xlsx(sample)), read_only=True)
    assert workbook.sheetnames == ["Mẫu (sample)", "Thiết kế (design)"]
    rows = list(workbook["Mẫu (sample)"].iter_rows(values_only=True))
    assert list(rows[0]) == list(HEADERS) and len(rows) == len(lines)
    design = {r[0]: r[1] for r in workbook["Thiết kế (design)"].iter_rows(values_only=True)}
    assert design["Hạt giống ngẫu nhiên (seed)"] == 1


def test_header_of_the_generator_matches_the_reader() -> None:
    assert HEADER[:4] == ["province_code", "commune_code", "village_code", "village_name"]
