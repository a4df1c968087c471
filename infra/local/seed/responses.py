"""Deterministic generator of realistic SIPAS submission payloads (with a few bad ones) for the local stack."""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ulid import ULID

from chalicelib.reference.geography import Commune, Geography, load_geography
from infra.local.seed import SIPAS_2026_XLSX, load_survey

# Free text of an option with other_text:true goes under "<question_id>__other" (double underscore).
OTHER_TEXT_SUFFIX = "__other"
CLIENT = "seed/1"
HONEYPOT_VALUE = "http://spam.example"
LOOKBACK = timedelta(days=14)
VN_UTC_OFFSET = timedelta(hours=7)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Shares of deliberately bad responses, drawn independently of everything else.
STRAIGHTLINER_SHARE = 0.03
SPEEDER_SHARE = 0.03
BOT_SHARE = 0.01

NOT_APPLICABLE_SHARE = 0.04  # rows answered "Không áp dụng / không có ý kiến" where the scale offers it
# Logit of P(answer is positive) before province/element/respondent effects; tuned for ~84% positive.
SATISFACTION_BASE = 2.6
CENTRAL_CITY_KIND = "thành phố trung ương"
ALLOWED_ORIGINS = ("https://dichvucong.gov.vn", "https://moha.gov.vn")
FOREIGN_ORIGIN = "https://copycat.example"

# Answer distributions of known SIPAS questions and rows, in the order of their options.
CHOICE_PRIORS: dict[str, tuple[float, ...]] = {
    "a_sex": (0.49, 0.51),
    "a_age": (0.14, 0.20, 0.31, 0.20, 0.15),
    "a_ethnicity": (0.85, 0.15),
    "a_education": (0.05, 0.13, 0.28, 0.28, 0.12, 0.14),
    "a_occupation": (0.30, 0.15, 0.20, 0.08, 0.04, 0.14, 0.09),
    "q3": (0.22, 0.45, 0.22, 0.08, 0.03),
    "q4": (0.83, 0.14, 0.03),
    "q5": (0.90, 0.08, 0.02),
    "q6": (0.40, 0.22, 0.38),
    "q7": (0.35, 0.25, 0.40),
    "q1": (0.08, 0.37, 0.55),
    "q10": (0.33, 0.42, 0.25),
}
MULTI_PRIORS: dict[str, tuple[float, ...]] = {"q2": (0.45, 0.50, 0.35, 0.40, 0.55, 0.60, 0.04)}
YES_SHARE: dict[str, float] = {
    "q8_01": 0.45,
    "q8_02": 0.62,
    "q8_03": 0.55,
    "q8_04": 0.50,
    "q8_05": 0.08,
    "q8_06": 0.12,
    "q8_07": 0.07,
}
# Worse treatment (Q4 harassment, Q5 informal payments) lowers satisfaction: logit shift per option index.
MISTREATMENT_SHIFT: dict[str, tuple[float, ...]] = {"q4": (0.0, -0.8, -1.6), "q5": (0.0, -0.5, -1.2)}

OTHER_CHANNEL_TEXTS = (
    "Nhóm Zalo của tổ dân phố",
    "Trưởng thôn thông báo tận nhà",
    "Ứng dụng VNeID",
    "Tờ rơi phát tại nhà văn hóa",
    "Hội Phụ nữ, Hội Nông dân",
)
OPINION_TEXTS = (
    "Đề nghị rút ngắn thời gian chờ đợi tại bộ phận một cửa.",
    "Cần hướng dẫn cụ thể hơn cho người cao tuổi khi làm hồ sơ trực tuyến.",
    "Mong chính quyền sửa chữa đường liên thôn sớm.",
    "Công chức xã nhiệt tình, tôi rất hài lòng.",
    "Nên có thêm chỗ để xe và ghế ngồi chờ.",
    "Cổng dịch vụ công đôi khi bị lỗi, khó nộp hồ sơ.",
    "Đề nghị công khai rõ các khoản phí, lệ phí.",
    "Cần tăng cường cấp nước sạch cho vùng nông thôn.",
)
BOT_TEXT = "Khuyến mãi lớn, truy cập ngay http://spam.example"


@dataclass(frozen=True)
class _Item:
    """A scored satisfaction row with its latent effect (element + item)."""

    row_id: str
    part_id: str
    effect: float


def load_sipas_definition() -> dict[str, Any]:
    """The SIPAS 2026 survey definition, read from its XLSForm beside this module."""
    return load_survey(SIPAS_2026_XLSX)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _values(options: Sequence[dict[str, Any]]) -> list[str]:
    return [o["value"] for o in options]


