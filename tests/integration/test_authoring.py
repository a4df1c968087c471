"""Survey authoring over the live stack: the officials' API and console, what the public sees, the audit log."""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from io import BytesIO
from typing import Any

from tests.integration.helpers import http
from tests.shared.authoring_forms import adhoc_xlsform, broken_xlsform

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def call(
    stack: Any, method: str, path: str, user: str, body: Any = None, content_type: str = "application/json"
) -> tuple[int, Any, dict[str, str]]:
    """An officials' API call with a bearer token; JSON answers decoded, a workbook as bytes."""
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    headers = {"Authorization": f"Bearer {stack.idp.issue(user)}", "Accept": "*/*"}
    if data is not None:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(f"{stack.api_url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, got = error.read(), error.code, dict(error.headers)
    if got.get("Content-Type", "").startswith("application/json"):
        return status, json.loads(raw or b"{}"), got
    return status, raw, got


def definition(survey_id: str, **changes: Any) -> dict[str, Any]:
    found = {
        "id": survey_id,
        "version": 1,
        "status": "draft",
        "kind": "consultation",
        "languages": ["vi", "en"],
        "methodology": {"id": "consultation", "version": "1"},
        "title": {"vi": "Lấy ý kiến dự thảo", "en": "Consultation on a draft"},
        "sections": [
            {
                "id": "y_kien",
                "title": {"vi": "Ý kiến", "en": "Opinion"},
                "questions": [
                    {
                        "id": "dong_y",
                        "type": "single_choice",
                        "required": True,
                        "text": {"vi": "Ông/Bà có đồng ý với dự thảo?", "en": "Do you agree with the draft?"},
                        "options": [
                            {"value": "1", "label": {"vi": "Đồng ý", "en": "Agree"}},
                            {"value": "2", "label": {"vi": "Không đồng ý", "en": "Disagree"}},
                        ],
                    }
                ],
            }
        ],
    }
    found.update(changes)
    return found


def submission(survey_id: str, version: int) -> dict[str, Any]:
    from ulid import ULID

    now = datetime.now(timezone.utc)
    return {
        "id": str(ULID()),
        "survey_version": version,
        "channel": "web",
        "province": "01",
        "answers": {"dong_y": "1"},
        "paradata": {
            "started_at": (now - timedelta(minutes=3)).isoformat().replace("+00:00", "Z"),
            "submitted_at": now.isoformat().replace("+00:00", "Z"),
        },
    }


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_a_survey_from_draft_to_its_second_version_as_the_public_and_the_audit_log_see_it(live_stack):
    api, survey_id = live_stack.api_url, _unique("lay-y-kien")
    # GIVEN a survey manager's draft with one English text missing
    incomplete = definition(survey_id)
    del incomplete["sections"][0]["questions"][0]["options"][1]["label"]["en"]
    status, created, _ = call(live_stack, "POST", "/admin/api/surveys", "khaosat", incomplete)
    assert status == 201, created
    assert (created["version"]["version"], created["version"]["status"]) == (1, "draft")
    # THEN the public does not see it, by id, by version or in the list
    assert http("GET", f"{api}/surveys/{survey_id}")[0] == 404
    assert http("GET", f"{api}/surveys/{survey_id}?version=1")[0] == 404
    assert survey_id not in [s["id"] for s in http("GET", f"{api}/surveys")[1]["surveys"]]
    assert http("POST", f"{api}/surveys/{survey_id}/responses", json.dumps(submission(survey_id, 1)).encode())[0] == 404
    # WHEN it is published, the missing language is refused, naming its place
    etag = created["version"]["etag"]
    path = f"/admin/api/surveys/{survey_id}/versions/1"
    status, refused, _ = call(live_stack, "POST", f"{path}/publish", "khaosat", {"etag": etag})
    assert status == 400 and refused["error"]["code"] == "missing_language"
    assert refused["error"]["field"] == "/sections/0/questions/0/options/1/label"
    # a stale etag is a conflict; the fixed draft replaces the old one and publishes
    status, saved, _ = call(live_stack, "PUT", path, "khaosat", {"etag": etag, "definition": definition(survey_id)})
    assert status == 200, saved
    assert call(live_stack, "PUT", path, "khaosat", {"etag": etag, "definition": definition(survey_id)})[0] == 409
    status, published, _ = call(live_stack, "POST", f"{path}/publish", "khaosat", {"etag": saved["version"]["etag"]})
    assert status == 200 and published["version"]["status"] == "published" and published["version"]["accepting"]
    status, contract = http("GET", f"{api}/surveys/{survey_id}")
    assert status == 200 and contract["survey"]["version"] == 1 and contract["open"]
    assert http("POST", f"{api}/surveys/{survey_id}/responses", json.dumps(submission(survey_id, 1)).encode())[0] == 201
    # a published version is immutable
    again = {"etag": published["version"]["etag"], "definition": definition(survey_id)}
    status, immutable, _ = call(live_stack, "PUT", path, "khaosat", again)
    assert status == 409 and immutable["error"]["code"] == "version_not_draft"

    # WHEN version 2 starts as a copy and is published
    status, v2, _ = call(live_stack, "POST", f"/admin/api/surveys/{survey_id}/versions", "khaosat", {"from_version": 1})
    assert status == 201 and v2["version"]["version"] == 2
    assert http("GET", f"{api}/surveys/{survey_id}")[1]["survey"]["version"] == 1  # the draft stays hidden
    v2_path = f"/admin/api/surveys/{survey_id}/versions/2"
    status, _, _ = call(
        live_stack, "POST", f"{v2_path}/publish", "khaosat", {"etag": v2["version"]["etag"], "grace_hours": 2}
    )
    assert status == 200
    # THEN the public sees version 2, and a form of version 1 still open in a browser can be sent (grace period)
    assert http("GET", f"{api}/surveys/{survey_id}")[1]["survey"]["version"] == 2
    status, receipt = http(
        "POST", f"{api}/surveys/{survey_id}/responses", json.dumps(submission(survey_id, 1)).encode()
    )
    assert status == 201, receipt
    status, overview, _ = call(live_stack, "GET", f"/admin/api/surveys/{survey_id}", "khaosat")
    v1 = overview["versions"][0]
    assert v1["superseded_by"] == 2 and v1["accepting"]
    closes = datetime.fromisoformat(v1["closes_at"].replace("Z", "+00:00"))
    assert timedelta(hours=1) < closes - datetime.now(timezone.utc) <= timedelta(hours=2)
    assert overview["current_version"] == 2

    # WHEN version 2 closes, the public still reads it but it takes no answers
    v2_now = overview["versions"][1]
    status, closed, _ = call(
        live_stack,
        "POST",
        f"{v2_path}/close",
        "khaosat",
        {"etag": v2_now["etag"], "reason": "Hết thời gian lấy ý kiến"},
    )
    assert status == 200 and closed["version"]["status"] == "closed"
    assert http("GET", f"{api}/surveys/{survey_id}")[1]["open"] is False

    # AND every change is in the audit log, in order, by the survey manager
    status, page, _ = call(live_stack, "GET", "/admin/api/audit?limit=500", "admin")
    mine = [e for e in page["entries"] if e["target_id"] == survey_id]
    assert [e["action"] for e in mine] == [
        "survey.create",
        "survey.edit",
        "survey.publish",
        "survey.new_version",
        "survey.publish",
        "survey.close",
    ]
    assert {e["actor"]["role"] for e in mine} == {"survey_manager"}
    assert mine[-1]["reason"] == "Hết thời gian lấy ý kiến"


def test_an_xlsform_is_imported_scheduled_and_exported_again(live_stack):
    from chalicelib.domain.xlsform import read_xlsform

    survey_id = _unique("dvc-hanoi")  # created by the Ministry's survey manager: any name
    status, created, _ = call(live_stack, "POST", "/admin/api/surveys", "khaosat", adhoc_xlsform(survey_id), XLSX)
    assert status == 201, created
    assert created["definition"]["owner_agency"] == "P01" and created["definition"]["languages"] == ["vi", "en"]
    path = f"/admin/api/surveys/{survey_id}/versions/1"
    window = {
        "etag": created["version"]["etag"],
        "opens_at": "2030-01-01T08:00:00+07:00",
        "closes_at": "2029-12-01T00:00:00Z",
    }
    status, refused, _ = call(live_stack, "PUT", f"{path}/schedule", "khaosat", window)
    assert status == 400 and refused["error"]["field"] == "/closes_at"
    window["closes_at"] = "2030-02-01T00:00:00Z"
    status, scheduled, _ = call(live_stack, "PUT", f"{path}/schedule", "khaosat", window)
    assert status == 200 and scheduled["definition"]["opens_at"] == "2030-01-01T08:00:00+07:00"
    status, published, _ = call(
        live_stack, "POST", f"{path}/publish", "khaosat", {"etag": scheduled["version"]["etag"]}
    )
    assert status == 200 and not published["version"]["accepting"]  # published, but it opens in 2030
    assert http("POST", f"{live_stack.api_url}/surveys/{survey_id}/responses", b"{}")[0] in (400, 403)
    status, workbook, headers = call(live_stack, "GET", f"{path}/xlsform", "khaosat")
    assert status == 200 and headers["Content-Type"] == XLSX and workbook[:2] == b"PK"
    again = read_xlsform(workbook)
    assert [q["id"] for q in again["sections"][0]["questions"]] == ["tinh", "xa", "da_dung", "hai_long", "gop_y"]
    assert again["sections"][0]["questions"][1]["choice_filter"].replace(" ", "") == "tinh=${tinh}"
    # an XLSForm with mistakes: each problem with its sheet, row and column, nothing stored
    status, bad, _ = call(live_stack, "POST", "/admin/api/surveys", "khaosat", broken_xlsform(), XLSX)
    assert status == 422 and bad["error"]["code"] == "invalid_xlsform"
    assert {(d["sheet"], d["row"], d["column"]) for d in bad["error"]["details"]} >= {
        ("survey", 2, "type"),
        ("survey", 3, "type"),
    }
    assert call(live_stack, "GET", "/admin/api/surveys/loi-xlsform-2026", "khaosat")[0] == 404


def test_an_agency_editor_manages_only_its_own_agencys_ad_hoc_surveys(live_stack):
    own, other = _unique("p01-dvc"), _unique("p79-dvc")
    status, created, _ = call(
        live_stack, "POST", "/admin/api/surveys", "bientap.hanoi", adhoc_xlsform(own, "P01"), XLSX
    )
    assert status == 201, created
    assert call(live_stack, "POST", "/admin/api/surveys", "bientap.hanoi", adhoc_xlsform(other, "P79"), XLSX)[0] == 403
    regular = definition(_unique("quoc-gia"), kind="regular")
    assert call(live_stack, "POST", "/admin/api/surveys", "bientap.hanoi", regular)[0] == 403
    status, made, _ = call(live_stack, "POST", "/admin/api/surveys", "khaosat", adhoc_xlsform(other, "P79"), XLSX)
    assert status == 201
    for survey_id in ("sipas-2026", other):  # a national survey, another agency's survey
        assert call(live_stack, "GET", f"/admin/api/surveys/{survey_id}", "bientap.hanoi")[0] == 403
        assert call(live_stack, "GET", f"/admin/api/surveys/{survey_id}/versions/1/xlsform", "bientap.hanoi")[0] == 403
    etag = made["version"]["etag"]
    assert (
        call(live_stack, "POST", f"/admin/api/surveys/{other}/versions/1/publish", "bientap.hanoi", {"etag": etag})[0]
        == 403
    )
    # its own: it publishes it, and cannot hand it to another agency
    path = f"/admin/api/surveys/{own}/versions/1"
    status, published, _ = call(
        live_stack, "POST", f"{path}/publish", "bientap.hanoi", {"etag": created["version"]["etag"]}
    )
    assert status == 200, published
    status, v2, _ = call(live_stack, "POST", f"/admin/api/surveys/{own}/versions", "bientap.hanoi", {"from_version": 1})
    moved = copy.deepcopy(v2["definition"])
    moved["owner_agency"] = "P79"
    body = {"etag": v2["version"]["etag"], "definition": moved}
    assert call(live_stack, "PUT", f"/admin/api/surveys/{own}/versions/2", "bientap.hanoi", body)[0] == 403
    listed = [s["id"] for s in call(live_stack, "GET", "/admin/api/surveys", "bientap.hanoi")[1]["surveys"]]
    assert own in listed and other not in listed and "sipas-2026" not in listed
    everything = [s["id"] for s in call(live_stack, "GET", "/admin/api/surveys", "khaosat")[1]["surveys"]]
    assert {own, other, "sipas-2026"} <= set(everything)
    assert call(live_stack, "GET", "/admin/api/surveys", "phantich.hue")[0] == 403


# --- the console ----------------------------------------------------------------------------------
def _page(
    stack: Any, method: str, path: str, user: str, form: Any = None, files: Any = None
) -> tuple[int, str, dict[str, str]]:
    from chalicelib.api.session import SESSION_COOKIE, csrf_token

    token = stack.idp.issue(user)
    headers = {"Cookie": f"{SESSION_COOKIE}={token}", "Accept": "*/*"}
    data = None
    if method == "POST":
        fields = {"csrf": csrf_token(token), **(form or {})}
        if files:
            boundary = uuid.uuid4().hex
            out = BytesIO()
            for name, value in fields.items():
                out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
            for name, (filename, content) in files.items():
                out.write(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: {XLSX}\r\n\r\n".encode()
                )
                out.write(content + b"\r\n")
            out.write(f"--{boundary}--\r\n".encode())
            data, headers["Content-Type"] = out.getvalue(), f"multipart/form-data; boundary={boundary}"
        else:
            data = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    request = urllib.request.Request(f"{stack.api_url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace"), dict(error.headers)


def test_the_console_uploads_previews_publishes_and_shows_located_errors(live_stack):
    survey_id = _unique("p01-bang-dieu-khien")
    # an XLSForm with mistakes: the page shows a table of them, by sheet, row and column
    status, page, _ = _page(
        live_stack, "POST", "/admin/surveys", "bientap.hanoi", files={"xlsform": ("loi.xlsx", broken_xlsform())}
    )
    assert status == 422
    assert 'id="xlsform-problems"' in page and '<td>survey</td><td class="num">3</td><td>type</td>' in page
    # the good one becomes a draft
    files = {"xlsform": ("khao-sat.xlsx", adhoc_xlsform(survey_id))}
    status, _, headers = _page(live_stack, "POST", "/admin/surveys", "bientap.hanoi", files=files)
    assert status == 303 and headers["Location"] == f"/admin/surveys/{survey_id}?saved=1"
    status, page, _ = _page(live_stack, "GET", f"/admin/surveys/{survey_id}", "bientap.hanoi")
    assert status == 200 and "Nháp" in page and 'id="publish-form"' in page
    status, listing, _ = _page(live_stack, "GET", "/admin/surveys", "bientap.hanoi")
    assert survey_id in listing and "sipas-2026" not in listing
    # the preview is the citizens' form, with a banner and no sending
    status, preview, _ = _page(live_stack, "GET", f"/admin/surveys/{survey_id}/versions/1/preview", "bientap.hanoi")
    assert status == 200 and "Xem trước" in preview and 'id="survey"' in preview
    assert "Gửi phiếu</button>" in preview and " disabled>Gửi phiếu" in preview
    assert "Tỉnh/thành phố nơi làm thủ tục" in preview
    # a form without its CSRF token changes nothing
    from chalicelib import wiring

    page_path = f"/admin/surveys/{survey_id}"
    publish = {"action": "publish", "version": "1", "etag": wiring.surveys().versions(survey_id)[0].etag}
    assert _page(live_stack, "POST", page_path, "bientap.hanoi", {**publish, "csrf": "forged"})[0] == 403
    assert _page(live_stack, "POST", page_path, "bientap.hanoi", publish)[0] == 303
    assert http("GET", f"{live_stack.api_url}/surveys/{survey_id}")[0] == 200
    status, _, headers = _page(live_stack, "GET", f"{page_path}/versions/1/xlsform", "bientap.hanoi")
    assert status == 200 and headers["Content-Type"] == XLSX
    # the console's menu and dashboard lead to the surveys for those who manage them only
    assert 'href="/admin/surveys"' in _page(live_stack, "GET", "/admin", "bientap.hanoi")[1]
    assert 'href="/admin/surveys"' not in _page(live_stack, "GET", "/admin", "phantich.hue")[1]
