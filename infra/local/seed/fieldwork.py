"""The demo's direct survey: a year's frame and sample, the seeded enumerator's assignment, a day of visits.

`make run` calls seed_fieldwork() once, after the survey is published, through the same services the API
uses (every write audited): the sampling page then has a frame and a sample, the fieldwork page progress,
and the enumerator `dieutra.hanoi` a package to download on the field app.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

ENUMERATOR = "dieutra.hanoi"
PROVINCES = ["01", "46"]  # Hà Nội, Huế: the seeded accounts' provinces
# Adults (18+) per household, 1..6: Vietnamese households average ~3.5 people, ~2.5 of them adults.
ADULTS = (1, 2, 3, 4, 5, 6)
ADULT_SHARES = (12, 42, 24, 14, 5, 3)


def respondent_of(sample_id: str, household_id: str) -> dict[str, int]:
    """A household's adults (drawn from ADULT_SHARES, the same for the same household) and the one the draw picks.

    Its own generator, seeded by the household: the callers' random streams are left as they were."""
    from chalicelib.domain.sampling import adult_to_interview

    adults = random.Random(f"{sample_id}|{household_id}").choices(ADULTS, ADULT_SHARES)[0]  # noqa: S311 - demo data
    return {"adults": adults, "selected": adult_to_interview(sample_id, household_id, adults)}


def seed_fieldwork(definition: dict[str, Any], year: int = 2026) -> dict[str, int]:
    from ulid import ULID

    from chalicelib import wiring
    from chalicelib.auth.permissions import Grant
    from chalicelib.auth.principal import Principal
    from chalicelib.domain.fieldwork import DeviceIdentity
    from chalicelib.reference.geography import load_geography
    from infra.local.seed.frames import frame_csv, frame_rows
    from infra.local.seed.responses import generate_submissions

    manager = Principal("seed", "Dữ liệu mẫu (khaosat)", (Grant("survey_manager", "national"),), username="khaosat")
    sampling = wiring.sampling_service()
    geography = load_geography("vn-2025")
    rows = frame_rows(geography, seed=year, provinces=PROVINCES)
    sampling.upload_frame(manager, year, frame_csv(rows), f"khung-mau-{year}.csv")
    design = {"communes": 3, "villages_per_commune": 2, "households_per_village": 8, "replacements": 3, "seed": year}
    sample = sampling.draw(manager, year, design)
    sample_id = sample["sample_id"]
    hanoi = {c["commune_code"] for c in sample["units"]["communes"] if c["province_code"] == "01"}
    villages = [
        {"commune_code": v["commune_code"], "village_code": v["village_code"]}
        for v in sample["units"]["villages"]
        if v["commune_code"] in hanoi
    ][:3]
    fieldwork = wiring.fieldwork_service()
    assignment = fieldwork.assign(
        manager, year, sample_id, ENUMERATOR, {"survey_id": definition["id"], "villages": villages}
    )

    rng = random.Random(year)  # noqa: S311 - demo data, reproducible
    device = DeviceIdentity(ENUMERATOR, "Điều tra viên Hà Nội", "P01", 0.0, 0.0)
    answers = iter(s["answers"] for s in generate_submissions(definition, geography, 60, seed=year))
    day = datetime.now(timezone.utc).replace(hour=1, minute=30, second=0, microsecond=0)  # 08:30 in Hà Nội
    counts: dict[str, int] = {}
    for village in assignment["villages"][:2]:  # the third village is still to be visited
        spares = [h for h in village["households"] if h["replacement"] > 0]
        for slot in [h for h in village["households"] if h["replacement"] == 0]:
            outcome = rng.choices(["completed", "refused", "not_at_home", "vacant"], [80, 10, 6, 4])[0]
            visits = [(slot, outcome)]
            if outcome != "completed" and spares:
                visits.append((spares.pop(0), "completed"))  # the next replacement, in order
            for household, result in visits:
                minutes = rng.lognormvariate(2.6, 0.25) if result == "completed" else rng.uniform(1, 3)
                started = day
                day += timedelta(minutes=minutes + rng.uniform(5, 25))
                body: dict[str, Any] = {
                    "id": str(ULID.from_datetime(started)),
                    "survey_id": definition["id"],
                    "household": {
                        "year": year,
                        "sample_id": sample_id,
                        "commune_code": village["commune_code"],
                        "village_code": village["village_code"],
                        "position": household["position"],
                    },
                    "outcome": result,
                    "paradata": {
                        "started_at": _iso(started),
                        "ended_at": _iso(started + timedelta(minutes=minutes)),
                        "duration_ms": int(minutes * 60_000),
                        "device_id": "demo-device-dieutra-hanoi",
                        "app_version": "seed",
                        "gps_consent": rng.random() < 0.7,
                    },
                }
                if body["paradata"]["gps_consent"]:
                    body["paradata"]["gps"] = {
                        "lat": round(21.02 + rng.uniform(-0.02, 0.02), 5),
                        "lon": round(105.84 + rng.uniform(-0.02, 0.02), 5),
                        "accuracy_m": round(rng.uniform(5, 30), 1),
                    }
                if result == "completed":
                    body["answers"] = next(answers)
                    body["respondent"] = respondent_of(
                        sample_id, f"{village['commune_code']}-{village['village_code']}-{household['position']}"
                    )
                fieldwork.record_visit(device, body)
                counts[result] = counts.get(result, 0) + 1
    return counts


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
