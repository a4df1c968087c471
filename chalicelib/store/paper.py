"""Paper forms' items in the fieldwork table (families in chalicelib/domain/paper.py and docs/FIELDWORK.md)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.responses import Response
from chalicelib.settings import settings
from chalicelib.store.fieldwork import FieldworkRepository, TransactionConflict


class PaperRepository:
    """The `paper#` families; an agreed or resolved form's item and its response in one transaction."""

    def __init__(self, fieldwork: FieldworkRepository | None = None, responses_table: str | None = None) -> None:
        self._fieldwork = fieldwork or FieldworkRepository()
        self._responses_table = responses_table or settings().responses_table

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self._fieldwork.get(pk, sk, consistent=True)

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        return self._fieldwork.query(pk, sk_prefix)

    def put_new(self, item: dict[str, Any]) -> bool:
        return self._fieldwork.put_new(item)

    def put_with_response(self, item: dict[str, Any], response: Response) -> bool:
        try:
            self._fieldwork.transact(
                [
                    self._fieldwork.put_action(item),
                    self._fieldwork.put_action(response.to_item(), table=self._responses_table),
                ]
            )
        except TransactionConflict:
            return False
        return True
