"""A simulated field season (issue 9, part 6): prints its figures as one JSON object.

    python -m bench.field_season                 # 34 provinces, ~20,000 household visits (about 15-25 min)
    python -m bench.field_season --communes 2    # a quick run (~3,500 visits)

On the local stack (moto over HTTP, the API, the in-process workers): a frame for all 34 provinces, the
sample drawn (communes → villages → households with replacements), one enumerator per sampled commune
(accounts made in the local identity provider), each assigned to its commune's villages. Every enumerator's
device works through its households: refusals and empty homes are followed by the next replacement,
the device goes offline at random and sends its queue when back, and some answers are lost on the way
(the device sends again). A few dishonest enumerators fabricate about 1% of all interviews (short, copied
answers, one GPS spot, at night or with the phone's clock changed). Then: every interview stored and
counted exactly once (the fieldwork table, the responses table and the progress counters against what
the devices made), where the dishonest enumerators rank in the risk score, sync throughput, and the
DynamoDB requests per visit on the API and in the progress worker.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench.run import DDB_READS, DDB_WRITES, AwsCalls, _definition

YEAR = 2026
VN = timezone(timedelta(hours=7))


@dataclass
class Device:
    """One enumerator's phone: what it made, what it still has to send, what the server acknowledged."""

    username: str
    token: str
    cheat: dict[str, Any] | None
    made: list[dict[str, Any]] = field(default_factory=list)
    queue: list[dict[str, Any]] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    posts: int = 0
    resends: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    fakes: set[str] = field(default_factory=set)


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / 111_320.0, lon + east_m / (111_320.0 * math.cos(math.radians(lat)))


def _plan(device: Device, assignment: dict[str, Any], sample_id: str, answers: list[dict], rng: random.Random) -> None:
    """The visits this enumerator makes over the season, in order, with their paradata."""
    from ulid import ULID

    from infra.local.seed.fieldwork import respondent_of

    cheat = device.cheat
    speed = rng.gauss(1.0, 0.15)
    day = datetime(YEAR, 10, 1, 7, 30, tzinfo=VN) + timedelta(days=rng.randint(0, 3))
    template = rng.choice(answers)
    cafe = _offset(16.0 + rng.uniform(-5, 5), 106.0 + rng.uniform(-1, 1), 0, 0)
    for village in assignment["villages"]:
        centre = _offset(16.0 + rng.uniform(-5, 5), 106.0 + rng.uniform(-1, 1), 0, 0)
        mains = [h for h in village["households"] if h["replacement"] == 0]
        spares = [h for h in village["households"] if h["replacement"] > 0]
        for slot in mains:
            chain = [slot]
            outcome = rng.choices(["completed", "refused", "not_at_home", "vacant"], [86, 7, 5, 2])[0]
            if outcome != "completed" and spares:
                chain.append(spares.pop(0))
            for position, household in enumerate(chain):
                result = outcome if position == 0 else "completed"
                fake = result == "completed" and cheat is not None and rng.random() < cheat["share"]
                traits = set(cheat["traits"]) if fake and cheat else set()
                night = day.replace(hour=22) + timedelta(minutes=rng.uniform(0, 150))
                start = night if "night" in traits else day
                if result != "completed":
                    minutes = rng.uniform(1, 4)
                elif "short" in traits:
                    minutes = rng.uniform(3, 7)
                else:
                    minutes = 18 * speed * math.exp(rng.gauss(0, 0.25))
                wall_minutes = minutes + (rng.uniform(0, 10) if rng.random() < 0.3 else 0)  # pauses
                if "clock" in traits:
                    wall_minutes = minutes * rng.uniform(0.2, 0.5)  # the phone's time moved back
                body: dict[str, Any] = {
                    "id": str(ULID.from_datetime(start)),
                    "survey_id": "sipas-2026",
                    "household": {
                        "year": YEAR,
                        "sample_id": sample_id,
                        "commune_code": village["commune_code"],
                        "village_code": village["village_code"],
                        "position": household["position"],
                    },
                    "outcome": result,
                    "paradata": {
                        "started_at": _iso(start),
                        "ended_at": _iso(start + timedelta(minutes=wall_minutes)),
                        "duration_ms": int(minutes * 60_000),
                        "device_id": f"device-{device.username}",
                        "app_version": "bench",
                        "gps_consent": True,
                    },
                }
                if "cluster" in traits:
                    lat, lon = _offset(*cafe, rng.uniform(-3, 3), rng.uniform(-3, 3))
                else:
                    lat, lon = _offset(*centre, rng.uniform(-400, 400), rng.uniform(-400, 400))
                if rng.random() < 0.8 or "cluster" in traits:
                    body["paradata"]["gps"] = {"lat": round(lat, 6), "lon": round(lon, 6), "accuracy_m": 10.0}
                else:
                    body["paradata"]["gps_consent"] = False
                if result == "completed":
                    if "similar" in traits:
                        copied = dict(template)
                        donor = rng.choice(answers)
                        for key in rng.sample(sorted(copied), k=min(2, len(copied))):
                            copied[key] = donor.get(key, copied[key])
                        body["answers"] = _valid_or(copied, template)
                    else:
                        body["answers"] = rng.choice(answers)
                    hh = f"{village['commune_code']}-{village['village_code']}-{household['position']}"
                    body["respondent"] = respondent_of(sample_id, hh)  # its own generator: rng's stream unchanged
                device.made.append(body)
                if fake:
                    device.fakes.add(body["id"])
                day = start + timedelta(minutes=wall_minutes + rng.uniform(5, 30))
                if day.hour >= 19:
                    day = (day + timedelta(days=1)).replace(hour=7, minute=30)


