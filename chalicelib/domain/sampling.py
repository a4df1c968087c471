"""Household-survey sampling: sample sizes and the multi-stage draw (commune PPS → village PPS → households → one adult).

Methodology (docs: METHODOLOGY §3): in each province (stratum) communes are the primary sampling units,
drawn by systematic PPS on households with certainty units; villages (thôn, tổ dân phố) by systematic PPS
within each selected commune; households with equal probability from the village's listing, with
replacements drawn in order; in each interviewed household one adult (`adult_to_interview`, drawn on the
doorstep). Every unit keeps its stage probabilities, so π = product and weight = 1/π.

Systematic PPS is written here (~40 lines) rather than taken from `samplics`: samplics pulls polars,
pyarrow, scipy and statsmodels (hundreds of MB) into a Lambda package that today has none of them, and
its systematic PPS has no iterative certainty rule. The tests check the exact inclusion probabilities and
a Monte-Carlo of many seeds instead.

The frame reader lives in sampling_frame.py, the CSV/XLSX export in sampling_export.py.
"""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from chalicelib.domain.errors import DomainError

__all__ = [
    "MAX_ADULTS",
    "Design",
    "Frame",
    "InvalidSamplingDesign",
    "Sample",
    "Village",
    "adult_to_interview",
    "allocate",
    "design_size",
    "draw_sample",
    "legacy_size",
    "systematic_pps",
]


class InvalidSamplingDesign(DomainError):
    code = "invalid_sampling_design"
    status = 422
    message_vi = "Thiết kế mẫu không hợp lệ."
    message_en = "The sampling design is not valid."


# ------------------------------------------------------------------------------------------ sizes


def _ceil(x: float) -> int:
    # 384.0000000001 from floating point is 384, not 385
    return math.ceil(round(x, 9))


def legacy_size(N: int, e: float = 0.05) -> int:
    """The legacy rule n = N / (1 + N e²), rounded up (Yamane/Slovin)."""
    if N <= 0 or not 0 < e < 1:
        raise InvalidSamplingDesign(message_en=f"legacy_size needs N > 0 and 0 < e < 1 (N={N}, e={e})")
    return _ceil(N / (1 + N * e * e))


def design_size(
    deff: float,
    p: float = 0.5,
    e: float = 0.05,
    z: float = 1.96,
    response_rate: float = 0.8,
    N: int | None = None,
) -> int:
    """Households to approach: deff × n₀ / response_rate, n₀ = z² p(1−p) / e² (Cochran's FPC when N is given).

    The finite-population correction n₀ / (1 + (n₀ − 1)/N) applies to the simple-random-sample size, then
    the design effect and the expected response rate inflate it; the result is rounded up.
    """
    if deff <= 0 or not 0 < p < 1 or not 0 < e < 1 or z <= 0 or not 0 < response_rate <= 1:
        raise InvalidSamplingDesign(
            message_en=f"design_size needs deff > 0, 0 < p < 1, 0 < e < 1, z > 0, 0 < response_rate ≤ 1 "
            f"(deff={deff}, p={p}, e={e}, z={z}, response_rate={response_rate})"
        )
    n0 = z * z * p * (1 - p) / (e * e)
    if N is not None:
        if N <= 0:
            raise InvalidSamplingDesign(message_en=f"design_size needs N > 0 (N={N})")
        n0 = n0 / (1 + (n0 - 1) / N)
    return _ceil(deff * n0 / response_rate)


def allocate(total: int, sizes: Mapping[str, int], minimum: int = 0, power: float = 1.0) -> dict[str, int]:
    """Share total among provinces ∝ size**power (1: proportional, 0.5: square root, 0: equal), each ≥ minimum.

    Largest-remainder rounding, so the parts sum to total exactly (unless minimums force more).
    """
    keys = sorted(sizes)
    if not keys:
        return {}
    if total < 0 or minimum < 0 or any(sizes[k] < 0 for k in keys):
        raise InvalidSamplingDesign(message_en="allocate needs non-negative totals and sizes")
    result = dict.fromkeys(keys, minimum)
    rest = total - minimum * len(keys)
    if rest <= 0:
        return result
    shares = {k: float(sizes[k]) ** power if sizes[k] > 0 else 0.0 for k in keys}
    whole = sum(shares.values()) or 1.0
    exact = {k: rest * shares[k] / whole for k in keys}
    floors = {k: int(exact[k]) for k in keys}
    left = rest - sum(floors.values())
    for k in sorted(keys, key=lambda k: (-(exact[k] - floors[k]), k))[:left]:
        floors[k] += 1
    return {k: result[k] + floors[k] for k in keys}


