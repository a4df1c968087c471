"""Field progress: each household visit counted once into completed / replaced / refused / not at home / vacant.

Counters: the national partition `progress#<year>#<sample_id>` holds `all` and `province#<code>`; each
province's partition `progress#<year>#<sample_id>#<province>` holds its `all`, `village#<commune>#<village>`
and `enum#<username>` (a province's manager reads one partition, the Ministry one small one). A visit is counted by one transaction that writes its
marker `mark#<visit_id>` (only if absent) and adds to its four counters, so a redelivered stream record
changes nothing. Visits never change once written (a resend is the same ULID), so only INSERTs count.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.fieldwork import OUTCOMES, TransactionConflict

COUNTS = ("completed", "replaced", "refused", "not_at_home", "vacant")
RETRIES = 4  # a transaction that met another on the same counters, tried again before the batch fails


class ProgressStore(Protocol):
    def transact(self, actions: Sequence[dict[str, Any]]) -> None: ...
    def put_action(self, item: Mapping[str, Any], new: bool = True, table: str | None = None) -> dict[str, Any]: ...
    def add_action(self, pk: str, sk: str, counts: Mapping[str, int]) -> dict[str, Any]: ...
    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Counted:
    counted: int
    duplicates: int
    requests: int


def progress_pk(year: int, sample_id: str) -> str:
    return f"progress#{year}#{sample_id}"


def contribution(visit: Mapping[str, Any]) -> dict[str, int]:
    outcome = str(visit.get("outcome"))
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    counts = {outcome: 1}
    if outcome == "completed" and int(visit.get("replacement") or 0) > 0:
        counts["replaced"] = 1
    return counts


def views(visit: Mapping[str, Any]) -> list[tuple[str, str]]:
    national = progress_pk(int(visit["year"]), str(visit["sample_id"]))
    province = f"{national}#{visit['province_code']}"
    return [
        (national, "all"),
        (national, f"province#{visit['province_code']}"),
        (province, "all"),
        (province, f"village#{visit['commune_code']}#{visit['village_code']}"),
        (province, f"enum#{visit['enumerator']}"),
    ]


def is_visit(image: Mapping[str, Any] | None) -> bool:
    return bool(image) and str((image or {}).get("pk", "")).startswith("visit#")


class ProgressService:
    def __init__(self, store: ProgressStore, sleep: Callable[[float], None] = time.sleep) -> None:
        self._store, self._sleep = store, sleep

    @staticmethod
    def is_visit(image: Mapping[str, Any] | None) -> bool:
        return is_visit(image)

    def count(self, visits: Iterable[Mapping[str, Any]]) -> Counted:
        counted = duplicates = requests = 0
        for visit in visits:
            counts = contribution(visit)
            marker = {"pk": f"mark#{visit['visit_id']}", "sk": "-", "counted": True}
            actions = [self._store.put_action(marker, new=True)]
            actions += [self._store.add_action(pk, sk, counts) for pk, sk in views(visit)]
            for attempt in range(RETRIES + 1):
                requests += 1
                try:
                    self._store.transact(actions)
                except TransactionConflict as exc:
                    if exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
                        duplicates += 1  # counted before: a redelivered record
                        break
                    if attempt == RETRIES:
                        raise  # the batch fails and is retried from this record: markers keep it exact
                    # the national and province counters are hot: another shard's transaction held them
                    self._sleep(random.uniform(0.05, 0.2) * 2**attempt)  # noqa: S311 - jitter, not a secret
                    continue
                counted += 1
                break
        return Counted(counted, duplicates, requests)

    def progress(self, year: int, sample_id: str, province: str | None = None) -> dict[str, Any]:
        """National: the total and each province. A province: its total, villages and enumerators."""
        pk = progress_pk(year, sample_id) + (f"#{province}" if province else "")
        out: dict[str, Any] = {"year": year, "sample_id": sample_id, "total": _zero()}
        if province:
            out |= {"province_code": province, "villages": {}, "enumerators": {}}
        else:
            out["provinces"] = {}
        for row in self._store.query(pk):
            sk = str(row["sk"])
            counts = {name: int(row.get(name) or 0) for name in COUNTS}
            if sk == "all":
                out["total"] = counts
            elif sk.startswith("province#") and not province:
                out["provinces"][sk.split("#", 1)[1]] = counts
            elif sk.startswith("village#") and province:
                _, commune, village = sk.split("#", 2)
                out["villages"][f"{commune}/{village}"] = counts
            elif sk.startswith("enum#") and province:
                out["enumerators"][sk.split("#", 1)[1]] = counts
        return out


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)
