"""Unit tests of the vn-2025 geography, the SIPAS 2026 seed definition and the submission generator."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ulid import ULID

from chalicelib.reference.geography import Geography, UnknownGeography, load_geography
from infra.local.seed.responses import HONEYPOT_VALUE, OTHER_TEXT_SUFFIX, generate_submissions, load_sipas_definition

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
Q9_ROWS = [f"q9_{i:02d}" for i in range(1, 34)]
Q9_POLICY_ROWS = Q9_ROWS[:14]  # Part I, asked of everyone; Part II only when q8_04 = '1' (an administrative procedure)


def _validator(name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((ROOT / "schemas" / name).read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _questions(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for section in definition["sections"] for q in section["questions"]]


@pytest.fixture(scope="module")
def geography() -> Geography:
    return load_geography("vn-2025")


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return load_sipas_definition()


@pytest.fixture(scope="module")
def submissions(definition: dict[str, Any], geography: Geography) -> list[dict[str, Any]]:
    return generate_submissions(definition, geography, 1000, seed=7, now=NOW)


# -- geography ------------------------------------------------------------------------------------


def test_geography_has_the_34_provinces_and_their_communes(geography: Geography) -> None:
    # GIVEN the post-reform geography WHEN loaded THEN it has 34 provinces and the ~3,321 communes
    assert geography.name == "vn-2025"
    assert len(geography.provinces) == 34
    assert sum(len(p.communes) for p in geography.provinces) > 3000
    assert geography.commune_count == sum(len(p.communes) for p in geography.provinces)


def test_geography_includes_ha_noi_and_hue(geography: Geography) -> None:
    # GIVEN two provinces unchanged by the 2025 reform WHEN looked up THEN both are there
    ha_noi = geography.province("01")
    assert ha_noi is not None
    assert ha_noi.name == "Thành phố Hà Nội"
    assert ha_noi.short_name == "Hà Nội"
    hue = [p for p in geography.provinces if p.short_name == "Huế"]
    assert len(hue) == 1
    assert hue[0].code == "46"
    ba_dinh = geography.commune("00004")
    assert ba_dinh is not None
    assert ba_dinh.name == "Phường Ba Đình"
    assert ba_dinh.province_code == "01"


def test_every_commune_belongs_to_its_province_with_well_formed_codes(geography: Geography) -> None:
    # GIVEN every province WHEN its communes are listed THEN each points back to it, codes are padded
    assert [p.code for p in geography.provinces] == sorted(p.code for p in geography.provinces)
    for province in geography.provinces:
        assert len(province.code) == 2
        assert province.code.isdigit()
        assert geography.communes_of(province.code) == list(province.communes)
        for commune in province.communes:
            assert commune.province_code == province.code
            assert len(commune.code) == 5
            assert commune.code.isdigit()
            assert geography.contains(province.code, commune.code)
            assert geography.commune(commune.code) == commune


def test_names_are_nfc_and_trimmed(geography: Geography) -> None:
    # GIVEN all names WHEN normalised THEN none changes (NFC, no doubled spaces)
    names = [p.name for p in geography.provinces] + [c.name for p in geography.provinces for c in p.communes]
    assert all(unicodedata.normalize("NFC", n) == n and " ".join(n.split()) == n for n in names)


def test_lookups_of_unknown_codes_and_names(geography: Geography) -> None:
    # GIVEN codes and names that do not exist WHEN looked up THEN None/False/UnknownGeography
    assert geography.province("99") is None
    assert geography.commune("99999") is None
    assert geography.communes_of("99") == []
    assert not geography.contains("79", "00004")
    with pytest.raises(UnknownGeography):
        load_geography("vn-1999")
    with pytest.raises(KeyError):
        load_geography("../schemas/survey.schema")
    assert load_geography("vn-2025") is geography


def test_committed_geography_file_matches_the_package() -> None:
    # GIVEN the installed vietnam-provinces WHEN the file is rebuilt THEN it equals the committed one
    pytest.importorskip("vietnam_provinces")
    from chalicelib.reference.build_geography import DATA_DIR, build

    committed = json.loads((DATA_DIR / "vn-2025.json").read_text(encoding="utf-8"))
    assert build() == committed


# -- survey definition ----------------------------------------------------------------------------


def test_sipas_definition_validates_against_the_survey_schema(definition: dict[str, Any]) -> None:
    # GIVEN the seed definition WHEN validated THEN the survey schema accepts it
    errors = [e.message for e in _validator("survey.schema.json").iter_errors(definition)]
    assert errors == []
    assert definition["id"] == "sipas-2026"
    assert definition["geography"] == "vn-2025"


def test_sipas_ids_are_unique_and_texts_bilingual_nfc(definition: dict[str, Any]) -> None:
    # GIVEN questions and rows WHEN their ids are pooled THEN none repeats; every text is vi+en in NFC
    questions = _questions(definition)
    ids = [q["id"] for q in questions] + [r["id"] for q in questions for r in q.get("rows", ())]
    assert len(ids) == len(set(ids))
    assert all(unicodedata.normalize("NFC", s) == s for s in _strings(definition))
    texts = [definition["title"]] + [q["text"] for q in questions]
    texts += [o["label"] for q in questions for o in q.get("options", []) + q.get("scale", [])]
    texts += [r["text"] for q in questions for r in q.get("rows", ())]
    assert all(t["vi"] and t.get("en") for t in texts)


def test_scoring_covers_every_q9_row_exactly_once(definition: dict[str, Any]) -> None:
    # GIVEN the scoring parts WHEN items are listed THEN they are the 33 Q9 matrix rows, each once
    matrix_rows = {r["id"] for q in _questions(definition) if q["type"] == "matrix" for r in q["rows"]}
    parts = definition["scoring"]["parts"]
    items = [i for part in parts for element in part["elements"] for i in element["items"]]
    assert set(items) <= matrix_rows
    assert sorted(items) == Q9_ROWS
    assert len(items) == len(set(items))
    sizes = [len(e["items"]) for part in parts for e in part["elements"]]
    assert sizes == [2, 2, 8, 2, 4, 4, 5, 3, 3]


# -- generated submissions ------------------------------------------------------------------------


def test_submissions_validate_against_the_submission_schema(submissions: list[dict[str, Any]]) -> None:
    # GIVEN 1000 generated submissions WHEN validated THEN every one is accepted
    validator = _validator("submission.schema.json")
    for submission in submissions:
        assert list(validator.iter_errors(submission)) == [], submission["id"]


def test_generation_is_deterministic_for_a_seed(definition: dict[str, Any], geography: Geography) -> None:
    # GIVEN the same seed and clock WHEN generated twice THEN identical; another seed differs
    first = generate_submissions(definition, geography, 50, seed=3, now=NOW)
    assert first == generate_submissions(definition, geography, 50, seed=3, now=NOW)
    assert first != generate_submissions(definition, geography, 50, seed=4, now=NOW)


def test_answers_use_only_ids_and_values_of_the_definition(
    definition: dict[str, Any], submissions: list[dict[str, Any]]
) -> None:
    # GIVEN the definition's questions WHEN each answer key is resolved THEN key and value exist there
    allowed: dict[str, tuple[str, dict[str, Any]]] = {}
    for q in _questions(definition):
        if q["type"] == "matrix":
            allowed.update({r["id"]: ("row", q) for r in q["rows"]})
        else:
            allowed[q["id"]] = (q["type"], q)
    for submission in submissions:
        answers = submission["answers"]
        for key, value in answers.items():
            if key.endswith(OTHER_TEXT_SUFFIX):
                question = allowed[key.removesuffix(OTHER_TEXT_SUFFIX)][1]
                other_values = {o["value"] for o in question["options"] if o.get("other_text")}
                assert other_values & set(answers[question["id"]])
                assert isinstance(value, str)
                continue
            kind, question = allowed[key]
            if kind == "row":
                assert value in {o["value"] for o in question["scale"]}
            elif kind == "single_choice":
                assert value in {o["value"] for o in question["options"]}
            elif kind == "multi_choice":
                assert value
                assert set(value) <= {o["value"] for o in question["options"]}
                assert len(value) == len(set(value))
            else:
                assert isinstance(value, str)
                assert len(value) <= question.get("max_length", 5000)
        assert set(Q9_POLICY_ROWS) <= answers.keys()
        assert (set(Q9_ROWS) <= answers.keys()) == (answers.get("q8_04") == "1")


def test_ids_are_unique_ulids_stamped_at_submission(submissions: list[dict[str, Any]]) -> None:
    # GIVEN the submissions WHEN ids are parsed THEN unique ULIDs in time order carrying submitted_at
    ids = [s["id"] for s in submissions]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    for submission in submissions:
        submitted = datetime.fromisoformat(submission["paradata"]["submitted_at"])
        assert submission["paradata"]["submitted_at"].endswith("Z")
        assert ULID.from_str(submission["id"]).datetime == submitted
        assert NOW - timedelta(days=15) < submitted <= NOW


def test_communes_belong_to_provinces_with_a_skew(geography: Geography, submissions: list[dict[str, Any]]) -> None:
    # GIVEN the submissions WHEN placed on the map THEN each commune is in its province, a few lead
    assert all(geography.contains(s["province"], s["commune"]) for s in submissions)
    counts = Counter(s["province"] for s in submissions).most_common()
    assert counts[0][1] > 3 * len(submissions) / 34


def test_satisfaction_is_realistic_and_bad_responses_exist(submissions: list[dict[str, Any]]) -> None:
    # GIVEN the submissions WHEN Q9 and paradata are summarised THEN ~84% positive, some bad ones to find
    values = [s["answers"].get(row) for s in submissions for row in Q9_ROWS]
    rated = [v for v in values if v not in (None, "9")]  # asked and not "Không áp dụng"
    assert 0.78 <= sum(v in ("4", "5") for v in rated) / len(rated) <= 0.90
    assert 0.01 <= values.count("9") / (len(rated) + values.count("9")) <= 0.08
    durations = [
        (
            datetime.fromisoformat(s["paradata"]["submitted_at"]) - datetime.fromisoformat(s["paradata"]["started_at"])
        ).total_seconds()
        for s in submissions
    ]
    straight = sum(len({s["answers"][row] for row in Q9_ROWS if row in s["answers"]}) == 1 for s in submissions)
    speeders = sum(20 <= d <= 60 for d in durations)
    honeypot = sum(s.get("website") == HONEYPOT_VALUE for s in submissions)
    assert 10 <= straight <= 60
    assert 10 <= speeders <= 60
    assert 2 <= honeypot <= 25
    normal = sorted(d for d in durations if d > 60)
    assert 360 <= normal[len(normal) // 2] <= 1200
