"""What officials keep per agency: the web origins allowed to embed its survey widgets, and its locations.

Locations (điểm tiếp nhận) are the agency's service counters, offices and web pages; a survey link or QR
code names one, and the server writes it into the form's attribution token (chalicelib/domain/attribution.py)
only when it belongs to the agency.

The agencies themselves are reference data (chalicelib/reference/agencies.py); their settings are
stored with a version, and every change is written in one transaction with its audit entry, so a
change is never stored without its entry and two administrators saving at once cannot overwrite
each other (the second gets 409 and sees the first one's list).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

import idna

from chalicelib.domain.audit import Actor, AuditLog
from chalicelib.domain.errors import DomainError, EditConflict

MAX_ORIGINS = 20
# An agency's counters, offices and pages. The bounds keep its settings item, and an audit entry holding the
# list before and after, well under DynamoDB's 400 KB (200 x ~760 bytes at most); they also bound its
# attribution aggregate item (aggregation.py).
MAX_LOCATIONS = 200
LOCATION_KINDS = ("counter", "office", "page")
LOCATION_CODE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
MAX_LOCATION_NAME = 120
MAX_LOCATION_SERVICE = 120
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOOPBACK = ("localhost", "127.0.0.1")


class InvalidOrigin(DomainError):
    code = "invalid_origin"
    status = 400
    message_vi = (
        "Địa chỉ trang web không hợp lệ. Mỗi dòng một địa chỉ dạng https://ten-mien.gov.vn "
        "(không có đường dẫn phía sau); có thể dùng https://*.ten-mien.gov.vn cho mọi tên miền con."
    )
    message_en = (
        "Invalid web origin. One per line, like https://example.gov.vn (no path); "
        "https://*.example.gov.vn allows every subdomain."
    )


class InvalidAgencyLocation(DomainError):
    code = "invalid_agency_location"
    status = 400
    message_vi = (
        "Điểm tiếp nhận không hợp lệ. Mỗi điểm cần mã (chữ, số, dấu gạch ngang, tối đa 32 ký tự, không trùng), "
        "tên và loại: quầy (counter), trụ sở (office) hoặc trang web (page)."
    )
    message_en = (
        "Invalid location. Each needs a unique code (letters, digits, hyphens, at most 32), "
        "a name and a kind: counter, office or page."
    )


class AgencyNotFound(DomainError):
    code = "agency_not_found"
    status = 404
    message_vi = "Không có cơ quan với mã này."
    message_en = "No agency with that code."


@lru_cache(maxsize=1)
def _public_suffixes() -> Any:
    from publicsuffixlist import PublicSuffixList  # the Public Suffix List, bundled (no download)

    return PublicSuffixList()


def normalize_origin(text: str, index: int = 0, allow_loopback: bool = True) -> str:
    """'https://Sub.Example.gov.vn/' -> 'https://sub.example.gov.vn'; raises InvalidOrigin with the line's index.

    Only what a CSP frame-ancestors source can name: https (http only for this machine), a host (a
    leading '*.' allowed), an optional port; no path, query, fragment or credentials.
    """
    value = text.strip()
    field = f"embed_origins[{index}]"
    match = re.fullmatch(r"(https?)://([^/?#@\s]+?)(?::(\d{1,5}))?/?", value, flags=re.IGNORECASE)
    if not match:
        raise InvalidOrigin(field=field, details=[{"value": value[:200]}])
    scheme, host, port = match.group(1).lower(), match.group(2).lower().rstrip("."), match.group(3)
    wildcard = host.startswith("*.")
    bare = host[2:] if wildcard else host
    try:  # UTS #46 / IDNA 2008, as browsers do (Python's own codec is IDNA 2003: ß.vn would become ss.vn)
        ascii_host = bare if bare.isascii() else idna.encode(bare, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise InvalidOrigin(field=field, details=[{"value": value[:200]}]) from None
    labels = ascii_host.split(".")
    # No top-level domain is numeric: a numeric or hex last label makes the host an IPv4 address in a
    # browser's eyes, short forms included (10.1 is 10.0.0.1, 0x7f.0.0.1 is 127.0.0.1).
    is_ip = re.fullmatch(r"(0x[0-9a-f]*|\d+)", labels[-1]) is not None
    if not all(_LABEL.match(label) for label in labels) or (len(labels) < 2 and ascii_host not in _LOOPBACK):
        raise InvalidOrigin(field=field, details=[{"value": value[:200]}])
    if is_ip and ascii_host not in _LOOPBACK:
        raise InvalidOrigin(
            "Hãy dùng tên miền, không dùng địa chỉ IP.", "Use a domain name, not an IP address.", field=field
        )
    if ascii_host in _LOOPBACK and not allow_loopback:
        raise InvalidOrigin(
            "Không dùng địa chỉ máy cục bộ (localhost) ở môi trường chính thức.",
            "localhost is not an embedding site outside development.",
            field=field,
        )
    if wildcard and (is_ip or len(labels) < 2 or _public_suffixes().is_public(ascii_host)):
        raise InvalidOrigin(
            "Dấu * chỉ dùng cho tên miền của cơ quan (ví dụ https://*.hanoi.gov.vn), "
            "không dùng cho cả một đuôi tên miền chung như *.gov.vn hay *.com.vn.",
            "A wildcard must sit under the agency's own domain, not a public suffix such as *.gov.vn.",
            field=field,
        )
    if scheme == "http" and ascii_host not in _LOOPBACK:
        raise InvalidOrigin(
            "Trang nhúng phải dùng https:// (http:// chỉ dùng cho máy thử nghiệm localhost).",
            "Embedding pages must use https:// (http:// only for localhost).",
            field=field,
        )
    if port is not None and not 0 < int(port) < 65536:
        raise InvalidOrigin(field=field, details=[{"value": value[:200]}])
    default_port = {"https": 443, "http": 80}[scheme]
    suffix = f":{int(port)}" if port and int(port) != default_port else ""
    return f"{scheme}://{'*.' if wildcard else ''}{ascii_host}{suffix}"


def normalize_origins(values: Iterable[Any], allow_loopback: bool = True) -> tuple[str, ...]:
    """Normalized, de-duplicated, in the order given; blank lines are skipped."""
    seen: dict[str, None] = {}
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise InvalidOrigin(field=f"embed_origins[{index}]")
        if value.strip():
            seen.setdefault(normalize_origin(value, index, allow_loopback), None)
    if len(seen) > MAX_ORIGINS:
        raise InvalidOrigin(
            f"Tối đa {MAX_ORIGINS} địa chỉ cho mỗi cơ quan.",
            f"At most {MAX_ORIGINS} origins per agency.",
            field="embed_origins",
        )
    return tuple(seen)


@dataclass(frozen=True)
class Location:
    """A place a response can come from: a service counter (quầy), an office (trụ sở) or a web page (trang web)."""

    code: str
    name: str  # Vietnamese, as citizens see it on a poster
    kind: str  # counter | office | page
    service: str | None = None  # the public service or procedure served there (free text or its code)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "kind": self.kind, "service": self.service}


def _text(value: Any, limit: int) -> str:
    return unicodedata.normalize("NFC", value).strip()[:limit] if isinstance(value, str) else ""


def normalize_location(value: Any, index: int = 0) -> Location:
    """One location from a dict (API) with its index for the error's field; raises InvalidAgencyLocation."""
    field = f"locations[{index}]"
    if not isinstance(value, dict):
        raise InvalidAgencyLocation(field=field)
    raw_code = value.get("code")
    code = raw_code.strip() if isinstance(raw_code, str) else ""
    if not LOCATION_CODE.match(code):
        raise InvalidAgencyLocation(
            "Mã điểm tiếp nhận chỉ gồm chữ không dấu, số và dấu gạch ngang, tối đa 32 ký tự (ví dụ Q01, MOTCUA-1).",
            "A location code is letters, digits and hyphens, at most 32 (e.g. Q01, MOTCUA-1).",
            field=f"{field}.code",
            details=[{"value": str(value.get("code"))[:64]}],
        )
    name = _text(value.get("name"), MAX_LOCATION_NAME + 1)
    if not name or len(name) > MAX_LOCATION_NAME:
        raise InvalidAgencyLocation(
            f"Tên điểm tiếp nhận {code} là bắt buộc, tối đa {MAX_LOCATION_NAME} ký tự.",
            f"Location {code} needs a name of at most {MAX_LOCATION_NAME} characters.",
            field=f"{field}.name",
        )
    kind = value.get("kind")
    if kind not in LOCATION_KINDS:
        raise InvalidAgencyLocation(
            f"Loại của điểm {code} phải là counter (quầy), office (trụ sở) hoặc page (trang web).",
            f"The kind of {code} must be counter, office or page.",
            field=f"{field}.kind",
        )
    service = _text(value.get("service"), MAX_LOCATION_SERVICE + 1)
    if len(service) > MAX_LOCATION_SERVICE:
        raise InvalidAgencyLocation(
            f"Dịch vụ của điểm {code}: tối đa {MAX_LOCATION_SERVICE} ký tự.",
            f"The service of {code}: at most {MAX_LOCATION_SERVICE} characters.",
            field=f"{field}.service",
        )
    return Location(code, name, str(kind), service or None)


