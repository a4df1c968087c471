"""Direct surveys' sampling for officials (`sampling.manage`, national only): frames, draws, exports.

Everything is an object of the reports bucket under `sampling/<year>/` (no table):
  frames/<frame_id>/summary.json           a frame's summary (the year's list is read from these)
  frames/<frame_id>/frame.json             the validated rows (what a draw reads)
  frames/<frame_id>/original.<csv|xlsx>    the file as the analyst sent it
  samples/<sample_id>/summary.json         a sample's summary
  samples/<sample_id>/sample.json          design, seed and every unit with its stage probabilities, π, weight
  samples/<sample_id>/sample.csv           the CSV the field teams get (sampling_export)
  samples/<sample_id>/sample.xlsx          the workbook, written on its first download
A sample is never changed: a redraw is a new sample id. Every upload and draw is audited. Nothing is
rewritten, so two analysts drawing at once cannot lose each other's work: the year's list is the objects
themselves (ULID ids, so key order is time order), not an index file one of them would overwrite.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.audit import Actor
from chalicelib.domain.clock import stamp, utcnow
from chalicelib.domain.errors import NotFound
from chalicelib.domain.sampling import (
    Design,
    Frame,
    HouseholdSlot,
    InvalidSamplingDesign,
    Sample,
    SelectedCommune,
    SelectedVillage,
    Village,
    allocate,
    draw_sample,
)

PERMISSION = "sampling.manage"
PREFIX = "sampling/"
GEOGRAPHY = "vn-2025"
MAX_SLOTS = 200_000  # household slots a draw may produce (a national sample is ~20,000)
MAX_SEED = 2**53 - 1  # a JSON number every client reads exactly
JSON = "application/json"
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Objects(Protocol):
    def put(self, key: str, body: bytes, content_type: str, metadata: dict[str, str] | None = None) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def keys(self, prefix: str = "") -> Iterable[str]: ...


class Recorder(Protocol):
    def record(self, actor: Actor, action: str, target_type: str, target_id: str, before: Any, after: Any) -> Any: ...


class Caller(Protocol):
    @property
    def sub(self) -> str: ...

    def actor(self, permission: str) -> Actor: ...


def _new_id() -> str:
    from ulid import ULID

    return str(ULID())


def _new_seed() -> int:
    return secrets.randbelow(10**9)


class SamplingService:
    def __init__(
        self,
        store: Objects,
        audit: Recorder,
        geography: Callable[[str], Any] | None = None,
        clock: Callable[[], datetime] = utcnow,
        new_id: Callable[[], str] = _new_id,
        new_seed: Callable[[], int] = _new_seed,
    ) -> None:
        if geography is None:
            from chalicelib.reference.geography import load_geography

            geography = load_geography
        self._store, self._audit, self._geography = store, audit, geography
        self._clock, self._new_id, self._new_seed = clock, new_id, new_seed

    # --- reading ------------------------------------------------------------------------------
    def overview(self, year: int) -> dict[str, Any]:
        """The year's frames and samples, newest first."""
        index = self._index(year)
        return {
            "year": year,
            "frames": list(reversed(index["frames"])),
            "samples": list(reversed(index["samples"])),
        }

    def sample(self, year: int, sample_id: str) -> dict[str, Any]:
        """A drawn sample whole: its design, seed and every unit."""
        data = self._store.get(_sample_key(year, sample_id, "sample.json"))
        if data is None:
            raise NotFound("Không tìm thấy mẫu này.", "No such sample.", field="sample_id")
        return dict(json.loads(data))

    def export(self, year: int, sample_id: str, fmt: str) -> tuple[bytes, str, str]:
        """(content, media type, file name) of a sample as CSV (as stored) or XLSX (with the design sheet)."""
        from chalicelib.domain.sampling_export import sample_xlsx

        filename = f"mau-{year}-{sample_id}"
        if fmt == "csv":
            data = self._store.get(_sample_key(year, sample_id, "sample.csv"))
            if data is None:
                raise NotFound("Không tìm thấy mẫu này.", "No such sample.", field="sample_id")
            return data, CSV, filename + ".csv"
        # Built on the first download and kept (a national sample's workbook takes seconds to write; a
        # sample never changes, so neither does its workbook)
        key = _sample_key(year, sample_id, "sample.xlsx")
        kept = self._store.get(key)
        if kept is None:
            kept = sample_xlsx(sample_from_json(self.sample(year, sample_id)))
            self._store.put(key, kept, XLSX)
        return kept, XLSX, filename + ".xlsx"

    # --- writing ------------------------------------------------------------------------------
    def upload_frame(self, principal: Caller, year: int, data: bytes, filename: str) -> dict[str, Any]:
        """Check a frame file against the geography (FrameError lists every row/column problem), then keep it."""
        from chalicelib.domain.sampling_frame import read_frame

        frame = read_frame(data, filename, self._geography(GEOGRAPHY))
        frame_id = self._new_id()
        extension = "xlsx" if filename.lower().endswith(".xlsx") else "csv"
        summary = {
            "frame_id": frame_id,
            "filename": filename[:200],
            "geography": frame.geography,
            "measure": frame.measure,
            "provinces": len(frame.province_codes()),
            "communes": len({v.commune_code for v in frame.villages}),
            "villages": len(frame.villages),
            "size": sum(v.size for v in frame.villages),
            "uploaded_at": stamp(self._clock()),
            "uploaded_by": principal.sub,
        }
        rows = [
            [v.province_code, v.commune_code, v.village_code, v.village_name, v.size, v.row] for v in frame.villages
        ]
        base = f"{PREFIX}{year}/frames/{frame_id}/"
        self._store.put(base + f"original.{extension}", data, XLSX if extension == "xlsx" else CSV)
        self._store.put(base + "frame.json", _json({**summary, "year": year, "rows": rows}), JSON)
        self._audit.record(
            principal.actor(PERMISSION), "sampling.frame_upload", "sampling_frame", frame_id, None, summary
        )
        self._store.put(base + "summary.json", _json(summary), JSON)  # last: listed only once complete
        return summary

    def draw(self, principal: Caller, year: int, request: Mapping[str, Any]) -> dict[str, Any]:
        """Draw a new sample from a frame of the year (the latest unless one is named) and keep it."""
        from chalicelib.domain.sampling_export import sample_csv

        index = self._index(year)
        frame_id = request.get("frame_id") or (index["frames"][-1]["frame_id"] if index["frames"] else None)
        if frame_id is None:
            raise NotFound(
                "Chưa có khung mẫu nào cho năm này; hãy tải khung mẫu lên trước.",
                "No sampling frame for this year yet; upload one first.",
                field="frame_id",
            )
        frame = self._frame(year, str(frame_id))
        provinces = _provinces(request.get("provinces"), frame)
        design = design_of(request, frame, provinces)
        planned = sum(design.communes_in(p) for p in provinces) * design.villages_per_commune
        if planned * (design.households_per_village + design.replacements) > MAX_SLOTS:
            raise InvalidSamplingDesign(
                f"Mẫu quá lớn (tối đa {MAX_SLOTS:,} hộ kể cả dự phòng).",
                f"The sample is too large (at most {MAX_SLOTS:,} household slots, replacements included).",
            )
        seed = request.get("seed")
        seed = self._new_seed() if seed is None else int(seed)
        drawn = draw_sample(frame, design, seed, provinces)
        sample_id = self._new_id()
        summary = {
            "sample_id": sample_id,
            "frame_id": str(frame_id),
            "seed": seed,
            "provinces": provinces,
            "communes": len(drawn.communes),
            "villages": len(drawn.villages),
            "households": len(drawn.main_households),
            "replacements": len(drawn.households) - len(drawn.main_households),
            "drawn_at": stamp(self._clock()),
            "drawn_by": principal.sub,
        }
        body = {**summary, "year": year, **sample_to_json(drawn)}
        self._store.put(_sample_key(year, sample_id, "sample.json"), _json(body), JSON)
        self._store.put(_sample_key(year, sample_id, "sample.csv"), sample_csv(drawn), CSV)
        audited = {**summary, "design": body["design"]}
        self._audit.record(principal.actor(PERMISSION), "sampling.draw", "sample", sample_id, None, audited)
        self._store.put(_sample_key(year, sample_id, "summary.json"), _json(summary), JSON)
        return body

    # --- storage --------------------------------------------------------------------------------
    def _index(self, year: int) -> dict[str, Any]:
        """The year's frames and samples, oldest first, from their summary objects (and a year kept
        before summaries existed: its index.json, whose entries the summaries complete)."""
        found: dict[str, dict[str, Any]] = {"frames": {}, "samples": {}}
        legacy = self._store.get(f"{PREFIX}{year}/index.json")
        if legacy is not None:
            old = json.loads(legacy)
            found["frames"] = {f["frame_id"]: f for f in old.get("frames", [])}
            found["samples"] = {s["sample_id"]: s for s in old.get("samples", [])}
        for kind, id_key in (("frames", "frame_id"), ("samples", "sample_id")):
            for key in self._store.keys(f"{PREFIX}{year}/{kind}/"):
                if key.endswith("/summary.json"):
                    data = self._store.get(key)
                    if data is not None:
                        summary = json.loads(data)
                        found[kind][summary[id_key]] = summary
        return {kind: [found[kind][i] for i in sorted(found[kind])] for kind in found}

    def _frame(self, year: int, frame_id: str) -> Frame:
        data = self._store.get(f"{PREFIX}{year}/frames/{frame_id}/frame.json")
        if data is None:
            raise NotFound("Không tìm thấy khung mẫu này.", "No such sampling frame.", field="frame_id")
        stored = json.loads(data)
        villages = tuple(Village(p, c, v, n, int(s), int(r)) for p, c, v, n, s, r in stored["rows"])
        return Frame(stored["geography"], stored["measure"], villages)