# ------------------------------------------------------------------------------------------ systematic PPS


@dataclass(frozen=True, slots=True)
class Draw:
    """One unit drawn by systematic PPS: its key, its size and its inclusion probability at this stage."""

    key: str
    size: int
    probability: float
    certainty: bool


def systematic_pps(
    units: Sequence[tuple[str, int]],
    n: int,
    rng: random.Random,
    certain: Iterable[str] = (),
) -> list[Draw]:
    """Draw n units from (key, size) pairs by systematic PPS, in the given order (implicit stratification).

    Named certainty units are taken first with probability 1; then, repeatedly, every unit whose size is at
    least the sampling interval (total / n left) is taken with probability 1 and the interval recomputed.
    The others are drawn from one random start: π = n_left × size / total_left. Units of size 0 are never
    drawn. When n covers every unit of positive size, all are taken (π = 1).
    """
    named = set(certain)
    keys = {k for k, _ in units}
    if named - keys:
        raise InvalidSamplingDesign(message_en=f"certainty units not in the frame: {sorted(named - keys)}")
    if len(named) > n:
        raise InvalidSamplingDesign(message_en=f"{len(named)} certainty units for a sample of {n}")
    taken = [Draw(k, s, 1.0, True) for k, s in units if k in named]
    rest = [(k, s) for k, s in units if k not in named and s > 0]
    left = n - len(taken)
    while left > 0 and rest:
        if left >= len(rest):
            return taken + [Draw(k, s, 1.0, True) for k, s in rest]
        interval = sum(s for _, s in rest) / left
        big = [(k, s) for k, s in rest if s >= interval]
        if not big:
            break
        taken += [Draw(k, s, 1.0, True) for k, s in big]
        rest = [(k, s) for k, s in rest if s < interval]
        left -= len(big)
    if left <= 0 or not rest:
        return taken
    total = sum(s for _, s in rest)
    interval = total / left
    cumulative: list[float] = []
    running = 0
    for _, s in rest:
        running += s
        cumulative.append(running)
    start = rng.random() * interval
    for i in range(left):
        index = min(bisect_right(cumulative, start + i * interval), len(rest) - 1)
        key, size = rest[index]
        taken.append(Draw(key, size, left * size / total, False))
    return taken


# ------------------------------------------------------------------------------------------ frame


@dataclass(frozen=True, slots=True)
class Village:
    """One line of the sampling frame: a village (thôn, ấp, bản, tổ dân phố) of a commune with its size."""

    province_code: str
    commune_code: str
    village_code: str
    village_name: str
    size: int  # households, or population when the frame has no household counts
    row: int = 0  # line of the analyst's file, for messages


@dataclass(frozen=True)
class Frame:
    """The villages of one geography version; measure says what size counts ("households" or "population")."""

    geography: str
    measure: str
    villages: tuple[Village, ...]

    def province_codes(self) -> list[str]:
        return sorted({v.province_code for v in self.villages})

    def villages_by_commune(self, province_code: str) -> dict[str, list[Village]]:
        """The province's villages grouped by commune code, in file order."""
        grouped: dict[str, list[Village]] = {}
        for village in self.villages:
            if village.province_code == province_code:
                grouped.setdefault(village.commune_code, []).append(village)
        return grouped


# ------------------------------------------------------------------------------------------ design and sample


@dataclass(frozen=True)
class Design:
    """How many units to take at each stage. communes: one number for every province, or per province code.

    certainty_communes: commune codes always taken (e.g. the provincial seat's commune), whichever province.
    quotas: what each village's team must complete (e.g. {"nữ (women)": 6}); recorded for the field sheets.
    """

    communes: int | Mapping[str, int]
    villages_per_commune: int = 2
    households_per_village: int = 10
    replacements: int = 5
    certainty_communes: frozenset[str] = frozenset()
    quotas: Mapping[str, int] = field(default_factory=dict)

    def communes_in(self, province_code: str) -> int:
        if isinstance(self.communes, int):
            return self.communes
        return int(self.communes.get(province_code, 0))

    @staticmethod
    def communes_for(households: int, villages_per_commune: int, households_per_village: int) -> int:
        """Communes needed to reach a number of households with this take per commune (rounded up)."""
        return _ceil(households / (villages_per_commune * households_per_village))


@dataclass(frozen=True, slots=True)
class SelectedCommune:
    province_code: str
    commune_code: str
    size: int
    probability: float
    certainty: bool


