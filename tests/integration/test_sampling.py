"""Sampling over the live stack: a frame uploaded, a sample drawn, read and downloaded; a bad frame refused."""

from __future__ import annotations

import csv
import io
from typing import Any

from chalicelib.reference.geography import load_geography
from tests.integration.test_authoring import XLSX, call
from tests.shared.sampling_frames import frame_csv, frame_rows

YEAR = 2026
BASE = f"/admin/api/sampling/{YEAR}"
_SAMPLE: dict[str, str] = {}


def two_provinces() -> list[str]:
    return [p.code for p in load_geography("vn-2025").provinces[:2]]


def ensure_sample(stack: Any) -> str:
    """One sample of the year (drawn once per stack) for the routes that name one (the permission walk too)."""
    if "id" not in _SAMPLE:
        rows = frame_rows(load_geography("vn-2025"), seed=5, provinces=two_provinces()[:1])
        status, frame, _ = call(stack, "POST", f"{BASE}/frames", "admin", frame_csv(rows), "text/csv")
        assert status == 201, frame
        status, drawn, _ = call(stack, "POST", f"{BASE}/samples", "admin", {"communes": 2, "seed": 1})
        assert status == 201, drawn
        _SAMPLE["id"] = drawn["sample_id"]
    return _SAMPLE["id"]


def test_a_frame_for_two_provinces_is_drawn_from_and_downloaded_with_weights(live_stack):
    provinces = two_provinces()
    rows = frame_rows(load_geography("vn-2025"), seed=11, provinces=provinces)
    path = f"{BASE}/frames?filename=khung-mau.csv"
    status, frame, _ = call(live_stack, "POST", path, "khaosat", frame_csv(rows), "text/csv")
    assert status == 201, frame
    assert frame["provinces"] == 2 and frame["villages"] == len(rows) and frame["filename"] == "khung-mau.csv"

    design = {
        "frame_id": frame["frame_id"],
        "communes": 3,
        "villages_per_commune": 2,
        "households_per_village": 8,
        "replacements": 3,
    }
    status, drawn, _ = call(live_stack, "POST", f"{BASE}/samples", "khaosat", design)
    assert status == 201, drawn
    assert drawn["provinces"] == provinces and drawn["communes"] == 6 and drawn["households"] == 6 * 2 * 8
    assert isinstance(drawn["seed"], int)  # generated and recorded

    status, listed, _ = call(live_stack, "GET", BASE, "khaosat")
    assert status == 200 and drawn["sample_id"] in [s["sample_id"] for s in listed["samples"]]
    status, read, _ = call(live_stack, "GET", f"{BASE}/samples/{drawn['sample_id']}", "khaosat")
    assert status == 200 and read["units"] == drawn["units"] and read["seed"] == drawn["seed"]

    status, data, headers = call(live_stack, "GET", f"{BASE}/samples/{drawn['sample_id']}/export", "khaosat")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, body = lines[0], lines[1:]
    assert len(body) == len(drawn["units"]["households"]) == 6 * 2 * (8 + 3)
    pi, weight = (
        header.index("Xác suất chọn π (inclusion probability)"),
        header.index("Trọng số thiết kế (design weight)"),
    )
    for line in body:
        assert float(line[pi]) > 0
        assert abs(float(line[weight]) - 1 / float(line[pi])) <= 1e-3 * float(line[weight])

    status, workbook, headers = call(
        live_stack, "GET", f"{BASE}/samples/{drawn['sample_id']}/export?format=xlsx", "khaosat"
    )
    assert status == 200 and headers["Content-Type"] == XLSX and workbook[:2] == b"PK"

    # the same seed again: a new, identical sample (a drawn one is never changed)
    status, again, _ = call(live_stack, "POST", f"{BASE}/samples", "khaosat", {**design, "seed": drawn["seed"]})
    assert status == 201 and again["sample_id"] != drawn["sample_id"] and again["units"] == drawn["units"]

    # both writes are in the audit log
    status, audit, _ = call(live_stack, "GET", "/admin/api/audit.csv", "admin")
    logged = {(row["action"], row["target_id"]) for row in csv.DictReader(io.StringIO(audit.decode("utf-8-sig")))}
    assert ("sampling.frame_upload", frame["frame_id"]) in logged and ("sampling.draw", drawn["sample_id"]) in logged