# --- the design and the sample as JSON ------------------------------------------------------------
def _provinces(named: Iterable[str] | None, frame: Frame) -> list[str]:
    present = frame.province_codes()
    if not named:
        return present
    chosen = sorted(set(named))
    missing = [p for p in chosen if p not in present]
    if missing:
        raise InvalidSamplingDesign(
            f"Khung mẫu không có tỉnh: {', '.join(missing)}.",
            f"The frame has no villages in province(s) {', '.join(missing)}.",
            field="provinces",
        )
    return chosen


def design_of(request: Mapping[str, Any], frame: Frame, provinces: list[str]) -> Design:
    """The Design of a request: communes per province, households per province, or a national total allocated."""
    villages = int(request.get("villages_per_commune", 2))
    households = int(request.get("households_per_village", 10))
    if villages < 1 or households < 1:
        raise InvalidSamplingDesign(
            "Số thôn mỗi xã và số hộ mỗi thôn phải từ 1 trở lên.", "Villages and households per unit must be ≥ 1."
        )

    def per_province(value: Any) -> dict[str, int]:
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - set(provinces))
            if unknown:
                raise InvalidSamplingDesign(
                    f"Tỉnh không có trong mẫu: {', '.join(unknown)}.",
                    f"Province(s) not in this draw: {', '.join(unknown)}.",
                    field="communes",
                )
            return {p: int(value.get(p, 0)) for p in provinces}
        return dict.fromkeys(provinces, int(value))

    if request.get("communes") is not None:
        communes = per_province(request["communes"])
    elif request.get("households") is not None:
        targets = per_province(request["households"])
        communes = {p: Design.communes_for(n, villages, households) if n else 0 for p, n in targets.items()}
    elif request.get("national_households") is not None:
        sizes = {p: sum(v.size for v in frame.villages if v.province_code == p) for p in provinces}
        shares = allocate(
            int(request["national_households"]),
            sizes,
            minimum=int(request.get("minimum_households", 0)),
            power=float(request.get("allocation_power", 1.0)),
        )
        communes = {p: Design.communes_for(n, villages, households) if n else 0 for p, n in shares.items()}
    else:
        raise InvalidSamplingDesign(
            "Hãy cho biết cỡ mẫu: số xã mỗi tỉnh, số hộ mỗi tỉnh hoặc tổng số hộ toàn quốc.",
            "Give the size: communes per province, households per province, or a national number of households.",
            field="communes",
        )
    certain = frozenset(request.get("certainty_communes") or ())
    in_draw = {v.commune_code for v in frame.villages if v.province_code in provinces}
    if certain - in_draw:
        absent = ", ".join(sorted(certain - in_draw))
        raise InvalidSamplingDesign(
            f"Xã chọn chắc chắn không có trong khung mẫu của các tỉnh được chọn: {absent}.",
            f"Certainty communes not in the frame of the provinces drawn: {absent}.",
            field="certainty_communes",
        )
    return Design(
        communes=communes,
        villages_per_commune=villages,
        households_per_village=households,
        replacements=int(request.get("replacements", 5)),
        certainty_communes=certain,
        quotas={str(k): int(v) for k, v in (request.get("quotas") or {}).items()},
    )


