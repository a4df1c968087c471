"""S3 access for the reports bucket and the data lake."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib.store.aws import client


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    last_modified: str


class ObjectStore:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, key: str, body: bytes, content_type: str, metadata: dict[str, str] | None = None) -> None:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": body, "ContentType": content_type}
        if metadata:
            kwargs["Metadata"] = metadata
        client("s3").put_object(**kwargs)

    def get(self, key: str) -> bytes | None:
        s3 = client("s3")
        try:
            return s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        paginator = client("s3").get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield StoredObject(obj["Key"], int(obj["Size"]), obj["LastModified"].isoformat())
