"""The enumerators' offline field app in Chromium on a phone-sized screen, with the network really cut.

GIVEN an enumerator assigned to sampled villages, WHEN they link a phone, download, and work with no network
(the browser's offline switch AND every request aborted, the service worker's own included), THEN interviews,
refusals and an interview interrupted by closing the app are all kept, the unsent count says so, and once the
network is back every visit is stored exactly once, a resend after a lost answer included. A second test: 1,000
queued visits survive an app update (a new service worker) and a reload.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.domain.sampling import adult_to_interview
from tests.e2e.conftest import open_page
from tests.e2e.test_accessibility import _problems
from tests.integration.helpers import fresh_submissions, table_items
from tests.integration.test_authoring import call
from tests.integration.test_fieldwork import ENUMERATOR
from tests.integration.test_sampling import BASE, YEAR, ensure_sample

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
UNSENT = "document.getElementById('unsent').textContent"

# Sets a generated submission's answers on the app's form as a person would (click a radio, type a number), in
# rounds: a question shown by an earlier answer is enabled only after that answer's change event.
FILL = """([answers, only]) => {
  const form = document.getElementById('iform');
  const names = Object.keys(answers).filter(n => only === null || only.includes(n));
  for (let round = 0; round < 4; round++) {
    names.forEach(n => {
      const want = [].concat(answers[n]).map(String);
      Array.from(form.elements).filter(i => i.name === n && !i.disabled).forEach(i => {
        if (/radio|checkbox/.test(i.type)) {
          if (want.includes(i.value) !== i.checked) i.click();
        } else if (i.value !== want[0]) {
          i.value = want[0];
          i.dispatchEvent(new Event('input', { bubbles: true }));
          i.dispatchEvent(new Event('change', { bubbles: true }));
        }
      });
    });
  }
}"""


TAPPABLE = """a => Object.keys(a).find(n => typeof a[n] === 'string' &&
  document.querySelector(`#iform input[type=radio][name="${n}"][value="${a[n]}"]`))"""


def _same_answers(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def norm(x: dict[str, Any]) -> dict[str, Any]:
        return {k: sorted(v) if isinstance(v, list) else v for k, v in x.items()}

    return norm(a) == norm(b)


_SAMPLE: dict[str, Any] = {}


def assigned(stack: Any) -> tuple[str, dict[str, Any]]:
    """A sample of this module's own (so the API tests' exact progress counts are never touched) and the
    enumerator's assignment in it: two villages."""
    if "id" not in _SAMPLE:
        ensure_sample(stack)  # the year's frame
        status, drawn, _ = call(stack, "POST", f"{BASE}/samples", "admin", {"communes": 1, "seed": 2027})
        assert status == 201, drawn
        status, sample, _ = call(stack, "GET", f"{BASE}/samples/{drawn['sample_id']}", "admin")
        assert status == 200, sample
        villages = [{k: v[k] for k in ("commune_code", "village_code")} for v in sample["units"]["villages"][:2]]
        path = f"/admin/api/fieldwork/{YEAR}/{drawn['sample_id']}/assignments/{ENUMERATOR}"
        status, assignment, _ = call(
            stack, "PUT", path, "quantri.hanoi", {"survey_id": "sipas-2026", "villages": villages}
        )
        assert status == 200, assignment
        _SAMPLE.update(id=drawn["sample_id"], assignment=assignment)
    return _SAMPLE["id"], _SAMPLE["assignment"]


# the unit tests' pinned cases (tests/unit/test_fieldwork.py): the browser's SubtleCrypto must agree with hashlib
PICK_CASES = [["2026-s1", f"00004-V1-{i}", n] for i, n in [(1, 1), (2, 3), (3, 5), (4, 6), (5, 30)]]


def _pick(village: dict[str, Any], slot: dict[str, Any], adults: int) -> int:
    household = f"{village['commune_code']}-{village['village_code']}-{slot['position']}"
    return adult_to_interview(_SAMPLE["id"], household, adults)


