"""Responses in DynamoDB: one conditional put per submission, conditional status changes by the screener."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.domain.responses import RECEIVED, Response
from chalicelib.store.models import plain, response_model


class ResponseRepository:
    def create(self, response: Response) -> bool:
        """One PutItem with attribute_not_exists: a retry of the same id writes nothing and returns False."""
        from pynamodb.exceptions import PutError

        model = response_model()
        try:
            model(**response.to_item()).save(condition=model.response_id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, response_id: str) -> Response | None:
        model = response_model()
        try:
            return Response.from_item(_to_dict(model.get(response_id, consistent_read=True)))
        except model.DoesNotExist:
            return None

    def set_verdict(self, response_id: str, status: str, reasons: list[str], screened_at: str) -> bool:
        """Only a response still 'received' is screened: a redelivered record changes nothing."""
        from pynamodb.exceptions import UpdateError

        model = response_model()
        item = model(response_id=response_id)
        try:
            item.update(
                actions=[model.status.set(status), model.reasons.set(reasons), model.screened_at.set(screened_at)],
                condition=(model.status == RECEIVED) & model.response_id.exists(),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def withdraw(self, response_id: str, at: str) -> bool:
        """The citizen's deletion: answers and identifiers go, the receipt and its dates stay."""
        return self._update(
            response_id,
            "SET #s = :w, answers = :empty, withdrawn_at = :at REMOVE identifiers, honeypot, paradata",
            {":w": {"S": "withdrawn"}, ":empty": {"M": {}}, ":at": {"S": at}},
            "attribute_exists(response_id) AND #s <> :w",
        )

    def strip_personal(self, response_id: str, at: str) -> bool:
        """After the retention period: keyed hashes, honeypot text and the user agent go; answers stay."""
        return self._update(
            response_id,
            "SET personal_data_removed_at = :at REMOVE identifiers, honeypot, paradata.user_agent",
            {":at": {"S": at}},
            "attribute_exists(response_id)",
        )

    def _update(self, response_id: str, expression: str, values: dict[str, Any], condition: str) -> bool:
        from chalicelib.settings import settings
        from chalicelib.store.aws import client

        ddb = client("dynamodb")
        kwargs: dict[str, Any] = {
            "TableName": settings().responses_table,
            "Key": {"response_id": {"S": response_id}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if "#s" in expression or "#s" in condition:
            kwargs["ExpressionAttributeNames"] = {"#s": "status"}
        try:
            ddb.update_item(**kwargs)
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def iter_survey(self, survey_key: str) -> Iterator[dict[str, Any]]:
        """Every stored response of a survey version as a plain dict, read without the model on purpose:
        reconcile must count an item that no longer fits the model (it reports it), not stop on it."""
        return self._iter_index("by_survey", "survey_key", survey_key)

    def iter_field(self, survey_key: str) -> Iterator[dict[str, Any]]:
        """The field interviews of a survey version only (the sparse index by_field), as plain dicts."""
        return self._iter_index("by_field", "field_key", survey_key)

    def _iter_index(self, index: str, key: str, value: str) -> Iterator[dict[str, Any]]:
        from boto3.dynamodb.types import TypeDeserializer

        from chalicelib.settings import settings
        from chalicelib.store.aws import client
        from chalicelib.streams import to_plain

        deserializer = TypeDeserializer()
        paginator = client("dynamodb").get_paginator("query")
        pages = paginator.paginate(
            TableName=settings().responses_table,
            IndexName=index,
            KeyConditionExpression=f"{key} = :k",
            ExpressionAttributeValues={":k": {"S": value}},
        )
        for page in pages:
            for item in page["Items"]:
                yield to_plain({k: deserializer.deserialize(v) for k, v in item.items()})


def _to_dict(item: Any) -> dict[str, Any]:
    return {k: plain(v) for k, v in item.attribute_values.items()}
