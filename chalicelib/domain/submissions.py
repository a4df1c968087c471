"""Accepting a submission (nộp phiếu): validate, bind to a survey version, store once, answer with a receipt."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.attribution import AttributionSigner, attribute
from chalicelib.domain.clock import stamp, utcnow
from chalicelib.domain.errors import (
    BodyTooLarge,
    InvalidJson,
    InvalidLocation,
    InvalidSubmission,
    ResponseIdConflict,
    SurveyClosed,
    UnsupportedMediaType,
)
from chalicelib.domain.responses import RECEIVED, Response
from chalicelib.domain.survey import Survey


class SurveyCatalog(Protocol):
    def get(self, survey_id: str, version: int | None = None) -> Survey: ...


class ResponseStore(Protocol):
    def create(self, response: Response) -> bool:
        """Store with one conditional write; False when the id already exists (nothing written)."""

    def get(self, response_id: str) -> Response | None: ...


class Locations(Protocol):
    def province(self, code: str) -> object | None: ...

    def contains(self, province_code: str, commune_code: str) -> bool: ...


@dataclass(frozen=True)
class ClientInfo:
    """What the edge knows of the sender beyond the body."""

    source_ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Receipt:
    response_id: str
    survey_id: str
    survey_version: int
    received_at: str
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "receipt": self.response_id,
            "survey_id": self.survey_id,
            "survey_version": self.survey_version,
            "status": RECEIVED,
            "received_at": self.received_at,
        }


class IdentifierHasher:
    """Keyed HMAC-SHA256 of personal identifiers: equal inputs link, the clear value is never stored.

    The key comes from a source asked on every use (cached by the source), so a rotation reaches a
    warm process without a restart; each response records the id of the key it was hashed with.
    """

    def __init__(self, key: bytes, key_id: str) -> None:
        self._source: Callable[[], tuple[str, bytes]] = lambda: (key_id, key)

    @classmethod
    def from_source(cls, source: Callable[[], tuple[str, bytes]]) -> IdentifierHasher:
        hasher = cls(b"", "")
        hasher._source = source
        return hasher

    @property
    def key_id(self) -> str:
        return self._source()[0]

    def __call__(self, kind: str, value: str) -> str:
        normalised = "".join(value.split()).lower()
        if kind == "phone":
            digits = "".join(ch for ch in normalised if ch.isdigit())
            normalised = "84" + digits[1:] if digits.startswith("0") else digits
        return hmac.new(self._source()[1], f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


JSON_TYPES = ("application/json",)
# Direct surveys' channels: an enumerator's device (fieldwork.py) or a clerk's entry, never the public route
DIRECT_CHANNELS = ("field", "paper")
_PROVINCE, _COMMUNE = re.compile(r"^[0-9]{2}$"), re.compile(r"^[0-9]{5}$")  # the envelope's patterns
# No contract nests deeper than a few levels (a submission: object > answers > list > value). Deeper
# bodies are refused before anything recursive sees them: json.loads, the schema validators (uniqueItems
# recurses into each item) and json.dumps would otherwise hit Python's recursion limit, a 500.
MAX_JSON_DEPTH = 32


def parse_json_object(raw: bytes | str | None, content_type: str, max_bytes: int) -> dict[str, Any]:
    """A request body that must be one JSON object: media type, then size, then JSON, then its shape."""
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if media not in JSON_TYPES:
        raise UnsupportedMediaType()
    data = raw.encode() if isinstance(raw, str) else (raw or b"")
    if len(data) > max_bytes:
        raise BodyTooLarge(
            f"Dữ liệu gửi lên quá lớn (tối đa {max_bytes // 1024} KB).",
            f"The body is larger than {max_bytes // 1024} KB.",
        )
    try:
        body = json.loads(data)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise InvalidJson(details=[{"reason": str(exc)[:200]}]) from exc
    if not isinstance(body, dict):
        raise InvalidJson("Dữ liệu gửi lên phải là một đối tượng JSON.", "The body must be a JSON object.")
    if _deeper_than(body, MAX_JSON_DEPTH):
        raise _too_deep()
    return body


def _too_deep() -> InvalidJson:
    return InvalidJson(
        f"Dữ liệu JSON lồng nhau quá sâu (tối đa {MAX_JSON_DEPTH} cấp).",
        f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels).",
    )


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels; a loop, not recursion, for the same reason."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class SubmissionService:
    def __init__(
        self,
        catalog: SurveyCatalog,
        store: ResponseStore,
        locations: Callable[[str], Locations],
        hasher: IdentifierHasher,
        max_body_bytes: int = 65536,
        clock: Callable[[], datetime] | None = None,
        attribution: AttributionSigner | None = None,
        embed_origins: Callable[[str], Iterable[str]] | None = None,
    ) -> None:
        self._catalog, self._store, self._locations = catalog, store, locations
        self._hasher, self._max_body = hasher, max_body_bytes
        self._clock = clock or utcnow
        self._attribution, self._embed_origins = attribution, embed_origins  # no signer: no token holds

    def parse_body(self, raw: bytes | str | None, content_type: str | None) -> dict[str, Any]:
        return parse_json_object(raw, content_type or "application/json", self._max_body)

    def submit(self, survey_id: str, body: dict[str, Any], client: ClientInfo) -> Receipt:
        if body.get("channel") in DIRECT_CHANNELS:
            from chalicelib.domain.fieldwork import ChannelNeedsCredentials

            raise ChannelNeedsCredentials(field="/channel")
        version = body.get("survey_version")
        # bool is an int in Python, and a DynamoDB number has at most 38 digits: anything else is the schema's to reject
        pinned = version if isinstance(version, int) and not isinstance(version, bool) and 0 < version < 10**9 else None
        survey = self._catalog.get(survey_id, pinned)
        now = self._clock()
        if not survey.is_open(now):
            raise SurveyClosed()
        self._validate(survey, body)
        response = self._to_response(survey, body, client, now)
        if self._store.create(response):
            return self._receipt(response, created=True)
        existing = self._store.get(response.response_id)
        if existing is None or existing.content_hash != response.content_hash:
            raise ResponseIdConflict(field="/id")
        return self._receipt(existing, created=False)

    # --- what direct surveys (fieldwork.py, paper entry) share with the public route ------------------
    def validate(self, survey: Survey, body: dict[str, Any]) -> None:
        """An envelope (id, answers, channel, province, commune) against the survey version's rules."""
        self._validate(survey, body)

    def answers_of(self, survey: Survey, raw: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """Validated answers as stored (texts NFC and trimmed, personal data only as keyed hashes)."""
        return _clean_answers(survey, raw, self._hasher)

    def hash_identifier(self, kind: str, value: str) -> str:
        return self._hasher(kind, value)

    @property
    def key_id(self) -> str:
        return self._hasher.key_id

    def _validate(self, survey: Survey, body: dict[str, Any]) -> None:
        """The published contract decides; when it refuses, the survey's own check says why in words."""
        from fastjsonschema import JsonSchemaValueException

        places = self._locations(survey.geography)
        province, commune = body.get("province"), body.get("commune")
        if isinstance(province, str) and _PROVINCE.match(province) and places.province(province) is None:
            raise InvalidLocation(field="/province")
        if isinstance(commune, str) and _COMMUNE.match(commune) and not places.contains(str(province), commune):
            raise InvalidLocation(field="/commune")
        try:
            survey.validator()(body)
        except JsonSchemaValueException as exc:
            answers = body.get("answers")
            problems = survey.check(answers) if isinstance(answers, dict) and _answers_path(exc) else []
            if problems:
                first = problems[0]
                raise InvalidSubmission(
                    first.message_vi,
                    first.message_en,
                    field=first.field,
                    details=[{"field": p.field, "message": p.message_vi} for p in problems[:50]],
                ) from None
            raise _explain(exc) from None
        if survey.has_commune_pickers:  # the one rule the compiled schema leaves to the reference data
            problems = survey.check(body["answers"])
            if problems:
                raise InvalidSubmission(problems[0].message_vi, problems[0].message_en, field=problems[0].field)

    def _to_response(self, survey: Survey, body: dict[str, Any], client: ClientInfo, now: datetime) -> Response:
        answers, identifiers = _clean_answers(survey, body["answers"], self._hasher)
        for kind, value in (body.get("contact") or {}).items():
            identifiers[kind] = self._hasher(kind, value)
        if client.source_ip:
            identifiers["ip"] = self._hasher("ip", client.source_ip)
        paradata = dict(body.get("paradata") or {})
        if client.user_agent:
            paradata["user_agent"] = client.user_agent[:256]
        origin = attribute(
            body.get("attribution"),
            body["channel"],
            survey.id,
            self._attribution,
            self._embed_origins,
            paradata.get("embed_origin"),
        )
        form_id = origin.notes.pop("form_id", None)
        if form_id:  # links the responses sent from one rendered form, like a device id: kept hashed only
            identifiers["form_id"] = self._hasher("form_id", form_id)
        paradata.update(origin.notes)
        return Response(
            response_id=body["id"],
            survey_id=survey.id,
            survey_version=survey.version,
            status=RECEIVED,
            answers=answers,
            channel=origin.channel,
            agency=origin.agency,
            location=origin.location,
            service=origin.service,
            attributed=True,
            province=body["province"],
            commune=body.get("commune"),
            paradata=paradata,
            received_at=stamp(now),
            content_hash=content_hash(body),
            honeypot=str(body.get("website") or "")[:500],
            identifiers=identifiers,
            hmac_key_id=self._hasher.key_id if identifiers else "",
        )

    @staticmethod
    def _receipt(response: Response, created: bool) -> Receipt:
        return Receipt(response.response_id, response.survey_id, response.survey_version, response.received_at, created)


def _clean_answers(survey: Survey, raw: Any, hasher: IdentifierHasher) -> tuple[dict[str, Any], dict[str, str]]:
    answers: dict[str, Any] = {}
    identifiers: dict[str, str] = {}
    for key, value in raw.items():
        item = survey.item(key)
        if item is not None and item.personal_data:
            if value.strip():
                identifiers[key] = hasher(key, value)
            continue
        if isinstance(value, str) and (item is None or item.kind == "text"):
            text = unicodedata.normalize("NFC", value).strip()
            if text:
                answers[key] = text
        elif value != []:
            answers[key] = value
    return answers, identifiers


def content_hash(body: dict[str, Any]) -> str:
    """The same body sent twice hashes the same: the test for an honest retry of a ULID."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _answers_path(exc: Any) -> bool:
    """Whether a schema error is about the answers (where the survey's rules live), not the envelope."""
    path = [str(p) for p in exc.path[1:]]
    return bool(path) and path[0] == "answers"


def _explain(exc: Any) -> InvalidSubmission:
    """Turn fastjsonschema's first error into a field path and a sentence a citizen can act on."""
    path = "/" + "/".join(str(p) for p in exc.path[1:]) if len(exc.path) > 1 else "/"
    rule = exc.rule
    if rule == "required":
        missing = exc.rule_definition
        name = next((m for m in missing if m not in (exc.value or {})), missing[0] if missing else "")
        path = f"{path.rstrip('/')}/{name}"
        if path.startswith("/answers/"):
            vi, en = "Vui lòng trả lời câu hỏi bắt buộc này.", "Please answer this required question."
        else:
            vi, en = f"Thiếu thông tin bắt buộc: {name}.", f"Missing required field: {name}."
    elif rule == "additionalProperties":
        extra = sorted(set(exc.value or {}) - set((exc.definition or {}).get("properties", {})))
        path = f"{path.rstrip('/')}/{extra[0]}" if extra else path
        vi, en = (
            "Có câu trả lời cho câu hỏi không có trong phiếu.",
            "An answer names a question this survey does not have.",
        )
    elif rule == "enum":
        vi, en = (
            "Phương án trả lời không hợp lệ; vui lòng chọn một trong các phương án đã cho.",
            "Not one of the offered options.",
        )
    elif rule in ("maxLength", "maxItems"):
        vi, en = "Nội dung quá dài hoặc chọn quá nhiều phương án.", "Too long, or too many options chosen."
    elif rule == "pattern" and path == "/id":
        vi, en = "Mã phiếu không hợp lệ (cần là ULID).", "The response id must be a ULID."
    else:
        vi, en = "Giá trị không hợp lệ.", f"Invalid value ({rule})."
    return InvalidSubmission(vi, en, field=path, details=[{"rule": str(rule), "message": str(exc.message)[:300]}])
