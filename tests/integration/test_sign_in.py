"""Signing in to the console: the code flow with PKCE (chalicelib/api/session.py) against the local provider."""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.api import session
from chalicelib.auth.tokens import TokenConfig, Unauthenticated, verify_token
from infra.local.idp import CLIENT_ID, REDIRECT_URIS_ENV, LocalIdentityProvider
from tests.integration.test_console import fetch

CALLBACK = "http://127.0.0.1:8999/admin/callback"  # never opened: the tests read the provider's redirects


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIdentityProvider]:
    provider = LocalIdentityProvider(tmp_path_factory.mktemp("sign-in"), redirect_uris=[CALLBACK])
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def config(idp: LocalIdentityProvider) -> TokenConfig:
    return TokenConfig(issuer=idp.issuer, audience=CLIENT_ID, jwks_url=f"{idp.issuer}/.well-known/jwks.json")


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def sign_in_form(page: str) -> dict[str, str]:
    """The hidden fields of the provider's sign-in page, as a browser would post them back."""
    found = re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)
    return {html.unescape(k): html.unescape(v) for k, v in found}


def post_login(idp: LocalIdentityProvider, fields: dict[str, str], username: str = "admin") -> tuple[int, Any, str]:
    form = {**fields, "username": username, "password": idp.users[username].password}
    return fetch(f"{idp.issuer}/login", data=urllib.parse.urlencode(form).encode())


def provider_redirect(idp: LocalIdentityProvider, authorization_url: str, username: str = "admin") -> str:
    """Open the authorization URL, sign in on the provider's page; where the provider sends the browser."""
    status, _, page = fetch(authorization_url)
    assert status == 200, page
    status, headers, _ = post_login(idp, sign_in_form(page), username)
    assert status == 302
    return str(headers["location"][0])


def code_and_state(location: str) -> tuple[str, str]:
    assert location.startswith(f"{CALLBACK}?"), location
    query = query_of(location)
    return query["code"], query["state"]


# --- the flow ------------------------------------------------------------------------------------
def test_the_console_signs_in_with_pkce_and_keeps_the_verifier_out_of_the_url(idp, config):
    url, cookie = session.begin_sign_in(config, CALLBACK)
    query = query_of(url)
    state, _, verifier = cookie.partition(".")
    assert (query["state"], query["code_challenge_method"]) == (state, "S256")
    assert query["code_challenge"] == session.pkce_challenge(verifier)
    assert verifier not in url
    code, returned_state = code_and_state(provider_redirect(idp, url))
    token = session.finish_sign_in(config, code, returned_state, cookie, CALLBACK)
    assert verify_token(token, config).username == "admin"


def test_a_code_is_worth_nothing_without_the_verifier_of_the_browser_that_asked_for_it(idp, config):
    url, cookie = session.begin_sign_in(config, CALLBACK)
    code, state = code_and_state(provider_redirect(idp, url))
    # an attacker who intercepted the redirect has the code and the state, but their own verifier
    _, attackers = session.begin_sign_in(config, CALLBACK)
    with pytest.raises(Unauthenticated):
        session.finish_sign_in(config, code, state, f"{state}.{attackers.partition('.')[2]}", CALLBACK)
    # the attempt spent the code: it is single-use
    with pytest.raises(Unauthenticated):
        session.finish_sign_in(config, code, state, cookie, CALLBACK)


def test_a_state_that_is_not_this_browsers_is_refused_before_the_code_is_spent(idp, config):
    url, cookie = session.begin_sign_in(config, CALLBACK)
    code, state = code_and_state(provider_redirect(idp, url))
    for wrong_state, wrong_cookie in [("other", cookie), (state, None), (state, ""), (state, state), ("Đ", cookie)]:
        with pytest.raises(Unauthenticated):
            session.finish_sign_in(config, code, wrong_state, wrong_cookie, CALLBACK)
    with pytest.raises(Unauthenticated):
        session.finish_sign_in(config, None, state, cookie, CALLBACK)  # the provider sent ?error=... instead
    assert session.finish_sign_in(config, code, state, cookie, CALLBACK)


