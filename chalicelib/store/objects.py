"""S3 access for the reports bucket and the data lake."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib.store.aws import client

DELETE_BATCH = 1000  # DeleteObjects' limit of keys per request


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

    def keys(self, prefix: str = "") -> Iterator[str]:
        return (obj.key for obj in self.list(prefix))

    def delete(self, key: str) -> None:
        """In a versioned bucket this only hides the object behind a delete marker: see forget_history."""
        client("s3").delete_object(Bucket=self.bucket, Key=key)

    def forget_history(self, prefix: str) -> int:
        """Delete every version under the prefix that is not an object's current one (overwritten versions,
        deleted objects and their delete markers). Returns how many went; a no-op on an unversioned bucket."""
        s3 = client("s3")
        earlier: list[dict[str, str]] = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix):
            for version in page.get("Versions", []):
                if not version["IsLatest"]:
                    earlier.append({"Key": version["Key"], "VersionId": version["VersionId"]})
            for marker in page.get("DeleteMarkers", []):  # once the data versions behind it are gone, nothing is left
                earlier.append({"Key": marker["Key"], "VersionId": marker["VersionId"]})
        for start in range(0, len(earlier), DELETE_BATCH):
            result = s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": earlier[start : start + DELETE_BATCH], "Quiet": True}
            )
            if result.get("Errors"):
                raise RuntimeError(
                    f"S3 kept {len(result['Errors'])} earlier versions under {prefix}: {result['Errors'][:3]}"
                )
        return len(earlier)
