"""Behind API Gateway with binary media types */* (infra/package.py), request bodies arrive base64-encoded."""

from __future__ import annotations

import base64
import json
from typing import Any


def proxy_event(path: str, body: bytes, content_type: str) -> dict[str, Any]:
    return {
        "resource": "/surveys/{survey_id}/responses",
        "path": path,
        "httpMethod": "POST",
        "headers": {"Content-Type": content_type, "Accept": "*/*"},
        "multiValueHeaders": {"Content-Type": [content_type], "Accept": ["*/*"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"survey_id": "sipas-2026"},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/surveys/{survey_id}/responses",
            "httpMethod": "POST",
            "stage": "api",
            "identity": {"sourceIp": "198.51.100.7", "userAgent": "test"},
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


class Context:
    function_name = "par-api"
    aws_request_id = "req-1"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:ap-southeast-1:123456789012:function:par-api"

    def get_remaining_time_in_millis(self) -> int:
        return 29000


def test_a_base64_encoded_json_body_is_read_as_json(monkeypatch) -> None:
    import app
    from chalicelib import wiring
    from tests.unit.test_edge_security import BASE_ENV

    for name, value in {**BASE_ENV, "PAR_STAGE": "local"}.items():
        monkeypatch.setenv(name, value)
    wiring.reset()

    # A JSON array, base64-encoded by API Gateway: read as JSON, it is "not an object"; read as the base64 text
    # it would be "not JSON". The first proves the edge decodes what the gateway encoded.
    try:
        answer = app.app(proxy_event("/surveys/sipas-2026/responses", b"[]", "application/json"), Context())
    finally:
        wiring.reset()
    error = json.loads(answer["body"])["error"]
    assert answer["statusCode"] == 400 and error["code"] == "invalid_json"
    assert error["message_en"] == "The body must be a JSON object."
