"""Enumerator risk (rủi ro điều tra viên): which enumerators' interviews look fabricated, and why.

Each signal is a share of an enumerator's interviews (or, for answer variety, a mean) compared with the
enumerator's peers, those who ran the same survey version in the same province (the whole survey when a
province has too few enumerators). The comparison is relative on purpose: what is "short" or "too alike"
depends on the questionnaire, the terrain and the population, so the rules carry to another survey or
year without retuning. The method, signal by signal (METHODOLOGY §4, field paradata):

1. value x_e: the enumerator's share (k events of n interviews), shrunk towards the peers' pooled share
   p0 with the weight of ``prior_interviews`` interviews: x̃ = (k + m·p0) / (n + m). Three interviews,
   one of them short, are not "33% short": noise is pulled back to the peers' level.
2. robust z = (x̃ − median of peers) / scale, scale = max(1.4826·MAD of peers, the binomial standard
   error √(p0(1−p0)/n_e) at this enumerator's own n, a floor), times the reliability n/(n+m). Only
   excess counts (z clipped to 0…cap).
3. raw = Σ weight_s · z_s, plus a fixed amount for each re-check that found the interview never
   happened (hard evidence, not a statistic).
4. score = 100 · (1 − e^(−raw / score_scale)): 0 when nothing stands out, close to 100 when several
   signals do; ranks are by raw. Each z is multiplied by the reliability n/(n+m) first, so a share
   measured on a few interviews moves the score little even when it is extreme. A reason is listed from z ≥ reason_z; it is "strong" when z ≥ strong_z,
   the enumerator is at least ``strong_excess`` above the peers and at least ``strong_events`` interviews
   are concerned, so a strong reason is something a supervisor should look at.

Peers' medians and MADs are over the enumerators with at least ``min_interviews`` interviews. Pairwise
comparisons (near-duplicate answers, GPS) run within one enumerator's interviews, capped at
``max_pairwise`` interviews taken deterministically (by a hash of the response id).
"""

from __future__ import annotations

import hashlib
import math
import operator
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.domain.responses import Response
from chalicelib.domain.survey import Survey, parse_time

# Reason codes (stable: the console, exports and tests key on them). `speeder` and `straightline` are the
# web screening's names (screening.py) for the same ideas, at the scale of an enumerator's work.
SPEEDER = "speeder"  # very short interviews
DUPLICATES = "duplicate_answers"  # interviews with a near-identical twin among the enumerator's own
LOW_VARIETY = "low_variety"  # answers too alike across interviews (straight-lining across respondents)
GPS_CLUSTER = "gps_cluster"  # different households within a few metres of each other
GPS_FAR = "gps_far"  # interviews far from their village (the peers' points there)
ODD_HOURS = "odd_hours"  # started at night, local time
CLOCK_TAMPER = "clock_tamper"  # the device's wall clock disagrees with the monotonic duration
RECHECK_DISAGREEMENT = "recheck_disagreement"  # re-contacted households answered otherwise
RECHECK_NOT_HAPPENED = "recheck_not_happened"  # a re-contacted household says there was no interview

