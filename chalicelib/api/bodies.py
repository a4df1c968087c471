"""Officials' JSON request bodies: media type, size, JSON, then the contract in schemas/, with a field path."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.errors import DomainError

MAX_BYTES = 16 * 1024


class InvalidRequest(DomainError):
    code = "invalid_request"
    status = 400
    message_vi = "Dữ liệu gửi lên chưa đúng."
    message_en = "The request body is not valid."


def json_body(
    raw: bytes, content_type: str | None, schema: str, part: str | None = None, max_bytes: int = MAX_BYTES
) -> dict[str, Any]:
    from fastjsonschema import JsonSchemaValueException

    from chalicelib.contracts import part_validator, validator
    from chalicelib.domain.submissions import parse_json_object

    body = parse_json_object(raw, content_type or "", max_bytes)
    check = part_validator(schema, part) if part else validator(schema)
    try:
        check(body)
    except JsonSchemaValueException as exc:
        path = "/" + "/".join(str(p) for p in exc.path[1:]) if len(exc.path) > 1 else "/"
        if exc.rule == "required":
            missing = [m for m in exc.rule_definition or [] if m not in (exc.value or {})]
            path = f"{path.rstrip('/')}/{missing[0] if missing else ''}"
            raise InvalidRequest(
                f"Thiếu thông tin bắt buộc: {path}.", f"Missing required field: {path}.", field=path
            ) from None
        raise InvalidRequest(
            f"Giá trị không hợp lệ tại {path}.",
            f"Invalid value at {path} ({exc.rule}).",
            field=path,
            details=[{"rule": str(exc.rule), "message": str(exc.message)[:300]}],
        ) from None
    return body