def _weights(rng: random.Random, key: str, size: int, cache: dict[str, list[float]]) -> list[float]:
    """Known prior for key if it fits, else a random but per-seed-stable distribution."""
    prior = CHOICE_PRIORS.get(key)
    if prior is not None and len(prior) == size:
        return list(prior)
    if key not in cache:
        cache[key] = [rng.gammavariate(2.0, 1.0) for _ in range(size)]
    return cache[key]


class _Generator:
    """Holds the per-seed world (effects, geography weights) and draws one submission at a time."""

    def __init__(self, definition: dict[str, Any], geography: Geography, rng: random.Random, now: datetime) -> None:
        from chalicelib.domain.survey import Survey

        self.definition = definition
        self.survey = Survey.from_definition(definition)
        self.rng = rng
        self.now = now
        self.questions = [(s["id"], q) for s in definition["sections"] for q in s["questions"]]
        self.items_per_section = {
            s["id"]: sum(len(q.get("rows", ())) or 1 for q in s["questions"]) for s in definition["sections"]
        }
        self.random_weights: dict[str, list[float]] = {}
        self.devices: list[str] = []

        scoring = definition.get("scoring") or {}
        self.positive_values = set(scoring.get("positive_values", ()))
        self.items: dict[str, _Item] = {}
        for part in scoring.get("parts", ()):
            part_effect = rng.gauss(0.0, 0.1)
            for element in part["elements"]:
                element_effect = part_effect + rng.gauss(0.0, 0.3)
                for row_id in element["items"]:
                    self.items[row_id] = _Item(row_id, part["id"], element_effect + rng.gauss(0.0, 0.15))
        part_ids = sorted({i.part_id for i in self.items.values()})

        provinces = [p for p in geography.provinces if p.communes]
        if not provinces:
            raise ValueError("geography has no communes")
        self.provinces = provinces
        # A few provinces dominate (big cities, active local campaigns); the rest trickle in.
        province_weights = [
            math.sqrt(len(p.communes)) * rng.lognormvariate(0.0, 1.0) * (4.0 if p.kind == CENTRAL_CITY_KIND else 1.0)
            for p in provinces
        ]
        self.province_cum = _cumulative(province_weights)
        # Special zones (đặc khu: islands such as Hoàng Sa, Trường Sa) have few or no residents.
        self.commune_cum = {
            p.code: _cumulative([rng.paretovariate(1.5) * (0.05 if c.kind == "đặc khu" else 1.0) for c in p.communes])
            for p in provinces
        }
        self.province_effect = {p.code: rng.gauss(0.0, 0.35) for p in provinces}
        self.province_part_effect = {(p.code, part): rng.gauss(0.0, 0.2) for p in provinces for part in part_ids}

    # -- one submission -------------------------------------------------------------------------

    def submission(self) -> dict[str, Any]:
        rng = self.rng
        draw = rng.random()
        if draw < BOT_SHARE:
            kind = "bot"
        elif draw < BOT_SHARE + SPEEDER_SHARE:
            kind = "speeder"
        elif draw < BOT_SHARE + SPEEDER_SHARE + STRAIGHTLINER_SHARE:
            kind = "straightliner"
        else:
            kind = "normal"

        province = self.provinces[_pick(rng, self.province_cum)]
        commune = province.communes[_pick(rng, self.commune_cum[province.code])]
        channel = self._channel(kind)
        # Questions whose conditions the drawn answers do not meet are left out, as the form leaves them out.
        answers = self.survey.reachable(self._answers(kind, province.code, commune))

        submitted = self._submitted_at()
        seconds = self._duration(kind)
        started = submitted - timedelta(seconds=seconds)
        ms = (submitted - EPOCH) // timedelta(milliseconds=1)  # exact integer, unlike float timestamp()
        submission_id = str(ULID.from_bytes(ms.to_bytes(6, "big") + rng.randbytes(10)))

        paradata: dict[str, Any] = {
            "started_at": _iso(started),
            "submitted_at": _iso(submitted),
            "page_ms": self._page_ms(seconds),
            "client": CLIENT,
        }
        if channel == "widget":
            paradata["embed_origin"] = FOREIGN_ORIGIN if rng.random() < 0.05 else rng.choice(ALLOWED_ORIGINS)

        payload: dict[str, Any] = {
            "id": submission_id,
            "survey_version": self.definition["version"],
            "answers": answers,
            "channel": channel,
            "province": province.code,
            "commune": commune.code,
            "paradata": paradata,
        }
        contact = self._contact(kind)
        if contact:
            payload["contact"] = contact
        if kind == "bot":
            payload["website"] = HONEYPOT_VALUE
        return payload

    def _channel(self, kind: str) -> str:
        if kind == "bot":
            return "web" if self.rng.random() < 0.7 else "widget"
        draw = self.rng.random()
        # Field interviews come through the enumerators' app (chalicelib/domain/fieldwork.py), not this route
        return "web" if draw < 0.80 else "widget"

    def _contact(self, kind: str) -> dict[str, str]:
        rng = self.rng
        contact: dict[str, str] = {}
        if self.devices and rng.random() < 0.02:
            contact["device_id"] = rng.choice(self.devices)  # same browser submitting again
        else:
            contact["device_id"] = rng.randbytes(16).hex()
            self.devices.append(contact["device_id"])
        if kind != "bot" and rng.random() < 0.08:
            contact["phone"] = "0" + rng.choice("35789") + "".join(rng.choice("0123456789") for _ in range(8))
        return contact

    def _submitted_at(self) -> datetime:
        # Spread over the lookback window, mostly during Vietnamese waking hours.
        rng = self.rng
        while True:
            moment = self.now - timedelta(milliseconds=rng.randint(30_000, LOOKBACK // timedelta(milliseconds=1)))
            moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
            local_hour = (moment + VN_UTC_OFFSET).hour
            if rng.random() < (1.0 if 7 <= local_hour <= 22 else 0.12):
                return moment

    def _duration(self, kind: str) -> float:
        rng = self.rng
        if kind == "bot":
            return rng.uniform(4.0, 15.0)
        if kind == "speeder":
            return rng.uniform(20.0, 60.0)
        if kind == "straightliner":
            return rng.uniform(330.0, 720.0)
        return min(1200.0, max(360.0, rng.lognormvariate(math.log(600.0), 0.3)))

    def _page_ms(self, seconds: float) -> dict[str, int]:
        rng = self.rng
        on_pages = seconds * 1000.0 * rng.uniform(0.85, 0.97)
        shares = {sid: n * rng.lognormvariate(0.0, 0.25) for sid, n in self.items_per_section.items()}
        total = sum(shares.values())
        return {sid: int(on_pages * share / total) for sid, share in shares.items()}

    # -- answers --------------------------------------------------------------------------------

    def _answers(self, kind: str, province_code: str, commune: Commune) -> dict[str, Any]:
        rng = self.rng
        careless = kind in ("bot", "speeder")
        answers: dict[str, Any] = {}
        mistreatment = 0.0
        respondent = rng.gauss(0.0, 0.9)
        straight_value: str | None = None

        for _section_id, question in self.questions:
            qid, qtype = question["id"], question["type"]
            required = bool(question.get("required", False))
            if not required and not careless and rng.random() < 0.07:
                continue  # optional question skipped
            if qtype == "single_choice":
                value = self._single(qid, question["options"], commune, careless)
                answers[qid] = value
                shifts = MISTREATMENT_SHIFT.get(qid)
                if shifts is not None:
                    index = _values(question["options"]).index(value)
                    mistreatment += shifts[index] if index < len(shifts) else 0.0
            elif qtype == "multi_choice":
                self._multi(question, answers, kind)
            elif qtype == "text":
                if kind == "bot":
                    answers[qid] = BOT_TEXT[: question.get("max_length", 5000)]
                elif required or rng.random() < 0.12:
                    answers[qid] = rng.choice(OPINION_TEXTS)[: question.get("max_length", 5000)]
            elif qtype == "matrix":
                # A not-applicable point ("Không áp dụng") is drawn on its own, never as a shade of dissatisfaction.
                not_applicable = [o["value"] for o in question["scale"] if o.get("not_applicable")]
                scale = [v for v in _values(question["scale"]) if v not in not_applicable]
                if (
                    kind == "straightliner"
                    and straight_value is None
                    and any(r["id"] in self.items for r in question["rows"])
                ):
                    straight_value = rng.choices(scale, weights=_straight_weights(scale, self.positive_values))[0]
                for row in question["rows"]:
                    row_id = row["id"]
                    row_required = bool(row.get("required", required))
                    if not row_required and not careless and rng.random() < 0.03:
                        continue
                    item = self.items.get(row_id)
                    if careless:
                        answers[row_id] = rng.choice(scale)
                    elif not_applicable and straight_value is None and rng.random() < NOT_APPLICABLE_SHARE:
                        answers[row_id] = not_applicable[0]
                    elif item is not None and straight_value is not None:
                        answers[row_id] = straight_value
                    elif item is not None:
                        logit = (
                            SATISFACTION_BASE
                            + self.province_effect[province_code]
                            + self.province_part_effect[(province_code, item.part_id)]
                            + item.effect
                            + respondent
                            + mistreatment
                            + rng.gauss(0.0, 0.5)
                        )
                        answers[row_id] = self._satisfaction(scale, logit, respondent)
                    else:
                        answers[row_id] = self._matrix_row(question["id"], row_id, scale)
        return answers

    def _single(self, qid: str, options: Sequence[dict[str, Any]], commune: Commune, careless: bool) -> str:
        rng = self.rng
        values = _values(options)
        if careless:
            return rng.choice(values)
        # Residence follows the commune type: wards are urban, special zones are islands.
        if qid == "a_area" and len(values) == 2:
            urban = 0.9 if commune.kind == "phường" else 0.08
            return values[0] if rng.random() < urban else values[1]
        if qid == "a_terrain" and len(values) == 3:
            if commune.kind == "đặc khu":
                return values[2]
            return rng.choices(values, weights=(0.27, 0.72, 0.01))[0]
        return rng.choices(values, weights=_weights(rng, qid, len(values), self.random_weights))[0]

    def _multi(self, question: dict[str, Any], answers: dict[str, Any], kind: str) -> None:
        rng = self.rng
        options = question["options"]
        prior = MULTI_PRIORS.get(question["id"])
        if prior is None or len(prior) != len(options):
            prior = tuple(0.6 if o.get("other_text") is not True else 0.05 for o in options)
        if kind in ("bot", "speeder"):
            prior = tuple(0.5 for _ in options)
        chosen = [o for o, p in zip(options, prior, strict=True) if rng.random() < p]
        if not chosen:
            chosen = [rng.choices(options, weights=prior)[0]]
        max_choices = question.get("max_choices")
        if max_choices:
            chosen = chosen[:max_choices]
        answers[question["id"]] = [o["value"] for o in chosen]
        if any(o.get("other_text") for o in chosen):
            answers[question["id"] + OTHER_TEXT_SUFFIX] = BOT_TEXT if kind == "bot" else rng.choice(OTHER_CHANNEL_TEXTS)

    def _matrix_row(self, qid: str, row_id: str, scale: list[str]) -> str:
        rng = self.rng
        yes = YES_SHARE.get(row_id)
        if yes is not None and len(scale) == 2:
            return scale[0] if rng.random() < yes else scale[1]
        return rng.choices(scale, weights=_weights(rng, qid, len(scale), self.random_weights))[0]

    def _satisfaction(self, scale: list[str], logit: float, respondent: float) -> str:
        """Positive with P = sigmoid(logit); the top box grows with the respondent's mood."""
        rng = self.rng
        positives = [v for v in scale if v in self.positive_values]
        negatives = [v for v in scale if v not in self.positive_values]
        if positives and (not negatives or rng.random() < _sigmoid(logit)):
            top = _sigmoid(-0.5 + 0.8 * respondent)
            weights = [
                top if i == len(positives) - 1 else (1.0 - top) / max(1, len(positives) - 1)
                for i in range(len(positives))
            ]
            return rng.choices(positives, weights=weights)[0] if len(positives) > 1 else positives[0]
        # Negative answers lean towards the middle of the scale (ascending scales: last is nearest).
        weights = [0.55 ** (len(negatives) - 1 - i) for i in range(len(negatives))]
        return rng.choices(negatives, weights=weights)[0]


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, cum_weights: list[float]) -> int:
    return rng.choices(range(len(cum_weights)), cum_weights=cum_weights)[0]


def _straight_weights(scale: list[str], positive: set[str]) -> list[float]:
    # Straight-liners mostly tick the top box, some the middle, a few the bottom.
    weights = [0.6 if i == len(scale) - 1 else 0.2 if v in positive else 0.05 for i, v in enumerate(scale)]
    weights[len(scale) // 2] = max(weights[len(scale) // 2], 0.15)
    return weights


def generate_submissions(
    definition: dict[str, Any],
    geography: Geography,
    n: int,
    seed: int = 7,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """n submission payloads (schemas/submission.schema.json) in time order, deterministic for (seed, now).

    Answers are flat: single_choice -> qid: value, multi_choice -> qid: [values] plus
    "<qid>__other": text when an option with other_text is chosen, matrix -> row_id: value,
    text -> qid: text. About 3% straight-line every Q9 row, 3% are speeders (20-60 s) and 1%
    are bots that fill the honeypot. now=None reads the clock once; pass now for reproducible ids.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    generator = _Generator(definition, geography, rng, now)
    submissions = [generator.submission() for _ in range(n)]
    submissions.sort(key=lambda s: s["id"])
    return submissions


def main(argv: list[str] | None = None) -> int:
    """Write generated SIPAS submissions as JSON lines to stdout."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--definition", type=Path, default=SIPAS_2026_XLSX, help="an XLSForm (.xlsx) or JSON definition"
    )
    args = parser.parse_args(argv)
    definition = load_survey(args.definition)
    geography = load_geography(definition.get("geography", "vn-2025"))
    for submission in generate_submissions(definition, geography, args.n, seed=args.seed):
        sys.stdout.write(json.dumps(submission, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