SIGNALS = (SPEEDER, DUPLICATES, LOW_VARIETY, GPS_CLUSTER, GPS_FAR, ODD_HOURS, CLOCK_TAMPER, RECHECK_DISAGREEMENT)
VIETNAM = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class RiskConfig:
    """Thresholds and weights of the risk score, with defaults that need no tuning per survey."""

    # short interviews: below max(floor, ratio × peers' median duration, seconds per answer × answers)
    short_floor_s: float = 180.0
    short_median_ratio: float = 0.4  # METHODOLOGY §4: 0.5 and 0.4 are both used; honest quick enumerators vary a lot
    short_seconds_per_answer: float = 2.0
    # ... or most questions answered faster than a person can read them (question_ms)
    fast_question_ms: int = 1000
    fast_question_share: float = 0.6
    fast_question_min: int = 5
    # near-duplicates: share of closed answers equal (missing on one side = different)
    duplicate_similarity: float = 0.9
    duplicate_min_questions: int = 5
    closed_max_levels: int = 12  # an answer with more distinct values among peers is not "closed"
    max_pairwise: int = 300
    # GPS
    cluster_radius_m: float = 10.0
    far_from_village_m: float = 3000.0
    max_accuracy_m: float = 100.0  # a fix less precise than this is not used
    village_min_points: int = 5
    # hours, local time (Asia/Ho_Chi_Minh, UTC+7; Vietnam has no daylight saving)
    night_start: str = "21:00"
    night_end: str = "06:30"
    # clock: the wall-clock span may exceed the active time (pauses) but never fall short of it
    clock_tolerance_s: float = 60.0
    clock_tolerance_ratio: float = 0.1
    clock_ahead_of_server_s: float = 600.0
    # combination
    prior_interviews: float = 10.0
    prior_rechecks: float = 1.0  # a re-check already averages several questions: less noisy than one flag
    min_interviews: int = 10
    min_peer_enumerators: int = 5
    scale_floor: float = 0.02
    z_cap: float = 8.0
    reason_z: float = 2.0
    strong_z: float = 4.0
    strong_excess: float = 0.08
    strong_events: int = 3
    not_happened_points: float = 6.0
    score_scale: float = 10.0
    weights: Mapping[str, float] = field(
        default_factory=lambda: {
            SPEEDER: 1.0,
            DUPLICATES: 1.0,
            LOW_VARIETY: 0.5,
            GPS_CLUSTER: 1.0,
            GPS_FAR: 0.75,
            ODD_HOURS: 1.0,
            CLOCK_TAMPER: 1.0,
            RECHECK_DISAGREEMENT: 1.5,
        }
    )


@dataclass(frozen=True)
class InterviewRecord:
    """One completed field interview, as the risk score reads it (from a Response of channel `field`)."""

    response_id: str
    enumerator: str
    survey_key: str
    answers: Mapping[str, Any]
    duration_ms: int | None = None  # monotonic active time
    question_ms: Mapping[str, int] = field(default_factory=dict)
    started_at: str = ""  # device wall clock, ISO UTC (can be falsified)
    ended_at: str = ""
    received_at: str = ""  # server
    gps: tuple[float, float, float] | None = None  # lat, lon, accuracy_m
    household_id: str = ""
    commune_code: str = ""
    village_code: str = ""
    province: str = ""
    outcome: str = "completed"

    @classmethod
    def from_response(cls, response: Response) -> InterviewRecord:
        paradata, collection = response.paradata or {}, response.collection or {}
        duration = paradata.get("duration_ms")
        gps = paradata.get("gps") if paradata.get("gps_consent", True) else None
        point: tuple[float, float, float] | None = None
        if isinstance(gps, Mapping):
            try:
                point = (float(gps["lat"]), float(gps["lon"]), float(gps.get("accuracy_m") or 0.0))
            except (KeyError, TypeError, ValueError):
                point = None
        timings = paradata.get("question_ms") or {}
        return cls(
            response_id=response.response_id,
            enumerator=str(collection.get("enumerator") or ""),
            survey_key=response.survey_key,
            answers=response.answers,
            duration_ms=int(duration) if isinstance(duration, int | float) and duration >= 0 else None,
            question_ms={str(k): int(v) for k, v in timings.items() if isinstance(v, int | float)},
            started_at=str(paradata.get("started_at") or ""),
            ended_at=str(paradata.get("ended_at") or ""),
            received_at=response.received_at,
            gps=point,
            household_id=str(collection.get("household_id") or ""),
            commune_code=str(collection.get("commune_code") or response.commune or ""),
            village_code=str(collection.get("village_code") or ""),
            province=response.province,
            outcome=str(collection.get("outcome") or "completed"),
        )


@dataclass(frozen=True)
class RecheckOutcome:
    """What a re-check found for one interview (field_recheck.RecheckResult reduces to this)."""

    response_id: str
    disagreement_rate: float  # 0..1 over the questions asked again
    not_happened: bool = False


@dataclass(frozen=True)
class SignalValue:
    code: str
    value: float  # the enumerator's own share (or mean), unshrunk
    peers: float  # the peers' median
    z: float  # robust z after shrinkage, clipped to 0..z_cap
    events: int  # interviews concerned
    of: int  # interviews the signal could be measured on


@dataclass(frozen=True)
class Reason:
    code: str
    strong: bool
    text_vi: str
    text_en: str