def test_the_code_is_redeemed_only_for_the_redirect_uri_it_was_issued_for(idp, config):
    url, cookie = session.begin_sign_in(config, CALLBACK)
    code, state = code_and_state(provider_redirect(idp, url))
    with pytest.raises(Unauthenticated):
        session.finish_sign_in(config, code, state, cookie, "http://127.0.0.1:8999/admin/callback2")


# --- what the provider refuses -------------------------------------------------------------------
@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost.evil.example/admin/callback",  # what the prefix check let through
        "http://127.0.0.1.evil.example/admin/callback",
        "http://127.0.0.1:8999/admin/callbackx",
        "http://127.0.0.1:8999/admin/callback?next=/x",
        "http://127.0.0.1:8998/admin/callback",
        "https://127.0.0.1:8999/admin/callback",
    ],
)
def test_an_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(idp, config, redirect_uri):
    url, _ = session.begin_sign_in(config, redirect_uri)
    status, headers, page = fetch(url)
    assert status == 400 and "location" not in headers
    assert "text/html" in headers["content-type"][0] and "chưa được đăng ký" in page
    # nor does posting the sign-in form straight to the provider, with the right password, yield a code
    fields = {**query_of(url), "client_id": CLIENT_ID}
    status, headers, page = post_login(idp, fields)
    assert status == 400 and "location" not in headers and "chưa được đăng ký" in page


def test_the_provider_requires_pkce_s256_and_refuses_plain(idp, config):
    url, cookie = session.begin_sign_in(config, CALLBACK)
    verifier = cookie.partition(".")[2]
    without = {k: v for k, v in query_of(url).items() if not k.startswith("code_challenge")}
    plain = {**without, "code_challenge": verifier, "code_challenge_method": "plain"}
    for params in (without, plain):
        status, headers, _ = fetch(f"{idp.issuer}/oauth2/authorize?{urllib.parse.urlencode(params)}")
        assert status == 302  # the client and its redirect URI are good: it hears of the error
        answer = query_of(headers["location"][0])
        assert answer["error"] == "invalid_request" and answer["state"] == params["state"] and "code" not in answer
        status, headers, _ = post_login(idp, params)
        assert status == 302 and "code" not in query_of(headers["location"][0])
    # the token endpoint wants the verifier too
    code, _ = code_and_state(provider_redirect(idp, url))
    form = {"grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code, "redirect_uri": CALLBACK}
    status, _, body = fetch(f"{idp.issuer}/oauth2/token", data=urllib.parse.urlencode(form).encode())
    assert (status, json.loads(body)) == (400, {"error": "invalid_grant"})


def test_redirect_uris_can_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(REDIRECT_URIS_ENV, f"{CALLBACK}, http://localhost:8000/admin/callback")
    assert LocalIdentityProvider(tmp_path).redirect_uris == {CALLBACK, "http://localhost:8000/admin/callback"}
    assert LocalIdentityProvider(tmp_path, redirect_uris=[]).redirect_uris == set()
    with pytest.raises(ValueError, match="redirect URI"):
        LocalIdentityProvider(tmp_path, redirect_uris=["localhost:8000/admin/callback"])


# --- the local stack ------------------------------------------------------------------------------
def test_the_local_stack_registers_the_consoles_callback_and_its_session_opens_the_console(live_stack):
    from chalicelib import wiring

    config = wiring.token_config()
    callback = f"{live_stack.api_url}/admin/callback"
    assert callback in live_stack.idp.redirect_uris
    url, cookie = session.begin_sign_in(config, callback)
    location = provider_redirect(live_stack.idp, url, "quantri.hanoi")
    query = query_of(location)
    token = session.finish_sign_in(config, query["code"], query["state"], cookie, callback)
    status, _, page = fetch(f"{live_stack.api_url}/admin", cookie=f"{session.SESSION_COOKIE}={token}")
    assert status == 200 and "phạm vi P01" in page