def test_a_bad_frame_is_refused_naming_row_and_column(live_stack):
    rows = frame_rows(load_geography("vn-2025"), seed=12, provinces=two_provinces()[:1])
    rows[2][1] = "99999"  # a commune that does not exist (line 4 of the file)
    rows[6][4] = "nhiều"  # not a number (line 8)
    status, refused, _ = call(live_stack, "POST", f"{BASE}/frames", "khaosat", frame_csv(rows), "text/csv")
    assert status == 422 and refused["error"]["code"] == "invalid_sampling_frame"
    located = {(d["row"], d["column"]) for d in refused["error"]["details"]}
    assert {(4, "commune_code"), (8, "households")} <= located
    status, _, _ = call(live_stack, "POST", f"{BASE}/frames", "khaosat", b"{}", "application/json")
    assert status == 415


def test_only_national_sampling_roles_may(live_stack):
    sample_id = ensure_sample(live_stack)
    assert call(live_stack, "GET", f"{BASE}/samples/{sample_id}", "phantich.hue")[0] == 403
    assert call(live_stack, "GET", f"{BASE}/samples/{sample_id}", "admin")[0] == 200
    assert call(live_stack, "GET", f"{BASE}/samples/{'0' * 26}", "admin")[0] == 404


def test_the_console_page_uploads_shows_located_errors_draws_and_links_downloads(live_stack):
    from tests.integration.test_authoring import _page

    rows = frame_rows(load_geography("vn-2025"), seed=13, provinces=two_provinces()[1:])
    bad = [list(r) for r in rows]
    bad[0][0] = "98"  # no such province (line 2)
    files = {"frame": ("khung-loi.csv", frame_csv(bad))}
    status, page, _ = _page(
        live_stack, "POST", "/admin/sampling", "khaosat", {"year": "2027", "action": "upload"}, files
    )
    assert status == 422 and 'id="frame-problems"' in page
    assert '<td class="num">2</td><td><code>province_code</code></td>' in page
    files = {"frame": ("khung.csv", frame_csv(rows))}
    status, _, headers = _page(
        live_stack, "POST", "/admin/sampling", "khaosat", {"year": "2027", "action": "upload"}, files
    )
    assert status == 303 and headers["Location"] == "/admin/sampling?year=2027&done=frame"
    draw = {"year": "2027", "action": "draw", "size_kind": "households", "size": "40", "seed": "9"}
    status, _, headers = _page(live_stack, "POST", "/admin/sampling", "khaosat", draw)
    assert status == 303 and headers["Location"] == "/admin/sampling?year=2027&done=sample"
    status, page, _ = _page(live_stack, "GET", "/admin/sampling?year=2027&done=sample", "khaosat")
    assert status == 200 and "Đã chọn mẫu mới." in page and "khung.csv" in page
    sample_id = call(live_stack, "GET", "/admin/api/sampling/2027", "khaosat")[1]["samples"][0]["sample_id"]
    link = f"/admin/sampling/2027/samples/{sample_id}/export?format=csv"
    assert link in page
    status, data, headers = _page(live_stack, "GET", link, "khaosat")
    assert status == 200 and headers["Content-Type"].startswith("text/csv") and "Trọng số thiết kế" in data
    assert 'href="/admin/sampling"' in _page(live_stack, "GET", "/admin", "khaosat")[1]
    assert 'href="/admin/sampling"' not in _page(live_stack, "GET", "/admin", "phantich.hue")[1]
