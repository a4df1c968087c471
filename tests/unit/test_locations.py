"""An agency's locations (service counters, offices, web pages): checked, kept with the settings, audited,
and read back by code through the AgencyDirectory (what QR codes, posters and attribution rely on)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib.api.bodies import InvalidRequest, json_body
from chalicelib.domain.agencies import (
    MAX_LOCATIONS,
    AgencyDirectory,
    AgencyNotFound,
    AgencyService,
    InvalidAgencyLocation,
    Location,
    location_lines,
    normalize_locations,
    parse_location_lines,
)
from chalicelib.domain.audit import Actor, AuditLog
from chalicelib.domain.errors import EditConflict
from chalicelib.reference.agencies import agency_registry
from tests.shared.fakes import FakeAgencySettingsStore, FakeAuditStore

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
AT = "2026-03-01T02:00:00.000Z"
HANOI_ADMIN = Actor(sub="u-042", name="Trần Văn Đức", role="agency_admin", agency="P01")
COUNTER = {"code": "Q01", "name": "Quầy số 1 — Bộ phận Một cửa", "kind": "counter", "service": "Cấp giấy phép xây dựng"}
PAGE = {"code": "cong-dvc", "name": "Cổng dịch vụ công Hà Nội", "kind": "page"}


class NoSurveys:
    def list_current(self) -> list[Any]:
        return []


class Harness:
    def __init__(self) -> None:
        self.audit_store = FakeAuditStore()
        self.store = FakeAgencySettingsStore()
        log = AuditLog(self.audit_store, clock=lambda: T0, sleep=lambda _s: None)
        self.service = AgencyService(agency_registry().get, self.store, log)
        self.directory = AgencyDirectory(agency_registry(), self.store, NoSurveys())


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_locations_saved_are_read_back_by_code(h: Harness):
    h.service.set_locations(HANOI_ADMIN, "P01", [COUNTER, PAGE], 0, AT)
    assert h.directory.locations("P01") == [
        {"code": "Q01", "name": "Quầy số 1 — Bộ phận Một cửa", "kind": "counter", "service": "Cấp giấy phép xây dựng"},
        {"code": "cong-dvc", "name": "Cổng dịch vụ công Hà Nội", "kind": "page", "service": None},
    ]
    assert h.directory.location("P01", "Q01")["service"] == "Cấp giấy phép xây dựng"
    assert h.directory.location("P01", "q01") is None  # codes are exact in a link
    assert h.directory.location("P46", "Q01") is None  # another agency's counter
    assert h.directory.location("P99", "Q01") is None  # no such agency


def test_locations_of_an_unknown_agency_is_not_found(h: Harness):
    with pytest.raises(AgencyNotFound):
        h.directory.locations("P99")


def test_saving_locations_is_audited_and_keeps_the_origins(h: Harness):
    h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://dichvucong.hanoi.gov.vn"], 0, AT)
    saved = h.service.set_locations(HANOI_ADMIN, "P01", [COUNTER], 1, AT)
    assert saved.embed_origins == ("https://dichvucong.hanoi.gov.vn",) and saved.version == 2
    entry = h.audit_store.chain()[-1]
    assert entry.action == "agency.locations" and entry.target_id == "P01"
    assert entry.before == {"locations": [], "version": 1}
    assert entry.after["locations"][0]["code"] == "Q01" and entry.after["version"] == 2
    # the origins' own edit keeps its action and leaves the locations alone
    again = h.service.set_embed_origins(HANOI_ADMIN, "P01", [], 2, AT)
    assert again.locations == saved.locations
    assert h.audit_store.chain()[-1].action == "agency.embed_origins"


def test_saving_both_at_once_is_one_entry(h: Harness):
    h.service.save(HANOI_ADMIN, "P01", 0, AT, origins=["https://a.hanoi.gov.vn"], locations=[PAGE])
    entries = h.audit_store.chain()
    assert [e.action for e in entries] == ["agency.settings"]
    assert set(entries[0].after) == {"embed_origins", "locations", "version"}


def test_the_same_locations_again_write_nothing(h: Harness):
    first = h.service.set_locations(HANOI_ADMIN, "P01", [COUNTER], 0, AT)
    assert h.service.set_locations(HANOI_ADMIN, "P01", [dict(COUNTER)], 1, AT) == first
    assert len(h.audit_store.chain()) == 1


def test_a_stale_version_is_a_conflict(h: Harness):
    h.service.set_locations(HANOI_ADMIN, "P01", [COUNTER], 0, AT)
    with pytest.raises(EditConflict):
        h.service.set_locations(HANOI_ADMIN, "P01", [PAGE], 0, AT)


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([{**COUNTER, "code": "Q 01"}], "locations[0].code"),
        ([{**COUNTER, "code": "Q" * 33}], "locations[0].code"),
        ([{**COUNTER, "code": "quầy1"}], "locations[0].code"),
        ([PAGE, {**COUNTER, "name": "  "}], "locations[1].name"),
        ([{**COUNTER, "kind": "kiosk"}], "locations[0].kind"),
        ([COUNTER, {**PAGE, "code": "q01"}], "locations[1].code"),  # the same code in another case
        ([{**COUNTER, "service": "x" * 201}], "locations[0].service"),
        (["Q01"], "locations[0]"),
    ],
)
def test_invalid_locations_name_the_field(rows: list[Any], field: str):
    with pytest.raises(InvalidAgencyLocation) as caught:
        normalize_locations(rows)
    assert caught.value.field == field and caught.value.status == 400


def test_too_many_locations():
    with pytest.raises(InvalidAgencyLocation) as caught:
        normalize_locations({"code": f"Q{i}", "name": "Quầy", "kind": "counter"} for i in range(MAX_LOCATIONS + 1))
    assert caught.value.field == "locations"


def test_names_are_nfc_and_trimmed():
    decomposed = "Quầy số 1".replace("ầ", "a\u0302\u0300")
    (found,) = normalize_locations([{"code": "Q1", "name": f"  {decomposed} ", "kind": "counter", "service": ""}])
    assert found == Location("Q1", "Quầy số 1", "counter", None)


def test_console_lines_round_trip():
    text = "Q01 | Quầy số 1 — Bộ phận Một cửa | counter | Cấp giấy phép xây dựng\n\ncong-dvc | Cổng DVC | PAGE\n"
    rows = parse_location_lines(text)
    assert rows[1] == {"code": "cong-dvc", "name": "Cổng DVC", "kind": "page", "service": None}
    locations = normalize_locations(rows)
    assert parse_location_lines(location_lines(locations)) == [loc.to_dict() for loc in locations]


def test_settings_body_takes_locations_or_leaves_them_out():
    with_them = {"embed_origins": [], "locations": [COUNTER], "version": 1}
    assert json_body(_raw(with_them), "application/json", "agency-settings") == with_them
    without = {"embed_origins": [], "version": 1}
    assert json_body(_raw(without), "application/json", "agency-settings") == without
    for bad in ({**COUNTER, "kind": "kiosk"}, {**COUNTER, "extra": 1}, {"code": "Q1", "kind": "counter"}):
        with pytest.raises(InvalidRequest):
            json_body(
                _raw({"embed_origins": [], "locations": [bad], "version": 1}), "application/json", "agency-settings"
            )


def _raw(body: dict[str, Any]) -> bytes:
    import json

    return json.dumps(body, ensure_ascii=False).encode()


def test_the_embed_code_offers_the_prompt_at_a_registered_location() -> None:
    from chalicelib.domain.survey import Survey
    from tests.shared.fakes import sipas_definition

    class OneSurvey:
        def list_current(self) -> list[Any]:
            return [Survey.from_definition({**sipas_definition(), "opens_at": None, "closes_at": None})]

    store = FakeAgencySettingsStore()
    log = AuditLog(FakeAuditStore(), clock=lambda: T0, sleep=lambda _s: None)
    AgencyService(agency_registry().get, store, log).set_locations(HANOI_ADMIN, "P01", [COUNTER], 0, AT)
    directory = AgencyDirectory(agency_registry(), store, OneSurvey())
    (snippet,) = directory.embed_snippets("P01", "https://par.moha.gov.vn")
    assert 'data-par-mode="prompt" data-par-location="Q01"' in snippet["prompt"]
    assert snippet["prompt"].endswith('<script src="https://par.moha.gov.vn/static/embed.js" async></script>')
    (unplaced,) = AgencyDirectory(agency_registry(), FakeAgencySettingsStore(), OneSurvey()).embed_snippets(
        "P46", "https://par.moha.gov.vn"
    )
    assert '<div data-par-survey="sipas-2026" data-par-agency="P46" data-par-mode="prompt"></div>' in unplaced["prompt"]