@dataclass
class EnumeratorRisk:
    enumerator: str
    survey_key: str
    peer_group: str  # "<survey_key>" or "<survey_key>@<province>"
    interviews: int
    score: float  # 0..100, see the module docstring
    raw: float
    rank: int = 0  # 1 = highest risk, over every enumerator scored together
    top_decile: bool = False
    signals: dict[str, SignalValue] = field(default_factory=dict)
    reasons: list[Reason] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return any(r.strong for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "enumerator": self.enumerator,
            "survey_key": self.survey_key,
            "peer_group": self.peer_group,
            "interviews": self.interviews,
            "score": self.score,
            "rank": self.rank,
            "top_decile": self.top_decile,
            "flagged": self.flagged,
            "signals": {
                c: {"value": s.value, "peers": s.peers, "z": s.z, "events": s.events, "of": s.of}
                for c, s in self.signals.items()
            },
            "reasons": [
                {"code": r.code, "strong": r.strong, "text_vi": r.text_vi, "text_en": r.text_en} for r in self.reasons
            ],
        }


# ------------------------------------------------------------------------------------------- the score
def risk_scores(
    records: Iterable[InterviewRecord],
    rechecks: Iterable[RecheckOutcome] = (),
    config: RiskConfig | None = None,
    closed_questions: Mapping[str, Sequence[str]] | None = None,
) -> list[EnumeratorRisk]:
    """Every enumerator's risk, highest first. closed_questions: survey_key -> the closed items to compare
    (default: answers with at most ``closed_max_levels`` distinct scalar values among the survey's interviews)."""
    config = config or RiskConfig()
    completed = [r for r in records if r.outcome == "completed" and r.enumerator]
    by_response = {r.response_id: r for r in completed}
    checks: dict[tuple[str, str], list[RecheckOutcome]] = defaultdict(list)
    for check in rechecks:
        record = by_response.get(check.response_id)
        if record is not None:
            checks[(record.survey_key, record.enumerator)].append(check)

    out: list[EnumeratorRisk] = []
    for group, members in _peer_groups(completed, config).items():
        survey_key = next(iter(members.values()))[0].survey_key
        given = (closed_questions or {}).get(survey_key)
        questions = list(given) if given is not None else _closed_questions(members, config)
        out.extend(_score_group(group, members, questions, checks, config))
    out.sort(key=lambda r: (-r.raw, r.enumerator, r.survey_key))
    decile = max(1, math.ceil(len(out) / 10))
    for i, risk in enumerate(out, start=1):
        risk.rank, risk.top_decile = i, i <= decile
    return out


