"""Unit tests of the citizen pages: the SIPAS form as HTML, form posts as submissions, results and other pages."""

from __future__ import annotations

import copy
import gzip
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import fastjsonschema
import pytest

from chalicelib.domain.results import compute_results
from chalicelib.domain.survey import Survey
from chalicelib.reference.geography import Geography, load_geography
from chalicelib.web import forms, pages

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "infra" / "local" / "seed" / "sipas-2026.xlsx"
RESPONSE_ID = "01JXQ8Z3M4N5P6Q7R8S9T0V1W2"
STARTED_AT = "2026-06-01T07:00:00.000Z"


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each <script> and <title>."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: dict[str, str] = {}
        self._open: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._open = tag if tag in ("script", "title") else None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.text[self._open] = self.text.get(self._open, "") + data

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    from infra.local.seed import load_survey

    return load_survey(SEED)


@pytest.fixture(scope="module")
def survey(definition: dict[str, Any]) -> Survey:
    return Survey.from_definition(definition)


@pytest.fixture(scope="module")
def geography() -> Geography:
    return load_geography("vn-2025")


@pytest.fixture(scope="module")
def form_html(survey: Survey, geography: Geography) -> str:
    return pages.render_survey_form(survey, geography, response_id=RESPONSE_ID, started_at=STARTED_AT)


def render(survey: Survey, geography: Geography, **kwargs: Any) -> str:
    return pages.render_survey_form(survey, geography, response_id=RESPONSE_ID, started_at=STARTED_AT, **kwargs)


