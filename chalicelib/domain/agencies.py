"""What officials keep per agency: the web origins allowed to embed its survey widgets.

The agencies themselves are reference data (chalicelib/reference/agencies.py); their settings are
stored with a version, and every change is written in one transaction with its audit entry, so a
change is never stored without its entry and two administrators saving at once cannot overwrite
each other (the second gets 409 and sees the first one's list).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

import idna

from chalicelib.domain.audit import Actor, AuditLog
from chalicelib.domain.errors import DomainError, EditConflict

MAX_ORIGINS = 20
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
class AgencySettings:
    agency: str
    embed_origins: tuple[str, ...] = ()
    version: int = 0  # 0: never saved
    updated_at: str | None = None
    updated_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "embed_origins": list(self.embed_origins),
            "version": self.version,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }


class AgencySettingsStore(Protocol):
    def get(self, agency: str) -> AgencySettings: ...

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
        if not self._require_known(agency).valid_on(self._today()):
            raise AgencyNotFound(
                "Cơ quan này đã kết thúc hoạt động; hãy cấu hình cho cơ quan kế thừa.",
                "This agency no longer exists; configure its successor instead.",
                field="agency",
            )
        cleaned = normalize_origins(origins, self._allow_loopback)
        before = self._store.get(agency)
        if before.version != expected_version:
            raise EditConflict(details=[{"current_version": before.version}])
        after = AgencySettings(agency, cleaned, before.version + 1, at, actor.sub)
        if cleaned == before.embed_origins:
            return before  # nothing changed: no write, no audit entry
        self._audit.record(
            actor,
            "agency.embed_origins",
            "agency",
            agency,
            {"embed_origins": list(before.embed_origins), "version": before.version},
            {"embed_origins": list(after.embed_origins), "version": after.version},
            alongside=[self._store.save_change(after, expected_version)],
        )
        return after

    def _require_known(self, agency: str) -> Any:
        found = self._known(agency)
        if found is None:
            raise AgencyNotFound(field="agency")
        return found


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

    def embed_snippets(self, agency: str, base: str) -> list[dict[str, str]]:
        """What an agency's web team pastes into its site, one per open survey."""
        import html

        snippets = []
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
        rows = [{**a.to_dict(), "origins": len(stored[a.code].embed_origins) if a.code in stored else 0} for a in shown]
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