def sample_to_json(sample: Sample) -> dict[str, Any]:
    design = sample.design
    return {
        "geography": sample.geography,
        "design": {
            "communes": design.communes if isinstance(design.communes, int) else dict(design.communes),
            "villages_per_commune": design.villages_per_commune,
            "households_per_village": design.households_per_village,
            "replacements": design.replacements,
            "certainty_communes": sorted(design.certainty_communes),
            "quotas": dict(design.quotas),
        },
        "units": {
            "communes": [
                {
                    "province_code": c.province_code,
                    "commune_code": c.commune_code,
                    "size": c.size,
                    "probability": c.probability,
                    "certainty": c.certainty,
                }
                for c in sample.communes
            ],
            "villages": [
                {
                    "commune_code": v.commune.commune_code,
                    "village_code": v.village_code,
                    "village_name": v.village_name,
                    "size": v.size,
                    "probability": v.probability,
                }
                for v in sample.villages
            ],
            "households": [
                {
                    "commune_code": h.village.commune.commune_code,
                    "village_code": h.village.village_code,
                    "position": h.position,
                    "replacement": h.replacement,
                    "probability": h.probability,
                    "inclusion_probability": h.inclusion_probability,
                    "weight": h.weight,
                }
                for h in sample.households
            ],
        },
    }


