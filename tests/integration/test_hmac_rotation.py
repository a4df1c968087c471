"""Identifier hashes use the current key of the Secrets Manager secret; a rotation is picked up without a deploy."""

from __future__ import annotations

import hashlib
import hmac
import json
import os

from chalicelib import wiring
from chalicelib.store import secrets as keys
from tests.integration.helpers import fresh_submissions, post


def test_identifiers_are_hashed_with_the_current_key_and_rotation_takes_effect(live_stack, sipas):
    sm = live_stack.client("secretsmanager")
    arn = sm.create_secret(
        Name="par-local-identifier-hmac-test", SecretString=json.dumps({"current": "k1", "k1": "first-key"})
    )["ARN"]
    os.environ["PAR_HMAC_SECRET_ID"] = arn
    wiring.reset()
    table = live_stack.physical_id("ResponsesTable")
    ddb = live_stack.client("dynamodb")
    try:
        first, second = fresh_submissions(sipas, 2)
        first["contact"] = second["contact"] = {"phone": "0912345678"}
        assert post(live_stack, first)[0] == 201
        item = ddb.get_item(TableName=table, Key={"response_id": {"S": first["id"]}})["Item"]
        expected = hmac.new(b"first-key", b"phone:84912345678", hashlib.sha256).hexdigest()
        assert item["hmac_key_id"]["S"] == "k1"
        assert item["identifiers"]["M"]["phone"]["S"] == expected
        # WHEN the key is rotated (a new current key, the old one kept) and the cache period ends
        sm.put_secret_value(
            SecretId=arn, SecretString=json.dumps({"current": "k2", "k1": "first-key", "k2": "second-key"})
        )
        keys.forget()
        assert post(live_stack, second)[0] == 201
        item = ddb.get_item(TableName=table, Key={"response_id": {"S": second["id"]}})["Item"]
        assert item["hmac_key_id"]["S"] == "k2"
        assert (
            item["identifiers"]["M"]["phone"]["S"]
            == hmac.new(b"second-key", b"phone:84912345678", hashlib.sha256).hexdigest()
        )
    finally:
        os.environ.pop("PAR_HMAC_SECRET_ID", None)
        wiring.reset()
        live_stack.drain()
