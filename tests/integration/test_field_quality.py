"""Re-check (phúc tra), enumerator risk and coding of open answers over the live stack.

Interviews: the seeded enumerator's through the real path (device, POST /field/api/visits, the stream into
the responses table), and four more enumerators' written as stored field responses (the seeded accounts
have one enumerator; the risk needs peers). Then the routes, as a province's manager and the Ministry.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ulid import ULID

from tests.integration.helpers import fresh_submissions, table_items
from tests.integration.test_authoring import _page, call
from tests.integration.test_fieldwork import ENUMERATOR, device_call, link, visit
from tests.integration.test_sampling import YEAR, ensure_sample

SURVEY = "sipas-2026"
RECHECKS = f"/admin/api/fieldwork/rechecks/{SURVEY}/1"
CODING = f"/admin/api/coding/{SURVEY}/1/q10_other"
PEERS = [f"dtv.thu{i}" for i in range(1, 5)]
TEXTS = ["Cần giảm bớt thủ tục giấy tờ", "Cán bộ nhiệt tình, chu đáo", "Thu tuc con rườm rà", "Không có ý kiến"]
WORLD: dict[str, Any] = {}


def interviews(stack: Any, sipas: dict[str, Any]) -> dict[str, Any]:
    """Once per session: 4 real interviews of the seeded enumerator and 10 stored ones for each of 4 peers."""
    if WORLD:
        return WORLD
    from chalicelib import wiring
    from chalicelib.domain.clock import stamp
    from chalicelib.domain.responses import Response

    sample_id, assignment = own_sample(stack)
    village = assignment["villages"][1]
    slots = [h for h in village["households"] if h["replacement"] == 0][:4]
    token = link(stack)
    real = []
    for i, (slot, submission) in enumerate(zip(slots, fresh_submissions(sipas, len(slots)), strict=True)):
        answers = {**submission["answers"], "q10_other": TEXTS[i % len(TEXTS)]}
        body = visit(sample_id, slot, village, "completed", answers)
        status, receipt = device_call(stack, "POST", "/field/api/visits", token, body)
        assert status == 201, receipt
        real.append(body["id"])
    stored = []
    now = stamp(datetime.now(timezone.utc))
    for e, enumerator in enumerate(PEERS):
        for i, submission in enumerate(fresh_submissions(sipas, 10)):
            response_id = str(ULID())
            answers = {**submission["answers"], "q10_other": TEXTS[(e + i) % len(TEXTS)]}
            wiring.responses().create(
                Response(
                    response_id=response_id,
                    survey_id=SURVEY,
                    survey_version=1,
                    status="accepted",
                    answers=answers,
                    channel="field",
                    province="01",
                    commune=village["commune_code"],
                    paradata={
                        "started_at": "2026-11-30T02:00:00.000Z",
                        "ended_at": "2026-11-30T02:14:00.000Z",
                        "duration_ms": 812_000 + 1000 * i,
                        "question_ms": {"q1": 5300},
                        "enumerator": enumerator,
                    },
                    received_at=now,
                    collection={
                        "kind": "field",
                        "enumerator": enumerator,
                        "household_id": f"{village['commune_code']}-{village['village_code']}-{100 + 10 * e + i}",
                        "commune_code": village["commune_code"],
                        "village_code": village["village_code"],
                    },
                )
            )
            stored.append(response_id)
    stack.drain()
    WORLD.update(real=real, stored=stored)
    return WORLD


def own_sample(stack: Any) -> tuple[str, dict[str, Any]]:
    """A sample of this module's own (from the shared sample's frame), so its visits leave the shared
    sample's progress counters (tests/integration/test_fieldwork.py) as they were; the enumerator assigned
    to two of its villages."""
    status, shared, _ = call(stack, "GET", f"/admin/api/sampling/{YEAR}/samples/{ensure_sample(stack)}", "admin")
    assert status == 200, shared
    design = {"frame_id": shared["frame_id"], "communes": 2, "seed": 77}
    status, drawn, _ = call(stack, "POST", f"/admin/api/sampling/{YEAR}/samples", "admin", design)
    assert status == 201, drawn
    status, sample, _ = call(stack, "GET", f"/admin/api/sampling/{YEAR}/samples/{drawn['sample_id']}", "admin")
    villages = [{k: v[k] for k in ("commune_code", "village_code")} for v in sample["units"]["villages"][:2]]
    path = f"/admin/api/fieldwork/{YEAR}/{drawn['sample_id']}/assignments/{ENUMERATOR}"
    status, assignment, _ = call(stack, "PUT", path, "quantri.hanoi", {"survey_id": SURVEY, "villages": villages})
    assert status == 200, assignment
    return drawn["sample_id"], assignment


def stored_answers(stack: Any, response_ids: list[str]) -> dict[str, Any]:
    wanted = set(response_ids)
    return {
        r["response_id"]["S"]: r["answers"]
        for r in table_items(stack, "ResponsesTable")
        if r["response_id"]["S"] in wanted
    }


def test_rechecks_rank_the_enumerator_whose_household_was_never_interviewed_first(live_stack, sipas):
    world = interviews(live_stack, sipas)
    before = stored_answers(live_stack, world["real"] + world["stored"])
    assert set(before) == set(world["real"] + world["stored"])

    # the form: the Ministry's alone; a province's manager is refused, a non-closed question too
    status, error, _ = call(live_stack, "PUT", RECHECKS + "/form", "quantri.hanoi", {"questions": ["a_sex"]})
    assert status == 403, error
    status, error, _ = call(live_stack, "PUT", RECHECKS + "/form", "admin", {"questions": ["q10_other"]})
    assert status == 400 and error["error"]["field"] == "questions", error
    status, form, _ = call(live_stack, "PUT", RECHECKS + "/form", "admin", {"questions": ["a_sex", "a_age"]})
    assert status == 200 and form["questions"] == ["a_sex", "a_age"], form

    # Hà Nội's manager draws 20% of each enumerator's interviews (at least one each)
    status, error, _ = call(live_stack, "POST", RECHECKS + "/draws", "quantri.hanoi", {"rate": 2, "seed": "x"})
    assert status == 400 and error["error"]["code"] == "invalid_request"
    status, drawn, _ = call(live_stack, "POST", RECHECKS + "/draws", "quantri.hanoi", {"rate": 0.2, "seed": "t-1"})
    assert status == 200 and drawn["province"] == "01", drawn
    by_enumerator: dict[str, list[str]] = {}
    for d in drawn["draws"]:
        by_enumerator.setdefault(d["enumerator"], []).append(d["response_id"])
    assert set(PEERS) <= set(by_enumerator) and ENUMERATOR in by_enumerator
    assert all(len(by_enumerator[p]) >= 2 for p in PEERS)  # ceil(0.2 x 10) (other tests' draws may add some)
    # the same draw again keeps what was drawn
    status, again, _ = call(live_stack, "POST", RECHECKS + "/draws", "admin", {"rate": 0.2, "seed": "t-1"})
    assert status == 200 and {d["response_id"] for d in drawn["draws"]} <= {d["response_id"] for d in again["draws"]}

    # a peer's household answers otherwise; the seeded enumerator's household says nobody came
    peer_id = by_enumerator[PEERS[0]][0]
    original = next(v["M"] for k, v in before.items() if k == peer_id)
    other_sex = "1" if original["a_sex"]["S"] == "2" else "2"
    answers = {"interview_happened": "yes", "a_sex": other_sex, "a_age": original["a_age"]["S"]}
    status, result, _ = call(live_stack, "POST", f"{RECHECKS}/results/{peer_id}", "quantri.hanoi", {"answers": answers})
    assert status == 201, result
    assert result["agreement"] == {"a_sex": False, "a_age": True} and result["disagreement_rate"] == 0.5
    assert result["differences"]["a_sex"] == {"original": original["a_sex"]["S"], "recheck": other_sex}
    mine = by_enumerator[ENUMERATOR][0]
    body = {"answers": {"interview_happened": "no"}}
    status, result, _ = call(live_stack, "POST", f"{RECHECKS}/results/{mine}", "quantri.hanoi", body)
    assert status == 201 and result["not_happened"] and result["disagreement_rate"] == 1.0, result
    # a question the form does not ask, an interview never drawn
    bad = {"answers": {"a_ethnicity": "1"}}
    status, error, _ = call(live_stack, "POST", f"{RECHECKS}/results/{mine}", "quantri.hanoi", bad)
    assert status == 400 and error["error"]["field"] == "answers"
    undrawn = next(r for r in world["stored"] if r not in {d["response_id"] for d in again["draws"]})
    status, error, _ = call(live_stack, "POST", f"{RECHECKS}/results/{undrawn}", "admin", body)
    assert status == 404 and error["error"]["code"] == "recheck_not_drawn"

    status, risk, _ = call(live_stack, "GET", f"/admin/api/fieldwork/risk/{SURVEY}/1", "admin")
    assert status == 200, risk
    top = risk["enumerators"][0]
    assert top["enumerator"] == ENUMERATOR and top["rank"] == 1 and top["top_decile"] and top["flagged"], top
    reason = next(r for r in top["reasons"] if r["code"] == "recheck_not_happened")
    assert reason["strong"] and "phúc tra" in reason["text_vi"].lower() and reason["text_en"]
    status, local, _ = call(live_stack, "GET", f"/admin/api/fieldwork/risk/{SURVEY}/1", "quantri.hanoi")
    assert status == 200 and local["province"] == "01" and local["enumerators"][0]["enumerator"] == ENUMERATOR
    # the Ministry narrows its view to one province; a province's manager cannot look at another's
    status, narrowed, _ = call(live_stack, "GET", f"/admin/api/fieldwork/risk/{SURVEY}/1?province=01", "admin")
    assert status == 200 and narrowed["province"] == "01" and narrowed["enumerators"] == local["enumerators"]
    status, elsewhere, _ = call(live_stack, "GET", f"/admin/api/fieldwork/risk/{SURVEY}/1?province=99", "admin")
    assert status == 200 and elsewhere["enumerators"] == []
    status, _, _ = call(live_stack, "GET", f"/admin/api/fieldwork/risk/{SURVEY}/1?province=46", "quantri.hanoi")
    assert status == 403

    status, listed, _ = call(live_stack, "GET", RECHECKS, "quantri.hanoi")
    assert status == 200 and listed["form"]["questions"] == ["a_sex", "a_age"]
    assert {r["response_id"] for r in listed["results"]} >= {peer_id, mine}
    assert [q["id"] for q in listed["questions"]] == ["interview_happened", "interview_duration", "a_sex", "a_age"]
    status, _, _ = call(live_stack, "GET", RECHECKS, "phantich.hue")  # no fieldwork grant
    assert status == 403

    # the interviews themselves are untouched, and every change is in the audit log
    assert stored_answers(live_stack, world["real"] + world["stored"]) == before
    actions = [e["action"]["S"] for e in table_items(live_stack, "AuditTable") if "action" in e]
    assert {"recheck.form", "recheck.draw", "recheck.record"} <= set(actions)


def test_the_console_risk_page_draws_and_records_a_recheck(live_stack, sipas):
    interviews(live_stack, sipas)
    base = f"/admin/fieldwork/risk?survey_id={SURVEY}&version=1"
    status, page, _ = _page(live_stack, "GET", base, "quantri.hanoi")
    assert status == 200 and 'id="risk-table"' in page and ENUMERATOR in page
    assert 'id="recheck-form"' in page and 'name="question"' not in page  # the form is the Ministry's
    form = {"survey_id": SURVEY, "version": "1", "action": "draw", "rate_percent": "10", "seed": "console-1"}
    status, _, headers = _page(live_stack, "POST", "/admin/fieldwork/risk", "quantri.hanoi", form)
    assert status == 303 and headers["Location"].endswith("&done=drawn"), headers
    status, page, _ = _page(live_stack, "POST", "/admin/fieldwork/risk", "quantri.hanoi", {**form, "seed": "có dấu"})
    assert status == 400 and "Giá trị chưa hợp lệ" in page

    status, listed, _ = call(live_stack, "GET", RECHECKS, "quantri.hanoi")
    target = next(d for d in listed["draws"] if d["enumerator"] == PEERS[1])
    status, page, _ = _page(live_stack, "GET", f"{base}&response_id={target['response_id']}", "quantri.hanoi")
    assert status == 200 and 'id="recheck-entry"' in page and 'type="radio"' in page and 'name="a_a_sex"' in page
    entry = {
        "survey_id": SURVEY,
        "version": "1",
        "action": "recheck",
        "response_id": target["response_id"],
        "a_interview_happened": "yes",
        "a_interview_duration": "10_20",
        "a_a_sex": "1",
    }
    status, _, headers = _page(live_stack, "POST", "/admin/fieldwork/risk", "quantri.hanoi", entry)
    assert status == 303 and "done=recheck" in headers["Location"], headers
    status, page, _ = _page(live_stack, "GET", headers["Location"].split("#")[0], "quantri.hanoi")
    assert status == 200 and 'id="comparison"' in page and 'id="agreement-table"' in page
    assert "a_sex" in page and ("Khớp" in page)
    nav = _page(live_stack, "GET", "/admin", "quantri.hanoi")[1]
    assert 'href="/admin/fieldwork/risk"' in nav and 'href="/admin/coding"' not in nav


def test_coding_keeps_every_change_with_who_and_why_beside_the_answers(live_stack, sipas):
    world = interviews(live_stack, sipas)
    ids = world["real"] + world["stored"]
    before = stored_answers(live_stack, ids)
    frame = {
        "categories": [
            {"code": "thu-tuc", "label_vi": "Thủ tục hành chính", "label_en": "Procedures", "keywords": ["thủ tục"]},
            {"code": "can-bo", "label_vi": "Cán bộ", "label_en": "Officials", "keywords": ["cán bộ"]},
            {"code": "khong", "label_vi": "Không có ý kiến", "label_en": "No opinion"},
        ]
    }
    status, saved, _ = call(live_stack, "PUT", CODING + "/frame", "khaosat", frame)
    assert status == 200 and saved["survey_key"] == f"{SURVEY}#1", saved
    status, error, _ = call(live_stack, "PUT", f"/admin/api/coding/{SURVEY}/1/a_sex/frame", "khaosat", frame)
    assert status == 404 and error["error"]["code"] == "question_not_found"

    rule = {"code": "thu-tuc", "keywords": ["thủ tục"]}
    status, error, _ = call(live_stack, "POST", CODING + "/apply", "khaosat", rule)
    assert status == 400 and error["error"]["field"] == "/why"  # a reason is required
    status, applied, _ = call(live_stack, "POST", CODING + "/apply", "khaosat", {**rule, "why": "từ khóa thủ tục"})
    assert status == 200, applied
    coded = {c["response_id"] for c in applied["changes"]}
    expected = {rid for rid in ids if "thu tuc" in _folded(before[rid]["M"]["q10_other"]["S"])}
    assert expected and expected <= coded  # accents and case do not matter ("Thu tuc con rườm rà")
    assert all(c["who"] == "khaosat" and c["why"] == "từ khóa thủ tục" for c in applied["changes"])

    one = min(expected)
    recode = {"code": "can-bo", "why": "đọc lại: nói về thái độ cán bộ"}
    status, change, _ = call(live_stack, "POST", f"{CODING}/answers/{one}", "khaosat", recode)
    assert status == 201 and change["before"] == "thu-tuc" and change["after"] == "can-bo", change
    status, error, _ = call(live_stack, "POST", f"{CODING}/answers/{one}", "khaosat", {"code": "x-y", "why": "z"})
    assert status == 400 and error["error"]["code"] == "invalid_coding"

    status, coding, _ = call(live_stack, "GET", CODING, "khaosat")
    assert status == 200 and coding["frame"]["categories"][0]["code"] == "thu-tuc"
    row = next(a for a in coding["answers"] if a["response_id"] == one)
    assert row["code"] == "can-bo" and row["text"] == before[one]["M"]["q10_other"]["S"]
    assert [(c["after"], c["why"]) for c in row["changes"]][-2:] == [
        ("thu-tuc", "từ khóa thủ tục"),
        ("can-bo", "đọc lại: nói về thái độ cán bộ"),
    ]
    assert coding["counts"]["can-bo"] >= 1

    # the answers as stored never change; an analyst of a province has no national grant
    assert stored_answers(live_stack, ids) == before
    status, _, _ = call(live_stack, "GET", CODING, "phantich.hue")
    assert status == 403
    actions = [e["action"]["S"] for e in table_items(live_stack, "AuditTable") if "action" in e]
    assert {"coding.frame", "coding.apply", "coding.recode"} <= set(actions)

    # the console page: the answers with their history, a recode with a reason
    base = f"/admin/coding?survey_id={SURVEY}&version=1&question=q10_other"
    status, page, _ = _page(live_stack, "GET", base, "khaosat")
    assert status == 200 and 'id="answers-table"' in page and "đọc lại: nói về thái độ cán bộ" in page
    form = {"survey_id": SURVEY, "version": "1", "question": "q10_other", "action": "recode", "response_id": one}
    status, page, _ = _page(live_stack, "POST", "/admin/coding", "khaosat", {**form, "code": "khong", "why": ""})
    assert status == 400
    status, _, headers = _page(live_stack, "POST", "/admin/coding", "khaosat", {**form, "code": "khong", "why": "sai"})
    assert status == 303 and headers["Location"].endswith("&done=recoded")
    status, _, _ = _page(live_stack, "GET", base, "phantich.hue")
    assert status == 403


def _folded(text: str) -> str:
    from chalicelib.domain.coding import fold

    return fold(text)
