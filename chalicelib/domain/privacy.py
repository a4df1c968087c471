"""Personal data of responses (Decree 13/2023/NĐ-CP): a citizen sees or withdraws a response by its receipt
code; after the survey's retention period the keyed hashes and the user agent are removed.

Neither changes what is counted wrongly: identifiers are never counted, so removing them moves no
aggregate; a withdrawn response is counted nowhere, so its counts leave the aggregates through the
ordinary stream delta. Both are written to the audit log. Both reach the data lake the same way:
the archive worker sees the change on the stream and rewrites the response's partition
(chalicelib/lake.py says what a lake row may hold).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from chalicelib.domain.audit import Actor
from chalicelib.domain.errors import DomainError
from chalicelib.domain.responses import WITHDRAWN, MalformedResponse, Response
from chalicelib.domain.survey import Survey, parse_time

DEFAULT_RETENTION_DAYS = 365
STATUS_LABELS = {
    "received": ("Đã nhận, đang kiểm tra", "Received, being checked"),
    "accepted": ("Hợp lệ, đã được tính", "Valid and counted"),
    "flagged": ("Đang được xem xét thêm", "Under review"),
    "rejected": ("Không được tính (dấu hiệu bất thường)", "Not counted (quality signals)"),
    WITHDRAWN: ("Đã rút theo yêu cầu, dữ liệu đã xóa", "Withdrawn at the citizen's request; data deleted"),
}
SYSTEM_RETENTION = Actor("system:retention", "Tác vụ xóa dữ liệu cá nhân theo thời hạn", "system", None)


class ReceiptNotFound(DomainError):
    code = "receipt_not_found"
    status = 404
    message_vi = "Không tìm thấy phiếu với mã này. Vui lòng kiểm tra lại mã phiếu (26 ký tự)."
    message_en = "No response with this receipt code. Check the 26-character code."


class AlreadyWithdrawn(DomainError):
    code = "already_withdrawn"
    status = 409
    message_vi = "Phiếu này đã được rút và xóa dữ liệu trước đó."
    message_en = "This response was already withdrawn."


class PrivacyStore(Protocol):
    def get(self, response_id: str) -> Response | None: ...

    def withdraw(self, response_id: str, at: str) -> bool: ...

    def strip_personal(self, response_id: str, at: str) -> bool: ...

    def iter_survey(self, survey_key: str) -> Iterable[dict[str, Any]]: ...


class AuditRecorder(Protocol):
    def record(
        self,
        actor: Actor,
        action: str,
        target_type: str,
        target_id: str,
        before: Any,
        after: Any,
        reason: str | None = None,
    ) -> Any: ...


@dataclass(frozen=True)
class RetentionRun:
    survey_key: str
    cutoff: str
    stripped: int


def holds_personal_data(response: Response) -> bool:
    """What the retention period removes: keyed identifiers, the honeypot's text, the user agent."""
    return bool(response.identifiers or response.paradata.get("user_agent") or response.honeypot)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class PrivacyService:
    def __init__(self, store: PrivacyStore, audit: AuditRecorder, clock: Callable[[], datetime] | None = None) -> None:
        self._store, self._audit = store, audit
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def view(self, receipt: str) -> dict[str, Any]:
        response = self._store.get(receipt) if _looks_like_ulid(receipt) else None
        if response is None:
            raise ReceiptNotFound(field="receipt")
        vi, en = STATUS_LABELS.get(response.status, (response.status, response.status))
        return {
            "receipt": response.response_id,
            "survey_id": response.survey_id,
            "survey_version": response.survey_version,
            "received_at": response.received_at,
            "status": response.status,
            "status_label": vi,
            "status_label_en": en,
            "answers": response.answers,
            "province": response.province,
            "commune": response.commune,
            # which identifiers are kept (as keyed hashes), never their values
            "personal_data_kept": sorted(response.identifiers),
        }

    def withdraw(self, receipt: str) -> dict[str, Any]:
        response = self._store.get(receipt) if _looks_like_ulid(receipt) else None
        if response is None:
            raise ReceiptNotFound(field="receipt")
        if response.status == WITHDRAWN:
            raise AlreadyWithdrawn()
        at = _stamp(self._clock())
        if not self._store.withdraw(receipt, at):
            raise AlreadyWithdrawn()
        actor = Actor(f"citizen:{receipt}", "Người trả lời phiếu", "citizen", None)
        self._audit.record(
            actor,
            "response.withdraw",
            "response",
            receipt,
            {"status": response.status, "identifiers": sorted(response.identifiers)},
            {"status": WITHDRAWN},
            reason="Yêu cầu xóa của người trả lời (Nghị định 13/2023/NĐ-CP)",
        )
        return {"receipt": receipt, "status": WITHDRAWN, "withdrawn_at": at}

    def strip_all_expired(self, surveys: Iterable[Survey], now: datetime | None = None) -> list[RetentionRun]:
        """The daily retention job: every survey version given (all of them, drafts and closed ones too)."""
        return [self.strip_expired(survey, now) for survey in surveys]

    def strip_expired(self, survey: Survey, now: datetime | None = None) -> RetentionRun:
        days = int(survey.definition.get("retention_days") or DEFAULT_RETENTION_DAYS)
        cutoff = (now or self._clock()) - timedelta(days=days)
        at = _stamp(now or self._clock())
        stripped = 0
        for item in self._store.iter_survey(survey.key):
            try:
                response = Response.from_item(item)
            except MalformedResponse:
                continue  # reconcile reports unreadable items; they hold nothing this job could strip safely
            if not holds_personal_data(response):
                continue
            if not response.received_at or parse_time(response.received_at) >= cutoff:
                continue
            if self._store.strip_personal(response.response_id, at):
                stripped += 1
        run = RetentionRun(survey.key, _stamp(cutoff), stripped)
        if stripped:
            self._audit.record(
                SYSTEM_RETENTION,
                "personal_data.strip",
                "survey",
                survey.key,
                None,
                {"responses": stripped, "received_before": run.cutoff, "retention_days": days},
                reason="Hết thời hạn lưu trữ dữ liệu cá nhân",
            )
        return run


def _looks_like_ulid(value: str) -> bool:
    return len(value) == 26 and value.isalnum() and value.upper() == value