def sample_from_json(stored: Mapping[str, Any]) -> Sample:
    """The Sample a stored sample.json describes (for the XLSX export)."""
    d = stored["design"]
    design = Design(
        communes=d["communes"],
        villages_per_commune=d["villages_per_commune"],
        households_per_village=d["households_per_village"],
        replacements=d["replacements"],
        certainty_communes=frozenset(d["certainty_communes"]),
        quotas=d["quotas"],
    )
    units = stored["units"]
    communes = {
        c["commune_code"]: SelectedCommune(
            c["province_code"], c["commune_code"], c["size"], c["probability"], c["certainty"]
        )
        for c in units["communes"]
    }
    villages = {
        (v["commune_code"], v["village_code"]): SelectedVillage(
            communes[v["commune_code"]], v["village_code"], v["village_name"], v["size"], v["probability"]
        )
        for v in units["villages"]
    }
    households = tuple(
        HouseholdSlot(
            villages[(h["commune_code"], h["village_code"])], h["position"], h["replacement"], h["probability"]
        )
        for h in units["households"]
    )
    return Sample(
        int(stored["seed"]),
        design,
        stored["geography"],
        tuple(communes.values()),
        tuple(villages.values()),
        households,
    )


def _sample_key(year: int, sample_id: str, name: str) -> str:
    return f"{PREFIX}{year}/samples/{sample_id}/{name}"


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