def normalize_locations(values: Iterable[Any]) -> tuple[Location, ...]:
    """Each location checked, in the order given; codes unique regardless of case (Q01 and q01 are one)."""
    out: list[Location] = []
    seen: set[str] = set()
    for index, value in enumerate(values):
        location = normalize_location(value, index)
        if location.code.lower() in seen:
            raise InvalidAgencyLocation(
                f"Mã {location.code} bị trùng.",
                f"Code {location.code} appears twice.",
                field=f"locations[{index}].code",
            )
        seen.add(location.code.lower())
        out.append(location)
    if len(out) > MAX_LOCATIONS:
        raise InvalidAgencyLocation(
            f"Tối đa {MAX_LOCATIONS} điểm tiếp nhận cho mỗi cơ quan.",
            f"At most {MAX_LOCATIONS} locations per agency.",
            field="locations",
        )
    return tuple(out)


def parse_location_lines(text: str) -> list[dict[str, Any]]:
    """The console's textarea: one location a line, 'code | name | kind | service' (service optional)."""
    rows: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        parts += [""] * (4 - len(parts))
        code, name, kind, service = parts[0], parts[1], parts[2].lower(), "|".join(parts[3:]).strip(" |")
        rows.append({"code": code, "name": name, "kind": kind, "service": service or None})
    return rows


