"""Synthetic field interviews: honest enumerators with realistic variation, dishonest ones who fabricate a share.

Used by the risk-score tests and usable by a bench: every figure comes from one seeded random.Random.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from chalicelib.domain.field_risk import InterviewRecord
from chalicelib.domain.responses import Response

SURVEY = "sipas-2026#1"
LOCAL = timezone(timedelta(hours=7))
SHORT, SIMILAR, CLUSTER, NIGHT, FAR, CLOCK = "short", "similar", "cluster", "night", "far", "clock"
ITEMS = [f"q9_{i:02d}" for i in range(1, 34)]
INTEREST = [f"q1_{i}" for i in range(1, 9)]


@dataclass(frozen=True)
class Cheat:
    """A dishonest enumerator: fabricates `share` of the interviews, with these traits."""

    enumerator: str
    share: float
    traits: frozenset[str]


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / 111_320.0, lon + east_m / (111_320.0 * math.cos(math.radians(lat)))


def _answers(rng: random.Random) -> dict[str, object]:
    mood = rng.gauss(3.9, 0.5)  # a respondent's overall satisfaction
    answers: dict[str, object] = {
        "sex": rng.choice(["1", "2"]),
        "age": rng.choice(["1", "2", "3", "4", "5"]),
        "education": rng.choice(["1", "2", "3", "4", "5", "6"]),
        "occupation": rng.choice(["1", "2", "3", "4", "5", "6", "7"]),
        "ethnicity": "1" if rng.random() < 0.85 else "2",
        "q4": rng.choices(["1", "2", "3"], [0.8, 0.15, 0.05])[0],
        "q5": rng.choices(["1", "2", "3"], [0.85, 0.12, 0.03])[0],
        "q2": sorted(rng.sample(["1", "2", "3", "4", "5", "6"], rng.randint(1, 3))),
    }
    for item in INTEREST:
        answers[item] = rng.choices(["1", "2", "3"], [0.2, 0.5, 0.3])[0]
    for item in ITEMS:
        answers[item] = str(min(5, max(1, round(mood + rng.gauss(0, 0.8)))))
    if rng.random() < 0.3:
        answers["q11_other"] = rng.choice(["Cần giảm thủ tục", "cán bộ nhiệt tình", "Đường sá xuống cấp", "không có"])
    return answers


def interviews(
    honest: int = 30, per_enumerator: int = 100, cheats: tuple[Cheat, ...] = (), seed: int = 7
) -> list[InterviewRecord]:
    rng = random.Random(seed)
    names = [f"enum{i:02d}" for i in range(honest)] + [c.enumerator for c in cheats]
    by_name = {c.enumerator: c for c in cheats}
    out: list[InterviewRecord] = []
    for e_index, name in enumerate(names):
        cheat = by_name.get(name)
        speed = rng.gauss(1.0, 0.15)  # some enumerators are quicker than others
        villages = []
        for v in range(4):
            lat, lon = _offset(21.0, 105.8, rng.uniform(-40_000, 40_000), rng.uniform(-40_000, 40_000))
            villages.append((f"{e_index:03d}", f"V{v}", lat, lon))
        home = _offset(villages[0][2], villages[0][3], 200, -150)
        template = _answers(rng)
        fabricated = set(rng.sample(range(per_enumerator), round(per_enumerator * cheat.share))) if cheat else set()
        for i in range(per_enumerator):
            commune, village, vlat, vlon = villages[i % 4]
            fake = i in fabricated
            traits = cheat.traits if (cheat and fake) else frozenset()
            day = datetime(2026, 11, 2, tzinfo=LOCAL) + timedelta(days=i // 5)
            if NIGHT in traits:
                start = day + timedelta(hours=21.5 + rng.uniform(0, 3))
            elif rng.random() < 0.01:
                start = day + timedelta(hours=rng.uniform(20, 21.5))  # an honest late visit now and then
            else:
                start = day + timedelta(hours=rng.uniform(7.5, 19.5))
            minutes = rng.uniform(3, 8) if SHORT in traits else 25 * speed * math.exp(rng.gauss(0, 0.3))
            duration_ms = int(minutes * 60_000)
            pause_ms = int(rng.expovariate(1 / 120_000)) if rng.random() < 0.3 else 0
            span_ms = duration_ms + pause_ms
            if CLOCK in traits:
                span_ms = int(duration_ms * rng.uniform(0.2, 0.6))
            end = start + timedelta(milliseconds=span_ms)
            received = end + timedelta(hours=rng.uniform(0.1, 30))
            if SIMILAR in traits:
                answers = dict(template)
                for item in rng.sample(ITEMS, 1):
                    answers[item] = rng.choice(["3", "4", "5"])
            else:
                answers = _answers(rng)
            if CLUSTER in traits:
                lat, lon = _offset(home[0], home[1], rng.gauss(0, 2), rng.gauss(0, 2))
            elif FAR in traits:
                lat, lon = _offset(home[0], home[1], 6000 + rng.gauss(0, 300), rng.gauss(0, 300))
            else:
                lat, lon = _offset(vlat, vlon, rng.gauss(0, 300), rng.gauss(0, 300))
            per_question = duration_ms / len(answers)
            question_ms = {q: int(per_question * rng.uniform(0.4, 1.6)) for q in answers}
            out.append(
                InterviewRecord(
                    response_id=f"{name}-{i:04d}",
                    enumerator=name,
                    survey_key=SURVEY,
                    answers=answers,
                    duration_ms=duration_ms,
                    question_ms=question_ms,
                    started_at=_iso(start),
                    ended_at=_iso(end),
                    received_at=_iso(received),
                    gps=(lat, lon, rng.uniform(4, 30)),
                    household_id=f"{commune}-{village}-{i}",
                    commune_code=commune,
                    village_code=village,
                    province="01",
                )
            )
    return out


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def as_response(record: InterviewRecord) -> Response:
    """The field response the interview would be stored as (channel field, collection, paradata)."""
    survey_id, version = record.survey_key.split("#")
    paradata: dict[str, object] = {
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "duration_ms": record.duration_ms,
        "question_ms": dict(record.question_ms),
        "gps_consent": record.gps is not None,
    }
    if record.gps is not None:
        paradata["gps"] = {"lat": record.gps[0], "lon": record.gps[1], "accuracy_m": record.gps[2]}
    return Response(
        response_id=record.response_id,
        survey_id=survey_id,
        survey_version=int(version),
        status="accepted",
        answers=dict(record.answers),
        channel="field",
        province=record.province,
        paradata=paradata,
        received_at=record.received_at,
        collection={
            "kind": "field",
            "enumerator": record.enumerator,
            "household_id": record.household_id,
            "commune_code": record.commune_code,
            "village_code": record.village_code,
        },
    )


class FakeFieldTable:
    """The fieldwork table in memory: the get/query/put/put_new of FieldworkRepository over (pk, sk)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, object]] = {}

    def get(self, pk: str, sk: str = "-", consistent: bool = False) -> dict[str, object] | None:
        item = self.items.get((pk, sk))
        return copy.deepcopy(item) if item else None

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, object]]:
        return [copy.deepcopy(v) for (p, s), v in sorted(self.items.items()) if p == pk and s.startswith(sk_prefix)]

    def put(self, item: Mapping[str, object]) -> None:
        self.items[(str(item["pk"]), str(item["sk"]))] = copy.deepcopy(dict(item))

    def put_new(self, item: Mapping[str, object]) -> bool:
        if (str(item["pk"]), str(item["sk"])) in self.items:
            return False
        self.put(item)
        return True