@dataclass(frozen=True, slots=True)
class SelectedVillage:
    commune: SelectedCommune
    village_code: str
    village_name: str
    size: int
    probability: float  # conditional on the commune


@dataclass(frozen=True, slots=True)
class HouseholdSlot:
    """A position in the village's household listing; replacement 0 is a main slot, r the r-th replacement."""

    village: SelectedVillage
    position: int  # 1-based line of the listing the team draws up
    replacement: int
    probability: float  # m / listing size, conditional on the village

    @property
    def inclusion_probability(self) -> float:
        """π = commune × village × household stage probabilities."""
        return self.village.commune.probability * self.village.probability * self.probability

    @property
    def weight(self) -> float:
        """The design weight 1/π (a replacement stands in for a main household and carries its weight)."""
        return 1.0 / self.inclusion_probability


@dataclass(frozen=True)
class Sample:
    seed: int
    design: Design
    geography: str
    communes: tuple[SelectedCommune, ...]
    villages: tuple[SelectedVillage, ...]
    households: tuple[HouseholdSlot, ...]

    @property
    def main_households(self) -> list[HouseholdSlot]:
        return [h for h in self.households if h.replacement == 0]


def draw_sample(frame: Frame, design: Design, seed: int, provinces: Iterable[str] | None = None) -> Sample:
    """The multi-stage sample of every province in the frame (or those named), reproducible from seed.

    One random.Random(seed) feeds every random start and household draw, in a fixed order (provinces,
    communes and villages by code), so the same frame, design and seed always give the same sample.
    """
    if design.villages_per_commune < 1 or design.households_per_village < 1 or design.replacements < 0:
        raise InvalidSamplingDesign(message_en="villages and households per unit must be ≥ 1, replacements ≥ 0")
    rng = random.Random(seed)  # noqa: S311 - a reproducible survey draw, not a secret
    communes: list[SelectedCommune] = []
    villages: list[SelectedVillage] = []
    households: list[HouseholdSlot] = []
    m, k = design.households_per_village, design.replacements
    for province in sorted(provinces) if provinces is not None else frame.province_codes():
        by_commune = frame.villages_by_commune(province)
        units = [(code, sum(v.size for v in vs)) for code, vs in sorted(by_commune.items())]
        certain = [code for code, _ in units if code in design.certainty_communes]
        for draw in systematic_pps(units, design.communes_in(province), rng, certain):
            commune = SelectedCommune(province, draw.key, draw.size, draw.probability, draw.certainty)
            communes.append(commune)
            listed = {v.village_code: v for v in by_commune[draw.key]}
            village_units = [(code, listed[code].size) for code in sorted(listed)]
            for vdraw in systematic_pps(village_units, design.villages_per_commune, rng):
                village = SelectedVillage(
                    commune, vdraw.key, listed[vdraw.key].village_name, vdraw.size, vdraw.probability
                )
                villages.append(village)
                # Equal probability without replacement: the first m positions are the main households,
                # the next k the replacements in the order teams must use them.
                size = vdraw.size
                positions = rng.sample(range(1, size + 1), min(size, m + k))
                take = min(size, m)
                for index, position in enumerate(positions):
                    replacement = 0 if index < take else index - take + 1
                    households.append(HouseholdSlot(village, position, replacement, take / size))
    return Sample(seed, design, frame.geography, tuple(communes), tuple(villages), tuple(households))


# ------------------------------------------------------------------------------------------ one adult
MAX_ADULTS = 30


def adult_to_interview(sample_id: str, household_id: str, adults: int) -> int:
    """Which of the household's adults to interview: k in 1..adults (docs/FIELDWORK.md "One adult per household").

    The enumerator lists the adults (18+, usual residents) from oldest to youngest; the k-th is interviewed,
    k = 1 + (the first 8 bytes of SHA-256("<sample_id>|<household_id>"), big-endian) mod adults. Neither the
    enumerator nor the device chooses, anyone can check it afterwards, and each adult's chance is 1/adults
    (the modulo bias of a 64-bit number over at most 30 is below 2e-18). The field app computes the same in
    the browser (static/field.js).
    """
    if isinstance(adults, bool) or not isinstance(adults, int) or not 1 <= adults <= MAX_ADULTS:
        raise ValueError(f"adults must be an integer from 1 to {MAX_ADULTS}, not {adults!r}")
    digest = hashlib.sha256(f"{sample_id}|{household_id}".encode()).digest()
    return 1 + int.from_bytes(digest[:8], "big") % adults
