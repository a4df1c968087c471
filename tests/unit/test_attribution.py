"""Attribution: the server checks what a survey link says, signs it into the form, and a submission is
recorded with an agency, a location and a proven channel only when it carries that token."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.domain.agencies import AgencyDirectory, AgencyService, origin_allowed
from chalicelib.domain.aggregation import contribution, delta
from chalicelib.domain.attribution import (
    EXPIRED,
    INVALID,
    MISSING,
    OTHER_SURVEY,
    Attribution,
    AttributionIssuer,
    AttributionRefused,
    AttributionSigner,
    attribute,
    origin_of,
)
from chalicelib.domain.audit import Actor, AuditLog
from chalicelib.domain.responses import Response
from chalicelib.domain.results import attribution_counts
from chalicelib.domain.submissions import ClientInfo, IdentifierHasher, SubmissionService
from chalicelib.domain.survey import Survey
from chalicelib.lake import lake_row
from chalicelib.reference.agencies import agency_registry
from infra.local.seed.responses import generate_submissions
from tests.shared.fakes import AllLocations, FakeAgencySettingsStore, FakeAuditStore, FakeCatalog, sipas_definition

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
KEY, OLD_KEY = b"k" * 32, b"o" * 32
ADMIN = Actor(sub="u-042", name="Trần Văn Đức", role="agency_admin", agency="P01")
ORIGIN = "https://dichvucong.hanoi.gov.vn"


class Clock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def signer(clock: Clock | None = None, keys: list[bytes] | None = None) -> AttributionSigner:
    return AttributionSigner(lambda: keys or [KEY], clock or Clock())


def widget(**overrides: Any) -> Attribution:
    fields = {
        "survey_id": "sipas-2026",
        "channel": "qr",
        "agency": "P01",
        "location": "Q01",
        "service": "Cấp giấy phép xây dựng",
        "rendered_at": "2026-06-01T07:00:00.000000Z",
        "form_id": "f-1",
    }
    return Attribution(**{**fields, **overrides})


# =========================================================================== the token


def test_a_signed_token_verifies_to_what_was_signed():
    token = signer().sign(widget())
    assert token.startswith("v1.") and token.count(".") == 2
    assert signer().verify(token, "sipas-2026") == widget()


def test_a_token_signed_with_an_older_key_of_the_keyring_still_verifies():
    token = signer(keys=[OLD_KEY]).sign(widget())
    assert signer(keys=[KEY, OLD_KEY]).verify(token, "sipas-2026").agency == "P01"
    with pytest.raises(AttributionRefused):
        signer(keys=[KEY]).verify(token, "sipas-2026")


def _reason(token: Any, survey: str = "sipas-2026", clock: Clock | None = None) -> str:
    with pytest.raises(AttributionRefused) as caught:
        signer(clock).verify(token, survey)
    return caught.value.reason


def test_a_changed_payload_is_invalid():
    version, payload, mac = signer().sign(widget()).split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["a"] = "P79"  # another agency, same MAC
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    assert _reason(f"{version}.{forged}.{mac}") == INVALID


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1",
        "v1..",
        "v2.e30.AAAA",
        "not a token",
        "v1.e30." + "A" * 43,
        "v1.%%%." + "A" * 43,
        5,
        None,
        "v1.e30." * 500,
    ],
)
def test_malformed_tokens_are_invalid(token: Any):
    assert _reason(token) == INVALID


def test_a_token_signed_with_another_key_is_invalid():
    assert _reason(AttributionSigner(lambda: [b"x" * 32]).sign(widget())) == INVALID


def test_a_token_is_good_for_seven_days_only():
    token = signer().sign(widget())
    assert signer(Clock(NOW + timedelta(days=6, hours=22))).verify(token, "sipas-2026")
    assert _reason(token, clock=Clock(NOW + timedelta(days=7, hours=2))) == EXPIRED


def test_a_token_from_the_future_is_invalid():
    assert _reason(signer().sign(widget(rendered_at="2026-06-01T09:00:00.000000Z"))) == INVALID


def test_a_token_of_another_survey_proves_nothing_here():
    assert _reason(signer().sign(widget()), survey="par-index-2026") == OTHER_SURVEY


# =========================================================================== the rule


def test_a_valid_token_is_recorded_whatever_the_body_says():
    recorded = attribute(signer().sign(widget()), "web", "sipas-2026", signer())
    assert (recorded.channel, recorded.agency, recorded.location) == ("qr", "P01", "Q01")
    assert recorded.service == "Cấp giấy phép xây dựng"
    assert recorded.notes == {
        "rendered_at": "2026-06-01T07:00:00.000000Z",
        "form_id": "f-1",
        "claimed_channel": "web",
    }


@pytest.mark.parametrize(
    ("claimed", "recorded_channel"),
    [("web", "web"), ("api", "api"), ("field", "field"), ("paper", "paper"), ("widget", "web"), ("qr", "web")],
)
def test_without_a_token_only_channels_that_need_no_proof_are_kept(claimed: str, recorded_channel: str):
    recorded = attribute(None, claimed, "sipas-2026", signer())
    assert (recorded.channel, recorded.agency, recorded.location, recorded.service) == (
        recorded_channel,
        None,
        None,
        None,
    )
    assert recorded.notes["attribution"] == MISSING
    assert ("claimed_channel" in recorded.notes) == (claimed != recorded_channel)


def test_a_forged_or_foreign_token_is_noted_and_proves_nothing():
    forged = attribute("v1.e30." + "A" * 43, "widget", "sipas-2026", signer())
    assert (forged.channel, forged.agency, forged.notes["attribution"]) == ("web", None, INVALID)
    foreign = attribute(signer().sign(widget()), "qr", "par-index-2026", signer())
    assert (foreign.agency, foreign.notes["attribution"]) == (None, OTHER_SURVEY)
    assert attribute(signer().sign(widget()), "qr", "sipas-2026", None).notes["attribution"] == INVALID


def test_an_embedding_origin_is_checked_against_the_agencys_but_only_noted():
    token = signer().sign(widget(channel="widget", location=None))

    def origins(_agency: str) -> tuple[str, ...]:
        return (ORIGIN, "https://*.hanoi.gov.vn")

    ok = attribute(token, "widget", "sipas-2026", signer(), origins, "https://xa.hanoi.gov.vn")
    odd = attribute(token, "widget", "sipas-2026", signer(), origins, "https://phishing.example.com")
    assert ok.notes["embed_origin_check"] == "registered"
    assert odd.notes["embed_origin_check"] == "unregistered"
    assert (odd.channel, odd.agency) == ("widget", "P01")  # the token proves the agency, not the report
    # the origin the server saw (the Referer, in the token) wins over the one the client reports
    seen = signer().sign(widget(channel="widget", location=None, embed_origin=ORIGIN))
    claimed = attribute(seen, "widget", "sipas-2026", signer(), origins, "https://phishing.example.com")
    assert claimed.notes["embed_origin_check"] == "registered"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (ORIGIN, True),
        (ORIGIN + "/", True),
        ("https://XA.hanoi.gov.vn", True),
        ("https://hanoi.gov.vn", False),  # *.x does not cover x itself (as in CSP)
        ("http://xa.hanoi.gov.vn", False),
        ("https://xa.hanoi.gov.vn:8443", False),
        ("https://evilhanoi.gov.vn", False),
        ("https://*.hanoi.gov.vn", False),
        ("null", False),
    ],
)
def test_origin_allowed(origin: str, allowed: bool):
    assert origin_allowed(origin, (ORIGIN, "https://*.hanoi.gov.vn")) is allowed


def test_origin_of_a_referer():
    assert origin_of("https://Cong.Hanoi.gov.vn/thu-tuc?id=1") == "https://cong.hanoi.gov.vn"
    assert origin_of("about:blank") is None and origin_of(None) is None


# =========================================================================== the issuer


class Agencies:
    def __init__(self) -> None:
        self.store = FakeAgencySettingsStore()
        audit = AuditLog(FakeAuditStore(), clock=lambda: NOW, sleep=lambda _s: None)
        self.service = AgencyService(agency_registry().get, self.store, audit, allow_loopback=True)
        self.directory = AgencyDirectory(agency_registry(), self.store, FakeCatalog())
        self.service.save(
            ADMIN,
            "P01",
            0,
            "2026-05-01T00:00:00Z",
            origins=[ORIGIN],
            locations=[
                {"code": "Q01", "name": "Quầy số 1", "kind": "counter", "service": "Cấp giấy phép xây dựng"},
                {"code": "WEB", "name": "Cổng DVC", "kind": "page"},
            ],
        )


@pytest.fixture
def issuer() -> AttributionIssuer:
    return AttributionIssuer(Agencies().directory, signer(), clock=Clock(), nonce=lambda: "n-1")


def test_a_counter_link_is_vouched_for(issuer: AttributionIssuer):
    found = issuer.check("sipas-2026", agency="P01", location="Q01", via="qr")
    assert (found.channel, found.agency, found.location, found.service) == (
        "qr",
        "P01",
        "Q01",
        "Cấp giấy phép xây dựng",
    )
    assert found.rendered_at == "2026-06-01T08:00:00.000000Z" and found.form_id == "n-1"
    token, same = issuer.issue("sipas-2026", agency="P01", location="Q01", via="qr")
    assert signer().verify(token, "sipas-2026") == same


def test_what_does_not_hold_is_dropped(issuer: AttributionIssuer):
    # another agency's counter: the agency holds, the location does not
    assert issuer.check("sipas-2026", agency="P46", location="Q01", via="qr").location is None
    # an unknown agency takes its location and service with it
    unknown = issuer.check("sipas-2026", agency="P99", location="Q01", service="1.0001", via="qr")
    assert (unknown.agency, unknown.location, unknown.service, unknown.channel) == (None, None, None, "qr")
    # an agency that ended with the 2025 reorganisation is no longer attributed
    ended = issuer.check("sipas-2026", agency="M-BKHDT", via="link")
    assert ended.agency is None
    # codes are exact
    assert issuer.check("sipas-2026", agency="P01", location="q01").location is None


def test_channels_from_the_link(issuer: AttributionIssuer):
    assert issuer.check("sipas-2026").channel == "web"
    assert issuer.check("sipas-2026", agency="P01").channel == "link"
    assert issuer.check("sipas-2026", agency="P01", via="qr").channel == "qr"
    assert issuer.check("sipas-2026", agency="P01", via="qr", embed=True).channel == "widget"


def test_a_widget_names_its_agency_only_where_the_agency_lets_it_be_framed(issuer: AttributionIssuer):
    framed = issuer.check("sipas-2026", agency="P01", embed=True, referer=ORIGIN + "/khao-sat")
    assert (framed.agency, framed.embed_origin) == ("P01", ORIGIN)
    # P46 registered no origin: its CSP is frame-ancestors 'none', so no page of P46 can show this widget
    assert issuer.check("sipas-2026", agency="P46", embed=True).agency is None
    # a link page is not framed: the referer is not an embedding origin
    assert issuer.check("sipas-2026", agency="P01", referer=ORIGIN).embed_origin is None
    # and a link that only says via=widget is a link: a widget token needs the embedded page
    assert issuer.check("sipas-2026", agency="P46", via="widget").channel == "link"
    assert issuer.check("sipas-2026", via="widget").channel == "web"


def test_a_service_from_the_link_wins_over_the_locations(issuer: AttributionIssuer):
    assert issuer.check("sipas-2026", agency="P01", location="Q01", service="1.001234").service == "1.001234"
    assert issuer.check("sipas-2026", agency="P01", location="WEB").service is None


# =========================================================================== a submission


@pytest.fixture
def definition() -> dict[str, Any]:
    return sipas_definition()


@pytest.fixture
def body(definition: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.reference.geography import load_geography

    generated = generate_submissions(definition, load_geography("vn-2025"), 1, seed=3, now=NOW)
    return copy.deepcopy(generated[0])


def submit(definition: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    from tests.shared.fakes import FakeResponseStore

    store = FakeResponseStore()
    service = SubmissionService(
        FakeCatalog(definition),
        store,
        AllLocations(),
        IdentifierHasher(b"k", "k1"),
        clock=lambda: NOW,
        attribution=signer(),
        embed_origins=lambda _agency: (ORIGIN,),
    )
    service.submit("sipas-2026", body, ClientInfo("203.0.113.9", "UA"))
    return store.items[body["id"]]


def test_a_submission_with_its_forms_token_records_where_it_came_from(definition, body):
    body["channel"] = "web"
    body["attribution"] = signer().sign(widget())
    stored = submit(definition, body)
    assert (stored["agency"], stored["location"], stored["channel"]) == ("P01", "Q01", "qr")
    assert stored["service"] == "Cấp giấy phép xây dựng"
    assert stored["paradata"]["rendered_at"] == "2026-06-01T07:00:00.000000Z"
    assert "form_id" not in stored["paradata"] and len(stored["identifiers"]["form_id"]) == 64  # kept hashed
    row = lake_row(Response.from_item(stored), "1")
    assert (row["agency"], row["location"], row["channel"]) == ("P01", "Q01", "qr")
    assert row["paradata"]["rendered_at"] and "user_agent" not in row["paradata"]


def test_a_submission_claiming_a_widget_without_proof_is_kept_as_web(definition, body):
    body["channel"] = "widget"
    body.pop("attribution", None)
    stored = submit(definition, body)  # never refused
    assert stored["channel"] == "web" and "agency" not in stored and "location" not in stored
    assert stored["paradata"]["attribution"] == MISSING and stored["paradata"]["claimed_channel"] == "widget"


def test_a_forged_token_is_accepted_as_answers_but_records_no_agency(definition, body):
    body["attribution"] = "v1.eyJhIjoiUDAxIn0." + "A" * 43
    stored = submit(definition, body)
    assert "agency" not in stored and stored["paradata"]["attribution"] == INVALID


def test_old_responses_read_without_attribution():
    old = {
        "response_id": "01JAAAAAAAAAAAAAAAAAAAAAAA",
        "survey_id": "sipas-2026",
        "survey_version": 1,
        "status": "accepted",
        "answers": {},
        "channel": "widget",
        "province": "01",
    }
    response = Response.from_item(old)
    assert (response.agency, response.location, response.service, response.channel) == (None, None, None, "widget")
    assert "agency" not in response.to_item()


# =========================================================================== the counts


def _response(status: str, agency: str | None, location: str | None, channel: str) -> Response:
    return Response(
        "01JAAAAAAAAAAAAAAAAAAAAAAA",
        "sipas-2026",
        1,
        status,
        {},
        channel,
        "01",
        "00004",
        agency=agency,
        location=location,
        attributed=True,
    )


def test_a_response_from_before_attribution_never_moves_its_counters():
    # stored before the attribution counters existed: never counted there, so its screening or withdrawal
    # must not subtract from them (they would go negative and reconcile would report drift)
    survey = Survey.from_definition(sipas_definition())
    older = replace(_response("accepted", None, None, "web"), attributed=False)
    assert not [key for key in contribution(older, survey) if key[0].endswith("#attr")]
    assert [key for key in contribution(replace(older, attributed=True), survey) if key[0].endswith("#attr")]
    assert Response.from_item(older.to_item()).attributed is False
    assert Response.from_item(replace(older, attributed=True).to_item()).attributed is True


def test_attribution_cells_of_a_response():
    survey = Survey.from_definition(sipas_definition())
    cells = {
        k: v for k, v in contribution(_response("accepted", "P01", "Q01", "qr"), survey).items() if "#attr" in k[0]
    }
    assert cells == {
        ("sipas-2026#1#attr", "accepted#all"): {"n": 1, "ch:qr": 1, "ag:P01": 1},
        ("sipas-2026#1#attr", "accepted#ag#P01"): {"n": 1, "ch:qr": 1, "loc:Q01": 1},
    }
    unattributed = contribution(_response("received", None, None, "web"), survey)
    assert unattributed[("sipas-2026#1#attr", "received#all")] == {"n": 1, "ch:web": 1, "ag:-": 1}
    assert not any(sk.startswith("received#ag#") for _, sk in unattributed)


def test_screening_moves_attribution_counts_between_statuses_and_withdrawal_removes_them():
    survey = Survey.from_definition(sipas_definition())
    received, accepted = _response("received", "P01", None, "link"), _response("accepted", "P01", None, "link")
    moved = delta(contribution(accepted, survey), contribution(received, survey))
    assert moved[("sipas-2026#1#attr", "received#ag#P01")] == {"n": -1, "ch:link": -1, "loc:-": -1}
    assert moved[("sipas-2026#1#attr", "accepted#ag#P01")] == {"n": 1, "ch:link": 1, "loc:-": 1}
    withdrawn = _response("withdrawn", "P01", None, "link")
    gone = delta(contribution(withdrawn, survey), contribution(accepted, survey))
    assert gone[("sipas-2026#1#attr", "accepted#all")] == {"n": -1, "ch:link": -1, "ag:P01": -1}


def test_attribution_counts_read_national_and_agency_items():
    items = [
        {"pk": "s#1#attr", "sk": "accepted#all", "n": 3, "ch:qr": 2, "ch:web": 1, "ag:P01": 2, "ag:-": 1},
        {"pk": "s#1#attr", "sk": "received#all", "n": 1, "ch:widget": 1, "ag:P01": 1},
        {"pk": "s#1#attr", "sk": "accepted#ag#P01", "n": 2, "ch:qr": 2, "loc:Q01": 2},
        {"pk": "s#1#attr", "sk": "received#ag#P01", "n": 1, "ch:widget": 1, "loc:-": 1},
        {"pk": "s#1#attr", "sk": "accepted#ag#P46", "n": 9, "ch:qr": 9, "loc:X": 9},
    ]
    national = attribution_counts(items, None)
    assert (national["n"], national["accepted"]) == (4, 3)
    assert national["by_agency"] == [
        {"agency": "P01", "n": 3, "accepted": 2},
        {"agency": None, "n": 1, "accepted": 1},
    ]
    assert {r["channel"]: r["n"] for r in national["by_channel"]} == {"qr": 2, "web": 1, "widget": 1}
    hanoi = attribution_counts(items, "P01")
    assert (hanoi["n"], hanoi["accepted"]) == (3, 2)  # P46's item is not Hà Nội's
    assert hanoi["by_location"] == [
        {"location": "Q01", "n": 2, "accepted": 2},
        {"location": None, "n": 1, "accepted": 0},
    ]


# =========================================================================== the form carries it


def test_the_form_renders_the_token_and_its_post_sends_it_back():
    from chalicelib.reference.geography import load_geography
    from chalicelib.web.forms import form_to_submission
    from chalicelib.web.pages import render_survey_form

    survey = Survey.from_definition(sipas_definition())
    token = signer().sign(widget())
    page = render_survey_form(
        survey,
        load_geography(survey.geography),
        response_id="01JAAAAAAAAAAAAAAAAAAAAAAA",
        started_at="2026-06-01T07:00:00Z",
        attribution=token,
        channel="qr",
    )
    assert f'<input type="hidden" name="attribution" value="{token}">' in page
    assert '<input type="hidden" name="channel" value="qr">' in page
    body = form_to_submission(survey, {"attribution": [token], "channel": ["qr"], "province": ["01"]})
    assert body["attribution"] == token
