"""Domain errors: a stable code, an HTTP status, and messages in Vietnamese (first) and English."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the edge maps to an HTTP answer."""

    code = "error"
    status = 400
    message_vi = "Yêu cầu không hợp lệ."
    message_en = "The request is not valid."

    def __init__(
        self,
        message_vi: str | None = None,
        message_en: str | None = None,
        *,
        field: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.message_vi = message_vi or self.message_vi
        self.message_en = message_en or self.message_en
        self.field = field
        self.details = details or []
        super().__init__(f"{self.code}: {self.message_en}")

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message_vi, "message_en": self.message_en}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return {"error": body}


class BodyTooLarge(DomainError):
    code = "body_too_large"
    status = 413
    message_vi = "Dữ liệu gửi lên quá lớn."
    message_en = "The request body is too large."


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415
    message_vi = "Định dạng dữ liệu không được hỗ trợ; hãy gửi JSON (application/json)."
    message_en = "Unsupported content type; send JSON (application/json)."


class InvalidJson(DomainError):
    code = "invalid_json"
    status = 400
    message_vi = "Dữ liệu gửi lên không phải JSON hợp lệ."
    message_en = "The request body is not valid JSON."


class InvalidSubmission(DomainError):
    code = "invalid_submission"
    status = 400
    message_vi = "Phiếu trả lời chưa hợp lệ."
    message_en = "The submission is not valid."


class InvalidLocation(DomainError):
    code = "invalid_location"
    status = 422
    message_vi = "Tỉnh/thành phố hoặc xã/phường không đúng."
    message_en = "Unknown province, or the commune is not in that province."


class SurveyNotFound(DomainError):
    code = "survey_not_found"
    status = 404
    message_vi = "Không tìm thấy phiếu khảo sát."
    message_en = "No such survey."


class SurveyVersionMismatch(DomainError):
    code = "survey_version_not_found"
    status = 422
    message_vi = "Phiên bản phiếu khảo sát không tồn tại; vui lòng tải lại trang."
    message_en = "That version of the survey does not exist; reload the form."


class SurveyClosed(DomainError):
    code = "survey_closed"
    status = 403
    message_vi = "Cuộc khảo sát này hiện không nhận phiếu trả lời."
    message_en = "This survey is not accepting responses now."


class ResponseIdConflict(DomainError):
    code = "response_id_conflict"
    status = 409
    message_vi = "Mã phiếu này đã được dùng cho một phiếu trả lời khác."
    message_en = "This response id was already used for different content."


class InvalidDefinition(DomainError):
    code = "invalid_definition"
    status = 400
    message_vi = "Định nghĩa phiếu khảo sát không hợp lệ."
    message_en = "The survey definition is not valid."


class InvalidScope(DomainError):
    code = "invalid_scope"
    status = 400
    message_vi = "Phạm vi kết quả không hợp lệ (dùng all, p<mã tỉnh> hoặc c<mã xã>)."
    message_en = "Invalid results scope (use all, p<province code> or c<commune code>)."


class EditConflict(DomainError):
    code = "edit_conflict"
    status = 409
    message_vi = "Nội dung này vừa được người khác thay đổi. Vui lòng tải lại trang, xem thay đổi rồi sửa lại."
    message_en = "Someone else changed this a moment ago. Reload, look at their change and edit again."


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message_vi = "Không tìm thấy nội dung yêu cầu."
    message_en = "Not found."


class BadQuery(DomainError):
    code = "invalid_query"
    status = 400
    message_vi = "Tham số truy vấn không hợp lệ."
    message_en = "Invalid query parameter."