def _valid_or(candidate: dict[str, Any], fallback: dict[str, Any]) -> dict[str, Any]:
    from chalicelib import wiring

    survey = wiring.surveys().get("sipas-2026")
    return candidate if not survey.check(candidate) else fallback


def _work(device: Device, api: str, rng: random.Random, lose: float, offline: float) -> None:
    """Through the season: each visit joins the queue; when online, the queue is sent in order."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {device.token}"
    url = f"{api}/field/api/visits"

    def flush() -> None:
        kept = []
        for body in device.queue:
            answer = session.post(url, json=body, timeout=60)
            device.posts += 1
            device.statuses[answer.status_code] += 1
            if body["id"] in device.acknowledged:
                device.resends += 1
            if answer.status_code in (200, 201) and rng.random() >= lose:
                device.acknowledged.add(body["id"])
            elif answer.status_code in (200, 201):
                device.acknowledged.add(body["id"])
                kept.append(body)  # the answer never reached the phone: it sends again later
            else:
                kept.append(body)
        device.queue = kept

    for body in device.made:
        device.queue.append(body)
        if rng.random() >= offline:  # in coverage now: sync what is waiting
            flush()
    while device.queue:
        flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--communes", type=int, default=12, help="communes per province")
    parser.add_argument("--villages", type=int, default=3, help="villages per commune")
    parser.add_argument("--households", type=int, default=15, help="households per village")
    parser.add_argument("--threads", type=int, default=6, help="devices syncing at once")
    parser.add_argument("--cheats", type=int, default=6)
    parser.add_argument("--lose", type=float, default=0.05, help="share of answers lost on the way back")
    parser.add_argument("--offline", type=float, default=0.4, help="chance the phone is out of coverage")
    args = parser.parse_args()
    result = run(args)
    print("FIELD SEASON RESULT")  # the workers' metrics (EMF lines) are printed on stdout before it
    print(json.dumps(result, ensure_ascii=False, indent=2))


def run(args: Any) -> dict[str, Any]:
    from chalicelib import wiring
    from chalicelib.admin import publish_survey
    from chalicelib.auth.permissions import Grant
    from chalicelib.auth.principal import Principal
    from chalicelib.reference.geography import load_geography
    from chalicelib.store import aws
    from infra.local.idp import LocalIdentityProvider
    from infra.local.seed.frames import frame_csv, frame_rows
    from infra.local.seed.responses import generate_submissions
    from infra.local.stack import LocalStack

    aws.READ_TIMEOUT = 300  # moto's query cost grows with the table: a page of 20,000 interviews takes seconds
    rng = random.Random(2026)
    out: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as state_dir:
        state = Path(state_dir)
        idp = LocalIdentityProvider(state)
        idp.start()
        os.environ.update(idp.environment())
        stack = LocalStack(state_dir=state)
        stack.start()
        os.environ.update(idp.environment())
        wiring.reset()
        try:
            stack.start_api()
            definition = _definition()
            publish_survey(definition)
            geography = load_geography("vn-2025")
            manager = Principal("bench", "Bench", (Grant("survey_manager", "national"),), username="khaosat")
            started = time.monotonic()
            rows = frame_rows(geography, seed=YEAR)
            sampling = wiring.sampling_service()
            sampling.upload_frame(manager, YEAR, frame_csv(rows), "khung-34-tinh.csv")
            design = {
                "communes": args.communes,
                "villages_per_commune": args.villages,
                "households_per_village": args.households,
                "replacements": 5,
                "seed": YEAR,
            }
            sample = sampling.draw(manager, YEAR, design)
            out["frame"] = {"provinces": len({r[0] for r in rows}), "villages": len(rows)}
            out["sample"] = {k: sample[k] for k in ("communes", "villages", "households", "replacements")}
            out["sample"]["draw_and_store_s"] = round(time.monotonic() - started, 1)

            # one enumerator per sampled commune, assigned to its villages
            by_commune: dict[str, list[dict[str, str]]] = {}
            province_of = {c["commune_code"]: c["province_code"] for c in sample["units"]["communes"]}
            for v in sample["units"]["villages"]:
                by_commune.setdefault(v["commune_code"], []).append(
                    {"commune_code": v["commune_code"], "village_code": v["village_code"]}
                )
            fieldwork, tokens = wiring.fieldwork_service(), wiring.field_device_tokens()
            devices: list[Device] = []
            assignments: dict[str, dict[str, Any]] = {}
            for index, (commune, villages) in enumerate(sorted(by_commune.items())):
                province = province_of[commune]
                username = f"dtv.{province}.{index:04d}"
                idp.create_account(
                    {
                        "username": username,
                        "name": f"Điều tra viên {index}",
                        "email": f"{username}@bench.example",
                        "roles": ["enumerator"],
                        "agency": f"P{province}",
                    }
                )
                body = {"survey_id": "sipas-2026", "villages": villages}
                assignments[username] = fieldwork.assign(manager, YEAR, sample["sample_id"], username, body)
                enumerator = Principal(username, username, (Grant("enumerator", f"P{province}"),), username=username)
                devices.append(Device(username, tokens.issue(enumerator)["token"], None))
            cheats = rng.sample(devices, args.cheats)
            mixes = [
                ["short", "similar"],
                ["cluster", "similar"],
                ["night", "short"],
                ["clock", "cluster"],
                ["short", "cluster"],
                ["similar", "night"],
            ]
            for n, device in enumerate(cheats):
                device.cheat = {"share": 0.75, "traits": mixes[n % len(mixes)]}
            answers = [s["answers"] for s in generate_submissions(definition, geography, 400, seed=9)]
            for device in devices:
                _plan(device, assignments[device.username], sample["sample_id"], answers, rng)
            made = [b for d in devices for b in d.made]
            completed = [b for b in made if b["outcome"] == "completed"]
            out["enumerators"] = len(devices)
            out["visits_made"] = len(made)
            out["interviews_made"] = len(completed)
            fabricated = sum(len(d.fakes) for d in devices)
            out["fabricated"] = {"interviews": fabricated, "share": round(fabricated / len(completed), 4)}

            # the season, through the API
            calls = AwsCalls()
            stack._quiet_http.set()  # tens of thousands of access-log lines help nobody
            started = time.monotonic()
            with calls.watching(), ThreadPoolExecutor(args.threads) as pool:
                seeds = [rng.randrange(2**32) for _ in devices]
                list(
                    pool.map(
                        lambda pair: _work(pair[0], stack.api_url, random.Random(pair[1]), args.lose, args.offline),
                        zip(devices, seeds, strict=True),
                    )
                )
            elapsed = time.monotonic() - started
            posts = sum(d.posts for d in devices)
            statuses: Counter[int] = Counter()
            for d in devices:
                statuses.update(d.statuses)
            out["sync"] = {
                "posts": posts,
                "resends_after_lost_answers": sum(d.resends for d in devices),
                "statuses": dict(sorted(statuses.items())),
                "seconds": round(elapsed, 1),
                "visits_per_second": round(len(made) / elapsed, 1),
                "posts_per_second": round(posts / elapsed, 1),
                "threads": args.threads,
                "dynamodb_reads_per_post": round(calls.total("dynamodb", DDB_READS) / posts, 3),
                "dynamodb_writes_per_post": round(calls.total("dynamodb", DDB_WRITES) / posts, 3),
                "dynamodb_calls": {f"{s}.{op}": n for (s, op), n in sorted(calls.counts.items()) if s == "dynamodb"},
            }

            # progress: only the field progress worker is drained (the response workers are other benches')
            progress_calls = AwsCalls()
            started = time.monotonic()
            pollers = [p for p in stack._stream_pollers if p.consumer.startswith("FieldProgressFunction")]
            with progress_calls.watching():
                idle = 0
                while idle < 2:
                    work = sum(p.poll_once(force=True, deadline=time.monotonic() + 600) for p in pollers)
                    idle = idle + 1 if work == 0 else 0
            out["progress_worker"] = {
                "seconds": round(time.monotonic() - started, 1),
                "transactions_per_visit": round(
                    progress_calls.total("dynamodb", {"TransactWriteItems"}) / len(made), 3
                ),
                "transaction_items_per_visit": round(progress_calls.items["transaction_items"] / len(made), 2),
            }

            # exactly once
            ddb = stack.client("dynamodb")
            visits: Counter[str] = Counter()
            for page in ddb.get_paginator("scan").paginate(
                TableName=stack.physical_id("FieldworkTable"),
                FilterExpression="begins_with(pk, :v)",
                ExpressionAttributeValues={":v": {"S": "visit#"}},
                ProjectionExpression="pk, outcome",
            ):
                for item in page["Items"]:
                    visits[item["outcome"]["S"]] += 1
            field_rows = [r for r in wiring.responses().iter_survey("sipas-2026#1") if r.get("channel") == "field"]
            stored_ids = {r["response_id"] for r in field_rows}
            chosen = [r.get("collection") or {} for r in field_rows]
            made_by_outcome = Counter(b["outcome"] for b in made)
            progress = wiring.progress_service().progress(YEAR, sample["sample_id"])
            counted = {k: progress["total"][k] for k in made_by_outcome}
            out["exactly_once"] = {
                "visits_made_by_outcome": dict(made_by_outcome),
                "visits_stored_by_outcome": dict(visits),
                "progress_counted": counted,
                "field_responses_stored": len(stored_ids),
                "every_interview_stored_once": stored_ids == {b["id"] for b in completed},
                "every_visit_counted_once": counted == dict(made_by_outcome) == dict(visits),
                # one adult per household: the respondent's weight is the household's × its adults
                "adults_per_interview": round(sum(int(c.get("adults", 0)) for c in chosen) / max(1, len(chosen)), 2),
                "respondent_weight_is_household_weight_times_adults": bool(chosen)
                and all(
                    math.isclose(float(c["weight"]), float(c["household_weight"]) * int(c["adults"]), rel_tol=1e-9)
                    for c in chosen
                ),
            }

            # risk
            started = time.monotonic()
            from chalicelib.domain.field_quality import FieldQualityService
            from chalicelib.domain.field_risk import InterviewRecord, risk_scores
            from chalicelib.store.field_quality import FieldQualityStore

            quality = FieldQualityService(wiring.responses(), FieldQualityStore(wiring.fieldwork_repository()))
            interviews = quality._interviews("sipas-2026#1")
            read_s = time.monotonic() - started
            started = time.monotonic()
            scored = risk_scores([InterviewRecord.from_response(r) for r in interviews])
            score_s = time.monotonic() - started
            started = time.monotonic()
            risks = quality.risk("sipas-2026#1")  # what the console runs: read and score
            assert [r.enumerator for r in risks] == [r.enumerator for r in scored]
            ranks = {r.enumerator: r.rank for r in risks}
            decile = math.ceil(len(risks) / 10)
            out["risk"] = {
                "seconds": round(time.monotonic() - started, 1),
                "read_seconds": round(read_s, 1),
                "score_seconds": round(score_s, 2),
                "enumerators_scored": len(risks),
                "top_decile_size": decile,
                "dishonest": {
                    d.username: {
                        "rank": ranks.get(d.username),
                        "traits": d.cheat["traits"] if d.cheat else [],
                        "fabricated": len(d.fakes),
                    }
                    for d in cheats
                },
                "all_dishonest_in_top_decile": all((ranks.get(d.username) or 10**9) <= decile for d in cheats),
                "flagged_with_a_strong_reason": sum(1 for r in risks if r.flagged),
                "honest_flagged": sum(
                    1 for r in risks if r.flagged and r.enumerator not in {d.username for d in cheats}
                ),
                "top_5": [
                    {
                        "enumerator": r.enumerator,
                        "rank": r.rank,
                        "score": round(r.score, 1),
                        "reasons": [x.code for x in r.reasons],
                    }
                    for r in risks[:5]
                ],
            }
        finally:
            stack.stop()
            idp.stop()
            wiring.reset()
    return out


if __name__ == "__main__":
    main()
