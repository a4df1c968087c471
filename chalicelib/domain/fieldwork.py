"""Direct surveys in the field: enumerators' assignments, their devices' tokens, household visits.

docs/FIELDWORK.md is the contract. A field manager assigns an enumerator of the province to villages of
the year's sample; the assignment copies each village's household slots (stage probability, π, weight),
so a visit is checked with one read. The enumerator's device holds a token signed by the server
(DeviceTokens); each household visit is POSTed with it, keyed by the ULID the device made when the visit
started. A completed visit is a response (channel "field") whose `collection` carries the selection: the
visit and the response are written in one transaction, so a resend is the same receipt and nothing is
counted twice. Progress is counted from the table's stream (field_progress.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.audit import Actor
from chalicelib.domain.clock import stamp, utcnow
from chalicelib.domain.errors import DomainError, InvalidSubmission, NotFound, ResponseIdConflict
from chalicelib.domain.responses import RECEIVED, Response
from chalicelib.domain.sampling import adult_to_interview
from chalicelib.domain.survey import Survey

MANAGE = "fieldwork.manage"
COLLECT = "field.collect"
OUTCOMES = ("completed", "refused", "not_at_home", "vacant")
TOKEN_PREFIX = "f1"  # noqa: S105 - the token format's version, not a secret
KEY_PURPOSE = "field-device"
TOKEN_DAYS = 30  # a field season's stretch without a sign-in; access changes end it sooner (revocations)
_TOKEN = re.compile(r"^f1\.([A-Za-z0-9_-]{1,1500})\.([A-Za-z0-9_-]{43})$")


# ------------------------------------------------------------------------------------------ errors
class TransactionConflict(Exception):
    """A condition of a write failed (the store's word); reasons[i] is the i-th action's code ('None': fine)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


class FieldTokenInvalid(DomainError):
    code = "field_token_invalid"
    status = 401
    message_vi = "Thiết bị chưa được liên kết hoặc mã thiết bị không hợp lệ; vui lòng liên kết lại thiết bị."
    message_en = "This device is not linked or its token is not valid; link the device again."


class FieldTokenExpired(DomainError):
    code = "field_token_expired"
    status = 401
    message_vi = "Liên kết thiết bị đã hết hạn hoặc đã bị thu hồi; vui lòng đăng nhập và liên kết lại."
    message_en = "The device link expired or was revoked; sign in and link the device again."


class HouseholdNotAssigned(DomainError):
    code = "household_not_assigned"
    status = 403
    message_vi = "Hộ này không thuộc địa bàn được phân công cho điều tra viên."
    message_en = "This household is not in a village assigned to this enumerator."


class HouseholdAlreadyInterviewed(DomainError):
    code = "household_already_interviewed"
    status = 409
    message_vi = "Hộ này đã có một phiếu phỏng vấn hoàn thành; mỗi hộ chỉ được phỏng vấn một lần."
    message_en = "This household already has a completed interview; each household is interviewed once."


class StoreBusy(DomainError):
    code = "store_busy"
    status = 503
    message_vi = "Hệ thống đang bận, phiếu chưa được lưu; thiết bị sẽ tự gửi lại."
    message_en = "The store is busy and nothing was saved; send again shortly."


class InvalidAssignment(DomainError):
    code = "invalid_assignment"
    status = 422
    message_vi = "Phân công không hợp lệ."
    message_en = "The assignment is not valid."


class ChannelNeedsCredentials(DomainError):
    code = "channel_needs_credentials"
    status = 403
    message_vi = "Phiếu điều tra trực tiếp gửi qua ứng dụng của điều tra viên; phiếu giấy nhập qua màn hình nhập liệu."
    message_en = "Field interviews come through the enumerators' app; paper forms through the clerks' entry screen."


# ------------------------------------------------------------------------------------------ device tokens
@dataclass(frozen=True)
class DeviceIdentity:
    """Who a device token speaks for."""

    username: str
    name: str
    agency: str | None  # the enumerator's agency ("P01"); None for a national grant
    issued_at: float
    expires_at: float


class Enumerator(Protocol):
    @property
    def sub(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def login(self) -> str: ...
    def actor(self, permission: str) -> Actor: ...


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DeviceTokens:
    """`f1.<payload>.<mac>`: HMAC-SHA256 under a key derived for this purpose; every key of the ring verifies."""

    def __init__(
        self,
        keys: Callable[[], list[bytes]],
        revoked_at: Callable[[str], float | None],
        clock: Callable[[], float] = time.time,
        days: int = TOKEN_DAYS,
    ) -> None:
        self._keys, self._revoked_at, self._clock, self._days = keys, revoked_at, clock, days

    def issue(self, principal: Enumerator) -> dict[str, Any]:
        actor = principal.actor(COLLECT)
        now = self._clock()
        expires = now + self._days * 86400
        payload = {"u": principal.login.lower(), "d": principal.name[:120], "i": round(now, 3), "e": int(expires)}
        if actor.agency:
            payload["a"] = actor.agency
        body = f"{TOKEN_PREFIX}.{_b64(json.dumps(payload, separators=(',', ':'), ensure_ascii=False).encode())}"
        mac = _b64(hmac.new(self._keys()[0], body.encode(), hashlib.sha256).digest())
        return {
            "token": f"{body}.{mac}",
            "expires_at": stamp(datetime.fromtimestamp(expires, tz=utcnow().tzinfo)),
            "enumerator": {"username": payload["u"], "name": payload["d"], "agency": actor.agency},
        }

    def verify(self, token: str | None) -> DeviceIdentity:
        match = _TOKEN.match(token or "")
        if not match:
            raise FieldTokenInvalid()
        body = token[: token.rindex(".")] if token else ""
        given = match.group(2)
        if not any(
            hmac.compare_digest(_b64(hmac.new(key, body.encode(), hashlib.sha256).digest()), given)
            for key in self._keys()
        ):
            raise FieldTokenInvalid()
        try:
            payload = json.loads(_unb64(match.group(1)))
            identity = DeviceIdentity(
                str(payload["u"]), str(payload["d"]), payload.get("a"), float(payload["i"]), float(payload["e"])
            )
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise FieldTokenInvalid() from None
        if identity.expires_at <= self._clock():
            raise FieldTokenExpired()
        revoked = self._revoked_at(identity.username)
        if revoked is not None and identity.issued_at <= revoked:
            raise FieldTokenExpired()
        return identity


# ------------------------------------------------------------------------------------------ ports
class FieldStore(Protocol):
    def get(self, pk: str, sk: str = "-", consistent: bool = False) -> dict[str, Any] | None: ...
    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]: ...
    def put_new(self, item: Mapping[str, Any]) -> bool: ...
    def transact(self, actions: Sequence[dict[str, Any]]) -> None: ...
    def put_action(self, item: Mapping[str, Any], new: bool = True, table: str | None = None) -> dict[str, Any]: ...


class Directory(Protocol):
    def get_user(self, username: str) -> Any: ...


class Recorder(Protocol):
    def record(self, actor: Actor, action: str, target_type: str, target_id: str, before: Any, after: Any) -> Any: ...


class Catalog(Protocol):
    def get(self, survey_id: str, version: int | None = None) -> Survey: ...


class Caller(Protocol):
    @property
    def sub(self) -> str: ...
    @property
    def login(self) -> str: ...
    def actor(self, permission: str) -> Actor: ...
    def can(self, permission: str, target: Any = None) -> bool: ...


class Checker(Protocol):
    """What a completed interview's answers go through: the survey's own rules and cleaning (submissions.py)."""

    def validate(self, survey: Survey, body: dict[str, Any]) -> None: ...
    def answers_of(self, survey: Survey, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]: ...
    def hash_identifier(self, kind: str, value: str) -> str: ...
    @property
    def key_id(self) -> str: ...


# ------------------------------------------------------------------------------------------ keys
def assignment_key(year: int, sample_id: str, username: str) -> tuple[str, str]:
    return f"assign#{year}#{sample_id}", f"enum#{username}"


def enumerator_key(username: str, year: int, sample_id: str) -> tuple[str, str]:
    return f"enumerator#{username}", f"{year}#{sample_id}"


def visit_key(visit_id: str) -> tuple[str, str]:
    return f"visit#{visit_id}", "-"


def household_id(commune_code: str, village_code: str, position: int) -> str:
    return f"{commune_code}-{village_code}-{position}"


def province_agency(province_code: str) -> str:
    return f"P{province_code}"


# ------------------------------------------------------------------------------------------ the service
@dataclass(frozen=True)
class VisitReceipt:
    visit_id: str
    household: str
    outcome: str
    received_at: str
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "receipt": self.visit_id,
            "status": RECEIVED,
            "outcome": self.outcome,
            "household_id": self.household,
            "received_at": self.received_at,
        }


