"""Where a response came from (nguồn phiếu): agency, location, service and channel, vouched for by the server.

The citizen's page `/s/{id}` is rendered with what its link says (agency, location, service, via, embed);
the server checks it (the agency is in force, the location is one of its own, a widget is framed by the
agency's registered origins only) and writes the outcome into the form as a signed token:

    v1.<payload, base64url JSON>.<HMAC-SHA256 of "v1.<payload>", base64url>

The payload carries the survey id, channel, agency, location, service, the server's render time (issue 12
reuses it as server-side timing) and a random form id. A submission that carries a valid token for its
survey, signed less than MAX_AGE ago, is recorded with the token's attribution, whatever its body says.
Without one (absent, forged, expired, another survey's), the response keeps only what needs no proof:
the body's channel if it is web, api, field or paper (else web), no agency, no location, and a note
in its paradata saying why. A citizen's answers are never refused for it.

The key is derived from the managed secret for this purpose only (chalicelib.store.secrets.console_keys);
every key of the keyring verifies, so a token issued just before a rotation still counts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.domain.clock import stamp, utcnow
from chalicelib.domain.survey import parse_time

TOKEN_VERSION = "v1"  # noqa: S105 - the token format's version, not a secret
KEY_PURPOSE = "attribution"
MAX_AGE = timedelta(days=7)  # a form left open over a weekend still counts; a harvested token dies within a week
MAX_FUTURE = timedelta(minutes=5)  # clock skew between containers
MAX_TOKEN_LENGTH = 2048

CHANNELS = ("web", "widget", "qr", "link", "field", "paper", "api")
PROVEN_CHANNELS = ("widget", "qr", "link")  # only a token says these
UNPROVEN_CHANNELS = ("web", "api", "field", "paper")  # the body's word (field and paper: until enumerator tokens)
VIAS = ("link", "qr", "widget")

# Why a response carries no attribution (paradata.attribution)
MISSING, INVALID, EXPIRED, OTHER_SURVEY = "missing", "invalid", "expired", "other_survey"
UNREGISTERED_ORIGIN = "unregistered"  # paradata.embed_origin_check: the observed origin is not the agency's

_TOKEN = re.compile(r"^v[0-9]{1,3}\.([A-Za-z0-9_-]{1,1800})\.([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Attribution:
    """What the server vouches for about one rendered form."""

    survey_id: str
    channel: str
    agency: str | None = None
    location: str | None = None
    service: str | None = None
    rendered_at: str = ""  # the server's render time (stamp)
    form_id: str = ""  # random: tells one rendered form's responses apart from another's
    embed_origin: str | None = None  # the embedding page's origin as the browser's Referer told the server

    def payload(self) -> dict[str, Any]:
        out = {"s": self.survey_id, "c": self.channel, "t": self.rendered_at, "n": self.form_id}
        optional = (("a", self.agency), ("l", self.location), ("v", self.service), ("o", self.embed_origin))
        return out | {key: value for key, value in optional if value}

    @classmethod
    def from_payload(cls, data: Any) -> Attribution:
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError("not an attribution payload")
        if data.get("c") not in CHANNELS or not data.get("s") or not data.get("t"):
            raise ValueError("incomplete attribution payload")
        return cls(
            survey_id=data["s"],
            channel=data["c"],
            agency=data.get("a"),
            location=data.get("l"),
            service=data.get("v"),
            rendered_at=data["t"],
            form_id=data.get("n", ""),
            embed_origin=data.get("o"),
        )


class AttributionRefused(ValueError):
    """A token that proves nothing: `reason` is INVALID, EXPIRED or OTHER_SURVEY."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AttributionSigner:
    """Signs and verifies attribution tokens; `keys()` gives the signing key first, then older ones."""

    def __init__(
        self,
        keys: Callable[[], list[bytes]],
        clock: Callable[[], datetime] | None = None,
        max_age: timedelta = MAX_AGE,
    ) -> None:
        self._keys, self._clock, self._max_age = keys, clock or utcnow, max_age

    def sign(self, attribution: Attribution) -> str:
        body = json.dumps(attribution.payload(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        signed = f"{TOKEN_VERSION}.{_b64(body.encode())}"
        return f"{signed}.{_b64(self._mac(self._keys()[0], signed))}"

    def verify(self, token: str, survey_id: str) -> Attribution:
        """The token's attribution, or AttributionRefused (forged or damaged, expired, for another survey)."""
        match = _TOKEN.match(token) if isinstance(token, str) and len(token) <= MAX_TOKEN_LENGTH else None
        if match is None or not token.startswith(TOKEN_VERSION + "."):
            raise AttributionRefused(INVALID)
        signed = token[: token.rindex(".")]
        try:
            mac = _unb64(match.group(2))
            if not any(hmac.compare_digest(self._mac(key, signed), mac) for key in self._keys()):
                raise AttributionRefused(INVALID)
            found = Attribution.from_payload(json.loads(_unb64(match.group(1))))
            rendered = parse_time(found.rendered_at)
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            if isinstance(exc, AttributionRefused):
                raise
            raise AttributionRefused(INVALID) from None
        now = self._clock()
        if rendered.tzinfo is None or rendered > now + MAX_FUTURE:
            raise AttributionRefused(INVALID)
        if now - rendered > self._max_age:
            raise AttributionRefused(EXPIRED)
        if found.survey_id != survey_id:
            raise AttributionRefused(OTHER_SURVEY)
        return found

    @staticmethod
    def _mac(key: bytes, signed: str) -> bytes:
        return hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()


@dataclass(frozen=True)
class Recorded:
    """What a response records about its origin, and the notes that go into its paradata."""

    channel: str
    agency: str | None = None
    location: str | None = None
    service: str | None = None
    notes: dict[str, str] = field(default_factory=dict)


def attribute(
    token: Any,
    claimed_channel: str,
    survey_id: str,
    signer: AttributionSigner | None,
    origins: Callable[[str], Iterable[str]] | None = None,
    observed_origin: str | None = None,
) -> Recorded:
    """The attribution rule: the token's word when it holds, else only what needs no proof (see the module)."""
    notes: dict[str, str] = {}
    try:
        if not token:
            raise AttributionRefused(MISSING)
        if signer is None:
            raise AttributionRefused(INVALID)
        found = signer.verify(str(token), survey_id)
    except AttributionRefused as refused:
        channel = claimed_channel if claimed_channel in UNPROVEN_CHANNELS else "web"
        notes["attribution"] = refused.reason
        if channel != claimed_channel:
            notes["claimed_channel"] = str(claimed_channel)[:16]
        return Recorded(channel, notes=notes)
    notes["rendered_at"] = found.rendered_at
    if found.form_id:
        notes["form_id"] = found.form_id
    if found.channel != claimed_channel:
        notes["claimed_channel"] = str(claimed_channel)[:16]
    origin = found.embed_origin or observed_origin  # the server saw the Referer; paradata is the client's word
    if found.channel == "widget" and found.agency and origin and origins is not None:
        # An observation only: the CSP decided who could frame the page, the token proves the agency.
        from chalicelib.domain.agencies import origin_allowed

        notes["embed_origin_check"] = (
            "registered" if origin_allowed(origin, origins(found.agency)) else UNREGISTERED_ORIGIN
        )
    return Recorded(found.channel, found.agency, found.location, found.service, notes)


class AttributionSettings(Protocol):
    """What the issuer reads of an agency: its settings if it is in force today (cached), else None."""

    def in_force_settings(self, agency: str) -> Any: ...


def origin_of(url: str | None) -> str | None:
    """'https://a.gov.vn/page?x' -> 'https://a.gov.vn' (a Referer header); None when it is not an http(s) URL."""
    match = re.match(r"^(https?://[^/?#@\s]{1,253})", url or "", flags=re.IGNORECASE)
    return match.group(1).lower() if match else None


class AttributionIssuer:
    """Checks what a survey link says and signs what holds of it, at the form's render."""

    def __init__(
        self,
        agencies: AttributionSettings,
        signer: AttributionSigner,
        clock: Callable[[], datetime] | None = None,
        nonce: Callable[[], str] = lambda: secrets.token_urlsafe(9),
    ) -> None:
        self._agencies, self._signer, self._clock, self._nonce = agencies, signer, clock or utcnow, nonce

    def check(
        self,
        survey_id: str,
        *,
        agency: str | None = None,
        location: str | None = None,
        service: str | None = None,
        via: str | None = None,
        embed: bool = False,
        referer: str | None = None,
    ) -> Attribution:
        """The attribution the server vouches for: what the link says, less what does not hold.

        An agency not in force, or unknown, is dropped (with its location); a location that is not the
        agency's is dropped; a widget (embed=1) names its agency only if the agency registered origins
        (otherwise the CSP lets nobody frame the page, so it cannot be the agency's widget).
        """
        settings = self._agencies.in_force_settings(agency) if agency else None
        if settings is not None and embed and not settings.embed_origins:
            settings = None
        place = settings.location(location) if settings is not None and location else None
        # "widget" only from the embedded page (whose CSP only the agency's registered sites pass); a link that
        # merely says via=widget is a link
        channel = "widget" if embed else via if via in VIAS and via != "widget" else "link" if settings else "web"
        return Attribution(
            survey_id=survey_id,
            channel=channel,
            agency=settings.agency if settings is not None else None,
            location=place.code if place else None,
            service=(service or (place.service if place else None)) if settings is not None else None,
            rendered_at=stamp(self._clock()),
            form_id=self._nonce(),
            embed_origin=origin_of(referer) if embed else None,
        )

    def issue(self, survey_id: str, **link: Any) -> tuple[str, Attribution]:
        """The token for the form, and what it says."""
        found = self.check(survey_id, **link)
        return self._signer.sign(found), found