def _link_device(browser: Any, stack: Any) -> tuple[Any, Any]:
    """Sign in on the console as the enumerator, link the device, land in the app with its package downloaded."""
    context = browser.new_context(locale="vi-VN", service_workers="allow", **PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{stack.api_url}/admin/field/device")
    page.fill("#u", ENUMERATOR)
    page.fill("#p", stack.idp.users[ENUMERATOR].password)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin**")
    page.goto(f"{stack.api_url}/admin")
    page.click("header nav >> text=Thiết bị điều tra")  # the console's menu leads an enumerator to it
    assert _problems(page) == []  # axe: no serious or critical WCAG 2.1 AA violation, no sideways scroll
    page.click("text=Liên kết thiết bị này")
    page.wait_for_url(f"{stack.api_url}/field/")
    page.wait_for_selector("body[data-ready]", state="attached")
    page.wait_for_selector("#villages a[href^='#v/']")  # the package was downloaded on first start
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")  # the worker serves this page
    assert not errors, errors
    return context, page


def _cut(context: Any) -> list[str]:
    aborted: list[str] = []

    def abort(route: Any) -> None:
        aborted.append(route.request.url)
        route.abort("internetdisconnected")

    context.set_offline(True)
    context.route("**/*", abort)
    context.cut = abort
    return aborted


def _restore(context: Any) -> None:
    context.unroute("**/*", context.cut)
    context.set_offline(False)


def _open_village(page: Any, village: dict[str, Any]) -> None:
    from urllib.parse import quote

    page.goto(page.url.split("#")[0] + "#home")
    key = quote(f"{_SAMPLE['id']}/{village['commune_code']}-{village['village_code']}", safe="")
    page.click(f"#villages a[href='#v/{key}']")
    page.wait_for_selector("#households li")


def _household(page: Any, village: dict[str, Any], slot: dict[str, Any]) -> Any:
    return page.locator(
        f"#households li[data-household='{village['commune_code']}-{village['village_code']}-{slot['position']}']"
    )


def _until(page: Any, predicate: str, arg: Any = None, seconds: float = 20.0) -> None:
    """Poll an async predicate (wait_for_function does not wait for a promise's value)."""
    import time

    deadline = time.monotonic() + seconds
    while not page.evaluate(predicate, arg):
        assert time.monotonic() < deadline, predicate
        page.wait_for_timeout(200)


def _visit_items(stack: Any, ids: list[str]) -> dict[str, int]:
    found = [i["pk"]["S"] for i in table_items(stack, "FieldworkTable")]
    return {visit_id: found.count(f"visit#{visit_id}") for visit_id in ids}


def test_an_enumerator_works_offline_and_every_visit_is_stored_once(browser: Any, live_stack: Any, sipas: Any) -> None:
    _, assignment = assigned(live_stack)
    village = assignment["villages"][-1]
    main = [h for h in village["households"] if h["replacement"] == 0]
    assert len(main) >= 3
    answers = [s["answers"] for s in fresh_submissions(sipas, 2)]
    context, page = _link_device(browser, live_stack)

    aborted = _cut(context)
    # the cut is real: the page's requests and the service worker's own network requests both fail
    assert (
        page.evaluate("fetch('/field/api/visits', {method: 'POST', body: '{}'}).then(() => 'up', () => 'down')")
        == "down"
    )
    assert page.evaluate("fetch('/openapi.json').then(() => 'up', () => 'down')") == "down"
    assert aborted
    page.reload()  # the app itself comes from the worker's cache
    page.wait_for_selector("body[data-ready]", state="attached")
    assert "Không có mạng" in page.inner_text("#net")

    # interview 1, completed offline. First the household's adults: the app says which one to interview (SHA-256 in
    # the browser, offline), the same adult the server's rule picks; only then the questionnaire
    _open_village(page, village)
    _household(page, village, main[0]).locator("text=Phỏng vấn").click()
    page.wait_for_selector("#adults")
    assert page.is_hidden("#iform")
    k = _pick(village, main[0], 4)
    page.fill("#adults", "4")
    page.wait_for_selector("#iform .sec")
    assert f"phỏng vấn người thứ {k}" in page.inner_text("#pick")
    assert "từ lớn tuổi nhất đến nhỏ tuổi nhất" in page.inner_text("#pick")
    browser_picks = page.evaluate(
        "cases => Promise.all(cases.map(c => fieldApp.adultToInterview(c[0], c[1], c[2])))", PICK_CASES
    )
    assert browser_picks == [adult_to_interview(*c) for c in PICK_CASES] == [1, 2, 2, 2, 21]
    assert _problems(page) == []  # the interview screen at a phone's width
    first = page.evaluate(TAPPABLE, answers[0])
    page.locator(f"#iform input[name='{first}'][value='{answers[0][first]}']").check()
    page.evaluate(FILL, [answers[0], None])
    page.click("#gps-consent")  # the respondent agrees; no position is given offline, and none is invented
    page.click("#finish")
    page.wait_for_selector("#households li")
    assert page.evaluate(UNSENT) == "1"

    # interview 2: half done, the app is closed (a restart), reopened, resumed with nothing lost
    _household(page, village, main[1]).locator("text=Phỏng vấn").click()
    page.fill("#adults", "2")
    page.wait_for_selector("#iform .sec")
    names = list(answers[1])
    half = names[: len(names) // 2]
    page.evaluate(FILL, [answers[1], half])
    page.wait_for_timeout(300)  # IndexedDB's write of the last change
    page.close()
    page = context.new_page()
    page.goto(f"{live_stack.api_url}/field/")
    page.wait_for_selector("body[data-ready]", state="attached")
    page.click("a.resume")
    page.wait_for_selector("#iform .sec")
    assert page.input_value("#adults") == "2"  # the household's adults and the pick are kept with the interview
    assert f"người thứ {_pick(village, main[1], 2)}" in page.inner_text("#pick")
    kept = page.evaluate(
        "names => names.filter(n => Array.from(document.getElementById('iform').elements)"
        ".some(i => i.name === n && (/radio|checkbox/.test(i.type) ? i.checked : i.value !== '')))",
        half,
    )
    assert kept == half
    page.evaluate(FILL, [answers[1], None])
    page.click("#finish")
    page.wait_for_selector("#households li")

    # a refusal, recorded with one tap
    _household(page, village, main[2]).locator("text=Từ chối").click()
    page.wait_for_function(f"() => {UNSENT} === '3'")
    outbox = page.evaluate("fieldApp.all('outbox')")
    visits = {o["visit"]["outcome"] + str(o["visit"]["household"]["position"]): o["visit"] for o in outbox}
    done = visits[f"completed{main[0]['position']}"]
    assert done["paradata"]["duration_ms"] > 0 and done["paradata"]["question_ms"].get(first, 0) > 0
    assert done["paradata"]["gps_consent"] is True and "gps" not in done["paradata"]
    assert len(done["paradata"]["device_id"]) == 32 and _same_answers(done["answers"], answers[0])
    assert done["respondent"] == {"adults": 4, "selected": k}
    second = visits[f"completed{main[1]['position']}"]
    assert second["respondent"] == {"adults": 2, "selected": _pick(village, main[1], 2)}
    ids = [o["id"] for o in outbox]

    # the network returns; the first visit's answer is lost on the way back after the server stored it
    posts: list[int] = []

    def lose_first_answer(route: Any) -> None:
        answer = route.fetch()
        posts.append(answer.status)
        if len(posts) == 1:
            route.abort("connectionreset")
        else:
            route.fulfill(response=answer)

    context.route("**/field/api/visits", lose_first_answer)
    _restore(context)
    page.goto(page.url.split("#")[0] + "#home")
    page.click("#sync")
    page.wait_for_function(f"() => {UNSENT} === '0'", timeout=30000)
    assert posts[0] == 201 and 200 in posts[1:]  # the resend of the stored visit: the same receipt
    assert _visit_items(live_stack, ids) == dict.fromkeys(ids, 1)
    responses = [r["response_id"]["S"] for r in table_items(live_stack, "ResponsesTable")]
    completed = [o["id"] for o in outbox if o["visit"]["outcome"] == "completed"]
    assert len(completed) == 2 and all(responses.count(i) == 1 for i in completed)
    stored = next(r for r in table_items(live_stack, "ResponsesTable") if r["response_id"]["S"] == done["id"])
    collection = stored["collection"]["M"]
    assert int(collection["adults"]["N"]) == 4 and int(collection["selected_adult"]["N"]) == k
    assert float(collection["weight"]["N"]) == pytest.approx(main[0]["weight"] * 4)
    _open_village(page, village)
    assert "đã gửi" in _household(page, village, main[2]).inner_text()
    assert _problems(page) == []  # the household list with its outcome buttons

    # what the server refuses stays on the phone with its reason: the same id with other content (409), a household
    # outside the assignment (403); neither is dropped, and both are counted as unsent
    clash = {**done, "note": "sửa sau khi gửi"}
    stranger = {**done, "id": done["id"][:-4] + "ZZZZ", "household": {**done["household"], "position": 99999}}
    page.evaluate(
        "visits => fieldApp.putAll('outbox', visits.map((visit, n) => ({id: visit.id, visit, state: 'queued', "
        "error: '', tries: 0, queued_at: Date.now() + n}))).then(fieldApp.unsent)",
        [clash, stranger],
    )
    page.goto(page.url.split("#")[0] + "#outbox")
    page.click("#sync2")
    page.wait_for_selector("#outbox li.conflict")
    page.wait_for_selector("#outbox li.refused")
    assert "Xung đột" in page.inner_text("#outbox li.conflict")
    assert "Bị từ chối" in page.inner_text("#outbox li.refused")
    assert page.evaluate(UNSENT) == "2"
    context.close()


def test_a_thousand_queued_visits_survive_an_app_update_and_a_reload(
    browser: Any, live_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.web import field_app as web

    sample_id, assignment = assigned(live_stack)
    village = assignment["villages"][0]
    spare = [h for h in village["households"] if h["replacement"] > 0][-1]  # a household the first test leaves alone
    context, page = _link_device(browser, live_stack)
    before = page.evaluate("document.body.dataset.version")

    context.route("**/field/api/visits", lambda route: route.abort("internetdisconnected"))
    household = {
        "year": int(assignment["year"]),
        "sample_id": sample_id,
        "commune_code": village["commune_code"],
        "village_code": village["village_code"],
        "position": int(spare["position"]),
    }
    ids = page.evaluate(
        """async household => {
          const B = '0123456789ABCDEFGHJKMNPQRSTVWXYZ', now = Date.now(), items = [];
          for (let n = 0; n < 1000; n++) {
            let t = now, id = '';
            for (let i = 0; i < 10; i++) { id = B[t % 32] + id; t = Math.floor(t / 32); }
            id += String(n).padStart(16, '0').replace(/./g, c => B[+c + 10]);
            const paradata = {device_id: 'test-device-0001', started_at: new Date().toISOString(),
              ended_at: new Date().toISOString(), duration_ms: 0};
            items.push({id, state: 'queued', error: '', tries: 0, queued_at: now + n,
              visit: {id, survey_id: 'sipas-2026', survey_version: 1, household, outcome: 'not_at_home', paradata}});
          }
          await fieldApp.putAll('outbox', items);
          await fieldApp.unsent();
          return items.map(i => i.id);
        }""",
        household,
    )
    assert page.evaluate(UNSENT) == "1000"

    # a new version of the app is deployed: the browser installs the new worker, which takes over
    monkeypatch.setattr(web, "BUILD", "update-test")
    after = web.app_version()
    assert after != before
    page.evaluate("navigator.serviceWorker.getRegistration('/field/').then(r => r.update())")
    # the new worker installed its cache, took over, and deleted the old version's cache (IndexedDB untouched)
    _until(
        page,
        "([a, b]) => caches.keys().then(k => k.includes('field-' + a) && !k.includes('field-' + b))",
        [after, before],
    )
    page.reload()
    page.wait_for_selector("body[data-ready]", state="attached")
    assert page.evaluate("document.body.dataset.version") == after
    assert page.evaluate(UNSENT) == "1000" and page.evaluate("fieldApp.count('outbox')") == 1000

    # the network returns: the queue drains in order; a sample is checked on the server (1,000 would take minutes)
    context.unroute("**/field/api/visits")
    page.click("#sync")
    page.wait_for_function(f"() => +{UNSENT} <= 980", timeout=30000, polling=250)
    left = set(page.evaluate("fieldApp.all('outbox').then(list => list.map(o => o.id))"))
    sent = [i for i in ids if i not in left]
    assert sent == ids[: len(sent)]  # oldest first
    assert _visit_items(live_stack, sent[:20]) == dict.fromkeys(sent[:20], 1)
    context.close()


def test_the_app_is_installable(browser: Any, live_stack: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, f"{live_stack.api_url}/field/", errors, **PHONE)
    manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/field/"
    for icon in manifest["icons"]:
        assert page.evaluate("src => fetch(src).then(r => r.headers.get('content-type'))", icon["src"]) == "image/png"
    # a device that was never linked is asked to link it
    page.wait_for_selector("#v-link:not([hidden])")
    assert _problems(page) == []
    assert json.dumps(errors) == "[]"
    page.context.close()