def location_lines(locations: Iterable[Location]) -> str:
    """The inverse of parse_location_lines, for the console's textarea."""
    return "\n".join(
        " | ".join([loc.code, loc.name, loc.kind, *([loc.service] if loc.service else [])]) for loc in locations
    )


@dataclass(frozen=True)
class AgencySettings:
    agency: str
    embed_origins: tuple[str, ...] = ()
    version: int = 0  # 0: never saved
    updated_at: str | None = None
    updated_by: str | None = None
    locations: tuple[Location, ...] = ()

    def location(self, code: str) -> Location | None:
        return next((loc for loc in self.locations if loc.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "embed_origins": list(self.embed_origins),
            "locations": [loc.to_dict() for loc in self.locations],
            "version": self.version,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }


class AgencySettingsStore(Protocol):
    def get(self, agency: str) -> AgencySettings: ...

    def cached(self, agency: str) -> AgencySettings:
        """The settings as read at most a minute ago (citizens' pages: CSP, attribution)."""
        ...

    def all(self) -> dict[str, AgencySettings]: ...

    def save_change(self, settings: AgencySettings, expected_version: int) -> Any:
        """The storage write of a change, to run in the audit entry's transaction (conditional on the version)."""
        ...


class AgencyService:
    def __init__(
        self,
        known: Callable[[str], Any],
        store: AgencySettingsStore,
        audit: AuditLog,
        today: Callable[[], date] = date.today,
        allow_loopback: bool = False,  # localhost origins: development stages only
    ) -> None:
        self._allow_loopback = allow_loopback
        self._known = known  # agency code -> reference Agency (with valid_on(day)) or None
        self._store = store
        self._audit = audit
        self._today = today

    def settings(self, agency: str) -> AgencySettings:
        self._require_known(agency)
        return self._store.get(agency)

    def set_embed_origins(
        self, actor: Actor, agency: str, origins: Iterable[Any], expected_version: int, at: str
    ) -> AgencySettings:
        return self.save(actor, agency, expected_version, at, origins=origins)

    def set_locations(
        self, actor: Actor, agency: str, locations: Iterable[Any], expected_version: int, at: str
    ) -> AgencySettings:
        return self.save(actor, agency, expected_version, at, locations=locations)

    def save(
        self,
        actor: Actor,
        agency: str,
        expected_version: int,
        at: str,
        *,
        origins: Iterable[Any] | None = None,
        locations: Iterable[Any] | None = None,
    ) -> AgencySettings:
        """Replace the origins, the locations, or both (None: keep), in one audited, versioned write."""
        if not self._require_known(agency).valid_on(self._today()):
            raise AgencyNotFound(
                "Cơ quan này đã kết thúc hoạt động; hãy cấu hình cho cơ quan kế thừa.",
                "This agency no longer exists; configure its successor instead.",
                field="agency",
            )
        before = self._store.get(agency)
        cleaned = before.embed_origins if origins is None else normalize_origins(origins, self._allow_loopback)
        places = before.locations if locations is None else normalize_locations(locations)
        if before.version != expected_version:
            raise EditConflict(details=[{"current_version": before.version}])
        after = AgencySettings(agency, cleaned, before.version + 1, at, actor.sub, places)
        changed = [
            name
            for name, old, new in (
                ("embed_origins", before.embed_origins, cleaned),
                ("locations", before.locations, places),
            )
            if old != new
        ]
        if not changed:
            return before  # nothing changed: no write, no audit entry
        action = f"agency.{changed[0]}" if len(changed) == 1 else "agency.settings"
        self._audit.record(
            actor,
            action,
            "agency",
            agency,
            {**{name: _audited(before, name) for name in changed}, "version": before.version},
            {**{name: _audited(after, name) for name in changed}, "version": after.version},
            alongside=[self._store.save_change(after, expected_version)],
        )
        return after

    def _require_known(self, agency: str) -> Any:
        found = self._known(agency)
        if found is None:
            raise AgencyNotFound(field="agency")
        return found


def _audited(settings: AgencySettings, name: str) -> Any:
    return settings.to_dict()[name]


def origin_allowed(origin: str, registered: Iterable[str]) -> bool:
    """Whether a browser-reported origin is one of the registered ones (a '*.' entry covers its subdomains)."""
    try:
        seen = normalize_origin(origin)
    except InvalidOrigin:
        return False
    if seen.startswith(("https://*.", "http://*.")):
        return False
    scheme, _, rest = seen.partition("://")
    for entry in registered:
        if entry == seen:
            return True
        entry_scheme, _, entry_rest = entry.partition("://")
        if entry_scheme == scheme and entry_rest.startswith("*.") and rest.endswith(entry_rest[1:]):
            return True
    return False


def frame_ancestors(origins: Iterable[str]) -> str:
    """The CSP source list for a widget page: the agency's origins, or 'none' when it has none."""
    listed = " ".join(origins)
    return listed or "'none'"


class AgencyReference(Protocol):
    """The agency registry (chalicelib/reference/agencies.py): every ministry and province with validity dates."""

    def get(self, code: str) -> Any: ...

    def all(self) -> tuple[Any, ...]: ...

    def on(self, day: date | None = None) -> tuple[Any, ...]: ...


class OpenSurveys(Protocol):
    def list_current(self) -> list[Any]: ...


class AgencyDirectory:
    """What is read about agencies: the public reference, widget framing, embed code, the console's views."""

    def __init__(
        self,
        registry: AgencyReference,
        store: AgencySettingsStore,
        surveys: OpenSurveys,
        today: Callable[[], date] = date.today,
    ) -> None:
        self._registry, self._store, self._surveys, self._today = registry, store, surveys, today

    def reference(self, on: str | None, include_ended: bool) -> dict[str, Any]:
        """Agencies in force on a day (default today), or every agency ever known."""
        from chalicelib.domain.errors import BadQuery

        if include_ended:
            return {"on": None, "agencies": [a.to_dict() for a in self._registry.all()]}
        try:
            day = date.fromisoformat(on) if on else self._today()
        except ValueError:
            raise BadQuery("Ngày không hợp lệ (dạng YYYY-MM-DD).", "Invalid date (YYYY-MM-DD).", field="on") from None
        return {"on": day.isoformat(), "agencies": [a.to_dict() for a in self._registry.on(day)]}

    def agency(self, code: str) -> Any:
        found = self._registry.get(code)
        if found is None:
            raise AgencyNotFound(field="agency")
        return found

    def frame_ancestors(self, agency: str | None) -> str:
        """The CSP frame-ancestors of a widget page embedded by this agency ('none' if unknown or unset)."""
        if not agency or self._registry.get(agency) is None:
            return "'none'"
        return frame_ancestors(self._store.get(agency).embed_origins)

    def in_force_settings(self, agency: str) -> AgencySettings | None:
        """An agency's settings if it exists and is in force today, else None (what a form's attribution checks)."""
        found = self._registry.get(agency)
        if found is None or not found.valid_on(self._today()):
            return None
        return self._store.get(agency)

    def locations(self, agency: str) -> list[dict[str, Any]]:
        """An agency's counters, offices and pages (code, name, kind, service), in the order its officials keep."""
        self.agency(agency)
        return [loc.to_dict() for loc in self._store.get(agency).locations]

    def location(self, agency: str, code: str) -> dict[str, Any] | None:
        """One of an agency's locations by its code (exact), or None (unknown agency or code)."""
        if self._registry.get(agency) is None:
            return None
        found = self._store.get(agency).location(code)
        return found.to_dict() if found else None

    def names(self, agency: str | None) -> dict[str, str]:
        """Codes to names for the dashboard: every agency's (agency None), or one agency's locations."""
        if agency is None:
            return {a.code: str(a.name) for a in self._registry.all()}
        return {loc.code: loc.name for loc in self._store.get(agency).locations}

    def embed_snippets(self, agency: str, base: str) -> list[dict[str, str]]:
        """What an agency's web team pastes into its site, one per open survey."""
        import html

        snippets = []
        registered = self.locations(agency)
        # the prompt at the agency's first registered counter or page; without one it is the agency's alone
        spot = f' data-par-location="{registered[0]["code"]}"' if registered else ""
        for survey in self._surveys.list_current():
            if not survey.is_open():
                continue
            title = survey.definition["title"]
            title_vi = str(title.get("vi") if isinstance(title, dict) else title)
            src = f"{base}/s/{survey.id}?embed=1&amp;agency={agency}"
            label = html.escape(title_vi, quote=True)  # pasted as HTML into the agency's page
            snippets.append(
                {
                    "survey_id": survey.id,
                    "title": title_vi,
                    "script": (
                        f'<div data-par-survey="{survey.id}" data-par-agency="{agency}"></div>\n'
                        f'<script src="{base}/static/embed.js" async></script>'
                    ),
                    "iframe": (
                        f'<iframe src="{src}" title="{label}" loading="lazy" '
                        'style="width:100%;min-height:640px;border:0"></iframe>'
                    ),
                    # the short "how satisfied were you?" prompt that opens the form in a dialog; the
                    # location (a counter or page registered above) attributes its responses
                    "prompt": (
                        f'<div data-par-survey="{survey.id}" data-par-agency="{agency}" data-par-mode="prompt"'
                        f"{spot}></div>\n"
                        f'<script src="{base}/static/embed.js" async></script>'
                    ),
                }
            )
        return snippets

    def overview(self, principal: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The console's agency list: every agency for a national official, their own for an agency's; and ended ones."""
        national = principal.can("console.view", None)
        if national:
            shown, stored = list(self._registry.on(self._today())), self._store.all()
        else:
            own = self._registry.get(principal.agency or "")
            shown = [own] if own else []
            stored = {own.code: self._store.get(own.code)} if own else {}
        rows = [
            {
                **a.to_dict(),
                "origins": len(stored[a.code].embed_origins) if a.code in stored else 0,
                "locations": len(stored[a.code].locations) if a.code in stored else 0,
            }
            for a in shown
        ]
        today = set(self._registry.on(self._today()))
        ended = [a.to_dict() for a in self._registry.all() if a not in today] if national else []
        return rows, ended

    def console_view(self, principal: Any, agency: str, base: str) -> dict[str, Any]:
        """One agency's console page: reference, settings, embed code, and what this official may do there."""
        reference = self.agency(agency)
        return {
            "agency": reference.to_dict(),
            "settings": self._store.get(agency).to_dict(),
            "snippets": self.embed_snippets(agency, base),
            # an agency that has ended keeps its history but takes no new settings
            "can_edit": principal.can("agency.manage", agency) and reference.valid_on(self._today()),
            "can_manage_users": principal.can("user.manage", agency),
        }