def filled_form(html: str, *, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """What a browser posts when a citizen answers every question of the rendered form (4th option where there is one)."""
    tags = Tags(html)
    fields: dict[str, list[str]] = {}
    radios: dict[str, list[str]] = {}
    for tag, a in tags.tags:
        name = a.get("name")
        if not name or name in skip:
            continue
        kind = a.get("type", "")
        if tag == "input" and kind == "radio":
            radios.setdefault(name, []).append(a["value"])
        elif tag == "input" and kind == "checkbox":
            fields.setdefault(name, []).append(a["value"])
        elif tag == "input" and kind == "hidden":
            fields[name] = [a.get("value", "")]
        elif tag == "input" and name == "website":
            fields[name] = [""]
        elif tag == "input" or tag == "textarea":
            fields[name] = ["Cần rút ngắn thời gian chờ & <giấy tờ>."]
    for name, values in radios.items():
        fields[name] = [values[min(3, len(values) - 1)]]
    fields["province"], fields["commune"] = ["01"], ["00004"]
    if "q8_04" in fields:
        fields["q8_04"] = ["1"]  # did an administrative procedure: Part II of Q9 is asked
    if "q2" not in skip:
        fields["q2"] = ["1", "7"]  # two channels, one of them "other" with its free text
    # Through the wire and back, as the API parses it.
    return parse_qs(urlencode(fields, doseq=True), keep_blank_values=True)


# --- the form ----------------------------------------------------------------------------------
def test_form_has_a_field_for_every_item_and_the_envelope(survey: Survey, form_html: str) -> None:
    tags = Tags(form_html)
    names = {a.get("name") for _, a in tags.tags if a.get("name")}
    assert {item.id for item in survey.items} <= names
    assert "q2__other" in names
    form = tags.find("form", id="survey")[0]
    assert form["method"] == "post"
    assert form["action"] == "/s/sipas-2026"
    assert "novalidate" in form  # the server reports every missing answer at once, in Vietnamese
    hidden = {a["name"]: a["value"] for a in tags.find("input", type="hidden")}
    assert hidden == {
        "id": RESPONSE_ID,
        "survey_version": "1",
        "channel": "web",
        "started_at": STARTED_AT,
        "page_ms": "",
    }


def test_honeypot_is_hidden_from_people_and_assistive_technology(form_html: str) -> None:
    tags = Tags(form_html)
    trap = tags.find("input", name="website")[0]
    assert trap["tabindex"] == "-1"
    assert trap["autocomplete"] == "off"
    assert re.search(r'<div class="hp" aria-hidden="true"><label for="i-website">Để trống ô này</label>', form_html)


def test_page_is_vietnamese_and_has_no_inline_script(form_html: str) -> None:
    tags = Tags(form_html)
    assert tags.find("html")[0]["lang"] == "vi"
    assert tags.find("meta", name="viewport")
    scripts = tags.find("script")
    assert len(scripts) == 3
    # the conditions' evaluator (shared with the field app), then the form's script, in this order (defer keeps it)
    assert scripts[0]["src"].startswith("/static/logic.js") and scripts[1]["src"].startswith("/static/form.js")
    assert "defer" in scripts[0] and "defer" in scripts[1]
    # the other is data, not code: the survey's conditions for form.js (CSP script-src 'self' does not run it)
    assert scripts[2] == {"type": "application/json", "id": "logic"}
    handlers = [(t, k) for t, a in tags.tags for k in a if k.startswith("on")]
    assert handlers == []
    assert "javascript:" not in form_html
    assert unicodedata.normalize("NFC", form_html) == form_html
    assert tags.find("a", href="#main")  # skip link


def test_location_offers_34_provinces_and_communes_only_after_a_choice(
    survey: Survey, geography: Geography, form_html: str
) -> None:
    province = re.search(r'<select id="i-province" name="province"[^>]*>(.*?)</select>', form_html, re.DOTALL)
    commune = re.search(r'<select id="i-commune" name="commune"[^>]*>(.*?)</select>', form_html, re.DOTALL)
    assert province
    assert commune
    assert "required" in province.group(0)
    assert len(re.findall(r'<option value="\d\d"', province.group(1))) == 34
    assert re.findall(r"<option[^>]*>([^<]*)", commune.group(1)) == ["— Không chọn —"]
    # Re-rendered after a post without JavaScript: the chosen province's communes can be picked.
    again = render(survey, geography, values={"province": ["01"], "commune": ["00004"]})
    assert '<option value="01" selected>' in again
    assert '<option value="00004" selected>Phường Ba Đình</option>' in again


def test_questions_render_as_accessible_groups(form_html: str) -> None:
    tags = Tags(form_html)
    sex = tags.find("input", name="a_sex")
    assert [a["type"] for a in sex] == ["radio", "radio"]
    assert all("required" in a for a in sex)
    assert [a["type"] for a in tags.find("input", name="q2")] == ["checkbox"] * 7
    assert tags.find("input", name="q2__other", type="text")
    # A matrix row: radios named by the row, each described by the row's text, under visible column headers.
    row = tags.find("input", name="q9_01")
    assert [a["value"] for a in row] == ["1", "2", "3", "4", "5", "9"]  # five points and "Không áp dụng"
    assert all(a["aria-describedby"] == "t-q9_01" for a in row)
    assert '<th scope="col">Rất hài lòng' in form_html
    assert re.search(
        r'<label><input type="radio" name="q9_01" value="5"[^>]*><span>Rất hài lòng</span></label>', form_html
    )
    # q10_other is a "text" question: one line (docs/SURVEY_MODEL.md), here of at most 2000 characters
    assert tags.find("input", name="q10_other")[0]["maxlength"] == "2000"
    assert len(re.findall(r'<span class="req" aria-hidden="true">\*</span>', form_html)) >= 10
    assert 'role="radiogroup" aria-required="true"' in form_html
    assert ">Gửi phiếu</button>" in form_html
    assert len(tags.find("section")) == 5  # location + parts A-D


def test_embed_posts_back_to_the_widget(survey: Survey, geography: Geography) -> None:
    html = render(survey, geography, embed=True)
    tags = Tags(html)
    assert tags.find("form", id="survey")[0]["action"] == "/s/sipas-2026?embed=1"
    assert tags.find("input", name="channel")[0]["value"] == "widget"
    assert not tags.find("header")


def test_errors_are_summarised_on_top_and_marked_on_each_field(survey: Survey, geography: Geography) -> None:
    errors = {
        "q9_05": pages.REQUIRED_MESSAGE,
        "a_age": pages.REQUIRED_MESSAGE,
        "province": pages.PROVINCE_MESSAGE,
        "form": "Cuộc khảo sát này hiện không nhận phiếu trả lời.",
    }
    html = render(survey, geography, values={"a_sex": "2", "q9_01": ["4"]}, errors=errors)
    tags = Tags(html)
    assert tags.text["title"].startswith("Lỗi: ")
    summary = re.search(
        r'<div id="errsum" class="errsum" role="alert" tabindex="-1" autofocus>(.*?)</div>', html, re.DOTALL
    )
    assert summary
    links = re.findall(r'<a href="#(i-[\w]+)">', summary.group(1))
    assert links == ["i-province", "i-a_age", "i-q9_05"]  # form order
    assert "Cuộc khảo sát này hiện không nhận phiếu trả lời." in summary.group(1)
    row = tags.find("input", name="q9_05")
    assert all(a["aria-invalid"] == "true" and a["aria-describedby"] == "t-q9_05 e-q9_05" for a in row)
    assert re.search(r'<span class="err" id="e-q9_05">Vui lòng trả lời câu hỏi bắt buộc này.</span>', html)
    assert tags.find("input", name="a_age")[0]["aria-describedby"] == "e-a_age"
    assert tags.find("select", name="province")[0]["aria-invalid"] == "true"
    # The answers already given are kept.
    assert "checked" in tags.find("input", name="a_sex", value="2")[0]
    assert "checked" in tags.find("input", name="q9_01", value="4")[0]
    assert "checked" not in tags.find("input", name="q9_01", value="3")[0]


def test_summary_groups_the_missing_rows_of_a_matrix(survey: Survey, geography: Geography) -> None:
    missing = [f"q9_{i:02d}" for i in range(1, 15)]  # every row of Q9 part I
    html = render(survey, geography, errors=forms.form_errors(survey, {"province": "01", "answers": {}}))
    summary = re.search(r'<div id="errsum"[^>]*>(.*?)</div>', html, re.DOTALL)
    assert summary
    entries = re.findall(r'<li><a href="#(i-\w+)">([^<]*)</a></li>', summary.group(1))
    # 7 questions of part A, q1, q2, q8, q9 part I: not 56 lines (part II is asked only when q8_04 = '1')
    assert len(entries) == 11
    part_one = dict(entries)["i-q9_01"]
    assert part_one.startswith(
        "Câu 9 (Phần I). Mức độ hài lòng về việc ban hành, tổ chức thực hiện chính sách (14 dòng): "
    )
    assert "Phiếu chưa hoàn thành: vui lòng kiểm tra 11 mục dưới đây" in html
    for row in missing:  # each row still carries its own message
        assert f'<span class="err" id="e-{row}">' in html


def test_no_error_summary_without_errors(form_html: str) -> None:
    assert '<div id="errsum" class="errsum" role="alert" tabindex="-1" hidden>' in form_html
    assert 'class="err"' not in form_html
    assert "aria-invalid" not in form_html


def test_citizen_text_is_escaped(survey: Survey, geography: Geography) -> None:
    evil = '<script>alert("x")</script>'
    html = render(survey, geography, values={"q10_other": evil, "q2": ["7"], "q2__other": evil}, errors={"q2": evil})
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert len(Tags(html).find("script")) == 3  # logic.js, form.js and the conditions (data)


def test_personal_data_question_explains_its_purpose(definition: dict[str, Any], geography: Geography) -> None:
    custom = copy.deepcopy(definition)
    custom["sections"][-1]["questions"].append(
        {"id": "phone", "type": "text", "text": {"vi": "Số điện thoại"}, "personal_data": True, "max_length": 20}
    )
    html = render(Survey.from_definition(custom), geography)
    notice = re.search(r'<p class="pd" id="p-phone">([^<]*)</p>', html)
    assert notice
    assert "Không bắt buộc" in notice.group(1)
    assert "mã băm" in notice.group(1)
    assert "13/2023/NĐ-CP" in notice.group(1)
    assert Tags(html).find("input", name="phone")[0]["aria-describedby"] == "p-phone"


# --- form posts --------------------------------------------------------------------------------
def test_a_fully_answered_form_is_a_valid_submission(survey: Survey, form_html: str) -> None:
    form = filled_form(form_html)
    body = forms.form_to_submission(survey, form)
    fastjsonschema.compile(survey.submission_schema())(body)  # raises when not valid
    assert body["id"] == RESPONSE_ID
    assert body["survey_version"] == 1
    assert body["channel"] == "web"
    assert (body["province"], body["commune"]) == ("01", "00004")
    assert body["paradata"] == {"started_at": STARTED_AT, "client": forms.FORM_CLIENT}
    assert "website" not in body
    answers = body["answers"]
    assert answers["q2"] == ["1", "7"]
    assert answers["q2__other"] == "Cần rút ngắn thời gian chờ & <giấy tờ>."
    assert answers["q9_01"] == "4"
    assert answers["a_sex"] == "2"  # only two options: the last one
    assert answers["q10_other"].startswith("Cần rút ngắn")
    assert set(answers) == {i.id for i in survey.items} | {"q2__other"}
    assert forms.missing_required(survey, answers) == []


def test_form_post_details(survey: Survey) -> None:
    form = {
        "id": [RESPONSE_ID],
        "survey_version": ["x"],
        "channel": ["widget"],
        "province": ["79"],
        "commune": [""],
        "website": ["http://spam.example"],
        "started_at": [STARTED_AT],
        "page_ms": ['{"a": 1200, "b": 3400.4, "bad": -1, "worse": "x"}'],
        "q2": ["1", "1", "3"],
        "q2__other": ["  "],
        "q10_other": ["   "],
        "a_sex": ["1", "2"],
        "unknown_field": ["ignored"],
    }
    body = forms.form_to_submission(survey, form)
    assert body["survey_version"] == "x"  # not a number: left for the validator to report
    assert "commune" not in body
    assert body["website"] == "http://spam.example"  # the honeypot is kept: screening flags it
    assert body["paradata"]["page_ms"] == {"a": 1200, "b": 3400}
    assert body["answers"] == {"q2": ["1", "3"], "a_sex": "1"}
    garbage = forms.form_to_submission(survey, {**form, "page_ms": ["[1, 2]"]})
    assert "page_ms" not in garbage["paradata"]


def test_missing_required_lists_every_gap_in_form_order(survey: Survey, form_html: str) -> None:
    form = filled_form(form_html, skip=("q9_20", "a_age", "q1_03", "q2", "q3"))  # q3 is optional
    body = forms.form_to_submission(survey, form)
    assert forms.missing_required(survey, body["answers"]) == ["a_age", "q1_03", "q2", "q9_20"]
    assert forms.missing_required(survey, {"q9_01": " ", "q2": []})[:2] == ["a_sex", "a_age"]
    errors = forms.form_errors(survey, {**body, "province": ""})
    assert list(errors) == ["province", "a_age", "q1_03", "q2", "q9_20"]
    assert errors["q2"] == pages.REQUIRED_MESSAGE


def test_field_of_maps_api_error_paths_to_form_names() -> None:
    assert forms.field_of("/answers/q9_01") == "q9_01"
    assert forms.field_of("/province") == "province"
    assert forms.field_of("/") == ""
    assert forms.field_of(None) == ""


# --- other pages -------------------------------------------------------------------------------
def _aggregate_items(survey: Survey) -> list[dict[str, Any]]:
    accepted: dict[str, Any] = {"pk": "sipas-2026#1#all", "sk": "accepted#0", "n": 3}
    for item_id, counts in {"q9_01": {"4": 2, "2": 1}, "q4": {"1": 2, "3": 1}, "q2": {"1": 3, "7": 1}}.items():
        accepted[item_id] = 3
        accepted.update({f"{item_id}={v}": n for v, n in counts.items()})
    return [accepted, {"pk": "x", "sk": "flagged#0", "n": 2}, {"pk": "x", "sk": "received#0", "n": 1}]


def test_results_page_shows_index_counts_and_unscored_distributions(survey: Survey, geography: Geography) -> None:
    results = compute_results(survey, _aggregate_items(survey), "p01", include_flagged=False)
    html = pages.render_results(survey, results, scope="p01", geography=geography, include_flagged=False)
    tags = Tags(html)
    assert tags.find("html")[0]["lang"] == "vi"
    assert not tags.find("script")  # no chart library, no script at all
    assert tags.find("form", method="get", action="/s/sipas-2026/results")
    scope = re.search(r'<select id="scope" name="scope">(.*?)</select>', html, re.DOTALL)
    assert scope
    assert len(re.findall(r"<option ", scope.group(1))) == 35
    assert '<option value="all">Toàn quốc</option>' in scope.group(1)
    assert '<option value="p01" selected>Thành phố Hà Nội</option>' in scope.group(1)
    assert tags.find("input", type="checkbox", name="include_flagged")
    assert "chưa gia quyền" in html
    assert "“—” nghĩa là chưa có dữ liệu" in html
    assert "66,7" in html  # q9_01: 2 of 3 rated 4 or 5
    assert '<meter min="0" max="100" value="66.67"' in html
    counts = re.findall(r"<li>([^<]+)<strong>(\d+)</strong></li>", html)
    assert counts == [("Hợp lệ", "3"), ("Gắn cờ nghi vấn", "2"), ("Bị loại", "0"), ("Chưa sàng lọc", "1")]
    # Unscored questions: harassment (q4) and informal payments (q5) are shown; scored rows are not repeated.
    assert "Câu 4. Khi giải quyết công việc" in html
    assert "Câu 5. Ông/Bà có phải chi thêm tiền" in html
    assert html.count("Chính quyền giải thích rõ ràng") == 1
    assert "<caption>Câu 4." in html


def test_results_page_with_no_data(survey: Survey, geography: Geography) -> None:
    results = compute_results(survey, [], "all", include_flagged=True)
    html = pages.render_results(survey, results, scope="all", geography=geography, include_flagged=True)
    assert '<p class="big">—</p>' in html
    assert '<option value="all" selected>Toàn quốc</option>' in html
    assert re.search(r'name="include_flagged" value="1" checked', html)


def test_receipt_home_reports_and_error_pages(survey: Survey) -> None:
    receipt = pages.render_receipt(
        survey, {"receipt": RESPONSE_ID, "received_at": "2026-06-01T07:05:00.123456Z", "status": "received"}
    )
    assert f"<strong>{RESPONSE_ID}</strong>" in receipt
    assert "14:05, 01/06/2026 (giờ Việt Nam)" in receipt
    assert "lưu lại mã phiếu" in receipt
    assert "<script" not in receipt
    assert "<header" not in pages.render_receipt(survey, {"receipt": RESPONSE_ID}, embed=True)

    home = pages.render_home([survey])
    assert '<a class="btn" href="/s/sipas-2026">' in home
    assert 'href="/s/sipas-2026/results"' in home
    assert 'href="/reports"' in home

    reports = pages.render_reports(
        [
            {
                "survey_id": "sipas-2026",
                "survey_version": "1",
                "generated": "2026-06-02T01:00:00Z",
                "files": [{"name": "bao cao.html", "key": "reports/sipas-2026/v1/x/bao cao&.html", "bytes": 123456}],
            }
        ]
    )
    assert 'href="/reports/file?key=reports%2Fsipas-2026%2Fv1%2Fx%2Fbao%20cao%26.html"' in reports
    assert "120,6 KB" in reports
    assert "Chưa có báo cáo" in pages.render_reports([])

    error = pages.render_error(404, "survey_not_found", "Không tìm thấy phiếu khảo sát.", "No such survey.")
    assert "<h1>Không tìm thấy phiếu khảo sát.</h1>" in error
    assert "404 survey_not_found" in error


# --- static assets -----------------------------------------------------------------------------
def test_static_assets_are_small_and_versioned() -> None:
    css = pages.static_file("site.css")
    js = pages.static_file("form.js")
    assert css
    assert js
    # the page-weight budget (bench/page_weight.py): what a phone downloads, gzipped
    assert len(gzip.compress(css[0])) < 4096
    assert len(gzip.compress(js[0])) < 8192
    assert css[1].startswith("text/css")
    assert js[1].startswith("text/javascript")
    assert pages.static_file("../pages.py") is None
    assert re.fullmatch(r"/static/form\.js\?v=[0-9a-f]{10}", pages.asset_url("form.js"))
    source = js[0].decode("utf-8")
    assert "eval(" not in source
    assert "innerHTML" not in source
    assert "http://" not in source
    assert "https://" not in source


def test_every_form_carries_the_personal_data_notice_with_the_retention_period():

    from chalicelib.domain.survey import Survey
    from chalicelib.reference.geography import load_geography
    from chalicelib.web.pages import render_survey_form
    from infra.local.seed import load_survey

    definition = load_survey()
    definition["retention_days"] = 180
    page = render_survey_form(
        Survey.from_definition(definition),
        load_geography(),
        response_id="01JAAAAAAAAAAAAAAAAAAAAAAA",
        started_at="2026-01-01T00:00:00Z",
    )
    assert "Thông báo về dữ liệu cá nhân" in page
    assert "180 ngày" in page
    assert "13/2023/NĐ-CP" in page


def test_results_name_their_version_and_link_the_earlier_ones(geography: Geography) -> None:
    from tests.shared.fakes import sipas_definition

    third = Survey.from_definition({**sipas_definition(), "version": 3})
    results = compute_results(third, [], "all", include_flagged=False)
    html = pages.render_results(third, results, scope="all", geography=geography, include_flagged=False)
    assert "Phiên bản 3 của phiếu: kết quả chỉ gồm các phiếu trả lời phiên bản này." in html
    links = re.findall(r'href="(/s/sipas-2026/results\?version=\d)"', html)
    assert links == ["/s/sipas-2026/results?version=2", "/s/sipas-2026/results?version=1"]
    assert 'name="version"' not in html  # the latest version is what the scope form shows by default
    pinned = pages.render_results(
        third, results, scope="all", geography=geography, include_flagged=False, version_pinned=True
    )
    assert '<input type="hidden" name="version" value="3">' in pinned
