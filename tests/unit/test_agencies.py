"""Agencies: the reference list (ministries across the 2025 reorganisation, provinces from the geography),
the web origins allowed to embed an agency's widgets, and their audited, versioned changes."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from chalicelib.api.bodies import InvalidRequest, json_body
from chalicelib.domain.agencies import (
    MAX_ORIGINS,
    AgencyNotFound,
    AgencyService,
    AgencySettings,
    InvalidOrigin,
    frame_ancestors,
    normalize_origin,
    normalize_origins,
)
from chalicelib.domain.audit import Actor, AuditLog, verify_chain
from chalicelib.domain.errors import EditConflict
from chalicelib.reference.agencies import CODE, Agency, AgencyRegistry, agency_registry
from chalicelib.reference.geography import load_geography
from tests.shared.fakes import FakeAgencySettingsStore, FakeAuditStore

ROOT = Path(__file__).resolve().parents[2]
MINISTRIES_JSON = ROOT / "chalicelib" / "reference" / "data" / "ministries.json"
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
AT = "2026-03-01T02:00:00.000Z"
HANOI_ADMIN = Actor(sub="u-042", name="Trần Văn Đức", role="agency_admin", agency="P01")
MINISTRY_ADMIN = Actor(sub="u-001", name="Nguyễn Thị Hạnh", role="system_admin", agency=None)

# Nghị quyết 176/2025/QH15: the Government from 01/03/2025.
MINISTRIES_2025 = {
    "M-BQP",
    "M-BCA",
    "M-BNG",
    "M-BNV",
    "M-BTP",
    "M-BTC",
    "M-BCT",
    "M-BNNMT",
    "M-BXD",
    "M-BKHCN",
    "M-BVHTTDL",
    "M-BGDDT",
    "M-BYT",
    "M-BDTTG",
}
MINISTRY_LEVEL_2025 = {"M-NHNN", "M-TTCP", "M-VPCP"}
# The 15th National Assembly term until 28/02/2025.
MINISTRIES_2021 = (MINISTRIES_2025 - {"M-BNNMT", "M-BDTTG"}) | {
    "M-BKHDT",
    "M-BNNPTNT",
    "M-BTNMT",
    "M-BGTVT",
    "M-BTTTT",
    "M-BLDTBXH",
}
MINISTRY_LEVEL_2021 = MINISTRY_LEVEL_2025 | {"M-UBDT"}


def no_sleep(_: float) -> None:
    return None


def _document() -> dict[str, Any]:
    return json.loads(MINISTRIES_JSON.read_text(encoding="utf-8"))


def _codes(day: date, kind: str) -> set[str]:
    return {a.code for a in agency_registry().on(day) if a.kind == kind}


# =========================================================================== reference data


def test_ministry_codes_in_the_file_are_unique_and_well_formed():
    codes = [a["code"] for a in _document()["agencies"]]
    assert [code for code, n in Counter(codes).items() if n > 1] == []
    assert [code for code in codes if not CODE.fullmatch(code)] == []
    assert all(code.startswith("M-") for code in codes)


def test_every_agency_in_the_registry_has_a_valid_code_kind_and_dates():
    agencies = agency_registry().all()
    assert len({a.code for a in agencies}) == len(agencies)
    for agency in agencies:
        assert CODE.fullmatch(agency.code), agency.code
        assert agency.kind in {"ministry", "ministry_level", "province"}, agency.code
        assert agency.code.startswith("P") == (agency.kind == "province"), agency.code
        assert agency.name.strip() == agency.name and agency.name, agency.code
        assert agency.short_name.strip() == agency.short_name and agency.short_name, agency.code
        assert agency.valid_from >= date(2021, 1, 1), agency.code
        assert agency.valid_to is None or agency.valid_to >= agency.valid_from, agency.code


def test_the_code_pattern_refuses_malformed_codes():
    for bad in ("P1", "P001", "p01", "M-", "M-B", "M-bnv", "MBNV", "M-BNV ", "national", "M-ABCDEFGHIJKLM"):
        assert not CODE.fullmatch(bad), bad
    for good in ("P01", "P96", "M-BNV", "M-BNNPTNT", "M-ABCDEFGHIJKL"):
        assert CODE.fullmatch(good), good


def test_an_agency_has_successors_exactly_when_it_has_ended():
    for agency in agency_registry().all():
        assert bool(agency.successors) == (agency.valid_to is not None), agency.code
        assert len(set(agency.successors)) == len(agency.successors), agency.code
        assert agency.code not in agency.successors, agency.code


ENDED = [a for a in agency_registry().all() if a.valid_to is not None]


@pytest.mark.parametrize("agency", ENDED, ids=[a.code for a in ENDED])
def test_every_successor_exists_and_is_in_force_the_day_after_its_predecessor_ends(agency: Agency):
    assert agency.valid_to is not None
    day_after = agency.valid_to + timedelta(days=1)
    registry = agency_registry()
    assert not agency.valid_on(day_after)
    for code in agency.successors:
        successor = registry.get(code)
        assert successor is not None, f"{agency.code} -> {code} does not exist"
        assert successor.valid_on(day_after), f"{agency.code} -> {code} is not in force on {day_after}"


def test_the_2025_reorganisation_successors_are_the_ones_the_law_names():
    registry = agency_registry()
    successors = {a.code: set(a.successors) for a in registry.all() if a.successors}
    assert successors == {
        "M-BKHDT": {"M-BTC"},
        "M-BNNPTNT": {"M-BNNMT"},
        "M-BTNMT": {"M-BNNMT"},
        "M-BGTVT": {"M-BXD"},
        "M-BTTTT": {"M-BKHCN"},
        "M-BLDTBXH": {"M-BNV", "M-BYT", "M-BGDDT"},
        "M-UBDT": {"M-BDTTG"},
    }


@pytest.mark.parametrize(
    ("day", "ministries", "ministry_level"),
    [
        (date(2021, 1, 1), MINISTRIES_2021, MINISTRY_LEVEL_2021),
        (date(2024, 6, 1), MINISTRIES_2021, MINISTRY_LEVEL_2021),
        (date(2025, 2, 28), MINISTRIES_2021, MINISTRY_LEVEL_2021),  # the last day of the old Government
        (date(2025, 3, 1), MINISTRIES_2025, MINISTRY_LEVEL_2025),
        (date(2026, 1, 1), MINISTRIES_2025, MINISTRY_LEVEL_2025),
        (date.today(), MINISTRIES_2025, MINISTRY_LEVEL_2025),
    ],
)
def test_the_government_in_force_on_a_day(day: date, ministries: set[str], ministry_level: set[str]):
    assert _codes(day, "ministry") == ministries
    assert _codes(day, "ministry_level") == ministry_level


def test_counts_18_plus_4_before_and_14_plus_3_after_the_reorganisation():
    assert (len(_codes(date(2024, 6, 1), "ministry")), len(_codes(date(2024, 6, 1), "ministry_level"))) == (18, 4)
    assert (len(_codes(date(2025, 3, 1), "ministry")), len(_codes(date(2025, 3, 1), "ministry_level"))) == (14, 3)
    assert (len(_codes(date.today(), "ministry")), len(_codes(date.today(), "ministry_level"))) == (14, 3)


def test_on_without_a_day_means_today():
    registry = agency_registry()
    assert registry.on() == registry.on(date.today())


def test_nothing_is_in_force_before_the_platform_period():
    assert agency_registry().on(date(2020, 12, 31)) == ()


def test_province_agencies_mirror_the_2025_geography():
    geography = load_geography("vn-2025")
    provinces = [a for a in agency_registry().all() if a.kind == "province"]
    assert len(provinces) == 34
    by_code = {a.code: a for a in provinces}
    assert set(by_code) == {f"P{p.code}" for p in geography.provinces}
    for province in geography.provinces:
        agency = by_code[f"P{province.code}"]
        assert agency.name == province.name
        assert agency.short_name == (province.short_name or province.name)
        assert agency.province_code == province.code
        assert agency.valid_from == date(2025, 7, 1) == date.fromisoformat(str(geography.valid_from))
        assert agency.valid_to is None and agency.successors == ()
    assert by_code["P01"].name == "Thành phố Hà Nội" and by_code["P01"].short_name == "Hà Nội"
    assert by_code["P79"].short_name == "Hồ Chí Minh"


def test_provinces_are_in_force_from_1_july_2025():
    def provinces(day: date) -> set[str]:
        return _codes(day, "province")

    assert provinces(date(2025, 6, 30)) == set()
    assert len(provinces(date(2025, 7, 1))) == 34
    assert len(provinces(date.today())) == 34


def test_province_code_is_only_for_provinces():
    registry = agency_registry()
    bnv, hanoi = registry.get("M-BNV"), registry.get("P01")
    assert bnv is not None and hanoi is not None
    assert bnv.province_code is None
    assert hanoi.province_code == "01"


def test_names_are_unicode_nfc():
    text = MINISTRIES_JSON.read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", text)
    for agency in agency_registry().all():
        assert unicodedata.is_normalized("NFC", agency.name), agency.code
        assert unicodedata.is_normalized("NFC", agency.short_name), agency.code


def test_names_keep_their_vietnamese_letters():
    registry = agency_registry()
    assert registry.get("M-BNV").name == "Bộ Nội vụ"  # type: ignore[union-attr]
    assert registry.get("M-BKHDT").short_name == "BKHĐT"  # type: ignore[union-attr]
    assert registry.get("M-UBDT").name == "Ủy ban Dân tộc"  # type: ignore[union-attr]


@pytest.mark.parametrize("day", [date(2024, 6, 1), date(2025, 7, 1), date.today()])
def test_on_lists_ministries_first_then_provinces_each_by_code(day: date):
    agencies = agency_registry().on(day)
    kinds = ["province" if a.kind == "province" else "central" for a in agencies]
    assert kinds == sorted(kinds, key=lambda k: k == "province")  # no ministry after a province
    central = [a.code for a in agencies if a.kind != "province"]
    provinces = [a.code for a in agencies if a.kind == "province"]
    assert central == sorted(central)
    assert provinces == sorted(provinces)
    assert [a.code for a in agencies] == central + provinces


def test_on_today_starts_with_the_ministries_and_ends_with_ca_mau():
    codes = [a.code for a in agency_registry().on(date.today())]
    assert len(codes) == 14 + 3 + 34
    assert all(code.startswith("M-") for code in codes[:17])
    assert codes[17] == "P01"
    assert codes[-1] == "P96"


def test_all_keeps_ended_agencies_and_on_is_its_subsequence():
    registry = agency_registry()
    everything = [a.code for a in registry.all()]
    assert "M-BKHDT" in everything and "M-BNNMT" in everything
    today = [a.code for a in registry.on(date.today())]
    assert "M-BKHDT" not in today
    assert today == [code for code in everything if code in set(today)]


def test_registry_refuses_duplicate_codes():
    one = Agency("M-ABC", "Bộ A", "A", "ministry", date(2021, 1, 1))
    two = Agency("M-ABC", "Bộ B", "B", "ministry", date(2021, 1, 1))
    with pytest.raises(ValueError, match="duplicate"):
        AgencyRegistry((one, two))


def test_registry_get_unknown_is_none():
    registry = agency_registry()
    assert registry.get("P99") is None
    assert registry.get("M-XYZ") is None
    assert registry.get("p01") is None


def test_registry_is_loaded_once():
    assert agency_registry() is agency_registry()


def test_valid_on_includes_its_first_and_last_days():
    agency = Agency("M-ABC", "Bộ A", "A", "ministry", date(2021, 1, 1), date(2025, 2, 28), ("M-DEF",))
    assert not agency.valid_on(date(2020, 12, 31))
    assert agency.valid_on(date(2021, 1, 1))
    assert agency.valid_on(date(2025, 2, 28))
    assert not agency.valid_on(date(2025, 3, 1))
    assert Agency("M-DEF", "Bộ D", "D", "ministry", date(2025, 3, 1)).valid_on(date(2099, 1, 1))


def test_to_dict():
    bkhdt = agency_registry().get("M-BKHDT")
    assert bkhdt is not None
    assert bkhdt.to_dict() == {
        "code": "M-BKHDT",
        "name": "Bộ Kế hoạch và Đầu tư",
        "short_name": "BKHĐT",
        "kind": "ministry",
        "valid_from": "2021-01-01",
        "valid_to": "2025-02-28",
        "successors": ["M-BTC"],
    }
    hanoi = agency_registry().get("P01")
    assert hanoi is not None
    assert hanoi.to_dict()["valid_to"] is None and hanoi.to_dict()["kind"] == "province"
    json.dumps(hanoi.to_dict())  # plain JSON


# =========================================================================== origins


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://cong.hanoi.gov.vn", "https://cong.hanoi.gov.vn"),
        ("HTTPS://Cong.HaNoi.GOV.VN", "https://cong.hanoi.gov.vn"),  # scheme and host lowercased
        ("https://cong.hanoi.gov.vn/", "https://cong.hanoi.gov.vn"),  # trailing slash dropped
        ("  https://cong.hanoi.gov.vn/  ", "https://cong.hanoi.gov.vn"),  # the line's spaces
        ("https://cong.hanoi.gov.vn.", "https://cong.hanoi.gov.vn"),  # the root's dot
        ("https://cong.hanoi.gov.vn:443", "https://cong.hanoi.gov.vn"),  # the default port dropped
        ("https://cong.hanoi.gov.vn:443/", "https://cong.hanoi.gov.vn"),
        ("https://cong.hanoi.gov.vn:8443", "https://cong.hanoi.gov.vn:8443"),  # another port kept
        ("https://cong.hanoi.gov.vn:65535", "https://cong.hanoi.gov.vn:65535"),
        ("https://*.hanoi.gov.vn", "https://*.hanoi.gov.vn"),
        ("https://*.HaNoi.gov.vn/", "https://*.hanoi.gov.vn"),
        ("https://bộnộivụ.vn", "https://xn--bniv-5y5ab0g.vn"),  # IDN to punycode
        ("https://BỘNỘIVỤ.VN", "https://xn--bniv-5y5ab0g.vn"),
        ("https://" + unicodedata.normalize("NFD", "bộnộivụ.vn"), "https://xn--bniv-5y5ab0g.vn"),
        ("https://*.bộnộivụ.vn", "https://*.xn--bniv-5y5ab0g.vn"),
        ("https://xn--bniv-5y5ab0g.vn", "https://xn--bniv-5y5ab0g.vn"),
        ("https://so-noi-vu.hue.gov.vn", "https://so-noi-vu.hue.gov.vn"),
        ("http://localhost", "http://localhost"),
        ("http://localhost:80", "http://localhost"),
        ("http://localhost:5173", "http://localhost:5173"),
        ("http://LOCALHOST:8000/", "http://localhost:8000"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://localhost:8443", "https://localhost:8443"),
    ],
)
def test_normalize_origin_accepts(given: str, expected: str):
    assert normalize_origin(given) == expected
    assert normalize_origin(expected) == expected  # normalizing is idempotent


REFUSED = [
    "https://cong.hanoi.gov.vn/gioi-thieu",  # a path
    "https://cong.hanoi.gov.vn/a/",
    "https://cong.hanoi.gov.vn//",
    "https://cong.hanoi.gov.vn?x=1",  # a query
    "https://cong.hanoi.gov.vn/?x=1",
    "https://cong.hanoi.gov.vn#top",  # a fragment
    "https://user@cong.hanoi.gov.vn",  # credentials
    "https://user:pass@cong.hanoi.gov.vn",
    "ftp://cong.hanoi.gov.vn",  # another scheme
    "wss://cong.hanoi.gov.vn",
    "javascript:alert(1)",
    "cong.hanoi.gov.vn",  # no scheme
    "//cong.hanoi.gov.vn",
    "https://203.113.131.1",  # an IP address
    "https://8.8.8.8:443",
    "https://[::1]",
    "*",
    "https://*",
    "https://*.vn",  # a wildcard over a whole top-level domain
    "https://*.localhost",
    "https://a.*.gov.vn",
    "https://*.*.gov.vn",
    "https://intranet",  # a single label
    "https://cong hanoi.gov.vn",  # spaces
    "https://cong.hanoi.gov.vn https://b.gov.vn",  # two on one line
    "https://cong.hanoi.gov.vn:0",
    "https://cong.hanoi.gov.vn:65536",
    "https://cong.hanoi.gov.vn:99999",
    "https://cong.hanoi.gov.vn:",
    "https://cong.hanoi.gov.vn:abc",
    "https://cong..gov.vn",
    "https://-cong.gov.vn",
    "https://cong-.gov.vn",
    "https://cong_hanoi.gov.vn",
    "https://" + "a" * 64 + ".gov.vn",  # a label longer than 63
    "https://",
    "",
    "http://cong.hanoi.gov.vn",  # http only for this machine
    "http://bộnộivụ.vn",
]


@pytest.mark.parametrize("given", ["https://*.gov.vn", "https://*.com.vn", "https://*.hanoi.vn", "https://*.github.io"])
def test_a_wildcard_over_a_public_suffix_is_refused(given: str):
    """*.gov.vn would let every government site (or anyone's *.com.vn) frame the widget."""
    with pytest.raises(InvalidOrigin) as caught:
        normalize_origin(given)
    assert "đuôi tên miền chung" in caught.value.message_vi
    assert normalize_origin("https://*.hanoi.gov.vn") == "https://*.hanoi.gov.vn"


def test_internationalized_names_follow_the_browsers_rules():
    # IDNA 2008 / UTS #46 as browsers: ß stays ß (xn--zca), where Python's IDNA 2003 codec made it "ss"
    assert normalize_origin("https://ß.vn") == "https://xn--zca.vn"
    assert normalize_origin("https://Bộnộivụ.vn") == "https://xn--bniv-5y5ab0g.vn"


def test_localhost_only_where_the_service_allows_it():
    assert normalize_origin("http://localhost:8102", allow_loopback=True) == "http://localhost:8102"
    with pytest.raises(InvalidOrigin) as caught:
        normalize_origin("http://localhost:8102", 2, allow_loopback=False)
    assert caught.value.field == "embed_origins[2]"
    with pytest.raises(InvalidOrigin):
        normalize_origin("https://127.0.0.1", allow_loopback=False)


@pytest.mark.parametrize("given", REFUSED)
def test_normalize_origin_refuses(given: str):
    with pytest.raises(InvalidOrigin) as caught:
        normalize_origin(given, 7)
    assert caught.value.field == "embed_origins[7]"
    assert caught.value.status == 400 and caught.value.code == "invalid_origin"
    assert caught.value.to_dict()["error"]["field"] == "embed_origins[7]"


def test_refusing_http_and_ip_addresses_says_why():
    with pytest.raises(InvalidOrigin) as http:
        normalize_origin("http://cong.hanoi.gov.vn")
    assert "https://" in http.value.message_en and "https://" in http.value.message_vi
    with pytest.raises(InvalidOrigin) as ip:
        normalize_origin("https://203.113.131.1")
    assert "IP" in ip.value.message_en and "IP" in ip.value.message_vi


def test_a_refused_value_is_echoed_but_cut_to_200_characters():
    long = "https://cong.hanoi.gov.vn/" + "x" * 500
    with pytest.raises(InvalidOrigin) as caught:
        normalize_origin(long)
    assert caught.value.details == [{"value": long[:200]}]


def test_a_port_with_leading_zeros_is_normalized():
    assert normalize_origin("https://cong.hanoi.gov.vn:0443") == "https://cong.hanoi.gov.vn"
    assert normalize_origin("https://cong.hanoi.gov.vn:08443") == "https://cong.hanoi.gov.vn:8443"


# Browsers read these as IPv4 addresses (10.1 is 10.0.0.1, 0x7f.0.0.1 is 127.0.0.1).
@pytest.mark.parametrize("given", ["https://10.1", "https://1.2.3", "https://0x7f.0.0.1", "https://0xc0.0xa8.0.1"])
def test_short_ipv4_forms_are_refused(given: str):
    with pytest.raises(InvalidOrigin):
        normalize_origin(given)


def test_normalize_origins_dedupes_in_the_order_given():
    assert normalize_origins(
        ["https://B.gov.vn", "https://a.gov.vn", "https://b.gov.vn/", "https://b.gov.vn:443", "https://A.GOV.VN"]
    ) == ("https://b.gov.vn", "https://a.gov.vn")


def test_normalize_origins_skips_blank_lines_and_names_the_original_line():
    assert normalize_origins(["", "   ", "https://a.gov.vn", "\t"]) == ("https://a.gov.vn",)
    assert normalize_origins([]) == ()
    with pytest.raises(InvalidOrigin) as caught:
        normalize_origins(["", "https://a.gov.vn", "https://a.gov.vn/path"])
    assert caught.value.field == "embed_origins[2]"


def test_normalize_origins_takes_any_iterable():
    assert normalize_origins(o for o in ("https://a.gov.vn", "https://b.gov.vn")) == (
        "https://a.gov.vn",
        "https://b.gov.vn",
    )


def test_normalize_origins_allows_20_and_refuses_21():
    twenty = [f"https://s{i}.hanoi.gov.vn" for i in range(MAX_ORIGINS)]
    assert MAX_ORIGINS == 20
    assert len(normalize_origins(twenty)) == 20
    with pytest.raises(InvalidOrigin) as caught:
        normalize_origins([*twenty, "https://s20.hanoi.gov.vn"])
    assert caught.value.field == "embed_origins"
    assert "20" in caught.value.message_en and "20" in caught.value.message_vi


def test_the_limit_counts_distinct_origins():
    twenty = [f"https://s{i}.hanoi.gov.vn" for i in range(MAX_ORIGINS)]
    assert len(normalize_origins([*twenty, "HTTPS://S0.hanoi.gov.vn/", "", ""])) == 20


@pytest.mark.parametrize("bad", [5, None, b"https://a.gov.vn", ["https://a.gov.vn"], {"origin": "x"}])
def test_normalize_origins_refuses_non_strings(bad: Any):
    with pytest.raises(InvalidOrigin) as caught:
        normalize_origins(["https://a.gov.vn", bad])
    assert caught.value.field == "embed_origins[1]"


def test_frame_ancestors():
    assert frame_ancestors(["https://a.gov.vn", "https://*.b.gov.vn"]) == "https://a.gov.vn https://*.b.gov.vn"
    assert frame_ancestors(("http://localhost:5173",)) == "http://localhost:5173"
    assert frame_ancestors([]) == "'none'"
    assert frame_ancestors(()) == "'none'"
    nothing: tuple[str, ...] = ()
    assert frame_ancestors(o for o in nothing) == "'none'"


# =========================================================================== the service


class Harness:
    def __init__(self) -> None:
        self.audit_store = FakeAuditStore()
        self.log = AuditLog(self.audit_store, clock=lambda: T0, sleep=no_sleep)
        self.store = FakeAgencySettingsStore()
        self.service = AgencyService(agency_registry().get, self.store, self.log)

    def chain(self) -> list[Any]:
        return self.audit_store.chain()


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_settings_of_a_known_agency_never_saved(h: Harness):
    assert h.service.settings("P01") == AgencySettings("P01", (), 0, None, None)
    assert h.service.settings("M-BNV").to_dict() == {
        "agency": "M-BNV",
        "embed_origins": [],
        "locations": [],
        "version": 0,
        "updated_at": None,
        "updated_by": None,
    }


@pytest.mark.parametrize("code", ["P99", "M-XYZ", "p01", "national", ""])
def test_settings_of_an_unknown_agency(h: Harness, code: str):
    with pytest.raises(AgencyNotFound) as caught:
        h.service.settings(code)
    assert caught.value.status == 404 and caught.value.field == "agency"


def test_an_agency_that_no_longer_exists_cannot_be_configured(h: Harness):
    assert h.service.settings("M-BKHDT").version == 0  # still readable, for history
    with pytest.raises(AgencyNotFound) as caught:
        h.service.set_embed_origins(HANOI_ADMIN, "M-BKHDT", ["https://mpi.gov.vn"], 0, AT)
    assert "kế thừa" in caught.value.message_vi
    assert h.store.items == {} and h.chain() == []


def test_a_change_is_stored_with_the_next_version_and_one_audit_entry(h: Harness):
    saved = h.service.set_embed_origins(
        HANOI_ADMIN, "P01", ["HTTPS://Cong.HaNoi.gov.vn/", "", "https://*.hanoi.gov.vn"], 0, AT
    )
    expected = AgencySettings("P01", ("https://cong.hanoi.gov.vn", "https://*.hanoi.gov.vn"), 1, AT, "u-042")
    assert saved == expected
    assert h.store.get("P01") == expected
    assert h.service.settings("P01") == expected
    assert h.store.get("P46").version == 0  # other agencies untouched

    [entry] = h.chain()
    assert entry.action == "agency.embed_origins"
    assert (entry.target_type, entry.target_id) == ("agency", "P01")
    assert entry.actor == HANOI_ADMIN
    assert entry.before == {"embed_origins": [], "version": 0}
    assert entry.after == {"embed_origins": ["https://cong.hanoi.gov.vn", "https://*.hanoi.gov.vn"], "version": 1}
    assert verify_chain(h.chain(), head=h.audit_store.head()).ok


def test_successive_changes_chain_their_versions_and_entries(h: Harness):
    h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://a.hanoi.gov.vn"], 0, AT)
    second = h.service.set_embed_origins(MINISTRY_ADMIN, "P01", ["https://b.hanoi.gov.vn"], 1, AT)
    third = h.service.set_embed_origins(HANOI_ADMIN, "P01", [], 2, AT)
    assert second.version == 2 and second.updated_by == "u-001"
    assert third == AgencySettings("P01", (), 3, AT, "u-042")
    assert h.store.get("P01") == third

    entries = h.chain()
    assert [e.action for e in entries] == ["agency.embed_origins"] * 3
    assert [e.before["version"] for e in entries] == [0, 1, 2]
    assert [e.after["version"] for e in entries] == [1, 2, 3]
    assert entries[1].before == entries[0].after
    assert entries[2].before == entries[1].after
    assert entries[2].after == {"embed_origins": [], "version": 3}
    assert [e.actor.sub for e in entries] == ["u-042", "u-001", "u-042"]
    assert verify_chain(entries, head=h.audit_store.head()).ok


def test_a_stale_version_is_a_conflict_and_changes_nothing(h: Harness):
    first = h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://a.hanoi.gov.vn"], 0, AT)
    chain_before, appends_before = h.chain(), h.audit_store.appends

    with pytest.raises(EditConflict) as caught:
        h.service.set_embed_origins(MINISTRY_ADMIN, "P01", ["https://other.gov.vn"], 0, AT)
    assert caught.value.status == 409
    assert caught.value.details == [{"current_version": 1}]
    assert h.store.get("P01") == first
    assert h.chain() == chain_before and h.audit_store.appends == appends_before


@pytest.mark.parametrize("expected_version", [1, 5])
def test_a_version_ahead_of_the_store_is_a_conflict(h: Harness, expected_version: int):
    with pytest.raises(EditConflict):
        h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://a.hanoi.gov.vn"], expected_version, AT)
    assert h.store.items == {} and h.chain() == []


def test_a_stale_version_is_a_conflict_even_when_the_list_is_the_same(h: Harness):
    h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://a.hanoi.gov.vn"], 0, AT)
    with pytest.raises(EditConflict):
        h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://a.hanoi.gov.vn"], 0, AT)
    assert len(h.chain()) == 1


def test_two_administrators_saving_at_once_the_second_gets_a_conflict(h: Harness):
    """Both read version 0; the first one's save lands while the second's is being written."""

    def first_admin_saves(_: Any) -> None:
        h.service.set_embed_origins(MINISTRY_ADMIN, "P01", ["https://first.hanoi.gov.vn"], 0, AT)

    h.audit_store.race.append(first_admin_saves)
    with pytest.raises(EditConflict):
        h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://second.hanoi.gov.vn"], 0, AT)

    assert h.store.get("P01") == AgencySettings("P01", ("https://first.hanoi.gov.vn",), 1, AT, "u-001")
    [entry] = h.chain()  # the loser left no entry
    assert entry.actor == MINISTRY_ADMIN and entry.after == {
        "embed_origins": ["https://first.hanoi.gov.vn"],
        "version": 1,
    }
    assert verify_chain(h.chain(), head=h.audit_store.head()).ok


def test_saving_the_same_list_again_writes_nothing(h: Harness):
    saved = h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://a.hanoi.gov.vn", "https://b.gov.vn"], 0, AT)
    appends = h.audit_store.appends
    # The same list, spelled differently, with a blank line and a duplicate.
    again = h.service.set_embed_origins(
        MINISTRY_ADMIN, "P01", ["HTTPS://A.hanoi.gov.vn/", "", "https://b.gov.vn:443", "https://b.gov.vn"], 1, AT
    )
    assert again == saved and again.version == 1 and again.updated_by == "u-042"
    assert h.store.get("P01") == saved
    assert h.audit_store.appends == appends and len(h.chain()) == 1


def test_saving_an_empty_list_over_nothing_writes_nothing(h: Harness):
    assert h.service.set_embed_origins(HANOI_ADMIN, "P01", ["", " "], 0, AT) == AgencySettings("P01")
    assert h.store.items == {} and h.chain() == []


def test_the_order_of_the_list_is_a_change(h: Harness):
    h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://a.gov.vn", "https://b.gov.vn"], 0, AT)
    swapped = h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://b.gov.vn", "https://a.gov.vn"], 1, AT)
    assert swapped.version == 2 and len(h.chain()) == 2


@pytest.mark.parametrize("code", ["P99", "M-XYZ", "national"])
def test_an_unknown_agency_is_not_found_and_nothing_is_written(h: Harness, code: str):
    with pytest.raises(AgencyNotFound):
        h.service.set_embed_origins(HANOI_ADMIN, code, ["https://a.gov.vn"], 0, AT)
    assert h.store.items == {} and h.chain() == []


def test_an_invalid_origin_stores_nothing_and_audits_nothing(h: Harness):
    h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://a.hanoi.gov.vn"], 0, AT)
    stored, chain = h.store.get("P01"), h.chain()
    with pytest.raises(InvalidOrigin) as caught:
        h.service.set_embed_origins(HANOI_ADMIN, "P01", ["https://b.hanoi.gov.vn", "http://c.hanoi.gov.vn"], 1, AT)
    assert caught.value.field == "embed_origins[1]"
    assert h.store.get("P01") == stored and h.chain() == chain


def test_too_many_origins_store_nothing(h: Harness):
    with pytest.raises(InvalidOrigin):
        h.service.set_embed_origins(HANOI_ADMIN, "P01", [f"https://s{i}.gov.vn" for i in range(21)], 0, AT)
    assert h.store.items == {} and h.chain() == []


def test_frame_ancestors_of_saved_settings(h: Harness):
    saved = h.service.set_embed_origins(
        HANOI_ADMIN, "P01", ["https://cong.hanoi.gov.vn", "https://*.hanoi.gov.vn"], 0, AT
    )
    assert frame_ancestors(saved.embed_origins) == "https://cong.hanoi.gov.vn https://*.hanoi.gov.vn"
    assert frame_ancestors(h.service.settings("P46").embed_origins) == "'none'"


# =========================================================================== the request body


def _put(body: Any) -> dict[str, Any]:
    return json_body(json.dumps(body).encode("utf-8"), "application/json", "agency-settings")


def test_agency_settings_body_accepted():
    body = {"embed_origins": ["https://cong.hanoi.gov.vn"], "version": 3}
    assert _put(body) == body
    assert _put({"embed_origins": [], "version": 0}) == {"embed_origins": [], "version": 0}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"embed_origins": [5], "version": 0}, "/embed_origins/0"),
        ({"embed_origins": ["https://a.gov.vn", None], "version": 0}, "/embed_origins/1"),
        ({"embed_origins": ["https://a.gov.vn", ""], "version": 0}, "/embed_origins/1"),
        ({"embed_origins": ["x" * 256], "version": 0}, "/embed_origins/0"),
        ({"embed_origins": "https://a.gov.vn", "version": 0}, "/embed_origins"),
        ({"embed_origins": [f"https://s{i}.gov.vn" for i in range(21)], "version": 0}, "/embed_origins"),
        ({"embed_origins": [], "version": -1}, "/version"),
        ({"embed_origins": [], "version": "1"}, "/version"),
        ({"embed_origins": [], "version": 1.5}, "/version"),
        ({"embed_origins": []}, "/version"),  # missing
        ({"version": 0}, "/embed_origins"),  # missing
        ({"embed_origins": [], "version": 0, "agency": "P46"}, "/"),  # unexpected
    ],
)
def test_agency_settings_body_refused_with_the_field(body: dict[str, Any], field: str):
    with pytest.raises(InvalidRequest) as caught:
        _put(body)
    assert caught.value.field == field
    assert caught.value.status == 400