class FieldworkService:
    def __init__(
        self,
        store: FieldStore,
        samples: Callable[[int, str], Mapping[str, Any]],
        catalog: Catalog,
        checker: Checker,
        directory: Directory,
        recorder: Recorder,
        responses_table: str,
        visit_validator: Callable[[Any], Any],
        assignment_validator: Callable[[Any], Any],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store, self._samples, self._catalog, self._checker = store, samples, catalog, checker
        self._directory, self._recorder, self._responses_table = directory, recorder, responses_table
        self._visit_schema, self._assignment_schema = visit_validator, assignment_validator
        self._clock = clock

    # --- assignments (field managers) ------------------------------------------------------------
    def assign(
        self, principal: Caller, year: int, sample_id: str, username: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Set the enumerator's villages in this sample (an empty list ends the assignment); audited."""
        _check_schema(self._assignment_schema, body, InvalidAssignment)
        sample = self._samples(year, sample_id)
        username = username.strip().lower()
        user = self._enumerator(username)
        survey_id = str(body["survey_id"])
        self._catalog.get(survey_id)  # an unknown survey is a 404 before anything is written
        villages = _villages_of(sample)
        chosen: list[dict[str, Any]] = []
        provinces: set[str] = set()
        for index, wanted in enumerate(body["villages"]):
            key = (wanted["commune_code"], wanted["village_code"])
            village = villages.get(key)
            if village is None:
                raise InvalidAssignment(
                    f"Thôn/tổ {key[1]} của xã {key[0]} không có trong mẫu {sample_id}.",
                    f"Village {key[1]} of commune {key[0]} is not in sample {sample_id}.",
                    field=f"/villages/{index}",
                )
            if any(c["commune_code"] == key[0] and c["village_code"] == key[1] for c in chosen):
                continue
            chosen.append(village)
            provinces.add(village["province_code"])
        if len(provinces) > 1:
            raise InvalidAssignment(
                "Một phân công chỉ gồm các thôn/tổ của một tỉnh.",
                "An assignment covers the villages of one province.",
                field="/villages",
            )
        province = next(iter(provinces), None)
        if province is not None:
            agency = province_agency(province)
            if not principal.can(MANAGE, agency):
                from chalicelib.auth.principal import Forbidden

                raise Forbidden(field="/villages")
            if user.agency not in ("national", agency):
                raise InvalidAssignment(
                    f"Điều tra viên {username} thuộc {user.agency}, không thuộc tỉnh {province}.",
                    f"Enumerator {username} belongs to {user.agency}, not to province {province}.",
                    field="/villages",
                )
        pk, sk = assignment_key(year, sample_id, username)
        before = self._store.get(pk, sk, consistent=True)
        earlier = str((before or {}).get("province_code") or "")
        if earlier and not principal.can(MANAGE, province_agency(earlier)):
            from chalicelib.auth.principal import Forbidden

            raise Forbidden()
        if province is None and not (before or {}).get("villages"):
            raise InvalidAssignment(
                f"Điều tra viên {username} chưa được giao thôn nào trong mẫu này; hãy chọn ít nhất một thôn.",
                f"Enumerator {username} has no villages in this sample to end; choose at least one village.",
                field="/villages",
            )
        now = stamp(self._clock())
        item = {
            "enumerator": username,
            "name": user.name,
            "agency": user.agency,
            "year": year,
            "sample_id": sample_id,
            "survey_id": survey_id,
            "province_code": province or (before or {}).get("province_code", ""),
            "villages": chosen,
            "updated_at": now,
            "updated_by": principal.login,
        }
        self._recorder.record(
            principal.actor(MANAGE),
            "fieldwork.assign",
            "assignment",
            f"{year}/{sample_id}/{username}",
            _summary(before),
            _summary(item),
        )
        epk, esk = enumerator_key(username, year, sample_id)
        self._store.transact(
            [
                self._store.put_action({"pk": pk, "sk": sk, **item}, new=False),
                self._store.put_action({"pk": epk, "sk": esk, **item}, new=False),
            ]
        )
        return _public_assignment(item)

    def assignments(self, principal: Caller, year: int, sample_id: str) -> dict[str, Any]:
        """The sample's assignments the caller may see (a province's manager: that province's)."""
        self._samples(year, sample_id)
        pk = f"assign#{year}#{sample_id}"
        items = [
            i
            for i in self._store.query(pk, "enum#")
            if i.get("villages") and principal.can(MANAGE, province_agency(str(i["province_code"])))
        ]
        return {"year": year, "sample_id": sample_id, "assignments": [_public_assignment(i) for i in items]}

    def _enumerator(self, username: str) -> Any:
        try:
            user = self._directory.get_user(username)
        except DomainError as exc:  # the directory's own "no such user"
            if exc.status != 404:
                raise
            user = None
        if user is None or "enumerator" not in user.roles or not user.enabled:
            raise InvalidAssignment(
                f"Không có điều tra viên đang hoạt động tên {username}.",
                f"No active enumerator named {username}.",
                field="/enumerator",
            )
        return user

    # --- the device ------------------------------------------------------------------------------
    def package(self, device: DeviceIdentity) -> dict[str, Any]:
        """What the app works from offline: the enumerator's assignments and each survey version's definition."""
        from chalicelib.domain.errors import SurveyNotFound

        items = []
        surveys: dict[str, Any] = {}
        for item in self._store.query(f"enumerator#{device.username}"):
            survey_id = str(item["survey_id"])
            if not item.get("villages"):
                continue
            if survey_id not in surveys:
                try:
                    survey = self._catalog.get(survey_id)
                except SurveyNotFound:
                    continue  # no public version (yet): nothing to collect with
                surveys[survey_id] = {"version": survey.version, "definition": survey.definition}
            items.append(item)
        return {
            "enumerator": {"username": device.username, "name": device.name, "agency": device.agency},
            "assignments": [
                {**_public_assignment(i), "survey_version": surveys[str(i["survey_id"])]["version"]} for i in items
            ],
            "surveys": surveys,
            "server_time": stamp(self._clock()),
        }

    def record_visit(self, device: DeviceIdentity, body: Mapping[str, Any]) -> VisitReceipt:
        _check_schema(self._visit_schema, body, InvalidSubmission)
        visit_id = str(body["id"])
        ref = body["household"]
        year, sample_id = int(ref["year"]), str(ref["sample_id"])
        assignment = self._store.get(*enumerator_key(device.username, year, sample_id))
        slot, village = _slot(assignment, ref["commune_code"], ref["village_code"], int(ref["position"]))
        if assignment is None or slot is None or village is None or assignment.get("survey_id") != body["survey_id"]:
            raise HouseholdNotAssigned(field="/household")
        if device.agency not in (None, "national", province_agency(str(village["province_code"]))):
            # an enumerator moved to another province keeps no reach into the old one's households
            raise HouseholdNotAssigned(field="/household")
        outcome = str(body["outcome"])
        digest = _digest(body)
        now = self._clock()
        hh = household_id(village["commune_code"], village["village_code"], int(slot["position"]))
        visit = {
            "visit_id": visit_id,
            "year": year,
            "sample_id": sample_id,
            "survey_id": body["survey_id"],
            "household_id": hh,
            "province_code": village["province_code"],
            "commune_code": village["commune_code"],
            "village_code": village["village_code"],
            "position": int(slot["position"]),
            "replacement": int(slot["replacement"]),
            "outcome": outcome,
            "enumerator": device.username,
            "agency": device.agency,
            "recorded_at": stamp(now),
            "content_hash": digest,
        }
        if body.get("note"):
            visit["note"] = str(body["note"])
        respondent = body.get("respondent")
        if respondent is not None:  # a refusal or absence of the chosen adult may carry it too
            visit["adults"], visit["selected_adult"] = _respondent(sample_id, hh, respondent)
        elif outcome == "completed":
            raise InvalidSubmission(
                "Phỏng vấn hoàn thành cần ghi số người từ 18 tuổi trở lên của hộ và người được chọn phỏng vấn "
                "(respondent: adults, selected).",
                "A completed interview needs the household's number of adults (18+) and the one selected "
                "(respondent: adults, selected).",
                field="/respondent",
            )
        actions = []
        if outcome == "completed":
            response = self._response(device, body, visit, slot, village, now, digest)
            visit["survey_version"] = response.survey_version
            visit["response_id"] = response.response_id
            actions.append(self._store.put_action(response.to_item(), new=True, table=self._responses_table))
            # One completed interview per household: a second (two enumerators sharing a village, a phone
            # reset that forgot what it sent) would be counted twice with the household's full weight.
            done = {
                "pk": f"hhdone#{year}#{sample_id}#{hh}",
                "sk": "-",
                "visit_id": visit_id,
                "at": visit["recorded_at"],
            }
            actions.append(self._store.put_action(done, new=True))
        elif body.get("answers"):
            raise InvalidSubmission(
                "Chỉ phỏng vấn hoàn thành mới có câu trả lời.",
                "Only a completed interview has answers.",
                field="/answers",
            )
        visit_item = {"pk": visit_key(visit_id)[0], "sk": "-", **visit}
        try:
            if actions:  # the visit and its response together, or neither
                self._store.transact([self._store.put_action(visit_item, new=True), *actions])
            elif not self._store.put_new(visit_item):
                raise TransactionConflict(["ConditionalCheckFailed"])
        except TransactionConflict as conflict:
            if "ConditionalCheckFailed" not in conflict.reasons:
                raise StoreBusy() from None  # contention or throttling: nothing was written, send again
            existing = self._store.get(*visit_key(visit_id), consistent=True)
            if existing is not None and existing.get("content_hash") == digest:
                return VisitReceipt(
                    visit_id,
                    str(existing["household_id"]),
                    str(existing["outcome"]),
                    str(existing["recorded_at"]),
                    False,
                )
            if existing is None and conflict.reasons[-1:] == ["ConditionalCheckFailed"] and len(actions) == 2:
                raise HouseholdAlreadyInterviewed(field="/household") from None
            raise ResponseIdConflict(field="/id") from None
        return VisitReceipt(visit_id, hh, outcome, visit["recorded_at"], True)

    def _response(
        self,
        device: DeviceIdentity,
        body: Mapping[str, Any],
        visit: Mapping[str, Any],
        slot: Mapping[str, Any],
        village: Mapping[str, Any],
        now: datetime,
        digest: str,
    ) -> Response:
        pinned = body.get("survey_version")
        survey = self._catalog.get(str(body["survey_id"]), int(pinned) if pinned else None)
        if survey.status == "draft":
            raise InvalidSubmission("Phiên bản phiếu chưa được công bố.", "This survey version is not published.")
        answers_in = body.get("answers")
        if not isinstance(answers_in, dict):
            raise InvalidSubmission(
                "Phỏng vấn hoàn thành cần có câu trả lời.", "A completed interview needs its answers.", field="/answers"
            )
        envelope = {
            "id": body["id"],
            "answers": answers_in,
            "channel": "field",
            "province": village["province_code"],
            "commune": village["commune_code"],
        }
        self._checker.validate(survey, envelope)
        answers, identifiers = self._checker.answers_of(survey, answers_in)
        paradata = dict(body["paradata"])
        device_id = str(paradata.pop("device_id"))
        identifiers["device_id"] = self._checker.hash_identifier("device_id", device_id)
        if not paradata.get("gps_consent"):
            paradata.pop("gps", None)  # no consent, no position: dropped even if a client sent one
        paradata["enumerator"] = device.username
        adults = int(visit["adults"])
        collection = {
            "kind": "field",
            "year": visit["year"],
            "sample_id": visit["sample_id"],
            "household_id": visit["household_id"],
            "commune_code": visit["commune_code"],
            "village_code": visit["village_code"],
            "position": visit["position"],
            "replacement": visit["replacement"],
            "probability": slot["probability"],
            # the respondent's selection: one adult of `adults` (docs/FIELDWORK.md "One adult per household"),
            # so the respondent's π is the household's / adults and the weight the household's × adults
            "adults": adults,
            "selected_adult": visit["selected_adult"],
            "respondent_probability": 1 / adults,
            "household_inclusion_probability": slot["inclusion_probability"],
            "household_weight": slot["weight"],
            "inclusion_probability": slot["inclusion_probability"] / adults,
            "weight": slot["weight"] * adults,
            "enumerator": device.username,
        }
        return Response(
            response_id=str(body["id"]),
            survey_id=survey.id,
            survey_version=survey.version,
            status=RECEIVED,
            answers=answers,
            channel="field",
            province=str(village["province_code"]),
            commune=str(village["commune_code"]),
            paradata=paradata,
            received_at=stamp(now),
            content_hash=digest,
            identifiers=identifiers,
            hmac_key_id=self._checker.key_id,
            agency=device.agency,
            attributed=True,  # counted by channel and agency like every response since attribution
            collection=collection,
        )


# ------------------------------------------------------------------------------------------ helpers
def _check_schema(validator: Callable[[Any], Any], body: Any, error: type[DomainError]) -> None:
    from fastjsonschema import JsonSchemaValueException

    try:
        validator(body)
    except JsonSchemaValueException as exc:
        path = "/" + "/".join(str(p) for p in exc.path[1:]) if len(exc.path) > 1 else "/"
        raise error(
            f"Dữ liệu không hợp lệ tại {path}.", f"Invalid value at {path}: {exc.message[:200]}", field=path
        ) from None


def _villages_of(sample: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Each village of the sample with its household slots (position, replacement rank, probabilities)."""
    units = sample["units"]
    province_of = {c["commune_code"]: c["province_code"] for c in units["communes"]}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for v in units["villages"]:
        out[(v["commune_code"], v["village_code"])] = {
            "province_code": province_of[v["commune_code"]],
            "commune_code": v["commune_code"],
            "village_code": v["village_code"],
            "village_name": v["village_name"],
            "households": [],
        }
    for h in units["households"]:
        out[(h["commune_code"], h["village_code"])]["households"].append(
            {
                "position": h["position"],
                "replacement": h["replacement"],
                "probability": h["probability"],
                "inclusion_probability": h["inclusion_probability"],
                "weight": h["weight"],
            }
        )
    return out


def _slot(
    assignment: Mapping[str, Any] | None, commune: str, village_code: str, position: int
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    if not assignment:
        return None, None
    for village in assignment.get("villages") or []:
        if village["commune_code"] == commune and village["village_code"] == village_code:
            for slot in village["households"]:
                if int(slot["position"]) == position:
                    return slot, village
            return None, village
    return None, None


def _respondent(sample_id: str, household: str, respondent: Mapping[str, Any]) -> tuple[int, int]:
    """The household's adults and the one interviewed, checked against the draw (the schema bounds both)."""
    adults, given = int(respondent["adults"]), int(respondent["selected"])
    chosen = adult_to_interview(sample_id, household, adults)
    if given != chosen:
        raise InvalidSubmission(
            f"Hộ {household} có {adults} người từ 18 tuổi trở lên: người cần phỏng vấn là người thứ {chosen} "
            f"trong danh sách từ lớn tuổi nhất đến nhỏ tuổi nhất, không phải người thứ {given}.",
            f"Household {household} has {adults} adults (18+): the one to interview is number {chosen} in the "
            f"list from oldest to youngest, not number {given}.",
            field="/respondent/selected",
        )
    return adults, chosen


def _digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _summary(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not item:
        return None
    return {
        "survey_id": item.get("survey_id"),
        "province_code": item.get("province_code"),
        "villages": [f"{v['commune_code']}/{v['village_code']}" for v in item.get("villages") or []],
    }


def _public_assignment(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "enumerator": item["enumerator"],
        "name": item.get("name", ""),
        "year": int(item["year"]),
        "sample_id": item["sample_id"],
        "survey_id": item["survey_id"],
        "province_code": item.get("province_code", ""),
        "villages": [
            {
                "commune_code": v["commune_code"],
                "village_code": v["village_code"],
                "village_name": v.get("village_name", ""),
                "households": [
                    {**h, "household_id": household_id(v["commune_code"], v["village_code"], int(h["position"]))}
                    for h in v["households"]
                ],
            }
            for v in item.get("villages") or []
        ],
        "updated_at": item.get("updated_at"),
        "updated_by": item.get("updated_by"),
    }


def not_found_sample(year: int, sample_id: str) -> NotFound:
    return NotFound(f"Không có mẫu {sample_id} của năm {year}.", f"No sample {sample_id} in {year}.")