def _peer_groups(records: list[InterviewRecord], config: RiskConfig) -> dict[str, dict[str, list[InterviewRecord]]]:
    per_province: dict[tuple[str, str], dict[str, list[InterviewRecord]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        per_province[(record.survey_key, record.province)][record.enumerator].append(record)
    groups: dict[str, dict[str, list[InterviewRecord]]] = defaultdict(lambda: defaultdict(list))
    for (survey_key, province), members in per_province.items():
        enough = sum(1 for rs in members.values() if len(rs) >= config.min_interviews) >= config.min_peer_enumerators
        name = f"{survey_key}@{province}" if enough and province else survey_key
        for enumerator, rs in members.items():
            groups[name][enumerator].extend(rs)
    return groups


def closed_questions(survey: Survey) -> list[str]:
    """The items the answer-pattern signals compare: single and multiple choices (matrix rows included)."""
    return [item.id for item in survey.items if item.kind in ("single", "multi") and not item.personal_data]


def _closed_questions(members: Mapping[str, list[InterviewRecord]], config: RiskConfig) -> list[str]:
    values: dict[str, set[str]] = defaultdict(set)
    for records in members.values():
        for record in records:
            for key, value in record.answers.items():
                text = _closed_value(value)
                if text is not None:
                    values[key].add(text)
    return sorted(k for k, v in values.items() if 1 <= len(v) <= config.closed_max_levels)


def _closed_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return "|".join(sorted(str(v) for v in value))
    if isinstance(value, str | int):
        return str(value)
    return None


@dataclass
class _Measure:
    """One signal for one enumerator: k events of n, or a mean value over n interviews."""

    events: int
    of: int
    mean: float | None = None  # continuous signals (low variety)

    @property
    def share(self) -> float:
        return self.mean if self.mean is not None else (self.events / self.of if self.of else 0.0)


def _score_group(
    group: str,
    members: Mapping[str, list[InterviewRecord]],
    questions: list[str],
    checks: Mapping[tuple[str, str], list[RecheckOutcome]],
    config: RiskConfig,
) -> list[EnumeratorRisk]:
    threshold_ms = _short_threshold_ms(members, config)
    centroids = _village_centroids(members, config)
    survey_key = next(iter(members.values()))[0].survey_key
    measures: dict[str, dict[str, _Measure]] = {}
    for enumerator, records in members.items():
        own_checks = checks.get((survey_key, enumerator), [])
        measures[enumerator] = {
            SPEEDER: _short(records, threshold_ms, config),
            DUPLICATES: _duplicates(records, questions, config),
            LOW_VARIETY: _variety(records, questions),
            GPS_CLUSTER: _gps_cluster(records, config),
            GPS_FAR: _gps_far(records, centroids, config),
            ODD_HOURS: _odd_hours(records, config),
            CLOCK_TAMPER: _clock(records, config),
            RECHECK_DISAGREEMENT: _recheck(own_checks),
        }

    out: list[EnumeratorRisk] = []
    for enumerator, records in members.items():
        risk = EnumeratorRisk(enumerator, survey_key, group, len(records), 0.0, 0.0)
        for code in SIGNALS:
            value = _standardise(code, enumerator, measures, config)
            if value is None:
                continue
            risk.signals[code] = value
            risk.raw += config.weights.get(code, 0.0) * value.z
            if value.z >= config.reason_z:
                risk.reasons.append(_reason(value, config, threshold_ms))
        not_happened = sum(1 for c in checks.get((survey_key, enumerator), []) if c.not_happened)
        if not_happened:
            risk.raw += config.not_happened_points * not_happened
            risk.reasons.insert(0, _not_happened_reason(not_happened, len(checks[(survey_key, enumerator)])))
        risk.raw = round(risk.raw, 3)
        risk.score = round(100 * (1 - math.exp(-risk.raw / config.score_scale)), 1)
        risk.reasons.sort(key=lambda r: not r.strong)  # strong first, otherwise in signal order
        out.append(risk)
    return out


def _standardise(
    code: str, enumerator: str, measures: Mapping[str, Mapping[str, _Measure]], config: RiskConfig
) -> SignalValue | None:
    own = measures[enumerator][code]
    if own.of == 0:
        return None
    # Re-checks are few per enumerator: every enumerator with one counts as a peer.
    floor_n = 1 if code == RECHECK_DISAGREEMENT else config.min_interviews
    peers = [m[code] for m in measures.values() if m[code].of >= floor_n]
    if not peers:
        peers = [own]
    continuous = own.mean is not None and code == LOW_VARIETY
    pooled = (
        statistics.fmean(p.share for p in peers)
        if continuous or code == RECHECK_DISAGREEMENT
        else sum(p.events for p in peers) / max(1, sum(p.of for p in peers))
    )
    m = config.prior_interviews if code != RECHECK_DISAGREEMENT else config.prior_rechecks
    shrunk = (own.share * own.of + m * pooled) / (own.of + m)
    shares = [(p.share * p.of + m * pooled) / (p.of + m) for p in peers]
    centre = statistics.median(shares)
    mad = statistics.median(abs(s - centre) for s in shares)
    binomial = math.sqrt(max(pooled * (1 - pooled), 0.0) / own.of) if not continuous else 0.0
    scale = max(1.4826 * mad, binomial, config.scale_floor)
    # Reliability n/(n+m): a share measured on a handful of interviews moves the score only a little.
    z = (shrunk - centre) / scale * own.of / (own.of + m)
    return SignalValue(
        code=code,
        value=round(own.share, 4),
        peers=round(statistics.median(p.share for p in peers), 4),
        z=round(min(max(z, 0.0), config.z_cap), 3),
        events=own.events,
        of=own.of,
    )


# -------------------------------------------------------------------------------------- the signals
def _short_threshold_ms(members: Mapping[str, list[InterviewRecord]], config: RiskConfig) -> float:
    medians = [
        statistics.median(durations)
        for records in members.values()
        if (durations := [r.duration_ms for r in records if r.duration_ms is not None])
    ]
    typical = statistics.median(medians) if medians else 0.0
    return max(config.short_floor_s * 1000, config.short_median_ratio * typical)


def is_short(record: InterviewRecord, threshold_ms: float, config: RiskConfig) -> bool | None:
    """A very short interview: under the survey's threshold (or 2 s per answer), or most questions answered
    faster than they can be read. None when the device sent no timing."""
    timed = [ms for ms in record.question_ms.values() if ms >= 0]
    fast = len(timed) >= config.fast_question_min and sum(
        1 for ms in timed if ms < config.fast_question_ms
    ) >= config.fast_question_share * len(timed)
    if record.duration_ms is None:
        return True if fast else (None if not timed else False)
    limit = max(threshold_ms, config.short_seconds_per_answer * 1000 * len(record.answers))
    return record.duration_ms < limit or fast


def _short(records: list[InterviewRecord], threshold_ms: float, config: RiskConfig) -> _Measure:
    flags = [f for r in records if (f := is_short(r, threshold_ms, config)) is not None]
    return _Measure(sum(flags), len(flags))


def _sample(records: list[InterviewRecord], cap: int) -> list[InterviewRecord]:
    if len(records) <= cap:
        return records
    return sorted(records, key=lambda r: hashlib.sha256(r.response_id.encode()).digest())[:cap]


def _vectors(records: list[InterviewRecord], questions: list[str]) -> list[tuple[str | None, ...]]:
    return [tuple(_closed_value(r.answers[q]) if q in r.answers else None for q in questions) for r in records]


def _duplicates(records: list[InterviewRecord], questions: list[str], config: RiskConfig) -> _Measure:
    sample = _sample(records, config.max_pairwise)
    vectors = _vectors(sample, questions)
    answered = [sum(v is not None for v in vec) for vec in vectors]
    usable = [i for i, n in enumerate(answered) if n >= config.duplicate_min_questions]
    twin = [False] * len(vectors)
    for i, j in _candidate_pairs(vectors, usable, config.duplicate_similarity):
        if twin[i] and twin[j]:
            continue
        a, b = vectors[i], vectors[j]
        both = sum(map(_both_missing, a, b))
        union = len(questions) - both
        same = sum(map(operator.eq, a, b)) - both
        if union and same >= config.duplicate_similarity * union:
            twin[i] = twin[j] = True
    return _Measure(sum(twin), len(usable))


def _candidate_pairs(
    vectors: list[tuple[str | None, ...]], usable: list[int], similarity: float
) -> list[tuple[int, int]]:
    """Pairs that share at least one identical band of questions. Two vectors at the similarity differ in at
    most floor((1 − s)·Q) places, so with one band more than that some band is identical (pigeonhole): no
    near-duplicate is missed, and honest pairs, which rarely agree on a whole band, are never compared."""
    width = len(vectors[0]) if vectors else 0
    bands = min(width, int((1 - similarity) * width + 1e-9) + 1)
    if bands == 0:
        return []
    edges = [round(k * width / bands) for k in range(bands + 1)]
    pairs: set[tuple[int, int]] = set()
    for k in range(bands):
        buckets: dict[tuple[str | None, ...], list[int]] = defaultdict(list)
        for i in usable:
            buckets[vectors[i][edges[k] : edges[k + 1]]].append(i)
        for members in buckets.values():
            for pos, i in enumerate(members):
                pairs.update((i, j) for j in members[pos + 1 :])
    return sorted(pairs)


def _both_missing(a: Any, b: Any) -> bool:
    return a is None and b is None


def _variety(records: list[InterviewRecord], questions: list[str]) -> _Measure:
    """Mean over closed questions of the chance that two of the enumerator's interviews agree (Σ c(c−1) /
    n(n−1), unbiased at any n). Fabricated answers repeat themselves: the chance rises."""
    if len(records) < 2 or not questions:
        return _Measure(0, 0)
    agreement: list[float] = []
    for q in questions:
        counts = Counter(_closed_value(r.answers[q]) for r in records if q in r.answers)
        n = sum(counts.values())
        if n >= 2:
            agreement.append(sum(c * (c - 1) for c in counts.values()) / (n * (n - 1)))
    if not agreement:
        return _Measure(0, 0)
    return _Measure(0, len(records), statistics.fmean(agreement))


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def _fixes(records: Iterable[InterviewRecord], config: RiskConfig) -> list[InterviewRecord]:
    return [r for r in records if r.gps is not None and r.gps[2] <= config.max_accuracy_m]


def _gps_cluster(records: list[InterviewRecord], config: RiskConfig) -> _Measure:
    """Interviews with another household's interview within cluster_radius_m (a grid of cells that size:
    only neighbouring cells are compared)."""
    points = _fixes(_sample(records, config.max_pairwise * 10), config)
    cell = config.cluster_radius_m / 111_320.0  # degrees of latitude; longitude cells are narrower: still exact
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, r in enumerate(points):
        assert r.gps is not None
        grid[(int(r.gps[0] // cell), int(r.gps[1] // cell))].append(i)
    clustered = 0
    for i, r in enumerate(points):
        assert r.gps is not None
        gx, gy = int(r.gps[0] // cell), int(r.gps[1] // cell)
        # A longitude degree is shorter than a latitude degree: widen the search in y accordingly.
        span = 1 + int(1 / max(math.cos(math.radians(r.gps[0])), 0.01))
        near = False
        for dx in (-1, 0, 1):
            for dy in range(-span, span + 1):
                for j in grid.get((gx + dx, gy + dy), ()):
                    other = points[j]
                    if j == i or other.household_id == r.household_id:
                        continue
                    assert other.gps is not None
                    if haversine_m(r.gps[:2], other.gps[:2]) <= config.cluster_radius_m:
                        near = True
                        break
                if near:
                    break
            if near:
                break
        clustered += near
    return _Measure(clustered, len(points))


def _village_centroids(
    members: Mapping[str, list[InterviewRecord]], config: RiskConfig
) -> dict[tuple[str, str], tuple[float, float]]:
    points: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for records in members.values():
        for r in _fixes(records, config):
            if r.village_code:
                assert r.gps is not None
                points[(r.commune_code, r.village_code)].append((r.gps[0], r.gps[1]))
    return {
        key: (statistics.median(p[0] for p in pts), statistics.median(p[1] for p in pts))
        for key, pts in points.items()
        if len(pts) >= config.village_min_points
    }


def _gps_far(
    records: list[InterviewRecord], centroids: Mapping[tuple[str, str], tuple[float, float]], config: RiskConfig
) -> _Measure:
    far = of = 0
    for r in _fixes(records, config):
        centre = centroids.get((r.commune_code, r.village_code))
        if centre is None:
            continue
        assert r.gps is not None
        of += 1
        far += haversine_m(r.gps[:2], centre) > config.far_from_village_m
    return _Measure(far, of)


def _recheck(checks: list[RecheckOutcome]) -> _Measure:
    """The mean disagreement over the enumerator's re-checked interviews; events: re-checks with any."""
    if not checks:
        return _Measure(0, 0)
    rates = [c.disagreement_rate for c in checks]
    return _Measure(sum(1 for r in rates if r > 0), len(rates), statistics.fmean(rates))


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _instant(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = parse_time(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def at_night(started_at: str, config: RiskConfig) -> bool | None:
    moment = _instant(started_at)
    if moment is None:
        return None
    local = moment.astimezone(VIETNAM)
    minute = local.hour * 60 + local.minute
    start, end = _minutes(config.night_start), _minutes(config.night_end)
    return minute >= start or minute < end if start > end else start <= minute < end


def _odd_hours(records: list[InterviewRecord], config: RiskConfig) -> _Measure:
    flags = [f for r in records if (f := at_night(r.started_at, config)) is not None]
    return _Measure(sum(flags), len(flags))


def clock_tampered(record: InterviewRecord, config: RiskConfig) -> bool | None:
    """The device's wall clock cannot be right: the interview's span on it is shorter than the active time
    the monotonic clock measured, it ends before it starts, or it starts well after the server received it."""
    started, ended, received = _instant(record.started_at), _instant(record.ended_at), _instant(record.received_at)
    if started is None:
        return None
    if received is not None and (started - received).total_seconds() > config.clock_ahead_of_server_s:
        return True
    if ended is None or record.duration_ms is None:
        return ended is not None and ended < started
    span_ms = (ended - started).total_seconds() * 1000
    tolerance = max(config.clock_tolerance_s * 1000, config.clock_tolerance_ratio * record.duration_ms)
    return span_ms < 0 or span_ms < record.duration_ms - tolerance


def _clock(records: list[InterviewRecord], config: RiskConfig) -> _Measure:
    flags = [f for r in records if (f := clock_tampered(r, config)) is not None]
    return _Measure(sum(flags), len(flags))


# -------------------------------------------------------------------------------------------- reasons
def _pct(x: float) -> str:
    return f"{round(100 * x)}%"


def _reason(v: SignalValue, config: RiskConfig, threshold_ms: float) -> Reason:
    strong = (
        v.z >= config.strong_z
        and v.events >= config.strong_events
        and (v.value - v.peers >= config.strong_excess or v.code == LOW_VARIETY)
    )
    if v.code == LOW_VARIETY:
        strong = False  # genuine in a homogeneous village: a supporting signal, never strong alone
    own, peers, n = _pct(v.value), _pct(v.peers), f"{v.events}/{v.of}"
    minutes = max(1, round(threshold_ms / 60000))
    texts = {
        SPEEDER: (
            f"{own} phỏng vấn quá ngắn (dưới {minutes} phút hoặc trả lời nhanh hơn đọc câu hỏi; {n}); các điều tra viên khác: {peers}.",
            f"{own} of interviews very short (under {minutes} min or answered faster than reading; {n}); peers: {peers}.",
        ),
        DUPLICATES: (
            f"{own} phỏng vấn có câu trả lời gần như trùng với một phỏng vấn khác của cùng điều tra viên (≥{_pct(config.duplicate_similarity)} giống nhau; {n}); các điều tra viên khác: {peers}.",
            f"{own} of interviews nearly identical to another of the same enumerator (≥{_pct(config.duplicate_similarity)} equal answers; {n}); peers: {peers}.",
        ),
        LOW_VARIETY: (
            f"Câu trả lời ít đa dạng giữa các hộ: hai phỏng vấn trùng đáp án ở {_pct(v.value)} câu hỏi (các điều tra viên khác: {peers}).",
            f"Answers vary little across households: two interviews agree on {_pct(v.value)} of questions (peers: {peers}).",
        ),
        GPS_CLUSTER: (
            f"{own} phỏng vấn ở cách một hộ khác dưới {config.cluster_radius_m:g} m ({n}); các điều tra viên khác: {peers}.",
            f"{own} of interviews within {config.cluster_radius_m:g} m of another household's ({n}); peers: {peers}.",
        ),
        GPS_FAR: (
            f"{own} phỏng vấn cách thôn được giao hơn {config.far_from_village_m / 1000:g} km ({n}); các điều tra viên khác: {peers}.",
            f"{own} of interviews more than {config.far_from_village_m / 1000:g} km from the assigned village ({n}); peers: {peers}.",
        ),
        ODD_HOURS: (
            f"{own} phỏng vấn bắt đầu ngoài giờ ({config.night_start}–{config.night_end}, giờ Việt Nam; {n}); các điều tra viên khác: {peers}.",
            f"{own} of interviews started at night ({config.night_start}–{config.night_end} Vietnam time; {n}); peers: {peers}.",
        ),
        CLOCK_TAMPER: (
            f"{own} phỏng vấn có đồng hồ máy không khớp với thời gian thực tế đã đo ({n}): có thể đã chỉnh giờ máy; các điều tra viên khác: {peers}.",
            f"{own} of interviews whose device clock disagrees with the measured active time ({n}): the clock may have been changed; peers: {peers}.",
        ),
        RECHECK_DISAGREEMENT: (
            f"Phúc tra: hộ trả lời khác ở {own} câu hỏi ({v.events} trong {v.of} hộ phúc tra có khác biệt); các điều tra viên khác: {peers}.",
            f"Re-check: households answered differently on {own} of questions ({v.events} of {v.of} re-checked households differ); peers: {peers}.",
        ),
    }
    text_vi, text_en = texts[v.code]
    return Reason(v.code, strong, text_vi, text_en)


def _not_happened_reason(count: int, of: int) -> Reason:
    return Reason(
        RECHECK_NOT_HAPPENED,
        True,
        f"Phúc tra: {count} trong {of} hộ được liên hệ lại cho biết không có cuộc phỏng vấn nào.",
        f"Re-check: {count} of {of} re-contacted households say no interview took place.",
    )


__all__ = [
    "CLOCK_TAMPER",
    "DUPLICATES",
    "GPS_CLUSTER",
    "GPS_FAR",
    "LOW_VARIETY",
    "ODD_HOURS",
    "RECHECK_DISAGREEMENT",
    "RECHECK_NOT_HAPPENED",
    "SIGNALS",
    "SPEEDER",
    "EnumeratorRisk",
    "InterviewRecord",
    "Reason",
    "RecheckOutcome",
    "RiskConfig",
    "SignalValue",
    "at_night",
    "clock_tampered",
    "closed_questions",
    "haversine_m",
    "is_short",
    "risk_scores",
]
